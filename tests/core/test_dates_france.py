"""The holiday calendar of each zone, made from the ``holidays`` package's France loaded alone
(syncsvc.core.dates._france), is the one the package's own registry makes."""

from __future__ import annotations

import subprocess
import sys

import holidays
import pytest

from syncsvc.core.dates import _SUBDIVISIONS, WorkingDays


@pytest.mark.parametrize("zone", sorted(_SUBDIVISIONS))
def test_the_same_holidays_as_the_package_registry(zone: str) -> None:
    ours = WorkingDays(zone)._holidays
    theirs = holidays.country_holidays("FR", subdiv=_SUBDIVISIONS[zone], language="fr")
    for year in range(2020, 2041):
        ours.get(f"{year}-01-01")
        theirs.get(f"{year}-01-01")
    assert dict(ours) == dict(theirs)
    assert type(ours).__name__ == "France"


def test_threads_planning_at_once_all_get_france() -> None:
    """The daemon plans from several threads: the module is loaded once, never handed out
    half made (each thread would otherwise fail its whole pass)."""
    probe = (
        "import threading\n"
        "from syncsvc.core.dates import WorkingDays\n"
        "found, start = [], threading.Barrier(8)\n"
        "def plan():\n"
        "    start.wait()\n"
        "    try:\n"
        "        found.append(type(WorkingDays('974')._holidays).__name__)\n"
        "    except Exception as exc:\n"
        "        found.append(repr(exc))\n"
        "threads = [threading.Thread(target=plan) for _ in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "print(sorted(set(found)))\n"
    )
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
        )
        assert done.stdout.strip() == "['France']", done.stdout


def test_no_other_country_is_imported() -> None:
    probe = (
        "import sys\n"
        "from syncsvc.core.dates import working_days\n"
        "assert working_days('974').is_working_day(__import__('datetime').date(2027, 12, 20)) "
        "is False\n"
        "print(sorted(m for m in sys.modules if m.startswith('holidays.countries')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "['holidays.countries.france']"
