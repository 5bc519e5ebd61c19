"""The spreadsheet import: rows -> preview (create, update field by field, unchanged, errors
with line and column) -> written through the audited writer; the export imports back as is."""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook

from syncsvc.app.authoring import Authoring
from syncsvc.app.exporting import Exported, export_bytes
from syncsvc.app.importing import apply_import, preview_import, preview_text
from syncsvc.core.checks import check_session
from syncsvc.core.planner import plan_sessions
from syncsvc.inputs.loader import load_config
from syncsvc.state.store import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "config"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
HEADERS = [
    "Identifiant",
    "Code titre",
    "Nature",
    "Code CCP",
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
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    return root


@pytest.fixture
def store(tmp_path: Path) -> Store:
    created = Store(f"sqlite:///{tmp_path / 'state.db'}")
    created.migrate()
    return created


def xlsx(rows: Sequence[Sequence[Any]], headers: Sequence[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Programme 2027"
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def new_sa(start: date, **changes: Any) -> list[Any]:
    values = {
        "Identifiant": None,
        "Code titre": "TP-00374",
        "Nature": "Titre",
        "Code CCP": None,
        "Centre": "afpar-st-andre",
        "Début": start,
        "Fin": start.replace(day=start.day + 4),
        "Heure de début": "08:30",
        "Candidats formation": 9,
        "Candidats VAE": 1,
        "Responsable de session (courriel)": "jl.hoarau@afpar.example",
        "Coordination (courriels)": "n.techer@afpar.example",
        "Jury (courriels)": "c.maillot@jury.example; p.fontaine@jury.example",
    }
    values.update(changes)
    return [values[h] for h in HEADERS]


def loaded(folder: Path, session_id: str) -> dict[str, Any]:
    data = yaml.safe_load((folder / "sessions" / f"{session_id}.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_new_rows_are_created_with_a_generated_identifier(folder: Path, store: Store) -> None:
    data = xlsx([new_sa(date(2027, 9, 13)), new_sa(date(2027, 9, 20))])
    preview = preview_import(folder, "programme.xlsx", data)
    assert [(r.kind, r.session_id) for r in preview.rows] == [
        ("create", "sa-2027-09-st-andre"),
        ("create", "sa-2027-09-st-andre-2"),
    ]
    applied = apply_import(preview, Authoring(folder, store), user="import", now=NOW)
    assert len(applied.created) == 2
    config = load_config(folder)
    assert config.ok, config.problems
    session = config.sessions["sa-2027-09-st-andre"]
    # the title's acronym and label come from the other SA session, the names too
    assert (session.title.acronym, session.title.label) == ("SA", "Secrétaire assistant")
    assert session.session_manager.name == "Jean-Luc Hoarau"
    assert [j.name for j in session.jury] == ["Corinne Maillot", "Patrick Fontaine"]
    assert (session.candidates.training, session.candidates.vae) == (9, 1)
    entries = store.audit_trail("sa-2027-09-st-andre")
    assert [(e.user, e.action) for e in entries] == [("import", "import")]
    assert entries[0].note == "import de « programme.xlsx », ligne 2"
    # the same file again: the sessions are found again, nothing is duplicated
    again = preview_import(folder, "programme.xlsx", data)
    assert [(r.kind, r.session_id) for r in again.rows] == [
        ("unchanged", "sa-2027-09-st-andre"),
        ("unchanged", "sa-2027-09-st-andre-2"),
    ]


def test_one_bad_row_shows_exactly_its_problems_and_the_others_go_through(
    folder: Path, store: Store
) -> None:
    bad = new_sa(
        date(2027, 10, 4),
        **{
            "Début": "31/02/2027",
            "Centre": "afpar-nulle-part",
            "Responsable de session (courriel)": "jl.hoarau@afpar",
        },
    )
    rows = [new_sa(date(2027, 9, 13)), bad, new_sa(date(2027, 11, 8))]
    preview = preview_import(folder, "programme.xlsx", xlsx(rows))
    assert [r.kind for r in preview.rows] == ["create", "error", "create"]
    assert preview.rows[1].problems == [
        "ligne 3, colonne « Centre » : centre « afpar-nulle-part » inconnu (attendu : une de ces "
        "clés de centres.yaml : afpar-st-andre, greta-lyon-venissieux, afpa-strasbourg)",
        "ligne 3, colonne « Début » : date « 31/02/2027 » invalide : ce jour n'existe pas "
        "(attendu : une date jj/mm/aaaa, ex. 15/03/2027)",
        "ligne 3, colonne « Responsable de session (courriel) » : adresse « jl.hoarau@afpar » "
        "invalide (attendu : une adresse nom@domaine.fr, plusieurs séparées par « ; »)",
    ]
    assert all(not r.problems for r in preview.rows if r.kind != "error")
    applied = apply_import(preview, Authoring(folder, store), user="import", now=NOW)
    assert [r.session_id for r in applied.created] == [
        "sa-2027-09-st-andre",
        "sa-2027-11-st-andre",
    ]
    config = load_config(folder)
    assert config.ok
    assert {"sa-2027-09-st-andre", "sa-2027-11-st-andre"} <= set(config.sessions)
    assert not list((folder / "sessions").glob("sa-2027-10*"))


def test_an_update_keeps_every_field_without_a_column_and_shows_old_and_new(
    folder: Path, store: Store
) -> None:
    path = folder / "sessions" / "ctrmp-2027-02-venissieux.yaml"
    before = path.read_text(encoding="utf-8")
    headers = ["Identifiant", "Fin", "Lieu", "Candidats formation", "Jury (courriels)"]
    row = [
        "ctrmp-2027-02-venissieux",
        "27/02/2027",
        "Plateau technique de Corbas",
        3,
        "b.roux@jury.example\nc.vidal@jury.example",
    ]
    preview = preview_import(folder, "report.xlsx", xlsx([row], headers))
    (plan,) = preview.rows
    assert plan.kind == "update", plan.problems
    assert plan.changes == [
        ("Fin", "26/02/2027", "27/02/2027"),
        ("Lieu", "", "Plateau technique de Corbas"),
        ("Candidats formation", "2", "3"),
    ]
    text = "\n".join(preview_text(preview))
    assert "Fin : 26/02/2027 → 27/02/2027" in text
    assert "Karim" not in text  # the named candidates are never read out
    apply_import(preview, Authoring(folder, store), user="import", now=NOW)
    after = path.read_text(encoding="utf-8")
    assert after.startswith("# Transport title")
    assert "list:   # personal data" in after
    assert "Karim Benali" in after
    data = loaded(folder, "ctrmp-2027-02-venissieux")
    assert data["done"]["dte_order"] == date(2026, 11, 12)
    assert data["end"] == date(2027, 2, 27)
    assert data["candidates"]["training"] == 3
    assert [j["email"] for j in data["jury"]] == ["b.roux@jury.example", "c.vidal@jury.example"]
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert changed == [
        "end: 2027-02-27",
        "  training: 3",
        "location: Plateau technique de Corbas",
    ]
    (entry,) = store.audit_trail("ctrmp-2027-02-venissieux")
    assert entry.action == "import"
    assert ("end", "26/02/2027", "27/02/2027") in entry.changes


def test_the_loaders_own_problems_come_under_their_column(folder: Path) -> None:
    headers = ["Identifiant", "Fin", "Nature"]
    rows = [["sa-2027-03-st-andre", "01/03/2027", "ccp"]]
    (plan,) = preview_import(folder, "x.xlsx", xlsx(rows, headers)).rows
    assert plan.kind == "error"
    fin = "ligne 2, colonne « Fin » : la fin (2027-03-01)"
    assert any(p.startswith(fin) for p in plan.problems)
    assert any(
        p.startswith("ligne 2, colonne « Code CCP » : code CCP obligatoire") for p in plan.problems
    )


def test_a_juror_must_be_known(folder: Path) -> None:
    rows = [
        new_sa(
            date(2027, 9, 13),
            **{"Jury (courriels)": "c.maillot@jury.example; inconnu@jury.example"},
        ),
        # a juror of another session of the same centre: copied with that session's title
        new_sa(date(2027, 10, 4), **{"Jury (courriels)": "a.nativel@jury.example"}),
        # a juror of another centre only: unknown here
        new_sa(date(2027, 11, 8), **{"Jury (courriels)": "b.roux@jury.example"}),
    ]
    preview = preview_import(folder, "x.xlsx", xlsx(rows))
    assert [r.kind for r in preview.rows] == ["error", "create", "error"]
    assert preview.rows[0].problems == [
        "ligne 2, colonne « Jury (courriels) » : membre du jury « inconnu@jury.example » "
        "inconnu : ni dans cette session, ni dans config/jury.yaml, ni dans une autre session "
        "du centre (attendu : un juré connu ; écrire d'abord sa fiche, avec son nom et la fin "
        "de son habilitation)"
    ]
    assert preview.rows[1].values is not None
    (juror,) = preview.rows[1].values["jury"]
    assert juror["name"] == "Aurélie Nativel"
    assert juror["title_code"] == "TP-00391"  # habilitated for AC, not SA: the checks will say
    assert "inconnu" in preview.rows[2].problems[0]


def test_a_juror_of_the_jury_directory_is_named_by_address(folder: Path, store: Store) -> None:
    """The directory stays the one place of a juror's details: the session names them by
    address, the loader takes the rest (the habilitation for the session's title)."""
    rows = [
        new_sa(
            date(2027, 1, 11),
            **{"Jury (courriels)": "S.Hoareau@jury.example; c.maillot@jury.example"},
        )
    ]
    preview = preview_import(folder, "x.xlsx", xlsx(rows))
    (plan,) = preview.rows
    assert plan.kind == "create", plan.problems
    assert plan.values is not None
    assert plan.values["jury"][0] == {"email": "s.hoareau@jury.example"}
    assert plan.values["jury"][1]["name"] == "Corinne Maillot"
    apply_import(preview, Authoring(folder, store), user="import", now=NOW)
    config = load_config(folder)
    assert config.ok, config.problems
    first = config.sessions["sa-2027-01-st-andre"].jury[0]
    assert (first.name, first.title_code) == ("Sophie Hoareau", "TP-00374")


def test_a_person_nobody_knows_is_written_with_a_name(folder: Path) -> None:
    rows = [
        new_sa(date(2027, 9, 13), **{"Coordination (courriels)": "nouvelle@afpar.example"}),
        new_sa(
            date(2027, 10, 4),
            **{"Coordination (courriels)": "Léa Nouvelle <nouvelle@afpar.example>"},
        ),
    ]
    preview = preview_import(folder, "x.xlsx", xlsx(rows))
    assert preview.rows[0].kind == "error"
    assert "personne inconnue « nouvelle@afpar.example »" in preview.rows[0].problems[0]
    assert preview.rows[1].kind == "create"
    assert preview.rows[1].values is not None
    assert preview.rows[1].values["coordinators"] == [
        {"name": "Léa Nouvelle", "email": "nouvelle@afpar.example"}
    ]


def test_a_centre_the_person_may_not_change_is_refused(folder: Path) -> None:
    rows = [new_sa(date(2027, 9, 13))]
    (plan,) = preview_import(
        folder, "x.xlsx", xlsx(rows), allowed_centres={"greta-lyon-venissieux"}
    ).rows
    assert plan.kind == "error"
    assert plan.problems == [
        "ligne 2, colonne « Centre » : vous ne pouvez pas modifier les sessions du centre "
        "« afpar-st-andre » (attendu : un de vos centres : greta-lyon-venissieux)"
    ]


def test_two_rows_for_one_session_the_second_is_an_error(folder: Path) -> None:
    rows = [["sa-2027-03-st-andre", "20/03/2027"], ["sa-2027-03-st-andre", "21/03/2027"]]
    preview = preview_import(folder, "x.xlsx", xlsx(rows, ["Identifiant", "Fin"]))
    assert [r.kind for r in preview.rows] == ["update", "error"]
    assert "déjà importée par la ligne 2" in preview.rows[1].problems[0]


def test_an_identifier_that_is_not_one_never_reaches_a_path(folder: Path) -> None:
    rows = [["../centres", "20/03/2027"]]
    (plan,) = preview_import(folder, "x.xlsx", xlsx(rows, ["Identifiant", "Fin"])).rows
    assert plan.kind == "error"
    assert plan.problems[0].startswith("ligne 2, colonne « Identifiant » : identifiant")


def test_a_changed_file_between_preview_and_apply_is_a_conflict(folder: Path, store: Store) -> None:
    rows = [["sa-2027-03-st-andre", "20/03/2027"]]
    preview = preview_import(folder, "x.xlsx", xlsx(rows, ["Identifiant", "Fin"]))
    path = folder / "sessions" / "sa-2027-03-st-andre.yaml"
    path.write_text(path.read_text("utf-8").replace("salle B12", "salle C4"), encoding="utf-8")
    applied = apply_import(preview, Authoring(folder, store), user="import", now=NOW)
    (failed,) = applied.failed
    assert "a changé depuis l'aperçu" in failed.problems[0]
    assert "end: 2027-03-19" in path.read_text("utf-8")


def test_the_export_imports_back_without_a_change(folder: Path) -> None:
    config = load_config(folder)
    planning = plan_sessions(config, {}, NOW)
    items = [Exported(s, c, m, check_session(s, c, m, NOW)) for s, c, m in planning.planned]
    data = export_bytes(config, items)
    preview = preview_import(folder, "export.xlsx", data, now=NOW)
    assert len(preview.rows) == len(config.sessions) == 5
    assert {r.kind for r in preview.rows} == {"unchanged"}
    assert len(preview.marks) == sum(len(m) for _, _, m in planning.planned)
    assert len(preview.marks_unchanged) == len(preview.marks)  # « Échéances »: nothing either
    assert not preview.notes
    assert "aucun changement" in "\n".join(preview_text(preview))


def test_an_empty_cell_keeps_and_a_dash_clears(folder: Path, store: Store) -> None:
    headers = ["Identifiant", "Fin", "Lieu", "Suppléant (courriel)", "Jury (courriels)"]
    rows = [["sa-2027-03-st-andre", None, "-", " - ", None]]
    (plan,) = preview_import(folder, "x.xlsx", xlsx(rows, headers)).rows
    assert plan.kind == "update", plan.problems
    assert plan.changes == [
        ("Lieu", "AFPAR Saint-André, salle B12", ""),
        ("Suppléant (nom)", "Sandrine Grondin", ""),
        ("Suppléant (courriel)", "s.grondin@afpar.example", ""),
    ]
    apply_import(
        preview_import(folder, "x.xlsx", xlsx(rows, headers)),
        Authoring(folder, store),
        user="import",
        now=NOW,
    )
    data = loaded(folder, "sa-2027-03-st-andre")
    assert "location" not in data
    assert "deputy_manager" not in data
    assert data["end"] == date(2027, 3, 19)
    assert len(data["jury"]) == 2


def test_the_export_carries_no_candidate_name(folder: Path) -> None:
    from openpyxl import load_workbook

    config = load_config(folder)
    planning = plan_sessions(config, {}, NOW)
    items = [Exported(s, c, m, check_session(s, c, m, NOW)) for s, c, m in planning.planned]
    book = load_workbook(io.BytesIO(export_bytes(config, items)))
    texts = [
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    assert any("ctrmp-2027-02-venissieux" in t for t in texts)
    for name in ("Karim", "Benali", "Julie Perret"):
        assert not [t for t in texts if name in t]
    headers = [c.value for c in book["Vénissieux"][1]]
    row = next(
        r
        for r in book["Vénissieux"].iter_rows(values_only=True)
        if r[0] == "ctrmp-2027-02-venissieux"
    )
    assert row[headers.index("Candidats (total)")] == 2
