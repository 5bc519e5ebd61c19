"""Restoring a cancelled session (« Rétablir la session », ``syncsvc reinstate``): one use case for
every face.

The file loses ``cancelled:`` and nothing else (comments, order, quotes kept: the writer merges
the values back into the file's own tree), checked by the loader, version-checked and audited as
``restore`` with the reason as its note; the store's trace of the cancellation then closes with
who restored it and why (:meth:`syncsvc.state.cancellations.Cancellations.record_restore`), so
no ``cancellation_lifted`` warning follows. What comes back is the edit preview's own reckoning
(:func:`syncsvc.app.preview.stored_preview`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from syncsvc.app.preview import Preview, masked, proposed_text, stored_preview
from syncsvc.core.cancellations import seen
from syncsvc.core.config import Config
from syncsvc.core.model import Session
from syncsvc.errors import UsageError
from syncsvc.inputs.settings import Settings
from syncsvc.inputs.writer import plain, read_draft

if TYPE_CHECKING:
    from syncsvc.app.authoring import Authoring
    from syncsvc.state.store import Store

MAX_REASON: Final = 300
"""The longest reason kept (the dashboard's field holds as many characters)."""
REASON_MISSING: Final = "motif obligatoire (attendu : un texte court)"


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A cancelled session as its file is now."""

    session: Session
    path: Path
    values: dict[str, Any]
    """The file's plain values."""
    version: str
    """The file's version (:func:`syncsvc.inputs.writer.version_of`) they were read at."""

    @property
    def restored(self) -> dict[str, Any]:
        """The file's values without ``cancelled:`` (the rest as it is)."""
        return {key: value for key, value in self.values.items() if key != "cancelled"}

    def proposed(self) -> str:
        """The file as it will be written, the candidates' names masked."""
        return masked(proposed_text(self.path, self.restored))


def reason_of(text: str | None) -> str:
    """A reason as it is kept: its words, single-spaced, at most :data:`MAX_REASON` long."""
    return " ".join((text or "").split())[:MAX_REASON]


def read_cancelled(config: Config, session: Session) -> Cancelled:
    """``session``'s file, read now (``session`` is cancelled: the caller checked it)."""
    path = config.session_files[session.id]
    draft = read_draft(path)
    return Cancelled(session, path, plain(draft.tree), draft.version)


def find_cancelled(config: Config, session_id: str) -> Cancelled:
    """The cancelled session ``session_id``, else a UsageError naming it and saying why."""
    session = config.sessions.get(session_id)
    if session is None and session_id in config.broken_session_ids:
        first = next((p for p in config.problems if Path(p.file).stem == session_id), None)
        said = f" ({first})" if first is not None else ""
        raise UsageError(
            f"session « {session_id} » : son fichier est en erreur{said} ; rien n'est rétabli "
            "(attendu : le fichier corrigé d'abord ; syncsvc validate liste ses erreurs)"
        )
    if session is None:
        raise UsageError(
            f"session « {session_id} » inconnue : aucun fichier sessions/{session_id}.yaml "
            "(attendu : l'identifiant d'une session annulée ; syncsvc plan les liste)"
        )
    if session.cancelled is None:
        raise UsageError(
            f"session « {session_id} » non annulée : il n'y a rien à rétablir (attendu : une "
            "session dont le fichier porte « cancelled: »)"
        )
    return read_cancelled(config, session)


def restore_preview(
    config: Config, settings: Settings, store: Store, found: Cancelled, now: datetime
) -> Preview:
    """What the restore brings back: milestones, calendar items, the jury's messages, new
    findings (the edit preview's reckoning, the store's marks and invitation states)."""
    return stored_preview(config, settings, store, found.session, found.values, found.restored, now)


def restore(
    authoring: Authoring,
    store: Store,
    found: Cancelled,
    *,
    user: str,
    name: str,
    reason: str,
    now: datetime,
) -> None:
    """Write ``found``'s file without ``cancelled:`` (refused, WriteConflict, if it changed
    since it was read), audited as ``restore`` by ``user`` with ``reason``; then close the
    trace of the cancellation with ``name`` and ``reason``."""
    if not reason:
        raise UsageError(REASON_MISSING)
    authoring.save_session(
        user=user,
        values=found.restored,
        version=found.version,
        now=now,
        action="restore",
        note=reason,
    )
    store.record_restore(
        found.session.id, seen(found.session) or (None, None), name, reason, since=now, now=now
    )
