"""The command line shows one centre's thing at that centre's time: a jury answer in
``syncsvc jury``, a reminder's due time in ``syncsvc notify``; a centre not at the service's
time (Paris, the default ``timezone``) is named once (« heure de La Réunion (UTC+4) »)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncsvc.cli import main
from syncsvc.core.jury import JuryReply
from syncsvc.state.store import Store
from tests.web.conftest import SESSION_ID
from tests.web.test_jury import FONTAINE, invite

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
LATE_IN_PARIS = datetime(2027, 2, 7, 22, 30, tzinfo=UTC)
"""23:30 in Paris on Sunday 07/02, already 02:30 on Monday 08/02 in La Réunion."""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    (folder / "syncsvc.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "state.db"}"\n', encoding="utf-8"
    )
    return folder


def test_a_jury_answer_is_shown_at_its_centres_time(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(f"sqlite:///{config.parent / 'state.db'}")
    store.migrate()
    try:
        invite(store, FONTAINE, "Patrick Fontaine")
        store.record_reply(
            JuryReply(
                key="imip:tard:0",
                source="imip",
                kind="reply",
                status="applied",
                session_id=SESSION_ID,
                email=FONTAINE,
                name="Patrick Fontaine",
                partstat="ACCEPTED",
                sequence=0,
                comment=None,
                replied_at=LATE_IN_PARIS,
                recorded_at=LATE_IN_PARIS,
            )
        )
    finally:
        store.close()
    args = ["jury", "--config", str(config), "--now", "2027-02-08T09:00+01:00"]
    assert main([*args[:1], SESSION_ID, *args[1:]]) == 0
    out = ANSI.sub("", capsys.readouterr().out)
    row = next(line for line in out.splitlines() if FONTAINE in line)
    assert "08/02/2027 02:30" in row
    assert "07/02/2027" not in out
    assert out.count("heure de La Réunion") == 1
    assert out.rstrip().endswith(
        "Dates et heures de chaque session à l'heure de son centre — AFPAR Saint-André : "
        "heure de La Réunion (UTC+4)."
    )


def test_a_reminders_due_time_is_its_centres(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A St-André reminder is due at 08:00 St-André time (05:00 in Paris); a Vénissieux one
    at 08:00 Paris time, with nothing to say."""
    now = "2027-02-08T09:30+04:00"
    assert main(["notify", "--dry-run", "--config", str(config), "--now", now]) == 0
    lines = capsys.readouterr().out.splitlines()
    st_andre = next(line for line in lines if line.startswith("à envoyer : jl.hoarau@"))
    assert st_andre.endswith("(dû depuis le 08/02/2027 08:00, heure de La Réunion (UTC+4))")
    lyon = next(line for line in lines if line.startswith("à envoyer : o.chabert@"))
    assert lyon.endswith("(dû depuis le 05/02/2027 08:00)")
