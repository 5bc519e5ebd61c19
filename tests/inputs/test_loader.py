"""Loading the configuration: every problem of every file, in French, with its file and field.

Each test builds a configuration folder in ``tmp_path`` (a copy of the example ``centres.yaml``
and session files written here), loads it, and checks the problems on their exact field path and
on a few key French words rather than on whole sentences.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from syncsvc.core.config import Config
from syncsvc.core.rules import Offset
from syncsvc.errors import ConfigError, Problem
from syncsvc.inputs.loader import load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config"
EXAMPLE_IDS = {
    "ccp-ac-2027-05-st-andre",
    "ctrmp-2027-02-venissieux",
    "dwwm-2027-06-venissieux",
    "sa-2027-03-st-andre",
    "tee-2027-04-strasbourg",
}
CENTRE_KEYS = ("afpar-st-andre", "greta-lyon-venissieux", "afpa-strasbourg")

SESSION_ID = "sa-test-2027-03"
SESSION = """\
# Session de test : titre complet, La Réunion.
id: __ID__
title: {code: TP-00374, acronym: SA, label: "Secrétaire assistant", transport: false}
nature: titre
centre: afpar-st-andre
start: 2027-03-15
end: 2027-03-19
first_day_start: "08:30"
candidates: {training: 10, vae: 2}
session_manager: {name: "Jean-Luc Hoarau", email: jl.hoarau@afpar.example}
coordinators:
  - {name: "Nathalie Técher", email: n.techer@afpar.example}
jury:
  - {name: "Corinne Maillot", email: c.maillot@jury.example, habilitation_until: 2028-06-30}
  - {name: "Patrick Fontaine", email: p.fontaine@jury.example, habilitation_until: 2029-01-31}
done:
  agrement_check: 2026-07-10
  agrement_request: 2026-09-01
"""


# --- helpers -----------------------------------------------------------------------------------


def session(session_id: str = SESSION_ID) -> str:
    """The text of a valid session file."""
    return SESSION.replace("__ID__", session_id)


def edit(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` (which must occur exactly once) replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} must occur once in the session text"
    return text.replace(old, new)


def line_of(text: str, start: str) -> int:
    """1-based number of the first line of ``text`` that starts with ``start``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(start):
            return number
    raise AssertionError(f"no line starts with {start!r}")


def centres_text() -> str:
    return (EXAMPLE / "centres.yaml").read_text(encoding="utf-8")


def with_rules(centre: str, rules: str) -> str:
    """The example centres.yaml where ``centre`` gets ``rules:`` (a YAML flow mapping)."""
    return edit(centres_text(), f"\n{centre}:\n", f"\n{centre}:\n  rules: {rules}\n")


def make_config(tmp_path: Path, sessions: Mapping[str, str], centres: str | None = None) -> Path:
    """A configuration folder with ``centres.yaml`` (the example one unless given) and
    ``sessions/<name>`` for each entry of ``sessions``."""
    root = tmp_path / "config"
    (root / "sessions").mkdir(parents=True)
    if centres is None:
        shutil.copy(EXAMPLE / "centres.yaml", root / "centres.yaml")
    else:
        (root / "centres.yaml").write_text(centres, encoding="utf-8")
    for name, text in sessions.items():
        (root / "sessions" / name).write_text(text, encoding="utf-8")
    return root


def load_one(tmp_path: Path, text: str, name: str = f"{SESSION_ID}.yaml") -> tuple[Config, Path]:
    """Load a folder holding one session file; return the config and that file's path."""
    root = make_config(tmp_path, {name: text})
    return load_config(root), root / "sessions" / name


def problems_of(config: Config, file: Path) -> dict[str, Problem]:
    """The problems of ``file`` by field path (a field must not be reported twice)."""
    found = [p for p in config.problems if p.file == str(file)]
    by_field = {p.field: p for p in found}
    assert len(by_field) == len(found), f"a field is reported twice: {found}"
    return by_field


def only_problem(config: Config, file: Path) -> Problem:
    assert [p.file for p in config.problems] == [str(file)], config.problems
    return config.problems[0]


