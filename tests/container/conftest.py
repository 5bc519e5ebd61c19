"""Fixtures of the container tests: one Docker engine and one set of images for the session.

In CI (``CI`` set) the suite must run: an engine that cannot be started fails every test here.
Elsewhere it is skipped only when no Docker engine can be started, and the end of the run says
so in capitals. The logs (dockerd, debootstrap, builds, each stack's containers) are kept in
one temporary folder, named at the end of the run; failures quote their tails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.container.engine import Docker, Engine, EngineUnavailable, Images
from tests.container.stack import FAILED

_NOT_RUN: list[str] = []
_LOGS: list[Path] = []


@pytest.fixture(scope="session")
def container_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logs = tmp_path_factory.mktemp("containers")
    _LOGS.append(logs)
    return logs


@pytest.fixture(scope="session")
def engine(container_logs: Path) -> Iterator[Engine]:
    try:
        started = Engine.start(container_logs)
    except EngineUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set: the container tests must run, but {exc}")
        _NOT_RUN.append(str(exc))
        pytest.skip(f"NO DOCKER ENGINE, CONTAINER TESTS NOT RUN: {exc}")
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def docker(engine: Engine) -> Docker:
    return engine.docker


@pytest.fixture(scope="session")
def images(docker: Docker) -> Iterator[Images]:
    built = Images(docker)
    built.start()  # every image at once: the builds overlap
    try:
        yield built
    finally:
        built.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every container test in one worker process when the suite runs in several
    (``pytest -n``, ``--dist loadgroup``): they share one Docker engine, started once."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.xdist_group("containers"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep the test's report on it, for fixtures that print logs when the test failed."""
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    found = list(_LOGS)
    if not found and not hasattr(config, "workerinput"):
        # the suite ran in worker processes (pytest -n): their temporary folders are below ours
        base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
        found = sorted(base.glob("popen-gw*/containers[0-9]*"))
    for logs in found:
        terminalreporter.write_line(f"container tests: logs in {logs}")
    if _NOT_RUN:
        terminalreporter.write_sep("!", "CONTAINER TESTS SKIPPED: NO DOCKER ENGINE", red=True)
        terminalreporter.write_line(_NOT_RUN[0])
