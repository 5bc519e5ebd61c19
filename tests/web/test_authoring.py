"""Sessions changed from the dashboard (HTTP level): create with field errors then fixed, edit
through the preview, a conflict, duplicate, postpone, cancel, and the refusals of roles. The
browser flows are in test_browser_authoring.py."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email.parser import BytesParser
from email.policy import default
from email.utils import getaddresses
from pathlib import Path

import httpx
import pytest

from syncsvc.app.notify import notify
from syncsvc.core.labels import HELD_BUT_INVITED, field_label
from syncsvc.core.model import Session
from syncsvc.core.planner import plan_all
from syncsvc.inputs.loader import load_config, load_ruleset
from syncsvc.mailer.smtp import MaildirTransport
from syncsvc.state.audit import AuditEntry
from syncsvc.web.authoring import copy_values
from tests.web.conftest import (
    NOW,
    SECRET,
    SECRET_ENV,
    SESSION_ID,
    USER,
    Served,
    csrf_of,
    serve,
)
from tests.web.test_roles import TEE, limited

NEW_ID = "sa-2027-09-st-andre"


def create_form(**changes: str) -> dict[str, str]:
    form = {
        "centre": "afpar-st-andre",
        "title_code": "TP-00374",
        "nature": "titre",
        "start": "13/09/2027",
        "end": "17/09/2027",
        "first_day_start": "8h30",
        "location": "Salle B12",
        "training": "9",
        "vae": "1",
        "manager_name": "Jean-Luc Hoarau",
        "manager_email": "jl.hoarau@afpar.example",
        "coord_name_1": "Nathalie Técher",
        "coord_email_1": "n.techer@afpar.example",
        "jury_name_1": "Corinne Maillot",
        "jury_email_1": "c.maillot@jury.example",
        "jury_until_1": "30/06/2028",
        "known_p.fontaine@jury.example": "1",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def errors_of(page: str) -> dict[str, str]:
    """Field id → its error text, as the page shows them."""
    found = re.findall(r'<p class="field-error" id="err-([^"]+)">(.*?)</p>', page, re.S)
    return {name: html.unescape(text) for name, text in found}


def inputs_of(page: str) -> dict[str, str]:
    """The text fields of a form page, with their values."""
    found = re.findall(r'<input id="([^"]+)" name="[^"]+" type="[^"]+" value="([^"]*)"', page)
    return {name: html.unescape(value) for name, value in found}


def loaded(served: Served) -> dict[str, Session]:
    return load_config(served.config, load_ruleset(served.settings.ruleset)).sessions


def post(client: httpx.Client, url: str, form: dict[str, str], page: str) -> httpx.Response:
    return client.post(url, data={**form, "csrf": csrf_of(page)})


def notified(served: Served, now: datetime = NOW) -> list[str]:
    """A notify pass at ``NOW`` (as the daemon does; mails into a Maildir): the store then
    knows who was invited. Returns the recipients of the messages sent by this pass."""
    config = load_config(served.config, load_ruleset(served.settings.ruleset))
    box = served.root / "maildir"
    before = set((box / "new").iterdir()) if (box / "new").exists() else set()
    notify(served.settings, config, served.store, now, transport=MaildirTransport(box))
    sent = sorted(set((box / "new").iterdir()) - before)
    messages = [BytesParser(policy=default).parsebytes(path.read_bytes()) for path in sent]
    return [address for m in messages for _, address in getaddresses([str(m["To"])])]


def jury_news(page: str) -> dict[str, tuple[str, str]]:
    """The preview's jury list: e-mail → (what happens, the line's text)."""
    found = re.findall(r'<li data-email="([^"]+)" data-news="([^"]+)">(.*?)</li>', page, re.S)
    return {e: (news, html.unescape(re.sub(r"<[^>]+>", "", t))) for e, news, t in found}


def test_create_shows_errors_next_to_fields_then_saves(served: Served) -> None:
    with served.logged_in() as client:
        page = client.get("/nouvelle-session")
        assert page.status_code == 200
        assert "Ajouter un juré déjà connu du centre" in html.unescape(page.text)
        bad = post(
            client,
            "/nouvelle-session",
            create_form(end="31/02/2027", manager_email="pas-un-courriel", jury_until_1=""),
            page.text,
        )
        assert bad.status_code == 400
        errors = errors_of(bad.text)
        assert errors["end"] == (
            "date « 31/02/2027 » illisible (attendu : une date jj/mm/aaaa, ex. 15/03/2027)"
        )
        assert errors["jury_until_1"].startswith("date obligatoire")
        assert "manager_email" in errors
        assert "courriel" in errors["manager_email"]
        assert not (served.config / "sessions" / f"{NEW_ID}.yaml").exists()
        good = post(client, "/nouvelle-session", create_form(), bad.text)
        assert good.status_code == 303, good.text
        assert good.headers["location"] == f"/sessions/{NEW_ID}?cree=1"
        shown = client.get(good.headers["location"])
        assert "La session est créée" in html.unescape(shown.text)
        assert "Historique" in shown.text
        assert "création" in shown.text
    session = loaded(served)[NEW_ID]
    assert session.start == date(2027, 9, 13)
    assert session.title.acronym == "SA"
    assert session.title.label == "Secrétaire assistant"
    assert str(session.first_day_start) == "08:30:00"
    assert [j.email for j in session.jury] == ["c.maillot@jury.example", "p.fontaine@jury.example"]
    config = load_config(served.config, load_ruleset(served.settings.ruleset))
    planned = [p for p in plan_all(config, {}, NOW) if p.session.id == NEW_ID]
    assert planned
    assert {"exam_session", "dte_order"} <= {m.id for m in planned[0].milestones}
    (entry,) = served.store.audit_trail(NEW_ID)
    assert (entry.user, entry.action) == (USER, "create")
    assert ("start", None, "13/09/2027") in entry.changes


def test_a_centre_without_agrement_for_the_title_is_said_at_the_title(served: Served) -> None:
    with served.logged_in() as client:
        page = client.get("/nouvelle-session")
        bad = post(client, "/nouvelle-session", create_form(title_code="TP-01280"), page.text)
        assert bad.status_code == 400
        assert errors_of(bad.text)["title_code"].startswith("pas d'agrément de AFPAR Saint-André")


def edit_form(client: httpx.Client, session_id: str = SESSION_ID) -> tuple[str, dict[str, str]]:
    page = client.get(f"/sessions/{session_id}/modifier")
    assert page.status_code == 200, page.text
    fields = dict(
        re.findall(r'<input id="([^"]+)" name="[^"]+" type="[^"]+" value="([^"]*)"', page.text)
    )
    fields = {k: html.unescape(v) for k, v in fields.items()}
    fields["version"] = re.search(r'name="version" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    for name in ("centre", "title_code", "nature"):
        chosen = re.search(
            rf'<select id="{name}".*?<option value="([^"]*)"[^>]* selected', page.text, re.S
        )
        assert chosen is not None
        fields[name] = chosen.group(1)
    return page.text, fields


def test_edit_shows_the_preview_then_writes_on_confirm(served: Served) -> None:
    assert notified(served)  # the jury is invited before the change
    with served.logged_in() as client:
        page, fields = edit_form(client)
        assert fields["start"] == "15/03/2027"
        fields.update(start="22/03/2027", end="26/03/2027")
        preview = post(client, f"/sessions/{SESSION_ID}/modifier", fields, page)
        assert preview.status_code == 200
        text = html.unescape(preview.text)
        assert "Ce que la modification va changer" in text
        assert "15/03/2027" in text
        assert "22/03/2027" in text
        assert "recevra une mise à jour" in text  # the jury
        assert loaded(served)[SESSION_ID].start == date(2027, 3, 15)  # nothing written yet
        confirm = post(client, f"/sessions/{SESSION_ID}/modifier", {**fields, "confirm": "1"}, page)
        assert confirm.status_code == 303, confirm.text
    assert loaded(served)[SESSION_ID].start == date(2027, 3, 22)
    (entry,) = served.store.audit_trail(SESSION_ID)
    assert entry.action == "edit"
    assert ("start", "15/03/2027", "22/03/2027") in entry.changes
    # comments kept
    text = (served.config / "sessions" / f"{SESSION_ID}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Secrétaire assistant, full title, La Réunion.\n")


def test_two_tabs_the_second_submit_gets_the_conflict(served: Served) -> None:
    with served.logged_in() as client:
        page, first = edit_form(client)
        _, second = edit_form(client)
        first.update(location="Salle A1", confirm="1")
        assert post(client, f"/sessions/{SESSION_ID}/modifier", first, page).status_code == 303
        second.update(location="Salle C3", confirm="1")
        clash = post(client, f"/sessions/{SESSION_ID}/modifier", second, page)
        assert clash.status_code == 409
        text = html.unescape(clash.text)
        assert "rien n'a été enregistré" in text
        assert 'location: "Salle A1"' in text or "location: Salle A1" in text
        assert "Salle C3" in text
    assert loaded(served)[SESSION_ID].location == "Salle A1"
    assert len(served.store.audit_trail(SESSION_ID)) == 1


def test_duplicate_next_year_moves_to_the_same_weekday_and_drops_what_was_done() -> None:
    values = {
        "id": "x",
        "start": date(2027, 3, 15),
        "end": date(2027, 3, 19),
        "done": {"dte_order": date(2027, 1, 5)},
        "candidates": {"training": 2, "list": [{"name": "A"}]},
        "cancelled": {"on": date(2027, 1, 1), "reason": "r"},
    }
    copied = copy_values(values, 1)
    assert copied["start"] == date(2028, 3, 13)  # a Monday, like 15/03/2027
    assert copied["end"] == date(2028, 3, 17)
    assert "id" not in copied
    assert "done" not in copied
    assert "cancelled" not in copied
    assert copied["candidates"] == {"training": 2}


def test_duplicate_prefills_the_create_form(served: Served) -> None:
    with served.logged_in() as client:
        page = client.get(f"/nouvelle-session?depuis={SESSION_ID}&annee=1")
        text = html.unescape(page.text)
        assert 'value="13/03/2028"' in text
        assert 'value="17/03/2028"' in text
        assert "Copie de la session" in text
        chosen = {"centre": "afpar-st-andre", "title_code": "TP-00374", "nature": "titre"}
        created = post(client, "/nouvelle-session", {**inputs_of(page.text), **chosen}, page.text)
        assert created.status_code == 303, errors_of(created.text)
    session = loaded(served)["sa-2028-03-st-andre"]
    assert session.done == {}
    assert session.start == date(2028, 3, 13)


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, limited) as running:
        yield running


def test_a_coordinator_is_refused_on_another_centre(roles: Served) -> None:
    with roles.logged_in() as client:
        own = client.get(f"/sessions/{TEE}")
        assert "/modifier" in own.text
        assert "Reporter la session" in own.text
        other = client.get(f"/sessions/{SESSION_ID}")
        assert "/modifier" not in other.text
        assert "Annuler la session" not in other.text
        for path in ("modifier", "reporter", "annuler"):
            assert client.get(f"/sessions/{SESSION_ID}/{path}").status_code == 403
            refused = post(client, f"/sessions/{SESSION_ID}/{path}", {"reason": "x"}, own.text)
            assert refused.status_code == 403
        page = client.get("/nouvelle-session")
        assert 'value="afpar-st-andre"' not in page.text
        refused = post(client, "/nouvelle-session", create_form(), page.text)
        assert refused.status_code == 403
    assert roles.store.audit_trail() == []


def _version(page: str) -> str:
    found = re.search(r'name="version" value="([^"]*)"', page)
    assert found is not None
    return found.group(1)


def test_postpone_writes_the_history_and_new_dates(served: Served) -> None:
    assert notified(served)  # the jury is invited before the change
    url = f"/sessions/{SESSION_ID}/reporter"
    with served.logged_in() as client:
        page = client.get(url)
        assert page.status_code == 200
        form = {"version": _version(page.text), "start": "05/04/2027", "end": "09/04/2027"}
        missing = post(client, url, form, page.text)
        assert missing.status_code == 400
        assert errors_of(missing.text)["reason"].startswith("motif obligatoire")
        form["reason"] = "Salle indisponible"
        shown = post(client, url, form, page.text)
        assert shown.status_code == 200, shown.text
        text = html.unescape(shown.text)
        assert "Ce que le report va changer" in text
        assert "recevra une mise à jour" in text
        assert loaded(served)[SESSION_ID].start == date(2027, 3, 15)  # nothing written yet
        done = post(client, url, {**form, "confirm": "1"}, page.text)
        assert done.status_code == 303, done.text
    session = loaded(served)[SESSION_ID]
    assert (session.start, session.end) == (date(2027, 4, 5), date(2027, 4, 9))
    last = session.postponed[-1]  # type: ignore[attr-defined, unused-ignore]
    assert (last.from_start, last.from_end) == (date(2027, 3, 15), date(2027, 3, 19))
    assert (last.on, last.reason) == (date(2027, 2, 8), "Salle indisponible")
    (entry,) = served.store.audit_trail(SESSION_ID)
    assert (entry.action, entry.note) == ("postpone", "Salle indisponible")
    assert ("start", "15/03/2027", "05/04/2027") in entry.changes


def test_cancel_after_the_dte_order_says_what_ceres_allows(served: Served) -> None:
    assert notified(served)  # the jury is invited before the change
    url = "/sessions/ctrmp-2027-02-venissieux/annuler"  # its DTE was ordered (in its file)
    with served.logged_in() as client:
        page = client.get(url)
        text = html.unescape(page.text)
        assert "Le DTE a été commandé le 12/11/2026" in text
        assert "CERES ne permet de supprimer une session que tant que son DTE" in text
        assert 'Informez la DDETS (<a href="mailto:ddets-69-certification@ddets.example' in text
        form = {"version": _version(page.text), "reason": "Jury"}
        shown = post(client, url, form, page.text)
        text = html.unescape(shown.text)
        assert "Ce que l'annulation va changer" in text
        assert "recevra une annulation" in text
        done = post(client, url, {**form, "confirm": "1"}, page.text)
        assert done.status_code == 303, done.text
    session = loaded(served)["ctrmp-2027-02-venissieux"]
    assert session.cancelled is not None
    cancelled = session.cancelled
    assert (cancelled.on, cancelled.reason) == (date(2027, 2, 8), "Jury")  # type: ignore[attr-defined, unused-ignore]
    (entry,) = served.store.audit_trail("ctrmp-2027-02-venissieux")
    assert (entry.action, entry.note) == ("cancel", "Jury")


def test_cancel_before_the_dte_order_says_ceres_may_still_delete(served: Served) -> None:
    with served.logged_in() as client:
        text = html.unescape(client.get(f"/sessions/{SESSION_ID}/annuler").text)
    assert "Le DTE n'est pas commandé : la session peut encore être supprimée" in text


def test_known_jurors_of_the_centre_are_offered_the_unfit_greyed_with_the_reason(
    served: Served,
) -> None:
    with served.logged_in() as client:
        page = client.get("/nouvelle-session?centre=afpar-st-andre")
        offered = re.findall(r'name="known_([^"]+)"', page.text)
        # the centre's jurors of other sessions and the jury directory's (config/jury.yaml),
        # not those already in the form nor another centre's
        assert sorted(offered) == [
            "a.nativel@jury.example",
            "c.maillot@jury.example",
            "d.riviere@jury.example",
            "e.lefevre@jury.example",
            "p.fontaine@jury.example",
            "s.hoareau@jury.example",
            "t.girard@jury.example",
            "y.haddad@jury.example",
        ]
        shown = post(
            client,
            "/nouvelle-session",
            create_form(start="10/01/2028", end="14/01/2028", training="dix"),
            page.text,
        )
        assert shown.status_code == 400
        text = html.unescape(shown.text)
        assert errors_of(shown.text)["training"] == (
            "valeur « dix » non reconnue (attendu : un nombre entier)"
        )
        assert '<a href="#training">Candidats en formation</a>' in text
        greyed = re.search(r'<li class="unfit">.*?</li>', text, re.S)
        assert greyed is not None
        assert "d.riviere@jury.example" in greyed.group(0)
        assert "non proposé : habilitation échue le 31/12/2027" in greyed.group(0)
        assert "disabled" in greyed.group(0)


@pytest.mark.parametrize(
    "session_id",
    [
        "sa-2027-03-st-andre",
        "ccp-ac-2027-05-st-andre",
        "ctrmp-2027-02-venissieux",
        "dwwm-2027-06-venissieux",
        "tee-2027-04-strasbourg",
    ],
)
def test_an_unchanged_form_changes_nothing(served: Served, session_id: str) -> None:
    """The form reads every example file and writes it back identically."""
    with served.logged_in() as client:
        page, fields = edit_form(client, session_id)
        if 'name="transport" value="1" checked' in page:
            fields["transport"] = "1"
        shown = post(client, f"/sessions/{session_id}/modifier", fields, page)
        assert shown.status_code == 200, errors_of(shown.text)
        assert 'id="no-change"' in shown.text, html.unescape(shown.text)[:3000]


def test_candidates_names_never_reach_the_preview_nor_the_conflict_page(served: Served) -> None:
    session_id = "ctrmp-2027-02-venissieux"  # its file names two candidates
    names = ("Karim Benali", "Julie Perret", "Transports Dumas")
    with served.logged_in() as client:
        page, first = edit_form(client, session_id)
        _, second = edit_form(client, session_id)
        first["location"] = "Plateau technique"
        shown = post(client, f"/sessions/{session_id}/modifier", first, page)
        text = html.unescape(shown.text)
        assert "Plateau technique" in text
        assert "(2 candidat(s) nommé(s), masqué(s) ici)" in text
        assert not [n for n in names if n in text]
        first["confirm"] = "1"
        assert post(client, f"/sessions/{session_id}/modifier", first, page).status_code == 303
        second.update(location="Ailleurs", confirm="1")
        clash = post(client, f"/sessions/{session_id}/modifier", second, page)
        assert clash.status_code == 409
        text = html.unescape(clash.text)
        assert "Ailleurs" in text
        assert not [n for n in names if n in text]
    written = (served.config / "sessions" / f"{session_id}.yaml").read_text(encoding="utf-8")
    assert all(n in written for n in names)  # the file keeps them


def test_the_history_masks_a_candidate_change(served: Served) -> None:
    served.store.record_audit(
        AuditEntry(
            at=NOW,
            user="import",
            action="import",
            file="sessions/sa-2027-03-st-andre.yaml",
            session_id=SESSION_ID,
            changes=(("candidates.list.1.name", None, "Camille Dupont"), ("vae", "2", "3")),
        )
    )
    with served.logged_in() as client:
        text = html.unescape(client.get(f"/sessions/{SESSION_ID}").text)
    history = text[text.index('id="historique"') :]
    assert "Camille Dupont" not in history
    assert "(donnée d'un candidat, masquée)" in history
    assert "2 → 3" in history
    assert "import de tableur" in history
    assert "<strong>08/02/2027 12:00</strong> — import —" in history  # 08:00 UTC, La Réunion


def test_field_paths_in_words() -> None:
    assert field_label("jury.2.email") == "jury 2, courriel"
    assert field_label("start") == "premier jour"
    assert field_label("postponed.1.from_start") == "report 1, ancien premier jour"
    assert field_label("rules.x") == "rules, x"


def test_removing_a_juror_announces_a_cancellation_then_writes_it(served: Served) -> None:
    assert notified(served)  # the jury is invited before the change
    with served.logged_in() as client:
        page, fields = edit_form(client)
        assert fields["jury_email_2"] == "p.fontaine@jury.example"
        fields["jury_remove_2"] = "1"
        shown = post(client, f"/sessions/{SESSION_ID}/modifier", fields, page)
        text = html.unescape(shown.text)
        assert "Patrick Fontaine <p.fontaine@jury.example> : recevra une annulation" in text
        assert "Corinne Maillot" not in text[text.index('id="jury-news"') :].split("</ul>")[0]
        done = post(client, f"/sessions/{SESSION_ID}/modifier", {**fields, "confirm": "1"}, page)
        assert done.status_code == 303
    assert [j.email for j in loaded(served)[SESSION_ID].jury] == ["c.maillot@jury.example"]
    (entry,) = served.store.audit_trail(SESSION_ID)
    assert ("jury.2.email", "p.fontaine@jury.example", None) in entry.changes


@pytest.mark.parametrize(
    "url",
    [
        "/nouvelle-session",
        f"/sessions/{SESSION_ID}/modifier",
        f"/sessions/{SESSION_ID}/annuler",
        f"/sessions/{SESSION_ID}/retablir",
    ],
)
def test_every_form_needs_its_csrf_token(served: Served, url: str) -> None:
    with served.logged_in() as client:
        refused = client.post(url, data={**create_form(), "reason": "x", "confirm": "1"})
        assert refused.status_code == 403
        assert "Formulaire expiré" in html.unescape(refused.text)
    assert served.store.audit_trail() == []
    assert not (served.config / "sessions" / f"{NEW_ID}.yaml").exists()


def test_retire_moves_the_file_to_the_archive_and_audits_it(served: Served) -> None:
    url = f"/sessions/{SESSION_ID}/retirer"
    path = served.config / "sessions" / f"{SESSION_ID}.yaml"
    text = path.read_text(encoding="utf-8")
    with served.logged_in() as client:
        page = client.get(url)
        assert "Pour une session qui n'aura pas lieu, préférez" in html.unescape(page.text)
        refused = post(client, url, {"version": _version(page.text), "reason": ""}, page.text)
        assert refused.status_code == 400
        assert path.exists()
        done = post(client, url, {"version": _version(page.text), "reason": "Doublon"}, page.text)
        assert done.status_code == 200, done.text
        assert "archive/2027-02-08/" in html.unescape(done.text)
    archived = served.config / "archive" / "2027-02-08" / f"{SESSION_ID}.yaml"
    assert not path.exists()
    assert archived.read_text(encoding="utf-8") == text
    assert SESSION_ID not in loaded(served)
    (entry,) = served.store.audit_trail(SESSION_ID)
    assert (entry.action, entry.user, entry.note) == ("archive", USER, "Doublon")


def test_retire_with_a_stale_version_is_a_conflict(served: Served) -> None:
    url = f"/sessions/{SESSION_ID}/retirer"
    path = served.config / "sessions" / f"{SESSION_ID}.yaml"
    with served.logged_in() as client:
        page = client.get(url)
        path.write_text(path.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
        answer = post(client, url, {"version": _version(page.text), "reason": "Doublon"}, page.text)
        assert answer.status_code == 409
    assert path.exists()
    assert served.store.audit_trail(SESSION_ID) == []


def test_the_preview_shows_a_held_invitation_and_the_new_error_as_the_sender_decides(
    served: Served,
) -> None:
    """A juror whose habilitation would end before the session is shown « Invitation retenue »
    with the reason (not « recevra une … »), the new error is shown, and the sender then does
    what the preview said."""
    assert "c.maillot@jury.example" in notified(served)
    with served.logged_in() as client:
        page, fields = edit_form(client)
        assert fields["jury_email_1"] == "c.maillot@jury.example"
        fields.update(
            start="22/03/2027",
            end="26/03/2027",
            jury_until_1="01/03/2027",
            jury_name_3="Hélène Payet",
            jury_email_3="h.payet@jury.example",
            jury_until_3="01/03/2027",
        )
        shown = post(client, f"/sessions/{SESSION_ID}/modifier", fields, page)
        assert shown.status_code == 200, shown.text
        text = html.unescape(re.sub(r"<[^>]+>", "", shown.text))
        assert "Corinne Maillot <c.maillot@jury.example> : recevra" not in text  # held
        assert "Hélène Payet <h.payet@jury.example> : recevra" not in text
        news = jury_news(shown.text)
        assert news["c.maillot@jury.example"] == (
            "held",
            "Corinne Maillot <c.maillot@jury.example> : Invitation retenue : l'habilitation de "
            "Corinne Maillot prend fin le 01/03/2027, avant la fin de la session (26/03/2027) : "
            f"la faire renouveler ou convoquer un autre membre ({HELD_BUT_INVITED})",
        )
        news_payet, line = news["h.payet@jury.example"]
        assert news_payet == "held"
        assert "Invitation retenue : l'habilitation de Hélène Payet prend fin" in line
        assert HELD_BUT_INVITED not in line
        assert "recevra" not in line
        assert news["p.fontaine@jury.example"][0] == "update"
        errors = html.unescape(shown.text.split('id="new-errors"')[1].split("</section>")[0])
        assert errors.count("[jury_habilitation_expired]") == 2
        done = post(client, f"/sessions/{SESSION_ID}/modifier", {**fields, "confirm": "1"}, page)
        assert done.status_code == 303, done.text
    sent = notified(served)
    assert "p.fontaine@jury.example" in sent
    assert "h.payet@jury.example" not in sent
    assert "c.maillot@jury.example" not in sent
    assert "n.techer@afpar.example" in sent  # the coordinator is told why


def test_the_preview_of_an_unchanged_jury_already_invited_announces_nothing(
    served: Served,
) -> None:
    """What the store knows counts: a juror invited before and whose invitation does not
    change gets nothing; one never invited (no pass yet) gets the invitation."""
    with served.logged_in() as client:
        page, fields = edit_form(client)
        fields["location"] = "AFPAR Saint-André, salle B12 (2e étage)"
        fresh = jury_news(post(client, f"/sessions/{SESSION_ID}/modifier", fields, page).text)
        assert fresh["c.maillot@jury.example"][0] == "invitation"
        assert notified(served)
        fields.update(jury_name_3="Hélène Payet", jury_email_3="h.payet@jury.example")
        fields.update(jury_until_3="30/06/2030", location="AFPAR Saint-André, salle B12")
        shown = jury_news(post(client, f"/sessions/{SESSION_ID}/modifier", fields, page).text)
    assert list(shown) == ["h.payet@jury.example"]
    assert shown["h.payet@jury.example"][0] == "invitation"


def test_a_cancellation_lifted_leaves_a_trace_and_a_warning_and_the_jury_is_invited_again(
    served: Served,
) -> None:
    """Cancelled from the dashboard, then « cancelled: » removed from the file by hand two days
    later: the session page says « Annulée le … puis rétablie le … » and warns (file, field);
    the jury gets its cancellation, then a new invitation."""
    assert "c.maillot@jury.example" in notified(served)
    url = f"/sessions/{SESSION_ID}/annuler"
    with served.logged_in() as client:
        page = client.get(url)
        form = {"version": _version(page.text), "reason": "Trop peu de candidats"}
        done = post(client, url, {**form, "confirm": "1"}, page.text)
        assert done.status_code == 303, done.text
        shown = html.unescape(client.get(f"/sessions/{SESSION_ID}").text)
        assert "Session annulée le 08/02/2027 : Trop peu de candidats" in shown
        assert "cancellation-lifted" not in shown
        assert "c.maillot@jury.example" in notified(served)  # the cancellation
        path = served.config / "sessions" / f"{SESSION_ID}.yaml"
        # « cancelled: » and its block removed by hand
        written = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"(?m)^cancelled:.*\n(?:[ ]+.*\n)*", "", written), "utf-8")
        assert "cancelled" not in path.read_text(encoding="utf-8")
    later = NOW + timedelta(days=2)
    served.clock.now = later
    with served.logged_in() as client:  # two days later: a new login
        text = re.sub(r"<[^>]+>", "", client.get(f"/sessions/{SESSION_ID}").text)
        shown = html.unescape(text)
    assert "Annulée le 08/02/2027 (Trop peu de candidats) puis rétablie le 10/02/2027" in shown
    assert (
        f"Avertissement : sessions/{SESSION_ID}.yaml, champ « cancelled » : la session a été "
        "annulée le 08/02/2027 (Trop peu de candidats) puis rétablie le 10/02/2027"
    ) in shown
    assert "le jury a reçu (ou reçoit) une nouvelle invitation" in shown
    assert "[cancellation_lifted]" in shown
    (record,) = served.store.cancellation_history()[SESSION_ID]
    assert (record.seen_at, record.restored_at) == (NOW, later)
    again = notified(served, later)
    assert "c.maillot@jury.example" in again  # a new invitation, as before this trace
    assert "p.fontaine@jury.example" in again
