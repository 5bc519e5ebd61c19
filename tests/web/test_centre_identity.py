"""A centre's identity and contacts from the « Centres » page, and a new centre, over HTTP:
the preview, the loader's French problems next to their field, conflicts, roles, and what
reaches ``config/centres.yaml`` and the audit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest

from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import Settings
from syncsvc.inputs.watcher import ConfigSource
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
from tests.web.test_config_pages import text_of, version_of
from tests.web.test_roles import limited

STRASBOURG = "afpa-strasbourg"
ST_ANDRE = "afpar-st-andre"


@pytest.fixture
def admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """USER is an administrator, OTHER a viewer."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, lambda c: _with_roles(c, **{USER: "admin", OTHER: "viewer"})) as s:
        yield s


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """USER coordinates Strasbourg only, OTHER is a viewer."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, limited) as s:
        yield s


def form_values(page: str) -> dict[str, str]:
    """The form's fields as the page shows them (text inputs and selected options)."""
    values = {
        name: unescape(value)
        for name, value in re.findall(
            r'<input type="(?:text|hidden)"[^>]*name="([a-z_]+)" value="([^"]*)"', page
        )
    }
    for name, body in re.findall(
        r'<select id="f-([a-z_]+)" name="[a-z_]+"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        values[name] = chosen.group(1) if chosen else ""
    return values


def edit(
    client: httpx.Client, centre: str, step: str = "verifier", **changes: str
) -> httpx.Response:
    page = client.get(f"/centres/{centre}/modifier")
    assert page.status_code == 200, page.text
    data = {**form_values(page.text), "csrf": csrf_of(page.text), "step": step, **changes}
    return client.post(f"/centres/{centre}/modifier", data=data)


def confirm(client: httpx.Client, preview: httpx.Response, centre: str) -> httpx.Response:
    assert preview.status_code == 200, preview.text
    data = {**form_values(preview.text), "csrf": csrf_of(preview.text), "step": "confirmer"}
    return client.post(f"/centres/{centre}/modifier", data=data)


def test_the_organizer_is_previewed_then_saved_keeping_the_file_comments(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    before = path.read_text(encoding="utf-8")
    daemon = ConfigSource(admin.config, admin.settings.ruleset)  # the daemon's own watcher
    assert daemon.current().centres[STRASBOURG].organizer is None
    with admin.logged_in() as client:
        preview = edit(
            client,
            STRASBOURG,
            organizer="jury.strasbourg@afpa.example",
            ud_name="DDETS du Bas-Rhin",
        )
        shown = text_of(preview.text)
        assert "Rien n'est encore enregistré" in shown
        assert (
            "Les prochaines invitations du jury de ce centre auront pour organisateur "
            "jury.strasbourg@afpa.example (au lieu de examens.strasbourg@afpa.example)" in shown
        )
        assert "« la DDETS du Bas-Rhin (ddets-67-titres@ddets.example) »" in shown
        assert "1 session de ce centre sera mise à jour" in shown
        assert path.read_text(encoding="utf-8") == before  # nothing written by the preview
        done = confirm(client, preview, STRASBOURG)
        assert done.status_code == 303
        listed = client.get(done.headers["location"])
        assert "Coordonnées du centre « afpa-strasbourg » enregistrées" in unescape(listed.text)
    centre = load_config(admin.config).centres[STRASBOURG]
    assert centre.organizer_email == "jury.strasbourg@afpa.example"
    assert centre.ud_name == "DDETS du Bas-Rhin"
    after = path.read_text(encoding="utf-8")
    assert "# Training centres: one block per centre" in after
    assert "holiday_zone: alsace-moselle      # adds Good Friday and 26 December" in after
    assert after.count("\n") == before.count("\n") + 2  # two keys added, nothing else moved
    (entry,) = admin.store.audit_trail()
    assert (entry.user, entry.action) == (USER, "centres")
    assert daemon.changed()  # its next poll reloads, and sees the new organizer
    assert daemon.current().centres[STRASBOURG].organizer_email == "jury.strasbourg@afpa.example"


def test_a_bad_email_gets_the_validate_message_next_to_its_field(admin: Served) -> None:
    before = (admin.config / "centres.yaml").read_bytes()
    with admin.logged_in() as client:
        refused = edit(
            client, STRASBOURG, exam_office_email="pas-une-adresse", timezone="Mars/Olympus"
        )
    assert refused.status_code == 400
    page = unescape(refused.text)
    assert (
        'id="e-exam_office_email">adresse e-mail « pas-une-adresse » invalide (attendu : '
        "nom@domaine.fr)</span>" in page
    )
    assert 'id="e-timezone">fuseau horaire « Mars/Olympus » inconnu' in page
    assert 'value="pas-une-adresse"' in page  # what was typed is kept
    assert (admin.config / "centres.yaml").read_bytes() == before
    assert admin.store.audit_trail() == []


def test_an_emptied_required_field_is_refused_and_an_article_too(admin: Served) -> None:
    with admin.logged_in() as client:
        refused = edit(client, STRASBOURG, ud_email="", ud_name="la DDETS")
    assert refused.status_code == 400
    page = unescape(refused.text)
    assert 'id="e-ud_email">' in page
    assert 'id="e-ud_name">nom du service de l\'État « la DDETS » écrit avec son article' in page


def test_a_file_changed_meanwhile_is_a_conflict_and_nothing_is_overwritten(admin: Served) -> None:
    path = admin.config / "centres.yaml"
    with admin.logged_in() as client:
        preview = edit(client, STRASBOURG, organizer="jury.strasbourg@afpa.example")
        assert preview.status_code == 200
        meanwhile = path.read_text(encoding="utf-8").replace(
            'name: "AFPA Strasbourg"', 'name: "AFPA Strasbourg — Meinau"'
        )
        path.write_text(meanwhile, encoding="utf-8")
        conflict = confirm(client, preview, STRASBOURG)
        assert conflict.status_code == 409
        assert "a été modifié depuis l'ouverture du formulaire" in unescape(conflict.text)
        # The check step sees it too, from a form opened before the change.
        page = client.get(f"/centres/{STRASBOURG}/modifier")
        data = {**form_values(page.text), "csrf": csrf_of(page.text), "step": "verifier"}
        path.write_text(meanwhile + "\n# une ligne de plus\n", encoding="utf-8")
        assert client.post(f"/centres/{STRASBOURG}/modifier", data=data).status_code == 409
    assert path.read_text(encoding="utf-8") == meanwhile + "\n# une ligne de plus\n"
    assert admin.store.audit_trail() == []


def new_centre(client: httpx.Client, **values: str) -> httpx.Response:
    page = client.get("/centres/nouveau")
    assert page.status_code == 200
    data = {
        "csrf": csrf_of(page.text),
        "version": version_of(page.text),
        "id": "afpa-colmar",
        "name": "AFPA Colmar",
        "timezone": "Europe/Paris",
        "holiday_zone": "alsace-moselle",
        "sector": "industrie",
        "exam_office_email": "examens.colmar@afpa.example",
        "ud_email": "ddets-68@ddets.example",
        **values,
    }
    return client.post("/centres/nouveau", data=data)


def test_an_administrator_adds_a_centre_with_a_free_well_formed_key(admin: Served) -> None:
    with admin.logged_in() as client:
        taken = new_centre(client, id=STRASBOURG)
        assert taken.status_code == 400
        assert (
            'id="e-id">clé « afpa-strasbourg » déjà prise par le centre « AFPA Strasbourg »'
            in unescape(taken.text)
        )
        bad = new_centre(client, id="AFPA Colmar")
        assert bad.status_code == 400
        assert 'id="e-id">clé « AFPA Colmar » mal formée (attendu : minuscules' in unescape(
            bad.text
        )
        missing = new_centre(client, exam_office_email="", sector="")
        assert missing.status_code == 400
        assert 'id="e-exam_office_email">' in missing.text
        assert 'id="e-sector">' in missing.text
        done = new_centre(client)
        assert done.status_code == 303
        listed = client.get(done.headers["location"])
        assert "Centre « afpa-colmar » ajouté" in unescape(listed.text)
    config = load_config(admin.config)
    assert config.problems == []
    colmar = config.centres["afpa-colmar"]
    assert (colmar.name, colmar.holiday_zone, colmar.organizer_email) == (
        "AFPA Colmar",
        "alsace-moselle",
        "examens.colmar@afpa.example",
    )
    assert [e.action for e in admin.store.audit_trail()] == ["centres"]


def test_a_coordinator_changes_its_centres_only_and_a_viewer_reads(roles: Served) -> None:
    before = (roles.config / "centres.yaml").read_bytes()
    with roles.logged_in() as client:
        page = client.get("/centres")
        assert page.status_code == 200
        assert f"/centres/{STRASBOURG}/modifier" in page.text
        assert f"/centres/{STRASBOURG}/agrements" in page.text
        assert f"/centres/{ST_ANDRE}/modifier" not in page.text
        assert f"/centres/{ST_ANDRE}/agrements" not in page.text
        assert "/centres/nouveau" not in page.text
        assert "/retirer" not in page.text
        for where in (f"/centres/{ST_ANDRE}/modifier", f"/centres/{ST_ANDRE}/agrements"):
            refused = client.get(where)
            assert refused.status_code == 403
            assert "Centre d'un autre coordinateur" in unescape(refused.text)
            assert '<html lang="fr">' in refused.text
        forged = {"csrf": csrf_of(page.text), "version": "", "name": "X"}
        assert client.post(f"/centres/{ST_ANDRE}/modifier", data=forged).status_code == 403
        assert client.get("/centres/nouveau").status_code == 403
        assert client.get(f"/centres/{STRASBOURG}/agrements").status_code == 200
    assert (roles.config / "centres.yaml").read_bytes() == before
    with roles.logged_in(OTHER, OTHER_PASSWORD) as client:
        page = client.get("/centres")
        assert page.status_code == 200
        assert "AFPA Strasbourg" in page.text
        assert "/modifier" not in page.text
        assert "/agrements" not in page.text
        refused = client.get(f"/centres/{STRASBOURG}/modifier")
        assert refused.status_code == 403
        assert "consulter les centres, pas de les modifier" in unescape(refused.text)
        forged = {"csrf": csrf_of(page.text), "version": "", "name": "X"}
        assert client.post(f"/centres/{STRASBOURG}/modifier", data=forged).status_code == 403
    assert (roles.config / "centres.yaml").read_bytes() == before
    with roles.logged_in() as client:  # …and its own centre is saved
        done = confirm(client, edit(client, STRASBOURG, phone="03 88 00 00 00"), STRASBOURG)
        assert done.status_code == 303
    assert load_config(roles.config).centres[STRASBOURG].phone == "03 88 00 00 00"


def test_a_coordinator_whose_account_lists_no_centre_changes_every_centre(served: Served) -> None:
    with served.logged_in() as client:  # USER: a coordinator without `centres`
        page = client.get("/centres")
        assert f"/centres/{ST_ANDRE}/modifier" in page.text
        done = confirm(client, edit(client, ST_ANDRE, short_name="St-André"), ST_ANDRE)
        assert done.status_code == 303
    assert load_config(served.config).centres[ST_ANDRE].written_short_name == "St-André"


# --- the organizer and the mailboxes the service reads ----------------------------------------

INBOX_TOML = """
[mail.inbox]
host = "imap.afpa.example"
username = "releve-jury"                  # a login, not an address: `address` says which
address = "jury@afpa.example"
aliases = ["Jury.Strasbourg@AFPA.example"]
password_env = "SYNCSVC_TEST_UNUSED_IMAP_PASSWORD"
"""


def _reading_one_inbox(config: Path) -> Settings:
    """The example settings plus a ``[mail.inbox]`` table in ``syncsvc.toml`` itself (read by
    the loader like any deployment's), receiving two AFPA addresses."""
    toml = config / "syncsvc.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + INBOX_TOML, encoding="utf-8")
    return _with_roles(config, **{USER: "admin"})


@pytest.fixture
def reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.delenv("SYNCSVC_SETTINGS", raising=False)
    with serve(tmp_path, _reading_one_inbox) as s:
        yield s


def test_the_preview_warns_when_no_read_mailbox_receives_the_new_organizer(
    reading: Served,
) -> None:
    assert [i.settings.received_addresses for i in reading.settings.mail.all_inboxes()] == [
        ("jury@afpa.example", "jury.strasbourg@afpa.example")  # addresses read in lower case
    ]
    path = reading.config / "centres.yaml"
    before = path.read_bytes()
    warning = "Attention : aucune boîte lue ([mail.inbox]) ne reçoit cette adresse"
    with reading.logged_in() as client:
        received = {
            address: text_of(edit(client, STRASBOURG, organizer=address).text)
            for address in ("jury@afpa.example", "jury.strasbourg@afpa.example")
        }
        missed = edit(client, STRASBOURG, organizer="jury.colmar@afpa.example")
    for address, shown in received.items():
        assert f"auront pour organisateur {address}" in shown
        assert "Attention" not in shown, address  # `address` and an alias both count
    assert missed.status_code == 200
    consequences = missed.text.split('id="consequences"')[1].split("</ul>")[0]
    assert '<li class="warn">' + warning in unescape(consequences)
    assert (
        f"{warning} ; les réponses du jury n'y seront pas relevées (attendu : dans "
        "syncsvc.toml, cette adresse en address ou dans aliases de la table de la boîte où elle "
        "arrive, ou une table [mail.inboxes.<nom>] pour cette boîte ; ou un organizer qu'une "
        "boîte lue reçoit)."
    ) in text_of(missed.text)
    assert path.read_bytes() == before  # a preview writes nothing
