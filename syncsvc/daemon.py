"""``syncsvc run``: the long-running service.

APScheduler (``AsyncIOScheduler``) paces three jobs, each ``coalesce=True, max_instances=1``:

- *reconcile*: every N minutes, and shortly after any change under ``config/`` (the folder is
  watched by polling its files' sizes and modification times, with a debounce);
- *notify*: every minute, queue what is due and drain the outbox (its retries included);
- *watch*: the config watcher above.

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
import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from syncsvc.app.feeds import FeedPublisher
from syncsvc.app.notify import notify
from syncsvc.app.status import Status
from syncsvc.app.sync import Syncer
from syncsvc.core.config import Config
from syncsvc.inputs.settings import Settings
from syncsvc.inputs.watcher import ConfigSource, fingerprint
from syncsvc.state.lock import InstanceLock
from syncsvc.state.store import Store

log = logging.getLogger("syncsvc")
Clock = Callable[[], datetime]
STANDBY_POLL_SECONDS = 5.0
SHUTDOWN_WAIT_SECONDS = 30.0


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- logging ---------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s : %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "uvicorn.access", "niquests", "urllib3", "httpx", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# --- the daemon ------------------------------------------------------------------------------


class Jobs:
    """Counts the jobs running in the scheduler's threads, so that a stop can wait for them
    (bounded) without reaching into the scheduler's executor."""

    def __init__(self) -> None:
        self._running = 0
        self._idle = threading.Condition()

    def wrap(self, job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            with self._idle:
                self._running += 1
            try:
                job()
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

        run.__name__ = job.__name__
        return run

    def wait_idle(self, seconds: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, seconds)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


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
        self.status = Status()
        self.stopping = asyncio.Event()
        d = settings.daemon
        # One watcher for the process: readers trust the last load for a while, and the watch
        # job below tells them when the files change.
        self.source = ConfigSource(
            config_dir, settings.ruleset, max(1.0, d.watch_every_seconds * 5)
        )
        self.syncer = Syncer(store)
        self.feeds = FeedPublisher(settings, store, self.source, clock, self.syncer.renderer)
        self.jobs = Jobs()
        self._seen = fingerprint(config_dir)
        self._marks = store.marks_version() if store.version() else (0, "")
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
        return config

    def reconcile(self) -> None:
        """Passes until no change arrived meanwhile (an edit during a pass is never lost:
        the scheduler would skip a second instance of a running job)."""
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
        if self.scheduler is not None:
            self.scheduler.modify_job("reconcile", next_run_time=datetime.now(UTC))

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
            results.append((report.name, report.ok, time.monotonic() - started))
        self.feeds.refresh()
        self.status.record_reconcile(results, self.clock())

    def notify(self) -> None:
        now = self.clock()
        report = notify(self.settings, self._config(), self.store, now)
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

    def watch(self) -> None:
        """Reconcile soon after the config folder changes (once it has been quiet a moment),
        and at once when a milestone was marked done or undone by another process."""
        marks = self.store.marks_version()
        if marks != self._marks:
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

    async def _wait_for_lock(self, lock: InstanceLock) -> bool:
        announced = False
        while not self.stopping.is_set():
            if await asyncio.to_thread(lock.try_acquire):
                log.info("instance active (%s)", lock.describe())
                return True
            if not announced:
                log.info("une autre instance est active (%s) : en attente", lock.describe())
                announced = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), STANDBY_POLL_SECONDS)
        return False

    async def run(self) -> int:
        self._install_signals()
        self.store.migrate()
        self._marks = self.store.marks_version()
        lock = InstanceLock(self.store)
        if not await self._wait_for_lock(lock):
            return 0
        try:
            await self._run_active()
        finally:
            lock.release()
        log.info("arrêt terminé")
        return 0

    async def _run_active(self) -> None:
        scheduler = self._scheduler()
        self.scheduler = scheduler
        scheduler.start()
        server_task = self._serve_web() if self.serve_web else None
        await self.stopping.wait()
        log.info("arrêt demandé : fin des tâches en cours")
        scheduler.pause()
        await asyncio.to_thread(scheduler.shutdown, True)
        if self.server is not None and server_task is not None:
            self.server.should_exit = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server_task, 10)
        # let the running jobs finish (bounded)
        await asyncio.to_thread(self.jobs.wait_idle, SHUTDOWN_WAIT_SECONDS)

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
        return scheduler

    def _serve_web(self) -> asyncio.Task[None]:
        """The dashboard, feeds and health pages, in this event loop."""
        from syncsvc.web import create_app

        app = create_app(
            self.source,
            self.settings,
            self.store,
            self.clock,
            self.status,
            on_marked=self.request_reconcile,
        )
        web = self.settings.web
        config = uvicorn.Config(
            app, host=web.host, port=web.port, access_log=False, log_level="warning", lifespan="off"
        )
        self.server = _QuietServer(config)
        log.info("tableau de bord et flux : http://%s:%d/", web.host, web.port)
        return asyncio.create_task(self.server.serve())
