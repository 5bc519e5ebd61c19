"""A centre's own deadlines and reminder days (``rules.overrides``) from the « Centres » page,
over HTTP: one line a milestone as the catalogue names it with the ruleset's deadline, the
preview lists the dates that move in each session (the same planner as the sync), a deadline
made later than the regulation is refused next to its line with the loader's French problem and
nothing is written, the file keeps its comments and the audit records the change."""

from __future__ import annotations

import re
from html import unescape

import httpx

from syncsvc.core.rules import Offset
from syncsvc.inputs.loader import load_config
from tests.web.conftest import USER, Served, csrf_of
from tests.web.test_centre_identity import STRASBOURG, admin, roles
from tests.web.test_centre_options import confirm, values_of
from tests.web.test_config_pages import text_of

__all__ = ["admin", "roles"]

VENISSIEUX = "greta-lyon-venissieux"


def boxes_of(page: str) -> dict[str, str]:
    """The boxes of the form as a browser sends them: the milestones' (``offset-<id>``,
    ``reminders-<id>``) and the advice rules ticked, with their lists."""
    found = dict(re.findall(r'name="((?:offset|reminders)-[a-z0-9_]+)" value="([^"]*)"', page))
    shown = re.search(r'name="overrides-shown" value="([^"]*)"', page)
    assert shown is not None, "no milestone boxes on the form"
    advice = re.search(r'name="rules-shown" value="([^"]*)"', page)
    assert advice is not None, "no advice boxes on the form"
    followed = re.findall(r'name="(follow-[a-z0-9_]+)" value="1" checked', page)
    return {
        **{k: unescape(v) for k, v in found.items()},
        "overrides-shown": shown.group(1),
        "rules-shown": advice.group(1),
        **dict.fromkeys(followed, "1"),
    }


def post_boxes(client: httpx.Client, centre: str, **boxes: str) -> httpx.Response:
    """The form as a browser sends it, some milestone boxes changed (``offset-dte_order``…)."""
    page = client.get(f"/centres/{centre}/modifier")
    assert page.status_code == 200, page.text
    data = {
        **values_of(page.text),
        **boxes_of(page.text),
        "csrf": csrf_of(page.text),
        "step": "verifier",
        **{name.replace("__", "-"): value for name, value in boxes.items()},
    }
    return client.post(f"/centres/{centre}/modifier", data=data)


def test_each_milestone_is_shown_with_its_regulatory_deadline(admin: Served) -> None:
    with admin.logged_in() as client:
        page = client.get(f"/centres/{STRASBOURG}/modifier")
    shown = text_of(page.text)
    assert (
        "Commander le pli d'examen (DTE) (réglementaire) 92 jours avant le début de la session ; "
        "rappels : 14, 7, 1" in shown
    ), shown
    assert "Transmettre à la DDETS dates, lieu" in shown
    assert "{ud_name}" not in page.text
    assert "aria-label=\"Échéance du centre pour « Commander le pli d'examen (DTE) », en jours" in (
        unescape(page.text)
    )


