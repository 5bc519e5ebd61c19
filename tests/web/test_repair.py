"""« Corriger le fichier » (HTTP level): a session file in error repaired from the dashboard.

A file whose YAML reads but whose fields are invalid opens the session form, pre-filled, the
invalid fields marked with the loader's words; a file whose YAML does not parse opens a text
editor with the line of the error marked. Saving is checked by the loader (a still-invalid text
is refused and kept), keeps a copy of the previous content under ``archive/`` and is written in
the session's history. Roles, CSRF and the confinement to ``config/sessions`` as every other
change. The browser flow is in test_browser_repair.py.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import httpx
import pytest

from syncsvc.cli import main
from syncsvc.inputs.loader import load_config, load_ruleset
from tests.web.conftest import NOW, OTHER, OTHER_PASSWORD, SESSION_ID, USER, Served, csrf_of
from tests.web.test_authoring import errors_of, inputs_of, jury_news, notified
from tests.web.test_roles import TEE, roles  # noqa: F401 - the fixture of the limited roles

FIX_URL = f"/sessions/{SESSION_ID}/corriger"


def _path(served: Served, session_id: str = SESSION_ID) -> Path:
    return served.config / "sessions" / f"{session_id}.yaml"


def break_fields(served: Served, session_id: str = SESSION_ID) -> str:
    """Two invalid fields, readable YAML: an impossible end, a count in words."""
    path = _path(served, session_id)
    good = path.read_text(encoding="utf-8")
    broken = good.replace("end: 2027-03-19", "end: 2027-13-45").replace(
        "training: 10", "training: dix"
    )
    assert broken != good
    path.write_text(broken, encoding="utf-8")
    return broken


def break_syntax(served: Served, session_id: str = SESSION_ID) -> str:
    """A list opened on line 7 and never closed (said on line 8): the YAML does not parse."""
    path = _path(served, session_id)
    good = path.read_text(encoding="utf-8")
    broken = re.sub(r"^start: ", "start: [", good, count=1, flags=re.M)
    assert broken != good
    path.write_text(broken, encoding="utf-8")
    return broken


def textarea_of(page: str) -> str:
    found = re.search(r'<textarea id="text" name="text"[^>]*>\n?(.*?)</textarea>', page, re.S)
    assert found is not None, "no text editor on the page"
    return html.unescape(found.group(1))


def hidden_of(page: str) -> dict[str, str]:
    """The hidden fields of a page's forms (the preview's: what the confirmation posts)."""
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in found}


def previewed(client: httpx.Client, form: dict[str, str]) -> httpx.Response:
    """Posting a valid repair shows what it will change; nothing is written yet."""
    shown = client.post(FIX_URL, data=form)
    assert shown.status_code == 200, shown.text
    assert "Ce que la correction va changer" in html.unescape(shown.text)
    assert "Confirmer la correction" in shown.text
    return shown


def confirm(client: httpx.Client, preview: str, **more: str) -> httpx.Response:
    return client.post(FIX_URL, data={**hidden_of(preview), "confirm": "1", **more})


def save(client: httpx.Client, form: dict[str, str]) -> httpx.Response:
    """A repair previewed, then confirmed as previewed."""
    return confirm(client, previewed(client, form).text)


def validates(served: Served) -> int:
    return main(["validate", "--config", str(served.config), "--now", NOW.isoformat()])


def archived(served: Served) -> list[Path]:
    return sorted((served.config / "archive").rglob("*.yaml"))


def test_invalid_fields_open_the_form_prefilled_and_saving_writes_a_valid_file(
    served: Served,
) -> None:
    broken = break_fields(served)
    with served.logged_in() as client:
        dashboard = html.unescape(client.get("/").text)
        assert f'href="{FIX_URL}"' in dashboard  # beside the loading problems
        session = html.unescape(client.get(f"/sessions/{SESSION_ID}").text)
        assert f'href="{FIX_URL}"' in session
        page = client.get(FIX_URL)
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert f"sessions/{SESSION_ID}.yaml" in text
        assert "date « 2027-13-45 » invalide" in text  # the loader's words, file and field
        errors = errors_of(page.text)
        assert "2027-13-45" in errors["end"]
        assert "dix" in errors["training"]
        fields = inputs_of(page.text)
        assert fields["location"] == "AFPAR Saint-André, salle B12"  # what could be read
        assert fields["end"] == "2027-13-45"
        assert fields["training"] == "dix"
        assert 'id="end" name="end"' in page.text
        assert 'aria-invalid="true"' in page.text
        version = re.search(r'name="version" value="([0-9a-f]+)"', page.text)
        assert version is not None
        form = {k: v for k, v in fields.items()}
        form.update(
            end="19/03/2027",
            training="10",
            centre="afpar-st-andre",
            title_code="TP-00374",
            nature="titre",
            version=version.group(1),
            mode="formulaire",
            csrf=csrf_of(page.text),
        )
        assert archived(served) == []
        saved = save(client, form)
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == f"/sessions/{SESSION_ID}?corrige=1"
        shown = html.unescape(client.get(saved.headers["location"]).text)
        assert "Le fichier est corrigé" in shown
        assert "Fichier en erreur" not in shown
        assert "correction du fichier" in shown  # the history
    config = load_config(served.config, load_ruleset(served.settings.ruleset))
    assert SESSION_ID in config.sessions
    assert not config.problems
    assert str(config.sessions[SESSION_ID].end) == "2027-03-19"
    assert config.sessions[SESSION_ID].candidates.training == 10
    text = _path(served).read_text(encoding="utf-8")
    assert text.startswith("# Secrétaire assistant, full title, La Réunion.")  # comments kept
    assert "done:\n  agrement_check: 2026-07-10" in text  # keys the form does not show
    (copy,) = archived(served)
    assert copy.read_text(encoding="utf-8") == broken  # the previous content, kept
    (entry,) = served.store.audit_trail(SESSION_ID)
    assert (entry.user, entry.action, entry.file) == (USER, "repair", f"sessions/{SESSION_ID}.yaml")
    assert ("end", "2027-13-45", "19/03/2027") in entry.changes
    assert entry.note is not None
    assert str(copy.relative_to(served.config)) in entry.note
    assert validates(served) == 0


def test_a_yaml_syntax_error_opens_a_text_editor_and_a_still_invalid_text_is_refused_and_kept(
    served: Served,
) -> None:
    broken = break_syntax(served)
    with served.logged_in() as client:
        page = client.get(FIX_URL)
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "ligne 8, colonne" in text  # the loader's message, with its line
        assert textarea_of(page.text) == broken
        marked = re.search(r'<li class="error-line"[^>]*value="(\d+)"[^>]*>', page.text)
        assert marked is not None
        assert marked.group(1) == "8"
        assert 'class="code-editor"' in page.text
        version = re.search(r'name="version" value="([0-9a-f]+)"', page.text)
        assert version is not None

        # Still invalid: refused, the new error shown, the typed text kept, nothing written.
        typed = broken.replace("start: [2027-03-15", "start: 2027-03-15").replace(
            "end: 2027-03-19", "end: 2027-02-30"
        )
        refused = client.post(
            FIX_URL,
            data={
                "csrf": csrf_of(page.text),
                "version": version.group(1),
                "mode": "texte",
                "text": typed.replace("\n", "\r\n"),  # as a browser sends a textarea
            },
        )
        assert refused.status_code == 400
        said = html.unescape(refused.text)
        assert "Rien n'a été enregistré" in said
        assert "2027-02-30" in said
        assert "ligne 8, end" in said  # the typed text's own line
        assert textarea_of(refused.text) == typed
        assert _path(served).read_text(encoding="utf-8") == broken
        assert archived(served) == []
        assert served.store.audit_trail(SESSION_ID) == []

        fixed = typed.replace("end: 2027-02-30", "end: 2027-03-19")
        saved = save(
            client,
            {
                "csrf": csrf_of(refused.text),
                "version": version.group(1),
                "mode": "texte",
                "text": fixed.replace("\n", "\r\n"),
            },
        )
        assert saved.status_code == 303, saved.text
    assert _path(served).read_text(encoding="utf-8") == fixed
    (copy,) = archived(served)
    assert copy.read_text(encoding="utf-8") == broken
    (entry,) = served.store.audit_trail(SESSION_ID)
    assert (entry.user, entry.action) == (USER, "repair")
    assert entry.changes
    assert entry.changes[0][0] == "fichier"
    assert validates(served) == 0


def test_the_text_editor_is_offered_for_readable_yaml_too(served: Served) -> None:
    """A field the form does not show (an unknown milestone in ``done:``) is fixed in the text."""
    path = _path(served)
    broken = path.read_text(encoding="utf-8").replace("agrement_check:", "agrement_chek:")
    path.write_text(broken, encoding="utf-8")
    with served.logged_in() as client:
        page = client.get(FIX_URL)
        text = html.unescape(page.text)
        assert "done.agrement_chek" in text
        assert f'href="{FIX_URL}?texte=1"' in page.text
        editor = client.get(FIX_URL + "?texte=1")
        assert textarea_of(editor.text) == broken
        # the field's line is named and marked in the text, as a syntax error's is
        line = broken.split("\n").index("  agrement_chek: 2026-07-10") + 1
        assert f"ligne {line}, done.agrement_chek" in html.unescape(editor.text)
        marked = re.findall(r'<li class="error-line"[^>]*value="(\d+)"[^>]*>', editor.text)
        assert marked == [str(line)]
        version = re.search(r'name="version" value="([0-9a-f]+)"', editor.text)
        assert version is not None
        saved = save(
            client,
            {
                "csrf": csrf_of(editor.text),
                "version": version.group(1),
                "mode": "texte",
                "text": broken.replace("agrement_chek:", "agrement_check:"),
            },
        )
        assert saved.status_code == 303, saved.text
    assert validates(served) == 0


def test_a_file_changed_meanwhile_is_not_overwritten(served: Served) -> None:
    broken = break_syntax(served)
    with served.logged_in() as client:
        page = client.get(FIX_URL)
        version = re.search(r'name="version" value="([0-9a-f]+)"', page.text)
        assert version is not None
        other = broken.replace("salle B12", "salle B14")
        _path(served).write_text(other, encoding="utf-8")
        refused = client.post(
            FIX_URL,
            data={
                "csrf": csrf_of(page.text),
                "version": version.group(1),
                "mode": "texte",
                "text": broken.replace("[2027-03-15", "2027-03-15"),
            },
        )
        assert refused.status_code == 409
        said = html.unescape(refused.text)
        assert "a été modifié depuis l'ouverture du formulaire" in said
        assert "salle B14" in said  # the version now on disk, to compare
        assert textarea_of(refused.text) == broken.replace("[2027-03-15", "2027-03-15")
    assert _path(served).read_text(encoding="utf-8") == other
    assert archived(served) == []


def test_paths_outside_the_sessions_folder_are_refused(served: Served) -> None:
    centres = served.config / "centres.yaml"
    before = centres.read_bytes()
    # A link in sessions/ to centres.yaml: the loader reads it (inside the configuration
    # folder) and reports it as a session file in error; it is not opened here.
    link = served.config / "sessions" / "lien-centres.yaml"
    os.symlink("../centres.yaml", link)
    with served.logged_in() as client:
        csrf = csrf_of(client.get(f"/sessions/{SESSION_ID}/modifier").text)
        urls = [
            "/sessions/lien-centres/corriger",
            "/sessions/..%2Fcentres/corriger",
            "/sessions/..%2F..%2Fcentres/corriger",
            "/sessions/%2E%2E/corriger",
            "/sessions/..%5Ccentres/corriger",
            "/sessions/sessions%2F..%2F..%2Fcentres/corriger",
        ]
        for url in urls:
            shown = client.get(url)
            assert shown.status_code == 404, url
            assert "centre_rules" not in shown.text
            assert "afpar-st-andre:" not in shown.text
            written = client.post(
                url, data={"csrf": csrf, "version": "", "mode": "texte", "text": "id: x\n"}
            )
            assert written.status_code == 404, url
        assert "/sessions/lien-centres/corriger" not in client.get("/").text
    assert centres.read_bytes() == before
    assert link.is_symlink()
    assert archived(served) == []


def test_a_viewer_gets_no_link_and_a_403(roles: Served) -> None:  # noqa: F811
    break_syntax(roles)
    with roles.logged_in(OTHER, OTHER_PASSWORD) as client:
        assert FIX_URL not in client.get("/").text
        assert FIX_URL not in client.get(f"/sessions/{SESSION_ID}").text
        assert client.get(FIX_URL).status_code == 403
        csrf = csrf_of(client.get("/").text)
        refused = client.post(FIX_URL, data={"csrf": csrf, "mode": "texte", "text": "x: 1\n"})
        assert refused.status_code == 403


def test_a_coordinator_of_another_centre_gets_no_link_and_a_403(roles: Served) -> None:  # noqa: F811
    broken = break_syntax(roles)
    break_syntax(roles, TEE)
    with roles.logged_in() as client:  # USER coordinates Strasbourg only
        dashboard = client.get("/").text
        assert FIX_URL not in dashboard
        assert f"/sessions/{TEE}/corriger" in dashboard
        assert client.get(FIX_URL).status_code == 403
        csrf = csrf_of(dashboard)
        refused = client.post(
            FIX_URL,
            data={"csrf": csrf, "mode": "texte", "text": broken.replace("[2027", "2027")},
        )
        assert refused.status_code == 403
        # Fixing its own file into another centre's session is refused too.
        own = client.get(f"/sessions/{TEE}/corriger")
        assert own.status_code == 200
        version = re.search(r'name="version" value="([0-9a-f]+)"', own.text)
        assert version is not None
        moved = (
            textarea_of(own.text)
            .replace("start: [", "start: ")
            .replace("centre: afpa-strasbourg", "centre: afpar-st-andre")
        )
        taken = client.post(
            f"/sessions/{TEE}/corriger",
            data={"csrf": csrf, "version": version.group(1), "mode": "texte", "text": moved},
        )
        assert taken.status_code == 400
        assert "centre d'un autre coordinateur" in html.unescape(taken.text)
    assert _path(roles).read_text(encoding="utf-8") == broken


def test_a_post_without_its_csrf_token_is_refused(served: Served) -> None:
    broken = break_syntax(served)
    with served.logged_in() as client:
        refused = client.post(
            FIX_URL, data={"mode": "texte", "text": broken.replace("[2027", "2027")}
        )
        assert refused.status_code == 403
    assert _path(served).read_text(encoding="utf-8") == broken


def test_a_coordinator_does_not_see_candidates_names_in_the_text(served: Served) -> None:
    """The candidates' list is for admins only: a coordinator fixes such a file in the form,
    or asks an admin when only the text editor can fix it."""
    path = _path(served)
    text = path.read_text(encoding="utf-8").replace(
        "candidates: {training: 10, vae: 2}",
        'candidates:\n  training: 1\n  vae: 1\n  list:\n    - {name: "Léa Payet", route: vae}\n'
        '    - {name: "Marc Hoareau", route: training',
    )
    path.write_text(text, encoding="utf-8")
    with served.logged_in() as client:
        page = client.get(FIX_URL)
        assert page.status_code == 200
        shown = html.unescape(page.text)
        assert "Léa Payet" not in shown
        assert "Marc Hoareau" not in shown
        assert "administrateur" in shown
        assert "<textarea" not in page.text


@pytest.mark.parametrize("suffix", [".yml"])
def test_a_yml_file_is_fixed_in_place(served: Served, suffix: str) -> None:
    path = _path(served)
    other = path.with_suffix(suffix)
    path.rename(other)
    broken = other.read_text(encoding="utf-8").replace("start: 2027-03-15", "start: [2027-03-15")
    other.write_text(broken, encoding="utf-8")
    with served.logged_in() as client:
        page = client.get(FIX_URL)
        assert page.status_code == 200
        assert f"{SESSION_ID}{suffix}" in html.unescape(page.text)
        version = re.search(r'name="version" value="([0-9a-f]+)"', page.text)
        assert version is not None
        saved = save(
            client,
            {
                "csrf": csrf_of(page.text),
                "version": version.group(1),
                "mode": "texte",
                "text": broken.replace("[2027", "2027"),
            },
        )
        assert saved.status_code == 303, saved.text
    assert not path.exists()
    assert "start: 2027-03-15" in other.read_text(encoding="utf-8")


# --- the preview before a repair is written ----------------------------------------------------

FEED = "flux-coordination-st-andre"


def _feed(served: Served, client: httpx.Client) -> None:
    """The coordination's feed read by a subscriber: the store records what it holds."""
    token = served.store.feed_token(FEED, served.clock.now)
    assert client.get(f"/feeds/{token}.ics").status_code == 200


