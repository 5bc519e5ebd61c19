"""``syncsvc reinstate SESSION --motif …``: a cancelled session restored from the command line, on
a SQLite and a PostgreSQL store. Without ``--apply``, the dashboard's preview in French (what
comes back, per calendar, per juror: the same computation); with ``--apply``, the dashboard's
write: the file loses ``cancelled:`` only (byte for byte as before the cancellation), audited
as ``restore``, and the trace says who restored it and why, so ``validate`` does not warn
(``cancellation_lifted``). ``syncsvc restore FICHIER`` still restores a store backup
(tests/system/test_maintenance.py).

The Secrétaire assistant session of Saint-André (La Réunion) runs from 15 to 19 March 2027;
its jury is invited on 23 November 2026, it is cancelled on the 24th, restored on the 25th.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncsvc.app.restoring import find_cancelled, restore_preview
from syncsvc.cli import main
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import load_settings
from syncsvc.state.store import Store
from tests.system.service import Inbox

ROOT = Path(__file__).resolve().parents[2]
SA = "sa-2027-03-st-andre"
CANCELLATION = 'cancelled: {on: 2026-11-24, reason: "Nombre de candidats insuffisant"}\n'
INVITED, CANCELLED, RESTORED = (
    "2026-11-23T09:00+04:00",
    "2026-11-24T09:00+04:00",
    "2026-11-25T09:00+04:00",
)
JURY = ("Corinne Maillot <c.maillot@jury.example>", "Patrick Fontaine <p.fontaine@jury.example>")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def config(tmp_path: Path, store_url: str, inbox: tuple[Inbox, int]) -> Path:
    """The example configuration, a store, an SMTP server and one calendar (never contacted:
    the restore previews and writes files, the next pass publishes)."""
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    (folder / "syncsvc.toml").write_text(
        f"""
[store]
url = "{store_url}"

[mail]
transport = "smtp"
host = "127.0.0.1"
port = {inbox[1]}
from = "Examens <examens@afpar.example>"
rate_per_minute = 100000

