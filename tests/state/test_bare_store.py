"""The bare store (SQLite through the standard library, for a sync with nothing to do) and the
full store side by side on one database: the same lease, the same reads, a fenced write.

SQLite only: the bare store declines any other database (the full path is taken then).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from syncsvc.app.fence import Fence
from syncsvc.state.bare import BareStore, sqlite_path
from syncsvc.state.store import Store

T0 = datetime(2027, 1, 15, 8, 30, 12, 345678, tzinfo=UTC)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Store, BareStore]:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    bare = BareStore.open(f"sqlite:///{tmp_path / 's.db'}")
    assert bare is not None
    return store, bare


def test_only_an_existing_sqlite_file_is_opened(tmp_path: Path) -> None:
    assert BareStore.open(f"sqlite:///{tmp_path / 'none.db'}") is None  # not made yet
    assert BareStore.open("postgresql+psycopg://u@127.0.0.1/db") is None
    assert BareStore.open("sqlite://") is None
    assert BareStore.open("sqlite:///:memory:") is None
    assert sqlite_path("sqlite:///var/s.db") == Path("var/s.db")  # relative, as Store opens it
    assert sqlite_path("sqlite:////srv/s.db") == Path("/srv/s.db")
    assert sqlite_path("sqlite:///s.db?timeout=3") is None


def test_one_lease_for_both(pair: tuple[Store, BareStore]) -> None:
    store, bare = pair
    epoch = store.take_lease("daemon", 60)
    assert epoch is not None
    assert bare.take_lease("cli", 60) is None  # the daemon has it
    assert not bare.lease_valid("cli", epoch)
    assert bare.lease_valid("daemon", epoch)
    store.give_back_lease("daemon", epoch)
    taken = bare.take_lease("cli", 60)
    assert taken == epoch + 1
    assert store.take_lease("daemon", 60) is None
    assert store.lease_valid("cli", taken)
    assert bare.renew_lease("cli", taken, 60)
    assert not bare.renew_lease("cli", epoch, 60)  # an old epoch is not ours
    bare.give_back_lease("cli", taken)
    assert store.take_lease("daemon", 60) == taken + 1
    assert bare.take_lease("cli", 60, force=True) == taken + 2  # its holder proved dead


def test_an_expired_lease_is_taken_in_the_database_clock(pair: tuple[Store, BareStore]) -> None:
    store, bare = pair
    epoch = store.take_lease("daemon", -1)  # already expired
    assert epoch is not None
    assert bare.take_lease("cli", 60) == epoch + 1


def test_a_fence_over_the_bare_store_fences(tmp_path: Path, pair: tuple[Store, BareStore]) -> None:
    store, bare = pair
    fence = Fence.take(bare, 60)
    assert fence is not None
    assert Fence.take(store, 60) is None  # the lock file and the lease are held
    fence.check()
    fence.give_back()
    other = Fence.take(store, 60)
    assert other is not None
    assert Fence.take(bare, 60) is None
    other.give_back()


def test_the_same_reads(pair: tuple[Store, BareStore]) -> None:
    store, bare = pair
    assert bare.marks_stamp() == store.marks_stamp() == (0, None)
    store.mark_done("s", "m", date(2027, 1, 14), "jean", None, T0)
    assert bare.marks_stamp() == store.marks_stamp()
    assert bare.target_state("t") is None
    store.record_address("t", "https://dav.example/cal/", moved=False)
    store.record_location("t", "https://dav.example/cal/x/")
    store.record_sync_token("t", "tok-1")
    store.record_stamp("t", "stamp", ("Europe/Paris", "Indian/Reunion"))
    store.record_push(
        "t", "u@x", session_id="s", milestone_id="m", href="/cal/x/u%40x.ics", etag='"e"',
        content_hash="h" * 64, sequence=2, at=T0,
    )  # fmt: skip
    state, full = bare.target_state("t"), store.target_state("t")
    assert state is not None
    assert (state.address, state.location, state.sync_token) == (
        full.address,
        full.location,
        full.sync_token,
    )
    assert (state.inputs_stamp, state.stamp_zones) == (full.inputs_stamp, full.stamp_zones)
    assert bare.recorded("t") == store.recorded("t")


def test_the_write_is_fenced(pair: tuple[Store, BareStore]) -> None:
    store, bare = pair
    store.record_failure("t", "erreur", T0)
    store.record_sync_token("t", "old")
    epoch = bare.take_lease("cli", 60)
    assert epoch is not None
    later = T0 + timedelta(minutes=5)
    assert not bare.record_unchanged("t", "new", later, "cli", epoch + 1)  # not our epoch
    assert store.target_state("t").sync_token == "old"
    assert bare.record_unchanged("t", "new", later, "cli", epoch)
    state = store.target_state("t")
    assert state.sync_token == "new"
    assert state.last_success_at == later  # read back by the full store, to the microsecond
    assert state.last_error is None
    bare.give_back_lease("cli", epoch)
    assert not bare.record_unchanged("t", "newer", later, "cli", epoch)  # given back
    assert store.target_state("t").sync_token == "new"


def test_a_file_name_with_uri_characters(tmp_path: Path) -> None:
    folder = tmp_path / "état 1 #"
    folder.mkdir()
    store = Store(f"sqlite:///{folder / 's.db'}")
    store.migrate()
    store.record_sync_token("t", "tok")
    bare = BareStore.open(f"sqlite:///{folder / 's.db'}")
    assert bare is not None
    state = bare.target_state("t")
    assert state is not None
    assert state.sync_token == "tok"
    bare.close()
    store.close()


def test_the_writes_of_a_pass_are_the_full_store_s(pair: tuple[Store, BareStore]) -> None:
    """What a pass over the changed sessions writes through the bare store reads back
    through the full one as the full store's own writes."""
    store, bare = pair
    store.record_address("t", "https://dav.example/cal/", moved=False)
    store.mark_done("s", "m", date(2027, 1, 14), "jean", None, T0)
    assert bare.done_marks(["s", "other"]) == {"s": {"m": date(2027, 1, 14)}}
    assert bare.done_marks([]) == {}
    for writer in (store, bare):
        writer.record_push(
            "t", f"u-{type(writer).__name__}", session_id="s", milestone_id="m",
            href="/cal/u.ics", etag='"e"', content_hash="h" * 64, sequence=2, at=T0, epoch=3,
        )  # fmt: skip
        writer.record_item_error("t", "x", "HTTP 500", T0)
    assert bare.recorded("t") == store.recorded("t")
    [one, other] = store.recorded("t").values()
    assert (one.etag, one.sequence) == (other.etag, other.sequence) == ('"e"', 2)
    bare.record_push(
        "t", "x", session_id="s", milestone_id="m", href="/cal/x.ics", etag=None,
        content_hash="h" * 64, sequence=0, at=T0,
    )  # fmt: skip
    assert store.item_errors("t") == {}  # a write that succeeds clears its error
    bare.record_etag("t", "x", '"f"')
    assert store.recorded("t")["x"].etag == '"f"'
    bare.forget("t", "x")
    assert "x" not in store.recorded("t")
    store.record_session_fingerprints("t", {"s": "a", "r": "b"})
    bare.record_session_fingerprints("t", {"s": "c", "r": None})
    assert store.session_fingerprints("t") == bare.session_fingerprints("t") == {"s": "c"}
    epoch = bare.take_lease("cli", 60)
    assert epoch is not None
    later = T0 + timedelta(minutes=1)
    zones = ("Indian/Reunion",)
    assert not bare.record_pass(
        "t", "cli", epoch + 1, token="k", at=later, stamp="st", zones=zones, parts="{}"
    )  # not our epoch: nothing written
    assert store.target_state("t").inputs_stamp is None
    assert bare.record_pass(
        "t", "cli", epoch, token="k", at=later, stamp="st", zones=zones, parts="{}"
    )
    state = store.target_state("t")
    assert (state.sync_token, state.last_success_at, state.inputs_stamp) == ("k", later, "st")
    assert (state.stamp_zones, state.stamp_parts) == (zones, "{}")
    bare.record_failure("t", "erreur", later)
    state = store.target_state("t")
    assert (state.last_error, state.last_error_at, state.inputs_stamp) == ("erreur", later, None)


