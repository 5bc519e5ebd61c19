"""``plan`` and ``validate`` on many sessions share the work with a forked child: same output.

From ``SHARED_FROM`` sessions the loader parses half of the files in a child, and ``validate``
and ``plan --format json|jsonl`` plan and write the second half of the sessions in a child (see
:mod:`syncsvc.inputs.forked`). Here the threshold is lowered to a few sessions, and every
output (stdout, stderr, exit code) is compared with the same command run without a child, on a
folder with broken files, with a session whose planning fails, and with a child that fails at
each step (this process then does its half: nothing changes either).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.plan import write_config
from syncsvc.cli import main, show
from syncsvc.core import planner
from syncsvc.inputs import loader
from syncsvc.inputs.forked import ChildFailed, can_fork, in_child

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-23"
COMMANDS = [
    pytest.param(["plan", "--format", "json"], id="plan-json"),
    pytest.param(["plan", "--format", "jsonl"], id="plan-jsonl"),
    pytest.param(["validate"], id="validate"),
    pytest.param(["validate", "--strict"], id="validate-strict"),
    pytest.param(["validate", "--format", "json"], id="validate-json"),
    pytest.param(["validate", "--format", "jsonl"], id="validate-jsonl"),
]
BROKEN = {
    "dup.yaml": "id: dup\nid: dup\n",
    "syntax.yaml": "id: x\n  bad: [\n",
    "empty.yaml": "",
    "notes.txt": "pas une session\n",
}


@pytest.fixture(autouse=True)
def _own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no store: the example's relative store URL points here
    # The command runs single-threaded; this test process may still hold threads that other
    # tests left (their servers'), which a child never touches: let it fork anyway, so that
    # these tests always compare with a child.
    monkeypatch.setattr("syncsvc.inputs.forked.threading.active_count", lambda: 1)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """61 generated sessions (one with a bad date, one whose id is taken), broken files, and the
    example's sessions and jury directory."""
    root = tmp_path / "config"
    root.mkdir()
    write_config(root, 60)
    sessions = root / "sessions"
    for name, text in BROKEN.items():
        (sessions / name).write_text(text, encoding="utf-8")
    bad = (sessions / "bench-00007.yaml").read_text(encoding="utf-8")
    (sessions / "bench-00007.yaml").write_text(
        bad.replace("start: 2027-01-11", "start: 2027-02-30"), encoding="utf-8"
    )
    shutil.copy(sessions / "bench-00003.yaml", sessions / "bench-00099.yaml")
    # the example's sessions and jury directory: jurors taken from it, one written differently
    # (a warning), one missing from it (a problem)
    shutil.copy(ROOT / "config" / "jury.yaml", root / "jury.yaml")
    for example in (ROOT / "config" / "sessions").glob("*.yaml"):
        shutil.copy(example, sessions / example.name)
    dwwm = (sessions / "dwwm-2027-06-venissieux.yaml").read_text(encoding="utf-8")
    taken = "  - {email: e.lefevre@jury.example}"
    assert taken in dwwm
    (sessions / "dwwm-2027-06-venissieux.yaml").write_text(
        dwwm.replace(taken, "  - {email: e.lefevre@jury.example, name: Autre Nom}"),
        encoding="utf-8",
    )
    (sessions / "dwwm-2027-09-manque.yaml").write_text(
        dwwm.replace("id: dwwm-2027-06-venissieux", "id: dwwm-2027-09-manque").replace(
            taken, "  - {email: absent@jury.example}"
        ),
        encoding="utf-8",
    )
    return root


def outputs(capsysbinary: pytest.CaptureFixture[bytes], args: list[str]) -> tuple[Any, ...]:
    code = main(args)
    captured = capsysbinary.readouterr()
    return code, captured.out, captured.err


