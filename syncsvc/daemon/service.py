"""``syncsvc run``: the long-running service.

APScheduler (``AsyncIOScheduler``) paces three jobs, each ``coalesce=True, max_instances=1``:

- *reconcile*: every N minutes, and shortly after any change under ``config/`` (the folder is
  watched by polling its files' sizes and modification times, with a debounce);
- *notify*: every minute, queue what is due and drain the outbox (its retries included);
- *watch*: the config watcher above;
- *inbox* (when ``[mail.inbox]`` is set; ``inbox:<name>`` for each ``[mail.inboxes.<name>]``):
  read the jurors' replies of that mailbox every ``poll_seconds``, and at once when the server
  announces new mail through IMAP IDLE (a thread per mailbox keeps one IDLE connection open
  where the server offers it). Each mailbox has its own job and backoff: one that fails does
  not hold the others.

No business state lives in the scheduler: what was pushed, sent and done is in the store, so a
restart loses nothing and a reminder due while the service was down goes out on restart, once
(the outbox keys make it so). The web app (dashboard, feeds, health) runs in the same event loop.

One instance is active per store: a lock file next to a SQLite database, a PostgreSQL advisory
lock otherwise. A second process waits as a standby and takes over when the lock is released
(the operating system releases both when the holder dies).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import uvicorn
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from syncsvc.app.feeds import FeedPublisher
from syncsvc.app.fence import Fence, Keeper
from syncsvc.app.mailboxes import mailbox_warnings
from syncsvc.app.notify import notify
from syncsvc.app.passes import Backoff, reason_of
from syncsvc.app.status import ProcessStatus
from syncsvc.app.sync import Syncer
from syncsvc.core.clock import Clock
from syncsvc.core.config import Config
from syncsvc.daemon.idle import InboxIdle
from syncsvc.daemon.jobs import Jobs
from syncsvc.daemon.web import WebServer
from syncsvc.errors import NotActive
from syncsvc.inputs.settings import Settings
from syncsvc.inputs.watcher import ConfigSource, fingerprint
from syncsvc.state.store import Store

log = logging.getLogger("syncsvc")
STANDBY_POLL_SECONDS = 5.0
LOST_POLL_SECONDS = 1.0
SHUTDOWN_WAIT_SECONDS = 30.0


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- the daemon ------------------------------------------------------------------------------


class Daemon:
    def __init__(
        self,
        config_dir: Path,
        settings: Settings,
        store: Store,
        *,
        clock: Clock = utcnow,
        serve_web: bool = True,
    ) -> None:
        self.config_dir = config_dir
        self.settings = settings
        self.store = store
        self.clock = clock
        self.serve_web = serve_web
        self.status = ProcessStatus()
        self.stopping = asyncio.Event()
        d = settings.daemon
        # One watcher for the process: readers trust the last load for a while, and the watch
        # job below tells them when the files change.
        self.source = ConfigSource(
            config_dir, settings.ruleset, max(1.0, d.watch_every_seconds * 5)
        )
        self.syncer = Syncer(store)
        self.fence: Fence | None = None
        self.feeds = FeedPublisher(settings, store, self.source, clock, self.syncer.renderer)
        self.jobs = Jobs()
        self.reconcile_backoff = Backoff()
        self._last_reason = ""
        self.notify_backoff = Backoff()
        self.inbox_backoffs: dict[str, Backoff] = {
            named.name: Backoff() for named in settings.mail.all_inboxes()
        }
        self.idles: list[InboxIdle] = []
        self.target_backoff = Backoff(first=10.0, longest=d.reconcile_every_minutes * 60)
        self._seen = fingerprint(config_dir)
        self._marks: tuple[int, str] | None = None
        self._changed_at: float | None = None
        self._logged_generation = -1
        self.scheduler: AsyncIOScheduler | None = None
        self._lock = threading.Lock()
        self._running = False
        self._dirty = False
        self.server: uvicorn.Server | None = None

    # jobs (run in the loop's thread pool: they block on I/O) ---------------------------------

    def _config(self) -> Config:
        config = self.source.current()
        if self.source.generation != self._logged_generation:
            self._logged_generation = self.source.generation
            for problem in config.problems:
                log.warning("configuration : %s", problem)
            for remark in mailbox_warnings(config, self.settings):
                log.warning("configuration : %s", remark)
        return config

    def reconcile(self) -> None:
        """Passes until no change arrived meanwhile (an edit during a pass is never lost:
        the scheduler would skip a second instance of a running job). A pass that cannot run
        is one French line, not ready, and tried again after a growing delay."""
        delay = self._guarded("synchronisation", self._reconcile_passes, self.reconcile_backoff)
        if delay is not None:
            self.status.reconcile_failed(self._last_reason, self.clock())
            self._retry_reconcile_in(delay)

    def _guarded(self, what: str, job: Callable[[], None], backoff: Backoff) -> float | None:
        """Run a pass unless it is backing off; a pass that fails is one French line and a
        growing delay (returned, with the reason in ``_last_reason``); None otherwise."""
        if not backoff.ready():
            return None
        try:
            job()
        except NotActive as exc:
            log.warning("%s interrompue : %s", what, exc)
        except Exception as exc:
            self._last_reason = reason_of(exc)
            delay = backoff.failed()
            log.error("%s impossible : %s ; nouvel essai dans %d s", what, self._last_reason, delay)
            return delay
        else:
            backoff.succeeded()
        return None

    def _reconcile_passes(self) -> None:
        with self._lock:
            self._running = True
        try:
            while True:
                with self._lock:
                    self._dirty = False
                self._reconcile_once()
                with self._lock:
                    if not self._dirty:
                        self._running = False
                        return
        except BaseException:
            with self._lock:
                self._running = False
            raise

    def request_reconcile(self) -> None:
        """Reconcile as soon as possible (a file edit, a milestone marked done)."""
        with self._lock:
            self._dirty = True
            if self._running:
                return  # the running pass will go round again
        self._reschedule_reconcile(datetime.now(UTC))

    def _reconcile_once(self) -> None:
        started = time.monotonic()
        now = self.clock()
        config = self._config()
        results = []
        for report in self.syncer.sync_all(self.settings, config, now):
            counts = report.done
            log.info(
                "synchronisation %s : %d création(s), %d mise(s) à jour, %d suppression(s)%s",
                report.name,
                counts["create"],
                counts["update"],
                counts["delete"],
                "" if report.ok else " — " + (report.refused or "; ".join(report.errors[:3])),
            )
            results.append((report.name, not report.errors, time.monotonic() - started))
        self.feeds.refresh()
        self.status.record_reconcile(results, self.clock())
        failing = [name for name, ok, _ in results if not ok]
        if failing:
            # A server that comes back is used again within seconds, not at the next
            # periodic pass (15 minutes by default).
            delay = self.target_backoff.failed()
            log.info("cible(s) en erreur (%s) : nouvel essai dans %d s", ", ".join(failing), delay)
            self._retry_reconcile_in(delay)
        else:
            self.target_backoff.succeeded()

    def _retry_reconcile_in(self, seconds: float) -> None:
        self._reschedule_reconcile(datetime.now(UTC) + timedelta(seconds=seconds))

    def _reschedule_reconcile(self, when: datetime) -> None:
        scheduler = self.scheduler
        if scheduler is None:
            return  # stopping, or standby: the next active period starts with a pass anyway
        with contextlib.suppress(JobLookupError):  # shut down meanwhile
            scheduler.modify_job("reconcile", next_run_time=when)

    def notify(self) -> None:
        if self._guarded("passage des envois", self._notify_once, self.notify_backoff):
            self.status.notify_failed(self._last_reason)

    def _notify_once(self) -> None:
        now = self.clock()
        report = notify(self.settings, self._config(), self.store, now, fence=self.fence)
        drained = report.drained
        if report.queued or (drained and (drained.sent or drained.errors)):
            log.info(
                "e-mails : %d mis en file, %d envoyé(s), %d à réessayer, %d en échec",
                len(report.queued),
                drained.sent if drained else 0,
                drained.retried if drained else 0,
                drained.dead if drained else 0,
            )
        if drained is not None:
            self.status.record_notify(drained.sent, drained.dead, self.clock())
        stuck = drained is not None and drained.errors and not drained.sent
        self.status.notify_failed(drained.errors[0] if stuck and drained else None)

    def inbox(self, name: str = "") -> None:
        """Read one of the organisers' inboxes once (the jury's replies)."""
        label = f"« {name} » " if name else ""
        backoff = self.inbox_backoffs.setdefault(name, Backoff())
        delay = (
            self._guarded(
                f"lecture des réponses du jury {label}".rstrip(),
                lambda: self._inbox_once(name),
                backoff,
            )
            if backoff.ready()
            else backoff.remaining()  # woken by IDLE while backing off: keep the retry
        )
        if delay is not None:
            # A mailbox out of reach (at start-up, or for a while) is tried again after the
            # backoff delay, not at the next periodic read (an hour away when IDLE is relied
            # upon).
            self._reschedule_inbox(name, datetime.now(UTC) + timedelta(seconds=delay))

    def _inbox_reader(self, name: str) -> Callable[[], None]:
        def inbox() -> None:
            self.inbox(name)

        inbox.__name__ = _inbox_job(name)
        return inbox

    def _inbox_once(self, name: str) -> None:
        from syncsvc.app.inbox import read_inbox  # the IMAP client: only when an inbox is set

        report = read_inbox(
            self.settings, self._config(), self.store, self.clock(), fence=self.fence, name=name
        )
        for line in report.lines:
            log.info("réponse du jury : %s", line)

    def request_inbox(self, name: str = "") -> None:
        """Read an inbox as soon as possible (IDLE said new mail arrived)."""
        self._reschedule_inbox(name, datetime.now(UTC))

    def _reschedule_inbox(self, name: str, when: datetime) -> None:
        scheduler = self.scheduler
        if scheduler is None:
            return  # stopping: the next active period starts with a read anyway
        with contextlib.suppress(JobLookupError):  # shut down meanwhile
            scheduler.modify_job(_inbox_job(name), next_run_time=when)

    def watch(self) -> None:
        """Reconcile soon after the config folder changes (once it has been quiet a moment),
        and at once when a milestone was marked done or undone by another process."""
        marks = self.store.marks_version()
        if self._marks is None:
            self._marks = marks  # the first look: nothing changed yet
        elif marks != self._marks:
            self._marks = marks
            log.info("marque « fait » modifiée : synchronisation")
            self.request_reconcile()
        current = fingerprint(self.config_dir)
        if current != self._seen:
            self._seen = current
            self._changed_at = time.monotonic()
            self.source.invalidate()
            return
        if self._changed_at is not None and (
            time.monotonic() - self._changed_at >= self.settings.daemon.debounce_seconds
        ):
            self._changed_at = None
            log.info("configuration modifiée : synchronisation")
            self.request_reconcile()

    # life cycle --------------------------------------------------------------------------------

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)

    async def _open_store(self) -> bool:
        """Bring the store's schema up to date; while it cannot be (read-only folder, database
        out of reach), one French line and a new attempt after a growing delay."""
        backoff = Backoff(first=2.0, longest=60.0)
        while not self.stopping.is_set():
            try:
                await asyncio.to_thread(self.store.migrate)
                self._marks = await asyncio.to_thread(self.store.marks_version)
                return True
            except Exception as exc:
                delay = backoff.failed()
                log.error(
                    "base d'état inutilisable : %s ; nouvel essai dans %d s", reason_of(exc), delay
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), delay)
        return False

    async def _wait_for_lease(self) -> Fence | None:
        """The instance lease, as soon as no other live instance holds it (None: stopping)."""
        seconds = self.settings.daemon.lease_seconds
        poll = min(STANDBY_POLL_SECONDS, seconds / 3)
        announced = False
        while not self.stopping.is_set():
            fence = await asyncio.to_thread(Fence.take, self.store, seconds)
            if fence is not None:
                log.info("instance active (bail n° %d)", fence.epoch)
                return fence
            if not announced:
                log.info("une autre instance est active : en attente")
                announced = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), poll)
        return None

    async def run(self) -> int:
        self._install_signals()
        if not await self._open_store():
            log.info("arrêt terminé")
            return 0
        while not self.stopping.is_set():
            fence = await self._wait_for_lease()
            if fence is None:
                break
            self.fence = fence
            self.syncer = Syncer(
                self.store,
                renderer=self.syncer.renderer,
                limiters=self.syncer.limiters,
                fence=fence,
            )
            try:
                with Keeper(fence):
                    await self._run_active()
            finally:
                fence.give_back()
            if fence.lost.is_set() and not self.stopping.is_set():
                log.warning("instance remplacée par une autre : retour en attente")
        log.info("arrêt terminé")
        return 0

    async def _run_active(self) -> None:
        if not self.settings.mail.all_inboxes():
            log.info(
                "réponses du jury : aucune boîte lue ([mail.inbox]) ; seules les réponses par "
                "lien et celles saisies dans le panneau « Jury » sont enregistrées"
            )
        scheduler = self._scheduler()
        self.scheduler = scheduler
        scheduler.start()
        web = self._web_server() if self.serve_web else None
        if web is not None:
            web.start()
        for named in self.settings.mail.all_inboxes():
            if named.settings.idle:
                idle = InboxIdle(named, self.config_dir, partial(self.request_inbox, named.name))
                self.idles.append(idle)
                idle.start()
        await self._until_stop_or_lost()
        log.info("arrêt demandé : fin des tâches en cours")
        # No new run starts; the running jobs finish (bounded) before the scheduler shuts down:
        # shutting it down first would cancel their futures (a CancelledError traceback while
        # the thread goes on) and remove the jobs they reschedule.
        scheduler.pause()
        for idle in self.idles:
            idle.stop()
        for idle in self.idles:
            await asyncio.to_thread(idle.join, SHUTDOWN_WAIT_SECONDS)
        self.idles = []
        await asyncio.to_thread(self.jobs.wait_idle, SHUTDOWN_WAIT_SECONDS)
        scheduler.shutdown(wait=False)
        self.scheduler = None
        if web is not None:
            await web.stop()

    def _scheduler(self) -> AsyncIOScheduler:
        d = self.settings.daemon
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        now = datetime.now(UTC)
        jobs = self.jobs
        scheduler.add_job(
            jobs.wrap(self.reconcile),
            "interval",
            minutes=d.reconcile_every_minutes,
            id="reconcile",
            next_run_time=now,
        )
        scheduler.add_job(
            jobs.wrap(self.notify),
            "interval",
            seconds=d.notify_every_seconds,
            id="notify",
            next_run_time=now,
        )
        scheduler.add_job(
            jobs.wrap(self.watch), "interval", seconds=d.watch_every_seconds, id="watch"
        )
        for named in self.settings.mail.all_inboxes():  # one reader per mailbox
            scheduler.add_job(
                jobs.wrap(self._inbox_reader(named.name)),
                "interval",
                seconds=named.settings.poll_seconds,
                id=_inbox_job(named.name),
                next_run_time=now,
            )
        return scheduler

    async def _until_stop_or_lost(self) -> None:
        """Until a stop is asked for, or the lease is lost (another instance took over)."""
        fence = self.fence
        while not self.stopping.is_set():
            if fence is not None and fence.lost.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), LOST_POLL_SECONDS)

    def _web_server(self) -> WebServer:
        from syncsvc.web import create_app

        app = create_app(
            self.source,
            self.settings,
            self.store,
            self.clock,
            self.status,
            on_marked=self.request_reconcile,
            publisher=self.feeds,
        )
        return WebServer(app, self.settings.web.host, self.settings.web.port, self.stopping)


def _inbox_job(name: str) -> str:
    """The scheduler's id of the job reading inbox ``name`` ("": ``[mail.inbox]``)."""
    return f"inbox:{name}" if name else "inbox"
