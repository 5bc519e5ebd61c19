"""« Corriger le fichier »: a session file the loader reports in error, found for repair.

Only a file of ``config/sessions/`` is ever opened here: its name is ``<id>.yaml`` (or
``.yml``) for an identifier a session may have (no ``/``, no ``..``), it is a regular file (a
symbolic link is never followed, even to a file of the configuration folder) and the loader
reports it in error. Anything else is "not found".

Who may repair it: a user who may change every centre the file is known by — the ``centre``
written in it (read from the text when the YAML does not parse) and the centre of the session's
last good state kept by the store. A file that names no known centre is repaired only by a user
who may change every centre (an administrator, a coordinator without ``centres``).

Before it is written, a repair is previewed as « Modifier » previews a change
(:func:`repair_preview`, the same :func:`syncsvc.app.preview.stored_preview`): the repaired
session compared with what the calendars hold for it now (a file in error keeps its items as
they are: the store's record of each target) and with its last good state (the milestones that
move), the jury's messages decided from the store's invitation states.

Writing goes through :meth:`syncsvc.app.authoring.Authoring.repair_session`: checked by the
loader, version-checked, the previous content copied to ``archive/``, audited.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from syncsvc.app.preview import Preview, held_items, stored_preview
from syncsvc.core.config import Config
from syncsvc.core.fields import spelling
from syncsvc.core.model import SESSION_ID_PATTERN, Session
from syncsvc.errors import ConfigError, Problem
from syncsvc.formats.session_state import session_from_json
from syncsvc.inputs.files import FileProblem, read_config_file
from syncsvc.inputs.loader import session_of
from syncsvc.inputs.session_entries import SESSION_SUFFIXES
from syncsvc.inputs.settings import Settings
from syncsvc.inputs.writer import plain, version_of
from syncsvc.inputs.yaml_files import parse_yaml
from syncsvc.state.store import Store

_SESSION_ID: Final = re.compile(SESSION_ID_PATTERN)
_LINE: Final = re.compile(r"\bligne (\d+)\b")
_CENTRE_LINE: Final = re.compile(
    r"""^centre\s*:\s*["']?([a-z0-9][a-z0-9-]*)["']?\s*(?:#.*)?$""", re.M
)
_NAMED: Final = re.compile(r"\b(?:list|named)\s*:")
"""A key that may hold the candidates' names (``candidates.list``, ``candidates.named``)."""
MAX_TEXT: Final = 48_000
"""A longer file is not offered in the text editor (the form would exceed the posted size)."""


@dataclass(frozen=True, slots=True)
class BrokenFile:
    """A session file in error, as read for repair."""

    session_id: str
    path: Path
    shown: str
    """``sessions/sa-2027-03-st-andre.yaml``: the file as a coordinator knows it."""
    data: bytes
    problems: tuple[Problem, ...]
    """The loader's problems for this file (its French messages, with field or line)."""
    raw: Mapping[str, Any] | None
    """The file's YAML value when it parses as a block of keys; None when it does not."""
    centres: frozenset[str]
    """The known centres this file belongs to (see the module's docstring)."""

    @property
    def version(self) -> str:
        return version_of(self.data)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    @staticmethod
    def lines_of(problems: Iterable[Problem]) -> list[int]:
        """The lines ``problems`` name (a syntax error's « ligne 8, colonne 4 : … », the line
        where a field in error is written), first one first."""
        found = set()
        for problem in problems:
            if problem.line is not None:
                found.add(problem.line)
            elif (m := _LINE.search(problem.message)) is not None:
                found.add(int(m.group(1)))
        return sorted(found)

    @staticmethod
    def names_candidates(text: str) -> bool:
        """``text`` may hold the candidates' names (shown to administrators only)."""
        return _NAMED.search(text) is not None

    @property
    def too_long(self) -> bool:
        return len(self.data) > MAX_TEXT


def _session_path(config: Config, session_id: str) -> Path | None:
    """The regular file ``sessions/<id>.yaml`` (or ``.yml``) of ``config``'s folder, never
    through a link, never elsewhere; None when there is none."""
    if not _SESSION_ID.fullmatch(session_id):
        return None
    folder = config.directory / "sessions"
    for suffix in SESSION_SUFFIXES:
        path = folder / f"{session_id}{suffix}"
        if path.is_symlink() or not path.is_file():
            continue
        if path.resolve().parent != folder.resolve():  # pragma: no cover - a plain file name
            continue
        return path
    return None


