"""The jury's replies ledger and the inbox position, on SQLite and PostgreSQL (conftest.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, event, inspect, text, update

from syncsvc.core.invitations import InvitationState
from syncsvc.core.jury import JuryReply, answers, day_answers, judge, session_of_uid
from syncsvc.state.schema import SCHEMA_VERSION, schema_version
from syncsvc.state.store import Store

T0 = datetime(2026, 12, 2, 9, 15, 12, tzinfo=UTC)
SESSION = "dwwm-2027-06-venissieux"
UID = f"{SESSION}.exam_session@syncsvc"
GIRARD = "t.girard@jury.example"


def reply(key: str, partstat: str | None = "ACCEPTED", **changes: object) -> JuryReply:
    base = JuryReply(
        key=key,
        source="imip",
        kind="reply",
        status="applied",
        session_id=SESSION,
        email=GIRARD,
        name="Thomas Girard",
        partstat=partstat,
        sequence=0,
        comment="Je serai présent les quatre jours",
        replied_at=T0,
        recorded_at=T0 + timedelta(minutes=1),
        message_id="<abc@outlook.example>",
        subject="Accepté: Jury — Développeur web et web mobile",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def state(sequence: int = 0, status: str = "invited") -> InvitationState:
    return InvitationState(SESSION, GIRARD, "Thomas Girard", sequence, "m", status)


def test_a_reply_is_recorded_once_per_key(store: Store) -> None:
    assert store.record_reply(reply("imip:aaa:0"))
    assert not store.record_reply(reply("imip:aaa:0", "DECLINED"))  # the same message again
    (kept,) = store.jury_replies()
    assert (kept.partstat, kept.status, kept.source, kept.sequence) == (
        "ACCEPTED",
        "applied",
        "imip",
        0,
    )
    assert kept.replied_at == T0
    assert kept.replied_at.tzinfo is not None
    assert kept.comment == "Je serai présent les quatre jours"
    assert kept.id is not None
    assert store.has_reply("imip:aaa:0")
    assert not store.has_reply("imip:bbb:0")


def test_replies_by_session_in_reply_order_and_unreadable_ones_kept(store: Store) -> None:
    store.record_reply(reply("imip:later:0", "DECLINED", replied_at=T0 + timedelta(hours=2)))
    store.record_reply(reply("imip:earlier:0", replied_at=T0))
    store.record_reply(
        reply(
            "imip:broken:0",
            kind="unreadable",
            status="unreadable",
            session_id=None,
            email="e.lefevre@jury.example",
            partstat=None,
            sequence=None,
            excerpt="pièce jointe Outlook TNEF (winmail.dat) : à lire dans Outlook",
        )
    )
    assert [r.key for r in store.jury_replies(SESSION)] == ["imip:earlier:0", "imip:later:0"]
    everything = store.jury_replies()
    assert len(everything) == 3
    unreadable = next(r for r in everything if r.status == "unreadable")
    assert unreadable.excerpt is not None
    assert unreadable.excerpt.startswith("pièce jointe Outlook TNEF")


def test_a_text_reply_is_handled_once(store: Store) -> None:
    store.record_reply(reply("imip:text:0", kind="text", status="pending", partstat=None))
    pending = store.jury_replies()[0]
    assert pending.id is not None
    assert store.mark_reply_handled(pending.id, "Rachid Amrani")
    assert not store.mark_reply_handled(pending.id, "quelqu'un d'autre")
    handled = store.reply_by_id(pending.id)
    assert handled is not None
    assert (handled.status, handled.by) == ("handled", "Rachid Amrani")


def test_long_texts_are_bounded(store: Store) -> None:
    store.record_reply(reply("imip:long:0", comment="x" * 10_000, subject="s" * 2000))
    kept = store.jury_replies()[0]
    assert kept.comment is not None
    assert len(kept.comment) == 4000
    assert kept.subject is not None
    assert len(kept.subject) == 500


def test_the_inbox_position_per_folder(store: Store) -> None:
    assert store.inbox_position("INBOX") is None
    store.set_inbox_position("INBOX", 1700000000, 41, T0)
    store.set_inbox_position("INBOX", 1700000000, 2042, T0)
    store.set_inbox_position("Réponses", 7, 3, T0)
    assert store.inbox_position("INBOX") == (1700000000, 2042)
    assert store.inbox_position("Réponses") == (7, 3)


def test_invitations_sent_read_from_the_outbox(store: Store) -> None:
    for sequence in (0, 1):
        store.enqueue(
            key=f"invitation:{SESSION}:{GIRARD}:REQUEST:{sequence}",
            kind="invitation",
            recipient=GIRARD,
            subject="Invitation",
            message_id=f"<i{sequence}@x>",
            message=b"m",
            now=T0 + timedelta(days=sequence),
        )
    store.enqueue(
        key=f"invitation:{SESSION}:{GIRARD}:CANCEL:2",
        kind="invitation",
        recipient=GIRARD,
        subject="Annulation",
        message_id="<c@x>",
        message=b"m",
        now=T0,
    )
    sent = store.invitations_sent()
    assert set(sent) == {(SESSION, GIRARD, 0), (SESSION, GIRARD, 1)}
    assert sent[(SESSION, GIRARD, 1)].queued_at == T0 + timedelta(days=1)
    assert sent[(SESSION, GIRARD, 1)].sent_at is None


def test_an_old_store_gains_the_ledger(tmp_path: Path) -> None:
    dump = Path(__file__).parent / "data" / "store-release-1.sql"
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.executescript(dump.read_text(encoding="utf-8"))
    store = Store(f"sqlite:///{path}")
    store.migrate()
    assert store.version() == SCHEMA_VERSION
    assert store.record_reply(reply("imip:after-upgrade:0"))
    store.close()


def test_a_reply_to_one_day_keeps_its_day(store: Store) -> None:
    tuesday = date(2027, 6, 8)
    store.record_reply(reply("imip:all:0"))
    store.record_reply(reply("imip:day:0", "DECLINED", day=tuesday, replied_at=T0 + HOUR))
    by_key = {r.key: r for r in store.jury_replies()}
    assert (by_key["imip:all:0"].day, by_key["imip:day:0"].day) == (None, tuesday)
    states = {(SESSION, GIRARD): state()}
    assert answers(store.jury_replies(), states)[(SESSION, GIRARD)].partstat == "ACCEPTED"
    found = day_answers(store.jury_replies(), states)
    assert {d: r.partstat for d, r in found[(SESSION, GIRARD)].items()} == {tuesday: "DECLINED"}


def test_a_store_of_the_previous_release_gains_the_day_column(store: Store) -> None:
    with store.begin() as db:  # the schema as release 15 left it: no day column (step 16)
        db.execute(text("ALTER TABLE jury_replies DROP COLUMN day"))
        db.execute(text("DROP TABLE cancellations"))  # step 17
        db.execute(update(schema_version).values(version=15))
        assert "day" not in {c["name"] for c in inspect(db).get_columns("jury_replies")}
    assert store.migrate() == 15
    assert store.version() == SCHEMA_VERSION
    assert store.record_reply(reply("imip:after:0", day=date(2027, 6, 9)))
    assert store.jury_replies()[0].day == date(2027, 6, 9)


HOUR = timedelta(hours=1)


# --- what a reply is worth (pure) -----------------------------------------------------------


def test_judge_by_uid_attendee_and_sequence() -> None:
    states = {(SESSION, GIRARD): state(sequence=2)}
    assert judge(UID, GIRARD, 2, states) == (SESSION, "applied")
    assert judge(UID, "T.Girard@Jury.Example", 2, states) == (SESSION, "applied")
    assert judge(UID, GIRARD, 1, states) == (SESSION, "outdated")
    assert judge(UID, GIRARD, 3, states) == (SESSION, "unmatched")
    assert judge(UID, "x@y.example", 2, states) == (SESSION, "unmatched")
    assert judge("someone-else@google.com", GIRARD, 2, states) == (None, "unmatched")
    cancelled = {(SESSION, GIRARD): state(sequence=2, status="cancelled")}
    assert judge(UID, GIRARD, 2, cancelled) == (SESSION, "unmatched")
    assert session_of_uid(".exam_session@syncsvc") is None


def test_the_answer_is_the_latest_for_the_current_sequence() -> None:
    accepted = reply("a", replied_at=T0)
    declined = reply("b", "DECLINED", replied_at=T0 + timedelta(hours=1), source="link")
    outdated = reply("c", "TENTATIVE", replied_at=T0 + timedelta(hours=2), status="outdated")
    counter = reply("d", "TENTATIVE", replied_at=T0 + timedelta(hours=3), kind="counter")
    found = answers([declined, counter, outdated, accepted], {(SESSION, GIRARD): state()})
    assert found[(SESSION, GIRARD)].key == "b"
    # the invitation re-sent (SEQUENCE 1): the earlier answers no longer count
    assert answers([accepted, declined], {(SESSION, GIRARD): state(sequence=1)}) == {}
    assert answers([accepted], {}) == {}


# --- one manual entry, one transaction -----------------------------------------------------------


def test_several_replies_are_recorded_together(store: Store) -> None:
    entry = [
        reply("manual:a", "ACCEPTED", source="manual"),
        reply("manual:b", "DECLINED", source="manual", day=date(2027, 6, 17)),
    ]
    assert store.record_replies(entry) == 2
    assert store.record_replies(entry) == 0  # the same keys again: nothing twice
    assert [(r.key, r.partstat, r.day) for r in store.jury_replies()] == [
        ("manual:a", "ACCEPTED", None),
        ("manual:b", "DECLINED", date(2027, 6, 17)),
    ]


def test_a_failure_after_the_first_reply_records_none_of_them(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies (here: the second write raises) after the first day's answer was
    written: the whole entry is rolled back, on SQLite and PostgreSQL."""
    write = store._insert_reply
    calls: list[str] = []

    def second_write_fails(db: Connection, one: JuryReply) -> bool:
        calls.append(one.key)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return write(db, one)

    monkeypatch.setattr(store, "_insert_reply", second_write_fails)
    entry = [
        reply("manual:a", "ACCEPTED", source="manual"),
        reply("manual:b", "DECLINED", source="manual", day=date(2027, 6, 17)),
    ]
    with pytest.raises(OSError, match="No space left"):
        store.record_replies(entry)
    assert calls == ["manual:a", "manual:b"]  # the first was written, then rolled back
    assert store.jury_replies() == []
    monkeypatch.undo()
    assert store.record_reply(reply("imip:aaa:0"))  # the single path is unchanged
    assert [r.key for r in store.jury_replies()] == ["imip:aaa:0"]


