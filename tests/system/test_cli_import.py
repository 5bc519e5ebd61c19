"""``syncsvc import`` / ``import --template`` / ``export`` from the command line, with .xlsx
and .csv files written here (a Windows-1252 ``;`` file as Excel in France writes it)."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from syncsvc.cli import main
from syncsvc.inputs.loader import load_config
from syncsvc.state.store import Store

ROOT = Path(__file__).resolve().parents[2]
HEADERS = [
    "Identifiant",
    "Code titre",
    "Nature",
    "Centre",
    "Début",
    "Fin",
    "Heure de début",
    "Candidats formation",
    "Candidats VAE",
    "Responsable de session (courriel)",
    "Coordination (courriels)",
    "Jury (courriels)",
]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / "syncsvc.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "state.db"}"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path / "config"


def _programme(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(
        [
            None,
            "TP-01280",
            "titre",
            "greta-lyon-venissieux",
            date(2027, 9, 6),
            date(2027, 9, 9),
            "09:00",
            12,
            0,
            "o.chabert@greta-lyon.example",
            "r.amrani@greta-lyon.example",
            "e.lefevre@jury.example; t.girard@jury.example",
        ]
    )
    sheet.append(
        [
            None,
            "TP-01280",
            "titre",
            "Lyon Sud",
            "31/02/2027",
            "04/03/2027",
            "09:00",
            10,
            0,
            "o.chabert@greta-lyon",
            "r.amrani@greta-lyon.example",
            "e.lefevre@jury.example",
        ]
    )
    sheet.append(
        [
            "dwwm-2027-06-venissieux",
            "TP-01280",
            "titre",
            "greta-lyon-venissieux",
            date(2027, 6, 7),
            date(2027, 6, 11),
            "09:00",
            11,
            1,
            "o.chabert@greta-lyon.example",
            "r.amrani@greta-lyon.example",
            "e.lefevre@jury.example; t.girard@jury.example; y.haddad@jury.example",
        ]
    )
    book.save(path)


def test_preview_then_apply_with_one_bad_row(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "programme.xlsx"
    _programme(path)
    before = {p.name: p.read_bytes() for p in (config / "sessions").iterdir()}
    assert main(["import", str(path), "--config", str(config), "--now", "2026-11-30"]) == 1
    out = capsys.readouterr().out
    assert "Sessions à créer (1) :\n  ligne 2 : dwwm-2027-09-venissieux" in out
    assert "Sessions à modifier (1) :\n  ligne 4 : dwwm-2027-06-venissieux" in out
    assert "      Fin : 10/06/2027 → 11/06/2027" in out
    errors = out.split("Lignes en erreur, non importées (1) :\n")[1].splitlines()
    assert errors[:3] == [
        "  ligne 3, colonne « Centre » : centre « Lyon Sud » inconnu (attendu : une de ces clés "
        "de centres.yaml : afpar-st-andre, greta-lyon-venissieux, afpa-strasbourg)",
        "  ligne 3, colonne « Début » : date « 31/02/2027 » invalide : ce jour n'existe pas "
        "(attendu : une date jj/mm/aaaa, ex. 15/03/2027)",
        "  ligne 3, colonne « Responsable de session (courriel) » : adresse "
        "« o.chabert@greta-lyon » invalide (attendu : une adresse nom@domaine.fr, plusieurs "
        "séparées par « ; »)",
    ]
    assert "Aperçu seulement : rien n'a été écrit" in out
    assert {p.name: p.read_bytes() for p in (config / "sessions").iterdir()} == before

    args = ["import", str(path), "--config", str(config), "--now", "2026-11-30", "--apply"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "Enregistré : 1 session(s) créée(s), 1 modifiée(s)." in out
    loaded = load_config(config)
    assert loaded.ok, loaded.problems
    created = loaded.sessions["dwwm-2027-09-venissieux"]
    assert [j.name for j in created.jury] == ["Émilie Lefèvre", "Thomas Girard"]
    assert loaded.sessions["dwwm-2027-06-venissieux"].end == date(2027, 6, 11)
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        trail = store.audit_trail()
    finally:
        store.close()
    assert sorted((e.session_id, e.user, e.action) for e in trail) == [
        ("dwwm-2027-06-venissieux", "import", "import"),
        ("dwwm-2027-09-venissieux", "import", "import"),
    ]
    # applied again: nothing left to do but the bad row
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "Sessions sans changement (2)" in out


def test_a_windows_1252_semicolon_csv(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "Identifiant;Lieu;Heure de début;Jury (courriels)\r\n"
        'dwwm-2027-06-venissieux;GRETA Vénissieux, salle 12;8h45;"e.lefevre@jury.example\r\n'
        'y.haddad@jury.example"\r\n'
    )
    path = tmp_path / "changements.csv"
    path.write_bytes(text.encode("cp1252"))
    args = ["import", str(path), "--config", str(config), "--now", "2026-11-30", "--apply"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Lieu : (vide) → GRETA Vénissieux, salle 12" in out
    assert "Heure de début : 09:00 → 08:45" in out
    assert "Jury (courriels) : e.lefevre@jury.example; t.girard@jury.example; " in out
    session = load_config(config).sessions["dwwm-2027-06-venissieux"]
    assert session.location == "GRETA Vénissieux, salle 12"
    assert [j.email for j in session.jury] == ["e.lefevre@jury.example", "y.haddad@jury.example"]
    assert str(session.first_day_start) == "08:45:00"


def test_a_utf8_bom_comma_csv(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "Identifiant,Candidats VAE\nsa-2027-03-st-andre,3\n"
    path = tmp_path / "vae.csv"
    path.write_bytes("\ufeff".encode() + text.encode("utf-8"))
    assert main(["import", str(path), "--config", str(config), "--apply"]) == 0
    assert "Candidats VAE : 2 → 3" in capsys.readouterr().out
    assert load_config(config).sessions["sa-2027-03-st-andre"].candidates.vae == 3


def test_the_template_command(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "modele.xlsx"
    assert main(["import", "--template", str(path), "--config", str(config)]) == 0
    assert "modèle écrit" in capsys.readouterr().out
    book = load_workbook(path)
    assert book.sheetnames[:2] == ["Sessions", "Explications"]
    # imported as it is, the template changes nothing (its example row is skipped)
    assert main(["import", str(path), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Ligne d'exemple du modèle ignorée : ligne 2" in out
    assert "aucun changement" in out


def test_export_then_import_shows_no_change(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sessions.xlsx"
    assert main(["export", str(path), "--config", str(config), "--now", "2027-02-08"]) == 0
    assert "export écrit" in capsys.readouterr().out
    book = load_workbook(path)
    assert book.sheetnames == ["St-André", "Vénissieux", "Strasbourg", "Échéances"]
    sheet = book["St-André"]
    headers = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2"
    first = {h: c for h, c in zip(headers, sheet[2], strict=True)}
    assert first["Identifiant"].value == "sa-2027-03-st-andre"
    assert first["Début"].number_format == "dd/mm/yyyy"
    assert first["Début"].value.date() == date(2027, 3, 15)
    assert first["Prochaine échéance"].value == "Commander le pli d'examen (DTE)"
    assert first["Statut de la prochaine échéance"].value == "En retard"
    assert isinstance(first["Date de la prochaine échéance"].value.date(), date)
    assert first["Candidats (total)"].value == 12
    assert sheet.column_dimensions["A"].width == 28
    assert main(["import", str(path), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Sessions sans changement (5)" in out
    assert "aucun changement" in out


def test_the_export_lists_the_files_in_error_with_their_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = config / "sessions" / "sa-2027-03-st-andre.yaml"
    text = broken.read_text(encoding="utf-8")
    broken.write_text(text.replace("end: 2027-03-19", "end: 2027-02-30"), encoding="utf-8")
    path = tmp_path / "sessions.xlsx"
    # the export is written, and says there are files in error
    assert main(["export", str(path), "--config", str(config), "--now", "2027-02-08"]) == 1
    capsys.readouterr()
    sheet = load_workbook(path)["Problèmes"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Fichier", "Ligne", "Champ", "Problème"]
    [(file, line, field, message)] = rows[1:]
    assert file.endswith("sessions/sa-2027-03-st-andre.yaml")
    assert (line, field) == (text.splitlines().index("end: 2027-03-19") + 1, "end")
    assert message.startswith("date « 2027-02-30 » invalide")


def test_usage_mistakes_are_one_french_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "--config", str(config)]) == 2
    assert "fichier à importer manquant" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "absent.xlsx"), "--config", str(config)]) == 2
    assert "absent.xlsx » illisible" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "x.csv"), "--config", str(config)]) == 2
    assert "nom sans .xlsx" in capsys.readouterr().err
    broken = tmp_path / "faux.xlsx"
    broken.write_bytes(io.BytesIO(b"pas un classeur").getvalue())
    assert main(["import", str(broken), "--config", str(config)]) == 2
    assert "ce n'est pas un classeur .xlsx valide" in capsys.readouterr().err
