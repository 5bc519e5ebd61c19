"""deploy/syncsvc.service: the unit for centres that run a VM, checked by systemd itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "syncsvc.service"


def test_the_unit_is_hardened_and_runs_the_documented_command() -> None:
    text = UNIT.read_text(encoding="utf-8")
    for line in (
        "User=syncsvc",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/syncsvc",
        "Restart=on-failure",
        "NoNewPrivileges=true",
        "ExecStart=/opt/syncsvc/.venv/bin/syncsvc run --config /etc/syncsvc --log-format json",
    ):
        assert line in text.splitlines(), line


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is needed in CI (Debian package systemd)")
        pytest.skip("systemd-analyze is not installed")
    # The unit names the installed command; here it is this checkout's own.
    syncsvc = Path(sys.executable).with_name("syncsvc")
    unit = tmp_path / "syncsvc.service"
    unit.write_text(
        UNIT.read_text(encoding="utf-8").replace("/opt/syncsvc/.venv/bin/syncsvc", str(syncsvc)),
        encoding="utf-8",
    )
    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "", done.stdout
    assert done.stderr.strip() == "", done.stderr
