"""What real iCalendar clients make of syncsvc's output.

Every file syncsvc publishes — ``syncsvc plan --format ics``, the single-item resources PUT on
CalDAV servers (events and tasks) and the subscription feeds — is generated here from the example
configuration and read by two real parsers:

- ical.js (npm ``ical.js``, the parser of Thunderbird) through ``tests/tools/icaljs/validate.mjs``,
  which also checks what ical.js is too lenient to refuse: PRODID and VERSION, UID and DTSTAMP on
  every VEVENT/VTODO, CRLF line endings, lines of at most 75 octets, a VTIMEZONE for every TZID;
- libical (Debian ``gir1.2-ical-3.0 python3-gi``, used by Evolution and many servers) through
  ``tests/tools/libical_check.py`` under the system Python: bad lines, missing PRODID, DTEND
  together with DURATION and the other RFC 5545 restrictions it knows.

A missing tool skips these tests on a developer's machine and fails them when ``CI`` is set.
``npm ci`` runs in ``tests/tools/icaljs`` when its ``node_modules`` is absent; when
``SYNCSVC_INSTALL_SYSTEM_DEPS=1`` and running as root, libical is installed with apt-get.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

import pytest

from syncsvc import cli
from syncsvc.app import feeds as feed
from syncsvc.app.sync import Renderer, protected_in
from syncsvc.core import audience, invitations
from syncsvc.core.entries import Items, centre_entry_for, entries_for
from syncsvc.core.planner import plan_session, plan_sessions
from syncsvc.formats.ical import resource_bytes
from syncsvc.formats.mail import compose_invitation
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import TargetSettings, load_settings
from syncsvc.state.store import Store
from tests.harness.convened import LINE, convened_config
from tests.harness.exclusive import one_at_a_time

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
TOOLS = ROOT / "tests" / "tools"
ICALJS = TOOLS / "icaljs"
LIBICAL_CHECK = TOOLS / "libical_check.py"
SYSTEM_PYTHON = Path("/usr/bin/python3")
APT_PACKAGES = ("gir1.2-ical-3.0", "python3-gi")
LIBICAL_PROBE = (
    "import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib"
)
DASHBOARD = "https://examens.example.org/tableau-de-bord"
# Two days seen from the example sessions: everything ahead (done marks from the session files
# only), then mid-campaign with overdue, due-soon and done milestones.
MOMENTS = (
    datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
    datetime(2027, 3, 1, 7, 30, tzinfo=UTC),
)

PLAN_DAY = date(2026, 11, 23)
ITEMS: tuple[Items, ...] = ("events", "tasks")

Result = dict[str, Any]


def _unavailable(reason: str) -> NoReturn:
    """Skip on a developer's machine; fail in CI, where every tool must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the interop tools must be installed)")
    pytest.skip(reason)


def _run(argv: Sequence[str], cwd: Path | None = None, timeout: float = 600) -> tuple[int, str]:
    """(exit code, stdout + stderr) of a command that may be missing or hang."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return -1, str(exc)
    return done.returncode, done.stdout + done.stderr


@dataclass(frozen=True)
class Validator:
    """One validator program: ``argv + files`` prints one JSON line per file."""

    name: str
    argv: tuple[str, ...]

    def run(self, files: Sequence[Path]) -> dict[Path, Result]:
        done = subprocess.run(
            [*self.argv, *map(str, files)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{self.name} crashed ({done.returncode}):\n{done.stderr}"
        results: dict[Path, Result] = {}
        for line in done.stdout.splitlines():
            result: Result = json.loads(line)
            results[Path(result["file"])] = result
        assert set(results) == set(files), f"{self.name} did not report on every file"
        return results


# --- the tools -------------------------------------------------------------------------------


def _icaljs_pin() -> str:
    manifest: Result = json.loads((ICALJS / "package.json").read_text(encoding="utf-8"))
    return str(manifest["dependencies"]["ical.js"])


def _icaljs_installed() -> bool:
    installed = ICALJS / "node_modules" / "ical.js" / "package.json"
    if not installed.is_file():
        return False
    manifest: Result = json.loads(installed.read_text(encoding="utf-8"))
    return bool(manifest.get("version") == _icaljs_pin())


@pytest.fixture(scope="module")
def icaljs() -> Validator:
    """ical.js as pinned in tests/tools/icaljs, installed with ``npm ci`` when absent."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed: cannot run ical.js")
    with one_at_a_time("icaljs"):  # not two `npm ci` in one folder at once
        if not _icaljs_installed():
            npm = shutil.which("npm")
            if npm is None:
                _unavailable(f"npm is not installed: cannot install ical.js in {ICALJS}")
            code, output = _run([npm, "ci", "--no-audit", "--no-fund"], cwd=ICALJS)
            if code != 0 or not _icaljs_installed():
                _unavailable(f"`npm ci` failed in {ICALJS} ({code}):\n{output[-3000:]}")
    return Validator("ical.js", (node, str(ICALJS / "validate.mjs")))


