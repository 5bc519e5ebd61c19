"""Each session's past cancellations in the store (SQLite and PostgreSQL): opened when first
seen, closed when the file no longer says it, never deleted."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text

from syncsvc.state.schema import CANCELLATIONS_FROM
from syncsvc.state.store import Store

SEEN = datetime(2027, 1, 11, 6, 0, tzinfo=UTC)
BACK = datetime(2027, 1, 14, 9, 30, tzinfo=UTC)
AGAIN = datetime(2027, 2, 1, 7, 0, tzinfo=UTC)


def test_a_cancellation_seen_then_lifted_then_again_is_kept_in_order(store: Store) -> None:
    cancelled = (date(2027, 1, 11), "Nombre de candidats insuffisant")
    assert store.observe_cancellations({"a": cancelled, "b": None}, SEEN) == 1
    assert store.observe_cancellations({"a": cancelled, "b": None}, SEEN) == 0  # nothing new
    assert store.observe_cancellations({"a": None}, BACK) == 1
    assert store.observe_cancellations({"a": None}, AGAIN) == 0  # closed once
    assert store.observe_cancellations({"a": (None, None)}, AGAIN) == 1  # cancelled: true
    history = store.cancellation_history()
    assert list(history) == ["a"]
    first, second = history["a"]
    assert (first.seen_at, first.on, first.reason) == (SEEN, *cancelled)
    assert first.restored_at == BACK
    assert (second.seen_at, second.on, second.reason, second.restored_at) == (
        AGAIN,
        None,
        None,
        None,
    )
    assert store.cancellation_history(["b"]) == {}


def test_a_reason_changed_while_cancelled_is_updated_not_a_new_record(store: Store) -> None:
    store.observe_cancellations({"a": (date(2027, 1, 11), "Jury")}, SEEN)
    store.observe_cancellations({"a": (date(2027, 1, 11), "Jury incomplet")}, BACK)
    (record,) = store.cancellation_history()["a"]
    assert (record.reason, record.seen_at, record.restored_at) == ("Jury incomplet", SEEN, None)


def test_the_cancellations_table_is_the_last_migration_step(store: Store) -> None:
    assert store.version() >= CANCELLATIONS_FROM
    with store.begin() as db:
        assert db.execute(text("SELECT count(*) FROM cancellations")).scalar() == 0
