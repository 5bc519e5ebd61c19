"""A problem in a YAML file names the line where its field is written: a coordinator who opens
the file in an editor goes straight to it (``sessions/x.yaml: ligne 15, days[2].end: …``).

The line is the deepest key or list item written on the field's path: a missing key points at
the block that lacks it; a required key left out of the whole file has no line (there is
nothing to point at).
"""

from __future__ import annotations

from pathlib import Path

from syncsvc.errors import Problem
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.yaml_files import field_lines
from tests.inputs.test_loader import (
    centres_text,
    edit,
    line_of,
    load_one,
    make_config,
    problems_of,
    session,
)

TEXT = b"""\
# a comment
id: x
days:
  - {date: 2027-03-15, start: "08:00"}
  - date: 2027-03-16
    start: "08:00"
    end: "07:00"
t.girard@jury.example:
  habilitation_until: 2027-02-30
done:
  agrement_check: 2026-09-08
"""


def test_each_path_finds_the_line_of_its_deepest_written_key() -> None:
    lines = field_lines(
        TEXT,
        [
            "id",
            "days",
            "days[1].end",  # flow mapping: its line
            "days[2].end",  # block mapping: the key's own line
            "days[2].salle",  # not written: the item that lacks it
            "days[3].end",  # no third day: the list
            "t.girard@jury.example.habilitation_until",  # a key with dots, found whole
            "done.agrement_check",
            "start",  # a required key left out: nothing to point at
        ],
    )
    assert lines == {
        "id": 2,
        "days": 3,
        "days[1].end": 4,
        "days[2].end": 7,
        "days[2].salle": 5,
        "days[3].end": 3,
        "t.girard@jury.example.habilitation_until": 9,
        "done.agrement_check": 11,
    }


def test_a_long_key_is_found_as_problems_show_it() -> None:
    key = "k" * 80
    text = f"{key}:\n  name: 1\n".encode()
    shown = "k" * 60 + "…"
    assert field_lines(text, [f"{shown}.name"]) == {f"{shown}.name": 2}


def test_unreadable_text_has_no_lines() -> None:
    assert field_lines(b"a: [", ["a"]) == {}
    assert field_lines(b"\xff\xfe", ["a"]) == {}
    assert field_lines(b"", ["a"]) == {}


def test_the_printed_problem_names_its_line() -> None:
    assert (
        str(Problem("f.yaml", "end", "date invalide", 8)) == "f.yaml: ligne 8, end: date invalide"
    )
    assert str(Problem("f.yaml", "end", "date invalide")) == "f.yaml: end: date invalide"
    assert str(Problem("f.yaml", "", "fichier vide", 3)) == "f.yaml: fichier vide"


def test_a_session_file_s_problems_carry_their_lines(tmp_path: Path) -> None:
    text = edit(session(), "end: 2027-03-19", "end: 2027-02-30")
    text = edit(text, "centre: afpar-st-andre", "centre: afpar-st-andree")
    text = edit(
        text, "habilitation_until: 2029-01-31}", "habilitation_until: 2029-01-31, salle: B}"
    )
    config, file = load_one(tmp_path, text)
    found = problems_of(config, file)
    assert found["end"].line == line_of(text, "end:")
    assert found["jury[2].salle"].line == line_of(text, '  - {name: "Patrick')
    assert str(found["end"]).startswith(f"{file}: ligne {line_of(text, 'end:')}, end: ")


def test_a_check_across_files_points_at_its_field(tmp_path: Path) -> None:
    """The centre is checked against centres.yaml after the file validates: still its line."""
    text = edit(session(), "centre: afpar-st-andre", "centre: afpar-st-andree")
    config, file = load_one(tmp_path, text)
    [problem] = [p for p in config.problems if p.file == str(file)]
    assert (problem.field, problem.line) == ("centre", line_of(text, "centre:"))


def test_a_required_key_left_out_has_no_line(tmp_path: Path) -> None:
    text = edit(session(), "end: 2027-03-19\n", "")
    config, file = load_one(tmp_path, text)
    problem = problems_of(config, file)["end"]
    assert problem.line is None
    assert str(problem).startswith(f"{file}: end: ")


def test_centres_and_jury_files_carry_their_lines(tmp_path: Path) -> None:
    centres = edit(centres_text(), "timezone: Indian/Reunion ", "timezone: Indian/Reunionn ")
    root = make_config(tmp_path, {"a.yaml": session("a")}, centres)
    jury = "e.lefevre@jury.example:\n  name: Émilie Lefèvre\n  habilitation_until: 2029-13-30\n"
    (root / "jury.yaml").write_text(jury, encoding="utf-8")
    config = load_config(root)
    by_file = {Path(p.file).name: p for p in config.problems if p.field}
    centre = by_file["centres.yaml"]
    assert centre.field.endswith(".timezone")
    assert centre.line == line_of(centres, "  timezone: Indian/Reunionn")
    juror = by_file["jury.yaml"]
    assert (juror.field, juror.line) == ("e.lefevre@jury.example.habilitation_until", 3)
