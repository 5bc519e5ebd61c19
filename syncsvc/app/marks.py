"""Marking milestones done or undone, and the marks every face plans with."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from syncsvc.core import audience
from syncsvc.core.config import Config
from syncsvc.core.model import Session
from syncsvc.core.planner import implicit_marks, plan_session
from syncsvc.errors import UsageError
from syncsvc.inputs.settings import Settings
from syncsvc.state.bare import BareStore, sqlite_path

if TYPE_CHECKING:
    from syncsvc.state.store import Store


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


def file_mark(session: Session, milestone_id: str) -> tuple[date, str] | None:
    """(day, how to remove it) when the session file itself marks the milestone done: a line
    under ``done:``, or ``declared_on`` for the CERES creation; None otherwise."""
    ways = []
    if milestone_id in session.done:
        day = session.done[milestone_id]
        ways.append(f"retirer la ligne « {milestone_id}: {day.isoformat()} » sous done:")
    implied = implicit_marks(session).get(milestone_id)
    if implied is not None:
        ways.append(
            f"retirer ou corriger « declared_on: {implied.isoformat()} » (jour de création "
            "dans CERES, qui vaut marque)"
        )
    if not ways:
        return None
    return {**implicit_marks(session), **session.done}[milestone_id], " et ".join(ways)


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
