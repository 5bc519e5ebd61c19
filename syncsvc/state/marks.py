"""Done marks: which milestone was done, when, by whom, with what note."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, insert, select

from syncsvc.state.bare import MARKS_SQL, DoneMark
from syncsvc.state.base import StorePart
from syncsvc.state.schema import (
    EPOCH,
    aware,
    done_marks,
    utc,
)


class Marks(StorePart):
    """Milestones marked done: the day, who, their note, when."""

    def mark_done(
        self,
        session_id: str,
        milestone_id: str,
        done_on: date,
        by: str,
        note: str | None,
        at: datetime,
    ) -> None:
        with self.begin() as db:
            db.execute(
                delete(done_marks).where(
                    done_marks.c.session_id == session_id, done_marks.c.milestone_id == milestone_id
                )
            )
            db.execute(
                insert(done_marks).values(
                    session_id=session_id,
                    milestone_id=milestone_id,
                    done_on=done_on,
                    by=by,
                    note=note,
                    marked_at=utc(at),
                )
            )

    def mark_undone(self, session_id: str, milestone_id: str) -> None:
        with self.begin() as db:
            db.execute(
                delete(done_marks).where(
                    done_marks.c.session_id == session_id, done_marks.c.milestone_id == milestone_id
                )
            )

    def done_mark_details(self) -> dict[tuple[str, str], DoneMark]:
        """Every done mark by (session, milestone), with who made it, when, and the note."""
        with self.begin() as db:
            return {
                (row.session_id, row.milestone_id): DoneMark(
                    row.done_on, row.by, row.note, aware(row.marked_at) or EPOCH
                )
                for row in db.execute(select(done_marks))
            }

    def done_marks(self) -> dict[str, dict[str, date]]:
        """The done days, by session then milestone (what the planner needs)."""
        marks: dict[str, dict[str, date]] = {}
        for (session_id, milestone_id), mark in self.done_mark_details().items():
            marks.setdefault(session_id, {})[milestone_id] = mark.done_on
        return marks

    def marks_stamp(self) -> tuple[object, ...]:
        """The marks' version as the database driver spells it (the statement and the values
        of :class:`syncsvc.state.bare.BareStore`): part of a sync's stamp."""
        with self.begin() as db:
            return tuple(db.exec_driver_sql(MARKS_SQL).one())

    def marks_version(self) -> tuple[int, str]:
        """Changes whenever a mark is added, changed or removed (count and latest change):
        a long-lived process polls it to notice marks made by another process."""
        with self.begin() as db:
            count, latest = db.execute(select(func.count(), func.max(done_marks.c.marked_at))).one()
        return int(count), str(latest)


__all__ = ["DoneMark", "Marks"]
