"""Marking milestones done or undone, and the marks every face plans with.

:func:`mark_done` and :func:`mark_undone` are the one way a mark is written, whoever asks (the
dashboard, the « Marquer comme fait » mail link, ``syncsvc done``, a spreadsheet import): the
store keeps the day, who and their note and when; the log says who did it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from syncsvc.core import audience
from syncsvc.core.config import Config
from syncsvc.core.milestone_sheet import file_mark
from syncsvc.core.model import Session
from syncsvc.core.planner import plan_session
from syncsvc.errors import UsageError
from syncsvc.inputs.settings import Settings
from syncsvc.state.bare import BareStore, DoneMark, sqlite_path

if TYPE_CHECKING:
    from syncsvc.state.store import Store

__all__ = ["file_mark"]  # where the dashboard and ``syncsvc undone`` look for it
log = logging.getLogger("syncsvc.marks")


def mark_done(
    store: Store,
    session_id: str,
    milestone_id: str,
    on: date,
    *,
    by: str,
    note: str | None,
    at: datetime,
    who: str | None = None,
) -> None:
    """Mark a milestone done on ``on`` (replacing its earlier mark); ``by``: the name shown
    (« Fait par »), ``who``: the login or origin the log names (``by`` when None)."""
    store.mark_done(session_id, milestone_id, on, by, note, at)
    log.info("%s / %s marqué fait le %s par %s", session_id, milestone_id, on, who or by)


def mark_undone(store: Store, session_id: str, milestone_id: str, *, who: str) -> None:
    """Remove the store's mark of a milestone (a mark written in the session file stays)."""
    store.mark_undone(session_id, milestone_id)
    log.info("%s / %s : marque retirée par %s", session_id, milestone_id, who)


def store_exists(url: str) -> bool:
    """False for a SQLite file that does not exist yet (reading it would create it)."""
    plain = sqlite_path(url)
    if plain is not None and "%" not in url:  # the usual URL, read without SQLAlchemy
        return plain.is_file()
    from sqlalchemy.engine import make_url  # imported here: plan and validate stay light

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return True
    return Path(parsed.database).is_file()


@contextlib.contextmanager
def reading(url: str) -> Iterator[BareStore | Store]:
    """The existing store at ``url``, to read from: a SQLite file through the standard library
    (no SQLAlchemy for ``plan``, ``validate``, ``jury``, ``export``), else the full store."""
    store: BareStore | Store | None = BareStore.open(url)
    if store is None:
        from syncsvc.state.store import Store  # imported here: SQLite needs no SQLAlchemy

        store = Store(url)
    try:
        yield store
    finally:
        store.close()


def stored_marks(settings: Settings, config_dir: Path) -> Mapping[str, Mapping[str, date]]:
    """The store's done marks, or none when there is no store yet (``plan`` on a fresh
    machine creates nothing)."""
    if not store_exists(settings.store.url):
        return {}
    with reading(settings.store.url) as store:
        return store.done_marks() if store.version() else {}


def stored_mark_details(settings: Settings) -> dict[tuple[str, str], DoneMark]:
    """The store's done marks with who made them, or none when there is no store yet."""
    if not store_exists(settings.store.url):
        return {}
    with reading(settings.store.url) as store:
        return store.done_mark_details() if store.version() else {}


def milestone_of(config: Config, session_id: str, milestone_id: str) -> Session:
    """The session named, after checking it and its milestone exist (UsageError otherwise)."""
    session = config.sessions.get(session_id)
    if session is None and session_id in config.broken_session_ids:
        raise UsageError(
            f"le fichier de la session « {session_id} » est en erreur : rien n'est marqué "
            "(attendu : un fichier corrigé ; syncsvc validate liste ses erreurs)"
        )
    if session is None:
        known = ", ".join(sorted(config.sessions)) or "aucune"
        raise UsageError(f"session « {session_id} » inconnue (attendu : une de {known})")
    ruleset = config.rulesets[session.centre]
    if milestone_id not in ruleset.ids:
        raise UsageError(
            f"jalon « {milestone_id} » inconnu (attendu : un de {', '.join(ruleset.ids)})"
        )
    return session


def targets_showing(
    settings: Settings, config: Config, session: Session, milestone_id: str
) -> list[str]:
    """The push targets whose calendars show this milestone of this session."""
    centre = config.centres[session.centre]
    planned = plan_session(session, centre, config.rulesets[centre.id], session.start)
    milestone = next((m for m in planned if m.id == milestone_id), None)
    if milestone is None:
        return []
    return [
        t.name
        for t in settings.targets
        if t.kind != "feed" and audience.sees(t.audience, session, milestone)
    ]