[[targets]]
name = "coordination-st-andre"
kind = "caldav"
url = "http://127.0.0.1:9/dav/"
username = "coordination"
password_env = "TEST_CALDAV_PASSWORD"
calendar = "examens-st-andre"
audience = "coordinators:afpar-st-andre"
""",
        encoding="utf-8",
    )
    return folder


def _file(config: Path, session_id: str = SA) -> Path:
    return config / "sessions" / f"{session_id}.yaml"


def _store(config: Path) -> Iterator[Store]:
    store = Store(load_settings(config).store.url)
    try:
        store.migrate()  # a command that stopped at an error may not have created it
        yield store
    finally:
        store.close()


def _cancel(config: Path) -> bytes:
    """The jury invited, then the session cancelled in its file and seen by a pass (the jury
    gets its cancellation); returns the file before the cancellation."""
    assert main(["notify", "--config", str(config), "--now", INVITED]) == 0
    path = _file(config)
    before = path.read_bytes()
    path.write_bytes(before + CANCELLATION.encode())
    assert main(["notify", "--config", str(config), "--now", CANCELLED]) == 0
    return before


def _restore(config: Path, *more: str) -> list[str]:
    return ["reinstate", SA, "--config", str(config), "--now", RESTORED, *more]


def test_preview_then_apply_writes_the_file_as_before_and_records_who_and_why(
    config: Path, capsys: pytest.CaptureFixture[str], inbox: tuple[Inbox, int]
) -> None:
    before = _cancel(config)
    cancelled = _file(config).read_bytes()
    capsys.readouterr()

    assert main(_restore(config)) == 2  # no reason
    said = capsys.readouterr()
    assert said.err == (
        f'syncsvc : session « {SA} » : motif obligatoire (attendu : un texte court, --motif "…")\n'
    )
    assert _file(config).read_bytes() == cancelled

    assert main(_restore(config, "--motif", "  Candidats   trouvés ")) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"Session {SA} (SA 15/03, du 15/03/2027 au 19/03/2027)"
    assert "  Session annulée le 24/11/2026 : Nombre de candidats insuffisant" in lines
    assert (
        f"Rétablir la session retire « cancelled: » du fichier sessions/{SA}.yaml ; le reste "
        "du fichier ne change pas."
    ) in lines
    count, returned = out.split("Jalons qui reviennent (")[1].split("\n\n")[0].split(") :\n")
    returning = returned.splitlines()
    assert int(count) == len(returning) > 5
    assert "  15/03/2027  Session d'examen (à venir)" in returning
    assert all("Vérifier l'échéance du titre" not in line for line in returning)  # done
    assert "Calendriers :" in lines
    (calendar,) = [line for line in lines if line.startswith("  coordination-st-andre : ")]
    assert calendar.startswith("  coordination-st-andre : 0 élément(s) créé(s), ")
    assert calendar.endswith(" mis à jour, 0 retiré(s)")
    assert "Jury :" in lines
    for juror in JURY:
        assert f"  {juror} : recevra une invitation" in lines
    assert (
        "Sera noté dans l'historique de l'annulation : « puis rétablie le 25/11/2026 par "
        f"{os.environ.get('USER') or 'inconnu'} : Candidats trouvés »"
    ) in lines
    assert lines[-1] == (
        "Aperçu seulement : rien n'a été écrit. Relancer avec --apply pour rétablir la session."
    )
    assert _file(config).read_bytes() == cancelled  # nothing written by looking
    for store in _store(config):
        assert store.audit_trail(SA) == []
        (record,) = store.cancellation_history()[SA]
        assert record.restored_at is None
        # the dashboard's own reckoning, from the same store: the same news
        loaded = load_config(config)
        shown = restore_preview(
            loaded,
            load_settings(config),
            store,
            find_cancelled(loaded, SA),
            datetime(2026, 11, 25, 5, 0, tzinfo=UTC),
        )
    assert len(returning) == len(shown.resumed)
    (news,) = shown.targets
    assert calendar == (
        f"  coordination-st-andre : {news.created} élément(s) créé(s), {news.updated} mis à "
        f"jour, {news.removed} retiré(s)"
    )
    assert news.updated > 0
    assert sorted(j.email for j in shown.jury if j.news == "invitation") == [
        "c.maillot@jury.example",
        "p.fontaine@jury.example",
    ]

    args = _restore(config, "--motif", "Candidats trouvés", "--par", "Nathalie Técher", "--apply")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"Session {SA} rétablie : « cancelled: » retiré de sessions/{SA}.yaml." in out
    assert (
        "Annulée le 24/11/2026 (Nombre de candidats insuffisant) puis rétablie le 25/11/2026 "
        "par Nathalie Técher : Candidats trouvés"
    ) in out
    assert _file(config).read_bytes() == before  # byte for byte, as before the cancellation
    assert not (config / "archive").exists()
    for store in _store(config):
        (entry,) = store.audit_trail(SA)
        (record,) = store.cancellation_history()[SA]
    assert (entry.action, entry.user, entry.note) == (
        "restore",
        "Nathalie Técher",
        "Candidats trouvés",
    )
    assert entry.file == f"sessions/{SA}.yaml"
    assert ("cancelled.reason", "Nombre de candidats insuffisant", None) in entry.changes
    assert (record.restored_by, record.restored_note) == ("Nathalie Técher", "Candidats trouvés")

    # no warning: the restore was deliberate and is recorded
    assert main(["validate", "--config", str(config), "--now", "2026-11-26T09:00+04:00"]) == 0
    assert "cancellation_lifted" not in capsys.readouterr().out
    # the next pass invites the jury again
    box, _port = inbox
    box.messages.clear()
    assert main(["notify", "--config", str(config), "--now", "2026-11-26T09:00+04:00"]) == 0
    invited = {
        str(m["To"])
        for m in box.messages
        if str(m["Subject"]).startswith("Invitation : ") and "TP-00374" in str(m["Subject"])
    }
    assert set(JURY) <= invited
    # and there is nothing left to restore
    assert main(_restore(config, "--motif", "encore", "--apply")) == 2
    assert capsys.readouterr().err == (
        f"syncsvc : session « {SA} » non annulée : il n'y a rien à rétablir (attendu : une "
        "session dont le fichier porte « cancelled: »)\n"
    )


def test_errors_name_the_session_and_write_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions = {p.name: p.read_bytes() for p in (config / "sessions").iterdir()}
    assert (
        main(["reinstate", "sa-2099-01-nulle-part", "--motif", "x", "--config", str(config)]) == 2
    )
    assert capsys.readouterr().err == (
        "syncsvc : session « sa-2099-01-nulle-part » inconnue : aucun fichier "
        "sessions/sa-2099-01-nulle-part.yaml (attendu : l'identifiant d'une session annulée ; "
        "syncsvc plan les liste)\n"
    )
    assert main(_restore(config, "--motif", "x", "--apply")) == 2
    assert capsys.readouterr().err.startswith(f"syncsvc : session « {SA} » non annulée")

    path = _file(config)
    path.write_text(
        path.read_text(encoding="utf-8").replace("start: 2027-03-15", "start: [2027-03-15")
        + CANCELLATION,
        encoding="utf-8",
    )
    broken = path.read_bytes()
    assert main(_restore(config, "--motif", "x", "--apply")) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"syncsvc : session « {SA} » : son fichier est en erreur (")
    assert f"{SA}.yaml: ligne 8, colonne" in err
    assert err.endswith(
        "; rien n'est rétabli (attendu : le fichier corrigé d'abord ; syncsvc validate liste "
        "ses erreurs)\n"
    )
    assert path.read_bytes() == broken
    # without --motif, nothing is written
    assert main(["reinstate", SA, "--config", str(config)]) == 2
    assert "motif obligatoire" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (config / "sessions").iterdir()} == {
        **sessions,
        path.name: broken,
    }
    for store in _store(config):
        assert store.audit_trail() == []


def test_the_real_command_line_says_it_in_french(config: Path) -> None:
    """The installed entry point, as a coordinator types it."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from syncsvc.cli import main; raise SystemExit(main())",
            "reinstate",
            SA,
            "--motif",
            "Candidats trouvés",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr == (
        f"syncsvc : session « {SA} » non annulée : il n'y a rien à rétablir (attendu : une "
        "session dont le fichier porte « cancelled: »)\n"
    )
