"""Issue 12, « Small things a coordinator trips on today », at the command line: each test
reproduces an example of the issue."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncsvc.cli import main
from syncsvc.state.store import Store

ROOT = Path(__file__).resolve().parents[2]
SA = "sa-2027-03-st-andre"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / "syncsvc.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "state.db"}"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path / "config"


# --- times: the service's zone, not UTC ---------------------------------------------------------


def test_outbox_lists_times_in_the_service_zone_not_utc(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported: « 30/11/2026 03:14 UTC »; expected « 30/11/2026 04:14 » (Europe/Paris)."""
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    store.enqueue(
        key="k1",
        kind="reminder",
        recipient="n.techer@afpar.example",
        subject="Rappel",
        message_id="<k1@test>",
        message=b"Subject: Rappel\r\n\r\nx\r\n",
        now=datetime(2026, 11, 30, 3, 14, tzinfo=UTC),
    )
    store.close()
    assert main(["outbox", "--config", str(config), "--now", "2026-11-30T09:00+01:00"]) == 0
    out = capsys.readouterr().out
    assert "30/11/2026 04:14" in out
    assert "UTC" not in out
    assert "03:14" not in out


def test_outbox_times_follow_the_timezone_setting(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config / "syncsvc.toml").write_text(
        f'timezone = "Indian/Reunion"\n[store]\nurl = "sqlite:///{tmp_path / "state.db"}"\n',
        encoding="utf-8",
    )
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    store.enqueue(
        key="k1",
        kind="reminder",
        recipient="n.techer@afpar.example",
        subject="Rappel",
        message_id="<k1@test>",
        message=b"Subject: Rappel\r\n\r\nx\r\n",
        now=datetime(2026, 11, 30, 3, 14, tzinfo=UTC),
    )
    store.close()
    assert main(["outbox", "--config", str(config)]) == 0
    assert "30/11/2026 07:14" in capsys.readouterr().out


