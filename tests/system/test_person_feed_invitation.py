"""The invitation of a convened person carries their own agenda link (``[feeds] per_person``):
« Vos journées d'examen dans votre agenda : <lien> (abonnement) », the recipient's link and no
one else's. Sent through the SMTP transport to an aiosmtpd server on 127.0.0.1.

Line Hoarau is convened three times, Paul Payet once (tests/harness/convened.py): each of
their invitations names their own feed, whose token opens their feed and no other."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from syncsvc.app.feeds import person_key
from syncsvc.app.notify import notify
from syncsvc.inputs.settings import Settings
from syncsvc.mailer.smtp import SmtpTransport
from syncsvc.state.store import Store
from tests.harness.convened import LINE, PAUL, convened_config
from tests.harness.servers import free_port

NOW = datetime(2027, 2, 8, 8, 0, tzinfo=UTC)
PUBLIC = "https://examens.example.org"
LINE_TEXT = "Vos journées d'examen dans votre agenda : {link} (abonnement)"
FEED_RE = re.compile(r"https?://[^\s\"<>]+/feeds/([A-Za-z0-9_-]+)\.ics")


@dataclass
class Inbox:
    messages: list[tuple[str, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.extend((rcpt.lower(), message) for rcpt in envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def _send(tmp_path: Path, controller: Controller, feeds: dict[str, object]) -> Store:
    config = convened_config(tmp_path)
    settings = Settings.model_validate(
        {"mail": {"from": "Examens <examens@afpar.example>"}, "feeds": feeds}
    )
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    transport = SmtpTransport("127.0.0.1", controller.port, settings.mail.sender)
    report = notify(settings, config, store, NOW, transport=transport)
    assert report.drained is not None
    assert report.drained.errors == []
    return store


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


def _invitations(inbox: Inbox, to: str) -> list[EmailMessage]:
    return [m for rcpt, m in inbox.messages if rcpt == to and "text/calendar" in m.as_string()]


def test_each_invitation_names_the_recipient_s_own_feed(
    tmp_path: Path, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    store = _send(tmp_path, controller, {"per_person": True, "base_url": PUBLIC})
    try:
        line, paul = _invitations(inbox, LINE), _invitations(inbox, PAUL)
        assert len(line) == 3
        assert len(paul) == 1
        links: dict[str, set[str]] = {}
        for who, messages in ((LINE, line), (PAUL, paul)):
            for message in messages:
                text, html = _parts(message)
                tokens = set(FEED_RE.findall(text)) | set(FEED_RE.findall(html))
                assert len(tokens) == 1, (who, tokens)  # their link only, no one else's
                (token,) = tokens
                assert store.feed_for_token(token) == person_key(who)
                link = f"{PUBLIC}/feeds/{token}.ics"
                assert LINE_TEXT.format(link=link) in text
                assert f'href="{link}"' in html
                links.setdefault(who, set()).add(token)
        assert len(links[LINE]) == 1  # the same link in her three invitations
        assert links[LINE] != links[PAUL]
        # no other mail (to the organisers) carries anyone's agenda link
        for rcpt, message in inbox.messages:
            if rcpt not in (LINE, PAUL) and not _invitations(inbox, rcpt):
                assert "/feeds/" not in message.as_string(), rcpt
            elif rcpt not in (LINE, PAUL):
                for m in _invitations(inbox, rcpt):
                    (token,) = set(FEED_RE.findall(_parts(m)[0]))
                    assert store.feed_for_token(token) == person_key(rcpt)
    finally:
        store.close()


def test_without_per_person_the_invitation_has_no_agenda_line(
    tmp_path: Path, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    store = _send(tmp_path, controller, {"base_url": PUBLIC})
    store.close()
    line = _invitations(inbox, LINE)
    assert len(line) == 3
    for message in line:
        text, html = _parts(message)
        assert "Vos journées d'examen dans votre agenda" not in text
        assert "/feeds/" not in text + html
