"""Hostile or huge YAML is refused before it is built, with a French message.

Anchors and aliases (an alias bomb of 1 Ko builds billions of values), more than 10,000 values,
more than 20 levels of nesting, a list or block used as a key: each is a problem of its file,
with its line and column, never a crash, a hang or PyYAML's English.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

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

ENGLISH = (
    "exceeded",
    "nesting depth",
    "undefined alias",
    "constructor",
    "unicode string",
    "found",
    "expected",
    "while",
    "unhashable",
    "character",
)


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """``location:`` whose value expands to width**levels strings (9**9: 387 million)."""
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        items = ", ".join(f"*a{level - 1}" for _ in range(width))
        lines.append(f"a{level}: &a{level} [{items}]")
    return "\n".join(lines) + f"\nlocation: *a{levels}\n"


def assert_french(message: str) -> None:
    assert "attendu" in message
    for word in ENGLISH:
        assert word not in message, message


def refused(tmp_path: Path, text: str, *words: str) -> str:
    """The one problem of a session file holding ``text``: French, naming a line."""
    config, file = load_one(tmp_path, text)
    problem = only_problem(config, file)
    assert_line(problem, file, "")
    assert_french(problem.message)
    for word in words:
        assert word in problem.message, problem.message
    assert config.sessions == {}
    assert SESSION_ID in config.broken_session_ids
    return problem.message


# --- anchors, aliases, sizes -------------------------------------------------------------------


def test_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    text = alias_bomb()
    assert len(text) < 1_100

    began = time.perf_counter()
    refused(tmp_path, session() + text, "alias", "ligne ")
    assert time.perf_counter() - began < 2


def test_anchor_and_alias_are_refused(tmp_path: Path) -> None:
    text = edit(session(), "centre: afpar-st-andre", "centre: &c afpar-st-andre")
    text += "location: *c\n"

    refused(
        tmp_path, text, "ancre", f"ligne {text.splitlines().index('centre: &c afpar-st-andre') + 1}"
    )


def test_undefined_alias_is_refused_in_french(tmp_path: Path) -> None:
    refused(tmp_path, session() + "location: *nulle_part\n", "alias")


def test_plain_text_with_ampersand_and_star_is_accepted(tmp_path: Path) -> None:
    text = edit(session(), '"Secrétaire assistant"', '"R&D * Secrétaire & co *"')
    text += "location: Salle R&D *2*\n"

    config, _ = load_one(tmp_path, text)

    assert config.problems == []
    assert config.sessions[SESSION_ID].location == "Salle R&D *2*"


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    refused(tmp_path, session() + "location: " + "[" * 500 + "]" * 500 + "\n", "imbrication")


def test_nesting_beyond_libyaml_limit_is_refused_in_french(tmp_path: Path) -> None:
    refused(tmp_path, session() + "location: " + "[" * 2000 + "]" * 2000 + "\n", "imbrication")


def test_too_many_values_are_refused(tmp_path: Path) -> None:
    text = session() + "location: [" + ", ".join(["1"] * 20_000) + "]\n"

    refused(tmp_path, text, "10 000")


def test_list_used_as_a_key_is_refused(tmp_path: Path) -> None:
    refused(tmp_path, session() + "[a, b]: 1\n", "clé", "ligne ")


def test_block_used_as_a_key_is_refused(tmp_path: Path) -> None:
    refused(tmp_path, session() + "? {a: 1}\n: 2\n", "clé")


# --- PyYAML's English ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("location: !!python/object:os.system x\n", ["étiquette"], id="python-tag"),
        pytest.param("location: !inconnue x\n", ["étiquette"], id="unknown-tag"),
        pytest.param("location: a\x00b\n", ["caractère"], id="raw-nul"),
        pytest.param("location: a\x1bb\n", ["caractère"], id="raw-escape"),
        pytest.param("---\nlocation: x\n", ["document"], id="second-document"),
        pytest.param("%YAML 2.0\n---\nx: 1\n", ["syntaxe YAML invalide"], id="fallback"),
    ],
)
def test_yaml_errors_are_french(tmp_path: Path, text: str, words: list[str]) -> None:
    message = refused(tmp_path, session() + text if not text.startswith("%") else text, *words)
    assert "ligne " in message


def test_yaml_error_in_centres_file_is_french(tmp_path: Path) -> None:
    centres = centres_text() + "\nautre:\n  name: *absent\n"
    root = make_config(tmp_path, {}, centres)

    config = load_config(root)

    problem = only_problem(config, root / "centres.yaml")
    assert_french(problem.message)
    assert "alias" in problem.message
    assert config.structure_broken


def test_alias_bomb_in_centres_file_is_refused(tmp_path: Path) -> None:
    root = make_config(tmp_path, {}, alias_bomb().replace("location:", "bombe:") + centres_text())

    config = load_config(root)

    problem = only_problem(config, root / "centres.yaml")
    assert "alias" in problem.message
