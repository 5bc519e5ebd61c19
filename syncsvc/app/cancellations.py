"""Past cancellations, every face the same (see :mod:`syncsvc.core.cancellations`): the notify
pass and the dashboard note what the session files say; ``validate`` and the dashboard warn
about a session active again after a cancellation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from syncsvc.core.cancellations import CancellationRecord, lifted_warning, seen
from syncsvc.core.clock import Now, instant, local_today
from syncsvc.core.config import Config
from syncsvc.core.mailboxes import ConfigWarning
from syncsvc.inputs.settings import Settings

if TYPE_CHECKING:  # imported where used: plan and validate without a store load no SQLAlchemy
    from syncsvc.state.store import Store

History = Mapping[str, Sequence[CancellationRecord]]


def observe(store: Store, config: Config, now: Now) -> None:
    """Note, in the store, what each loaded session file says of its cancellation (a broken
    file changes nothing)."""
    store.observe_cancellations({s.id: seen(s) for s in config.sessions.values()}, instant(now))


def stored_history(settings: Settings) -> dict[str, list[CancellationRecord]]:
    """The store's cancellation records, read only; none without a store (or one not yet
    migrated to keep them)."""
    from syncsvc.app.marks import reading, store_exists
    from syncsvc.state.versions import CANCELLATIONS_FROM, RESTORES_FROM

    if not store_exists(settings.store.url):
        return {}
    with reading(settings.store.url) as store:
        version = store.version()
        if version < CANCELLATIONS_FROM:
            return {}
        return store.cancellation_history(attributed=version >= RESTORES_FROM)


def lifted_warnings(config: Config, history: History, now: Now) -> list[ConfigWarning]:
    """An avertissement per session to come that is active again after a cancellation."""
    out = []
    for session_id, records in sorted(history.items()):
        session = config.sessions.get(session_id)
        if session is None or session.centre not in config.centres:
            continue
        tz = config.centres[session.centre].tz
        file = str(config.session_files.get(session_id, session_id))
        found = lifted_warning(session, file, records, local_today(now, tz), tz)
        if found is not None:
            out.append(found)
    return out
