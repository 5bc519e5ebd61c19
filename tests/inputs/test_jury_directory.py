"""The jury directory (``config/jury.yaml``): jurors written once, taken by sessions by e-mail.

Each test copies the example configuration to ``tmp_path``, changes ``jury.yaml`` or a session,
loads it with the loader, and checks the sessions, the problems (French, with file and field)
and the warnings. A broken directory never makes a session load without its jurors: the session
is refused and protected (its id in ``broken_session_ids``), the others load.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from syncsvc.core.checks import check_session
from syncsvc.core.config import Config
from syncsvc.core.planner import plan_session
from syncsvc.inputs.loader import SessionParser, check_jury_file, load_config

ROOT = Path(__file__).resolve().parents[2]
DWWM = "dwwm-2027-06-venissieux"
SA = "sa-2027-03-st-andre"
AC = "ccp-ac-2027-05-st-andre"
NOW = datetime(2027, 2, 8, 8, 0, tzinfo=UTC)
LEFEVRE, GIRARD, HADDAD = "e.lefevre@jury.example", "t.girard@jury.example", "y.haddad@jury.example"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    return tmp_path / "config"


def session_file(folder: Path, session_id: str) -> Path:
    return folder / "sessions" / f"{session_id}.yaml"


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_in(config: Config, path: Path) -> dict[str, str]:
    return {p.field: p.message for p in config.problems if p.file == str(path)}


def findings(config: Config, session_id: str) -> dict[str, list[str]]:
    session = config.sessions[session_id]
    centre = config.centres[session.centre]
    planned = plan_session(session, centre, config.rulesets[centre.id], NOW)
    found: dict[str, list[str]] = {}
    for finding in check_session(session, centre, planned, NOW):
        found.setdefault(finding.code, []).append(finding.message)
    return found


def test_the_example_session_takes_its_jury_from_the_directory(folder: Path) -> None:
    config = load_config(folder)
    assert config.problems == []
    assert config.warnings == []
    jury = config.sessions[DWWM].jury
    assert [(j.name, j.email, j.company, j.title_code) for j in jury] == [
        ("Émilie Lefèvre", LEFEVRE, "Agence Pixel", "TP-01280"),
        ("Thomas Girard", GIRARD, "ESN Rhône", "TP-01280"),
        ("Yasmina Haddad", HADDAD, None, "TP-01280"),
    ]
    assert jury[0].habilitation_until == date(2029, 9, 30)
    assert config.jury_references[DWWM] == (LEFEVRE, GIRARD, HADDAD)
    # An inline entry keeps its own values (the same as the directory's here: no warning).
    riviere = config.sessions[AC].jury[0]
    assert riviere.ccp == ("CP-00412", "CP-00413")
    assert riviere.habilitation_until == date(2027, 12, 31)
    # Sessions whose jurors are not in the directory read them as before.
    assert config.sessions[SA].jury[0].title_code is None
    assert set(config.jury.jurors) >= {LEFEVRE, GIRARD, HADDAD, "s.hoareau@jury.example"}


def test_a_key_written_in_the_session_wins_with_a_warning(folder: Path) -> None:
    path = session_file(folder, DWWM)
    replace(path, "{email: t.girard@jury.example}", "{email: T.Girard@jury.example, company: X}")
    config = load_config(folder)
    assert config.problems == []
    assert config.sessions[DWWM].jury[1].company == "X"
    assert config.sessions[DWWM].jury[1].name == "Thomas Girard"
    (warning,) = config.warnings
    assert (warning.file, warning.field) == (str(path), "jury[2].company")
    assert "« X » ici, « ESN Rhône » dans l'annuaire jury.yaml" in warning.message
    assert "la valeur de la session l'emporte" in warning.message


def test_a_differing_habilitation_date_warns_in_french_dates(folder: Path) -> None:
    path = session_file(folder, DWWM)
    replace(path, "{email: y.haddad@jury.example}", "{email: y.haddad@jury.example, "
            "habilitation_until: 2027-06-30}")  # fmt: skip
    config = load_config(folder)
    assert config.sessions[DWWM].jury[2].habilitation_until == date(2027, 6, 30)
    (warning,) = config.warnings
    assert warning.field == "jury[3].habilitation_until"
    assert "« 30/06/2027 » ici, « 31/03/2030 » dans l'annuaire" in warning.message


def test_an_unknown_address_refuses_the_session_once_and_keeps_the_others(folder: Path) -> None:
    path = session_file(folder, DWWM)
    replace(path, "{email: y.haddad@jury.example}", "{email: inconnu@jury.example}")
    config = load_config(folder)
    problems = problems_in(config, path)
    assert list(problems) == ["jury[3].email"]  # not also « name manquant »…
    message = problems["jury[3].email"]
    assert "« inconnu@jury.example » introuvable" in message
    assert "n'est pas dans l'annuaire jury.yaml" in message
    assert "attendu : ce membre dans jury.yaml, ou name et habilitation_until écrits ici" in message
    assert DWWM not in config.sessions
    assert DWWM in config.broken_session_ids  # its events and invitations are kept
    assert SA in config.sessions


def test_without_a_directory_a_reference_says_so(folder: Path) -> None:
    (folder / "jury.yaml").unlink()
    config = load_config(folder)
    path = session_file(folder, DWWM)
    assert set(problems_in(config, path)) == {"jury[1].email", "jury[2].email", "jury[3].email"}
    assert "il n'y a pas d'annuaire jury.yaml" in problems_in(config, path)["jury[1].email"]
    assert DWWM in config.broken_session_ids
    assert len(config.sessions) == 4
    assert not config.structure_broken


def test_a_broken_directory_keeps_every_session_and_their_events(folder: Path) -> None:
    directory = folder / "jury.yaml"
    directory.write_text(
        directory.read_text(encoding="utf-8").replace("titles: [TP-01280]", "titles: [TP-01280", 1),
        encoding="utf-8",
    )
    config = load_config(folder)
    (problem,) = problems_in(config, directory).items()
    assert problem[0] == ""
    assert problem[1].startswith("ligne ")  # where the YAML breaks, in French
    # The sessions with their jury written inline load as before…
    assert {SA, AC, "ctrmp-2027-02-venissieux", "tee-2027-04-strasbourg"} <= set(config.sessions)
    # …the one taking its jury from the directory is refused and protected, not emptied.
    assert DWWM not in config.sessions
    assert DWWM in config.broken_session_ids
    message = problems_in(config, session_file(folder, DWWM))["jury[1].email"]
    assert "l'annuaire jury.yaml est illisible" in message
    assert "la session reste telle qu'elle était" in message
    assert not config.structure_broken


def test_one_bad_entry_names_file_juror_and_field_and_spares_the_others(folder: Path) -> None:
    directory = folder / "jury.yaml"
    replace(directory, "habilitation_until: 2028-12-31", "habilitation_until: 31/12/2028")
    replace(directory, "titles: [TP-00374, TP-00391]", "titles: [SA]")
    config = load_config(folder)
    problems = problems_in(config, directory)
    assert set(problems) == {
        f"{GIRARD}.habilitation_until",
        "s.hoareau@jury.example.titles[1]",
    }
    assert "attendu" in problems[f"{GIRARD}.habilitation_until"]
    assert LEFEVRE in config.jury.jurors
    assert GIRARD not in config.jury.jurors
    assert GIRARD in config.jury.broken
    message = problems_in(config, session_file(folder, DWWM))["jury[2].email"]
    assert "son entrée dans jury.yaml est en erreur" in message
    assert DWWM in config.broken_session_ids


def test_directory_entries_are_checked_like_sessions(folder: Path) -> None:
    directory = folder / "jury.yaml"
    text = directory.read_text(encoding="utf-8")
    directory.write_text(
        text
        + "\nS.Hoareau@jury.example:\n  name: Autre\n  titles: [TP-00374]\n"
        + "  habilitation_until: 2028-01-01\n"
        + "x@jury.example:\n  email: x@jury.example\n  name: X\n"
        + "y@jury.example: oui\n"
        + "z@jury.example:\n  name: Z\n  titles: [TP-00374]\n  habilitation_until: 2028-01-01\n"
        + "  nom: Z\n",
        encoding="utf-8",
    )
    problems = problems_in(load_config(folder), directory)
    assert "adresse déjà présente" in problems["S.Hoareau@jury.example"]
    assert "ne pas la répéter" in problems["x@jury.example.email"]
    assert "attendu : un bloc de clés" in problems["y@jury.example"]
    assert "clé inconnue" in problems["z@jury.example.nom"]
    not_a_mapping = folder / "jury.yaml"
    not_a_mapping.write_text("- a@b.example\n", encoding="utf-8")
    problems = problems_in(load_config(folder), not_a_mapping)
    assert "un bloc par membre du jury, sous son adresse e-mail" in problems[""]


def test_habilitation_checks_use_the_directory(folder: Path) -> None:
    directory = folder / "jury.yaml"
    # Girard's habilitation now ends before the session (June 2027); Haddad is habilitated
    # for another title only; Lefèvre for some CCPs only (the session is a full title).
    replace(directory, "habilitation_until: 2028-12-31", "habilitation_until: 2027-05-31")
    replace(
        directory,
        "titles: [TP-01280]\n  habilitation_until: 2030-03-31",
        "titles: [TP-00374]\n  habilitation_until: 2030-03-31",
    )
    replace(
        directory, "titles: [TP-01280]                #", "ccp: [CP-01234]\n  titles: [TP-01280] #"
    )
    config = load_config(folder)
    assert config.problems == []
    found = findings(config, DWWM)
    assert (
        "l'habilitation de Thomas Girard prend fin le 31/05/2027"
        in found["jury_habilitation_expired"][0]
    )
    assert "habilité(e) pour le titre TP-00374, pas pour TP-01280" in found["jury_other_title"][0]
    assert "Émilie Lefèvre est limitée aux CCP CP-01234" in found["jury_ccp_limited"][0]
    assert "jury_too_small" in found


def test_a_changed_directory_is_read_again_by_a_long_lived_parser(folder: Path) -> None:
    parser = SessionParser()
    assert load_config(folder, parser=parser).sessions[DWWM].jury[2].company is None
    replace(folder / "jury.yaml", 'name: "Yasmina Haddad"', 'name: "Yasmina Haddad"\n  company: Y')
    assert load_config(folder, parser=parser).sessions[DWWM].jury[2].company == "Y"


def test_check_jury_file_refuses_removing_a_juror_in_use(folder: Path) -> None:
    config = load_config(folder)
    directory = folder / "jury.yaml"
    text = directory.read_text(encoding="utf-8")
    without_girard = text.replace("t.girard@jury.example:", "t.girard-old@jury.example:")
    (problem,) = check_jury_file(config, directory, without_girard.encode())
    assert problem.file == str(session_file(folder, DWWM))
    assert problem.field == "jury[2].email"
    assert "n'est pas dans l'annuaire jury.yaml" in problem.message
    # A juror nobody takes may go; a change of date is fine.
    unused = text.replace("s.hoareau@jury.example:", "s.hoareau2@jury.example:")
    assert check_jury_file(config, directory, unused.encode()) == []
    bad = text.replace("habilitation_until: 2027-04-30", "habilitation_until: demain")
    (problem,) = check_jury_file(config, directory, bad.encode())
    assert problem.file == str(directory)
    assert problem.field == "s.hoareau@jury.example.habilitation_until"


def test_an_address_alone_says_how_to_take_it_from_the_directory(folder: Path) -> None:
    path = session_file(folder, DWWM)
    replace(path, "  - {email: y.haddad@jury.example}", "  - y.haddad@jury.example")
    config = load_config(folder)
    assert problems_in(config, path) == {
        "jury[3]": "adresse seule « y.haddad@jury.example » (attendu : {email: "
        "y.haddad@jury.example} pour prendre ce membre dans l'annuaire jury.yaml, ou un bloc "
        "avec name, email et habilitation_until)"
    }
    assert DWWM in config.broken_session_ids


def test_validate_prints_the_warnings_and_still_succeeds(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from syncsvc.cli import main

    monkeypatch.chdir(folder.parent)  # whatever the command writes stays in tmp_path
    path = session_file(folder, DWWM)
    replace(path, "{email: t.girard@jury.example}", "{email: t.girard@jury.example, name: T. G.}")
    code = main(["validate", "--config", str(folder), "--now", "2027-02-08T08:00:00+00:00"])
    out = capsys.readouterr().out
    assert f"{path}: avertissement: jury[2].name: « T. G. » ici, « Thomas Girard »" in out
    assert code == 0


def test_a_retired_juror_still_completes_a_session_and_warns_after_the_date(
    folder: Path,
) -> None:
    directory = folder / "jury.yaml"
    replace(directory, "  habilitation_until: 2028-12-31\n", "  habilitation_until: 2028-12-31\n"
            "  retired_on: 2027-06-30\n")  # fmt: skip
    config = load_config(folder)
    assert config.problems == []
    assert config.jury.jurors[GIRARD].retired_on == date(2027, 6, 30)
    assert GIRARD in {j.email for j in config.sessions[DWWM].jury}
    assert [w for w in config.warnings if "retiré" in w.message] == []  # June 7th: before
    replace(directory, "retired_on: 2027-06-30", "retired_on: 2027-05-31")
    config = load_config(folder)
    assert config.problems == []
    (warning,) = [w for w in config.warnings if "retiré" in w.message]
    assert warning.field == "jury[2].email"
    assert "retiré de l'annuaire jury.yaml le 31/05/2027" in warning.message
