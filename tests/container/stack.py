"""A compose stack under test, and what the tests read from it: the service's log messages, the
mail at the catcher, the events in Radicale, the dashboard."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar

from tests.container.engine import ROOT, Docker

#: The service's clock in the containers (``syncsvc run --now``): the example sessions then have
#: mail due (reminders, jury invitations) and a fixed set of events.
NOW = "2026-12-01T09:00+04:00"
#: The Maildir the catcher image (``images/catcher.Dockerfile``) writes to.
CAUGHT = "/var/mail/caught"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
#: Whether a test's call failed (set by ``conftest.py``), for fixtures that print logs then.
FAILED = pytest.StashKey[bool]()


def messages(log: str) -> list[str]:
    """The ``message`` of each JSON line of a ``syncsvc run --log-format json`` log."""
    found = []
    for line in log.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                found.append(str(json.loads(line)["message"]))
            except (ValueError, KeyError):
                continue
    return found


def due_mail(settings: str) -> int:
    """How many messages ``syncsvc notify --dry-run`` says are due at :data:`NOW` for the
    example sessions with this settings file of ``config/`` (on a fresh state, in a temporary
    SQLite file): what the service in the stack has to send, each once."""
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"syncsvc-due-{uuid.uuid4().hex}"
    try:
        shutil.copytree(ROOT / "config", work / "config")
        path = work / "config" / settings
        text = re.sub(
            r'^url = ".*"$', f'url = "sqlite:///{work}/state.db"', path.read_text(), flags=re.M
        )
        path.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from syncsvc.cli import main; raise SystemExit(main())",
                "notify",
                "--dry-run",
                "--now",
                NOW,
                "--config",
                str(work / "config"),
            ],
            env={**os.environ, "SYNCSVC_SETTINGS": str(path)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    found = re.search(r"^(\d+) message\(s\) à envoyer", done.stdout, re.M)
    assert done.returncode == 0, done.stdout + done.stderr
    assert found is not None, done.stdout
    return int(found.group(1))


@dataclass
class Stack:
    """``docker compose -p PROJECT -f FILE…`` with the test's environment."""

    docker: Docker
    project: str
    files: tuple[Path, ...]
    env: Mapping[str, str]

    def compose(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = ["-p", self.project]
        for path in self.files:
            argv += ["-f", str(path)]
        return self.docker.compose(*argv, *args, timeout=timeout, check=check, env=self.env)

    def up(self) -> None:
        """Every service started and, where it has a healthcheck, healthy (``--wait``)."""
        self.compose("up", "-d", "--wait", "--no-build", timeout=300)

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "--timeout", "30", timeout=180)

    def container(self, service: str) -> str:
        return self.compose("ps", "-a", "-q", service).stdout.strip()

    def log(self, service: str) -> str:
        return self.compose("logs", "--no-color", "--no-log-prefix", service).stdout

    def messages(self, service: str) -> list[str]:
        return messages(self.log(service))

    def url(self, service: str, port: int) -> str:
        address = self.compose("port", service, str(port)).stdout.strip()
        return f"http://{address}"

    def caught(self) -> Counter[str]:
        """The Message-IDs of the mail at the catcher, with how many times each arrived."""
        script = (
            "import mailbox, json; "
            f"print(json.dumps([m['Message-ID'] for m in mailbox.Maildir({CAUGHT!r})]))"
        )
        done = self.compose("exec", "-T", "mailpit", "python", "-c", script)
        return Counter(json.loads(done.stdout))

    def keep_logs(self, folder: Path) -> Path:
        """Every container's log, written to ``folder/<project>.log``."""
        path = folder / f"{self.project}.log"
        done = self.docker.compose(
            "-p", self.project, "logs", "--no-color", "--timestamps", check=False, env=self.env
        )
        path.write_text(done.stdout + done.stderr, encoding="utf-8")
        return path


@contextmanager
def running(docker: Docker, files: tuple[Path, ...], env: Mapping[str, str]) -> Iterator[Stack]:
    """A stack brought up for one test and taken down after it (volumes too), its logs kept in
    the session's log folder and their tail printed when something failed."""
    stack = Stack(docker, f"syncsvc-ci-{uuid.uuid4().hex[:8]}", files, env)
    try:
        stack.up()
        yield stack
    except BaseException:
        print(f"--- all logs: {stack.keep_logs(docker.logs)}")
        for service in stack.compose("config", "--services", check=False).stdout.split():
            lines = stack.log(service).splitlines()[-40:]
            print(f"--- {service} (last {len(lines)} lines) ---", *lines, sep="\n")
        raise
    else:
        stack.keep_logs(docker.logs)
    finally:
        stack.down()


def events(base_url: str, user: str, calendar: str) -> list[tuple[str, str, str]]:
    """``(UID, SUMMARY, DTSTART)`` of every event of a Radicale calendar (a GET of the
    collection answers all of its items as one iCalendar)."""
    response = httpx.get(f"{base_url}/{user}/{calendar}/", auth=(user, ""), timeout=30)
    assert response.status_code == 200, response.text[:500]
    parsed = Calendar.from_ical(response.content)
    return [
        (str(e["UID"]), str(e.get("SUMMARY", "")), str(e.decoded("DTSTART")))
        for e in parsed.walk("VEVENT")
    ]


@contextmanager
def logged_in(base_url: str, login: str, password: str) -> Iterator[httpx.Client]:
    """A client logged in to the dashboard (the login form and its CSRF field)."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        form = client.get("/login")
        found = _CSRF.search(form.text)
        assert found is not None, form.text[:500]
        answer = client.post(
            "/login",
            data={"login": login, "password": password, "csrf": found.group(1), "next": "/"},
        )
        assert answer.status_code == 303, answer.text[:500]
        yield client