def assert_line(problem: Problem, file: Path, field: str) -> None:
    """The printed line is ``file: field: message`` (``file: ligne N, field: message`` when
    the field is written in the file) and the message says what is expected."""
    assert problem.field == field
    if not field:
        start = f"{file}: "
    elif problem.line is not None:
        start = f"{file}: ligne {problem.line}, {field}: "
    else:
        start = f"{file}: {field}: "
    assert str(problem).startswith(start)
    assert "attendu" in problem.message


# --- the example configuration -----------------------------------------------------------------


def test_example_config_loads_without_problems() -> None:
    config = load_config(EXAMPLE)

    assert config.problems == []
    assert config.ok
    assert set(config.sessions) == EXAMPLE_IDS
    assert config.broken_session_ids == set()
    assert set(config.centres) == set(CENTRE_KEYS)
    assert set(config.rulesets) == set(CENTRE_KEYS)
    for session_id, path in config.session_files.items():
        assert path.stem == session_id


def test_example_centre_customisation_is_applied() -> None:
    config = load_config(EXAMPLE)
    greta = config.rulesets["greta-lyon-venissieux"]

    assert greta.rule("dte_order").offset == Offset(amount=-100, unit="d")
    assert greta.rule("candidate_info_mail").reminders == (2,)
    assert "dte_reception_check" not in greta.ids
    # the other centres keep the shipped ruleset
    assert config.rulesets["afpa-strasbourg"].rule("dte_order").offset == Offset(
        amount=-92, unit="d"
    )
    assert "dte_reception_check" in config.rulesets["afpa-strasbourg"].ids


def test_valid_session_written_here_loads(tmp_path: Path) -> None:
    config, _ = load_one(tmp_path, session())

    assert config.problems == []
    assert list(config.sessions) == [SESSION_ID]
    assert config.broken_session_ids == set()


# --- every problem of a file at once ------------------------------------------------------------


def test_three_mistakes_in_one_file_are_all_reported(tmp_path: Path) -> None:
    text = edit(session(), "\njury:\n", "\njurry:\n")
    text = edit(text, "start: 2027-03-15", "start: 15/03/2027")
    text = edit(text, "nature: titre", "nature: titr")

    config, file = load_one(tmp_path, text)
    problems = problems_of(config, file)

    assert set(problems) == {"jurry", "start", "nature"}
    for field, problem in problems.items():
        assert_line(problem, file, field)
    assert "clé inconnue" in problems["jurry"].message
    assert "vouliez-vous dire « jury »" in problems["jurry"].message
    assert "15/03/2027" in problems["start"].message
    assert "AAAA-MM-JJ" in problems["start"].message
    assert "« titr »" in problems["nature"].message
    assert "titre, ccp ou ccs" in problems["nature"].message
    assert config.sessions == {}
    assert config.broken_session_ids == {SESSION_ID}


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        pytest.param(
            "c.maillot@jury.example,",
            "c.maillot-chez-jury,",
            "jury[1].email",
            ["e-mail", "c.maillot-chez-jury", "nom@domaine.fr"],
            id="first-jury-email",
        ),
        pytest.param(
            "p.fontaine@jury.example,",
            "p.fontaine@jury.example, emial: x,",
            "jury[2].emial",
            ["clé inconnue", "vouliez-vous dire « email »"],
            id="second-jury-unknown-key",
        ),
        pytest.param(
            "habilitation_until: 2029-01-31",
            "habilitation_until: 31/01/2029",
            "jury[2].habilitation_until",
            ["date", "31/01/2029", "AAAA-MM-JJ"],
            id="jury-date",
        ),
        pytest.param(
            "code: TP-00374",
            "code: TP-374",
            "title.code",
            ["TP-374", "TP-00374"],
            id="title-code",
        ),
        pytest.param(
            '{name: "Nathalie Técher", email: n.techer@afpar.example}',
            "{email: n.techer@afpar.example}",
            "coordinators[1].name",
            ["obligatoire"],
            id="coordinator-name-missing",
        ),
        pytest.param(
            "candidates: {training: 10, vae: 2}",
            "candidates: {training: 10, vae: 2, list: [{nom: Dupont}]}",
            "candidates.list[1].nom",
            ["clé inconnue", "name"],
            id="candidate-list-key",
        ),
        pytest.param(
            "agrement_request: 2026-09-01",
            "agrement_request: hier",
            "done.agrement_request",
            ["« hier »", "AAAA-MM-JJ"],
            id="done-date",
        ),
        pytest.param(
            "candidates: {training: 10, vae: 2}",
            "candidates: {training: -1, vae: 2}",
            "candidates.training",
            ["-1"],
            id="negative-count",
        ),
    ],
)
def test_nested_field_paths_are_exact_and_one_based(
    tmp_path: Path, old: str, new: str, field: str, words: list[str]
) -> None:
    config, file = load_one(tmp_path, edit(session(), old, new))
    problems = problems_of(config, file)

    assert field in problems, sorted(problems)
    assert_line(problems[field], file, field)
    for word in words:
        assert word in problems[field].message
    assert config.broken_session_ids == {SESSION_ID}