def _libical_ready() -> tuple[bool, str]:
    if not SYSTEM_PYTHON.is_file():
        return False, f"{SYSTEM_PYTHON} does not exist"
    code, output = _run([str(SYSTEM_PYTHON), "-I", "-c", LIBICAL_PROBE], timeout=60)
    return code == 0, (output.strip().splitlines() or [""])[-1]


def _install_libical() -> str:
    """apt-get install the libical bindings when asked to (CI); what happened, for messages."""
    if os.environ.get("SYNCSVC_INSTALL_SYSTEM_DEPS") != "1":
        return "set SYNCSVC_INSTALL_SYSTEM_DEPS=1 (as root) to let the tests install them"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "SYNCSVC_INSTALL_SYSTEM_DEPS=1 but not root or no apt-get: not installed"
    install = ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES]
    code, output = _run(install)
    if code != 0:
        _run(["apt-get", "update"])
        code, output = _run(install)
    return f"`{' '.join(install)}` exited {code}: {output.strip()[-1500:]}"


@pytest.fixture(scope="module")
def libical() -> Validator:
    """libical's GObject bindings under the system Python, installed by apt-get when asked."""
    ready, why = _libical_ready()
    if not ready:
        with one_at_a_time("apt"):  # another test process may be installing it
            ready, why = _libical_ready()
            note = "" if ready else _install_libical()
        ready, why = _libical_ready()
        if not ready:
            _unavailable(
                f"libical is not usable from {SYSTEM_PYTHON} ({why}); install Debian packages "
                f"{' '.join(APT_PACKAGES)}; {note}"
            )
    return Validator("libical", (str(SYSTEM_PYTHON), "-I", str(LIBICAL_CHECK)))


# --- the output under test -------------------------------------------------------------------


@dataclass
class Generated:
    """Files written from the example configuration, by kind of output."""

    resources: dict[Items, list[Path]] = field(default_factory=lambda: {"events": [], "tasks": []})
    feeds: list[Path] = field(default_factory=list)
    invitations: list[Path] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [*self.resources["events"], *self.resources["tasks"], *self.feeds, *self.invitations]


def _write_resources(directory: Path, generated: Generated) -> None:
    """One CalDAV resource per milestone of every example session, as events and as tasks."""
    config = load_config(CONFIG)
    assert not config.problems, config.problems
    for moment in MOMENTS:
        folder = directory / "resources" / moment.date().isoformat()
        folder.mkdir(parents=True)
        for session in sorted(config.sessions.values(), key=lambda s: s.id):
            centre = config.centres[session.centre]
            ruleset = config.rulesets[centre.id]
            juror = session.jury[0].email if session.jury else None
            for milestone in plan_session(session, centre, ruleset, moment):
                for sequence, items in enumerate(ITEMS):
                    # the exam: one resource per day, and each as a juror's calendar has it
                    for who in (None, juror) if milestone.id == "exam_session" else (None,):
                        for entry in entries_for(session, centre, milestone, items, DASHBOARD, who):
                            name = entry.uid.removesuffix("@syncsvc") + (".jury" if who else "")
                            path = folder / f"{name}.{items}.ics"
                            path.write_bytes(resource_bytes(entry, moment, sequence))
                            generated.resources[items].append(path)
        for yearly in plan_sessions(config, {}, moment).centre_milestones:  # one per centre
            for sequence, items in enumerate(ITEMS):
                entry = centre_entry_for(
                    yearly.centre, yearly.year, yearly.milestone, items, DASHBOARD
                )
                path = folder / f"{yearly.centre.id}.{yearly.milestone.id}.{items}.ics"
                path.write_bytes(resource_bytes(entry, moment, sequence))
                generated.resources[items].append(path)


