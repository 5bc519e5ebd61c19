"""The jury's signed links per exam day, as the jurors receive them (through a real SMTP server,
aiosmtpd): the invitation of a session of several days offers « Je serai présent(e) » / « Je ne
pourrai pas venir » for every day and for each day, that of a one-day session its one pair as
before; the reminder to a juror who answered some days only carries the links of the others."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from syncsvc.app.notify import notify
from syncsvc.core import links
from syncsvc.core.jury import JuryReply
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import Settings
from syncsvc.mailer.smtp import SmtpTransport
from syncsvc.state.store import Store
from tests.harness.factories import SESSION, write_config
from tests.system.test_mail_links import Inbox, _parts, smtp

__all__ = ["smtp"]  # the fixture, from the mail links' tests

PARIS = ZoneInfo("Europe/Paris")
PUBLIC = "https://examens.example.org"
SECRET_ENV = "SYNCSVC_TEST_DAY_LINKS_KEY"
SECRET = "clé-des-liens-par-jour"
MAILLOT, FONTAINE = "c@jury.example", "p@jury.example"
DAYS = [date(2027, 3, d) for d in (15, 16, 17, 18, 19)]
ONE_DAY: dict[str, Any] = {
    **SESSION,
    "id": "sa-un-jour",
    "start": date(2027, 3, 22),
    "end": date(2027, 3, 22),
}
INVITED = datetime(2027, 1, 4, 9, 0, tzinfo=PARIS)


def _mails(inbox: Inbox, to: str, subject: str) -> list[EmailMessage]:
    return [m for rcpt, m in inbox.messages if rcpt == to and subject in str(m["Subject"])]


def _texts(message: EmailMessage) -> tuple[str, str]:
    text, html = _parts(message)
    return text.replace("\r\n", "\n"), html


def _token(text: str, url: str) -> str:
    return text.split(url, 1)[1].split()[0].partition("&t=")[2]


@pytest.fixture
def lived(
    tmp_path: Path, smtp: tuple[Controller, Inbox], monkeypatch: pytest.MonkeyPatch
) -> tuple[Inbox, Store, Any, Settings]:
    controller, inbox = smtp
    monkeypatch.setenv(SECRET_ENV, SECRET)
    root = write_config(tmp_path, [SESSION, ONE_DAY])
    config = load_config(root)
    assert not config.problems, config.problems
    settings = Settings.model_validate(
        {
            "dashboard_url": PUBLIC,
            "secret_key_env": SECRET_ENV,
            "mail": {"from": "Examens <examens@centre.example>"},
        }
    )
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    transport = SmtpTransport("127.0.0.1", controller.port, settings.mail.sender)
    report = notify(settings, config, store, INVITED, transport=transport)
    assert report.drained is not None
    assert report.drained.errors == []
    return inbox, store, (config, transport), settings


def test_the_invitation_offers_a_pair_of_links_per_exam_day(
    lived: tuple[Inbox, Store, Any, Settings],
) -> None:
    inbox, store, _, _ = lived
    store.close()
    (invitation,) = _mails(inbox, MAILLOT, "Invitation : Session d'examen TP-00374 Secrétaire")[:1]
    text, html = _texts(invitation)
    base = f"{PUBLIC}/jury/sa-test/0"
    assert f"Pour tous les jours :\nJe serai présent(e) :\n{base}/accept?a={MAILLOT}&t=" in text
    assert (
        "Pour le mardi 16 mars 2027 seulement :\n"
        f"Je serai présent(e) :\n{base}/accept?a={MAILLOT}&d=2027-03-16&t=" in text
    )
    assert f"Je ne pourrai pas venir :\n{base}/decline?a={MAILLOT}&d=2027-03-16&t=" in text
    for day in DAYS:
        assert text.count(f"&d={day.isoformat()}&t=") == 2, day
        assert html.count(f"&amp;d={day.isoformat()}&amp;t=") == 2, day
    assert "Pour le vendredi 19 mars 2027 seulement :" in text
    assert "mardi 16 mars 2027" in html
    # the day is signed: the link for Tuesday answers Tuesday, and nothing else
    token = _token(text, f"{base}/decline?a={MAILLOT}&d=2027-03-16")
    key, now = SECRET.encode(), INVITED
    assert links.verify_answer(key, "sa-test", MAILLOT, 0, "decline", token, now, DAYS[1])
    assert not links.verify_answer(key, "sa-test", MAILLOT, 0, "decline", token, now, DAYS[2])
    assert not links.verify_answer(key, "sa-test", MAILLOT, 0, "decline", token, now)


def test_a_one_day_session_keeps_its_single_pair(
    lived: tuple[Inbox, Store, Any, Settings],
) -> None:
    inbox, store, _, _ = lived
    store.close()
    (invitation,) = [
        m for m in _mails(inbox, MAILLOT, "Invitation : ") if "22 mars 2027" in str(m["Subject"])
    ]
    text, _ = _texts(invitation)
    base = f"{PUBLIC}/jury/sa-un-jour/0"
    assert f"Je serai présent(e) :\n{base}/accept?a={MAILLOT}&t=" in text
    assert f"Je ne pourrai pas venir :\n{base}/decline?a={MAILLOT}&t=" in text
    assert "&d=" not in text
    assert "Pour tous les jours" not in text


def test_the_reminder_carries_the_links_of_the_days_still_unanswered(
    lived: tuple[Inbox, Store, Any, Settings],
) -> None:
    inbox, store, (config, transport), settings = lived
    for day, partstat in ((DAYS[0], "ACCEPTED"), (DAYS[1], "DECLINED")):
        store.record_reply(
            JuryReply(
                key=f"link:sa-test:{MAILLOT}:{day}",
                source="link",
                kind="reply",
                status="applied",
                session_id="sa-test",
                email=MAILLOT,
                name="Corinne Maillot",
                partstat=partstat,
                sequence=0,
                comment=None,
                replied_at=INVITED + timedelta(days=1),
                recorded_at=INVITED + timedelta(days=1),
                day=day,
            )
        )
    inbox.messages.clear()
    try:
        report = notify(settings, config, store, INVITED + timedelta(days=7), transport=transport)
    finally:
        store.close()
    assert report.drained is not None
    assert report.drained.errors == []
    (to_maillot,) = _mails(inbox, MAILLOT, "")
    text, html = _texts(to_maillot)
    assert (
        "Votre réponse manque pour le mercredi 17 mars 2027, le jeudi 18 mars 2027 et le "
        "vendredi 19 mars 2027." in text
    )
    for day in DAYS[:2]:
        assert f"&d={day.isoformat()}" not in text  # answered: no link
    for day in DAYS[2:]:
        assert text.count(f"&d={day.isoformat()}&t=") == 2, day
        assert html.count(f"&amp;d={day.isoformat()}&amp;t=") == 2, day
    assert f"{PUBLIC}/jury/sa-test/0/accept?a={MAILLOT}&t=" not in text  # no « tous les jours »
    assert f"{PUBLIC}/jury/sa-un-jour/0/accept?a={MAILLOT}&t=" in text  # the other session
    (to_fontaine,) = _mails(inbox, FONTAINE, "")  # answered nothing: every pair
    text, _ = _texts(to_fontaine)
    assert f"Pour tous les jours :\nJe serai présent(e) :\n{PUBLIC}/jury/sa-test/0/" in text
    for day in DAYS:
        assert text.count(f"&d={day.isoformat()}&t=") == 2, day
