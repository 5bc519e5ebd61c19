"""IMAP IDLE for the daemon: one thread keeps a connection waiting on the inbox folder and asks
for a read as soon as the server announces new mail (the reading itself is the scheduler's
*inbox* job: one reader at a time, under the instance lease).

A server without IDLE leaves the periodic job alone (``poll_seconds``); a connection that fails
is opened again after a growing delay. The thread never records or moves anything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from syncsvc.app.passes import Backoff, reason_of
from syncsvc.inputs.settings import NamedInbox

log = logging.getLogger("syncsvc.inbox")
IDLE_SECONDS = 25 * 60.0
"""One IDLE at most this long, then a new one (RFC 2177: servers may end it after 30 min)."""


class InboxIdle(threading.Thread):
    def __init__(self, inbox: NamedInbox, base: Path, wake: Callable[[], None]) -> None:
        suffix = f"-{inbox.name}" if inbox.name else ""
        super().__init__(name=f"syncsvc-inbox-idle{suffix}", daemon=True)
        self.inbox, self.base, self.wake = inbox, base, wake
        self.stopping = threading.Event()
        self.backoff = Backoff(first=5.0, longest=300.0)

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        from syncsvc.app.inbox import account_of  # the IMAP client: only in this thread
        from syncsvc.mailer.imap import Mailbox

        inbox = self.inbox.settings
        while not self.stopping.is_set():
            try:
                with Mailbox(account_of(inbox, self.base, self.inbox.label)) as box:
                    if not box.can_idle:
                        log.info(
                            "le serveur IMAP n'offre pas IDLE : lecture toutes les %d s",
                            inbox.poll_seconds,
                        )
                        return
                    box.select(inbox.folder)
                    self.backoff.succeeded()
                    self.wake()  # what arrived before this IDLE began is read too
                    while not self.stopping.is_set():
                        if box.wait(IDLE_SECONDS, self.stopping.is_set):
                            self.wake()
            except Exception as exc:  # the thread must live: one French line, then again
                delay = self.backoff.failed()
                log.warning(
                    "attente IMAP (IDLE) de %s interrompue : %s ; nouvel essai dans %d s",
                    self.inbox.label,
                    reason_of(exc),
                    delay,
                )
                self.stopping.wait(delay)