def _write_feeds(directory: Path, generated: Generated) -> None:
    """Every configured feed plus an all-sessions feed (events and tasks) and the feed of a
    person convened as surveillant, juror and comédien, rendered twice:
    first publication, then after the statuses changed and a milestone was marked done."""
    settings = load_settings(CONFIG)
    # the example, with a surveillant and a comédien who have their own feed (jury:<e-mail>)
    config = convened_config(directory / "convened")
    names = {cid: c.name for cid, c in config.centres.items()}
    targets = [
        TargetSettings(name="f", kind="feed", audience="all"),
        TargetSettings(name="f-tasks", kind="feed", audience="all", items="tasks"),
        TargetSettings(name="f-convened", kind="feed", audience=f"jury:{LINE}"),
        *(t for t in settings.targets if t.kind == "feed"),
    ]
    store = Store(f"sqlite:///{directory / 'state.db'}")
    try:
        store.migrate()
        for round_, moment in enumerate(MOMENTS):
            if round_:
                session = sorted(config.sessions.values(), key=lambda s: s.start)[0]
                centre = config.centres[session.centre]
                first = plan_session(session, centre, config.rulesets[centre.id], moment)[0]
                store.mark_done(session.id, first.id, date(2027, 2, 27), "coord", None, moment)
            planning = plan_sessions(config, store.done_marks(), moment)
            for target in targets:
                desired = Renderer().desired(
                    target, planning.planned, DASHBOARD, None, planning.centre_milestones
                )
                recorded = store.recorded(target.name).values()
                feed.refresh(
                    target.name, desired, store, moment, protected_in(config, store, recorded)
                )
                rendered = feed.render(
                    target.name,
                    store,
                    audience.calendar_name(target.audience, names),
                    settings.feeds.refresh_minutes,
                )
                path = directory / "feeds" / f"{target.name}.{round_}.ics"
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(rendered.body)
                generated.feeds.append(path)
    finally:
        store.close()


def _write_invitations(directory: Path, generated: Generated) -> None:
    """The iMIP calendar of every invitation of the example (REQUEST, the exam days recurring,
    a day at other hours as an instance of its own) and a CANCEL of each."""
    config = load_config(CONFIG)
    moment = MOMENTS[0]
    folder = directory / "invitations"
    folder.mkdir()
    planned = []
    for session in sorted(config.sessions.values(), key=lambda s: s.id):
        centre = config.centres[session.centre]
        ruleset = config.rulesets[centre.id]
        planned.append((session, centre, plan_session(session, centre, ruleset, moment)))
    for change in invitations.changes(planned, {}):
        message, _ = compose_invitation(change, "examens@example.fr", moment)
        cancel = replace(change, method="CANCEL", sequence=1, happened="cancelled")
        cancelled, _ = compose_invitation(cancel, "examens@example.fr", moment)
        for name, sent in (("request", message), ("cancel", cancelled)):
            part = next(p for p in sent.walk() if p.get_filename() == "invite.ics")
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            path = folder / f"{change.session_id}.{change.email}.{name}.ics"
            path.write_bytes(data)
            generated.invitations.append(path)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    directory = tmp_path_factory.mktemp("interop-ics")
    result = Generated()
    _write_resources(directory, result)
    _write_feeds(directory, result)
    _write_invitations(directory, result)
    return result


@pytest.fixture(scope="module")
def icaljs_results(icaljs: Validator, generated: Generated) -> dict[Path, Result]:
    return icaljs.run(generated.files)  # one node process for every file


@pytest.fixture(scope="module")
def libical_results(libical: Validator, generated: Generated) -> dict[Path, Result]:
    return libical.run(generated.files)  # one system-python process for every file