# --- the jury's version, read at every dashboard page ----------------------------------------


def test_the_jury_version_reads_indexes_not_the_wide_rows(tmp_path: Path) -> None:
    """Every dashboard request reads it: scanning 2,000 invitations with their events and
    briefings cost 2 ms of CPU per page at 1,000 sessions; indexes answer in microseconds."""
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    store.jury_version()
    read = list(statements)
    assert read
    with store.begin() as db:
        plans = [
            row[-1]
            for statement in read
            for row in db.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")
        ]
    store.close()
    tables = [plan for plan in plans if plan.startswith("SCAN") and plan != "SCAN CONSTANT ROW"]
    assert tables, plans
    assert all("COVERING INDEX" in plan for plan in tables), plans


def test_a_store_of_the_previous_release_gains_the_jury_version_indexes(store: Store) -> None:
    with store.begin() as db:  # the schema as release 18 left it: no such index (step 19)
        db.execute(text("DROP INDEX ix_invitations_updated_at"))
        db.execute(text("DROP INDEX ix_jury_replies_by"))
        db.execute(update(schema_version).values(version=18))
    assert store.migrate() == 18
    with store.begin() as db:
        found = {
            table: {tuple(i["column_names"]) for i in inspect(db).get_indexes(table)}
            for table in ("invitations", "jury_replies")
        }
    assert ("updated_at",) in found["invitations"]
    assert ("by",) in found["jury_replies"]
    before = store.jury_version()
    store.record_reply(reply("imip:after:0"))
    assert store.jury_version() != before