def test_the_reads_of_plan_and_validate(pair: tuple[Store, BareStore]) -> None:
    """`plan` and `validate` read the marks and the cancellations through the bare store on
    SQLite (no SQLAlchemy): the same values as the full store's, times with their zone."""
    store, bare = pair
    assert bare.version() == store.version()
    assert bare.done_marks() == store.done_marks() == {}
    store.mark_done("s", "m", date(2027, 1, 14), "jean", None, T0)
    store.mark_done("r", "m", date(2027, 1, 12), "jean", "note", T0)
    assert bare.done_marks() == store.done_marks()
    assert bare.done_marks(["s"]) == {"s": {"m": date(2027, 1, 14)}}
    assert bare.done_mark_details() == store.done_mark_details()  # who and when: the export
    assert bare.done_mark_details()[("r", "m")].note == "note"
    store.observe_cancellations({"a": (date(2027, 1, 11), "Jury incomplet"), "b": None}, T0)
    store.observe_cancellations({"a": None}, T0 + timedelta(days=2))
    store.observe_cancellations({"a": (None, None)}, T0 + timedelta(days=3))
    store.observe_cancellations({"c": (None, "Salle")}, T0)
    store.record_restore(
        "c", (None, "Salle"), "Nathalie Técher", "Candidats trouvés",
        since=T0 + timedelta(days=4), now=T0 + timedelta(days=4, hours=1),
    )  # fmt: skip
    history = bare.cancellation_history()
    assert history == store.cancellation_history()
    assert history["c"][0].restored_by == "Nathalie Técher"
    assert history["a"][0].seen_at == T0
    assert history["a"][0].seen_at.tzinfo is not None
    unattributed = bare.cancellation_history(attributed=False)
    assert unattributed == store.cancellation_history(attributed=False)
    assert unattributed["c"][0].restored_by is None


def test_a_database_without_a_schema_has_version_zero(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    bare = BareStore.open(f"sqlite:///{tmp_path / 'empty.db'}")
    assert bare is not None
    assert bare.version() == 0
