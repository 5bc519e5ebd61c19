"""Generated configurations for the benchmarks: N sessions spread over some centres."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

CENTRE = """\
{cid}:
  name: "Centre {cid}"
  timezone: Europe/Paris
  exam_office_email: examens@{cid}.example
  ud_email: ud@{cid}.example
  sector: tertiaire
  agrements: [{{title_code: TP-00374, until: 2031-12-31, max_candidates: 15}}]
"""
SESSION = """\
id: bench-{n:04d}
title: {{code: TP-00374, acronym: B{n}, label: "Titre de test", transport: false}}
nature: titre
centre: {centre}
start: {start}
end: {end}
first_day_start: "08:30"
candidates: {{training: 8, vae: 1}}
session_manager: {{name: "Responsable {n}", email: rs{n}@centre.example}}
coordinators: [{{name: "Coordination {n}", email: coord{n}@centre.example}}]
jury:
  - {{name: "Jury A{n}", email: a{n}@jury.example, habilitation_until: 2031-12-31}}
  - {{name: "Jury B{n}", email: b{n}@jury.example, habilitation_until: 2031-12-31}}
"""


def write_config(
    directory: Path,
    count: int,
    centres: Sequence[str],
    *,
    spacing_days: int = 3,
    span_days: int = 500,
) -> None:
    """``count`` sessions of 5 days from February 2027, round-robin over ``centres``."""
    (directory / "sessions").mkdir(parents=True)
    (directory / "centres.yaml").write_text("".join(CENTRE.format(cid=c) for c in centres))
    for n in range(count):
        start = date(2027, 2, 1) + timedelta(days=(n * spacing_days) % span_days)
        (directory / "sessions" / f"bench-{n:04d}.yaml").write_text(
            SESSION.format(
                n=n, centre=centres[n % len(centres)], start=start, end=start + timedelta(days=4)
            )
        )


def move_session(path: Path, days: int) -> None:
    """Shift one generated session's dates by ``days``."""
    text = path.read_text()
    start = date.fromisoformat(text.split("start: ")[1].split("\n")[0])
    end = date.fromisoformat(text.split("end: ")[1].split("\n")[0])
    path.write_text(
        text.replace(f"start: {start}", f"start: {start + timedelta(days=days)}").replace(
            f"end: {end}", f"end: {end + timedelta(days=days)}"
        )
    )
