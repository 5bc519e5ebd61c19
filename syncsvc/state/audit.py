"""The audit: every change made to the configuration files through syncsvc, field by field.

Who (the dashboard login, ``import`` for a spreadsheet import run from the command line), when,
what (``create``, ``edit``, ``postpone``, ``cancel``, ``restore``, ``archive``, ``repair``…),
in which file, and each field changed as before → after. Kept in the store, shown on the
session page (« Historique »). Candidates' personal data never reaches the configuration
files (counts only), hence never here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from syncsvc.state.base import StorePart
from syncsvc.state.schema import EPOCH, audit, aware, utc

ACTIONS = frozenset(
    {
        "create",
        "edit",
        "postpone",
        "cancel",
        "restore",
        "archive",
        "import",
        "centres",
        "jury_directory",
        "jury_directory_retire",
        "jury_directory_reactivate",
        "jury_address",
        "repair",
        "person_feed_rotate",
    }
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    user: str
    action: str
    file: str
    session_id: str | None
    changes: tuple[tuple[str, str | None, str | None], ...]
    """(field, before, after), as text; ``None`` where the field did not exist."""
    note: str | None = None


class Audit(StorePart):
    """The audit trail of configuration changes."""

    def record_audit(self, entry: AuditEntry) -> None:
        if entry.action not in ACTIONS:
            raise ValueError(f"unknown audit action {entry.action!r}")
        with self.begin(durable=True) as db:
            db.execute(
                insert(audit).values(
                    at=utc(entry.at),
                    user=entry.user[:64],
                    action=entry.action,
                    file=entry.file[:512],
                    session_id=entry.session_id,
                    changes=json.dumps([list(c) for c in entry.changes], ensure_ascii=False),
                    note=entry.note,
                )
            )

    def audit_trail(self, session_id: str | None = None, limit: int = 200) -> list[AuditEntry]:
        """The latest entries first (of one session when ``session_id`` is given)."""
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if session_id is not None:
            query = query.where(audit.c.session_id == session_id)
        with self.begin() as db:
            rows: Sequence[object] = db.execute(query).all()
        return [
            AuditEntry(
                at=aware(row.at) or EPOCH,  # type: ignore[attr-defined]
                user=row.user,  # type: ignore[attr-defined]
                action=row.action,  # type: ignore[attr-defined]
                file=row.file,  # type: ignore[attr-defined]
                session_id=row.session_id,  # type: ignore[attr-defined]
                changes=tuple(
                    (str(f), b, a)
                    for f, b, a in json.loads(row.changes)  # type: ignore[attr-defined]
                ),
                note=row.note,  # type: ignore[attr-defined]
            )
            for row in rows
        ]
