"""Changing the configuration files on a person's behalf, audited: the dashboard's forms and
the spreadsheet import go through here.

Each change is written by :mod:`syncsvc.inputs.writer` (round-trip, validated by the loader,
version-checked, atomic) and recorded in the audit (who, when, what, field by field). The daemon
watches ``config/`` and plans the change like a hand edit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from syncsvc.core.config import Config
from syncsvc.inputs.loader import check_centres_file, check_session_file, load_config
from syncsvc.inputs.writer import (
    ARCHIVE,
    Draft,
    Edit,
    PartialWrite,
    Replaced,
    Written,
    archive,
    read_draft,
    replace_text,
    write_edits,
    write_values,
)
from syncsvc.state.audit import Audit, AuditEntry


@dataclass
class Authoring:
    """The configuration folder ``directory``, changed by people, audited in ``audit``."""

    directory: Path
    audit: Audit
    load: Callable[[Path], Config] = load_config

    def session_path(self, session_id: str) -> Path:
        return self.directory / "sessions" / f"{session_id}.yaml"

    def centres_path(self) -> Path:
        return self.directory / "centres.yaml"

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.directory))
        except ValueError:
            return str(path)

    def session_draft(self, session_id: str) -> Draft:
        return read_draft(self.session_path(session_id))

    def save_session(
        self,
        *,
        user: str,
        values: Mapping[str, Any],
        version: str,
        now: datetime,
        action: str = "edit",
        note: str | None = None,
    ) -> Written:
        """Write the session whose id is ``values["id"]`` (create it with version ``""``)."""
        session_id = str(values.get("id", ""))
        path = self.session_path(session_id)
        config = self.load(self.directory)
        written = write_values(
            path, values, version, lambda p, d: check_session_file(config, p, d), self.directory
        )
        self._record(user, action, path, session_id, written, now, note)
        return written

    def save_centres(
        self, *, user: str, values: Mapping[str, Any], version: str, now: datetime
    ) -> Written:
        path = self.centres_path()
        config = self.load(self.directory)
        written = write_values(
            path, values, version, lambda p, d: check_centres_file(config, p, d), self.directory
        )
        self._record(user, "centres", path, None, written, now, None)
        return written

    def save_file(
        self,
        *,
        user: str,
        path: Path,
        values: Mapping[str, Any],
        version: str,
        now: datetime,
        action: str,
        check: Callable[[Config, Path, bytes], list[Any]],
    ) -> Written:
        """Any other configuration file (the jury directory…), checked by ``check``."""
        config = self.load(self.directory)
        written = write_values(
            path, values, version, lambda p, d: check(config, p, d), self.directory
        )
        self._record(user, action, path, None, written, now, None)
        return written

    def save_edits(
        self,
        *,
        user: str,
        edits: Sequence[Edit],
        now: datetime,
        action: str,
        check: Callable[[Config, Mapping[Path, bytes]], Sequence[Any]],
    ) -> list[Written]:
        """Several files changed together (:func:`syncsvc.inputs.writer.write_edits`), each
        audited; ``check`` sees every new content at once. When writing fails midway, the files
        already written are audited before the error goes on."""
        config = self.load(self.directory)
        try:
            written = write_edits(edits, lambda proposed: check(config, proposed), self.directory)
        except PartialWrite as exc:
            for done in exc.written:
                self._record(user, action, done.path, None, done, now, None)
            raise
        for done in written:
            self._record(user, action, done.path, None, done, now, None)
        return written

    def archive_session(
        self, *, user: str, session_id: str, version: str, now: datetime, note: str | None = None
    ) -> Path:
        """Move the session's file to ``archive/<date>/`` (never deleted); audited."""
        path = self.session_path(session_id)
        moved = archive(path, version, self.directory / ARCHIVE, now.date(), self.directory)
        self.audit.record_audit(
            AuditEntry(
                at=now,
                user=user,
                action="archive",
                file=self.relative(path),
                session_id=session_id,
                changes=(("fichier", self.relative(path), self.relative(moved)),),
                note=note,
            )
        )
        return moved

    def repair_session(
        self,
        *,
        user: str,
        path: Path,
        session_id: str,
        data: bytes,
        version: str,
        now: datetime,
        was: str,
    ) -> Replaced:
        """Replace the whole text of the session file in error at ``path`` (« Corriger le
        fichier »): checked by the loader, the previous content copied to ``archive/<date>/``,
        audited as ``repair`` (field by field when the previous text could be read, else the
        error it had, ``was``) with the copy's path as note."""
        config = self.load(self.directory)
        replaced = replace_text(
            path,
            data,
            version,
            lambda p, d: check_session_file(config, p, d),
            self.directory / ARCHIVE,
            now.date(),
            self.directory,
        )
        changed = tuple((c.field, c.before, c.after) for c in replaced.written.changes)
        self.audit.record_audit(
            AuditEntry(
                at=now,
                user=user,
                action="repair",
                file=self.relative(path),
                session_id=session_id,
                changes=changed or (("fichier", was, "se charge sans erreur"),),
                note=f"copie du fichier d'avant : {self.relative(replaced.copy)}",
            )
        )
        return replaced

    def _record(
        self,
        user: str,
        action: str,
        path: Path,
        session_id: str | None,
        written: Written,
        now: datetime,
        note: str | None,
    ) -> None:
        if not written.changes and not written.created:
            return
        self.audit.record_audit(
            AuditEntry(
                at=now,
                user=user,
                action="create" if written.created and action == "edit" else action,
                file=self.relative(path),
                session_id=session_id,
                changes=tuple((c.field, c.before, c.after) for c in written.changes),
                note=note,
            )
        )
