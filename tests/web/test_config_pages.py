"""The « Annuaire du jury » and « Centres » pages over HTTP: roles, CSRF, what they list, what
they refuse, and what reaches ``config/`` and the audit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest

from syncsvc.inputs.loader import load_config
from tests.web.conftest import (
    OTHER,
    OTHER_PASSWORD,
    SECRET,
    SECRET_ENV,
    USER,
    Served,
    csrf_of,
    serve,
)
from tests.web.test_candidate_privacy import _with_roles

HOAREAU = "s.hoareau@jury.example"
_VERSION = re.compile(r'name="version" value="([^"]*)"')


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """USER is an administrator, OTHER a viewer."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, lambda c: _with_roles(c, **{USER: "admin", OTHER: "viewer"})) as s:
        yield s


def version_of(html: str) -> str:
    found = _VERSION.search(html)
    assert found is not None
    return found.group(1)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def juror_form(client: httpx.Client, **values: str) -> httpx.Response:
    page = client.get("/annuaire-jury/nouveau")
    assert page.status_code == 200
    data = {
        "csrf": csrf_of(page.text),
        "version": version_of(page.text),
        "mode": "new",
        "email": "m.payet@jury.example",
        "name": "Marie Payet",
        "titles": "TP-00374",
        "habilitation_until": "30/06/2028",
        **values,
    }
    return client.post("/annuaire-jury/enregistrer", data=data)


def test_a_viewer_reads_the_directory_but_cannot_change_it(roles: Served) -> None:
    before = (roles.config / "jury.yaml").read_bytes()
    with roles.logged_in(OTHER, OTHER_PASSWORD) as client:
        page = client.get("/annuaire-jury")
        assert page.status_code == 200
        assert "Sophie Hoareau" in page.text
        assert "Ajouter un membre du jury" not in page.text
        assert "/annuaire-jury/modifier" not in page.text
        assert client.get("/annuaire-jury/nouveau").status_code == 403
        assert client.get(f"/annuaire-jury/modifier?email={HOAREAU}").status_code == 403
        refused = client.post(
            "/annuaire-jury/enregistrer",
            data={"csrf": csrf_of(page.text), "mode": "new", "email": "x@jury.example"},
        )
        assert refused.status_code == 403
        assert "pas de le modifier" in refused.text
        centres = client.get("/centres")  # read only: no button
        assert centres.status_code == 200
        assert "/agrements" not in centres.text
        assert "/retirer" not in centres.text
    assert (roles.config / "jury.yaml").read_bytes() == before
    assert roles.store.audit_trail() == []


def test_a_form_without_its_csrf_token_is_refused(roles: Served) -> None:
    before = (roles.config / "centres.yaml").read_bytes()
    with roles.logged_in() as client:
        page = client.get("/centres")
        data = {"version": version_of(page.text), "csrf": "faux"}
        assert client.post("/centres/afpa-strasbourg/retirer", data=data).status_code == 403
        assert juror_form(client, csrf="faux").status_code == 403
    assert (roles.config / "centres.yaml").read_bytes() == before
    assert roles.store.audit_trail() == []


def test_a_coordinator_cannot_remove_or_add_a_centre(served: Served) -> None:
    before = (served.config / "centres.yaml").read_bytes()
    with served.logged_in() as client:  # USER is a coordinator here
        page = client.get("/centres")
        assert "/retirer" not in page.text
        assert "/centres/nouveau" not in page.text
        data = {"csrf": csrf_of(page.text), "version": ""}
        refused = client.post("/centres/afpa-strasbourg/retirer", data=data)
        assert refused.status_code == 403
        assert "Seul un administrateur peut retirer un centre" in unescape(refused.text)
        assert client.post("/centres/nouveau", data={**data, "id": "x-y"}).status_code == 403
        # …but edits the directory.
        assert juror_form(client).status_code == 303
    assert (served.config / "centres.yaml").read_bytes() == before
    assert "m.payet@jury.example" in load_config(served.config).jury.jurors


