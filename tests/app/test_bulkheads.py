"""Issue « one bad value stops every session »: a failure while planning, rendering, composing
or sending for one session is that session's; the four others are synced and mailed.

Reported first: a name with CR/LF made ``notify`` fail on every pass (0 mails for every
session), ``sync`` abort for every target and the dashboard answer 500. Validation now refuses
such values (tests/core/test_model_limits.py); this file injects a failure no check foresaw,
at each stage, into one of the five example sessions.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from syncsvc.app.notify import notify
from syncsvc.app.outbox import envelope_of
from syncsvc.app.sync import Syncer
from syncsvc.core.config import Config
from syncsvc.core.entries import entries_for
from syncsvc.core.model import Centre, Session
from syncsvc.core.planner import plan_one
from syncsvc.formats import mail_views
from syncsvc.formats.mail import compose, compose_invitation
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import MailSettings, Settings, TargetSettings
from syncsvc.state.outbox import OutboxRow
from syncsvc.state.store import Store
from tests.harness.memory_target import MemoryTarget

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BAD = "tee-2027-04-strasbourg"
OTHERS = {
    "ccp-ac-2027-05-st-andre",
    "ctrmp-2027-02-venissieux",
    "dwwm-2027-06-venissieux",
    "sa-2027-03-st-andre",
}


def spoken_of(row: OutboxRow, config: Config) -> set[str]:
    """The sessions a sent message speaks of: its own, or those a mail of the day lists."""
    if row.session_id is not None:
        return {row.session_id}
    message = email.message_from_bytes(row.message, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    text = str(body.get_content()) if body is not None else ""
    return {s.id for s in config.sessions.values() if f"[{s.short_label}]" in text}


class Boom(RuntimeError):
    """A defect nobody foresaw."""


def failing_for(original: Callable[..., Any], session_of: Callable[..., str]) -> Any:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if session_of(*args, **kwargs) == BAD:
            raise Boom("injected")
        return original(*args, **kwargs)

    return wrapped


def _patch(target: str, original: Callable[..., Any], session_of: Callable[..., str]) -> Any:
    return lambda mp: mp.setattr(target, failing_for(original, session_of))


STAGES: dict[str, list[Callable[[pytest.MonkeyPatch], None]]] = {
    "plan": [_patch("syncsvc.core.planner.plan_one", plan_one, lambda s, *_, **__: s.id)],
    "render": [_patch("syncsvc.app.desired.entries_for", entries_for, lambda s, *_, **__: s.id)],
    "compose": [
        _patch(
            "syncsvc.app.notify.compose",
            compose,
            lambda n, *_, **__: BAD if BAD in n.session_ids else "",
        ),
        _patch(
            "syncsvc.app.notify.compose_invitation",
            compose_invitation,
            lambda c, *_, **__: c.session_id,
        ),
    ],
    "send": [
        _patch("syncsvc.app.outbox.envelope_of", envelope_of, lambda row: row.session_id or "")
    ],
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_one_failing_session_never_stops_the_others(
    stage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(ROOT / "config")
    assert not config.problems
    target = TargetSettings(
        name="memoire", kind="caldav", url="http://x/", calendar="c", audience="all"
    )
    settings = Settings(
        targets=(target,),
        mail=MailSettings(transport="maildir", maildir=tmp_path / "mail"),
    )
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    memory = MemoryTarget()
    first = Syncer(store).sync_all(settings, config, NOW, targets={"memoire": memory})
    assert first[0].ok
    before = {uid for uid in memory.items if uid.startswith(BAD)}
    assert before

    for patch in STAGES[stage]:
        patch(monkeypatch)
    later = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # statuses move: items are rewritten
    report = Syncer(store).sync_all(settings, config, later, targets={"memoire": memory})
    assert report[0].errors == []
    sessions = {item.entry.session_id for item in memory.items.values()}
    # and one annual programming per centre and year (issue 11), tied to no session
    centres = {"afpa-strasbourg", "afpar-st-andre", "greta-lyon-venissieux"}
    assert sessions == OTHERS | {BAD} | {f"centre:{c}:2027" for c in centres}
    assert before <= memory.items.keys()  # the failing session's items are kept as they were

    mailed = notify(settings, config, store, later)
    sent = {sid for r in store.messages() if r.status == "sent" for sid in spoken_of(r, config)}
    assert sent >= OTHERS, (stage, sent, mailed.failed)
    if stage == "render":  # calendars only: its mails are not concerned
        assert BAD in sent
    else:
        assert BAD not in sent
    if stage in ("plan", "compose"):
        assert BAD in mailed.failed
    if stage == "send":
        dead = {r.session_id for r in store.messages() if r.status == "dead"}
        assert dead == {BAD}
    store.close()


def test_a_session_failing_in_a_shared_mail_of_the_day_takes_only_its_own_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One mail of the day lists several sessions: the one that cannot be worded is left out
    (and named), the mail goes with the others."""
    config = load_config(ROOT / "config")
    settings = Settings(mail=MailSettings(transport="maildir", maildir=tmp_path / "mail"))
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    shared = "ccp-ac-2027-05-st-andre"  # with sa-2027-03-st-andre: same coordinator
    original = mail_views.session_text

    def session_text(session: Session, centre: Centre) -> str:
        if session.id == shared:
            raise Boom("injected")
        return original(session, centre)

    monkeypatch.setattr("syncsvc.formats.mail_views.session_text", session_text)
    tuesday = datetime(2027, 2, 2, 5, 0, tzinfo=UTC)  # 09:00 in La Réunion
    report = notify(settings, config, store, tuesday)
    assert shared in report.failed
    [row] = [
        r
        for r in store.messages()
        if r.kind == "reminder" and "n.techer@afpar.example" in r.recipient
    ]
    assert row.status == "sent"
    assert spoken_of(row, config) == {"sa-2027-03-st-andre"}
    store.close()