# --- one bad file never stops the others --------------------------------------------------------


def test_broken_file_does_not_stop_the_others(tmp_path: Path) -> None:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    # sorted between the example files, so that good files are loaded before and after it
    broken = root / "sessions" / "dwwm-2027-05-cassee.yaml"
    broken.write_text(
        edit(session("dwwm-2027-05-cassee"), "end: 2027-03-19", "end: 2027-03-01"),
        encoding="utf-8",
    )

    config = load_config(root)

    assert set(config.sessions) == EXAMPLE_IDS
    assert config.broken_session_ids == {"dwwm-2027-05-cassee"}
    assert {p.file for p in config.problems} == {str(broken)}
    assert [p.field for p in config.problems] == ["end"]
    assert not config.ok


def test_every_broken_file_is_reported(tmp_path: Path) -> None:
    root = make_config(
        tmp_path,
        {
            "a-session.yaml": edit(session("a-session"), "nature: titre", "nature: titr"),
            "b-session.yaml": session("b-session"),
            "c-session.yaml": edit(session("c-session"), "start: 2027-03-15", "start: demain"),
        },
    )

    config = load_config(root)

    assert list(config.sessions) == ["b-session"]
    assert config.broken_session_ids == {"a-session", "c-session"}
    files = {Path(p.file).name for p in config.problems}
    assert files == {"a-session.yaml", "c-session.yaml"}


@pytest.mark.parametrize(
    ("name", "text", "expected_id"),
    [
        pytest.param(
            "fichier.yaml",
            edit(session("id-du-fichier"), "nature: titre", "nature: titr"),
            {"id-du-fichier", "fichier"},
            id="id-read-from-file",
        ),
        pytest.param(
            "illisible.yaml",
            edit(session(), "nature: titre", "nature: [titre"),
            {"illisible"},
            id="yaml-error-uses-stem",
        ),
        pytest.param("vide.yaml", "", {"vide"}, id="empty-file-uses-stem"),
        pytest.param("liste.yml", "- a\n- b\n", {"liste"}, id="not-a-mapping-uses-stem"),
        pytest.param(
            "numero.yaml",
            edit(session(), f"id: {SESSION_ID}", "id: 12345"),
            {"numero"},
            id="id-not-text-uses-stem",
        ),
    ],
)
def test_broken_session_id_comes_from_id_or_file_stem(
    tmp_path: Path, name: str, text: str, expected_id: set[str]
) -> None:
    root = make_config(tmp_path, {name: text, "bonne-session.yaml": session("bonne-session")})

    config = load_config(root)

    assert config.broken_session_ids == expected_id
    assert list(config.sessions) == ["bonne-session"]
    assert {p.file for p in config.problems} == {str(root / "sessions" / name)}


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    root = make_config(tmp_path, {})
    path = root / "sessions" / "latin1.yaml"
    path.write_bytes(session().encode("latin-1"))

    config = load_config(root)

    problem = only_problem(config, path)
    assert_line(problem, path, "")
    # the first byte that is not UTF-8 (the « é » of « Réunion », line 1), and how to save right
    column = session().split("\n")[0].index("é") + 1
    assert problem.message.startswith(
        f"fichier illisible : ligne 1, colonne {column} : octet 0xE9 : encodage non UTF-8 "
        "(sans doute Windows-1252 ou Latin-1, « ANSI » du Bloc-notes) (attendu : un fichier "
        "enregistré en UTF-8 ; dans le Bloc-notes : Fichier › Enregistrer sous, Encodage : UTF-8)"
    )
    assert config.broken_session_ids == {"latin1"}