def test_expiries_are_those_of_the_next_90_days_soonest_first(served: Served) -> None:
    directory = served.config / "jury.yaml"
    directory.write_text(
        directory.read_text(encoding="utf-8")
        + "\nz.tard@jury.example: {name: Zoé Tard, titles: [TP-00374], "
        "habilitation_until: 2027-05-09}\n"
        "a.tot@jury.example: {name: Anne Tôt, titles: [TP-00374], "
        "habilitation_until: 2027-02-08}\n"
        "h.hors@jury.example: {name: Hugo Hors, titles: [TP-00374], "
        "habilitation_until: 2027-05-10}\n"
        "p.passe@jury.example: {name: Paul Passé, titles: [TP-00374], "
        "habilitation_until: 2027-02-07}\n",
        encoding="utf-8",
    )
    with served.logged_in() as client:
        page = client.get("/annuaire-jury")
    section = page.text.split('id="echeances"')[1].split("</section>")[0]
    assert re.findall(r'<li data-email="([^"]+)"', section) == [
        "a.tot@jury.example",
        HOAREAU,
        "z.tard@jury.example",
    ]
    assert "Du 08/02/2027 au 09/05/2027" in text_of(section)
    passed = page.text.split('data-email="p.passe@jury.example"')[1].split("</tr>")[0]
    assert "(échue)" in passed


def test_an_edit_keeps_comments_and_an_unchanged_form_writes_nothing(served: Served) -> None:
    directory = served.config / "jury.yaml"
    with served.logged_in() as client:
        form = client.get(f"/annuaire-jury/modifier?email={HOAREAU}")
        assert form.status_code == 200
        data = {
            "csrf": csrf_of(form.text),
            "version": version_of(form.text),
            "mode": "edit",
            "email": HOAREAU,
            "name": "Sophie Hoareau",
            "phone": "0262 45 67 89",
            "company": "Hoareau Secrétariat",
            "titles": "TP-00374, TP-00391",
            "ccp": "",
            "habilitation_until": "30/04/2027",
        }
        before = directory.read_bytes()
        assert client.post("/annuaire-jury/enregistrer", data=data).status_code == 303
        assert directory.read_bytes() == before
        assert served.store.audit_trail() == []
        data.update(ccp="CP-00412 CP-00413", company="")
        assert client.post("/annuaire-jury/enregistrer", data=data).status_code == 303
    text = directory.read_text(encoding="utf-8")
    assert "# habilitation limited to these CCPs" in text
    juror = load_config(served.config).jury.jurors[HOAREAU]
    assert juror.ccp == ("CP-00412", "CP-00413")
    assert juror.company is None
    (entry,) = served.store.audit_trail()
    assert set(entry.changes) == {
        (f"{HOAREAU}.company", "Hoareau Secrétariat", None),
        (f"{HOAREAU}.ccp.1", None, "CP-00412"),
        (f"{HOAREAU}.ccp.2", None, "CP-00413"),
    }


def test_the_form_refuses_in_the_loaders_words_next_to_each_field(served: Served) -> None:
    with served.logged_in() as client:
        refused = juror_form(client, titles="SA", name="", phone="12abc")
        assert refused.status_code == 400
        again = juror_form(client, email=HOAREAU)
    html = refused.text
    assert re.search(r'id="e-titles">valeur « SA » mal formée \(attendu : un code de titre', html)
    assert 'id="e-name">' in html
    assert 'id="e-phone">numéro de téléphone « 12abc » illisible' in html
    assert again.status_code == 400
    assert 'id="e-email">adresse déjà présente dans l&#39;annuaire' in again.text
    assert "m.payet@jury.example" not in (served.config / "jury.yaml").read_text("utf-8")
    assert served.store.audit_trail() == []


def test_a_session_reads_the_changed_juror_from_the_directory(served: Served) -> None:
    """The session that takes Yasmina Haddad from the directory sees the new date (typed in
    ISO here: read too)."""
    with served.logged_in() as client:
        form = client.get("/annuaire-jury/modifier?email=y.haddad@jury.example")
        data = {
            "csrf": csrf_of(form.text),
            "version": version_of(form.text),
            "mode": "edit",
            "email": "y.haddad@jury.example",
            "name": "Yasmina Haddad",
            "titles": "TP-01280",
            "habilitation_until": "2026-12-31",  # ISO is read too
        }
        assert client.post("/annuaire-jury/enregistrer", data=data).status_code == 303
    config = load_config(served.config)
    assert "dwwm-2027-06-venissieux" in config.sessions
    assert str(config.sessions["dwwm-2027-06-venissieux"].jury[2].habilitation_until) == (
        "2026-12-31"
    )


def test_a_broken_directory_is_shown_and_not_edited_from_the_page(served: Served) -> None:
    directory = served.config / "jury.yaml"
    directory.write_text("t.girard@jury.example: [\n", encoding="utf-8")
    with served.logged_in() as client:
        page = client.get("/annuaire-jury")
        assert page.status_code == 200
        assert "Erreurs dans jury.yaml" in page.text
        assert "ligne " in text_of(page.text)
        assert client.get("/annuaire-jury/nouveau").status_code == 409
        data = {"csrf": csrf_of(page.text), "version": "", "mode": "new", "email": "a@b.example"}
        refused = client.post("/annuaire-jury/enregistrer", data=data)
        assert refused.status_code == 409
        assert "le corriger dans le fichier avant de le modifier ici" in refused.text
    assert directory.read_text(encoding="utf-8") == "t.girard@jury.example: [\n"


