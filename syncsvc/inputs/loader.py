"""Configuration files -> validated models, every problem collected with its file and field.

The loader never stops at the first bad file: each session file is loaded on its own, good
sessions load, and every problem of every file is reported as one French line
``file: field.path: what is wrong (attendu : …)``. A session whose file fails keeps its id in
:attr:`Config.broken_session_ids`, so that nothing downstream deletes its calendar events.

Every entry of ``sessions/`` is accounted for: it is loaded, or reported as a problem. The only
entries ignored are those whose name starts with a dot (editors' swap and lock files). Anything
else that is not a regular ``<id>.yaml`` / ``<id>.yml`` file (another suffix such as ``.YAML``
or ``.yaml~``, a directory, a FIFO, a device, a broken symlink or one leading out of the
configuration folder, a file larger than 1 Mo) is a problem, and its session is protected under
the name's id (and the id written inside, when the file could be read).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syncsvc.core.config import Config
from syncsvc.core.fields import shortened, spelling
from syncsvc.core.model import SESSION_ID_PATTERN, Centre, Session
from syncsvc.core.rules import DEFAULT_RULESET, Ruleset, customise
from syncsvc.core.rules.ruleset import parse_ruleset
from syncsvc.errors import ConfigError, Problem
from syncsvc.inputs.files import FileProblem, read_config_file
from syncsvc.inputs.problems import validation_problems
from syncsvc.inputs.session_entries import SessionEntry, session_entries
from syncsvc.inputs.yaml_files import load_text, parse_yaml

_SESSION_ID = re.compile(SESSION_ID_PATTERN)

# --- loading -----------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def load_ruleset(name: str = DEFAULT_RULESET) -> Ruleset:
    """The ruleset shipped in the package under ``syncsvc/rules/<name>.yaml``."""
    resource = resources.files("syncsvc.core.rules").joinpath(f"{name}.yaml")
    if not resource.is_file():
        shipped = sorted(
            p.name.removesuffix(".yaml")
            for p in resources.files("syncsvc.core.rules").iterdir()
            if p.name.endswith(".yaml")
        )
        raise ConfigError(
            f"jeu de règles « {name} » inconnu (attendu : un de {', '.join(shipped)})"
        )
    data = load_text(resource.read_text(encoding="utf-8"))
    return parse_ruleset(data)


def load_config(
    directory: Path | str, ruleset: Ruleset | None = None, parser: SessionParser | None = None
) -> Config:
    """Load ``centres.yaml`` and ``sessions/*.yaml`` from ``directory``.

    Raises :class:`ConfigError` only when the directory itself is missing; every other problem
    is collected in :attr:`Config.problems`. A long-lived process passes its own ``parser`` so
    that only the session files whose bytes changed are parsed again.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError(
            f"dossier de configuration « {spelling(str(root))} » introuvable (attendu : un "
            "dossier contenant centres.yaml et sessions/ ; option --config)"
        )
    config = Config(directory=root, ruleset=ruleset or load_ruleset())
    inside = root.resolve()
    _load_centres(config, root / "centres.yaml", inside)
    sessions_dir = root / "sessions"
    if not sessions_dir.is_dir():
        config.problems.append(
            Problem(
                spelling(str(sessions_dir)),
                "",
                "dossier manquant (attendu : un fichier YAML par session)",
            )
        )
        return config
    parser = parser or SessionParser()
    try:
        for entry in session_entries(sessions_dir, (inside, sessions_dir.resolve())):
            _load_entry(config, entry, parser)
    except OSError:
        config.problems.append(
            Problem(
                spelling(str(sessions_dir)), "", "dossier illisible (attendu : un dossier lisible)"
            )
        )
    return config


def _load_centres(config: Config, path: Path, inside: Path) -> None:
    file = spelling(str(path))
    if not os.path.lexists(path):
        config.problems.append(
            Problem(file, "", "fichier manquant (attendu : la liste des centres, voir README)")
        )
        return
    try:
        raw = read_config_file(path, (inside,))
    except FileProblem as exc:
        config.problems.append(Problem(file, "", exc.message))
        return
    _centres_from(config, file, raw)


def _centres_from(config: Config, file: str, raw: bytes) -> None:
    try:
        data = parse_yaml(raw)
    except FileProblem as exc:
        config.problems.append(Problem(file, "", exc.message))
        return
    if not isinstance(data, Mapping) or not data:
        config.problems.append(
            Problem(file, "", "attendu : un bloc par centre, sous sa clé (ex. afpar-st-andre:)")
        )
        return
    for key, body in data.items():
        centre_id = str(key)
        shown_id = shortened(centre_id)
        if not isinstance(body, Mapping):
            config.problems.append(
                Problem(file, shown_id, "attendu : un bloc de clés (name, timezone, …)")
            )
            continue
        if "id" in body:
            config.problems.append(
                Problem(
                    file,
                    f"{shown_id}.id",
                    "clé inconnue (attendu : l'identifiant est la clé du bloc, ne pas répéter id)",
                )
            )
            continue
        try:
            centre = Centre.model_validate({"id": centre_id, **body})
        except ValidationError as exc:
            config.problems.extend(validation_problems(file, exc, Centre, (centre_id,)))
            continue
        customised, rule_problems = customise(config.ruleset, centre.rules)
        config.problems.extend(
            Problem(file, f"{shown_id}.rules.{where}", message) for where, message in rule_problems
        )
        config.centres[centre_id] = centre
        config.rulesets[centre_id] = customised


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One session file read and validated on its own (before cross-file checks)."""

    raw_id: str | None
    session: Session | None
    problems: tuple[Problem, ...]


class SessionParser:
    """Session files read and validated on their own, kept by file with the digest of their
    bytes: its owner parses again only the files whose content changed."""

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[bytes, _Parsed]] = {}

    def parse(self, file: str, data: bytes) -> _Parsed:
        digest = hashlib.sha256(data).digest()
        cached = self._parsed.get(file)
        if cached is not None and cached[0] == digest:
            return cached[1]
        parsed = _parse_session(file, data)
        self._parsed[file] = (digest, parsed)
        return parsed


def _parse_session(file: str, data: bytes) -> _Parsed:
    problems: list[Problem] = []
    raw: Any = None
    session = None
    try:
        raw = parse_yaml(data)
    except FileProblem as exc:
        problems.append(Problem(file, "", exc.message))
    else:
        if raw is None:
            problems.append(
                Problem(file, "", "fichier vide (attendu : la définition d'une session)")
            )
        elif not isinstance(raw, Mapping):
            problems.append(Problem(file, "", "attendu : un bloc de clés (id, title, nature, …)"))
        else:
            try:
                session = Session.model_validate(raw)
            except ValidationError as exc:
                problems.extend(validation_problems(file, exc, Session))
    return _Parsed(_raw_id(raw), session, tuple(problems))


def _raw_id(raw: Any) -> str | None:
    """The id written in a file, when it is one a session could have (only such an id can
    name a session with calendar events; anything else is not stored, nor echoed)."""
    raw_id = raw.get("id") if isinstance(raw, Mapping) else None
    if isinstance(raw_id, str) and _SESSION_ID.fullmatch(raw_id.strip()):
        return raw_id.strip()
    return None


def _load_entry(config: Config, entry: SessionEntry, parser: SessionParser) -> None:
    """Load one entry of the sessions folder, or report it (see the module's docstring)."""
    before = len(config.problems)
    raw_id: str | None = None
    if entry.data is None:
        config.problems.append(Problem(entry.file, "", entry.refusal or "non lu"))
    else:
        parsed = parser.parse(entry.file, entry.data)
        raw_id = parsed.raw_id
        if entry.name_problem is not None:
            config.problems.append(Problem(entry.file, "", entry.name_problem))
        if entry.is_session_file:
            config.problems.extend(parsed.problems)
        if parsed.session is not None and entry.name_problem is None:
            _check_session(config, entry.path, parsed.session)
    if raw_id is not None:
        config.file_ids[entry.file] = raw_id
    if len(config.problems) > before:
        # Protect the session under its file name (which must be its id) and under the id
        # written inside, when it can be read.
        config.broken_session_ids.add(entry.name_id)
        if raw_id is not None:
            config.broken_session_ids.add(raw_id)
        else:
            config.unreadable_files.append(entry.file)


def _check_session(config: Config, path: Path, session: Session) -> None:
    """Checks that need the other files: name, unique id, centre, done marks."""
    file = spelling(str(path))
    problems: list[Problem] = []
    if path.stem != session.id:
        # The file name is how a broken file still protects its session's events and jury:
        # an unreadable file cannot tell its id.
        problems.append(
            Problem(
                file,
                "id",
                f"l'identifiant « {session.id} » diffère du nom du fichier (attendu : renommer "
                f"le fichier en {session.id}{path.suffix}, ou changer id en « {path.stem} »)",
            )
        )
    if session.id in config.sessions:
        other = config.session_files[session.id]
        problems.append(
            Problem(
                file,
                "id",
                f"identifiant « {session.id} » déjà utilisé par {other} "
                "(attendu : un identifiant unique par session)",
            )
        )
    ruleset = config.rulesets.get(session.centre)
    if session.centre not in config.centres:
        centres = ", ".join(config.centres) or "aucun centre valide"
        problems.append(
            Problem(
                file,
                "centre",
                f"centre « {session.centre} » inconnu ou invalide dans "
                f"centres.yaml (attendu : une de ces clés : {centres})",
            )
        )
    elif ruleset is not None:
        known = {*config.ruleset.ids, *ruleset.ids}  # a disabled advice rule may be marked done
        for milestone_id in session.done:
            if milestone_id not in known:
                close = difflib.get_close_matches(milestone_id, sorted(known), n=1)
                guess = f"vouliez-vous dire « {close[0]} » ? " if close else ""
                problems.append(
                    Problem(
                        file,
                        f"done.{milestone_id}",
                        f"jalon inconnu ({guess}attendu : un "
                        f"identifiant du jeu de règles {ruleset.version})",
                    )
                )
    if problems:
        config.problems.extend(problems)
        return
    config.sessions[session.id] = session
    config.session_files[session.id] = path


# --- checking a proposed content before it is written (see syncsvc.inputs.writer) -------------


def check_session_file(config: Config, path: Path, data: bytes) -> list[Problem]:
    """The problems the loader would report for ``data`` written at ``path`` (a session file of
    ``config``'s folder), with every other file as ``config`` holds it."""
    file = spelling(str(path))
    parsed = _parse_session(file, data)
    if parsed.problems or parsed.session is None:
        return list(parsed.problems)
    others = {k: v for k, v in config.session_files.items() if v != path}
    view = Config(
        directory=config.directory,
        ruleset=config.ruleset,
        centres=config.centres,
        rulesets=config.rulesets,
        sessions={k: config.sessions[k] for k in others},
        session_files=others,
    )
    _check_session(view, path, parsed.session)
    return view.problems


def check_centres_file(config: Config, path: Path, data: bytes) -> list[Problem]:
    """The problems the loader would report for ``data`` as ``centres.yaml``, including the
    sessions of ``config`` that it would break (a centre removed, a rule disabled…)."""
    file = spelling(str(path))
    view = Config(directory=config.directory, ruleset=config.ruleset)
    _centres_from(view, file, data)
    if view.problems:
        return view.problems
    for session_id, session_path in config.session_files.items():
        session = config.sessions[session_id]
        _check_session(view, session_path, session)
    return view.problems
