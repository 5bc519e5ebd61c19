"""Start-up: each command imports only what it needs (issue 16).

Whole processes, as a user runs them: the set of top-level packages in ``sys.modules`` when the
command has finished. The web stack (Starlette, uvicorn, Jinja2), the Google and Microsoft
clients and httpx's own command-line client (click, pygments, rich) cost tens of milliseconds
each and are needed by none of ``--help``, ``plan`` or ``sync`` to a CalDAV calendar. The no-op
and changed-files syncs import even less (tests/system/test_quick_sync.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.servers import radicale_server
from tests.system.test_cli_sync import write_config

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-23"
WEB = {"starlette", "uvicorn", "jinja2", "multipart", "itsdangerous"}
OTHER_CLIENTS = {"googleapiclient", "google", "msal", "aiosmtplib", "openpyxl"}
HTTPX_CLI = {"click", "pygments"}

PROBE = (
    "import sys\n"
    "from syncsvc.cli import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "except SystemExit as stop:\n"
    "    code = stop.code\n"
    "sys.stdout.flush()\n"
    "loaded = {m.split('.')[0] for m, v in sys.modules.items() if v}  # None: marked absent\n"
    "print('\\nMODULES', ' '.join(sorted(loaded)))\n"
    "sys.exit(code)\n"
)


def imported(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, set[str]]:
    """(exit code, top-level packages imported) of ``syncsvc ARGV`` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )
    modules = done.stdout.rpartition("\nMODULES ")[2].split()
    assert modules, done.stdout + done.stderr
    return done.returncode, set(modules)


def test_help_loads_no_library(tmp_path: Path) -> None:
    code, modules = imported(["--help"], tmp_path)
    assert code == 0
    assert modules & {"pydantic", "yaml", "sqlalchemy", "httpx", "holidays", "rich", *WEB} == set()


@pytest.mark.parametrize("output", ["table", "json"])
def test_plan_needs_neither_web_nor_clients(tmp_path: Path, output: str) -> None:
    argv = ["plan", "--config", str(ROOT / "config"), "--now", NOW, "--format", output]
    code, modules = imported(argv, tmp_path)
    assert code == 0
    assert "pydantic" in modules  # the probe sees what the command loaded
    assert modules & (WEB | OTHER_CLIENTS | HTTPX_CLI | {"httpx", "icalendar"}) == set()
    assert "sqlalchemy" not in modules  # no store yet (the example's var/): nothing to read
    if output == "json":
        assert "rich" not in modules  # the table is rich's; JSON is not


def test_full_sync_to_caldav_needs_neither_web_nor_other_clients(tmp_path: Path) -> None:
    with radicale_server(tmp_path / "radicale") as server:
        config = write_config(tmp_path, server)
        argv = ["sync", "--once", "--config", str(config), "--now", NOW]
        code, modules = imported(argv, tmp_path, {"TEST_CALDAV_PASSWORD": server.password})
        assert code == 0
        assert server.proxy.counts["PUT"] == 40  # a full first push really happened
    assert {"httpx", "sqlalchemy"} <= modules
    assert modules & (WEB | OTHER_CLIENTS | HTTPX_CLI | {"rich"}) == set()


def test_httpx_still_works_without_its_command_line_client() -> None:
    """syncsvc marks ``httpx._main`` absent (syncsvc/__init__.py); httpx then keeps a stub
    ``main`` and everything else. If a new httpx needed that module, this would say so."""
    code = (
        "import syncsvc, httpx, sys\n"
        "assert 'click' not in sys.modules and 'rich' not in sys.modules\n"
        "assert httpx.Client and httpx.main.__module__ == 'httpx'\n"
        "print(httpx.Request('GET', 'http://127.0.0.1/').url.host)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "127.0.0.1"


def test_plan_reads_an_existing_sqlite_store_without_sqlalchemy(tmp_path: Path) -> None:
    """The marks and the cancellations of a SQLite store read through the standard library
    (syncsvc.state.bare): the mark is in the plan, SQLAlchemy is not in the process."""
    from datetime import UTC, date, datetime

    from syncsvc.state.store import Store

    (tmp_path / "var").mkdir()
    store = Store(f"sqlite:///{tmp_path / 'var' / 'syncsvc.db'}")  # the example's store URL
    store.migrate()
    store.mark_done(
        "sa-2027-03-st-andre", "dte_order", date(2026, 11, 20), "marie", None,
        datetime(2026, 11, 20, 9, tzinfo=UTC),
    )  # fmt: skip
    store.close()
    argv = ["plan", "sa-2027-03-st-andre", "--config", str(ROOT / "config"), "--now", NOW]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv, "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    plan, _, modules = done.stdout.rpartition("\nMODULES ")
    assert '"done_on": "2026-11-20"' in plan
    assert "sqlalchemy" not in modules.split()
