"""The example configuration with people convened to its exams besides the jury: Line Hoarau
is the surveillant of one session, a juror of another, the comédien of a third; Paul Payet the
comédien of the first. Written into the session files as a person would, then loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

from syncsvc.core.config import Config
from syncsvc.inputs.loader import load_config

ROOT = Path(__file__).resolve().parents[2]
LINE = "l.hoarau@afpar.example"
"""Surveillant of the SA session (La Réunion), juror of the CTRMP one (Vénissieux, with named
candidates), comédien of the TEEE one (Strasbourg)."""
PAUL = "p.payet@afpar.example"
"""Comédien of the SA session: another person, whose address Line must never see."""
SA, CTRMP, TEEE = "sa-2027-03-st-andre", "ctrmp-2027-02-venissieux", "tee-2027-04-strasbourg"
MANAGERS = {
    SA: "jl.hoarau@afpar.example",
    CTRMP: "o.chabert@greta-lyon.example",
    TEEE: "f.muller@afpa.example",
}
"""The session managers: the contact each convened person is given."""
CANDIDATES = ("Karim Benali", "Julie Perret", "Transports Dumas", "Géodis Corbas")


def edit(config: Path, session_id: str, after: str, added: str) -> None:
    path = config / "sessions" / f"{session_id}.yaml"
    text = path.read_text(encoding="utf-8")
    assert after in text, (session_id, after)
    path.write_text(text.replace(after, after + added, 1), encoding="utf-8")


def convened_config(tmp_path: Path) -> Config:
    """``tmp_path/config``: the example with Line and Paul convened (Line's address written in
    capitals once: addresses are compared in lower case)."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    edit(
        config,
        SA,
        "declared_on: 2026-11-20\n",
        'surveillant: {name: "Line Hoarau", email: L.Hoarau@afpar.example, phone: "0692 11"}\n'
        'comedien: {name: "Paul Payet", email: p.payet@afpar.example, phone: "0692 22 22"}\n',
    )
    edit(
        config,
        CTRMP,
        "jury:\n",
        '  - {name: "Line Hoarau", email: l.hoarau@afpar.example, habilitation_until: '
        "2029-12-31}\n",
    )
    edit(
        config,
        TEEE,
        'first_day_start: "08:00"\n',
        'comedien: {name: "Line Hoarau", email: l.hoarau@afpar.example}\n',
    )
    loaded = load_config(config)
    assert not loaded.problems, loaded.problems
    return loaded