def test_a_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    """Notepad's « Unicode » is UTF-16 with a byte order mark: said so, not as a stray byte."""
    root = make_config(tmp_path, {})
    path = root / "sessions" / "unicode.yaml"
    path.write_bytes(session().encode("utf-16"))

    problem = only_problem(load_config(root), path)
    assert problem.message.startswith(
        "fichier illisible : encodage UTF-16 (« Unicode » du Bloc-notes) (attendu : un fichier "
        "enregistré en UTF-8"
    )


def test_hidden_files_are_ignored_and_other_files_are_reported(tmp_path: Path) -> None:
    root = make_config(
        tmp_path,
        {
            f"{SESSION_ID}.yaml": session(),
            "notes.txt": "pas une session",
            ".brouillon.yaml": "nature: [",
        },
    )

    config = load_config(root)

    notes = root / "sessions" / "notes.txt"
    problem = only_problem(config, notes)
    assert_line(problem, notes, "")
    assert "n'est pas un fichier de session" in problem.message
    assert list(config.sessions) == [SESSION_ID]


# --- YAML-level problems -----------------------------------------------------------------------


def test_yaml_syntax_error_reports_its_line(tmp_path: Path) -> None:
    text = edit(session(), "\nend: 2027-03-19", "\n  end: 2027-03-19")  # indented by mistake

    config, file = load_one(tmp_path, text)

    problem = only_problem(config, file)
    assert_line(problem, file, "")
    assert f"ligne {line_of(text, '  end:')}" in problem.message
    assert "YAML invalide" in problem.message
    assert config.sessions == {}
    assert config.broken_session_ids == {SESSION_ID}


def test_yaml_unclosed_bracket_is_reported_with_a_line(tmp_path: Path) -> None:
    config, file = load_one(tmp_path, edit(session(), "nature: titre", "nature: [titre"))

    problem = only_problem(config, file)
    assert_line(problem, file, "")
    assert "ligne " in problem.message
    assert "colonne " in problem.message


def test_duplicate_top_level_key_is_an_error(tmp_path: Path) -> None:
    text = session() + "nature: ccp\n"

    config, file = load_one(tmp_path, text)

    problem = only_problem(config, file)
    assert_line(problem, file, "")
    assert "« nature »" in problem.message
    assert "deux fois" in problem.message
    assert f"ligne {len(text.splitlines())}" in problem.message
    assert config.sessions == {}


def test_duplicate_nested_key_is_an_error(tmp_path: Path) -> None:
    text = edit(session(), "{training: 10, vae: 2}", "{training: 10, training: 2}")

    config, file = load_one(tmp_path, text)

    problem = only_problem(config, file)
    assert "« training »" in problem.message
    assert "deux fois" in problem.message
    assert f"ligne {line_of(text, 'candidates:')}" in problem.message


@pytest.mark.parametrize("text", ["", "\n", "# rien que des commentaires\n"])
def test_empty_file_is_reported(tmp_path: Path, text: str) -> None:
    config, file = load_one(tmp_path, text, name="vide.yaml")

    problem = only_problem(config, file)
    assert_line(problem, file, "")
    assert "fichier vide" in problem.message
    assert config.broken_session_ids == {"vide"}


def test_file_that_is_not_a_mapping_is_reported(tmp_path: Path) -> None:
    config, file = load_one(tmp_path, "- id: a\n- id: b\n", name="liste.yaml")

    problem = only_problem(config, file)
    assert_line(problem, file, "")
    assert "bloc de clés" in problem.message


# --- field rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "quoted"),
    [
        ('first_day_start: "08:30"', "first_day_start: 8:30", "first_day_start", '"08:30"'),
        ('first_day_start: "08:30"', "first_day_start: 14:05", "first_day_start", '"14:05"'),
        (
            'first_day_start: "08:30"',
            'first_day_start: "08:30"\nlast_day_end: 16:30',
            "last_day_end",
            '"16:30"',
        ),
    ],
)
def test_unquoted_time_asks_for_quotes(
    tmp_path: Path, old: str, new: str, field: str, quoted: str
) -> None:
    config, file = load_one(tmp_path, edit(session(), old, new))

    problem = only_problem(config, file)
    assert_line(problem, file, field)
    assert "guillemets" in problem.message
    assert quoted in problem.message


