"""A centre's management, working-day shift and candidates' mail from the « Centres » page,
over HTTP: the preview says which milestones move or start applying and who receives what, a
bad value gets the loader's French problem next to its field and nothing is written, the file
keeps its comments, the audit records the change, and roles hold."""

from __future__ import annotations

import re
from html import unescape

import httpx

from syncsvc.inputs.loader import load_config
from tests.web.conftest import USER, Served, csrf_of
from tests.web.test_centre_identity import (
    ST_ANDRE,
    STRASBOURG,
    admin,
    form_values,
    roles,
)
from tests.web.test_config_pages import text_of

__all__ = ["admin", "roles"]


def values_of(page: str) -> dict[str, str]:
    """The form's fields, text areas included."""
    values = form_values(page)
    for name, body in re.findall(
        r'<textarea id="f-[a-z_]+" name="([a-z_]+)"[^>]*>(.*?)</textarea>', page, re.S
    ):
        values[name] = unescape(body)
    return values


def edit(client: httpx.Client, centre: str, **changes: str) -> httpx.Response:
    page = client.get(f"/centres/{centre}/modifier")
    assert page.status_code == 200, page.text
    data = {**values_of(page.text), "csrf": csrf_of(page.text), "step": "verifier", **changes}
    return client.post(f"/centres/{centre}/modifier", data=data)


def confirm(client: httpx.Client, preview: httpx.Response, centre: str) -> httpx.Response:
    assert preview.status_code == 200, preview.text
    data = {**form_values(preview.text), "csrf": csrf_of(preview.text), "step": "confirmer"}
    return client.post(f"/centres/{centre}/modifier", data=data)


