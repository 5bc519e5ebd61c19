"""Issue 12: « Mails carry no link to the dashboard » — the session's page link in every mail to
someone with dashboard access (coordinators, session managers, management), never in a juror's
mail; the demo's mails carry working « Marquer comme fait » links."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from syncsvc import demo
from syncsvc.app.notify import notify
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import Settings, load_settings
from syncsvc.mailer.smtp import SmtpTransport
from syncsvc.state.store import Store
from tests.harness.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
REUNION = ZoneInfo("Indian/Reunion")
SA = "sa-2027-03-st-andre"
PUBLIC = "https://examens.example.org"
PAGE = f"{PUBLIC}/sessions/{SA}"
STAFF = {
    "n.techer@afpar.example": "coordination",
    "jl.hoarau@afpar.example": "responsable de session",
}
JURORS = ("c.maillot@jury.example", "p.fontaine@jury.example")


@dataclass
class Inbox:
    messages: list[tuple[str, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.extend((rcpt, message) for rcpt in envelope.rcpt_tos)
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


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    return text.get_content(), html.get_content() if html is not None else ""


def _lived(
    tmp_path: Path, controller: Controller, settings: Settings, first: date, last: date
) -> None:
    config_dir = tmp_path / "config"
    (config_dir / "sessions").mkdir(parents=True)
    shutil.copy(ROOT / "config/centres.yaml", config_dir / "centres.yaml")
    shutil.copy(ROOT / f"config/sessions/{SA}.yaml", config_dir / "sessions")
    config = load_config(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    transport = SmtpTransport("127.0.0.1", controller.port, settings.mail.sender)
    day = first
    try:
        while day <= last:
            now = datetime.combine(day, time(9, 0), REUNION)
            report = notify(settings, config, store, now, transport=transport)
            assert report.drained is not None
            assert report.drained.errors == []
            day += timedelta(days=1)
    finally:
        store.close()


def test_every_mail_to_the_staff_links_the_session_page_and_no_juror_mail_does(
    tmp_path: Path, smtp: tuple[Controller, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, inbox = smtp
    monkeypatch.delenv("SYNCSVC_SECRET_KEY", raising=False)  # the page link needs no key
    settings = Settings.model_validate(
        {"dashboard_url": PUBLIC + "/", "mail": {"from": "Examens <examens@afpar.example>"}}
    )
    _lived(tmp_path, controller, settings, date(2026, 6, 15), date(2027, 1, 15))
    to_staff = [(to, m) for to, m in inbox.messages if to in STAFF]
    kinds = {("point de la semaine" in str(m["Subject"])) for _, m in to_staff}
    assert kinds == {True, False}, "both mails of the day and weekly points were sent"
    for to, message in to_staff:
        text, html = _parts(message)
        assert f"Page de la session : {PAGE}" in text, (to, message["Subject"])
        assert f'href="{PAGE}"' in html, (to, message["Subject"])
    to_jury = [m for to, m in inbox.messages if to in JURORS]
    assert to_jury, "the jurors were invited and reminded"
    for message in to_jury:
        assert "/sessions/" not in message.as_string()


def test_without_a_public_address_no_page_link(
    tmp_path: Path, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    settings = Settings.model_validate({"mail": {"from": "Examens <examens@afpar.example>"}})
    _lived(tmp_path, controller, settings, date(2026, 11, 23), date(2026, 12, 14))
    assert inbox.messages
    for _, message in inbox.messages:
        assert "Page de la session" not in _parts(message)[0]


def test_the_demo_mails_carry_working_done_links(
    tmp_path: Path, smtp: tuple[Controller, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo sets a signing key (kept under var/) and the example settings a dashboard
    address: its mails have « Marquer comme fait » links and the session's page."""
    controller, inbox = smtp
    monkeypatch.delenv("SYNCSVC_SECRET_KEY", raising=False)
    demo._demo_secret_key(tmp_path / "var")
    key = (tmp_path / "var" / "demo-secret-key").read_text(encoding="utf-8").strip()
    assert key
    settings = load_settings(ROOT / "config")
    _lived(tmp_path, controller, settings, date(2026, 12, 1), date(2026, 12, 14))
    texts = [_parts(m)[0] for to, m in inbox.messages if to in STAFF]
    assert any("Marquer comme fait : http://127.0.0.1:8080/done/" in t for t in texts)
    assert any(f"Page de la session : http://127.0.0.1:8080/sessions/{SA}" in t for t in texts)


def test_a_held_invitation_mail_to_the_coordination_links_the_session_page() -> None:
    from syncsvc.app.notify import page_link_of
    from syncsvc.core.invitations import Hold
    from syncsvc.formats.mail import compose_invitation_hold

    config = load_config(ROOT / "config")
    session = config.sessions[SA]
    centre = config.centres[session.centre]
    hold = Hold(SA, "c.maillot@jury.example", "Corinne Maillot", "jury_expired", "expirée")
    settings = Settings.model_validate({"dashboard_url": PUBLIC})
    message = compose_invitation_hold(
        hold,
        session,
        centre,
        session.coordinators[0],
        False,
        "Examens <examens@afpar.example>",
        datetime(2026, 12, 1, 9, 0, tzinfo=REUNION),
        page_link_of(settings),
    )
    assert f"Page de la session : {PAGE}" in message.get_content()