def test_outbox_failed_counts_only_the_failed(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported: ``outbox --failed`` printed « envoyé : 15 »."""
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    moment = datetime(2026, 11, 30, 3, 14, tzinfo=UTC)
    for n in range(3):
        store.enqueue(
            key=f"k{n}",
            kind="reminder",
            recipient="n.techer@afpar.example",
            subject="Rappel",
            message_id=f"<k{n}@test>",
            message=b"Subject: Rappel\r\n\r\nx\r\n",
            now=moment,
        )
    store.close()
    assert main(["outbox", "--failed", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "en échec : 0"
    assert "envoyé" not in out
    assert "en attente" not in out


# --- done / undone ----------------------------------------------------------------------------


def test_done_on_an_impossible_date_names_the_option_and_the_format(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported: ``done --on 2026-11-31`` answered « invalid fromisoformat value »."""
    with pytest.raises(SystemExit) as stopped:
        main(["done", SA, "dte_order", "--on", "2026-11-31", "--config", str(config)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--on" in err
    assert "date « 2026-11-31 » invalide (attendu : AAAA-MM-JJ" in err
    assert "fromisoformat" not in err
    assert not re.search(r"\binvalid\b", err)  # English argparse words


def test_done_in_the_future_of_now_is_refused_in_french(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["done", SA, "dte_order", "--on", "2026-12-09", "--config", str(config)]
    assert main([*args, "--now", "2026-12-08"]) == 2
    err = capsys.readouterr().err
    assert "date 09/12/2026 dans le futur" in err
    assert "08/12/2026" in err


def test_undone_of_a_file_mark_says_where_it_lives_and_how_to_remove_it(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reported: ``undone`` on a row done in the session file said « marque retirée » and
    changed nothing."""
    args = ["undone", SA, "agrement_request", "--config", str(config), "--now", "2026-12-08"]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert "retirée" not in err
    assert str(config / "sessions" / f"{SA}.yaml") in err
    assert "« agrement_request: 2026-09-01 »" in err
    assert "done:" in err


def test_undone_of_a_mark_implied_by_declared_on_says_so(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = config / "sessions" / f"{SA}.yaml"
    session.write_text(
        session.read_text(encoding="utf-8").replace("  ceres_session_create: 2026-11-20\n", ""),
        encoding="utf-8",
    )
    args = ["undone", SA, "ceres_session_create", "--config", str(config), "--now", "2026-12-08"]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert "declared_on" in err
    assert "retirée" not in err


# --- plan shows the milestone identifiers `done` needs -----------------------------------------


def test_plan_table_lists_the_milestone_identifiers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reported: the identifiers ``done`` needs are shown nowhere."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["plan", SA, "--config", str(ROOT / "config"), "--now", "2026-12-12"]) == 0
    out = ANSI.sub("", capsys.readouterr().out)
    assert "Identifiant" in out
    line = next(row for row in out.splitlines() if "Commander le pli d'examen (DTE)" in row)
    assert "dte_order" in line
    assert "ceres_session_create" in out
    assert f"syncsvc done {SA} <identifiant>" in out


# --- hash-password: no traceback ----------------------------------------------------------------

CHILD = [sys.executable, "-c", "from syncsvc.cli import main; raise SystemExit(main())"]


def _in_terminal(keys: list[bytes]) -> tuple[int, str]:
    """Run ``syncsvc hash-password`` in a pseudo-terminal, typing ``keys`` one after each
    prompt; (exit code, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal (getpass opens /dev/tty)
        os.execv(CHILD[0], [*CHILD, "hash-password"])
    shown = b""
    pending = list(keys)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
                if pending and shown.count(b" : ") > len(keys) - len(pending):
                    os.write(fd, pending.pop(0))
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status), shown.decode(errors="replace")
    return os.WEXITSTATUS(status), shown.decode(errors="replace")


def test_hash_password_ctrl_c_is_one_french_line_and_code_130() -> None:
    """Reported: a traceback on Ctrl-C."""
    code, shown = _in_terminal([b"\x03"])
    assert code == 128 + signal.SIGINT
    assert "Traceback" not in shown
    assert "KeyboardInterrupt" not in shown
    assert "syncsvc : abandon, aucune empreinte calculée" in shown


def test_hash_password_ctrl_d_is_one_french_line_and_code_1() -> None:
    """Reported: a traceback on Ctrl-D."""
    code, shown = _in_terminal([b"\x04"])
    assert code == 1
    assert "Traceback" not in shown
    assert "EOFError" not in shown
    assert "syncsvc : abandon, aucune empreinte calculée" in shown


def test_hash_password_empty_is_one_french_line_and_code_1() -> None:
    code, shown = _in_terminal([b"\r"])
    assert code == 1
    assert "Traceback" not in shown
    assert "syncsvc : mot de passe vide" in shown


def test_hash_password_in_a_terminal_still_gives_a_hash() -> None:
    code, shown = _in_terminal([b"abc def\r", b"abc def\r"])
    assert code == 0
    assert "$scrypt$" in shown or "scrypt" in shown


@pytest.mark.parametrize("given", ["", "\n"], ids=["stdin-closed", "empty-line"])
def test_hash_password_without_a_terminal_is_french_with_no_english_warning(given: str) -> None:
    done = subprocess.run(
        [*CHILD, "hash-password"],
        input=given,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal: getpass falls back to stdin
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Warning" not in done.stderr
    assert "syncsvc : " in done.stderr


def test_hash_password_reads_a_piped_password() -> None:
    done = subprocess.run(
        [*CHILD, "hash-password"],
        input="un mot de passe\nun mot de passe\n",
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("$scrypt$") or "scrypt" in done.stdout


def test_done_on_a_session_whose_file_is_broken_says_so(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config / "sessions" / f"{SA}.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("end: 2027-03-19", "end: 2027-13-45"),
        encoding="utf-8",
    )
    assert main(["done", SA, "dte_order", "--config", str(config), "--now", "2026-12-08"]) == 2
    err = capsys.readouterr().err
    assert f"le fichier de la session « {SA} » est en erreur" in err
    assert "inconnue" not in err
