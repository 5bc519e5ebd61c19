"""Half of a long job in a forked child, on the machine's other core (POSIX only).

For the one-shot commands (``plan``, ``validate``) on thousands of sessions: the parent starts
:func:`in_child` with the second half of the work, does the first half itself, then takes what
the child sends with :meth:`Child.receive`: each value the child's work yields, pickled through
a pipe, in order.

Nothing is lost and nothing changes when the child cannot help: when no child can start,
:func:`in_child` gives None; when the child fails for any reason (an exception, a signal, a
value that cannot be pickled), :meth:`Child.receive` raises :class:`ChildFailed` — the caller
then does that half itself, in the same order: the same output, and the same error raised in
the parent as it would have been without a child. The child never writes to the parent's
streams: it leaves with ``os._exit`` (no buffered output flushed twice, no ``atexit`` handler
run again).

Only where it is safe and useful (:func:`can_fork`): ``os.fork``, a single thread (a forked
thread would hold the locks of threads that do not exist in the child) and two CPUs at least;
the service, with its threads, never calls this.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

_LENGTH = 8
"""Each value is sent as its pickle's length (8 bytes, big-endian) then the pickle."""


class ChildFailed(Exception):
    """The child stopped before sending the value asked for."""


def can_fork() -> bool:
    """Whether a child may share the work: POSIX, one thread, two CPUs or more."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cpus or 1) >= 2


class Child:
    """A forked child sending values (see the module's docstring)."""

    def __init__(self, pid: int, reading: int) -> None:
        self._pid: int | None = pid
        self._pipe = os.fdopen(reading, "rb")

    def receive(self) -> Any:
        """The next value the child sends; ChildFailed when it stopped before."""
        try:
            head = self._pipe.read(_LENGTH)
            if len(head) == _LENGTH:
                size = int.from_bytes(head, "big")
                data = self._pipe.read(size)
                if len(data) == size:
                    import pickle  # only when a child shares the work (a few ms of start-up)

                    return pickle.loads(data)
        except Exception:  # a broken pipe, a truncated pickle: as if the child had failed
            pass
        self.close()
        raise ChildFailed

    def close(self) -> bool:
        """Stop listening and wait for the child (it stops on its own: a child still
        sending gets a broken pipe); True when it finished its work."""
        self._pipe.close()
        if self._pid is None:
            return False
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def in_child(work: Callable[[], Iterator[Any]]) -> Child | None:
    """``work()`` started in a forked child, each value it yields sent to the parent; None
    when no child could be started."""
    try:
        reading, writing = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(reading)
        os.close(writing)
        return None
    if pid == 0:  # the child: compute, send, leave without running anything of the parent's
        code = 1
        try:
            os.close(reading)
            import pickle

            with os.fdopen(writing, "wb") as pipe:
                for value in work():
                    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                    pipe.write(len(data).to_bytes(_LENGTH, "big") + data)
                    pipe.flush()
            code = 0
        finally:
            os._exit(code)
    os.close(writing)
    return Child(pid, reading)
