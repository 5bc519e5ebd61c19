"""A centre's own rules (``rules.extra``) from the « Centres » page, over HTTP: added from the
empty block (its id made from its title), previewed as a new milestone of each session with the
planner, edited keeping what the page does not show (description…), removed; a bad block is
refused next to it with a French problem and nothing is written; the audit records the change."""

from __future__ import annotations

import re
from html import unescape

import httpx

from syncsvc.core.rules import Offset
from syncsvc.inputs.loader import load_config
from tests.web.conftest import USER, Served, csrf_of
from tests.web.test_centre_identity import STRASBOURG, admin
from tests.web.test_centre_options import confirm, values_of
from tests.web.test_centre_overrides import VENISSIEUX, boxes_of
from tests.web.test_config_pages import text_of, version_of

__all__ = ["admin"]


def blocks_of(page: str) -> dict[str, str]:
    """The blocks of the centre's own rules as a browser sends them (boxes ticked only)."""
    data = dict(re.findall(r'name="(x\d+-[a-z]+)" value="([^"]*)"', page))
    data = {k: unescape(v) for k, v in data.items() if not k.endswith("-remove")}  # unticked
    for name, body in re.findall(r'<select name="(x\d+-[a-z]+)"[^>]*>(.*?)</select>', page):
        chosen = re.search(r'value="([^"]*)" selected', body)
        data[name] = unescape(chosen.group(1)) if chosen else ""
    data.update(
        dict.fromkeys(re.findall(r'name="(x\d+-audience-[a-z_]+)" value="1" checked', page), "1")
    )
    shown = re.search(r'name="extra-shown" value="([^"]*)"', page)
    assert shown is not None, "no blocks for the centre's own rules"
    return {**data, "extra-shown": shown.group(1)}


def post_blocks(client: httpx.Client, centre: str, changes: dict[str, str]) -> httpx.Response:
    page = client.get(f"/centres/{centre}/modifier")
    assert page.status_code == 200, page.text
    data = {
        **values_of(page.text),
        **boxes_of(page.text),
        **blocks_of(page.text),
        "csrf": csrf_of(page.text),
        "step": "verifier",
    }
    data.update(changes)
    return client.post(
        f"/centres/{centre}/modifier", data={k: v for k, v in data.items() if v is not None}
    )


ROOMS = {
    "x1-title": "Réserver les salles",
    "x1-offset": "60",
    "x1-way": "avant",
    "x1-anchor": "start",
    "x1-kind": "advice",
    "x1-audience-coordinators": "1",
    "x1-audience-centre_management": "1",
    "x1-reminders": "7",
}


def test_a_rule_added_is_previewed_per_session_then_written(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    before = path.read_text(encoding="utf-8")
    with admin.logged_in() as client:
        preview = post_blocks(client, STRASBOURG, ROOMS)
        assert preview.status_code == 200, preview.text
        shown = text_of(preview.text)
        assert (
            "Règles propres au centre aucune Réserver les salles : 60 jours avant le début de "
            "la session (conseil ; pour : coordination, direction ; rappels : 7)" in shown
        ), shown
        # 26/04/2027 - 60 days: Thursday 25/02/2027
        assert (
            "Session tee-2027-04-strasbourg : « Réserver les salles » s'ajoute (le 25/02/2027)."
            in shown
        )
        assert path.read_text(encoding="utf-8") == before
        assert confirm(client, preview, STRASBOURG).status_code == 303
    (rule,) = load_config(admin.config).centres[STRASBOURG].rules.extra
    assert (rule.id, rule.title, rule.kind, rule.anchor) == (
        "reserver_les_salles",
        "Réserver les salles",
        "advice",
        "start",
    )
    assert rule.offset == Offset(amount=-60, unit="d")
    assert (rule.audience, rule.reminders) == (("coordinators", "centre_management"), (7,))
    assert "holiday_zone: alsace-moselle      # adds Good Friday and 26 December" in (
        path.read_text(encoding="utf-8")
    )
    (entry,) = admin.store.audit_trail()
    assert (entry.user, entry.action) == (USER, "centres")
    assert ("afpa-strasbourg.rules.extra.1.id", None, "reserver_les_salles") in entry.changes


def test_a_rule_edited_keeps_its_description_then_is_removed(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    disable: [dte_reception_check]            # advice rules only\n",
            "    disable: [dte_reception_check]            # advice rules only\n"
            "    extra:\n"
            '      - {id: salles, title: "Réserver les salles", kind: advice,\n'
            '         audience: [coordinators], anchor: start, offset: "-60d",\n'
            '         description: "Salle 12 et atelier"}\n',
        ),
        encoding="utf-8",
    )
    with admin.logged_in() as client:
        page = client.get(f"/centres/{VENISSIEUX}/modifier")
        blocks = blocks_of(page.text)
        assert (blocks["x1-id"], blocks["x1-offset"], blocks["x1-way"]) == ("salles", "60", "avant")
        preview = post_blocks(client, VENISSIEUX, {"x1-offset": "75"})
        assert "« Réserver les salles » passe du" in text_of(preview.text), text_of(preview.text)
        assert confirm(client, preview, VENISSIEUX).status_code == 303
        (rule,) = load_config(admin.config).centres[VENISSIEUX].rules.extra
        assert (rule.id, rule.offset, rule.description) == (
            "salles",
            Offset(amount=-75, unit="d"),
            "Salle 12 et atelier",
        )
        preview = post_blocks(client, VENISSIEUX, {"x1-remove": "1"})
        assert "« Réserver les salles » ne s'applique plus" in text_of(preview.text)
        assert confirm(client, preview, VENISSIEUX).status_code == 303
    centre = load_config(admin.config).centres[VENISSIEUX]
    assert centre.rules.extra == ()
    assert centre.rules.disable == ("dte_reception_check",)
    assert "dte_order" in centre.rules.overrides


