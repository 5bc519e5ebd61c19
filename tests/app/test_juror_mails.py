"""Issue 11: jurors got the organisers' reminders and overdue alerts.

Reported: jurors get « Rappel : « Session d'examen » est à faire… » and, after the session,
« EN RETARD : Éditer et faire signer les procès-verbaux » until the session manager marks it
done. The exam and the PV signature name the jury in their audience, but a juror's mail is only
the invitation (with its days, hours, place, contact) and, while they have not answered, the
reminder to answer. The session is lived day by day with ``notify`` at each day's ``now``, from
six weeks before it to a month after, with only the agrément milestones marked done.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from syncsvc.app.notify import notify
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import MailSettings, Settings
from syncsvc.state.outbox import OutboxRow
from syncsvc.state.store import Store
from tests.harness.factories import SESSION, write_config

JURORS = {"c@jury.example", "p@jury.example"}
SURVEILLANT = "s@surveillance.example"
MANAGER = "jean@centre.example"
FIRST_DAY = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
LAST_DAY = datetime(2027, 4, 20, 9, 0, tzinfo=UTC)
BODY: dict[str, Any] = {
    **SESSION,
    "surveillant": {"name": "Sylvie Payet", "email": SURVEILLANT},
    "done": {"agrement_check": "2026-07-01", "agrement_request": "2026-09-01"},
}


def text_of(row: OutboxRow) -> str:
    message = message_from_bytes(row.message, policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def lived(tmp_path: Path) -> list[OutboxRow]:
    root = write_config(tmp_path, [BODY])
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    settings = Settings(mail=MailSettings(transport="maildir", maildir=tmp_path / "mail"))
    config = load_config(root)
    assert not config.problems, config.problems
    now = FIRST_DAY
    while now <= LAST_DAY:
        report = notify(settings, config, store, now)
        assert report.failed == {}
        now += timedelta(days=1)
    rows = store.messages()
    store.close()
    return rows


def test_a_juror_never_gets_a_reminder_or_an_overdue_alert(tmp_path: Path) -> None:
    rows = lived(tmp_path)
    theirs = [r for r in rows if r.recipient.split("<")[-1].rstrip(">") in JURORS | {SURVEILLANT}]
    assert {r.kind for r in theirs} <= {"invitation", "reminder"}
    invitations = [r for r in theirs if r.kind == "invitation"]
    assert len(invitations) == 3  # the two jurors and the surveillant, once each
    for row in theirs:
        text = text_of(row)
        assert "Rappel :" not in row.subject, row.subject
        assert "EN RETARD" not in row.subject + text, row.subject
        assert "échéance" not in row.subject + text, row.subject
        assert "Éditer et faire signer les procès-verbaux" not in text
        assert "est à faire" not in text
    answers = [r for r in theirs if r.kind == "reminder"]
    assert answers, "the reminder to answer the invitation still goes to jurors"
    assert {r.subject for r in answers} == {
        "Jury du 15/03/2027 : merci de confirmer votre présence"
    }

    # The organisers still get them: the PV signature is overdue after the session.
    managers = [r for r in rows if MANAGER in r.recipient and r.kind == "reminder"]
    assert any("Éditer et faire signer les procès-verbaux" in text_of(r) for r in managers)
    assert any("EN RETARD" in r.subject for r in managers)
