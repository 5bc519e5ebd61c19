"""Issue 11, « Words » on the dashboard: a session's page names the centre's own service and
addresses, and shows every milestone's sources by their full titles (it showed none)."""

from __future__ import annotations

import html
import re

from tests.web.conftest import SESSION_ID, Served


def _row(page: str, milestone: str) -> str:
    found = re.search(rf'<tr id="m-{milestone}".*?</tr>', page, re.S)
    assert found is not None, milestone
    return html.unescape(found.group(0))


def test_the_session_page_names_the_centre_s_service_and_shows_the_sources(
    served: Served,
) -> None:
    with served.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}").text
    assert "ddcs@seine-saint-denis.gouv.fr" not in page
    create = _row(page, "ceres_session_create")
    assert (
        "Si le délai de 3 mois n'est pas respecté, écrire à la DEETS de La Réunion "
        "(974.certification@deets.example)."
    ) in create
    assert "Sources (6)" in create
    assert "<cite>S2 : « Guide de préparation de la session » — tableau des tâches" in create
    assert "<blockquote>« Créer la session dans CERES au minimum 3 mois avant le début de la " in (
        create
    )
    assert (
        "<cite>RG2016 : Arrêté du 21 juillet 2016 portant règlement général des sessions "
        "d'examen pour l'obtention du titre professionnel du ministère chargé de l'emploi"
    ) in create
    check = _row(page, "dte_reception_check")
    assert "epreuves-tertiaire@afpa.fr" in check
    assert "epreuves-btp@afpa.fr" not in check
    assert "epreuves-industrie@afpa.fr" not in check
    for row in re.findall(r'<tr id="m-([a-z_]+)"', page):
        assert "Sources (" in _row(page, row), row
