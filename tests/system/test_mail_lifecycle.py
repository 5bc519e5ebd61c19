"""A whole session lived day by day: `notify` every morning, mail to a real aiosmtpd server."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage, Message
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from syncsvc.app.notify import notify
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import Settings
from syncsvc.mailer.smtp import Claim, Envelope, OnResult, Sent, SmtpTransport
from syncsvc.state.store import Store
from tests.harness.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
REUNION = ZoneInfo("Indian/Reunion")


@dataclass
class Inbox:
    messages: list[tuple[datetime, str, Message]] = field(default_factory=list)
    today: datetime | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert self.today is not None
        for rcpt in envelope.rcpt_tos:
            self.messages.append((self.today, rcpt, message))
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


def test_a_session_lived_day_by_day(tmp_path: Path, smtp: tuple[Controller, Inbox]) -> None:
    controller, inbox = smtp
    config_dir = tmp_path / "config"
    (config_dir / "sessions").mkdir(parents=True)
    shutil.copy(ROOT / "config/centres.yaml", config_dir / "centres.yaml")
    shutil.copy(ROOT / "config/sessions/sa-2027-03-st-andre.yaml", config_dir / "sessions")
    config = load_config(config_dir)
    assert not config.problems
    settings = Settings.model_validate({"mail": {"from": "Examens <examens@afpar.example>"}})
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    transport = SmtpTransport("127.0.0.1", controller.port, settings.mail.sender)

    day = date(2026, 6, 15)  # 9 months before the 15 March 2027 start
    while day <= date(2027, 5, 19):  # 2 months after the end
        now = datetime.combine(day, time(9, 0), REUNION)
        inbox.today = now
        if day == date(2026, 12, 15):
            store.mark_done("sa-2027-03-st-andre", "dte_order", day, "Nathalie", None, now)
        report = notify(settings, config, store, now, transport=transport)
        assert report.drained is not None
        assert report.drained.errors == []
        day += timedelta(days=1)

    ids = [m["Message-ID"] for _, _, m in inbox.messages]
    assert len(ids) == len(set(ids)), "a message was sent twice"

    def weekly(message: Message) -> bool:
        return "point de la semaine" in str(message["Subject"])

    def headlines(rcpt: str, title: str) -> list[tuple[date, str]]:
        """The days a mail of the day to ``rcpt`` spoke of ``title``, and how."""
        return [
            (when.date(), line)
            for when, to, m in inbox.messages
            if to == rcpt and not weekly(m) and not _is_invitation(m)
            for line in _text(m).splitlines()
            if line.endswith(f" : {title}")
        ]

    coordinator = "n.techer@afpar.example"
    assert headlines(coordinator, "Commander le pli d'examen (DTE)") == [
        (date(2026, 11, 27), "Dans 14 jours : Commander le pli d'examen (DTE)"),
        (date(2026, 12, 4), "Dans 7 jours : Commander le pli d'examen (DTE)"),
        (date(2026, 12, 10), "Demain : Commander le pli d'examen (DTE)"),
        (date(2026, 12, 14), "EN RETARD de 3 jours : Commander le pli d'examen (DTE)"),
        # marked done on 15 December: no further mention
    ]
    # ceres_session_create is done (declared_on): never a reminder.
    assert headlines(coordinator, "Créer la session dans CERES") == []

    # The jury gets its invitation and, while it has not answered, the reminder to answer:
    # never the organisers' « Rappel : « Session d'examen »… » nor, after the session,
    # « EN RETARD : Éditer et faire signer les procès-verbaux » (issue 11).
    jury = "c.maillot@jury.example"
    jury_mails = [m for _, to, m in inbox.messages if to == jury]
    assert str(jury_mails[0]["Subject"]).startswith("Invitation : Session d'examen TP-00374")
    awaited = "Nous n'avons pas encore votre réponse à l'invitation ci-dessous."
    for m in jury_mails:
        assert "Rappel" not in str(m["Subject"]), m["Subject"]
        assert "EN RETARD" not in str(m["Subject"]), m["Subject"]
        if not _is_invitation(m):
            text = _text(m)
            assert awaited in text, text
            assert "procès-verbaux" not in text
            assert "EN RETARD" not in text
    # The juror never answers here: reminded 7 and 14 days after the invitation, twice only.
    reminded = [when.date() for when, to, m in inbox.messages if to == jury and awaited in _text(m)]
    assert reminded == [date(2026, 6, 22), date(2026, 6, 29)]

    # One mail of the day per person at most; weekly points on Mondays only, one a week.
    days = Counter((when.date(), to) for when, to, m in inbox.messages if not weekly(m))
    invitations = Counter((w.date(), to) for w, to, m in inbox.messages if _is_invitation(m))
    assert max((days - invitations).values()) == 1
    points = [(when, to) for when, to, m in inbox.messages if weekly(m)]
    assert {to for _, to in points} >= {coordinator}
    assert all(when.weekday() == 0 for when, _ in points)
    assert max(Counter((when.isocalendar()[:2], to) for when, to in points).values()) == 1

    # Reminders and alerts go out on working days only.
    assert all(when.weekday() < 5 for when, _, _ in inbox.messages)

    # Escalation: in the weekly point of the session manager, and of the management for
    # regulatory milestones.
    def points_to(rcpt: str) -> list[str]:
        return [_text(m) for _, to, m in inbox.messages if to == rcpt and weekly(m)]

    manager = "jl.hoarau@afpar.example"
    assert any("Inscrire les candidats sur la session dans CERES" in t for t in points_to(manager))
    assert any("de retard" in t for t in points_to("direction.st-andre@afpar.example"))

    # Running again for the last day sends nothing.
    before = len(inbox.messages)
    notify(
        settings,
        config,
        store,
        datetime.combine(date(2027, 5, 19), time(9), REUNION),
        transport=transport,
    )
    assert len(inbox.messages) == before
    store.close()


def test_a_digest_missed_by_more_than_a_day_is_noted_not_sent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_dir = tmp_path / "config"
    (config_dir / "sessions").mkdir(parents=True)
    shutil.copy(ROOT / "config/centres.yaml", config_dir / "centres.yaml")
    shutil.copy(ROOT / "config/sessions/sa-2027-03-st-andre.yaml", config_dir / "sessions")
    config = load_config(config_dir)
    settings = Settings.model_validate({"mail": {"maildir": str(tmp_path / "mail")}})
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    # The service was down on Monday 30 November 2026; it comes back on Wednesday.
    wednesday = datetime.combine(date(2026, 12, 2), time(9, 0), REUNION)
    with caplog.at_level("WARNING", logger="syncsvc.mailer"):
        notify(settings, config, store, wednesday)
        notify(settings, config, store, wednesday + timedelta(hours=1))
    digests = [r for r in store.messages() if r.kind == "digest"]
    assert [(r.key, r.status) for r in digests] == [
        ("digest:2026-W49:n.techer@afpar.example", "skipped")
    ]
    assert sum("manqué de plus d'un jour" in r.getMessage() for r in caplog.records) == 1
    sent = [
        str(email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"])
        for f in (tmp_path / "mail").rglob("*")
        if f.is_file()
    ]
    assert sent  # other mail went out…
    assert not any("point de la semaine" in subject for subject in sent)  # …not the digest
    store.close()


# --- issue 11: one neglected session, nine months, every morning ------------------------------


def _claim_all(_: Envelope) -> bool:
    return True


@dataclass
class Captured:
    """A transport that keeps what it is given, stamped with the simulated day."""

    today: date = date.min
    mails: list[tuple[date, str, Message]] = field(default_factory=list)

    def send(
        self, envelopes: Sequence[Envelope], on_result: OnResult, claim: Claim = _claim_all
    ) -> None:
        for envelope in envelopes:
            if not claim(envelope):
                continue
            message = email.message_from_bytes(envelope.message, policy=email.policy.default)
            for rcpt in envelope.recipients:
                self.mails.append((self.today, rcpt, message))
            on_result(envelope, Sent("250 OK"))


def _is_invitation(message: Message) -> bool:
    return str(message["Subject"]).startswith(("Invitation", "Modification", "Annulation"))


def _text(message: Message) -> str:
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_nine_months_of_a_neglected_session_stay_livable(tmp_path: Path) -> None:
    """Reported: one session lived day by day for nine months, only one milestone ever marked
    done, sent hundreds of mails (one « EN RETARD » per overdue milestone every 2 working days,
    up to 9 to one person in a day). Reminders and alerts are now one mail per person per day
    at most, plus the weekly point; an overdue milestone comes back less and less often."""
    config_dir = tmp_path / "config"
    (config_dir / "sessions").mkdir(parents=True)
    shutil.copy(ROOT / "config/centres.yaml", config_dir / "centres.yaml")
    text = (ROOT / "config/sessions/sa-2027-03-st-andre.yaml").read_text(encoding="utf-8")
    neglected = text.split("declared_on:")[0]  # nothing done, not even the CERES creation
    (config_dir / "sessions/sa-2027-03-st-andre.yaml").write_text(neglected, encoding="utf-8")
    config = load_config(config_dir)
    assert not config.problems
    settings = Settings.model_validate({"mail": {"from": "Examens <examens@afpar.example>"}})
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    transport = Captured()

    day = date(2026, 6, 15)
    while day <= date(2027, 3, 15):  # nine months, to the first day of the exams
        now = datetime.combine(day, time(9, 0), REUNION)
        transport.today = day
        if day == date(2026, 12, 15):  # the only milestone ever marked done
            store.mark_done("sa-2027-03-st-andre", "dte_order", day, "Nathalie", None, now)
        report = notify(settings, config, store, now, transport=transport)
        assert report.drained is not None
        assert report.drained.errors == []
        day += timedelta(days=1)

    mails = [(d, to, m) for d, to, m in transport.mails if not _is_invitation(m)]
    weekly = [(d, to) for d, to, m in mails if "point de la semaine" in str(m["Subject"])]
    daily = [(d, to, m) for d, to, m in mails if "point de la semaine" not in str(m["Subject"])]
    per_person = Counter(to for _, to, _ in mails)
    per_day = Counter((d, to) for d, to, _ in daily)
    per_week = Counter((d.isocalendar()[:2], to) for d, to in weekly)
    mentions: dict[tuple[str, str], list[date]] = {}
    for d, to, m in daily:
        for title in TITLES:
            if title in _text(m):
                mentions.setdefault((to, title), []).append(d)
    figures = (
        f"{len(mails)} mails; per person {per_person.most_common()}; max daily mails per "
        f"person per day {max(per_day.values())}; mentions in daily mails "
        f"{sorted((k, len(v)) for k, v in mentions.items())}"
    )
    # Before: 1010 mails (287 to the session manager, 272 to the management, 267 to the
    # deputy, 180 to the coordinator), up to 6 a day to one person.
    assert len(mails) <= 300, figures
    assert max(per_person.values()) <= 80, figures

    # At most one reminder/alert mail per person per day, one weekly point per week (Monday).
    assert max(per_day.values()) == 1, figures
    assert max(per_week.values()) == 1, figures
    assert all(d.weekday() == 0 for d, _ in weekly), figures

    # An overdue milestone comes back after 1, 2, 4, 8 and 16 working days, then weekly at
    # most — and for whoever gets it in the weekly point, only there. « Créer la session »
    # (due 11 December, never done) was in 35 mails to the coordinator: now J-14, J-7, J-1
    # and the five steps.
    coordinator = "n.techer@afpar.example"
    assert len(mentions[coordinator, "Créer la session dans CERES"]) == 8, figures
    repeated = mentions["direction.st-andre@afpar.example", "Vérifier l'échéance du titre"]
    assert len(repeated) > 8, figures  # advice: not in the management's weekly point
    for days in mentions.values():
        repeats = days[3 + 5 :]  # after J-30/J-14, J-7, J-1 and the five steps: weekly
        assert all((b - a).days >= 7 for a, b in pairwise(repeats)), figures

    # Escalation is weekly and consolidated: the deputy, in the audience of no milestone,
    # hears of the overdue ones in the weekly point only.
    deputy = "s.grondin@afpar.example"
    assert per_person[deputy] == sum(1 for _, to in weekly if to == deputy) > 0, figures

    # A milestone marked done disappears from the next mails.
    after = [m for d, _, m in daily if d > date(2026, 12, 15)]
    assert after
    assert not any("Commander le pli d'examen" in _text(m) for m in after)
    store.close()


TITLES = (
    "Créer la session dans CERES",
    "Commander le pli d'examen",
    "Transmettre à l'UD",
    "Vérifier l'échéance du titre",
    "Déposer la demande d'agrément",
)