def _targets(page: str) -> dict[str, str]:
    found = re.search(r'<ul id="targets">(.*?)</ul>', page, re.S)
    assert found is not None
    rows = re.findall(r"<li><strong>([^<]+)</strong> : ([^<]+)</li>", found.group(1))
    return {name: html.unescape(said) for name, said in rows}


def test_a_repair_is_previewed_against_what_the_calendars_hold_then_confirmed(
    served: Served,
) -> None:
    """The session was seen (dashboard), its feed read and its jury invited before its file
    broke; the repair moves its end a day earlier: the preview says which milestones move
    (from its last good state), what each calendar will get compared with what it holds now
    (the feed's kept items are updated; a calendar never written to gets them created), and
    the jury's update; confirming writes exactly that text."""
    assert {"c.maillot@jury.example", "p.fontaine@jury.example"} <= set(notified(served))
    with served.logged_in() as client:
        assert client.get(f"/sessions/{SESSION_ID}").status_code == 200  # its last good state
        _feed(served, client)
        held = {uid for uid, r in served.store.recorded(FEED).items() if r.session_id == SESSION_ID}
        assert held
        broken = break_fields(served)
        page = client.get(FIX_URL)
        form = {**inputs_of(page.text), "end": "18/03/2027", "training": "10"}
        form.update(
            centre="afpar-st-andre", title_code="TP-00374", nature="titre", mode="formulaire",
            version=re.findall(r'name="version" value="([0-9a-f]+)"', page.text)[0],
            csrf=csrf_of(page.text),
        )  # fmt: skip
        shown = previewed(client, form)
        text = html.unescape(re.sub(r"<[^>]+>", "", shown.text))
        assert _path(served).read_text(encoding="utf-8") == broken  # nothing written yet
        assert archived(served) == []
        moves = re.search(r'<table class="moves" id="moves">(.*?)</table>', shown.text, re.S)
        assert moves is not None
        assert 'data-milestone="results_entry"' in moves.group(1)
        assert "19/03/2027" in moves.group(1)
        assert "18/03/2027" in moves.group(1)
        assert 'data-milestone="dte_order"' not in moves.group(1)  # counted from the start
        targets = _targets(shown.text)
        # the feed's kept items: updated, and the fifth exam day (19/03) withdrawn
        kept = len(held) - 1
        assert targets[FEED] == f"0 élément(s) créé(s), {kept} mis à jour, 1 retiré(s)"
        # never written to (no pass yet): everything is created there, nothing updated
        assert (
            targets["coordination-st-andre"]
            == f"{kept} élément(s) créé(s), 0 mis à jour, 0 retiré(s)"
        )
        news = jury_news(shown.text)
        assert news["c.maillot@jury.example"][0] == "update"
        assert news["p.fontaine@jury.example"][0] == "update"
        assert "Champs modifiés" in text
        assert "2027-13-45" in text  # field by field, as the audit will say
        assert "end: 2027-03-18" in text  # the file as it will be written

        back = client.post(FIX_URL, data={**hidden_of(shown.text), "back": "1"})
        assert back.status_code == 200
        assert inputs_of(back.text)["end"] == "18/03/2027"  # the form as it was typed
        saved = confirm(client, shown.text)
        assert saved.status_code == 303, saved.text
    text = _path(served).read_text(encoding="utf-8")
    assert "end: 2027-03-18" in text
    (entry,) = served.store.audit_trail(SESSION_ID)
    assert ("end", "2027-13-45", "18/03/2027") in entry.changes
    assert validates(served) == 0


