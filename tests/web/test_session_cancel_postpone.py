"""Issue 12, « Annuler » and « Reporter » on the dashboard as it is (the forms come later): a
session file that says ``cancelled:`` shows « Session annulée le … : <raison> » and no next
deadline (it showed « À venir »); one that says ``postponed:`` shows the postponement, its
milestones « à refaire » and « Informer l'UD du report ». The dashboard's day is Monday 8
February 2027 (:data:`tests.web.conftest.NOW`)."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import ROOT, SECRET, SECRET_ENV, SESSION_ID, Served, serve


def _configured(tmp_path: Path, edit: dict[str, str], tail: str) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    path = config / "sessions" / f"{SESSION_ID}.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in edit.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text + tail, encoding="utf-8")


@pytest.fixture
def cancelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    _configured(
        tmp_path,
        {
            "ceres_session_create: 2026-11-20": (
                "ceres_session_create: 2026-11-20\n  dte_order: 2026-12-10"
            )
        },
        'cancelled: {on: 2027-01-11, reason: "Nombre de candidats insuffisant"}\n',
    )
    with serve(tmp_path) as running:
        yield running


@pytest.fixture
def postponed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    _configured(
        tmp_path,
        {
            "start: 2027-03-15": "start: 2027-04-12",
            "end: 2027-03-19": "end: 2027-04-16",
            "ceres_session_create: 2026-11-20": (
                "ceres_session_create: 2026-11-20\n  ud_session_declaration: 2026-11-20"
            ),
        },
        "postponed:\n  - {from_start: 2027-03-15, from_end: 2027-03-19, on: 2027-02-01, "
        'reason: "Plateau technique indisponible"}\n',
    )
    with serve(tmp_path) as running:
        yield running


def _session_row(page: str) -> str:
    found = re.search(rf'<tr id="s-{SESSION_ID}".*?</tr>', page, re.S)
    assert found is not None
    return html.unescape(found.group(0))


def _milestone_row(page: str, milestone: str) -> str:
    found = re.search(rf'<tr id="m-{milestone}".*?</tr>', page, re.S)
    assert found is not None, milestone
    return html.unescape(found.group(0))


def test_a_cancelled_session_shows_its_cancellation_and_no_next_deadline(
    cancelled: Served,
) -> None:
    with cancelled.logged_in() as client:
        board = client.get("/").text
        page = html.unescape(client.get(f"/sessions/{SESSION_ID}").text)
    row = _session_row(board)
    assert "Session annulée le 11/01/2027 : Nombre de candidats insuffisant" in row
    assert "À venir" not in row
    assert "En retard" not in row
    assert "Tout est fait" not in row
    assert (
        '<p class="notice warn cancellation">Session annulée le 11/01/2027 : Nombre de candidats '
        "insuffisant</p>"
    ) in page
    assert 'data-status="cancelled"' in _milestone_row(page, "dte_order")
    assert "session annulée, annulé : " in page  # the timeline's text for screen readers
    # what CERES allows and what to tell the UD (issue 11, check 8)
    assert (
        "session annulée le 11/01/2027 (Nombre de candidats insuffisant) alors que le pli (DTE) "
        "a été commandé le 10/12/2026 : CERES ne permet de supprimer une session qu'avant la "
        "commande du DTE"
    ) in page
    assert "DEETS de La Réunion (974.certification@deets.example)" in page


def test_a_postponed_session_shows_what_to_redo_and_the_ud_notice(postponed: Served) -> None:
    with postponed.logged_in() as client:
        page = html.unescape(client.get(f"/sessions/{SESSION_ID}").text)
    assert (
        "Session reportée le 01/02/2027 (Plateau technique indisponible) : du 15/03/2027 au "
        "19/03/2027 → du 12/04/2027 au 16/04/2027"
    ) in page
    declaration = _milestone_row(page, "ud_session_declaration")
    assert '<span class="badge redo">à refaire</span>' in declaration
    assert '<p class="done-on">' not in declaration  # the mark before the report no longer counts
    assert 'name="done_on"' in declaration  # to be marked done again
    notice = _milestone_row(page, "ud_postponement_notice")
    assert "Informer la DEETS de La Réunion du report de la session" in notice
    # postponed Monday 1 February: + 5 days is Saturday 6, the next working day Monday 8
    assert "lun. 08/02/2027" in notice
    assert 'data-status="due_soon"' in notice
    assert "à refaire" not in _milestone_row(page, "ceres_session_create")