def test_zero_padded_unquoted_time_is_read_as_text_and_accepted(tmp_path: Path) -> None:
    # 08:30 is not a YAML 1.1 sexagesimal number: it stays the text "08:30"
    config, _ = load_one(tmp_path, edit(session(), '"08:30"', "08:30"))

    assert config.problems == []
    assert str(config.sessions[SESSION_ID].first_day_start) == "08:30:00"


@pytest.mark.parametrize("value", ['"8h30"', '"25:00"'])
def test_unreadable_time_is_reported(tmp_path: Path, value: str) -> None:
    config, file = load_one(tmp_path, edit(session(), '"08:30"', value))

    problem = only_problem(config, file)
    assert_line(problem, file, "first_day_start")
    assert "heure" in problem.message
    assert "HH:MM" in problem.message


def test_end_before_start_is_reported(tmp_path: Path) -> None:
    config, file = load_one(tmp_path, edit(session(), "end: 2027-03-19", "end: 2027-03-12"))

    problem = only_problem(config, file)
    assert_line(problem, file, "end")
    assert "précède" in problem.message
    assert "2027-03-12" in problem.message
    assert "2027-03-15" in problem.message
    assert config.broken_session_ids == {SESSION_ID}


def test_one_day_session_is_accepted(tmp_path: Path) -> None:
    config, _ = load_one(tmp_path, edit(session(), "end: 2027-03-19", "end: 2027-03-15"))

    assert config.problems == []


@pytest.mark.parametrize("nature", ["ccp", "ccs"])
def test_ccp_session_without_ccp_code_is_reported(tmp_path: Path, nature: str) -> None:
    config, file = load_one(tmp_path, edit(session(), "nature: titre", f"nature: {nature}"))

    problem = only_problem(config, file)
    assert_line(problem, file, "ccp_code")
    assert "obligatoire" in problem.message
    assert nature in problem.message
    assert "CP-" in problem.message


def test_ccp_session_with_ccp_code_loads(tmp_path: Path) -> None:
    text = edit(session(), "nature: titre", "nature: ccp\nccp_code: CP-00396")

    config, _ = load_one(tmp_path, text)

    assert config.problems == []
    assert config.sessions[SESSION_ID].ccp_code == "CP-00396"


def test_unknown_centre_lists_the_known_centres(tmp_path: Path) -> None:
    config, file = load_one(
        tmp_path, edit(session(), "centre: afpar-st-andre", "centre: afpar-st-pierre")
    )

    problem = only_problem(config, file)
    assert_line(problem, file, "centre")
    assert "« afpar-st-pierre »" in problem.message
    assert "inconnu" in problem.message
    for key in CENTRE_KEYS:
        assert key in problem.message
    assert config.broken_session_ids == {SESSION_ID}


def test_duplicate_session_id_in_two_files(tmp_path: Path) -> None:
    root = make_config(tmp_path, {f"{SESSION_ID}.yaml": session(), f"{SESSION_ID}.yml": session()})
    first = root / "sessions" / f"{SESSION_ID}.yaml"
    second = root / "sessions" / f"{SESSION_ID}.yml"

    config = load_config(root)

    problem = only_problem(config, second)
    assert_line(problem, second, "id")
    assert "déjà utilisé" in problem.message
    assert str(first) in problem.message
    assert config.session_files[SESSION_ID] == first
    assert SESSION_ID in config.broken_session_ids


def test_unknown_done_milestone_suggests_the_close_one(tmp_path: Path) -> None:
    text = edit(session(), "agrement_request: 2026-09-01", "dte_oder: 2026-11-20")

    config, file = load_one(tmp_path, text)

    problem = only_problem(config, file)
    assert_line(problem, file, "done.dte_oder")
    assert "jalon inconnu" in problem.message
    assert "vouliez-vous dire « dte_order »" in problem.message
    assert "tp-2025" in problem.message
    assert config.broken_session_ids == {SESSION_ID}


