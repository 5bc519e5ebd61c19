"""Running `syncsvc run` as real processes in tests: the process, its log, its configuration,
and an SMTP server that records what it receives."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from syncsvc.web.auth import hash_password
from tests.harness.servers import CalDAVServer, free_port

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-01T09:00+04:00"
PG = os.environ.get(
    "SYNCSVC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


def wait_for(
    what: str, check: Callable[[], bool], seconds: float = 40, service: Service | None = None
) -> None:
    """Until ``check()``; on time-out, the end of ``service``'s log is in the failure."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    log = f"\n--- log of the service ---\n{service.text()[-4000:]}" if service else ""
    raise AssertionError(f"timed out waiting for {what}{log}")


class Service:
    """A `syncsvc run` process and its log."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from syncsvc.cli import main; raise SystemExit(main())",
                "run",
                "--config",
                str(self.config),
                "--now",
                NOW,
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=self.config.parent,
        )
        return self

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


TEST_HASH = hash_password("motdepasse")


def write_config(
    tmp: Path,
    radicale: CalDAVServer,
    smtp_port: int,
    store_url: str,
    web_port: int = 0,
    rate: int = 6000,
) -> Path:
    web_port = web_port or free_port()
    config = tmp / "config"
    shutil.copytree(ROOT / "config", config, dirs_exist_ok=True)
    (config / "syncsvc.toml").write_text(
        f"""
[store]
url = "{store_url}"

[web]
port = {web_port}
users = [{{ login = "test", password_hash = "{TEST_HASH}" }}]

[daemon]
reconcile_every_minutes = 60
lease_seconds = 4
notify_every_seconds = 5
watch_every_seconds = 0.2
debounce_seconds = 0.2

[mail]
transport = "smtp"
host = "127.0.0.1"
port = {smtp_port}
from = "Examens <examens@afpar.example>"
rate_per_minute = {rate}

[[targets]]
name = "coordination"
kind = "caldav"
url = "{radicale.url}"
username = "{radicale.username}"
password_env = "TEST_CALDAV_PASSWORD"
calendar = "examens-st-andre"
audience = "coordinators:afpar-st-andre"
""",
        encoding="utf-8",
    )
    return config
