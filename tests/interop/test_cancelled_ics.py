"""Issue 12, « Annuler »: the items of a cancelled session, as CalDAV servers store them (events
and tasks) and as ``syncsvc plan --format ics`` prints them, read by ical.js (Thunderbird's
parser) and libical (Evolution's): valid, and read back as cancelled (``STATUS:CANCELLED``) with
their « ANNULÉE — » title and the cancellation first in their description.

The example Secrétaire assistant session of Saint-André is cancelled on 24/11/2026.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncsvc.core.entries import entries_for
from syncsvc.core.planner import plan_session
from syncsvc.formats.ical import resource_bytes
from syncsvc.inputs.loader import load_config
from tests.interop.test_icalendar_clients import (
    CONFIG,
    ICALJS,
    ITEMS,
    Validator,
    icaljs,
    icaljs_faults,
    libical,
    libical_faults,
)

__all__ = ["icaljs", "libical"]  # the fixtures, shared with test_icalendar_clients

SA = "sa-2027-03-st-andre"
CANCELLATION = 'cancelled: {on: 2026-11-24, reason: "Nombre de candidats insuffisant"}\n'
MOMENT = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
READ_BACK = """
import { readFileSync } from "node:fs";
import ICAL from "ical.js";
for (const file of process.argv.slice(1)) {
  const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf-8")));
  const items = ["vevent", "vtodo"].flatMap((kind) => root.getAllSubcomponents(kind));
  for (const item of items) {
    process.stdout.write(JSON.stringify({
      file, kind: item.name, uid: item.getFirstPropertyValue("uid"),
      status: item.getFirstPropertyValue("status"),
      summary: item.getFirstPropertyValue("summary"),
      description: item.getFirstPropertyValue("description"),
      alarms: item.getAllSubcomponents("valarm").length,
    }) + "\\n");
  }
}
"""


@pytest.fixture(scope="module")
def cancelled_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every milestone of the cancelled session as a CalDAV resource (event and task), and the
    plan of that session as one VCALENDAR."""
    directory = tmp_path_factory.mktemp("cancelled-ics")
    config = directory / "config"
    shutil.copytree(CONFIG, config)
    path = config / "sessions" / f"{SA}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + CANCELLATION, encoding="utf-8")
    loaded = load_config(config)
    assert not loaded.problems, loaded.problems
    session = loaded.sessions[SA]
    centre = loaded.centres[session.centre]
    files = []
    for milestone in plan_session(session, centre, loaded.rulesets[centre.id], MOMENT):
        for sequence, items in enumerate(ITEMS):
            for entry in entries_for(session, centre, milestone, items):  # the exam: per day
                file = directory / f"{entry.uid.removesuffix('@syncsvc')}.{items}.ics"
                file.write_bytes(resource_bytes(entry, MOMENT, 1 + sequence))
                files.append(file)
    argv = ["plan", SA, "--format", "ics", "--config", str(config), "--now", "2026-11-24"]
    plan = subprocess.run(
        [sys.executable, "-c", "import sys; from syncsvc.cli import main; sys.exit(main())", *argv],
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert plan.returncode == 0, plan.stderr.decode()
    (directory / "plan.ics").write_bytes(plan.stdout)
    files.append(directory / "plan.ics")
    return files


def test_ical_js_reads_the_cancelled_items_as_cancelled(
    icaljs: Validator, cancelled_files: list[Path]
) -> None:
    results = icaljs.run(cancelled_files)
    bad = {p.name: icaljs_faults(r) for p, r in results.items() if icaljs_faults(r)}
    assert bad == {}
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, "--input-type=module", "-e", READ_BACK, *map(str, cancelled_files)],
        cwd=ICALJS,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    items = [json.loads(line) for line in done.stdout.splitlines()]
    assert {i["kind"] for i in items} == {"vevent", "vtodo"}
    assert len(items) >= len(cancelled_files)
    for item in items:
        assert item["status"] == "CANCELLED", item["uid"]
        assert item["summary"].startswith("ANNULÉE — "), item["uid"]
        assert item["description"].startswith(
            "Session annulée le 24/11/2026 : Nombre de candidats insuffisant\n\n"
        ), item["uid"]
        assert item["alarms"] == 0, item["uid"]
    exams = [i for i in items if i["uid"] == f"{SA}.exam_session@syncsvc"]
    assert exams
    assert {e["summary"] for e in exams} == {"ANNULÉE — Session d'examen (jour 1/5) — SA St-André"}
    days = [i for i in items if i["uid"].startswith(f"{SA}.exam_session.day")]
    assert days  # every exam day stays, marked cancelled (checked above)


def test_libical_accepts_the_cancelled_items(
    libical: Validator, cancelled_files: list[Path]
) -> None:
    results = libical.run(cancelled_files)
    bad = {p.name: libical_faults(r) for p, r in results.items() if libical_faults(r)}
    assert bad == {}
