"""The dashboard's view of the sessions: configuration reloaded on change, plans, done marks.

Vocabulary:

- *config source*: the configuration folder (:class:`syncsvc.inputs.watcher.ConfigSource`);
- *snapshot*: every session planned at one moment, with its findings and the store's done
  marks (who, when, note); it is rebuilt only when the configuration, a centre's local day or
  the done marks change, so a page costs a stat of the files and one query;
- *checklist*: the "- …" lines under « À faire : » in a rule's description (the seeds);
- *broken session*: its file exists but does not load (:attr:`Config.broken_session_ids`); its
  calendar events are kept, so the dashboard keeps it too: planned from the last good load this
  process saw or, after a restart, as the store kept it (a *stale* view, with the file's
  errors); when none is known, as a :class:`BrokenSession` row with its file and errors.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from syncsvc.app.cancellations import observe as observe_cancellations
from syncsvc.app.jury import JuryBoard, jury_board
from syncsvc.core.cancellations import history_lines, lifted_warning
from syncsvc.core.checks import check_session
from syncsvc.core.clock import local_today
from syncsvc.core.config import Config
from syncsvc.core.exam_days import exam_days
from syncsvc.core.jury import JurorRow, summary
from syncsvc.core.mailboxes import ConfigWarning
from syncsvc.core.model import Centre, Finding, Milestone, Session, Status
from syncsvc.core.planner import plan_sessions
from syncsvc.core.words import cancellation_text, postponement_texts
from syncsvc.formats.session_state import session_from_json, session_json
from syncsvc.formats.spliced import Fragment
from syncsvc.inputs.watcher import ConfigSource
from syncsvc.state.store import DoneMark, Store

log = logging.getLogger("syncsvc.board")
STATUSES: Final[tuple[Status, ...]] = ("overdue", "due_soon", "pending", "done")


Mark = DoneMark
"""A done mark of the store, with who made it and their note."""


@dataclass
class SessionView:
    session: Session
    centre: Centre
    milestones: list[Milestone]
    findings: list[Finding]
    today: date
    jurors: list[JurorRow] = field(default_factory=list)
    """Where each juror stands: invitation, answer, hold (:mod:`syncsvc.core.jury`)."""
    broken: list[str] = field(default_factory=list)
    """The errors of the session's file when it no longer loads: this view is then its last
    good state (nothing may be marked on it)."""
    cancellations: list[str] = field(default_factory=list)
    """« Annulée le … puis rétablie le … », one line per past cancellation (the store's)."""
    lifted: ConfigWarning | None = None
    """The avertissement of a session to come active again after a cancellation."""

    @property
    def exam_dates(self) -> tuple[date, ...]:
        """The session's exam days (:func:`syncsvc.core.exam_days.exam_days`), in order."""
        return tuple(d.day for d in exam_days(self.session, self.centre))

    @property
    def jury_summary(self) -> tuple[int, int]:
        """(accepted, invited): « jury : 2 confirmés / 3 invités »."""
        return summary(self.jurors)

    @property
    def next(self) -> Milestone | None:
        """The next milestone not done; None when all are, or the session is cancelled."""
        if self.session.cancelled:
            return None
        return next((m for m in self.milestones if m.status != "done"), None)

    @property
    def cancellation(self) -> str | None:
        """« Session annulée le 11/01/2027 : <raison> », None when it is not cancelled."""
        return cancellation_text(self.session)

    @property
    def postponements(self) -> list[str]:
        """« Session reportée le … (motif) : du … au … → du … au … », oldest first."""
        return postponement_texts(self.session)

    @property
    def redo(self) -> list[Milestone]:
        """Milestones done before the session was postponed, to do again."""
        return [m for m in self.milestones if m.redo]

    def count(self, status: Status) -> int:
        return sum(1 for m in self.milestones if m.status == status)

    @property
    def notable_findings(self) -> list[Finding]:
        """Findings about the definition itself (agrément, jury, CERES…); overdue milestones
        are already counted in their column, and listed on the session page."""
        return [f for f in self.findings if not f.code.startswith("overdue:")]


@dataclass(frozen=True, slots=True)
class BrokenSession:
    """A session whose file does not load and of which no good state is known."""

    id: str
    files: tuple[str, ...]
    """The names of its files (``sa-2027-03-st-andre.yaml``)."""
    problems: tuple[str, ...]


def problems_of(config: Config, session_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(file names, French errors) of a broken session: the files named after it or whose
    ``id`` is it."""
    files = {f for f, found in config.file_ids.items() if found == session_id}
    files |= {p.file for p in config.problems if Path(p.file).name.split(".")[0] == session_id}
    problems = tuple(str(p) for p in config.problems if p.file in files)
    return tuple(sorted(Path(f).name for f in files)), problems


@dataclass
class Snapshot:
    """Every session planned at one moment, with its findings and the store's done marks."""

    config: Config
    views: list[SessionView]
    marks: dict[tuple[str, str], Mark]
    by_id: dict[str, SessionView] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    """Sessions whose planning failed this time, with a French reason (kept as they were)."""
    fragments: dict[str, Fragment] = field(default_factory=dict)
    """UTF-8 HTML rendered from this snapshot alone (the same for every user), kept with it."""
    jury: JuryBoard = field(default_factory=JuryBoard)
    """The jury's invitations and replies (the ledger), as the snapshot was taken."""
    broken: list[BrokenSession] = field(default_factory=list)
    """Broken sessions with no known good state (their stale views are in ``views``)."""

    def __post_init__(self) -> None:
        self.by_id = {view.session.id: view for view in self.views}

    def broken_session(self, session_id: str) -> BrokenSession | None:
        return next((b for b in self.broken if b.id == session_id), None)

    @functools.cached_property
    def milestone_counts(self) -> dict[Status, int]:
        """Milestones of the sessions that are not cancelled, by status."""
        counts: dict[Status, int] = dict.fromkeys(STATUSES, 0)
        for view in self.views:
            if view.session.cancelled:
                continue
            for m in view.milestones:
                counts[m.status] += 1
        return counts


class Board:
    """Plans and findings of all sessions, recomputed only when their inputs change."""

    def __init__(self, source: ConfigSource, store: Store) -> None:
        self.source = source
        self.store = store
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._snapshot: Snapshot | None = None
        self._good: dict[str, Session] = {}
        """The last good load of each session this process saw (for when its file breaks)."""
        self._kept: dict[str, Session] = {}
        """The sessions whose last good state the store holds as they are now."""

    def snapshot(self, now: datetime) -> Snapshot:
        config = self.source.current()
        marks = self.store.done_mark_details()
        zones = sorted({c.timezone for c in config.centres.values()})
        days = tuple(now.astimezone(ZoneInfo(z)).date() for z in zones)
        jury = self.store.jury_version()
        key = (self.source.generation, id(config), days, tuple(sorted(marks.items())), jury)
        # One thread plans; requests arriving meanwhile wait for its result instead of
        # planning the same thing again.
        with self._lock:
            if self._snapshot is not None and key == self._key:
                return self._snapshot
            views = []
            observe_cancellations(self.store, config, now)
            history = self.store.cancellation_history()
            stale = self._stale(config, now)
            shown = dataclasses.replace(config, sessions={**config.sessions, **stale})
            planning = plan_sessions(shown, _by_session(marks), now)
            for session, centre, milestones in planning.planned:
                findings = check_session(session, centre, milestones, now)
                today = local_today(now, centre.tz)
                view = SessionView(session, centre, milestones, findings, today)
                records = history.get(session.id, [])
                view.cancellations = history_lines(records, centre.tz)
                file = str(config.session_files.get(session.id, session.id))
                view.lifted = lifted_warning(session, file, records, today, centre.tz)
                if session.id in stale:
                    view.broken = list(problems_of(config, session.id)[1])
                views.append(view)
            broken = [
                BrokenSession(sid, *problems_of(config, sid))
                for sid in sorted(config.broken_session_ids)
                if sid not in config.sessions and sid not in stale
            ]
            found = {view.session.id: view.findings for view in views}
            board = jury_board(planning.planned, self.store, now, found)
            for view in views:
                view.jurors = board.of(view.session.id)
            snapshot = Snapshot(
                config, views, marks, failed=planning.failed, jury=board, broken=broken
            )
            self._key, self._snapshot = key, snapshot
            return self._snapshot

    def _stale(self, config: Config, now: datetime) -> dict[str, Session]:
        """The last good state of the sessions whose file is broken: as this process last
        loaded them, else as the store kept them (a restart); remembers the good ones of
        ``config``, here and in the store (a removed session is forgotten here)."""
        broken = {sid for sid in config.broken_session_ids if sid not in config.sessions}
        stale = {sid: self._good[sid] for sid in broken if sid in self._good}
        for sid, text in self.store.last_good(sorted(broken - set(stale))).items():
            session = session_from_json(text)
            if session is not None and session.id == sid:
                stale[sid] = session
        stale = {sid: s for sid, s in stale.items() if s.centre in config.centres}
        self._good = {**stale, **config.sessions}
        changed = {
            sid: session
            for sid, session in config.sessions.items()
            if self._kept.get(sid) is not session
        }
        if changed:
            self.store.save_last_good({sid: session_json(s) for sid, s in changed.items()}, now)
            self._kept.update(changed)
        return stale


def _by_session(marks: dict[tuple[str, str], DoneMark]) -> dict[str, dict[str, date]]:
    by_session: dict[str, dict[str, date]] = {}
    for (session_id, milestone_id), mark in marks.items():
        by_session.setdefault(session_id, {})[milestone_id] = mark.done_on
    return by_session


def checklist(description: str) -> tuple[str, list[str]]:
    """(explanation, the "- …" lines under « À faire : ») of a rule's description."""
    intro: list[str] = []
    items: list[str] = []
    in_list = False
    for raw in description.splitlines():
        line = raw.strip()
        if line.lower().startswith("à faire"):
            in_list = True
            continue
        if in_list and line.startswith("- "):
            items.append(line[2:].strip())
        elif in_list and items and line:
            items[-1] += " " + line
        elif line and not in_list:
            intro.append(line)
    return " ".join(intro), items
