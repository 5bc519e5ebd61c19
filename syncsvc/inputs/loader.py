"""Configuration files -> validated models, every problem collected with its file and field.

The loader never stops at the first bad file: each session file is loaded on its own, good
sessions load, and every problem of every file is reported as one French line
``file: field.path: what is wrong (attendu : …)``. A session whose file fails keeps its id in
:attr:`Config.broken_session_ids`, so that nothing downstream deletes its calendar events.
"""

from __future__ import annotations

import difflib
import hashlib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from syncsvc.core.model import Centre, Session
from syncsvc.core.rules import DEFAULT_RULESET, Ruleset, customise
from syncsvc.core.rules.ruleset import parse_ruleset

SESSION_SUFFIXES = (".yaml", ".yml")


class ConfigError(Exception):
    """The configuration cannot be used at all (a one-line French message for the user)."""


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.field}: {self.message}"
            if self.field
            else (f"{self.file}: {self.message}")
        )


@dataclass
class Config:
    directory: Path
    ruleset: Ruleset
    centres: dict[str, Centre] = field(default_factory=dict)
    rulesets: dict[str, Ruleset] = field(default_factory=dict)
    """The ruleset of each centre, with its customisation applied."""
    sessions: dict[str, Session] = field(default_factory=dict)
    session_files: dict[str, Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    broken_session_ids: set[str] = field(default_factory=set)
    """Sessions whose file exists but failed to load: keep their events, change nothing."""
    file_ids: dict[str, str] = field(default_factory=dict)
    """Session id read in each session file (good or broken), by file path."""
    unreadable_files: list[str] = field(default_factory=list)
    """Broken files whose id could not be read: the store may remember it."""

    @property
    def ok(self) -> bool:
        return not self.problems


# --- YAML -------------------------------------------------------------------------------------


_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """Safe loader (libyaml's parser when available) that refuses a key written twice in the
    same block, where plain YAML would silently keep the second value."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str) and isinstance(key_node, yaml.ScalarNode):
            # `on:`, `123:` or `2026-09-01:` as a key: keep the text as written, so the error
            # names the key the user typed instead of True, 123 or a date object.
            key = key_node.value
        if key in result:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"clé « {key} » écrite deux fois dans le même bloc (la seconde valeur "
                "écraserait la première sans prévenir)",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    # An impossible date such as 2027-02-30 would raise a bare ValueError inside PyYAML: keep
    # the text instead, so validation reports it against its field like any other bad date.
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return node.value


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


_YAML_PROBLEMS_FR = [
    (
        "mapping values are not allowed",
        "deux-points inattendu (une valeur qui contient « : » doit être entre guillemets, "
        "ou l'indentation est fausse)",
    ),
    ("could not find expected ':'", "deux-points manquant après une clé"),
    (
        "cannot start any token",
        "caractère interdit en début de valeur (une tabulation ? indenter avec des espaces)",
    ),
    ("did not find expected key", "indentation incohérente"),
    ("did not find expected ',' or ']'", "liste [ … ] mal fermée (virgule ou crochet manquant)"),
    ("did not find expected ',' or '}'", "bloc { … } mal fermé (virgule ou accolade manquante)"),
    ("did not find expected '-' indicator", "élément de liste mal indenté"),
    (
        "found unexpected end of stream",
        "fin de fichier inattendue (guillemet ou crochet non fermé ?)",
    ),
    ("found unknown escape character", "caractère d'échappement inconnu entre guillemets"),
]


def _yaml_problem_fr(problem: str) -> str:
    if problem.startswith("clé «"):
        return problem  # ours, already in French
    for english, french in _YAML_PROBLEMS_FR:
        if english in problem:
            return french
    return f"syntaxe invalide ({problem})"


class _FileProblem(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _read_yaml(path: Path, data: bytes | None = None) -> Any:
    try:
        text = (path.read_bytes() if data is None else data).decode("utf-8")
    except UnicodeDecodeError:
        raise _FileProblem(
            "fichier illisible : encodage non UTF-8 (attendu : un fichier enregistré en UTF-8)"
        ) from None
    except OSError as exc:
        raise _FileProblem(f"fichier illisible ({exc.strerror})") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"ligne {mark.line + 1}, colonne {mark.column + 1} : " if mark else ""
        what = _yaml_problem_fr(exc.problem or exc.context or "")
        raise _FileProblem(
            f"{where}YAML invalide : {what} (attendu : une syntaxe YAML valide ; vérifier "
            "l'indentation, les deux-points et les guillemets)"
        ) from None
    except yaml.YAMLError as exc:
        raise _FileProblem(f"YAML invalide : {exc}") from None


# --- pydantic errors in French -----------------------------------------------------------------


def _path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else part
    return out


def _show(value: Any) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return f"« {text[:60]}{'…' if len(text) > 60 else ''} »"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, tuple, list, dict, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        fields.update(model.model_fields)
        info = fields.get(part)
        if info is None:
            # a dict key (e.g. a rule id under overrides): stay on the dict's value model
            continue
        model = _model_in(info.annotation)
    return model


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


_FIELD_HINTS = {
    "id": "minuscules, chiffres et tirets, ex. sa-2027-03-st-andre",
    "code": "le code RNCP du titre, ex. TP-00374",
    "title_code": "le code du titre, ex. TP-00374",
    "centre": "la clé du centre dans centres.yaml, ex. afpar-st-andre",
    "email": "nom@domaine.fr",
}


def _describe(error: ErrorDetails, root: type[BaseModel]) -> tuple[str, str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    hint = _FIELD_HINTS.get(name)

    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        keys = _keys(parent) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
        guess = f"vouliez-vous dire « {close[0]} » ? " if close else ""
        return _path(loc), f"clé inconnue ({guess}attendu : une des clés {', '.join(keys)})"
    if kind == "missing":
        model = _model_at(root, loc)
        expected = (
            f"un bloc avec {', '.join(_keys(model))}"
            if model
            else hint or f"une valeur pour {name}"
        )
        return _path(loc), f"champ obligatoire manquant (attendu : {expected})"
    if kind.startswith("date") or kind.startswith("datetime"):
        return _path(loc), f"date {_show(value)} invalide (attendu : AAAA-MM-JJ, ex. 2027-03-15)"
    if kind.startswith("time"):
        return _path(loc), f'heure {_show(value)} invalide (attendu : HH:MM, ex. "08:30")'
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", " ou ")
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : {expected})"
    if kind == "string_pattern_mismatch":
        return _path(
            loc
        ), f"valeur {_show(value)} mal formée (attendu : {hint or ctx.get('pattern')})"
    if kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error", error["msg"]))
        return _path(loc), message
    if kind.startswith("bool"):
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : true ou false)"
    if kind.startswith("int"):
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : un nombre entier)"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        signs = {
            "greater_than_equal": "≥",
            "greater_than": ">",
            "less_than_equal": "≤",
            "less_than": "<",
        }
        bound = next(iter(ctx.values()), "")
        return _path(loc), f"valeur {_show(value)} hors limites (attendu : {signs[kind]} {bound})"
    if kind == "too_short":
        return _path(
            loc
        ), f"liste trop courte (attendu : au moins {ctx.get('min_length')} élément(s))"
    if kind == "string_too_short":
        return _path(loc), "texte vide (attendu : une valeur non vide)"
    if kind == "string_too_long":
        return _path(loc), f"texte trop long (attendu : au plus {ctx.get('max_length')} caractères)"
    if kind in ("string_type",):
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : du texte)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(root, loc)
        expected = f"un bloc avec {', '.join(_keys(model))}" if model else "un bloc de clés"
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : {expected})"
    if kind in ("tuple_type", "list_type"):
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : une liste)"
    return _path(loc), f"{error['msg']} ({kind})"


def validation_problems(
    file: str, exc: ValidationError, root: type[BaseModel], prefix: tuple[str, ...] = ()
) -> list[Problem]:
    """One :class:`Problem` per pydantic error; ``prefix`` is prepended to each field path
    (the centre's key in centres.yaml)."""
    problems = []
    for error in exc.errors(include_url=False):
        path, message = _describe(error, root)
        problems.append(Problem(file, _path((*prefix, *error["loc"])) if prefix else path, message))
    return problems


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
    data = yaml.load(resource.read_text(encoding="utf-8"), Loader=_StrictLoader)
    return parse_ruleset(data)


def load_config(directory: Path | str, ruleset: Ruleset | None = None) -> Config:
    """Load ``centres.yaml`` and ``sessions/*.yaml`` from ``directory``.

    Raises :class:`ConfigError` only when the directory itself is missing; every other problem
    is collected in :attr:`Config.problems`.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError(
            f"dossier de configuration « {root} » introuvable (attendu : un dossier contenant "
            "centres.yaml et sessions/ ; option --config)"
        )
    config = Config(directory=root, ruleset=ruleset or load_ruleset())
    _load_centres(config, root / "centres.yaml")
    sessions_dir = root / "sessions"
    if not sessions_dir.is_dir():
        config.problems.append(
            Problem(
                str(sessions_dir), "", "dossier manquant (attendu : un fichier YAML par session)"
            )
        )
        return config
    files = sorted(
        p
        for p in sessions_dir.iterdir()
        if p.suffix in SESSION_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )
    for path in files:
        _load_session(config, path)
    return config


def _load_centres(config: Config, path: Path) -> None:
    file = str(path)
    if not path.is_file():
        config.problems.append(
            Problem(file, "", "fichier manquant (attendu : la liste des centres, voir README)")
        )
        return
    try:
        data = _read_yaml(path)
    except _FileProblem as exc:
        config.problems.append(Problem(file, "", exc.message))
        return
    if not isinstance(data, Mapping) or not data:
        config.problems.append(
            Problem(file, "", "attendu : un bloc par centre, sous sa clé (ex. afpar-st-andre:)")
        )
        return
    for key, body in data.items():
        centre_id = str(key)
        if not isinstance(body, Mapping):
            config.problems.append(
                Problem(file, centre_id, "attendu : un bloc de clés (name, timezone, …)")
            )
            continue
        if "id" in body:
            config.problems.append(
                Problem(
                    file,
                    f"{centre_id}.id",
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
            Problem(file, f"{centre_id}.rules.{where}", message) for where, message in rule_problems
        )
        config.centres[centre_id] = centre
        config.rulesets[centre_id] = customised


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One session file read and validated on its own (before cross-file checks)."""

    raw_id: str | None
    session: Session | None
    problems: tuple[Problem, ...]


_PARSED: dict[str, tuple[bytes, _Parsed]] = {}
"""Parsed session files by path with the digest of their bytes: a long-lived process parses
only the files whose content changed."""


def _parse_session(path: Path) -> _Parsed:
    file = str(path)
    try:
        data: bytes | None = path.read_bytes()
    except OSError:
        data = None
    digest = hashlib.sha256(data).digest() if data is not None else b""
    cached = _PARSED.get(file)
    if cached is not None and data is not None and cached[0] == digest:
        return cached[1]
    problems: list[Problem] = []
    raw: Any = None
    session = None
    try:
        raw = _read_yaml(path, data)
    except _FileProblem as exc:
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
    raw_id = raw.get("id") if isinstance(raw, Mapping) else None
    parsed = _Parsed(raw_id if isinstance(raw_id, str) else None, session, tuple(problems))
    if data is not None:
        _PARSED[file] = (digest, parsed)
    return parsed


def _load_session(config: Config, path: Path) -> None:
    file = str(path)
    before = len(config.problems)
    parsed = _parse_session(path)
    config.problems.extend(parsed.problems)
    if parsed.session is not None:
        _check_session(config, path, parsed.session)
    raw_id = parsed.raw_id
    if raw_id is not None:
        config.file_ids[file] = raw_id
    if len(config.problems) > before:
        # Protect the session under its file name (which must be its id) and under the id
        # written inside, when it can be read.
        config.broken_session_ids.add(path.stem)
        if raw_id is not None:
            config.broken_session_ids.add(raw_id)
        else:
            config.unreadable_files.append(file)


def _check_session(config: Config, path: Path, session: Session) -> None:
    """Checks that need the other files: name, unique id, centre, done marks."""
    file = str(path)
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