def test_what_is_confirmed_is_what_was_previewed(served: Served) -> None:
    """The text travels with the confirmation, its version with it: a text changed after the
    preview is refused, not written; a file changed on disk after the preview too."""
    broken = break_syntax(served)
    fixed = broken.replace("start: [2027-03-15", "start: 2027-03-15")
    with served.logged_in() as client:
        page = client.get(FIX_URL)
        form = {
            "csrf": csrf_of(page.text),
            "version": re.findall(r'name="version" value="([0-9a-f]+)"', page.text)[0],
            "mode": "texte",
            "text": fixed,
        }
        shown = previewed(client, form)
        text = html.unescape(re.sub(r"<[^>]+>", "", shown.text))
        assert "ne se lisait pas" in text  # no field by field: the old text did not read
        assert hidden_of(shown.text)["text"] == fixed

        back = client.post(FIX_URL, data={**hidden_of(shown.text), "back": "1"})
        assert back.status_code == 200
        assert textarea_of(back.text) == fixed

        other = fixed.replace("salle B12", "salle B13")
        tampered = confirm(client, shown.text, text=other)
        assert tampered.status_code == 409
        assert "n'est pas celui de l'aperçu" in html.unescape(tampered.text)
        assert _path(served).read_text(encoding="utf-8") == broken

        _path(served).write_text(broken.replace("salle B12", "salle B14"), encoding="utf-8")
        stale = confirm(client, shown.text)
        assert stale.status_code == 409
        assert "a été modifié depuis l'ouverture du formulaire" in html.unescape(stale.text)
    assert "salle B14" in _path(served).read_text(encoding="utf-8")
    assert archived(served) == []
    assert served.store.audit_trail(SESSION_ID) == []
