"""The store, against SQLite (a file) and PostgreSQL (a fresh schema per test: conftest.py).

PostgreSQL: ``SYNCSVC_TEST_POSTGRES_URL`` or the local server (trust auth). When it cannot be
reached the PostgreSQL cases are skipped, or fail when ``CI`` is set (CI has PostgreSQL).
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from syncsvc.core.reconcile import Recorded
from syncsvc.state.schema import SCHEMA_VERSION, pushed_items, schema_version
from syncsvc.state.store import Store, TargetState

T0 = datetime(2027, 1, 15, 8, 30, 12, 345678, tzinfo=UTC)
T1 = T0 + timedelta(hours=1, seconds=7)


def push(
    store: Store,
    target: str,
    uid: str,
    *,
    session_id: str = "sa-2027-03",
    milestone_id: str = "convocation",
    href: str | None = None,
    etag: str | None = '"e1"',
    content_hash: str = "a" * 64,
    sequence: int = 0,
    at: datetime = T0,
) -> None:
    store.record_push(
        target,
        uid,
        session_id=session_id,
        milestone_id=milestone_id,
        href=href if href is not None else f"/cal/{uid}.ics",
        etag=etag,
        content_hash=content_hash,
        sequence=sequence,
        at=at,
    )


def assert_utc(moment: datetime | None, expected: datetime) -> None:
    assert moment is not None
    assert moment.tzinfo is not None, "naive datetime"
    assert moment.utcoffset() == timedelta(0), f"{moment} is not in UTC"
    assert moment == expected


# --- schema ---------------------------------------------------------------------------------


def test_migrate_an_empty_database(fresh: Store) -> None:
    assert fresh.version() == 0
    assert fresh.migrate() == 0
    assert fresh.version() == SCHEMA_VERSION
    assert fresh.migrate() == SCHEMA_VERSION
    assert fresh.version() == SCHEMA_VERSION
    with fresh.begin() as db:
        assert db.execute(select(func.count()).select_from(schema_version)).scalar() == 1
        for table in ["pushed_items", "target_state", "item_errors", "feed_tokens", "done_marks"]:
            assert fresh.engine.dialect.has_table(db, table), table


def test_migrate_again_keeps_the_data(store: Store) -> None:
    push(store, "t", "u1")
    store.mark_done("s", "m", date(2027, 1, 2), "jean", None, T0)
    assert store.migrate() == SCHEMA_VERSION
    assert set(store.recorded("t")) == {"u1"}
    assert store.done_marks() == {"s": {"m": date(2027, 1, 2)}}


# --- pushed items ---------------------------------------------------------------------------


def test_record_push_inserts_then_updates(store: Store) -> None:
    assert store.recorded("t") == {}
    push(store, "t", "u1@syncsvc", etag=None)
    assert store.recorded("t") == {
        "u1@syncsvc": Recorded("u1@syncsvc", "sa-2027-03", "/cal/u1@syncsvc.ics", None, "a" * 64, 0)
    }
    push(
        store,
        "t",
        "u1@syncsvc",
        session_id="sa-2027-09",
        milestone_id="pv",
        href="/other/u1.ics",
        etag='W/"e2"',
        content_hash="b" * 64,
        sequence=3,
        at=T1,
    )
    assert store.recorded("t") == {
        "u1@syncsvc": Recorded("u1@syncsvc", "sa-2027-09", "/other/u1.ics", 'W/"e2"', "b" * 64, 3)
    }
    with store.begin() as db:
        rows = db.execute(select(pushed_items)).all()
    assert len(rows) == 1
    assert rows[0].milestone_id == "pv"
    pushed_at: datetime = rows[0].pushed_at
    if pushed_at.tzinfo is None:  # SQLite drops the offset; the store writes UTC
        pushed_at = pushed_at.replace(tzinfo=UTC)
    assert pushed_at == T1


def test_recorded_is_per_target(store: Store) -> None:
    push(store, "a", "u1", sequence=1)
    push(store, "b", "u1", sequence=2)
    push(store, "b", "u2")
    assert {uid: r.sequence for uid, r in store.recorded("a").items()} == {"u1": 1}
    assert {uid: r.sequence for uid, r in store.recorded("b").items()} == {"u1": 2, "u2": 0}
    assert store.recorded("c") == {}


def test_record_etag(store: Store) -> None:
    push(store, "t", "u1", etag=None)
    store.record_etag("t", "u1", '"e9"')
    assert store.recorded("t")["u1"].etag == '"e9"'
    store.record_etag("t", "unknown", '"e9"')  # no row created
    assert set(store.recorded("t")) == {"u1"}


def test_forget(store: Store) -> None:
    push(store, "t", "u1")
    push(store, "t", "u2")
    push(store, "other", "u1")
    store.record_item_error("t", "u1", "403", T0)
    store.forget("t", "u1")
    assert set(store.recorded("t")) == {"u2"}
    assert set(store.recorded("other")) == {"u1"}
    assert store.item_errors("t") == {}
    store.forget("t", "never-pushed")  # no error
    assert set(store.recorded("t")) == {"u2"}


def test_item_errors_replaced_then_cleared_by_a_push(store: Store) -> None:
    assert store.item_errors("t") == {}
    store.record_item_error("t", "u1", "412 Precondition Failed", T0)
    store.record_item_error("t", "u1", "403 Forbidden", T1)
    store.record_item_error("t", "u2", "500", T0)
    store.record_item_error("other", "u1", "timeout", T0)
    assert store.item_errors("t") == {"u1": "403 Forbidden", "u2": "500"}
    push(store, "t", "u1")
    assert store.item_errors("t") == {"u2": "500"}
    assert store.item_errors("other") == {"u1": "timeout"}


# --- target state ---------------------------------------------------------------------------


def test_target_state_default(store: Store) -> None:
    assert store.target_state("t") == TargetState("t", None, None, None, None, None)


def test_target_state_round_trip(store: Store) -> None:
    store.record_location("t", "https://dav.example/cal/syncsvc/")
    store.record_sync_token("t", "http://radicale.org/ns/sync/abc")
    state = store.target_state("t")
    assert (state.location, state.sync_token) == (
        "https://dav.example/cal/syncsvc/",
        "http://radicale.org/ns/sync/abc",
    )
    assert (state.last_success_at, state.last_error, state.last_error_at) == (None, None, None)

    store.record_failure("t", "serveur injoignable", T0)
    state = store.target_state("t")
    assert state.last_error == "serveur injoignable"
    assert_utc(state.last_error_at, T0)
    assert state.last_success_at is None
    assert state.location == "https://dav.example/cal/syncsvc/"

    store.record_success("t", T1)
    state = store.target_state("t")
    assert_utc(state.last_success_at, T1)
    assert (state.last_error, state.last_error_at) == (None, None)
    assert state.sync_token == "http://radicale.org/ns/sync/abc"

    store.record_failure("t", "403", T1 + timedelta(days=1))
    state = store.target_state("t")
    assert_utc(state.last_success_at, T1)  # a failure keeps the last success
    assert_utc(state.last_error_at, T1 + timedelta(days=1))

    store.record_location("t", None)
    store.record_sync_token("t", None)
    state = store.target_state("t")
    assert (state.location, state.sync_token) == (None, None)
    assert store.target_state("other") == TargetState("other", None, None, None, None, None)


def test_target_state_first_write_can_be_a_success(store: Store) -> None:
    store.record_success("new", T0)
    assert store.target_state("new") == TargetState("new", None, None, T0, None, None)


def test_datetimes_with_another_offset_keep_their_instant(store: Store) -> None:
    paris = datetime(2027, 1, 15, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    store.record_success("t", paris)
    store.record_failure("t", "x", paris)
    state = store.target_state("t")
    assert state.last_success_at == paris  # same instant: 08:00 UTC
    assert state.last_error_at == paris


# --- feed tokens ----------------------------------------------------------------------------


def test_feed_token_is_stable_and_unguessable(store: Store) -> None:
    token = store.feed_token("feed-jury", T0)
    assert len(token) >= 43
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert store.feed_token("feed-jury", T1) == token
    assert store.feed_for_token(token) == "feed-jury"
    other = store.feed_token("feed-centre", T0)
    assert other != token
    assert store.feed_for_token(other) == "feed-centre"


def test_rotate_feed_token(store: Store) -> None:
    old = store.feed_token("feed-jury", T0)
    other = store.feed_token("feed-centre", T0)
    new = store.rotate_feed_token("feed-jury", T1)
    assert new != old
    assert len(new) >= 43
    assert store.feed_token("feed-jury", T1) == new
    assert store.feed_for_token(old) is None
    assert store.feed_for_token(new) == "feed-jury"
    assert store.feed_for_token(other) == "feed-centre"


def test_rotate_creates_a_token_when_there_was_none(store: Store) -> None:
    token = store.rotate_feed_token("feed-jury", T0)
    assert store.feed_for_token(token) == "feed-jury"


def test_feed_tokens_in_one_go_keep_the_existing_and_make_the_missing(store: Store) -> None:
    """A page listing hundreds of people's feeds: the tokens already made are kept, the others
    made, all unguessable and distinct (more names than one ``IN`` chunk)."""
    kept = store.feed_token("person:kept", T0)
    names = ["person:kept", *(f"person:{n:04d}" for n in range(1200))]
    tokens = store.feed_tokens(names, T1)
    assert set(tokens) == set(names)
    assert tokens["person:kept"] == kept
    assert len(set(tokens.values())) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43,}", t) for t in tokens.values())
    assert store.feed_tokens(names, T1) == tokens  # stable
    assert store.feed_for_token(tokens["person:0042"]) == "person:0042"
    assert store.feed_token("person:0042", T1) == tokens["person:0042"]


@pytest.mark.parametrize("token", ["", "unknown", "x" * 43])
def test_unknown_token_resolves_to_nothing(store: Store, token: str) -> None:
    store.feed_token("feed-jury", T0)
    assert store.feed_for_token(token) is None


# --- done marks -----------------------------------------------------------------------------


def test_done_marks(store: Store) -> None:
    assert store.done_marks() == {}
    store.mark_done("sa-2027-03", "convocation", date(2027, 1, 10), "jean", "envoyé", T0)
    store.mark_done("sa-2027-03", "pv", date(2027, 3, 20), "nathalie", None, T0)
    store.mark_done("cda-2027-06", "convocation", date(2027, 5, 2), "jean", None, T0)
    store.mark_done("sa-2027-03", "convocation", date(2027, 1, 11), "nathalie", None, T1)
    assert store.done_marks() == {
        "sa-2027-03": {"convocation": date(2027, 1, 11), "pv": date(2027, 3, 20)},
        "cda-2027-06": {"convocation": date(2027, 5, 2)},
    }
    store.mark_undone("sa-2027-03", "convocation")
    store.mark_undone("sa-2027-03", "never-marked")
    store.mark_undone("cda-2027-06", "convocation")
    assert store.done_marks() == {"sa-2027-03": {"pv": date(2027, 3, 20)}}


# --- SQLite specifics -----------------------------------------------------------------------


def test_sqlite_is_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = Store(f"sqlite:///{path}")
    try:
        store.migrate()
        with store.begin() as db:
            assert db.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert db.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert db.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    finally:
        store.close()
    with sqlite3.connect(path) as raw:  # WAL is persistent: a plain connection sees it too
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_sqlite_reads_are_not_preceded_by_a_ping(tmp_path: Path) -> None:
    """A file has no server to lose: no « SELECT 1 » before each of the three store reads of a
    dashboard page (PostgreSQL keeps its ping, to replace a cut connection)."""
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        store.migrate()
        store.engine.dispose()
        seen: list[str] = []
        event.listen(
            store.engine, "connect", lambda raw, record: raw.set_trace_callback(seen.append)
        )
        store.done_marks()
        store.done_marks()
    finally:
        store.close()
    assert any("done_marks" in statement for statement in seen)
    assert [s for s in seen if s.strip().upper() == "SELECT 1"] == []


def test_sqlite_relative_path_is_under_base_and_folders_are_created(tmp_path: Path) -> None:
    store = Store("sqlite:///var/state/syncsvc.db", base=tmp_path)
    try:
        assert (tmp_path / "var" / "state").is_dir()
        assert store.url.database == str(tmp_path / "var" / "state" / "syncsvc.db")
        store.migrate()
        assert (tmp_path / "var" / "state" / "syncsvc.db").is_file()
        assert store.version() == SCHEMA_VERSION
    finally:
        store.close()


def test_sqlite_absolute_path_ignores_base(tmp_path: Path) -> None:
    path = tmp_path / "abs" / "deeper" / "state.db"
    store = Store(f"sqlite:///{path}", base=tmp_path / "elsewhere")
    try:
        store.migrate()
        assert path.is_file()
        assert not (tmp_path / "elsewhere").exists()
    finally:
        store.close()


def test_sqlite_outbox_writes_are_fully_synchronous(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        with store.begin() as db:
            assert db.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        with store.begin(durable=True) as db:
            assert db.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        store.close()


def test_a_feed_refresh_is_recorded_in_one_transaction_as_item_by_item(store: Store) -> None:
    """record_feed leaves the rows record_push and forget would, item by item (1,000 UIDs:
    more than one ``IN`` chunk), other targets untouched."""
    from syncsvc.state.items import FeedItem

    def rows(target: str) -> list[tuple[object, ...]]:
        with store.begin() as db:
            found = db.execute(
                select(pushed_items).where(pushed_items.c.target == target).order_by("uid")
            ).all()
        return [tuple(r)[1:] for r in found]

    old = [f"old{n:04d}@syncsvc" for n in range(700)]
    for target in ("one", "many"):
        for uid in old:
            push(store, target, uid, etag=None)
        store.record_item_error(target, old[0], "refusé", T0)
    push(store, "other", old[0], etag=None)
    store.record_item_error("other", old[0], "refusé", T0)
    items = [
        FeedItem(f"{kind}{n:04d}@syncsvc", "sa-2027-09", "pv", "feed", "c" * 64, 2, f"BEGIN:{n}")
        for kind, count in (("old", 400), ("new", 300))
        for n in range(count)
    ]
    forgotten = old[400:]
    for item in items:
        store.record_push(
            "one",
            item.uid,
            session_id=item.session_id,
            milestone_id=item.milestone_id,
            href=item.href,
            etag=None,
            content_hash=item.content_hash,
            sequence=item.sequence,
            at=T1,
            content=item.content,
        )
    for uid in forgotten:
        store.forget("one", uid)

    store.record_feed("many", forgotten, items, T1)

    assert len(rows("many")) == 700
    assert rows("many") == rows("one")
    assert store.item_errors("many") == store.item_errors("one") == {}
    assert len(rows("other")) == 1
    assert store.item_errors("other")
