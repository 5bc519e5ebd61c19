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

import hashlib
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syncsvc.core.config import Config, JuryDirectory
from syncsvc.core.fields import shortened, shown, spelling
from syncsvc.core.labels import fr_date
from syncsvc.core.model import SESSION_ID_PATTERN, Centre, DirectoryJuror, Session
from syncsvc.core.rules import DEFAULT_RULESET, Ruleset, customise
from syncsvc.core.rules.ruleset import parse_ruleset
from syncsvc.errors import ConfigError, Problem
from syncsvc.inputs.files import FileProblem, read_config_file
from syncsvc.inputs.forked import ChildFailed, can_fork, in_child
from syncsvc.inputs.problems import validation_problems
from syncsvc.inputs.session_entries import SessionEntry, session_entries
from syncsvc.inputs.yaml_files import field_lines, load_text, parse_yaml

_SESSION_ID = re.compile(SESSION_ID_PATTERN)
JURY_FILE = "jury.yaml"
"""The jury directory, beside ``centres.yaml`` (optional)."""

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
    directory: Path | str,
    ruleset: Ruleset | None = None,
    parser: SessionParser | None = None,
    *,
    share: bool = False,
    only: Collection[str] | None = None,
) -> Config:
    """Load ``centres.yaml``, ``jury.yaml`` (when present) and ``sessions/*.yaml`` from
    ``directory``.

    Raises :class:`ConfigError` only when the directory itself is missing; every other problem
    is collected in :attr:`Config.problems`. A long-lived process passes its own ``parser`` so
    that only the session files whose bytes changed are parsed again. ``share``: a one-shot
    command (single thread) may parse half of many session files in a forked child
    (:meth:`SessionParser.prepare`); the result is the same. ``only``: the names of the session
    files to load, the others left out (a sync that knows which files changed, see
    :mod:`syncsvc.app.changed`).
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
    _load_jury(config, root / JURY_FILE, inside)
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
        entries = list(session_entries(sessions_dir, (inside, sessions_dir.resolve()), only))
        if share:
            parser.prepare(entries, config.jury)
        for entry in entries:
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


def _placed(problems: list[Problem], start: int, file: str, data: bytes | None) -> None:
    """Give each problem of ``file`` added from ``start`` the line where its field is written
    in ``data`` (see :func:`~syncsvc.inputs.yaml_files.field_lines`)."""
    todo = [
        i
        for i in range(start, len(problems))
        if problems[i].file == file and problems[i].field and problems[i].line is None
    ]
    if not todo or data is None:
        return
    lines = field_lines(data, {problems[i].field for i in todo})
    for i in todo:
        line = lines.get(problems[i].field)
        if line is not None:
            problems[i] = replace(problems[i], line=line)


def _centres_from(config: Config, file: str, raw: bytes) -> None:
    start = len(config.problems)
    _centres_in(config, file, raw)
    _placed(config.problems, start, file, raw)


def _centres_in(config: Config, file: str, raw: bytes) -> None:
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


# --- the jury directory ------------------------------------------------------------------------
#
# ``jury.yaml`` holds each juror once, under their e-mail. A session's ``jury:`` entry whose
# e-mail is in the directory is completed from it: ``- {email: c.maillot@jury.example}`` takes
# everything from the directory; a key written in the session wins over the directory's value,
# and a value that differs gives a warning (the session loads). An entry whose e-mail is not in
# the directory is read as before (name and habilitation_until required). A directory that
# cannot be read, or a juror's entry in error, never loads a session without its juror: a
# session that needs it is refused with a problem naming jury.yaml, and is protected like any
# session whose file is broken (its events and invitations stay as they are).


def _load_jury(config: Config, path: Path, inside: Path) -> None:
    if not os.path.lexists(path):
        return
    file = spelling(str(path))
    try:
        raw = read_config_file(path, (inside,))
    except FileProblem as exc:
        config.problems.append(Problem(file, "", exc.message))
        config.jury = JuryDirectory(readable=False, exists=True)
        return
    config.jury = _directory_from(file, raw, config.problems)


def _directory_from(file: str, raw: bytes, problems: list[Problem]) -> JuryDirectory:
    """The directory in ``raw``; each problem (file, juror's e-mail and field) in ``problems``."""
    start = len(problems)
    directory = _directory_in(file, raw, problems)
    _placed(problems, start, file, raw)
    return directory


def _directory_in(file: str, raw: bytes, problems: list[Problem]) -> JuryDirectory:
    directory = JuryDirectory(exists=True, digest=hashlib.sha256(raw).hexdigest())
    try:
        data = parse_yaml(raw)
    except FileProblem as exc:
        problems.append(Problem(file, "", exc.message))
        directory.readable = False
        return directory
    if data is None:
        return directory  # an empty directory
    if not isinstance(data, Mapping):
        problems.append(
            Problem(
                file,
                "",
                "attendu : un bloc par membre du jury, sous son adresse e-mail "
                "(ex. c.maillot@jury.example:)",
            )
        )
        directory.readable = False
        return directory
    for key, body in data.items():
        email = str(key).strip()
        shown_key = shortened(email)
        refused = None
        if not isinstance(body, Mapping):
            refused = Problem(
                file, shown_key, "attendu : un bloc de clés (name, titles, habilitation_until, …)"
            )
        elif "email" in body:
            refused = Problem(
                file,
                f"{shown_key}.email",
                "clé inconnue (attendu : l'adresse est la clé du bloc, ne pas la répéter)",
            )
        elif email.lower() in directory.jurors:
            refused = Problem(
                file,
                shown_key,
                "adresse déjà présente dans l'annuaire (attendu : chaque membre du jury une "
                "seule fois)",
            )
        if refused is not None:
            problems.append(refused)
            directory.broken.add(email.lower())
            continue
        assert isinstance(body, Mapping)
        try:
            juror = DirectoryJuror.model_validate({"email": email, **body})
        except ValidationError as exc:
            found = validation_problems(file, exc, DirectoryJuror, (email,))
            # a list whose items are refused is not also "too short" (pydantic says both)
            items = {p.field.split("[", 1)[0] for p in found if "[" in p.field}
            problems.extend(p for p in found if p.field not in items)
            directory.broken.add(email.lower())
            continue
        directory.jurors[juror.email] = juror
    return directory


def _directory_shown(juror: DirectoryJuror) -> dict[str, tuple[Any, str]]:
    """The directory's value of each key a session may also write, with how it reads."""
    return {
        "name": (juror.name, juror.name),
        "habilitation_until": (juror.habilitation_until, fr_date(juror.habilitation_until)),
        "title_code": (juror.titles, ", ".join(juror.titles)),
        "ccp": (juror.ccp, ", ".join(juror.ccp) or "tout le titre"),
        "company": (juror.company, juror.company or "rien"),
    }


def _written(value: Any) -> str:
    if isinstance(value, date):
        return f"« {fr_date(value)} »"
    if isinstance(value, list | tuple):
        return f"« {shortened(', '.join(str(v) for v in value))} »"
    return shown(value)


def _differs(key: str, written: Any, directory: Any) -> bool:
    if key == "title_code":
        return str(written).strip() not in directory
    if key == "ccp":
        items = written if isinstance(written, list | tuple) else [written]
        return {str(i).strip() for i in items} != set(directory)
    if key == "habilitation_until":
        return str(written).strip() != str(directory)
    if directory is None:
        return written is not None
    return " ".join(str(written).split()) != str(directory)


@dataclass(frozen=True, slots=True)
class _Jury:
    """A session's ``jury:`` completed from the directory (see above)."""

    raw: Any
    references: tuple[str, ...] = ()
    missing: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()


def _with_directory(file: str, raw: Mapping[str, Any], directory: JuryDirectory) -> _Jury:
    jury = raw.get("jury")
    if not isinstance(jury, list):
        return _Jury(raw)
    title = raw.get("title")
    code = str(title.get("code", "")) if isinstance(title, Mapping) else ""
    items: list[Any] = []
    references: list[str] = []
    missing: list[Problem] = []
    warnings: list[Problem] = []
    for index, item in enumerate(jury, start=1):
        where = f"jury[{index}]"
        email = item.get("email") if isinstance(item, Mapping) else None
        if isinstance(item, str) and "@" in item:
            items.append(item)
            missing.append(
                Problem(
                    file,
                    where,
                    f"adresse seule {shown(item)} (attendu : {{email: {shortened(item.strip())}}} "
                    f"pour prendre ce membre dans l'annuaire {JURY_FILE}, ou un bloc avec name, "
                    "email et habilitation_until)",
                )
            )
            continue
        if not isinstance(email, str):
            items.append(item)  # the model says what is wrong
            continue
        email = email.strip().lower()
        juror = directory.jurors.get(email)
        if juror is None:
            items.append(item)
            if "name" not in item or "habilitation_until" not in item:
                missing.append(Problem(file, f"{where}.email", _why_missing(email, directory)))
            continue
        merged = juror.member_values(code)
        start = raw.get("start")
        if juror.retired_on is not None and isinstance(start, date) and start > juror.retired_on:
            warnings.append(
                Problem(
                    file,
                    f"{where}.email",
                    f"membre du jury « {shortened(email)} » retiré de l'annuaire {JURY_FILE} le "
                    f"{fr_date(juror.retired_on)} (attendu : un autre membre, ou retirer "
                    "retired_on de son entrée s'il siège de nouveau)",
                )
            )
        shown_values = _directory_shown(juror)
        for key, value in item.items():
            known = shown_values.get(str(key))
            if known is not None and _differs(str(key), value, known[0]):
                warnings.append(
                    Problem(
                        file,
                        f"{where}.{key}",
                        f"{_written(value)} ici, « {shortened(known[1])} » dans l'annuaire "
                        f"{JURY_FILE} : la valeur de la session l'emporte (attendu : la même "
                        "valeur, ou retirer la clé pour prendre celle de l'annuaire)",
                    )
                )
            merged[str(key)] = value
        items.append(merged)
        references.append(email)
    return _Jury({**raw, "jury": items}, tuple(references), tuple(missing), tuple(warnings))


def _why_missing(email: str, directory: JuryDirectory) -> str:
    if email in directory.broken:
        reason = f"son entrée dans {JURY_FILE} est en erreur (voir les problèmes de {JURY_FILE})"
    elif not directory.readable:
        reason = f"l'annuaire {JURY_FILE} est illisible (voir ses problèmes)"
    elif not directory.exists:
        reason = f"il n'y a pas d'annuaire {JURY_FILE} dans le dossier de configuration"
    else:
        reason = f"cette adresse n'est pas dans l'annuaire {JURY_FILE}"
    return (
        f"membre du jury « {shortened(email)} » introuvable : {reason} ; la session reste "
        "telle qu'elle était, événements et invitations compris (attendu : ce membre dans "
        f"{JURY_FILE}, ou name et habilitation_until écrits ici)"
    )


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One session file read and validated on its own (before cross-file checks)."""

    raw_id: str | None
    session: Session | None
    problems: tuple[Problem, ...]
    references: tuple[str, ...] = ()
    """The e-mails of the jurors taken from the directory."""
    warnings: tuple[Problem, ...] = ()


SHARED_FROM = 500
"""From this many session files to parse, :meth:`SessionParser.prepare` shares them with a
forked child (below, the fork costs more than it saves)."""


class SessionParser:
    """Session files read and validated on their own, kept by file with the digest of their
    bytes: its owner parses again only the files whose content changed."""

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[bytes, str, _Parsed]] = {}

    def parse(self, file: str, data: bytes, directory: JuryDirectory | None = None) -> _Parsed:
        directory = directory or JuryDirectory()
        digest = hashlib.sha256(data).digest()
        cached = self._parsed.get(file)
        if cached is not None and cached[0] == digest and cached[1] == directory.digest:
            return cached[2]
        parsed = _parse_session(file, data, directory)
        self._parsed[file] = (digest, directory.digest, parsed)
        return parsed

    def prepare(self, entries: Sequence[SessionEntry], directory: JuryDirectory) -> None:
        """Parse ahead the files of ``entries`` not parsed yet, the second half in a forked
        child (see :mod:`syncsvc.inputs.forked`) when there are many: each file's result is
        the same as :meth:`parse` gives (a pure function of its name, bytes and the jury
        directory). When the child fails, its files are left to :meth:`parse`."""
        todo: list[tuple[str, bytes]] = []
        for entry in entries:
            if entry.data is None:
                continue
            cached = self._parsed.get(entry.file)
            digest = hashlib.sha256(entry.data).digest()
            if cached is None or cached[0] != digest or cached[1] != directory.digest:
                todo.append((entry.file, entry.data))
        if len(todo) < SHARED_FROM or not can_fork():
            return
        half = len(todo) * 54 // 100  # the child also pickles its results: a bit fewer files
        theirs = todo[half:]
        child = in_child(lambda: iter([[_parse_session(f, d, directory) for f, d in theirs]]))
        if child is None:
            return
        try:
            for file, data in todo[:half]:
                self.parse(file, data, directory)
            results = child.receive()
        except ChildFailed:
            return  # their files are parsed by parse(), one by one
        finally:
            child.close()
        for (file, data), parsed in zip(theirs, results, strict=True):
            self._parsed[file] = (hashlib.sha256(data).digest(), directory.digest, parsed)


def _parse_session(file: str, data: bytes, directory: JuryDirectory | None = None) -> _Parsed:
    problems: list[Problem] = []
    raw: Any = None
    session = None
    jury = _Jury(None)
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
            jury = _with_directory(file, raw, directory or JuryDirectory())
            try:
                session = Session.model_validate(jury.raw)
            except ValidationError as exc:
                found = validation_problems(file, exc, Session)
                # an entry missing from the directory is said once, by its own problem
                aside = {p.field.split(".", 1)[0] for p in jury.missing}
                problems.extend(p for p in found if p.field.split(".", 1)[0] not in aside)
            problems.extend(jury.missing)
            if jury.missing:
                session = None
    if problems:
        return _Parsed(_raw_id(raw), session, tuple(problems))
    return _Parsed(_raw_id(raw), session, (), jury.references, jury.warnings)


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
        parsed = parser.parse(entry.file, entry.data, config.jury)
        raw_id = parsed.raw_id
        if entry.name_problem is not None:
            config.problems.append(Problem(entry.file, "", entry.name_problem))
        if entry.is_session_file:
            config.problems.extend(parsed.problems)
        if parsed.session is not None and entry.name_problem is None:
            _check_session(config, entry.path, parsed.session)
            if config.sessions.get(parsed.session.id) is parsed.session:
                config.warnings.extend(parsed.warnings)
                if parsed.references:
                    config.jury_references[parsed.session.id] = parsed.references
    if raw_id is not None:
        config.file_ids[entry.file] = raw_id
    _placed(config.problems, before, entry.file, entry.data)
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
    elif ruleset is not None and session.done:
        known = {*config.ruleset.ids, *ruleset.ids}  # a disabled advice rule may be marked done
        for milestone_id in session.done:
            if milestone_id not in known:
                import difflib  # only for a misspelt name: not on every start-up

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


def session_of(config: Config, values: Mapping[str, Any]) -> Session | None:
    """The session ``values`` (a session file's content, plain) make once the jurors it takes
    from ``config``'s jury directory are filled in; None when they do not make one."""
    jury = _with_directory("", values, config.jury)
    if jury.missing:
        return None
    try:
        return Session.model_validate(jury.raw)
    except ValidationError:
        return None


def check_session_file(config: Config, path: Path, data: bytes) -> list[Problem]:
    """The problems the loader would report for ``data`` written at ``path`` (a session file of
    ``config``'s folder), with every other file as ``config`` holds it."""
    file = spelling(str(path))
    parsed = _parse_session(file, data, config.jury)
    if parsed.problems or parsed.session is None:
        problems = list(parsed.problems)
        _placed(problems, 0, file, data)
        return problems
    others = {k: v for k, v in config.session_files.items() if v != path}
    view = Config(
        directory=config.directory,
        ruleset=config.ruleset,
        jury=config.jury,
        centres=config.centres,
        rulesets=config.rulesets,
        sessions={k: config.sessions[k] for k in others},
        session_files=others,
    )
    _check_session(view, path, parsed.session)
    _placed(view.problems, 0, file, data)
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
        start = len(view.problems)
        _check_session(view, session_path, config.sessions[session_id])
        if len(view.problems) > start:
            try:
                written = session_path.read_bytes()
            except OSError:
                continue
            _placed(view.problems, start, spelling(str(session_path)), written)
    return view.problems


def check_jury_file(config: Config, path: Path, data: bytes) -> list[Problem]:
    """The problems the loader would report for ``data`` as ``jury.yaml``, including those of
    the sessions of ``config`` that take a juror from the directory and would no longer load
    (a juror removed, an entry made invalid…)."""
    return check_jury_and_sessions(config, path, {path: data})


def check_jury_and_sessions(
    config: Config, jury_path: Path, proposed: Mapping[Path, bytes]
) -> list[Problem]:
    """The problems the loader would report once every file of ``proposed`` (``jury.yaml`` at
    ``jury_path`` and session files of ``config``'s folder) holds its new content, the other
    files as they are: the directory's own, then those of every session that takes a juror from
    it or is rewritten (a juror's address changed in ``jury.yaml`` and in its sessions)."""
    problems: list[Problem] = []
    data = proposed.get(jury_path)
    if data is None:
        directory = config.jury
    else:
        directory = _directory_from(spelling(str(jury_path)), data, problems)
        if problems:
            return problems
    view = replace(config, jury=directory, problems=[], warnings=[])
    rewritten = {p for p in proposed if p != jury_path}
    for path in sorted(rewritten):
        problems.extend(check_session_file(view, path, proposed[path]))
    for session_id in config.jury_references:
        session_path = config.session_files.get(session_id)
        if session_path is None or session_path in rewritten:
            continue
        try:
            raw = session_path.read_bytes()
        except OSError:
            continue
        start = len(problems)
        file = spelling(str(session_path))
        problems.extend(_parse_session(file, raw, directory).problems)
        _placed(problems, start, file, raw)
    return problems
