"""Reading one configuration file without trusting what sits at its path.

Only a regular file is read, never a directory, a named pipe (FIFO), a device or a socket: its
type is checked with ``lstat``/``stat`` before it is opened (reading ``/dev/zero`` would never
end, opening a FIFO would block). A symbolic link is followed only when it resolves inside the
configuration folder: a link to ``/etc/shadow`` is refused before anything is read. A file larger
than 1 Mo is refused unread. Every refusal is a French message that shows nothing of the content.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

MAX_FILE_BYTES = 1_000_000
"""A configuration file larger than this (1 Mo) is refused unread."""

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the check must not block
    | getattr(os, "O_NOFOLLOW", 0)  # nor a symlink swapped in after the check be followed
    | getattr(os, "O_CLOEXEC", 0)
)


class FileProblem(Exception):
    """A file cannot be used as it is; ``message`` says why, in French."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_ERRORS = {
    errno.EACCES: "accès refusé",
    errno.EPERM: "accès refusé",
    errno.ENOENT: "le fichier a disparu pendant la lecture",
    errno.ELOOP: "lien symbolique apparu pendant la lecture",
    errno.ENAMETOOLONG: "nom trop long",
    errno.EIO: "erreur d'entrée-sortie du disque",
}


def _unreadable(exc: OSError) -> FileProblem:
    reason = _ERRORS.get(exc.errno or 0, f"erreur système {errno.errorcode.get(exc.errno or 0)}")
    return FileProblem(f"fichier illisible : {reason} (attendu : un fichier lisible)")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "un dossier"
    if stat.S_ISFIFO(mode):
        return "un tube nommé (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "un périphérique"
    if stat.S_ISSOCK(mode):
        return "une socket"
    return "un fichier spécial"


def _not_regular(mode: int) -> FileProblem:
    return FileProblem(
        f"{_kind(mode)}, pas un fichier ordinaire : non lu (attendu : un fichier YAML)"
    )


def _too_large(size: int) -> FileProblem:
    return FileProblem(
        f"fichier trop volumineux ({size / 1_000_000:.1f} Mo) : non lu (attendu : au plus "
        "1 Mo ; un fichier de configuration fait quelques Ko)"
    )


def _follow(path: Path, inside: Iterable[Path]) -> Path:
    """The real path a symlink leads to, when it exists inside one of the ``inside`` folders."""
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise FileProblem(
            "lien symbolique cassé : sa cible n'existe pas (attendu : un fichier, ou un lien "
            "vers un fichier du dossier de configuration)"
        ) from None
    except (RuntimeError, OSError):  # a loop (RuntimeError before Python 3.13), or no access
        raise FileProblem(
            "lien symbolique en boucle ou inaccessible (attendu : un fichier, ou un lien vers "
            "un fichier du dossier de configuration)"
        ) from None
    if not any(real.is_relative_to(folder) for folder in inside):
        raise FileProblem(
            "lien symbolique vers un fichier hors du dossier de configuration : non lu "
            "(attendu : un fichier du dossier de configuration)"
        )
    return real


def read_config_file(path: str | Path, inside: Iterable[Path]) -> bytes:
    """The bytes of the regular file at ``path`` (a symlink is followed only to a file inside
    one of the ``inside`` folders, given resolved); FileProblem when it cannot be used."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            path = _follow(Path(path), inside)
            info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(info.st_mode)
        if info.st_size > MAX_FILE_BYTES:
            raise _too_large(info.st_size)
        with os.fdopen(os.open(path, _OPEN_FLAGS), "rb") as stream:
            # what was opened is checked again: the entry may have changed since lstat
            opened = os.fstat(stream.fileno())
            if not stat.S_ISREG(opened.st_mode):
                raise _not_regular(opened.st_mode)
            # read what fstat announced (plus one byte to see a file that grew), never more
            # than the limit: asking for the whole limit would allocate it for every file
            data = stream.read(min(opened.st_size, MAX_FILE_BYTES) + 1)
            if len(data) > opened.st_size:
                data += stream.read(MAX_FILE_BYTES + 1 - len(data))
    except OSError as exc:
        raise _unreadable(exc) from None
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(len(data))
    return data
