"""The configuration folder as a living source: loaded on first use, reloaded when it changes.

One watcher for the whole process. Its *fingerprint* is (path, modification time, size) of
every file under the configuration folder (``centres.yaml``, ``sessions/``, ``syncsvc.toml``…):
an edit, a new file or a removed one all change it. :meth:`ConfigSource.current` loads again
only when the fingerprint changed (and parses again only the session files whose bytes
changed); ``generation`` counts the loads, so caches built on a configuration know when to
rebuild. A daemon that polls the folder itself (:meth:`ConfigSource.changed`) can tell readers
to trust the last load for a while (``recheck_seconds``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from syncsvc.core.config import Config
from syncsvc.inputs.loader import SessionParser, load_config, load_ruleset

log = logging.getLogger("syncsvc.config")
Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(directory: Path) -> Fingerprint:
    """(relative path, mtime in ns, size) of every file under ``directory``, sorted.

    Symbolic links are followed to files but not to folders (as ``os.walk`` does); ``os.scandir``
    keeps it at one ``stat`` per file (1,000 session files: a few milliseconds, and the daemon
    looks several times a second)."""
    found: list[tuple[str, int, int]] = []
    pending = [("", str(directory))]
    while pending:
        prefix, folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = prefix + entry.name
            try:
                if entry.is_dir():
                    if not entry.is_symlink():
                        pending.append((name + os.sep, entry.path))
                    continue
                stat = entry.stat()
            except OSError:
                found.append((name, -1, -1))
                continue
            found.append((name, stat.st_mtime_ns, stat.st_size))
    found.sort()
    return tuple(found)


class ConfigSource:
    """The configuration of one folder, as the files are now."""

    def __init__(self, config_dir: Path, ruleset: str, recheck_seconds: float = 0.0) -> None:
        self.config_dir = config_dir
        self.ruleset = ruleset
        self.recheck_seconds = recheck_seconds
        """Look at the files at most this often (0: at every use)."""
        self.generation = 0
        self.parser = SessionParser()
        self._lock = threading.Lock()
        self._seen: Fingerprint | None = None
        self._config: Config | None = None
        self._checked_at = float("-inf")

    def invalidate(self) -> None:
        """Look at the files again at the next use, whatever ``recheck_seconds`` says."""
        with self._lock:
            self._checked_at = float("-inf")

    def changed(self) -> bool:
        """True when the files differ from the last load (for a watcher's polling)."""
        return fingerprint(self.config_dir) != self._seen

    def current(self) -> Config:
        """The configuration as the files are now (ConfigError when the folder is gone)."""
        with self._lock:
            # Monotonic time paces the stat calls only; it decides nothing about the business.
            moment = time.monotonic()
            if self._config is not None and moment - self._checked_at < self.recheck_seconds:
                return self._config
            self._checked_at = moment
            seen = fingerprint(self.config_dir)
            if self._config is None or seen != self._seen:
                # The fingerprint is read before loading: an edit during the load reloads again.
                self._config = load_config(self.config_dir, load_ruleset(self.ruleset), self.parser)
                self._seen = seen
                self.generation += 1
                log.info(
                    "configuration chargée : %d session(s), %d problème(s)",
                    len(self._config.sessions),
                    len(self._config.problems),
                )
            return self._config