def test_the_directory_is_created_by_the_first_juror(served: Served) -> None:
    (served.config / "jury.yaml").unlink()
    session = served.config / "sessions" / "dwwm-2027-06-venissieux.yaml"
    session.unlink()
    with served.logged_in() as client:
        page = client.get("/annuaire-jury")
        assert "jury.yaml</code> sera créé au premier membre ajouté" in page.text
        assert juror_form(client).status_code == 303
    config = load_config(served.config)
    assert config.problems == []
    assert list(config.jury.jurors) == ["m.payet@jury.example"]
    (entry,) = served.store.audit_trail()
    assert entry.action == "jury_directory"


def test_agrement_rows_are_added_removed_and_checked(roles: Served) -> None:
    with roles.logged_in() as client:
        form = client.get("/centres/afpa-strasbourg/agrements")
        assert form.status_code == 200
        base = {"csrf": csrf_of(form.text), "version": version_of(form.text), "rows": "2"}
        row0 = {
            "a0-title_code": "TP-00407",
            "a0-until": "31/01/2030",
            "a0-max_candidates": "10",
            "a0-title_version": "",
            "a0-session_managers": "",
        }
        bad = {
            "a1-title_code": "TP-01280",
            "a1-until": "31/13/2030",
            "a1-max_candidates": "zéro",
            "a1-title_version": "",
            "a1-session_managers": "pas-une-adresse",
        }
        refused = client.post("/centres/afpa-strasbourg/agrements", data={**base, **row0, **bad})
        assert refused.status_code == 400
        assert 'id="e1-until">date « 31/13/2030 » illisible (attendu : jj/mm/aaaa' in refused.text
        assert 'id="e1-max_candidates">' in refused.text
        assert 'id="e1-session_managers">adresse e-mail « pas-une-adresse »' in refused.text
        good = {
            **bad,
            "a1-until": "30/06/2029",
            "a1-max_candidates": "12",
            "a1-session_managers": "",
        }
        good["a1-title_version"] = "2024"
        done = client.post("/centres/afpa-strasbourg/agrements", data={**base, **row0, **good})
        assert done.status_code == 303
        form = client.get("/centres/afpa-strasbourg/agrements")
        base = {"csrf": csrf_of(form.text), "version": version_of(form.text), "rows": "2"}
        removed = {**row0, **good, "a0-remove": "1"}
        assert (
            client.post("/centres/afpa-strasbourg/agrements", data={**base, **removed}).status_code
            == 303
        )
    (agrement,) = load_config(roles.config).centres["afpa-strasbourg"].agrements
    assert (agrement.title_code, agrement.title_version) == ("TP-01280", "2024")
    assert [e.action for e in roles.store.audit_trail()] == ["centres", "centres"]


def test_a_centre_nobody_uses_can_be_removed(roles: Served, tmp_path: Path) -> None:
    (roles.config / "sessions" / "tee-2027-04-strasbourg.yaml").unlink()
    with roles.logged_in() as client:
        page = client.get("/centres")
        data = {"csrf": csrf_of(page.text), "version": version_of(page.text)}
        done = client.post("/centres/afpa-strasbourg/retirer", data=data)
        assert done.status_code == 303
        assert "Centre « afpa-strasbourg » retiré" in client.get(done.headers["location"]).text
    assert "afpa-strasbourg" not in load_config(roles.config).centres
    (entry,) = roles.store.audit_trail()
    assert entry.user == USER


def test_the_session_page_shows_where_it_differs_from_the_directory(served: Served) -> None:
    session = served.config / "sessions" / "dwwm-2027-06-venissieux.yaml"
    text = session.read_text(encoding="utf-8")
    girard = "{email: t.girard@jury.example}"
    session.write_text(text.replace(girard, girard.replace("}", ", company: X}")), encoding="utf-8")
    with served.logged_in() as client:
        page = client.get("/sessions/dwwm-2027-06-venissieux")
        other = client.get("/sessions/sa-2027-03-st-andre")
        directory = client.get("/annuaire-jury")
    assert page.status_code == 200
    section = text_of(page.text.split('id="ecarts-annuaire"')[1].split("</section>")[0])
    assert "jury[2].company : « X » ici, « ESN Rhône » dans l'annuaire jury.yaml" in section
    assert 'id="ecarts-annuaire"' not in other.text
    assert "« X » ici, « ESN Rhône »" in text_of(directory.text)