def test_done_marks_are_loaded(tmp_path: Path) -> None:
    config, _ = load_one(tmp_path, session())

    done = config.sessions[SESSION_ID].done
    assert {key: value.isoformat() for key, value in done.items()} == {
        "agrement_check": "2026-07-10",
        "agrement_request": "2026-09-01",
    }


# --- centres and their rules -------------------------------------------------------------------


def test_override_that_makes_a_regulatory_rule_later_is_rejected(tmp_path: Path) -> None:
    centres = with_rules("afpar-st-andre", '{overrides: {dte_order: {offset: "-80d"}}}')
    root = make_config(tmp_path, {f"{SESSION_ID}.yaml": session()}, centres)
    config = load_config(root)
    centres_file = root / "centres.yaml"

    problem = only_problem(config, centres_file)
    assert_line(problem, centres_file, "afpar-st-andre.rules.overrides.dte_order.offset")
    assert "-80d" in problem.message
    assert "-92d" in problem.message
    assert "marge" in problem.message
    # the regulatory value stays; the centre and its sessions still load
    assert config.rulesets["afpar-st-andre"].rule("dte_order").offset == Offset(
        amount=-92, unit="d"
    )
    assert "afpar-st-andre" in config.centres
    assert list(config.sessions) == [SESSION_ID]


def test_override_in_another_unit_is_rejected(tmp_path: Path) -> None:
    centres = with_rules("afpar-st-andre", '{overrides: {dte_order: {offset: "-3mo"}}}')
    config = load_config(make_config(tmp_path, {}, centres))

    [problem] = config.problems
    assert problem.field == "afpar-st-andre.rules.overrides.dte_order.offset"
    assert "attendu" in problem.message
    assert config.rulesets["afpar-st-andre"].rule("dte_order").offset == Offset(
        amount=-92, unit="d"
    )


def test_override_that_adds_margin_is_applied(tmp_path: Path) -> None:
    centres = with_rules(
        "afpar-st-andre",
        '{overrides: {dte_order: {offset: "-120d"}, jury_convocation: {reminders: [3, 21]}}}',
    )
    config = load_config(make_config(tmp_path, {}, centres))

    assert config.problems == []
    rules = config.rulesets["afpar-st-andre"]
    assert rules.rule("dte_order").offset == Offset(amount=-120, unit="d")
    assert rules.rule("jury_convocation").reminders == (21, 3)
    # the shipped ruleset and the other centres are untouched
    assert config.ruleset.rule("dte_order").offset == Offset(amount=-92, unit="d")
    assert config.rulesets["afpa-strasbourg"].rule("dte_order").offset == Offset(
        amount=-92, unit="d"
    )


def test_override_of_an_advice_rule_may_be_later(tmp_path: Path) -> None:
    centres = with_rules("afpar-st-andre", '{overrides: {agrement_check: {offset: "-7mo"}}}')
    config = load_config(make_config(tmp_path, {}, centres))

    assert config.problems == []
    assert config.rulesets["afpar-st-andre"].rule("agrement_check").offset == Offset(
        amount=-7, unit="mo"
    )


def test_disabling_a_regulatory_rule_is_refused(tmp_path: Path) -> None:
    centres = with_rules("afpar-st-andre", "{disable: [dte_order]}")
    root = make_config(tmp_path, {f"{SESSION_ID}.yaml": session()}, centres)
    config = load_config(root)

    problem = only_problem(config, root / "centres.yaml")
    assert_line(problem, root / "centres.yaml", "afpar-st-andre.rules.disable")
    assert "« dte_order »" in problem.message
    assert "réglementaire" in problem.message
    assert "dte_order" in config.rulesets["afpar-st-andre"].ids
    assert list(config.sessions) == [SESSION_ID]


def test_disabling_an_advice_rule_works(tmp_path: Path) -> None:
    centres = with_rules("afpar-st-andre", "{disable: [candidate_info_mail]}")
    root = make_config(tmp_path, {f"{SESSION_ID}.yaml": session()}, centres)
    config = load_config(root)

    assert config.problems == []
    assert "candidate_info_mail" not in config.rulesets["afpar-st-andre"].ids
    assert "candidate_info_mail" in config.rulesets["afpa-strasbourg"].ids
    assert list(config.sessions) == [SESSION_ID]