def test_an_earlier_deadline_is_previewed_per_session_then_written(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    before = path.read_text(encoding="utf-8")
    with admin.logged_in() as client:
        preview = post_boxes(
            client, STRASBOURG, offset__dte_order="100", reminders__jury_convocation="21, 7"
        )
        assert preview.status_code == 200, preview.text
        shown = text_of(preview.text)
        # 26/04/2027 - 100 days is Saturday 16/01: the Friday before; CERES comes first (after:)
        assert (
            "Session tee-2027-04-strasbourg : « Créer la session dans CERES » passe du "
            "22/01/2027 au 15/01/2027 ; « Commander le pli d'examen (DTE) » passe du 22/01/2027 "
            "au 15/01/2027." in shown
        ), shown
        assert (
            "Les rappels de « Désigner, inscrire et convoquer les membres du jury (et "
            "surveillant, comédien) » partiront 21, 7 jour(s) avant l'échéance (au lieu de "
            "14, 7, 1)." in shown
        )
        assert "Commander le pli d'examen (DTE) : échéance 100 jours avant le début" in shown
        assert path.read_text(encoding="utf-8") == before  # nothing written by the preview
        assert confirm(client, preview, STRASBOURG).status_code == 303
    centre = load_config(admin.config).centres[STRASBOURG]
    assert centre.rules.overrides["dte_order"].offset == Offset(amount=-100, unit="d")
    assert centre.rules.overrides["jury_convocation"].reminders == (21, 7)
    after = path.read_text(encoding="utf-8")
    assert "holiday_zone: alsace-moselle      # adds Good Friday and 26 December" in after
    (entry,) = admin.store.audit_trail()
    assert (entry.user, entry.action) == (USER, "centres")
    assert ("afpa-strasbourg.rules.overrides.dte_order.offset", None, "-100d") in entry.changes


def test_a_regulatory_deadline_made_later_is_refused_next_to_its_line(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    before = path.read_bytes()
    with admin.logged_in() as client:
        later = post_boxes(client, STRASBOURG, offset__dte_order="80")
        assert later.status_code == 400
        page = unescape(later.text)
        assert re.search(
            r'id="e-o-dte_order">-80d est plus tardif que la valeur réglementaire -92d : on peut '
            r"ajouter de la marge, jamais en retirer",
            page,
        ), page
        assert 'name="offset-dte_order" value="80"' in page  # what was typed stays
        unread = post_boxes(client, STRASBOURG, reminders__dte_order="la veille")
        assert unread.status_code == 400
        assert 'id="e-o-dte_order">jours de rappel « la veille » illisibles' in unescape(
            unread.text
        )
    assert path.read_bytes() == before
    assert admin.store.audit_trail() == []


def test_clearing_a_box_removes_that_override_only(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    with admin.logged_in() as client:
        page = client.get(f"/centres/{VENISSIEUX}/modifier")
        boxes = boxes_of(page.text)
        assert (boxes["offset-dte_order"], boxes["reminders-candidate_info_mail"]) == ("100", "2")
        preview = post_boxes(client, VENISSIEUX, offset__dte_order="")
        assert "« Commander le pli d'examen (DTE) » passe du" in text_of(preview.text)
        assert confirm(client, preview, VENISSIEUX).status_code == 303
    centre = load_config(admin.config).centres[VENISSIEUX]
    assert list(centre.rules.overrides) == ["candidate_info_mail"]
    assert centre.rules.disable == ("dte_reception_check",)
    text = path.read_text(encoding="utf-8")
    assert "disable: [dte_reception_check]            # advice rules only" in text


def test_a_coordinator_sets_deadlines_of_its_centres_only(roles: Served) -> None:
    before = (roles.config / "centres.yaml").read_bytes()
    with roles.logged_in() as client:
        assert post_boxes(client, STRASBOURG, offset__dte_order="95").status_code == 200
        page = client.get(f"/centres/{STRASBOURG}/modifier")
        data = {
            **values_of(page.text),
            **boxes_of(page.text),
            "csrf": csrf_of(page.text),
            "step": "confirmer",
            "offset-dte_order": "95",
        }
        assert client.post(f"/centres/{VENISSIEUX}/modifier", data=data).status_code == 403
    assert (roles.config / "centres.yaml").read_bytes() == before


def test_an_override_of_an_unknown_rule_written_in_the_file_is_shown(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "      candidate_info_mail: {reminders: [2]}\n",
            "      candidate_info_mail: {reminders: [2]}\n      salle_check: {reminders: [3]}\n",
        ),
        encoding="utf-8",
    )
    before = path.read_bytes()
    with admin.logged_in() as client:
        refused = post_boxes(client, VENISSIEUX, reminders__dte_order="10, 1")
    assert refused.status_code == 400
    assert 'id="e-o-salle_check">« salle_check » : règle inconnue (attendu : une de' in unescape(
        refused.text
    )
    assert "salle_check" in values_of(refused.text)["overrides"]  # kept for the next try
    assert path.read_bytes() == before
