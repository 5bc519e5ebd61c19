"""The command line, run in-process with ``main([...])`` (and once as a real process).

Every run passes ``--now``: nothing here depends on the wall clock.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from icalendar import Calendar

from syncsvc.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config"
EXAMPLE_IDS = {
    "ccp-ac-2027-05-st-andre",
    "ctrmp-2027-02-venissieux",
    "dwwm-2027-06-venissieux",
    "sa-2027-03-st-andre",
    "tee-2027-04-strasbourg",
}
SA = "sa-2027-03-st-andre"
CTRMP = "ctrmp-2027-02-venissieux"
NOW = "2026-11-23"

ROW_KEYS = {"session", "milestone", "title", "due", "kind", "audience", "status"}
KINDS = {"regulatory", "advice"}
ROLES = {"coordinators", "session_manager", "deputy_manager", "centre_management", "jury"}
STATUSES = {"pending", "due_soon", "overdue", "done", "cancelled", "redo"}
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@pytest.fixture(autouse=True)
def _own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty folder: the example's store (``var/syncsvc.db``) is relative to it, so
    a developer's demo state never changes what these tests see."""
    monkeypatch.chdir(tmp_path)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """``syncsvc ARGS`` in-process; an argparse exit counts as the exit code."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def plan_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    result = run(capsys, "plan", "--config", str(EXAMPLE), "--format", "json", *args)
    assert result.code == 0, result.err
    assert result.err == ""
    rows: list[dict[str, Any]] = json.loads(result.out)
    return rows


def plan_ics(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> bytes:
    try:
        code = main(["plan", "--config", str(EXAMPLE), "--format", "ics", *args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsysbinary.readouterr()
    assert code == 0, captured.err.decode("utf-8")
    return captured.out


def row_of(rows: list[dict[str, Any]], session: str, milestone: str) -> dict[str, Any]:
    [row] = [r for r in rows if r["session"] == session and r["milestone"] == milestone]
    return row


def unfolded(ics: bytes) -> str:
    """The iCalendar text with folded lines joined (a name may be cut by a fold)."""
    return ics.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@pytest.fixture
def broken_config(tmp_path: Path) -> Path:
    """The example configuration plus one session file with a mistake (an unknown nature)."""
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    text = (EXAMPLE / "sessions" / f"{SA}.yaml").read_text(encoding="utf-8")
    text = text.replace(f"id: {SA}", "id: sa-2027-09-cassee").replace(
        "nature: titre", "nature: titr"
    )
    (root / "sessions" / "sa-2027-09-cassee.yaml").write_text(text, encoding="utf-8")
    return root


# --- validate ----------------------------------------------------------------------------------


def test_validate_example_config_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "validate", "--config", str(EXAMPLE), "--now", NOW)

    assert result.code == 0
    assert result.err == ""
    assert "5 session(s) chargée(s)" in result.out
    assert "0 fichier(s) en erreur" in result.out


def test_validate_broken_folder_exits_1_with_error_lines(
    capsys: pytest.CaptureFixture[str], broken_config: Path
) -> None:
    result = run(capsys, "validate", "--config", str(broken_config), "--now", NOW)

    broken = broken_config / "sessions" / "sa-2027-09-cassee.yaml"
    assert result.code == 1
    error_lines = [line for line in result.out.splitlines() if line.startswith(f"{broken}: ")]
    assert len(error_lines) == 1
    assert error_lines[0].startswith(f"{broken}: ligne 4, nature: ")
    assert "« titr »" in error_lines[0]
    assert "attendu" in error_lines[0]
    assert "5 session(s) chargée(s)" in result.out
    assert "1 fichier(s) en erreur" in result.out
    assert "Traceback" not in result.out + result.err


@pytest.mark.parametrize(
    ("now", "strict", "code"),
    [
        pytest.param(NOW, False, 0, id="no-findings"),
        pytest.param(NOW, True, 0, id="no-findings-strict"),
        pytest.param("2027-06-01", False, 0, id="error-findings"),
        pytest.param("2027-06-01", True, 1, id="error-findings-strict"),
    ],
)
def test_validate_strict_fails_on_error_findings(
    capsys: pytest.CaptureFixture[str], now: str, strict: bool, code: int
) -> None:
    args = ["validate", "--config", str(EXAMPLE), "--now", now]
    result = run(capsys, *args, *(["--strict"] if strict else []))

    assert result.code == code
    assert "5 session(s) chargée(s), 0 fichier(s) en erreur" in result.out


def test_validate_prints_findings_with_severity(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "validate", "--config", str(EXAMPLE), "--now", "2026-12-12")

    sa_file = EXAMPLE / "sessions" / f"{SA}.yaml"
    [line] = [x for x in result.out.splitlines() if x.endswith("[overdue:dte_order]")]
    assert line.startswith(f"{sa_file}: erreur: ")
    assert "11/12/2026" in line
    assert result.code == 0


def test_validate_strict_ignores_warnings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    path = root / "sessions" / f"{SA}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('first_day_start: "08:30"\n', ""), encoding="utf-8")

    result = run(capsys, "validate", "--strict", "--config", str(root), "--now", NOW)

    assert f"{path}: avertissement: " in result.out
    assert "[first_day_start_missing]" in result.out
    assert "0 erreur(s), 1 avertissement(s)" in result.out
    assert result.code == 0


# --- plan --format json ------------------------------------------------------------------------


def test_plan_json_rows_have_the_documented_schema(capsys: pytest.CaptureFixture[str]) -> None:
    rows = plan_json(capsys, "--now", NOW)

    assert isinstance(rows, list)
    assert rows
    for row in rows:
        assert set(row) >= ROW_KEYS | {"centre"}, row
        # issue 11: a centre's yearly milestone has no session, its centre and year instead
        assert row["session"] in EXAMPLE_IDS or (row["session"] is None and row["year"])
        assert isinstance(row["milestone"], str)
        assert row["milestone"]
        assert isinstance(row["title"], str)
        assert row["title"]
        # issue 12: « Informer l'UD du report » of a session never postponed has no day at all
        if row["due"] is None:
            assert (row["status"], row["milestone"]) == ("not_applicable", "ud_postponement_notice")
        else:
            assert DAY.match(row["due"]), row["due"]
        assert row["kind"] in KINDS
        assert isinstance(row["audience"], list)
        assert row["audience"]
        assert set(row["audience"]) <= ROLES
        # issue 11: a milestone that does not apply is « sans objet », with its reason
        assert row["status"] in STATUSES | {"not_applicable"}
        assert (row["status"] == "not_applicable") == ("reason" in row)
    assert {r["session"] for r in rows} == EXAMPLE_IDS | {None}
    pairs = [(r["session"], r["centre"], r.get("year"), r["milestone"]) for r in rows]
    assert len(pairs) == len(set(pairs))


def test_plan_json_sa_dte_order_is_shifted_off_the_sunday(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = plan_json(capsys, "--now", NOW)

    dte = row_of(rows, SA, "dte_order")
    # 2027-03-15 - 92 days = Sunday 13 December 2026 -> Friday 11 December
    assert dte["due"] == "2026-12-11"
    assert dte["status"] == "pending"
    assert dte["kind"] == "regulatory"
    assert dte["audience"] == ["coordinators"]
    # marked done in the session file
    assert row_of(rows, SA, "ceres_session_create")["status"] == "done"


@pytest.mark.parametrize(
    ("now", "status"),
    [
        ("2026-11-23", "pending"),
        ("2026-11-26", "pending"),
        ("2026-11-27", "due_soon"),  # 14 days before, its first reminder
        ("2026-12-01", "due_soon"),
        ("2026-12-11", "due_soon"),  # the due day itself is not late yet
        ("2026-12-12", "overdue"),
        ("2027-06-01", "overdue"),
        # an instant is read in the centre's zone (La Réunion, UTC+4)
        ("2026-12-11T19:30:00+00:00", "due_soon"),
        ("2026-12-11T20:30:00+00:00", "overdue"),
    ],
)
def test_plan_json_status_follows_now(
    capsys: pytest.CaptureFixture[str], now: str, status: str
) -> None:
    rows = plan_json(capsys, SA, "--now", now)

    dte = row_of(rows, SA, "dte_order")
    assert dte["due"] == "2026-12-11"
    assert dte["status"] == status


def test_plan_session_id_limits_the_output(capsys: pytest.CaptureFixture[str]) -> None:
    everything = plan_json(capsys, "--now", NOW)
    only_sa = plan_json(capsys, SA, "--now", NOW)

    assert only_sa
    assert {r["session"] for r in only_sa} == {SA}
    assert only_sa == [r for r in everything if r["session"] == SA]


def test_plan_json_is_the_same_for_the_same_now(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "plan", "--config", str(EXAMPLE), "--format", "json", "--now", NOW)
    second = run(capsys, "plan", "--config", str(EXAMPLE), "--format", "json", "--now", NOW)

    assert first.out == second.out


def test_plan_jsonl_is_one_object_per_line_with_the_rows_of_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = plan_json(capsys, "--now", NOW)
    result = run(capsys, "plan", "--config", str(EXAMPLE), "--format", "jsonl", "--now", NOW)

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == len(listed) > 50
    assert [json.loads(line) for line in lines] == listed


def test_plan_json_streams_one_row_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    """The list is written row by row as the rows are made (a national plan is 100 MB): the
    first line opens the list, each row is a line of its own, the last closes it."""
    result = run(capsys, "plan", "--config", str(EXAMPLE), "--format", "json", "--now", NOW)
    lines = result.out.splitlines()
    assert lines[0] == "["
    assert lines[-1] == "]"
    rows = [json.loads(line.removesuffix(",")) for line in lines[1:-1]]
    assert rows == json.loads(result.out)


def test_plan_json_of_nothing_is_an_empty_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "empty"
    shutil.copytree(EXAMPLE, config)
    for path in (config / "sessions").iterdir():
        path.unlink()
    result = run(capsys, "plan", "--config", str(config), "--format", "json", "--now", NOW)
    assert result.code == 0
    rows = json.loads(result.out)  # only the centres' yearly milestones remain
    assert isinstance(rows, list)
    assert all(r["session"] is None for r in rows)


def test_plan_with_a_broken_file_plans_the_others_and_exits_1(
    capsys: pytest.CaptureFixture[str], broken_config: Path
) -> None:
    result = run(capsys, "plan", "--config", str(broken_config), "--format", "json", "--now", NOW)

    assert result.code == 1
    rows = json.loads(result.out)
    assert {r["session"] for r in rows if r["session"] is not None} == EXAMPLE_IDS
    broken = broken_config / "sessions" / "sa-2027-09-cassee.yaml"
    assert result.err.startswith(f"{broken}: ligne 4, nature: ")


# --- plan --format ics -------------------------------------------------------------------------


def test_plan_ics_is_a_valid_calendar_with_one_event_per_row(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    ics = plan_ics(capsysbinary, "--now", NOW)
    assert main(["plan", "--config", str(EXAMPLE), "--format", "json", "--now", NOW]) == 0
    rows = [
        r
        for r in json.loads(capsysbinary.readouterr().out.decode("utf-8"))
        if r["status"] != "not_applicable"  # « sans objet »: never in a calendar
    ]

    calendar = Calendar.from_ical(ics)
    assert calendar.name == "VCALENDAR"
    assert str(calendar.get("prodid"))
    assert str(calendar.get("version")) == "2.0"
    events = calendar.walk("VEVENT")
    # one event per row, but the exam: one per day (issue 11, session days)
    exams = [e for e in events if str(e.get("x-syncsvc-milestone")) == "exam_session"]
    assert len(events) - len(exams) == len([r for r in rows if r["milestone"] != "exam_session"])
    per_session: dict[str, int] = {}
    for exam in exams:
        session = str(exam.get("x-syncsvc-session"))
        per_session[session] = per_session.get(session, 0) + 1
    assert per_session["sa-2027-03-st-andre"] == 5
    assert per_session["ccp-ac-2027-05-st-andre"] == 2
    assert set(per_session) == {r["session"] for r in rows if r["milestone"] == "exam_session"}
    uids = [str(event.get("uid")) for event in events]
    assert len(set(uids)) == len(uids)
    assert all(uids)
    pairs = {(str(e.get("x-syncsvc-session")), str(e.get("x-syncsvc-milestone"))) for e in events}
    owner = {r["session"] or f"centre:{r['centre']}:{r['year']}" for r in rows}
    assert {session for session, _ in pairs} == owner
    assert pairs == {
        (r["session"] or f"centre:{r['centre']}:{r['year']}", r["milestone"]) for r in rows
    }


def test_plan_ics_exam_session_is_timed_with_jury_attendees(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    ics = plan_ics(capsysbinary, SA, "--now", NOW)

    calendar = Calendar.from_ical(ics)
    exams = [e for e in calendar.walk("VEVENT") if e.get("x-syncsvc-milestone") == "exam_session"]
    exams.sort(key=lambda e: e.decoded("dtstart"))
    assert len(exams) == 5  # one event per exam day (issue 11)
    exam = exams[0]
    start = exam.get("dtstart")
    assert start.params["TZID"] == "Indian/Reunion"
    assert start.dt.isoformat() == "2027-03-15T08:30:00+04:00"
    assert exam.decoded("dtend").isoformat() == "2027-03-15T18:00:00+04:00"
    timezones = {str(tz.get("tzid")) for tz in calendar.walk("VTIMEZONE")}
    assert "Indian/Reunion" in timezones
    attendees = as_list(exam.get("attendee"))
    assert {str(a) for a in attendees} == {
        "mailto:c.maillot@jury.example",
        "mailto:p.fontaine@jury.example",
    }
    for attendee in attendees:
        assert attendee.params["SCHEDULE-AGENT"] == "CLIENT"


def test_plan_ics_every_exam_session_has_a_tzid(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    calendar = Calendar.from_ical(plan_ics(capsysbinary, "--now", NOW))

    exams = [e for e in calendar.walk("VEVENT") if e.get("x-syncsvc-milestone") == "exam_session"]
    assert {str(e.get("x-syncsvc-session")) for e in exams} == set(EXAMPLE_IDS)
    timezones = {str(tz.get("tzid")) for tz in calendar.walk("VTIMEZONE")}
    for exam in exams:
        tzid = exam.get("dtstart").params["TZID"]
        assert tzid in timezones
        attendees = as_list(exam.get("attendee"))
        assert len(attendees) >= 2
        assert all(a.params["SCHEDULE-AGENT"] == "CLIENT" for a in attendees)


def _candidate_data() -> list[str]:
    data = yaml.safe_load((EXAMPLE / "sessions" / f"{CTRMP}.yaml").read_text(encoding="utf-8"))
    named = data["candidates"]["list"]
    assert named
    return [str(c["name"]) for c in named] + [
        str(c["host_company"]) for c in named if c.get("host_company")
    ]


@pytest.mark.parametrize("only", [None, CTRMP])
def test_plan_ics_never_contains_candidate_names(
    capsysbinary: pytest.CaptureFixture[bytes], only: str | None
) -> None:
    ics = plan_ics(capsysbinary, *([only] if only else []), "--now", NOW)

    text = unfolded(ics).casefold()
    for personal in _candidate_data():
        assert personal.casefold() not in text


def test_plan_ics_is_byte_for_byte_reproducible(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    first = plan_ics(capsysbinary, "--now", NOW)
    second = plan_ics(capsysbinary, "--now", NOW)

    assert first
    assert first == second


# --- plan --format table -----------------------------------------------------------------------


def test_plan_table_shows_the_session_header_and_french_statuses(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)

    result = run(capsys, "plan", SA, "--config", str(EXAMPLE), "--now", "2026-12-12")

    out = ANSI.sub("", result.out)
    assert result.code == 0
    assert "[SA 15/03] TP-00374 Secrétaire assistant (TITRE)" in out
    assert "AFPAR Saint-André" in out
    assert "du 15/03/2027 au 19/03/2027" in out
    for header in ("Échéance", "Jalon", "Type", "Pour", "Statut"):
        assert header in out
    for label in ("À venir", "En retard", "Fait"):
        assert label in out
    assert "ven. 11/12/2026*" in out
    assert "jour ouvré" in out
    assert "Commander le pli d'examen (DTE)" in out
    # the overdue regulatory milestone is also listed as an error finding
    assert "erreur : « Commander le pli d'examen (DTE) »" in out
    for other in ("[CTRMP", "[DWWM", "[TEEE", "[AC "):
        assert other not in out


def test_plan_table_is_the_default_format(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--config", str(EXAMPLE), "--now", NOW)

    assert result.code == 0
    for label in ("[SA 15/03]", "[CTRMP 22/02]", "[TEEE 26/04]", "[AC 10/05]", "[DWWM 07/06]"):
        assert label in result.out
    assert "À venir" in result.out


# --- errors a user can cause -------------------------------------------------------------------


def _user_errors() -> list[Any]:
    """(arguments, a French word of the message); ``{tmp}`` stands for a temporary folder."""
    example = str(EXAMPLE)
    tmp = "{tmp}"
    return [
        pytest.param(
            ["plan", "inconnue-2027", "--config", example, "--now", NOW],
            "inconnue",
            id="unknown-session",
        ),
        pytest.param(
            ["plan", "--config", example, "--now", "2027-13-45"],
            "invalide",
            id="bad-now",
        ),
        pytest.param(
            ["validate", "--config", example, "--now", "15/03/2027"],
            "invalide",
            id="bad-now-validate",
        ),
        pytest.param(
            ["plan", "--config", f"{tmp}/absent", "--now", NOW],
            "introuvable",
            id="missing-config-plan",
        ),
        pytest.param(
            ["validate", "--config", f"{tmp}/absent", "--now", NOW],
            "introuvable",
            id="missing-config-validate",
        ),
        pytest.param(
            ["plan", "--config", example, "--now", NOW, "--format", "pdf"],
            "invalide",
            id="bad-format",
        ),
    ]


@pytest.mark.parametrize(("args", "word"), _user_errors())
def test_user_errors_end_with_one_french_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], word: str
) -> None:
    result = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in args])

    assert result.code != 0
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("syncsvc : ")
    assert word in lines[0]
    assert "attendu" in lines[0]


def test_plan_of_a_broken_session_says_to_run_validate(
    capsys: pytest.CaptureFixture[str], broken_config: Path
) -> None:
    result = run(capsys, "plan", "sa-2027-09-cassee", "--config", str(broken_config), "--now", NOW)

    assert result.code != 0
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1
    assert "ne se charge pas" in lines[0]
    assert "syncsvc validate" in lines[0]


def test_unknown_session_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "sa-2027-03", "--config", str(EXAMPLE), "--now", NOW)

    assert result.code != 0
    for session_id in EXAMPLE_IDS:
        assert session_id in result.err


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["plan", "inconnue-2027", "--now", NOW], "inconnue"),
        (["plan", "--now", "2027-13-45"], "invalide"),
        (["validate", "--config", "absent", "--now", NOW], "introuvable"),
    ],
)
def test_real_process_user_error_has_no_traceback(
    tmp_path: Path, args: list[str], word: str
) -> None:
    if "--config" not in args:
        args = [*args, "--config", str(EXAMPLE)]
    env = {**os.environ, "PYTHONUTF8": "1"}
    completed = subprocess.run(
        [sys.executable, "-c", "from syncsvc.cli import main; raise SystemExit(main())", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )

    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("syncsvc : ")
    assert word in lines[0]
    assert completed.stdout == ""


# --- bugs found while writing these tests ------------------------------------------------------


def test_validate_impossible_date_is_an_error_line_not_a_crash(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    path = root / "sessions" / f"{SA}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("start: 2027-03-15", "start: 2027-02-30"), encoding="utf-8")

    result = run(capsys, "validate", "--config", str(root), "--now", NOW)

    assert result.code == 1
    assert f"{path}: " in result.out
    assert "4 session(s) chargée(s)" in result.out


# --- inputs that used to pass validate and break later ------------------------------------------

SA_TEXT = (EXAMPLE / "sessions" / f"{SA}.yaml").read_text(encoding="utf-8")
LOCATION = 'location: "AFPAR Saint-André, salle B12"'
MANAGER = 'session_manager: {name: "Jean-Luc Hoarau", email: jl.hoarau@afpar.example}'
ENGLISH = ("found", "expected", "exceeded", "constructor", "alias'", "unicode string", "Input ")


def _bad_session(session_id: str, old: str, new: str) -> str:
    text = SA_TEXT.replace(f"id: {SA}", f"id: {session_id}")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _alias_bomb() -> str:
    lines = ['a0: &a0 "lol"']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\nlocation: *a9"


# (file name, its text or None for an entry made by the test, the field named, a French word)
BAD_SESSIONS = [
    (
        "crlf-nom.yaml",
        (MANAGER, MANAGER.replace("Jean-Luc Hoarau", "Jean\\r\\nBcc: x@y")),
        "session_manager.name",
        "contrôle",
    ),
    (
        "nul-nom.yaml",
        (MANAGER, MANAGER.replace("Jean-Luc Hoarau", "Jean\\0Luc")),
        "session_manager.name",
        "contrôle",
    ),
    (
        "long-nom.yaml",
        (MANAGER, MANAGER.replace("Jean-Luc Hoarau", "N" * 300)),
        "session_manager.name",
        "trop long",
    ),
    (
        "long-email.yaml",
        (MANAGER, MANAGER.replace("jl.hoarau", "j" * 290)),
        "session_manager.email",
        "trop long",
    ),
    (
        "libelle-lf.yaml",
        ('"Secrétaire assistant"', '"Secrétaire\\nassistant"'),
        "title.label",
        "contrôle",
    ),
    ("debut-0001.yaml", ("start: 2027-03-15", "start: 0001-01-02"), "start", "2000-01-01"),
    ("debut-9999.yaml", ("start: 2027-03-15", "start: 9999-12-20"), "start", "2099-12-31"),
    ("cle-liste.yaml", (LOCATION, "[a, b]: 1"), "", "clé"),
    ("profond.yaml", (LOCATION, "location: " + "[" * 500 + "]" * 500), "", "imbrication"),
    ("bombe.yaml", (LOCATION, _alias_bomb()), "", "alias"),
    ("etiquette.yaml", (LOCATION, "location: !!python/object:os.system x"), "", "étiquette"),
    (
        "candidat.yaml",
        (
            "candidates: {training: 10, vae: 2}",
            "candidates: {list: [{name: Karim Benali, email: karim.benali}]}",
        ),
        "candidates.list[1].email",
        "e-mail",
    ),
]


def _bad_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The example folder plus one bad entry of each kind; the field each one must name."""
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    sessions = root / "sessions"
    expected: dict[str, str] = {}
    for name, (old, new), field, _ in BAD_SESSIONS:
        text = _bad_session(name.removesuffix(".yaml"), old, new)
        (sessions / name).write_text(text, encoding="utf-8")
        expected[str(sessions / name)] = field
    entries: dict[str, Callable[[Path], object]] = {
        "lien-absent.yaml": lambda p: p.symlink_to("/mnt/absent/sa.yaml"),
        "lien-zero.yaml": lambda p: p.symlink_to("/dev/zero"),
        "dossier.yaml": lambda p: p.mkdir(),
        "tube.yaml": os.mkfifo,
        "majuscules.YAML": lambda p: p.write_text(SA_TEXT, encoding="utf-8"),
        "sauvegarde.yaml~": lambda p: p.write_text(SA_TEXT, encoding="utf-8"),
        "notes.txt": lambda p: p.write_text("notes", encoding="utf-8"),
        "gros.yaml": lambda p: p.write_text(SA_TEXT + "#" * 1_100_000, encoding="utf-8"),
    }
    for name, make in entries.items():
        make(sessions / name)
        expected[str(sessions / name)] = ""
    with open(os.fsencode(sessions) + b"/s\xe9ance.yaml", "wb") as out:
        out.write(SA_TEXT.encode("utf-8"))
    expected[str(sessions / "s\\xe9ance.yaml")] = ""
    return root, expected