def problems_of_file(config: Config, path: Path) -> tuple[Problem, ...]:
    file = spelling(str(path))
    return tuple(p for p in config.problems if p.file == file)


def written_centre(raw: Mapping[str, Any] | None, text: str) -> str | None:
    """The ``centre`` a session file writes: its value, or the text of its line when the
    YAML does not parse."""
    if raw is not None:
        centre = raw.get("centre")
        return centre.strip() if isinstance(centre, str) else None
    found = _CENTRE_LINE.search(text)
    return found.group(1) if found else None


def find_broken(config: Config, store: Store, session_id: str) -> BrokenFile | None:
    """The file in error of ``session_id`` (see the module's docstring); None when there is
    none."""
    path = _session_path(config, session_id)
    if path is None:
        return None
    problems = problems_of_file(config, path)
    if not problems:
        return None
    try:
        data = read_config_file(path, ())
    except FileProblem:
        return None
    try:
        value = parse_yaml(data)
    except FileProblem:
        value = None
    raw = value if isinstance(value, Mapping) else None
    centres = {written_centre(raw, data.decode("utf-8", "replace"))}
    last = last_good(store, session_id)
    if last is not None:
        centres.add(last.centre)
    known = frozenset(c for c in centres if c is not None and c in config.centres)
    return BrokenFile(session_id, path, _shown(config, path), data, problems, raw, known)


def last_good(store: Store, session_id: str) -> Session | None:
    """The session as it last loaded without error, as the store kept it (None: unknown)."""
    kept = store.last_good([session_id]).get(session_id)
    return session_from_json(kept) if kept else None


@dataclass(frozen=True, slots=True)
class RepairPreview:
    """What writing a repaired text will do."""

    after: Session
    """The session the repaired text makes."""
    before: Session | None
    """Its last good state (None: unknown, every milestone shows as new)."""
    shown: Preview
    version: str
    """The version of the repaired text (:func:`version_of`): what a confirmation must write."""


def repair_preview(
    config: Config, settings: Settings, store: Store, broken: BrokenFile, data: bytes, now: datetime
) -> RepairPreview:
    """What writing ``data`` (checked by the loader: it makes a session) in place of ``broken``
    will do: compared with what each calendar holds for the session now (its items kept since
    the file broke), its last good state, and the store's marks and invitation states. Field
    by field only when the previous text could be read (as the audit records it)."""
    before = last_good(store, broken.session_id)
    values = plain(broken.raw) if broken.raw is not None else None
    proposed = plain(parse_yaml(data))
    held = held_items(settings, store, broken.session_id)
    shown = stored_preview(config, settings, store, before, values, proposed, now, held)
    if values is None:
        shown = dataclasses.replace(shown, changes=())
    after = session_of(config, proposed)
    if after is None:  # pragma: no cover - stored_preview refused it already
        raise ConfigError("session illisible après vérification")
    return RepairPreview(after, before, shown, version_of(data))


def may_repair(broken: BrokenFile, config: Config, may_change: Callable[[str], bool]) -> bool:
    """Whether a user (its :meth:`User.may_change`) may repair ``broken``."""
    centres = broken.centres or frozenset(config.centres)
    return bool(centres) and all(may_change(c) for c in centres)


def _shown(config: Config, path: Path) -> str:
    try:
        return str(path.relative_to(config.directory))
    except ValueError:  # pragma: no cover - the path is built from the folder
        return str(path)


def broken_session_files(config: Config) -> dict[str, str]:
    """The session files of ``config``'s folder the loader reports in error, as its problems
    name them, with the session each one is (its name without the suffix)."""
    folder = spelling(str(config.directory / "sessions"))
    found: dict[str, str] = {}
    for problem in config.problems:
        parent, _, name = problem.file.rpartition("/")
        stem, dot, suffix = name.rpartition(".")
        if (
            parent == folder
            and f"{dot}{suffix}" in SESSION_SUFFIXES
            and _SESSION_ID.fullmatch(stem)
        ):
            found.setdefault(problem.file, stem)
    return found
