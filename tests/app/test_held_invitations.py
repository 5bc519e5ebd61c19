"""Issue 11: « Vous êtes convoqué(e) comme membre du jury » went to jurors who cannot sit.

Reported: a juror whose habilitation ends before the session, a juror with a conflict of
interest, a juror limited to other CCPs, and every juror of a session with no agrément got the
invitation. Each case is a pair of configuration folders written in ``tmp_path``: with the clean
file the juror is invited; with the defect the juror gets nothing, the others are invited, and
each coordinator gets one mail saying why — once, however many passes follow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from syncsvc.app.notify import notify
from syncsvc.core.checks import check_session
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import MailSettings, Settings
from syncsvc.state.outbox import OutboxRow
from syncsvc.state.store import Store
from tests.harness.factories import CENTRE, SESSION, write_config

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
JUROR = "c@jury.example"
OTHERS = {"p@jury.example", "y@jury.example"}
COORDINATORS = [
    {"name": "Nathalie Técher", "email": "nathalie@centre.example"},
    {"name": "Rachid Amrani", "email": "rachid@centre.example"},
]
CLEAN: dict[str, Any] = {
    **SESSION,
    "coordinators": COORDINATORS,
    "jury": [
        *SESSION["jury"],
        {"name": "Yasmina Haddad", "email": "y@jury.example", "habilitation_until": "2030-01-01"},
    ],
    "candidates": {
        "training": 1,
        "list": [{"name": "Julie Perret", "host_company": "Transports Dumas"}],
    },
    "done": {"agrement_check": "2026-07-01", "agrement_request": "2026-09-01"},
}


def with_first_juror(**changes: Any) -> dict[str, Any]:
    first, *rest = CLEAN["jury"]
    return {**CLEAN, "jury": [{**first, **changes}, *rest]}


CASES = {
    "habilitation-ends-before-the-session": (
        with_first_juror(habilitation_until="2027-03-18"),
        CENTRE,
        "jury_habilitation_expired",
    ),
    "conflict-of-interest": (
        with_first_juror(company="TRANSPORTS DUMAS S.A.S."),
        CENTRE,
        "jury_conflict",
    ),
    "limited-to-other-ccps": (with_first_juror(ccp=["CP-00412"]), CENTRE, "jury_ccp_limited"),
    "no-agrement": (CLEAN, {**CENTRE, "agrements": []}, "agrement_missing"),
}


class Mailbox:
    """One configuration folder, one store, notify as the service runs it."""

    def __init__(self, folder: Path, session: dict[str, Any], centre: dict[str, Any]) -> None:
        self.folder = folder
        self.root = write_config(folder, [session], centre)
        self.store = Store(f"sqlite:///{folder / 's.db'}")
        self.store.migrate()
        self.settings = Settings(mail=MailSettings(transport="maildir", maildir=folder / "mail"))

    def rewrite(self, session: dict[str, Any], centre: dict[str, Any]) -> None:
        write_config(self.folder / "next", [session], centre)
        for name in ("centres.yaml", "sessions/sa-test.yaml"):
            (self.root / name).write_text(
                (self.folder / "next" / "config" / name).read_text(encoding="utf-8")
            )

    def notify(self, now: datetime = NOW) -> list[OutboxRow]:
        config = load_config(self.root)
        assert not config.problems, config.problems
        before = {r.id for r in self.store.messages()}
        report = notify(self.settings, config, self.store, now)
        assert report.failed == {}
        return [r for r in self.store.messages() if r.id not in before]


def invited(rows: list[OutboxRow]) -> set[str]:
    return {r.key.split(":")[2] for r in rows if r.key.startswith("invitation:")}


def holds(rows: list[OutboxRow]) -> list[OutboxRow]:
    return [r for r in rows if r.key.startswith("invitation_hold:")]


def text_of(row: OutboxRow) -> str:
    message = message_from_bytes(row.message, policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_invitation_goes_only_to_a_juror_who_can_sit(tmp_path: Path, case: str) -> None:
    clean = Mailbox(tmp_path / "clean", CLEAN, CENTRE)
    clean_rows = clean.notify()
    assert invited(clean_rows) == {JUROR, *OTHERS}
    assert holds(clean_rows) == []

    session, centre, code = CASES[case]
    defect = Mailbox(tmp_path / "defect", session, centre)
    rows = defect.notify()
    expected = OTHERS if code != "agrement_missing" else set()
    assert invited(rows) == expected
    held = holds(rows)
    jurors = 1 if code != "agrement_missing" else 3
    assert len(held) == len(COORDINATORS) * jurors
    assert {r.session_id for r in held} == {"sa-test"}
    for coordinator in COORDINATORS:
        assert sum(coordinator["email"] in r.recipient for r in held) == jurors
    mail = next(r for r in held if JUROR in text_of(r))
    assert "Corinne Maillot" in mail.subject
    assert f"[{code}]" in text_of(mail)
    assert "Julie" not in text_of(mail)
    assert "Perret" not in text_of(mail)
    later = defect.notify(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    assert [r for r in later if r.kind == "invitation"] == []  # once


def test_a_fixed_file_sends_the_held_invitation(tmp_path: Path) -> None:
    box = Mailbox(tmp_path, with_first_juror(habilitation_until="2027-03-18"), CENTRE)
    assert invited(box.notify()) == OTHERS
    box.rewrite(CLEAN, CENTRE)
    rows = box.notify(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    assert invited(rows) == {JUROR}
    assert holds(rows) == []


def test_a_juror_invited_before_a_conflict_appears_is_left_to_the_coordinators(
    tmp_path: Path,
) -> None:
    box = Mailbox(tmp_path, CLEAN, CENTRE)
    assert invited(box.notify()) == {JUROR, *OTHERS}
    moved = {**with_first_juror(company="Transports Dumas"), "location": "Salle C4"}
    box.rewrite(moved, CENTRE)
    rows = box.notify(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    assert invited(rows) == OTHERS  # the others get the new place; the held juror nothing
    assert not [r for r in rows if JUROR in r.recipient]
    held = holds(rows)
    assert len(held) == len(COORDINATORS)
    assert "invitation envoyée plus tôt" in text_of(held[0])


def test_a_session_whose_hold_check_fails_is_set_apart_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = {**CLEAN, "id": "sa-autre"}
    root = write_config(tmp_path, [CLEAN, other], CENTRE)
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    settings = Settings(mail=MailSettings(transport="maildir", maildir=tmp_path / "mail"))

    def failing(session: Any, *args: Any) -> Any:
        if session.id == "sa-test":
            raise RuntimeError("injected")
        return check_session(session, *args)

    monkeypatch.setattr("syncsvc.core.invitations.check_session", failing)
    report = notify(settings, load_config(root), store, NOW)
    assert set(report.failed) == {"sa-test"}
    sessions = {r.session_id for r in store.messages() if r.kind == "invitation"}
    assert sessions == {"sa-autre"}
    store.close()