def test_working_day_shift_off_previews_the_milestones_that_move(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    before = path.read_text(encoding="utf-8")
    with admin.logged_in() as client:
        preview = edit(client, STRASBOURG, working_day_shift="non", candidate_info_mail="oui")
        shown = text_of(preview.text)
        assert "Échéances sur un jour ouvré oui non" in shown
        assert "Le mail d'information aux candidats non oui" in shown
        # 22/01/2027 is a Friday: the Sunday it was moved from comes back (the one planner)
        assert (
            "Session tee-2027-04-strasbourg : « Créer la session dans CERES » passe du "
            "22/01/2027 au 24/01/2027" in shown
        )
        assert (
            "« Mail de rappel aux candidats (documents à apporter) » s'ajoute (le 23/04/2027)"
            in shown
        )
        assert (
            "Les candidats inscrits avec une adresse e-mail recevront, quelques jours avant "
            "chaque session du centre, ce qu'ils doivent apporter." in shown
        )
        assert path.read_text(encoding="utf-8") == before  # nothing written by the preview
        done = confirm(client, preview, STRASBOURG)
        assert done.status_code == 303
    centre = load_config(admin.config).centres[STRASBOURG]
    assert (centre.working_day_shift, centre.candidate_info_mail) == (False, True)
    after = path.read_text(encoding="utf-8")
    assert "holiday_zone: alsace-moselle      # adds Good Friday and 26 December" in after
    assert after.count("\n") == before.count("\n") + 2  # two keys added, nothing else moved
    (entry,) = admin.store.audit_trail()
    assert (entry.user, entry.action) == (USER, "centres")
    assert entry.changes == (
        ("afpa-strasbourg.working_day_shift", None, "non"),
        ("afpa-strasbourg.candidate_info_mail", None, "oui"),
    )


def test_a_bad_yes_no_value_is_refused_next_to_its_field(admin: Served) -> None:
    before = (admin.config / "centres.yaml").read_bytes()
    with admin.logged_in() as client:
        refused = edit(client, STRASBOURG, working_day_shift="peut-être")
    assert refused.status_code == 400
    page = unescape(refused.text)
    assert re.search(r'id="e-working_day_shift">[^<]*peut-être', page), page
    assert (admin.config / "centres.yaml").read_bytes() == before
    assert admin.store.audit_trail() == []


def test_management_is_previewed_then_saved_and_a_bad_line_is_refused(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    before = path.read_text(encoding="utf-8")
    with admin.logged_in() as client:
        page = client.get(f"/centres/{ST_ANDRE}/modifier")
        assert values_of(page.text)["management"] == (
            "Marie-Josée Payet, direction.st-andre@afpar.example"
        )
        refused = edit(
            client,
            ST_ANDRE,
            management="Marie-Josée Payet, direction.st-andre@afpar.example\nJean Hoarau, jean",
        )
        assert refused.status_code == 400
        shown = unescape(refused.text)
        assert re.search(r'id="e-management">ligne 2 : [^<]*« jean »', shown), shown
        assert path.read_text(encoding="utf-8") == before
        preview = edit(client, ST_ANDRE, management="Jean Hoarau, j.hoarau@afpar.example")
        shown = text_of(preview.text)
        assert (
            "Jean Hoarau (j.hoarau@afpar.example) recevra les rappels adressés à la direction "
            "du centre et le récapitulatif de la semaine." in shown
        )
        assert (
            "Marie-Josée Payet (direction.st-andre@afpar.example) ne recevra plus les rappels "
            "adressés à la direction du centre ni le récapitulatif de la semaine." in shown
        )
        assert path.read_text(encoding="utf-8") == before
        assert confirm(client, preview, ST_ANDRE).status_code == 303
    centre = load_config(admin.config).centres[ST_ANDRE]
    assert [(p.name, p.email) for p in centre.management] == [
        ("Jean Hoarau", "j.hoarau@afpar.example")
    ]
    assert "timezone: Indian/Reunion          # IANA time zone of the centre" in path.read_text(
        encoding="utf-8"
    )
    (entry,) = admin.store.audit_trail()
    assert entry.action == "centres"
    assert any(field.startswith("afpar-st-andre.management") for field, _, _ in entry.changes)


def test_a_coordinator_changes_the_management_of_its_centres_only(roles: Served) -> None:
    before = (roles.config / "centres.yaml").read_bytes()
    with roles.logged_in() as client:
        page = client.get(f"/centres/{ST_ANDRE}/modifier")
        assert page.status_code == 403
        mine = edit(client, STRASBOURG, management="Paul Muller, direction@afpa.example")
        assert mine.status_code == 200
        assert "Paul Muller (direction@afpa.example) recevra" in text_of(mine.text)
        page = client.get(f"/centres/{STRASBOURG}/modifier")
        data = {
            **values_of(page.text),
            "csrf": csrf_of(page.text),
            "step": "confirmer",
            "management": "Paul Muller, direction@afpa.example",
        }
        assert client.post(f"/centres/{ST_ANDRE}/modifier", data=data).status_code == 403
    assert (roles.config / "centres.yaml").read_bytes() == before


def test_an_advice_rule_turned_off_is_previewed_and_written_under_rules(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    before = path.read_text(encoding="utf-8")
    with admin.logged_in() as client:
        page = client.get(f"/centres/{STRASBOURG}/modifier")
        assert 'name="follow-dte_reception_check" value="1" checked' in page.text
        data = {
            **values_of(page.text),
            "csrf": csrf_of(page.text),
            "step": "verifier",
            "rules-shown": "agrement_check dte_reception_check candidate_info_mail",
            "follow-agrement_check": "1",
            "follow-candidate_info_mail": "1",
        }  # dte_reception_check unticked
        preview = client.post(f"/centres/{STRASBOURG}/modifier", data=data)
        shown = text_of(preview.text)
        assert (
            "« Pli d'examen reçu ? Sinon contacter le service des examens » ne s'applique plus"
            in shown
        ), shown
        assert path.read_text(encoding="utf-8") == before
        assert confirm(client, preview, STRASBOURG).status_code == 303
    centre = load_config(admin.config).centres[STRASBOURG]
    assert centre.rules.disable == ("dte_reception_check",)
    (entry,) = admin.store.audit_trail()
    assert entry.changes == (("afpa-strasbourg.rules.disable.1", None, "dte_reception_check"),)


def test_turning_a_rule_back_on_keeps_the_centres_overrides(admin: Served) -> None:
    venissieux = "greta-lyon-venissieux"
    with admin.logged_in() as client:
        page = client.get(f"/centres/{venissieux}/modifier")
        assert 'name="follow-dte_reception_check" value="1">' in page.text  # off there
        data = {
            **values_of(page.text),
            "csrf": csrf_of(page.text),
            "step": "verifier",
            "rules-shown": "dte_reception_check",
            "follow-dte_reception_check": "1",
        }
        preview = client.post(f"/centres/{venissieux}/modifier", data=data)
        assert "« Pli d'examen reçu ? Sinon contacter le service des examens » s'ajoute" in (
            text_of(preview.text)
        )
        assert confirm(client, preview, venissieux).status_code == 303
    centre = load_config(admin.config).centres[venissieux]
    assert centre.rules.disable == ()
    assert "dte_order" in centre.rules.overrides
    text = (admin.config / "centres.yaml").read_text(encoding="utf-8")
    assert 'dte_order: {offset: "-100d"}            # a week of margin on the DTE order' in text


def test_a_regulatory_rule_cannot_be_turned_off(admin: Served) -> None:
    before = (admin.config / "centres.yaml").read_bytes()
    with admin.logged_in() as client:
        page = client.get(f"/centres/{STRASBOURG}/modifier")
        data = {
            **values_of(page.text),
            "csrf": csrf_of(page.text),
            "step": "verifier",
            "rules-shown": "dte_order",  # a forged box: the loader still says no
        }
        refused = client.post(f"/centres/{STRASBOURG}/modifier", data=data)
    assert refused.status_code == 400
    assert (
        'id="e-rules">« dte_order » est réglementaire et ne peut pas être désactivée'
        in unescape(refused.text)
    )
    assert (admin.config / "centres.yaml").read_bytes() == before


def test_a_person_kept_keeps_the_phone_shown_on_the_form(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "email: direction.st-andre@afpar.example}",
            'email: direction.st-andre@afpar.example, phone: "0262 11 11 11"}',
        ),
        encoding="utf-8",
    )
    with admin.logged_in() as client:
        page = client.get(f"/centres/{ST_ANDRE}/modifier")
        assert values_of(page.text)["management"] == (
            "Marie-Josée Payet, direction.st-andre@afpar.example, 0262 11 11 11"
        )
        preview = edit(
            client,
            ST_ANDRE,
            management="Marie-Josée Payet, direction.st-andre@afpar.example, 0262 11 11 11\r\n"
            "Jean Hoarau, j.hoarau@afpar.example",
        )
        assert "Marie-Josée Payet (direction" not in text_of(preview.text)  # she stays
        assert confirm(client, preview, ST_ANDRE).status_code == 303
    payet, hoarau = load_config(admin.config).centres[ST_ANDRE].management
    assert (payet.name, payet.phone) == ("Marie-Josée Payet", "0262 11 11 11")
    assert (hoarau.email, hoarau.phone) == ("j.hoarau@afpar.example", None)
    (entry,) = admin.store.audit_trail()
    assert entry.changes == (
        ("afpar-st-andre.management.2.name", None, "Jean Hoarau"),
        ("afpar-st-andre.management.2.email", None, "j.hoarau@afpar.example"),
    )


def test_a_phone_is_added_changed_or_refused_on_its_line(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    before = path.read_bytes()
    with admin.logged_in() as client:
        refused = edit(
            client,
            ST_ANDRE,
            management="Marie-Josée Payet, direction.st-andre@afpar.example, le matin",
        )
        assert refused.status_code == 400
        assert re.search(
            r'id="e-management">ligne 1 : [^<]*« le matin »', unescape(refused.text)
        ), unescape(refused.text)
        assert path.read_bytes() == before
        preview = edit(
            client,
            ST_ANDRE,
            management="Marie-Josée Payet, direction.st-andre@afpar.example, 0262 22 22 22",
        )
        shown = text_of(preview.text)
        assert (
            "Direction du centre Marie-Josée Payet, direction.st-andre@afpar.example "
            "Marie-Josée Payet, direction.st-andre@afpar.example, 0262 22 22 22" in shown
        ), shown
        assert confirm(client, preview, ST_ANDRE).status_code == 303
    (payet,) = load_config(admin.config).centres[ST_ANDRE].management
    assert (payet.email, payet.phone) == ("direction.st-andre@afpar.example", "0262 22 22 22")
    (entry,) = admin.store.audit_trail()
    assert entry.changes == (("afpar-st-andre.management.1.phone", None, "0262 22 22 22"),)