@pytest.mark.parametrize("strict", [False, True])
def test_validate_reports_every_bad_input_on_one_french_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, strict: bool
) -> None:
    root, expected = _bad_folder(tmp_path)

    result = run(
        capsys, "validate", "--config", str(root), "--now", NOW, *(["--strict"] if strict else [])
    )

    assert result.code == 1
    assert "Traceback" not in result.out + result.err
    lines = result.out.splitlines()
    for file, field in expected.items():
        mine = [line for line in lines if line.startswith(f"{file}: ")]
        assert len(mine) == 1, (file, mine)
        # a field written in the file is named with its line (tests/inputs/test_field_lines.py)
        prefix = rf"{re.escape(file)}: (ligne \d+, )?{re.escape(field)}: " if field else ""
        assert mine[0].startswith(f"{file}: "), mine[0]
        assert re.match(prefix, mine[0]), mine[0]
        assert "attendu" in mine[0]
        for word in ENGLISH:
            assert word not in mine[0], mine[0]
        assert "Karim" not in mine[0]
    for name, _, _, word in BAD_SESSIONS:
        [line] = [x for x in lines if x.startswith(f"{root / 'sessions' / name}: ")]
        assert word in line, line
    assert f"{len(EXAMPLE_IDS)} session(s) chargée(s)" in result.out
    assert f"{len(expected)} fichier(s) en erreur" in result.out


def test_validate_refuses_a_huge_time_zone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    centres = root / "centres.yaml"
    text = centres.read_text(encoding="utf-8")
    centres.write_text(
        text.replace("timezone: Indian/Reunion", "timezone: " + "x" * 100_000), encoding="utf-8"
    )

    result = run(capsys, "validate", "--config", str(root), "--now", NOW)

    assert result.code == 1
    [line] = [x for x in result.out.splitlines() if x.startswith(f"{centres}: ")]
    assert line.startswith(f"{centres}: ligne 6, afpar-st-andre.timezone: fuseau horaire")
    assert "IANA" in line
    assert len(line) < 400


def test_plan_prints_a_markup_looking_label_as_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    path = root / "sessions" / f"{SA}.yaml"
    path.write_text(
        SA_TEXT.replace('"Secrétaire assistant"', '"Secrétaire [/bold] assistant [red]"'),
        encoding="utf-8",
    )

    result = run(capsys, "plan", SA, "--config", str(root), "--now", NOW)

    assert result.code == 0, result.err
    assert "TP-00374 Secrétaire [/bold] assistant [red] (TITRE)" in ANSI.sub("", result.out)
