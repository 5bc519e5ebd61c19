"""The entries of ``config/sessions/``: each one is a session file to load, or a problem.

Rule: every entry is accounted for. Only the entries whose name starts with a dot are ignored
(editors' swap, lock and backup files such as ``.sa-2027.yaml.swp``); every other entry is read
(see :func:`syncsvc.inputs.files.read_config_file`: regular files only, symlinks only inside the
configuration folder, at most 1 Mo) and is either a session file named ``<id>.yaml`` or
``<id>.yml``, or reported. An entry that is refused still names its session (its name without
every suffix: ``sa-2027.yaml~`` names ``sa-2027``), so that its calendar events are kept.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from syncsvc.core.fields import spelling
from syncsvc.core.model import SESSION_ID_PATTERN
from syncsvc.inputs.files import FileProblem, read_config_file

SESSION_SUFFIXES = (".yaml", ".yml")
_SESSION_ID = re.compile(SESSION_ID_PATTERN)

NOT_A_SESSION_FILE = (
    "n'est pas un fichier de session (attendu : <identifiant>.yaml ; renommer le fichier, ou "
    "le sortir du dossier sessions/)"
)
BAD_NAME = (
    "nom de fichier invalide (attendu : <identifiant>.yaml, l'identifiant de la session en "
    "minuscules, chiffres et tirets, ex. sa-2027-03-st-andre.yaml)"
)


@dataclass(frozen=True, slots=True)
class SessionEntry:
    """One entry of the sessions folder, read or refused."""

    path: Path
    file: str
    """The path as messages show it (undecodable bytes and control characters escaped)."""
    name_id: str
    """The session the name gives: the name without every suffix, spelled like ``file``."""
    data: bytes | None
    """The bytes of the file; None when it was refused (see ``refusal``)."""
    refusal: str | None
    """Why the entry was not read (not a regular file, link out of the folder, too large)."""
    name_problem: str | None
    """Why the name is not ``<id>.yaml``; None for a well-named session file."""

    @property
    def is_session_file(self) -> bool:
        """Named ``….yaml`` or ``….yml``: its content is reported (not only its name)."""
        return self.name_problem is None or self.name_problem == BAD_NAME


def _name_problem(name: str) -> str | None:
    suffix = next((s for s in SESSION_SUFFIXES if name.endswith(s)), None)
    if suffix is None:
        return NOT_A_SESSION_FILE
    if _SESSION_ID.fullmatch(name.removesuffix(suffix)) is None:
        return BAD_NAME
    return None


def session_entries(
    directory: Path, inside: tuple[Path, ...], only: Collection[str] | None = None
) -> Iterator[SessionEntry]:
    """The entries of ``directory`` in name order, hidden ones left out (OSError when the
    folder itself cannot be listed). ``inside``: the folders a symlink may lead to (resolved);
    ``only``: the names of the entries wanted (default: all)."""
    base = os.fspath(directory)
    for name in sorted(os.listdir(base)):
        if name.startswith(".") or (only is not None and name not in only):
            continue
        location = os.path.join(base, name)
        data: bytes | None = None
        refusal: str | None = None
        try:
            data = read_config_file(location, inside)
        except FileProblem as exc:
            refusal = exc.message
        yield SessionEntry(
            path=directory / name,
            file=spelling(location),
            name_id=spelling(name.split(".", 1)[0]),
            data=data,
            refusal=refusal,
            name_problem=_name_problem(name),
        )
