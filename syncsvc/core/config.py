"""The loaded configuration as one value: centres, their rulesets, sessions, and every problem.

:mod:`syncsvc.inputs.loader` fills it from the configuration folder; everything downstream reads
it. A session whose file exists but failed to load is not in :attr:`Config.sessions`; its id is in
:attr:`Config.broken_session_ids`, so that nothing downstream deletes its calendar events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from syncsvc.core.fields import spelling
from syncsvc.core.model import Centre, DirectoryJuror, Session
from syncsvc.core.rules import Ruleset
from syncsvc.errors import Problem


@dataclass
class JuryDirectory:
    """``jury.yaml`` as loaded: its valid jurors by e-mail, and what could not be read.

    A juror whose entry is invalid is in :attr:`broken` (not in :attr:`jurors`); when the file
    itself cannot be read, :attr:`readable` is False. Either way, a session that takes a juror
    from the directory and cannot get it is refused (and protected), never loaded without it.
    """

    jurors: dict[str, DirectoryJuror] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    """E-mails (as written, lower case) of the entries that failed validation."""
    readable: bool = True
    exists: bool = False
    digest: str = ""
    """SHA-256 of the file's bytes ("" when absent): a session parsed with another directory
    is parsed again."""


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
    jury: JuryDirectory = field(default_factory=JuryDirectory)
    """The jury directory (``jury.yaml``), empty when the file is absent."""
    jury_references: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The e-mails each loaded session takes from the jury directory, by session id."""
    warnings: list[Problem] = field(default_factory=list)
    """Remarks that load anyway (a session's jury value that differs from the directory's)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def structure_broken(self) -> bool:
        """``centres.yaml`` or the sessions folder could not be read: any session may be
        missing for that reason alone, so none may be treated as deleted."""
        structural = {
            spelling(str(self.directory / "centres.yaml")),
            spelling(str(self.directory / "sessions")),
        }
        return any(p.file in structural for p in self.problems)
