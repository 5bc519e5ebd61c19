"""Writing the configuration files: the dashboard and the spreadsheet import change ``config/``.

The files in ``config/`` stay the single source of truth; this module is the only code that
writes them. Every write:

- starts from the file as it is (ruamel.yaml round-trip): comments, key order and the way a
  value that does not change was written are kept; only the values that change are rewritten;
- writes every text so that the loader (PyYAML, YAML 1.1) reads back exactly the same value
  (``10:30`` is quoted: unquoted, YAML 1.1 reads it as the number 630) — and checks it;
- is validated with the loader itself (the same parsing, the same model, the same cross-file
  checks) before anything is written: a refused change raises :class:`WriteRefused` with the
  loader's French problems, field by field;
- carries the version (SHA-256 of the bytes) of the file it was prepared on: if the file changed
  meanwhile, :class:`WriteConflict` carries both texts and nothing is written;
- is atomic (a dot-named temporary file in the same folder, fsync, rename, fsync of the folder),
  under an exclusive lock shared by every writer of the folder (two tabs, two processes);
- returns the changes field by field (before → after), for the audit.

Removing a session never deletes its file: it moves to ``archive/<date>/`` beside ``sessions/``
(the loader never reads ``archive/``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from syncsvc.core.fields import spelling
from syncsvc.errors import ConfigError, Problem, SyncsvcError
from syncsvc.inputs.files import FileProblem
from syncsvc.inputs.yaml_files import parse_yaml

ABSENT = ""
"""The version of a file that does not exist (a form that creates one carries it)."""

LOCK_NAME = ".syncsvc-write.lock"
ARCHIVE = "archive"


def version_of(data: bytes | None) -> str:
    """The version of a file's content: SHA-256 in hex, :data:`ABSENT` when there is none."""
    return ABSENT if data is None else hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Change:
    """One field changed: its dotted path (``jury.1.email``) and its values, as text."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    version: str
    created: bool
    changes: tuple[Change, ...]


class WriteConflict(SyncsvcError):
    """The file changed since the form was opened: nothing was written."""

    def __init__(self, path: Path, current: str, proposed: str) -> None:
        self.path, self.current, self.proposed = path, current, proposed
        what = (
            "a été créé"
            if current and not proposed
            else ("a été supprimé ou déplacé" if not current else "a été modifié")
        )
        super().__init__(
            f"{spelling(str(path))} {what} depuis l'ouverture du formulaire (par une autre "
            "personne ou un autre onglet) : rien n'a été enregistré. Comparer les deux versions, "
            "puis recommencer la modification sur la version actuelle."
        )


class WriteRefused(ConfigError):
    """The change would make the file invalid: the loader's problems, nothing written."""


@dataclass(frozen=True, slots=True)
class Draft:
    """A file as read for editing: its text, its version, its round-trip tree (or None)."""

    path: Path
    text: str
    version: str
    tree: Any

    @property
    def exists(self) -> bool:
        return self.version != ABSENT


# --- reading ---------------------------------------------------------------------------------


class _Constructor(RoundTripConstructor):
    """The round-trip constructor, except that an impossible date (``2027-13-45``) stays text,
    as the loader keeps it (a file in error is read to be repaired)."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return str(node.value)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def _yaml() -> YAML:
    rt = YAML(typ="rt")
    rt.Constructor = _Constructor
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap a person's lines
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.representer.add_representer(type(None), _null)
    return rt


def _null(representer: Any, _value: None) -> Any:
    """``null`` spelled out (ruamel writes nothing after the colon by default)."""
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def read_draft(path: Path) -> Draft:
    """The file at ``path`` for editing (an absent file gives an empty draft)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Draft(path, "", ABSENT, None)
    text = data.decode("utf-8")
    tree = _yaml().load(text) if text.strip() else None
    return Draft(path, text, version_of(data), tree)


# --- plain values -> round-trip tree ---------------------------------------------------------

_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _scalar(value: Any) -> Any:
    """A value as the tree holds it; a text that YAML 1.1 would read otherwise is quoted."""
    if isinstance(value, str):
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
        if tag != _STR_TAG or value != value.strip() or "\n" in value or value == "":
            return DoubleQuotedScalarString(value)
        return value
    if isinstance(value, bool | int | float | date) or value is None:
        return value
    raise TypeError(f"cannot write {type(value).__name__} in a configuration file")


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Mapping) or isinstance(new, Mapping):
        return False
    if isinstance(old, list | tuple) or isinstance(new, list | tuple):
        return False
    if isinstance(old, str) or isinstance(new, str):
        return isinstance(old, str) and isinstance(new, str) and str(old) == str(new)
    return type(old) is type(new) and bool(old == new)


