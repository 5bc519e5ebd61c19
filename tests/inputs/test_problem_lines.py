"""Refusals are French lines that echo little: at most 60 characters of a value or a key, control
characters escaped, and nothing of a candidate's data or of a file that is not a mapping.

Each test writes a session or centres file in ``tmp_path`` with one bad value and checks the
printed line: ``file: field: message (attendu : …)``, on one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syncsvc.errors import Problem
from syncsvc.inputs.loader import load_config
from tests.inputs.test_loader import (
    SESSION_ID,
    assert_line,
    centres_text,
    edit,
    load_one,
    make_config,
    only_problem,
    session,
)

MANAGER = '{name: "Jean-Luc Hoarau", email: jl.hoarau@afpar.example}'
CANDIDATES = "candidates: {training: 10, vae: 2}"
PRIVATE_WORDS = ("Karim", "karim", "Benali", "benali", "nali@", "Dumas", "dumas")


def one_line(problem: Problem) -> str:
    line = str(problem)
    assert "\n" not in line
    assert "\r" not in line
    assert "\x00" not in line
    assert "\x1b" not in line
    line.encode("utf-8")
    return line


# --- values the later stages cannot handle: French lines ---------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        pytest.param(
            MANAGER,
            '{name: "Jean-Luc\\r\\nBcc: tous@example.org", email: jl.hoarau@afpar.example}',
            "session_manager.name",
            ["\\r\\n", "une seule ligne"],
            id="name-crlf",
        ),
        pytest.param(
            MANAGER,
            '{name: "Jean\\0Luc", email: jl.hoarau@afpar.example}',
            "session_manager.name",
            ["\\x00", "caractère de contrôle"],
            id="name-nul",
        ),
        pytest.param(
            MANAGER,
            '{name: "' + "N" * 300 + '", email: jl.hoarau@afpar.example}',
            "session_manager.name",
            ["trop long", "120"],
            id="name-300",
        ),
        pytest.param(
            MANAGER,
            '{name: "Jean-Luc Hoarau", email: ' + "j" * 290 + "@afpar.example}",
            "session_manager.email",
            ["trop long", "254"],
            id="email-300",
        ),
        pytest.param(
            'label: "Secrétaire assistant"',
            'label: "Secrétaire\\nassistant"',
            "title.label",
            ["une seule ligne"],
            id="label-lf",
        ),
        pytest.param(
            "start: 2027-03-15",
            "start: 0001-01-02",
            "start",
            ["0001-01-02", "2000-01-01", "2099-12-31"],
            id="start-0001",
        ),
        pytest.param(
            "end: 2027-03-19",
            "end: 9999-12-20",
            "end",
            ["9999-12-20", "2099-12-31"],
            id="end-9999",
        ),
        pytest.param(
            "agrement_check: 2026-07-10",
            '"agrement\\ncheck": 2026-07-10',
            "done.agrement\\ncheck",
            ["clé invalide"],
            id="done-key-lf",
        ),
    ],
)
def test_refused_value_is_one_french_line(
    tmp_path: Path, old: str, new: str, field: str, words: list[str]
) -> None:
    config, file = load_one(tmp_path, edit(session(), old, new))

    problem = only_problem(config, file)
    assert_line(problem, file, field)
    line = one_line(problem)
    for word in words:
        assert word in line, line
    assert config.broken_session_ids == {SESSION_ID}


def test_huge_time_zone_is_refused_in_a_short_line(tmp_path: Path) -> None:
    centres = edit(
        centres_text(), "timezone: Indian/Reunion", "timezone: " + "Indian/Reunion" * 7200
    )
    root = make_config(tmp_path, {}, centres)

    config = load_config(root)

    problem = only_problem(config, root / "centres.yaml")
    assert_line(problem, root / "centres.yaml", "afpar-st-andre.timezone")
    assert "IANA" in problem.message
    assert len(str(problem)) < 400


# --- what is echoed ----------------------------------------------------------------------------


def test_unknown_key_is_echoed_at_most_60_characters(tmp_path: Path) -> None:
    key = "cle-" + "x" * 200
    config, file = load_one(tmp_path, session() + f"{key}: 1\n")

    problem = only_problem(config, file)
    assert problem.field == key[:60] + "…"
    assert "clé inconnue" in problem.message


def test_invalid_value_is_echoed_short_with_control_characters_escaped(tmp_path: Path) -> None:
    text = edit(session(), "nature: titre", 'nature: "\\e[2J\\e[31m' + "t" * 200 + '"')

    config, file = load_one(tmp_path, text)

    problem = only_problem(config, file)
    line = one_line(problem)
    assert "\\x1b[2J" in line
    assert "t" * 61 not in line
    assert "titre, ccp ou ccs" in line


def test_centre_key_in_a_field_path_is_short(tmp_path: Path) -> None:
    key = "centre-" + "y" * 200
    centres = centres_text() + f"\n{key}:\n  name: 3\n{key}-2: pas un bloc\n"
    root = make_config(tmp_path, {}, centres)

    config = load_config(root)

    assert len(config.problems) >= 2
    for problem in config.problems:
        assert problem.field.startswith("centre-yyy")
        assert len(problem.field) < 100
        one_line(problem)


@pytest.mark.parametrize(
    ("candidates", "field"),
    [
        pytest.param(
            "{list: [{name: Karim Benali, email: karim.benali-chez-dumas}]}",
            "candidates.list[1].email",
            id="email",
        ),
        pytest.param(
            '{list: [{name: "Karim\\nBenali"}]}',
            "candidates.list[1].name",
            id="name-lf",
        ),
        pytest.param(
            "{list: [{name: Karim Benali, email: karim.bénali@dumas.example}]}",
            "candidates.list[1].email",
            id="email-accent",
        ),
        pytest.param(
            "{list: [{name: Karim Benali, host_company: " + "Transports Dumas " * 20 + "}]}",
            "candidates.list[1].host_company",
            id="host-company-too-long",
        ),
        pytest.param(
            "{list: [{name: Karim Benali, route: Transports Dumas}]}",
            "candidates.list[1].route",
            id="route",
        ),
        pytest.param(
            '{list: ["Karim Benali <karim.benali@dumas.example>"]}',
            "candidates.list[1]",
            id="item-not-a-block",
        ),
        pytest.param('"Karim Benali, Transports Dumas"', "candidates", id="block-is-text"),
        pytest.param(
            "{list: [{name: Karim Benali, host_company: [Transports Dumas]}]}",
            "candidates.list[1].host_company",
            id="host-company-list",
        ),
    ],
)
def test_candidate_values_are_never_echoed(tmp_path: Path, candidates: str, field: str) -> None:
    config, file = load_one(tmp_path, edit(session(), CANDIDATES, f"candidates: {candidates}"))

    problems = [p for p in config.problems if p.file == str(file)]
    assert field in {p.field for p in problems}, problems
    for problem in problems:
        line = one_line(problem)
        assert "attendu" in problem.message
        for word in PRIVATE_WORDS:
            assert word not in line, line


def test_file_that_is_not_a_mapping_shows_nothing_of_its_content(tmp_path: Path) -> None:
    text = "- root $6$sel$secrethash 19000\n- daemon secret 19000\n"

    config, file = load_one(tmp_path, text)

    problem = only_problem(config, file)
    assert "secret" not in str(problem)
    assert "daemon" not in str(problem)
    assert "attendu" in problem.message


def test_lines_read_as_unknown_keys_are_echoed_at_most_60_characters(tmp_path: Path) -> None:
    hashed = "$6$" + "h" * 86
    text = "".join(f"user{n}:{hashed}:19000:0:99999:7:::\n" for n in range(3))

    config, _ = load_one(tmp_path, text)

    unknown = [p for p in config.problems if "clé inconnue" in p.message]
    assert len(unknown) == 3
    for problem in unknown:
        assert len(problem.field) <= 61
        assert "h" * 60 not in str(problem)
