"""Each session's past cancellations in the store (SQLite and PostgreSQL): opened when first
seen, closed when the file no longer says it, never deleted."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import inspect, text, update

from syncsvc.state.schema import SCHEMA_VERSION, schema_version
from syncsvc.state.store import Store
from syncsvc.state.versions import CANCELLATIONS_FROM, RESTORES_FROM

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


BY, WHY = "Nathalie Técher", "Candidats trouvés"
CANCELLED = (date(2027, 1, 11), "Nombre de candidats insuffisant")


def test_a_restore_from_the_dashboard_closes_the_open_record_with_who_and_why(
    store: Store,
) -> None:
    store.observe_cancellations({"a": CANCELLED}, SEEN)
    store.record_restore("a", CANCELLED, BY, WHY, since=BACK, now=BACK)
    (record,) = store.cancellation_history()["a"]
    assert (record.seen_at, record.restored_at) == (SEEN, BACK)
    assert (record.restored_by, record.restored_note) == (BY, WHY)
    assert store.observe_cancellations({"a": None}, AGAIN) == 0  # already closed


def test_a_restore_the_pass_saw_first_is_still_the_dashboards(store: Store) -> None:
    """The daemon's pass may read the file between the dashboard's write and its record: the
    record it closed (after the restore began) is the dashboard's."""
    store.observe_cancellations({"a": CANCELLED}, SEEN)
    store.observe_cancellations({"a": None}, BACK)
    store.record_restore("a", CANCELLED, BY, WHY, since=BACK, now=BACK)
    (record,) = store.cancellation_history()["a"]
    assert (record.restored_at, record.restored_by, record.restored_note) == (BACK, BY, WHY)


def test_a_hand_restore_before_a_new_cancellation_keeps_its_own_record(store: Store) -> None:
    """Lifted by hand (seen), cancelled again (not yet seen), then restored from the dashboard:
    the hand restore stays the hand's; the dashboard's opens and closes a record of its own."""
    store.observe_cancellations({"a": CANCELLED}, SEEN)
    store.observe_cancellations({"a": None}, BACK)
    store.record_restore("a", (None, None), BY, WHY, since=AGAIN, now=AGAIN)
    first, second = store.cancellation_history()["a"]
    assert (first.restored_at, first.restored_by, first.restored_note) == (BACK, None, None)
    assert (second.seen_at, second.on, second.reason) == (AGAIN, None, None)
    assert (second.restored_at, second.restored_by, second.restored_note) == (AGAIN, BY, WHY)


def test_a_restore_of_a_cancellation_never_seen_leaves_a_record(store: Store) -> None:
    store.record_restore("a", CANCELLED, BY, WHY, since=BACK, now=BACK)
    (record,) = store.cancellation_history()["a"]
    assert (record.seen_at, record.on, record.reason) == (BACK, *CANCELLED)
    assert (record.restored_at, record.restored_by, record.restored_note) == (BACK, BY, WHY)


def test_a_store_of_the_previous_release_gains_who_restored_and_why(store: Store) -> None:
    store.observe_cancellations({"a": CANCELLED}, SEEN)
    with store.begin() as db:  # the schema as step 17 left it: no restored_by, restored_note
        db.execute(text("ALTER TABLE cancellations DROP COLUMN restored_by"))
        db.execute(text("ALTER TABLE cancellations DROP COLUMN restored_note"))
        db.execute(update(schema_version).values(version=RESTORES_FROM - 1))
    # read only (``validate`` does not migrate): the records without who nor why
    (old,) = store.cancellation_history(attributed=False)["a"]
    assert (old.seen_at, old.restored_by, old.restored_note) == (SEEN, None, None)
    assert store.migrate() == RESTORES_FROM - 1
    assert store.version() == SCHEMA_VERSION
    with store.begin() as db:
        columns = {c["name"] for c in inspect(db).get_columns("cancellations")}
    assert {"restored_by", "restored_note"} <= columns
    store.record_restore("a", CANCELLED, BY, WHY, since=BACK, now=BACK)
    (record,) = store.cancellation_history()["a"]
    assert (record.seen_at, record.restored_by, record.restored_note) == (SEEN, BY, WHY)
