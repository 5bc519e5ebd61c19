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
import fcntl
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text

from syncsvc.app.status import Status
from syncsvc.inputs.loader import Config, load_config, load_ruleset
from syncsvc.inputs.settings import Settings
from syncsvc.state.store import Store

log = logging.getLogger("syncsvc")
Clock = Callable[[], datetime]
LOCK_KEY = 0x5959_4E43  # "SYNC": the PostgreSQL advisory lock id
STANDBY_POLL_SECONDS = 5.0


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


# --- single instance -------------------------------------------------------------------------


class InstanceLock:
    """Held by the active instance for its whole life."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._file: Any = None
        self._connection: Any = None

    def describe(self) -> str:
        if self.store.url.drivername.startswith("sqlite"):
            return f"fichier {self._path()}"
        return "verrou consultatif PostgreSQL"

    def _path(self) -> Path:
        database = self.store.url.database or "syncsvc"
        return Path(f"{database}.lock") if database != ":memory:" else Path("var/memory.lock")

    def try_acquire(self) -> bool:
        if self.store.url.drivername.startswith("sqlite"):
            path = self._path()
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            self._file = handle
            return True
        connection = self.store.engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        if got:
            connection.commit()
            self._connection = connection
            return True
        connection.close()
        return False

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                self._connection.close()
            self._connection = None


# --- the daemon ------------------------------------------------------------------------------


class ConfigWatcher:
    """Fingerprint of the config folder: (name, size, mtime) of every file in it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for path in sorted(self.directory.rglob("*")):
            with contextlib.suppress(OSError):
                if path.is_file():
                    stat = path.stat()
                    found.append(
                        (str(path.relative_to(self.directory)), stat.st_size, stat.st_mtime_ns)
                    )
        return tuple(found)


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
        self.watcher = ConfigWatcher(config_dir)
        self._seen = self.watcher.fingerprint()
        self._changed_at: float | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self._web_source: Any = None
        self._lock = threading.Lock()
        self._running = False
        self._dirty = False
        self.server: uvicorn.Server | None = None

    # jobs (run in the loop's thread pool: they block on I/O) ---------------------------------

    def _config(self) -> Config:
        config = load_config(self.config_dir, load_ruleset(self.settings.ruleset))
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
        with self._lock:
            self._dirty = True
            if self._running:
                return  # the running pass will go round again
        if self.scheduler is not None:
            self.scheduler.get_job("reconcile").modify(next_run_time=datetime.now(UTC))

    def _reconcile_once(self) -> None:
        from syncsvc.app.sync import sync_all

        started = time.monotonic()
        now = self.clock()
        config = self._config()
        results = []
        for report in sync_all(self.settings, config, self.store, now):
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
        self.status.record_reconcile(results, self.clock())

    def notify(self) -> None:
        from syncsvc.app.notify import notify

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
        """Reconcile soon after the config folder changes (once it has been quiet a moment)."""
        current = self.watcher.fingerprint()
        if current != self._seen:
            self._seen = current
            self._changed_at = time.monotonic()
            if self._web_source is not None:
                self._web_source.invalidate()
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
        d = self.settings.daemon
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": None,
            },
        )
        now = datetime.now(UTC)
        scheduler.add_job(
            self.reconcile,
            "interval",
            minutes=d.reconcile_every_minutes,
            id="reconcile",
            next_run_time=now,
        )
        scheduler.add_job(
            self.notify, "interval", seconds=d.notify_every_seconds, id="notify", next_run_time=now
        )
        scheduler.add_job(self.watch, "interval", seconds=d.watch_every_seconds, id="watch")
        self.scheduler = scheduler
        scheduler.start()
        server_task = None
        if self.serve_web:
            from syncsvc.web.app import create_app

            app = create_app(self.config_dir, self.settings, self.store, self.clock, self.status)
            # The watcher below tells the dashboard when files change: no stat per request.
            self._web_source = app.state.web.source
            self._web_source.recheck_seconds = max(1.0, d.watch_every_seconds * 5)
            web = self.settings.web
            config = uvicorn.Config(
                app,
                host=web.host,
                port=web.port,
                access_log=False,
                log_level="warning",
                lifespan="off",
            )
            self.server = _QuietServer(config)
            server_task = asyncio.create_task(self.server.serve())
            log.info("tableau de bord et flux : http://%s:%d/", web.host, web.port)
        await self.stopping.wait()
        log.info("arrêt demandé : fin des tâches en cours")
        scheduler.pause()
        await asyncio.to_thread(scheduler.shutdown, True)
        if self.server is not None and server_task is not None:
            self.server.should_exit = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server_task, 10)
        # let the thread-pool jobs finish (bounded)
        executor = scheduler._executors.get("default")  # no public accessor
        pending = list(getattr(executor, "_pending_futures", ()))
        if pending:
            await asyncio.wait(pending, timeout=30)
