"""The dashboard's state in the store: revocable web sessions and upgraded password hashes
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from syncsvc.state.schema import SCHEMA_VERSION, password_hashes, schema_version, web_sessions
from syncsvc.state.store import Store

T0 = datetime(2027, 1, 15, 8, 30, 12, tzinfo=UTC)
SID = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"


def test_a_web_session_is_opened_found_touched_and_closed(store: Store) -> None:
    assert store.find_web_session(SID) is None
    store.open_web_session(SID, "marie", T0)
    found = store.find_web_session(SID)
    assert found is not None
    assert (found.login, found.created_at, found.last_seen_at) == ("marie", T0, T0)
    store.touch_web_session(SID, T0 + timedelta(minutes=5))
    found = store.find_web_session(SID)
    assert found is not None
    assert found.last_seen_at == T0 + timedelta(minutes=5)
    assert found.created_at == T0
    assert store.close_web_session(SID)
    assert store.find_web_session(SID) is None
    assert not store.close_web_session(SID)


def test_the_session_id_itself_is_not_stored(store: Store) -> None:
    """A copy of the database gives no usable session id: only its SHA-256 is kept."""
    store.open_web_session(SID, "marie", T0)
    with store.begin() as db:
        (kept,) = db.execute(select(web_sessions.c.id_hash)).one()
    assert SID not in kept
    assert len(kept) == 64


def test_log_out_everywhere_and_purge(store: Store) -> None:
    store.open_web_session("a" * 43, "marie", T0)
    store.open_web_session("b" * 43, "marie", T0 + timedelta(hours=2))
    store.open_web_session("c" * 43, "jean", T0)
    assert store.web_session_count() == 3
    assert store.close_web_sessions("marie") == 2
    assert store.find_web_session("c" * 43) is not None
    store.open_web_session("d" * 43, "jean", T0 + timedelta(hours=3))
    assert store.purge_web_sessions(created_before=T0 + timedelta(hours=1)) == 1
    assert store.find_web_session("c" * 43) is None
    assert store.find_web_session("d" * 43) is not None


BEFORE_WEB = 4
"""The schema version before the web tables (step 5: web_sessions, step 6: password_hashes)."""


def test_a_database_of_version_4_gains_the_web_tables(store: Store) -> None:
    """The migration steps add the tables to an existing database and keep its data."""
    store.mark_done("s", "m", T0.date(), "jean", None, T0)
    with store.begin() as db:
        web_sessions.drop(db)
        password_hashes.drop(db)
        db.execute(schema_version.update().values(version=BEFORE_WEB))
    assert store.migrate() == BEFORE_WEB
    # 7-9: targets; 10: briefings; 11: the jury's replies; 12: audit; 13: session fingerprints;
    # 14: last good sessions; 15: the stamp's parts; 16: the day a jury reply answers;
    # 17: cancellations; 18: who restored a cancelled session and why; 19: the jury version's
    # indexes
    assert store.version() == SCHEMA_VERSION == BEFORE_WEB + 15
    store.open_web_session(SID, "marie", T0)
    assert store.find_web_session(SID) is not None
    store.save_upgraded_hash("marie", "scrypt$131072$8$1$c2Fs$aGFzaA==", "f" * 64, T0)
    assert store.upgraded_hash("marie") is not None
    assert store.done_marks() == {"s": {"m": T0.date()}}


def test_upgraded_password_hashes(store: Store) -> None:
    assert store.upgraded_hash("marie") is None
    store.save_upgraded_hash("marie", "scrypt$131072$8$1$c2Fs$aGFzaA==", "f" * 64, T0)
    first = store.upgraded_hash("marie")
    assert first is not None
    assert (first.password_hash, first.replaces, first.updated_at) == (
        "scrypt$131072$8$1$c2Fs$aGFzaA==",
        "f" * 64,
        T0,
    )
    store.save_upgraded_hash("marie", "scrypt$262144$8$1$c2Fs$aGFzaA==", "e" * 64, T0)
    second = store.upgraded_hash("marie")
    assert second is not None
    assert second.replaces == "e" * 64
    assert store.upgraded_hash("jean") is None