def test_a_bad_block_is_refused_next_to_it(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    before = path.read_bytes()
    with admin.logged_in() as client:
        unread = post_blocks(client, STRASBOURG, {**ROOMS, "x1-offset": "deux mois"})
        assert unread.status_code == 400
        page = unescape(unread.text)
        assert 'id="e-x1">échéance « deux mois » illisible (attendu : un nombre de jours' in page
        assert 'name="x1-title" value="Réserver les salles"' in page  # what was typed stays
        loader = post_blocks(client, STRASBOURG, {**ROOMS, "x1-reminders": "500"})
        assert loader.status_code == 400
        assert re.search(r'id="e-x1">[^<]*500', unescape(loader.text)), unescape(loader.text)
    assert path.read_bytes() == before
    assert admin.store.audit_trail() == []


def test_a_new_centre_gets_its_management_advice_deadlines_and_rules(admin: Served) -> None:
    with admin.logged_in() as client:
        page = client.get("/centres/nouveau")
        assert 'name="follow-dte_reception_check" value="1" checked' in page.text
        assert 'id="f-management"' in page.text
        followed = boxes_of(page.text)
        del followed["follow-dte_reception_check"]
        data = {
            **followed,
            **blocks_of(page.text),
            "csrf": csrf_of(page.text),
            "version": version_of(page.text),
            "id": "afpa-colmar",
            "name": "AFPA Colmar",
            "timezone": "Europe/Paris",
            "holiday_zone": "alsace-moselle",
            "sector": "industrie",
            "exam_office_email": "examens.colmar@afpa.example",
            "ud_email": "ddets-68@ddets.example",
            "management": "Claire Weber, direction.colmar@afpa.example, 03 89 00 00 00",
            "offset-dte_order": "100",
            **ROOMS,
        }
        refused = client.post("/centres/nouveau", data={**data, "offset-dte_order": "80"})
        assert refused.status_code == 400
        assert 'id="e-o-dte_order">-80d est plus tardif que la valeur réglementaire -92d' in (
            unescape(refused.text)
        )
        assert "afpa-colmar" not in (admin.config / "centres.yaml").read_text(encoding="utf-8")
        assert client.post("/centres/nouveau", data=data).status_code == 303
    config = load_config(admin.config)
    assert config.problems == []
    colmar = config.centres["afpa-colmar"]
    assert [(p.name, p.email, p.phone) for p in colmar.management] == [
        ("Claire Weber", "direction.colmar@afpa.example", "03 89 00 00 00")
    ]
    assert colmar.rules.disable == ("dte_reception_check",)
    assert colmar.rules.overrides["dte_order"].offset == Offset(amount=-100, unit="d")
    assert [rule.id for rule in colmar.rules.extra] == ["reserver_les_salles"]