def merge(tree: Any, values: Any) -> Any:
    """``tree`` changed in place to hold ``values`` (plain Python), keeping what does not change:
    comments, key order, list items, the spelling of unchanged values. Returns the new tree
    (a new node when the kind of value changes)."""
    if isinstance(values, Mapping):
        if not isinstance(tree, CommentedMap):
            tree = CommentedMap()
        for key in [k for k in tree if k not in values]:
            del tree[key]
        for key, value in values.items():
            if key in tree and not isinstance(value, Mapping | list) and _same(tree[key], value):
                continue
            tree[key] = merge(tree.get(key), value)
        return tree
    if isinstance(values, list | tuple):
        if not isinstance(tree, CommentedSeq):
            tree = CommentedSeq()
        while len(tree) > len(values):
            del tree[-1]
        for index, value in enumerate(values):
            if index < len(tree):
                if not isinstance(value, Mapping | list) and _same(tree[index], value):
                    continue
                tree[index] = merge(tree[index], value)
            else:
                tree.append(merge(None, value))
        return tree
    return _scalar(values)


def render(tree: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(tree, buffer)
    return buffer.getvalue()


def plain(value: Any) -> Any:
    """A round-trip tree (or loader output) as plain Python values, for comparisons."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


# --- changes, for the audit --------------------------------------------------------------------


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}.{index + 1}" if prefix else str(index + 1), out)
    elif value is None:
        out[prefix] = ""
    elif isinstance(value, bool):
        out[prefix] = "oui" if value else "non"
    elif isinstance(value, date):
        out[prefix] = value.strftime("%d/%m/%Y")
    else:
        out[prefix] = str(value)


def changes(before: Any, after: Any) -> tuple[Change, ...]:
    """What differs between two plain values, field by field (dotted paths, lists from 1)."""
    old: dict[str, str] = {}
    new: dict[str, str] = {}
    _flatten(before, "", old)
    _flatten(after, "", new)
    fields = list(old) + [f for f in new if f not in old]
    return tuple(Change(f, old.get(f), new.get(f)) for f in fields if old.get(f) != new.get(f))


# --- writing ------------------------------------------------------------------------------------


@contextlib.contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """The exclusive lock every writer of ``directory`` holds while it checks and replaces."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """``data`` at ``path``, entirely or not at all (temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o644
    with contextlib.suppress(FileNotFoundError):
        mode = path.stat().st_mode & 0o777
    temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    _fsync_dir(path.parent)


Validate = Callable[[Path, bytes], Sequence[Problem]]
"""The loader's checks of a proposed content for a file: its problems (empty when valid)."""


def write_values(
    path: Path,
    values: Mapping[str, Any],
    version: str,
    validate: Validate,
    lock_dir: Path | None = None,
) -> Written:
    """Make the file at ``path`` hold ``values`` (plain Python), if it still has ``version``.

    Raises :class:`WriteConflict` when the file changed since ``version`` was read,
    :class:`WriteRefused` when the loader refuses the result. Writing the same values again is
    a no-op (nothing written, no change). ``lock_dir`` holds the lock (default: the file's
    folder; the configuration folder for the application, so that one lock covers every file).
    """
    with folder_lock(lock_dir or path.parent):
        draft = read_draft(path)
        if draft.exists and draft.version == version and plain(draft.tree) == plain(values):
            return Written(path, draft.version, False, ())
        proposed_tree = merge(draft.tree, values)
        text = render(proposed_tree)
        if draft.version != version:
            raise WriteConflict(path, draft.text, text)
        data = text.encode("utf-8")
        try:
            reread = parse_yaml(data)
        except FileProblem as exc:  # pragma: no cover - merge() only writes safe values
            raise WriteRefused([Problem(spelling(str(path)), "", exc.message)]) from exc
        if plain(reread) != plain(values):
            raise WriteRefused(  # pragma: no cover - a writer bug, never silent
                [Problem(spelling(str(path)), "", "écriture incohérente (rien n'a été écrit)")]
            )
        problems = list(validate(path, data))
        if problems:
            raise WriteRefused(problems)
        before = plain(parse_yaml(draft.text.encode("utf-8"))) if draft.exists else None
        found = changes(before, plain(reread))
        atomic_write(path, data)
        return Written(path, version_of(data), not draft.exists, found)


def archive(
    path: Path, version: str, archive_dir: Path, today: date, lock_dir: Path | None = None
) -> Path:
    """Move the file at ``path`` (if it still has ``version``) to ``archive_dir/<today>/``;
    returns its new path. Nothing is ever deleted."""
    with folder_lock(lock_dir or path.parent):
        draft = read_draft(path)
        if draft.version != version or not draft.exists:
            raise WriteConflict(path, draft.text, "")
        folder = archive_dir / today.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        counter = 1
        while target.exists():
            counter += 1
            target = folder / f"{path.stem}.{counter}{path.suffix}"
        os.replace(path, target)
        _fsync_dir(path.parent)
        _fsync_dir(folder)
        return target


REPAIRED_SUFFIX = ".avant-correction"
"""A file replaced by « Corriger le fichier » is first copied to
``archive/<date>/<stem>.avant-correction.yaml``."""


@dataclass(frozen=True, slots=True)
class Replaced:
    """A file whose whole text was replaced, and where its previous bytes were copied."""

    written: Written
    copy: Path


def replace_text(
    path: Path,
    data: bytes,
    version: str,
    validate: Validate,
    archive_dir: Path,
    today: date,
    lock_dir: Path | None = None,
) -> Replaced:
    """Replace the whole content of the existing file at ``path`` (if it still has ``version``)
    by ``data``, once the loader accepts it; its previous bytes are first copied to
    ``archive_dir/<today>/<stem>.avant-correction<suffix>`` (never read by the loader, never
    deleted). For a file that may not parse, so that it cannot go through :func:`write_values`.

    Raises :class:`WriteConflict` when the file changed (or is gone) since ``version`` was read,
    :class:`WriteRefused` with the loader's problems when ``data`` is still invalid: nothing is
    written, nothing is copied."""
    with folder_lock(lock_dir or path.parent):
        try:
            current: bytes | None = path.read_bytes()
        except FileNotFoundError:
            current = None
        proposed = data.decode("utf-8", "replace")
        if current is None or version_of(current) != version:
            shown = "" if current is None else current.decode("utf-8", "replace")
            raise WriteConflict(path, shown, proposed)
        problems = list(validate(path, data))
        if problems:
            raise WriteRefused(problems)
        try:
            before = plain(parse_yaml(current))
        except FileProblem:
            before = None
        after = plain(parse_yaml(data))
        found = changes(before, after) if isinstance(before, Mapping) else ()
        folder = archive_dir / today.isoformat()
        copy = folder / f"{path.stem}{REPAIRED_SUFFIX}{path.suffix}"
        counter = 1
        while copy.exists():
            counter += 1
            copy = folder / f"{path.stem}{REPAIRED_SUFFIX}-{counter}{path.suffix}"
        atomic_write(copy, current)
        atomic_write(path, data)
        return Replaced(Written(path, version_of(data), False, found), copy)


@dataclass(frozen=True, slots=True)
class Edit:
    """One file of a change that spans several: its path, the version it was prepared on, and
    what to do to its round-trip tree (in place, or returning a new tree)."""

    path: Path
    version: str
    change: Callable[[Any], Any]


class PartialWrite(SyncsvcError):
    """A write failed after others of the same change were made: which files changed."""

    def __init__(self, written: Sequence[Written], failed: Path, error: OSError) -> None:
        self.written, self.failed = tuple(written), failed
        done = ", ".join(spelling(str(w.path)) for w in written) or "aucun"
        super().__init__(
            f"écriture de {spelling(str(failed))} impossible ({error.strerror or error}) : "
            f"fichiers déjà modifiés : {done} ; les autres sont inchangés."
        )


def write_edits(
    edits: Sequence[Edit],
    validate: Callable[[Mapping[Path, bytes]], Sequence[Problem]],
    lock_dir: Path,
) -> list[Written]:
    """Several files changed together, under one lock: every file is read, its version checked
    and its new content prepared first; ``validate`` sees all the new contents at once; only
    then is each file written (atomically, one after the other).

    Raises :class:`WriteConflict` (the first file changed meanwhile) or :class:`WriteRefused`
    with nothing written; :class:`PartialWrite` when writing fails midway (the files already
    written are named)."""
    with folder_lock(lock_dir):
        prepared: list[tuple[Path, bytes, Any, bool]] = []
        for edit in edits:
            draft = read_draft(edit.path)
            tree = edit.change(draft.tree)
            text = render(tree)
            if draft.version != edit.version or not draft.exists:
                raise WriteConflict(edit.path, draft.text, text)
            data = text.encode("utf-8")
            try:
                reread = parse_yaml(data)
            except FileProblem as exc:  # pragma: no cover - the trees hold safe values
                raise WriteRefused([Problem(spelling(str(edit.path)), "", exc.message)]) from exc
            if plain(reread) != plain(tree):
                raise WriteRefused(  # pragma: no cover - a writer bug, never silent
                    [
                        Problem(
                            spelling(str(edit.path)),
                            "",
                            "écriture incohérente (rien n'a été écrit)",
                        )
                    ]
                )
            before = plain(parse_yaml(draft.text.encode("utf-8")))
            prepared.append((edit.path, data, changes(before, plain(reread)), False))
        problems = list(validate({path: data for path, data, _c, _n in prepared}))
        if problems:
            raise WriteRefused(problems)
        written: list[Written] = []
        for path, data, found, created in prepared:
            try:
                atomic_write(path, data)
            except OSError as exc:
                raise PartialWrite(written, path, exc) from exc
            written.append(Written(path, version_of(data), created, found))
        return written