@pytest.fixture
def plan_ics(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> Path:
    """``syncsvc plan --format ics`` on the example configuration, written to a file."""
    argv = ["plan", "--format", "ics", "--config", str(CONFIG), "--now", PLAN_DAY.isoformat()]
    assert cli.main(argv) == 0
    out, err = capsysbinary.readouterr()
    assert out, err
    path = tmp_path / "plan.ics"
    path.write_bytes(out)
    return path


# --- judging ---------------------------------------------------------------------------------


Faults = Callable[[Result], list[str]]


def icaljs_faults(result: Result) -> list[str]:
    faults: list[str] = []
    if not result["ok"]:
        faults.append(f"ical.js cannot parse it: {result['error']}")
    faults += [f"missing {what}" for what in result["missing"]]
    faults += result["line_problems"]
    faults += result["problems"]
    return faults


def libical_faults(result: Result) -> list[str]:
    errors: list[str] = result["errors"]
    return errors if errors or result["ok"] else ["not ok"]


def assert_clean(
    results: dict[Path, Result],
    files: Sequence[Path],
    faults_of: Faults,
    client: str,
) -> None:
    """No file has a fault."""
    assert files, "nothing was generated"
    bad: dict[Path, list[str]] = {}
    for path in files:
        faults = faults_of(results[path])
        if faults:
            bad[path] = faults
    report = "\n".join(
        f"{path.name}:\n" + "\n".join(f"  - {fault}" for fault in faults[:10])
        for path, faults in sorted(bad.items())[:15]
    )
    assert not bad, f"{client} finds faults in {len(bad)} of {len(files)} files:\n{report}"


def counts(results: dict[Path, Result], files: Sequence[Path]) -> dict[str, int]:
    total = {"VEVENT": 0, "VTODO": 0, "VTIMEZONE": 0}
    for path in files:
        for kind, number in results[path]["components"].items():
            total[kind] += number
    return total


# --- syncsvc plan --format ics ---------------------------------------------------------------


def test_plan_ics_is_clean_for_icaljs(plan_ics: Path, icaljs: Validator) -> None:
    results = icaljs.run([plan_ics])
    assert_clean(results, [plan_ics], icaljs_faults, "ical.js")
    found = counts(results, [plan_ics])
    config = load_config(CONFIG)
    milestones = sum(
        len(entries_for(s, config.centres[s.centre], m))  # the exam: one event per day
        for s in config.sessions.values()
        for m in plan_session(s, config.centres[s.centre], config.rulesets[s.centre], PLAN_DAY)
    )
    yearly = len(plan_sessions(config, {}, PLAN_DAY).centre_milestones)
    assert yearly == 3  # one annual programming per centre of the example
    assert found["VEVENT"] == milestones + yearly  # every milestone of every example session
    assert found["VTIMEZONE"] >= 1  # exam sessions are timed in their centre's zone


def test_plan_ics_is_clean_for_libical(plan_ics: Path, libical: Validator) -> None:
    assert_clean(libical.run([plan_ics]), [plan_ics], libical_faults, "libical")


# --- CalDAV resources: one milestone each ----------------------------------------------------


@pytest.mark.parametrize("items", ["events", "tasks"])
def test_caldav_resources_are_clean_for_icaljs(
    items: Items, generated: Generated, icaljs_results: dict[Path, Result]
) -> None:
    files = generated.resources[items]
    assert_clean(icaljs_results, files, icaljs_faults, "ical.js")
    for path in files:
        found = icaljs_results[path]["components"]
        assert found["VEVENT"] + found["VTODO"] == 1, path.name
    if items == "tasks":
        assert counts(icaljs_results, files)["VTODO"] > 0


@pytest.mark.parametrize("items", ["events", "tasks"])
def test_caldav_resources_are_clean_for_libical(
    items: Items, generated: Generated, libical_results: dict[Path, Result]
) -> None:
    assert_clean(libical_results, generated.resources[items], libical_faults, "libical")


# --- ICS feeds -------------------------------------------------------------------------------


def test_feeds_are_clean_for_icaljs(
    generated: Generated, icaljs_results: dict[Path, Result]
) -> None:
    assert_clean(icaljs_results, generated.feeds, icaljs_faults, "ical.js")
    found = counts(icaljs_results, generated.feeds)
    assert found["VEVENT"] > 0
    assert found["VTODO"] > 0
    # the surveillant's feed: the 15 exam days of her three sessions, two zones, nothing else
    convened = [p for p in generated.feeds if p.name.startswith("f-convened.")]
    assert len(convened) == len(MOMENTS)
    for path in convened:
        components = icaljs_results[path]["components"]
        assert (components["VEVENT"], components["VTODO"]) == (15, 0), path.name
        assert components["VTIMEZONE"] == 2, path.name


def test_feeds_are_clean_for_libical(
    generated: Generated, libical_results: dict[Path, Result]
) -> None:
    assert_clean(libical_results, generated.feeds, libical_faults, "libical")


# --- jury invitations (iMIP) ------------------------------------------------------------------


def test_invitations_are_clean_for_icaljs(
    generated: Generated, icaljs_results: dict[Path, Result]
) -> None:
    assert_clean(icaljs_results, generated.invitations, icaljs_faults, "ical.js")
    # the CCP example lists a second day at other hours: an instance of its own
    ccp = [p for p in generated.invitations if p.name.startswith("ccp-ac-") and "request" in p.name]
    assert ccp
    assert all(icaljs_results[p]["components"]["VEVENT"] == 2 for p in ccp)


def test_invitations_are_clean_for_libical(
    generated: Generated, libical_results: dict[Path, Result]
) -> None:
    assert_clean(libical_results, generated.invitations, libical_faults, "libical")


# --- the validators themselves catch what they claim to ---------------------------------------


BROKEN = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x@syncsvc\r\n"
    b"DTSTART:20270101T100000Z\r\nDTEND:20270101T110000Z\r\nDURATION:PT1H\r\n"
    b"THIS LINE IS NOT A PROPERTY\r\n"
    b"SUMMARY:" + b"x" * 80 + b"\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_validators_catch_known_faults(
    tmp_path: Path, icaljs: Validator, libical: Validator
) -> None:
    path = tmp_path / "broken.ics"
    path.write_bytes(BROKEN.replace(b"THIS LINE IS NOT A PROPERTY\r\n", b""))
    found = icaljs_faults(icaljs.run([path])[path])
    assert "missing VCALENDAR: PRODID" in found
    assert "missing VEVENT #1 (x@syncsvc): DTSTAMP" in found
    assert any("bare LF" in fault for fault in found)
    assert any("88 octets" in fault for fault in found)
    assert any("both DTEND and DURATION" in fault for fault in found)

    path.write_bytes(BROKEN.replace(b"VERSION:2.0\r\n", b"VERSION:2.0\r\nPRODID:-//t//t//EN\r\n"))
    errors = " | ".join(libical_faults(libical.run([path])[path]))
    assert "COMPONENT-PARSE-ERROR" in errors
    assert "both DURATION and DTEND" in errors
    path.write_bytes(BROKEN.replace(b"THIS LINE IS NOT A PROPERTY\r\n", b""))
    assert "PRODID" in " | ".join(libical_faults(libical.run([path])[path]))


