"""The reminder to answer an invitation (mail of the day) carries the recipient's own agenda
link too (``[feeds] per_person``): « Vos journées d'examen dans votre agenda : <lien>
(abonnement) », their link and no one else's, the same as in their invitation. Sent through the
SMTP transport to an aiosmtpd server on 127.0.0.1.

Line Hoarau is convened three times and Paul Payet once (tests/harness/convened.py); the
jurors of the example sessions are invited too: a week later, those who have not answered are
reminded."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from syncsvc.app.feeds import person_key
from syncsvc.app.notify import notify
from syncsvc.inputs.settings import Settings
from syncsvc.mailer.smtp import SmtpTransport
from syncsvc.state.store import Store
from tests.harness.convened import LINE, PAUL, convened_config
from tests.system.test_person_feed_invitation import (
    FEED_RE,
    LINE_TEXT,
    NOW,
    PUBLIC,
    Inbox,
    _invitations,
    _parts,
    smtp,
)

__all__ = ["smtp"]  # the fixture, from the invitation's tests

EXPECTED = "votre réponse est attendue"


def _week(tmp_path: Path, controller: Controller, feeds: dict[str, object]) -> Store:
    """Invitations at NOW, then the mails of the day a week later (the first reminders)."""
    config = convened_config(tmp_path)
    settings = Settings.model_validate(
        {"mail": {"from": "Examens <examens@afpar.example>"}, "feeds": feeds}
    )
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    transport = SmtpTransport("127.0.0.1", controller.port, settings.mail.sender)
    for when in (NOW, NOW + timedelta(days=7)):
        report = notify(settings, config, store, when, transport=transport)
        assert report.drained is not None
        assert report.drained.errors == []
    return store


def _reminders(inbox: Inbox) -> list[tuple[str, EmailMessage]]:
    return [
        (rcpt, m)
        for rcpt, m in inbox.messages
        if "text/calendar" not in m.as_string() and EXPECTED in _parts(m)[0]
    ]


def test_each_answer_reminder_names_the_recipient_s_own_feed(
    tmp_path: Path, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    store = _week(tmp_path, controller, {"per_person": True, "base_url": PUBLIC})
    try:
        reminders = _reminders(inbox)
        reminded = {rcpt for rcpt, _ in reminders}
        assert {LINE, PAUL} <= reminded, reminded
        for rcpt, message in reminders:
            text, html = _parts(message)
            tokens = set(FEED_RE.findall(text)) | set(FEED_RE.findall(html))
            assert len(tokens) == 1, (rcpt, tokens)  # their link only, no one else's
            (token,) = tokens
            assert store.feed_for_token(token) == person_key(rcpt)
            link = f"{PUBLIC}/feeds/{token}.ics"
            assert text.count(LINE_TEXT.format(link=link)) == 1  # once, even for two sessions
            assert f'href="{link}"' in html
            for invitation in _invitations(inbox, rcpt):  # the link of their invitations
                assert set(FEED_RE.findall(_parts(invitation)[0])) == {token}
        # the other mails of the day (the coordination's) carry nobody's agenda link
        for rcpt, message in inbox.messages:
            if rcpt not in reminded and not _invitations(inbox, rcpt):
                assert "/feeds/" not in message.as_string(), rcpt
    finally:
        store.close()


def test_without_per_person_the_reminder_has_no_agenda_line(
    tmp_path: Path, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    store = _week(tmp_path, controller, {"base_url": PUBLIC})
    store.close()
    reminders = _reminders(inbox)
    assert {LINE, PAUL} <= {rcpt for rcpt, _ in reminders}
    for _, message in reminders:
        text, html = _parts(message)
        assert "Vos journées d'examen dans votre agenda" not in text
        assert "/feeds/" not in text + html
