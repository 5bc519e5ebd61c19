"""One process at a time: the test suite runs in several worker processes (pytest-xdist), and
what a test installs on the machine (apt-get, npm) must not be done by two of them at once —
dpkg refuses a second apt-get while the first holds its lock, and two ``npm ci`` in one folder
tear each other's ``node_modules`` down.

A lock file per kind of work (``apt``, ``icaljs``) in the temporary folder, taken with
``flock``: the second worker waits, then finds the thing installed and goes on. The lock goes
with the process, even when it is killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def one_at_a_time(name: str) -> Iterator[None]:
    """Hold the machine-wide lock ``name`` for the block."""
    path = Path(tempfile.gettempdir()) / f"syncsvc-tests-{name}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