TASK = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VTODO\r\nUID:t@syncsvc\r\n"
    b"DTSTAMP:20270101T100000Z\r\nDTSTART;VALUE=DATE:20270226\r\nDUE;VALUE=DATE:20270226\r\n"
    b"BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nTRIGGER;RELATED=END:-P1D\r\n"
    b"END:VALARM\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
)


def test_icaljs_check_catches_task_date_faults(tmp_path: Path, icaljs: Validator) -> None:
    """DUE must be later than DTSTART (RFC 5545): a one-day task cannot carry both on its
    deadline; an alarm needs the date it is related to."""
    path = tmp_path / "task.ics"
    path.write_bytes(TASK)
    assert icaljs_faults(icaljs.run([path])[path]) == [
        "VTODO #1 (t@syncsvc): DUE 2027-02-26 is not later than DTSTART 2027-02-26"
    ]
    path.write_bytes(TASK.replace(b"DTSTART;VALUE=DATE:20270226\r\n", b""))
    assert icaljs_faults(icaljs.run([path])[path]) == []
    path.write_bytes(
        TASK.replace(b"DTSTART;VALUE=DATE:20270226\r\n", b"").replace(b";RELATED=END", b"")
    )
    assert icaljs_faults(icaljs.run([path])[path]) == [
        "VALARM #1: TRIGGER related to START without the date it needs"
    ]
