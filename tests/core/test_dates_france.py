"""The holiday calendar of each zone, made from the ``holidays`` package's France loaded alone
(syncsvc.core.dates._france), is the one the package's own registry makes."""

from __future__ import annotations

import json
import subprocess
import sys

import holidays
import pytest

from syncsvc.core.dates import _SUBDIVISIONS, WorkingDays, remember_holidays


@pytest.mark.parametrize("zone", sorted(_SUBDIVISIONS))
def test_the_same_holidays_as_the_package_registry(zone: str) -> None:
    ours = WorkingDays(zone)
    theirs = holidays.country_holidays("FR", subdiv=_SUBDIVISIONS[zone], language="fr")
    for year in range(2020, 2041):
        theirs.get(f"{year}-01-01")
        days = [d for d in theirs if d.year == year]
        assert len(days) >= 11
        for day in days:
            assert ours.holiday_name(day) == theirs.get(day)
            assert not ours.is_working_day(day)
    table = {day: name for years in ours.known().values() for day, name in years.items()}
    assert table == {day: str(name) for day, name in theirs.items()}


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
        "        found.append(WorkingDays('974').holiday_name(__import__('datetime')"
        ".date(2027, 12, 20)))\n"
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
        assert done.stdout.strip() == """["Abolition de l'esclavage"]""", done.stdout


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


def test_tables_given_back_spare_the_package() -> None:
    """A later process given the tables an earlier one computed (known_holidays, kept as JSON)
    answers the same without importing the holidays package; a year it was not given is
    computed as before."""
    first = (
        "import json\n"
        "from datetime import date\n"
        "from syncsvc.core.dates import known_holidays, working_days\n"
        "working_days('974').shift(date(2027, 12, 20), 'next')\n"
        "working_days('metropole').is_working_day(date(2027, 5, 6))\n"
        "print(json.dumps(known_holidays()))\n"
    )
    tables = subprocess.run(
        [sys.executable, "-c", first], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert sorted(json.loads(tables)) == ["974", "metropole"]
    later = (
        "import json, sys\n"
        "from datetime import date\n"
        "from syncsvc.core.dates import remember_holidays, working_days\n"
        "assert remember_holidays(json.loads(sys.stdin.read()))\n"
        "print(working_days('974').holiday_name(date(2027, 12, 20)),"
        " working_days('974').shift(date(2027, 12, 20), 'next'),"
        " working_days('metropole').is_working_day(date(2027, 5, 6)),"
        " 'holidays' in sys.modules)\n"
        "print(working_days('metropole').holiday_name(date(2031, 7, 14)),"
        " 'holidays' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", later],
        input=tables,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.splitlines() == [
        "Abolition de l'esclavage 2027-12-21 False False",
        "Fête nationale True",
    ]


@pytest.mark.parametrize(
    "tables", [None, "x", {"974": "x"}, {"974": {"2027": {"pas une date": "x"}}}, {"974": [1]}]
)
def test_malformed_tables_are_ignored(tables: object) -> None:
    assert remember_holidays(tables) is False
