"""Known session files: the id each file held, to protect a session whose file breaks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import delete, insert, select

from syncsvc.state.base import StorePart
from syncsvc.state.schema import (
    known_files,
)


class KnownFiles(StorePart):
    """Which session each session file held (to protect it when the file breaks)."""

    def remember_files(self, ids: Mapping[str, str]) -> None:
        """Note the session id each file holds (only changes are written)."""
        with self.begin() as db:
            known = {r.path: r.session_id for r in db.execute(select(known_files))}
            for path, session_id in ids.items():
                if known.get(path) == session_id:
                    continue
                db.execute(delete(known_files).where(known_files.c.path == path))
                db.execute(insert(known_files).values(path=path, session_id=session_id))

    def file_ids(self, paths: Iterable[str]) -> set[str]:
        wanted = list(paths)
        if not wanted:
            return set()
        with self.begin() as db:
            rows = db.execute(
                select(known_files.c.session_id).where(known_files.c.path.in_(wanted))
            )
            return {str(r.session_id) for r in rows}
