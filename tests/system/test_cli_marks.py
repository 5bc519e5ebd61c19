"""Small things a coordinator trips on at the command line (issue « coordinators drive it »)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syncsvc.cli import main

ROOT = Path(__file__).resolve().parents[2]
SA = "sa-2027-03-st-andre"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / "syncsvc.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "state.db"}"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path / "config"


def test_done_on_an_impossible_date_is_french(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported: ``done --on 2026-11-31`` answered « invalid fromisoformat value »."""
    with pytest.raises(SystemExit):
        main(["done", SA, "dte_order", "--on", "2026-11-31", "--config", str(config)])
    err = capsys.readouterr().err
    assert "date « 2026-11-31 » invalide" in err
    assert "fromisoformat" not in err


def test_done_in_the_future_is_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["done", SA, "dte_order", "--on", "2026-12-09", "--config", str(config)]
    assert main([*args, "--now", "2026-12-08"]) == 2
    assert "dans le futur" in capsys.readouterr().err


def test_undone_of_a_mark_written_in_the_file_says_where_it_lives(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported: ``undone`` on a milestone marked in the session file said « marque retirée »
    and changed nothing."""
    args = ["undone", SA, "ceres_session_create", "--config", str(config), "--now", "2026-12-08"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "dans le fichier de session" in err
    assert "sa-2027-03-st-andre.yaml" in err
    assert "retirée" not in err


@pytest.mark.parametrize("given", ["", "\x04"], ids=["empty", "ctrl-d"])
def test_hash_password_without_a_password_is_one_french_line(given: str) -> None:
    """Reported: a traceback on Ctrl-C/Ctrl-D or an empty password."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from syncsvc.cli import main; raise SystemExit(main())",
            "hash-password",
        ],
        input="" if given == "\x04" else "\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1  # abandoned (130 for Ctrl-C: tests/system/test_cli_small_things)
    assert "Traceback" not in done.stderr
    assert "syncsvc : " in done.stderr