def both(
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(without a child, with one): the outputs of ``syncsvc ARGS``."""
    alone = outputs(capsysbinary, args)
    children = []
    real_fork = os.fork

    def counted_fork() -> int:
        pid = real_fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(show, "SHARED_FROM", 4)
    monkeypatch.setattr(loader, "SHARED_FROM", 4)
    monkeypatch.setattr(os, "fork", counted_fork)
    shared = outputs(capsysbinary, args)
    assert len(children) == 2, "the loader and the command each start one child"
    return alone, shared


@pytest.mark.parametrize("command", COMMANDS)
def test_the_same_output_with_a_child(
    command: list[str],
    config: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone, shared = both(
        capsysbinary, monkeypatch, [*command, "--config", str(config), "--now", NOW]
    )

    assert shared == alone
    assert alone[0] == 1
    assert alone[1]
    assert re.search(rb"bench-00007\.yaml: ligne \d+, start:", alone[1] + alone[2])
    assert b"absent@jury.example" in alone[1] + alone[2]
    if command[0] == "validate":  # the warning of a value differing from the directory's
        assert b"Autre Nom" in alone[1] + alone[2]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_planning_failure_in_the_childs_half_is_reported_the_same(
    command: list[str],
    config: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = planner.plan_one

    def failing(session: Any, *args: Any, **kwargs: Any) -> Any:
        if session.id in ("bench-00059", "bench-00001"):  # one in each half
            raise RuntimeError("injected")
        return real(session, *args, **kwargs)

    monkeypatch.setattr(planner, "plan_one", failing)
    args = [*command, "--config", str(config), "--now", NOW]
    alone, shared = both(capsysbinary, monkeypatch, args)

    assert shared == alone
    assert alone[2].count(b"[planning_failed]") == 2


def _failing_at(step: int) -> Any:
    real = show._second_half

    def second_half(*args: Any) -> Iterator[Any]:
        for index, value in enumerate(real(*args)):
            if index == step:
                raise RuntimeError("injected")
            yield value
        if step >= 2:
            os._exit(3)  # everything sent, then a crash: the values count, the status not

    return second_half


@pytest.mark.parametrize("step", [0, 1, 2], ids=["before-planning", "before-writing", "at-exit"])
@pytest.mark.parametrize("command", [COMMANDS[0], COMMANDS[2], COMMANDS[4]])
def test_a_failing_child_changes_nothing(
    step: int,
    command: list[str],
    config: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = [*command, "--config", str(config), "--now", NOW]
    alone = outputs(capsysbinary, args)
    monkeypatch.setattr(show, "_second_half", _failing_at(step))
    monkeypatch.setattr(show, "SHARED_FROM", 4)
    monkeypatch.setattr(loader, "SHARED_FROM", 4)

    assert outputs(capsysbinary, args) == alone


def test_a_child_failing_in_the_loader_changes_nothing(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = loader.load_config(config)
    real = loader._parse_session
    parent = os.getpid()

    def parse(*args: Any) -> Any:
        if os.getpid() != parent:
            os._exit(1)
        return real(*args)

    monkeypatch.setattr(loader, "_parse_session", parse)
    monkeypatch.setattr(loader, "SHARED_FROM", 4)
    shared = loader.load_config(config, share=True)

    assert shared.sessions == alone.sessions
    assert shared.problems == alone.problems
    assert shared.broken_session_ids == alone.broken_session_ids


def test_the_loader_shares_and_loads_the_same(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = loader.load_config(config)
    monkeypatch.setattr(loader, "SHARED_FROM", 4)
    parsed = []
    real = loader._parse_session

    def parse(*args: Any) -> Any:
        parsed.append(args[0])
        return real(*args)

    monkeypatch.setattr(loader, "_parse_session", parse)
    shared = loader.load_config(config, share=True)

    assert 0 < len(parsed) < len(alone.sessions)  # this process parsed only its half
    assert shared.sessions == alone.sessions
    assert shared.session_files == alone.session_files
    assert shared.problems == alone.problems
    assert shared.broken_session_ids == alone.broken_session_ids
    assert shared.file_ids == alone.file_ids


def test_a_child_sends_its_values_in_order_or_fails() -> None:
    def values() -> Iterator[Any]:
        yield 1
        yield {"deux": [2]}
        raise RuntimeError("then fails")

    child = in_child(values)
    assert child is not None
    assert child.receive() == 1
    assert child.receive() == {"deux": [2]}
    with pytest.raises(ChildFailed):
        child.receive()
    assert child.close() is False

    done = in_child(lambda: iter(["fini"]))
    assert done is not None
    assert done.receive() == "fini"
    assert done.close() is True


def test_without_a_temporary_folder_the_command_runs_alone(
    config: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["plan", "--format", "json", "--config", str(config), "--now", NOW]
    alone = outputs(capsysbinary, args)

    def no_temporary_file() -> Any:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_temporary_file)
    monkeypatch.setattr(show, "SHARED_FROM", 4)

    assert outputs(capsysbinary, args) == alone


@pytest.mark.parametrize("why", ["threads", "one-cpu"])
def test_no_child_with_threads_or_a_single_cpu(
    why: str,
    config: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["plan", "--format", "json", "--config", str(config), "--now", NOW]
    alone = outputs(capsysbinary, args)
    assert can_fork()
    if why == "threads":
        monkeypatch.setattr("syncsvc.inputs.forked.threading.active_count", lambda: 2)
    else:
        monkeypatch.setattr("syncsvc.inputs.forked.os.sched_getaffinity", lambda pid: {0})
    assert not can_fork()

    def no_fork() -> int:
        raise AssertionError("forked")

    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(show, "SHARED_FROM", 4)
    monkeypatch.setattr(loader, "SHARED_FROM", 4)

    assert outputs(capsysbinary, args) == alone