def test_unknown_rule_in_overrides_is_reported(tmp_path: Path) -> None:
    centres = with_rules("afpar-st-andre", '{overrides: {dte_ordre: {offset: "-100d"}}}')
    config = load_config(make_config(tmp_path, {}, centres))

    [problem] = config.problems
    assert problem.field == "afpar-st-andre.rules.overrides.dte_ordre"
    assert "règle inconnue" in problem.message
    assert "dte_order" in problem.message


def test_unquoted_holiday_zone_number_is_accepted(tmp_path: Path) -> None:
    centres = edit(centres_text(), 'holiday_zone: "974"', "holiday_zone: 974")
    root = make_config(tmp_path, {f"{SESSION_ID}.yaml": session()}, centres)

    config = load_config(root)

    assert config.problems == []
    assert config.centres["afpar-st-andre"].holiday_zone == "974"
    assert list(config.sessions) == [SESSION_ID]


def test_unknown_holiday_zone_is_reported(tmp_path: Path) -> None:
    centres = edit(centres_text(), 'holiday_zone: "974"', "holiday_zone: 975")
    config = load_config(make_config(tmp_path, {}, centres))

    [problem] = config.problems
    assert problem.field == "afpar-st-andre.holiday_zone"
    assert "975" in problem.message
    assert "attendu" in problem.message
    assert "974" in problem.message


def test_unknown_timezone_is_reported(tmp_path: Path) -> None:
    centres = edit(centres_text(), "timezone: Indian/Reunion", "timezone: Indian/Reuniom")
    root = make_config(
        tmp_path,
        {
            "sa-reunion.yaml": session("sa-reunion"),
            "tee-2027-04-strasbourg.yaml": (
                EXAMPLE / "sessions" / "tee-2027-04-strasbourg.yaml"
            ).read_text(encoding="utf-8"),
        },
        centres,
    )

    config = load_config(root)

    centres_file = root / "centres.yaml"
    [tz_problem] = [p for p in config.problems if p.file == str(centres_file)]
    assert_line(tz_problem, centres_file, "afpar-st-andre.timezone")
    assert "fuseau horaire" in tz_problem.message
    assert "« Indian/Reuniom »" in tz_problem.message
    assert "IANA" in tz_problem.message
    # the invalid centre is left out; a session there fails, the others load
    assert "afpar-st-andre" not in config.centres
    assert set(config.centres) == {"greta-lyon-venissieux", "afpa-strasbourg"}
    reunion = problems_of(config, root / "sessions" / "sa-reunion.yaml")
    assert set(reunion) == {"centre"}
    assert list(config.sessions) == ["tee-2027-04-strasbourg"]
    assert config.broken_session_ids == {"sa-reunion"}


def test_centre_with_unknown_key_and_bad_email(tmp_path: Path) -> None:
    centres = edit(
        centres_text(),
        "exam_office_email: examen.cfpae@afpar.example",
        "exam_office_email: examen.cfpae\n  secteur: tertiaire",
    )
    root = make_config(tmp_path, {}, centres)
    config = load_config(root)

    problems = problems_of(config, root / "centres.yaml")
    assert set(problems) == {"afpar-st-andre.exam_office_email", "afpar-st-andre.secteur"}
    assert "vouliez-vous dire « sector »" in problems["afpar-st-andre.secteur"].message
    assert "e-mail" in problems["afpar-st-andre.exam_office_email"].message


def test_centre_repeating_its_id_is_reported(tmp_path: Path) -> None:
    centres = edit(centres_text(), "\nafpa-strasbourg:\n", "\nafpa-strasbourg:\n  id: afpa-67\n")
    config = load_config(make_config(tmp_path, {}, centres))

    [problem] = config.problems
    assert problem.field == "afpa-strasbourg.id"
    assert "attendu" in problem.message
    assert "afpa-strasbourg" not in config.centres


# --- folders -----------------------------------------------------------------------------------


def test_missing_config_dir_raises_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nulle-part"

    with pytest.raises(ConfigError, match="introuvable") as raised:
        load_config(missing)

    message = str(raised.value)
    assert str(missing) in message
    assert "\n" not in message
    assert "attendu" in message


