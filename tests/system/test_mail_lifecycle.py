"""A whole session lived day by day: `notify` every morning, mail to a real aiosmtpd server."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from syncsvc.app.notify import notify
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import Settings
from syncsvc.mailer.smtp import SmtpTransport
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

    def subjects(rcpt: str, needle: str) -> list[tuple[date, str]]:
        return [
            (when.date(), str(m["Subject"]))
            for when, to, m in inbox.messages
            if to == rcpt and needle in str(m["Subject"])
        ]

    coordinator = "n.techer@afpar.example"
    assert subjects(coordinator, "pli d'examen (DTE)") == [
        (
            date(2026, 11, 27),
            "[SA 15/03] Rappel : Commander le pli d'examen (DTE) (J-14, le 11/12)",
        ),
        (date(2026, 12, 4), "[SA 15/03] Rappel : Commander le pli d'examen (DTE) (J-7, le 11/12)"),
        (date(2026, 12, 10), "[SA 15/03] Rappel : Commander le pli d'examen (DTE) (J-1, le 11/12)"),
        (
            date(2026, 12, 14),
            "[SA 15/03] EN RETARD : Commander le pli d'examen (DTE) (échéance du 11/12)",
        ),
        # marked done on 15 December: no further alert
    ]
    # ceres_session_create is done (declared_on): never a reminder.
    assert subjects(coordinator, "Créer la session dans CERES") == []

    # The jury gets its invitation, the exam-session reminders and the PV signature ones only.
    jury = "c.maillot@jury.example"
    jury_subjects = [str(m["Subject"]) for _, to, m in inbox.messages if to == jury]
    assert jury_subjects[0].startswith("Invitation : Session d'examen TP-00374")
    assert all(
        s.startswith("Invitation") or "Session d'examen" in s or "procès-verbaux" in s
        for s in jury_subjects
    ), jury_subjects

    # Digests: Mondays only, one per week at most, to the coordinator.
    digests = [
        (when, to) for when, to, m in inbox.messages if "point de la semaine" in str(m["Subject"])
    ]
    assert digests
    assert all(when.weekday() == 0 and to == coordinator for when, to in digests)
    weeks = Counter(when.isocalendar()[:2] for when, _ in digests)
    assert max(weeks.values()) == 1

    # Reminders and alerts go out on working days only.
    assert all(when.weekday() < 5 for when, _, _ in inbox.messages)

    # Escalation reaches the session manager and management for regulatory milestones.
    manager = "jl.hoarau@afpar.example"
    assert subjects(manager, "EN RETARD : Inscrire les candidats sur la session dans CERES")
    assert subjects("direction.st-andre@afpar.example", "EN RETARD")

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
