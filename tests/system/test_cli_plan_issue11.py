"""Issue 11 in ``syncsvc plan``: what does not apply is shown « sans objet » with why, and a
centre's yearly milestone is one row for the centre (``"session": null``), not one per session.

Run in-process on the example configuration, always with ``--now``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from syncsvc.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config"
DWWM = "dwwm-2027-06-venissieux"
NOW = "2026-12-10"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@pytest.fixture(autouse=True)
def _own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's store changes what these tests see


def plan(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["plan", "--config", str(EXAMPLE), "--now", NOW, *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def rows(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(plan(capsys, "--format", "json", *args))
    return found


def test_json_shows_the_dwwm_agrement_request_as_not_applicable_with_its_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    [row] = [
        r for r in rows(capsys) if r["session"] == DWWM and r["milestone"] == "agrement_request"
    ]
    assert row["status"] == "not_applicable"
    assert row["reason"] == (
        "l'agrément du centre pour TP-01280 court jusqu'au 31/03/2028, après la fin de la "
        "session (10/06/2027) : aucune demande à déposer"
    )
    assert row["centre"] == "greta-lyon-venissieux"
    assert row["due"] == "2026-12-07"  # the day it would have had


def test_the_table_shows_a_muted_sans_objet_line(capsys: pytest.CaptureFixture[str]) -> None:
    out = ANSI.sub("", plan(capsys, DWWM))
    assert (
        "  sans objet : Déposer la demande d'agrément si nécessaire — l'agrément du centre pour "
        "TP-01280 court jusqu'au 31/03/2028, après la fin de la session (10/06/2027) : aucune "
        "demande à déposer"
    ) in out


def test_json_has_one_annual_programming_row_per_centre_and_year(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = rows(capsys)
    yearly = [r for r in found if r["milestone"] == "annual_programming"]
    assert [(r["session"], r["centre"], r["year"], r["due"]) for r in yearly] == [
        (None, "afpa-strasbourg", 2027, "2027-01-29"),
        (None, "afpar-st-andre", 2027, "2027-01-29"),
        (None, "greta-lyon-venissieux", 2027, "2027-01-29"),
    ]
    assert yearly[1]["summary"] == (
        "[AFPAR Saint-André 2027] Programmation prévisionnelle des sessions de l'année"
    )
    # one session asked for: its own rows only
    assert {r["session"] for r in rows(capsys, DWWM)} == {DWWM}


def test_ics_has_one_annual_programming_per_centre(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    code = main(["plan", "--config", str(EXAMPLE), "--now", NOW, "--format", "ics"])
    out = capsysbinary.readouterr().out
    assert code == 0
    uids = [str(e["UID"]) for e in Calendar.from_ical(out).walk("VEVENT")]
    assert sorted(u for u in uids if "annual_programming" in u) == [
        "afpa-strasbourg.annual_programming.2027@syncsvc",
        "afpar-st-andre.annual_programming.2027@syncsvc",
        "greta-lyon-venissieux.annual_programming.2027@syncsvc",
    ]