def test_config_path_that_is_a_file_raises_config_error(tmp_path: Path) -> None:
    path = tmp_path / "centres.yaml"
    path.write_text("x: 1\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="introuvable"):
        load_config(path)


def test_missing_sessions_dir_is_a_problem(tmp_path: Path) -> None:
    root = tmp_path / "config"
    root.mkdir()
    shutil.copy(EXAMPLE / "centres.yaml", root / "centres.yaml")

    config = load_config(root)

    [problem] = config.problems
    assert problem.file == str(root / "sessions")
    assert "dossier manquant" in problem.message
    assert set(config.centres) == set(CENTRE_KEYS)


def test_missing_centres_file_is_a_problem_and_sessions_fail(tmp_path: Path) -> None:
    root = make_config(tmp_path, {f"{SESSION_ID}.yaml": session()})
    (root / "centres.yaml").unlink()

    config = load_config(root)

    problems = {p.file: p for p in config.problems}
    assert "fichier manquant" in problems[str(root / "centres.yaml")].message
    session_problem = problems[str(root / "sessions" / f"{SESSION_ID}.yaml")]
    assert session_problem.field == "centre"
    assert config.sessions == {}
    assert config.broken_session_ids == {SESSION_ID}


# --- bugs found while writing these tests ------------------------------------------------------


def test_impossible_calendar_date_is_reported_not_raised(tmp_path: Path) -> None:
    root = make_config(
        tmp_path,
        {
            "sa-fevrier.yaml": edit(
                session("sa-fevrier"), "start: 2027-03-15", "start: 2027-02-30"
            ),
            "bonne-session.yaml": session("bonne-session"),
        },
    )

    config = load_config(root)

    [problem] = config.problems
    assert problem.file == str(root / "sessions" / "sa-fevrier.yaml")
    assert "attendu" in problem.message
    assert list(config.sessions) == ["bonne-session"]
    assert config.broken_session_ids == {"sa-fevrier"}


@pytest.mark.parametrize(("key", "field"), [("123", "123"), ("on", "on")])
def test_non_text_top_level_key_is_reported_in_french(tmp_path: Path, key: str, field: str) -> None:
    config, file = load_one(tmp_path, session() + f"{key}: x\n")

    problem = only_problem(config, file)
    assert not problem.field.startswith("[")
    assert field in problem.field or field in problem.message
    assert "attendu" in problem.message
    assert "Keys should be strings" not in problem.message


def test_done_key_that_is_a_date_has_a_readable_field_path(tmp_path: Path) -> None:
    text = edit(session(), "agrement_request: 2026-09-01", "2026-09-01: agrement_request")

    config, file = load_one(tmp_path, text)

    problems = problems_of(config, file)
    assert problems
    for field, problem in problems.items():
        assert field.startswith("done")
        assert "datetime" not in field
        assert "[key]" not in field
        assert "attendu" in problem.message


def test_override_that_shortens_a_minimum_duration_is_rejected(tmp_path: Path) -> None:
    centres = with_rules(
        "afpar-st-andre", '{overrides: {archive_retention_end: {offset: "+24mo"}}}'
    )
    config = load_config(make_config(tmp_path, {}, centres))

    [problem] = config.problems
    assert problem.field == "afpar-st-andre.rules.overrides.archive_retention_end.offset"
    assert config.rulesets["afpar-st-andre"].rule("archive_retention_end").offset == Offset(
        amount=60, unit="mo"
    )


def test_done_mark_of_a_disabled_advice_rule_is_not_called_unknown(tmp_path: Path) -> None:
    centres = with_rules("afpar-st-andre", "{disable: [agrement_check]}")
    root = make_config(tmp_path, {f"{SESSION_ID}.yaml": session()}, centres)

    config = load_config(root)

    assert not any("inconnu" in p.message for p in config.problems), config.problems


def test_file_name_must_be_the_session_id(tmp_path: Path) -> None:
    """A broken file protects its session by its name: the name must be the id."""
    config, file = load_one(tmp_path, session("autre-id"), name="mauvais-nom.yaml")
    problem = only_problem(config, file)
    assert_line(problem, file, "id")
    assert "autre-id.yaml" in problem.message
    assert config.broken_session_ids == {"autre-id", "mauvais-nom"}
