"""A store written by the previous release opens in this one with nothing lost.

``data/store-release-1.sql`` is a SQLite dump made by the previous release's own code (the
schema of version 3, before the instance lease): a pushed item with its ETag and SEQUENCE, a
target's location and change token, a feed token, a done mark, an outbox with one message sent
and one pending, the jury's invitation ledger and the known session files.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

from syncsvc.state.schema import SCHEMA_VERSION
from syncsvc.state.store import Store

DUMP = Path(__file__).parent / "data" / "store-release-1.sql"
T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def old_store(tmp_path: Path) -> Store:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.executescript(DUMP.read_text(encoding="utf-8"))
    return Store(f"sqlite:///{path}")


def test_a_store_of_the_previous_release_migrates_and_keeps_everything(tmp_path: Path) -> None:
    store = old_store(tmp_path)
    assert store.version() == 3
    assert store.migrate() == 3
    assert store.version() == SCHEMA_VERSION
    # done marks
    assert store.done_marks() == {
        "sa-2027-03-st-andre": {"ceres_session_create": date(2026, 11, 20)}
    }
    # pushed items and the target's bookkeeping
    recorded = store.recorded("coordination")
    item = recorded["sa-2027-03-st-andre.dte_order@syncsvc"]
    assert (item.etag, item.sequence) == ('"e1"', 2)
    state = store.target_state("coordination")
    assert state.location == "http://radicale/coordination/examens/"
    assert state.sync_token == "tok-1"
    assert state.last_success_at == T
    # feed tokens
    assert store.feed_for_token(store.feed_token("flux-jury-maillot", T)) == "flux-jury-maillot"
    assert store.feed_token("flux-jury-maillot", T) == "JN-r96STRhVOcBye5qlTYl-8rluTdreXXC9pdwsyBYo"
    # the outbox: the sent message stays sent, the pending one is still due, keys still block
    rows = {r.key: r for r in store.messages()}
    assert rows["reminder:sa:dte:J-7:n@x"].status == "sent"
    assert rows["invitation:sa:c.maillot@jury.example:REQUEST:0"].status == "pending"
    assert store.has_key("reminder:sa:dte:J-7:n@x")
    assert [r.key for r in store.due_messages(T)] == [
        "invitation:sa:c.maillot@jury.example:REQUEST:0"
    ]
    # the jury's sequence ledger
    ledger = store.invitation_states()[("sa-2027-03-st-andre", "c.maillot@jury.example")]
    assert (ledger.sequence, ledger.status) == (0, "invited")
    assert ledger.event.startswith("BEGIN:VEVENT")
    assert ledger.briefing == "", "sent before briefings were kept: an update says « modifiée »"
    # known files
    assert store.file_ids(["/cfg/sessions/sa-2027-03-st-andre.yaml"]) == {"sa-2027-03-st-andre"}
    store.close()


def test_the_new_parts_work_on_an_upgraded_store(tmp_path: Path) -> None:
    from syncsvc.app.fence import Fence

    store = old_store(tmp_path)
    store.migrate()
    fence = Fence.take(store, 30)
    assert fence is not None
    pending = store.due_messages(T)[0]
    assert fence.claim(pending.id)
    store.mark_sent(pending.id, "250 OK", T)
    fence.give_back()
    store.record_held("coordination", "f", "raison", T)
    assert store.target_state("coordination").held_fingerprint == "f"
    store.close()
