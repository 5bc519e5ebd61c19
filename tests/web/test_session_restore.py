"""« Rétablir la session » on the dashboard: a cancelled session's page offers it to whoever may
change its centre; the page shows what comes back (milestones, calendar items, the jury's new
invitations — the edit preview's own decisions), asks a reason, then writes the file without
``cancelled:`` (the rest as it was), audits it and records in the trace who restored it and why.
Such a restore is not warned about (``cancellation_lifted``); a restore by hand still is.

The dashboard's day is Monday 8 February 2027 (:data:`tests.web.conftest.NOW`)."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from syncsvc.app.cancellations import lifted_warnings
from syncsvc.inputs.loader import load_config, load_ruleset
from tests.web.conftest import (
    NOW,
    OTHER,
    OTHER_PASSWORD,
    ROOT,
    SECRET,
    SECRET_ENV,
    SESSION_ID,
    Served,
    serve,
)
from tests.web.test_authoring import _version, errors_of, jury_news, loaded, notified, post
from tests.web.test_roles import TEE, limited

RESTORE = f"/sessions/{SESSION_ID}/retablir"
CANCELLATION = 'cancelled: {on: 2027-01-11, reason: "Nombre de candidats insuffisant"}\n'


def _file(config: Path, session_id: str = SESSION_ID) -> Path:
    return config / "sessions" / f"{session_id}.yaml"


def _cancel_by_hand(config: Path, session_id: str = SESSION_ID) -> str:
    """``cancelled:`` written in the middle of the file; returns the text before."""
    path = _file(config, session_id)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("end:")) + 1
    path.write_text("".join(lines[:at]) + CANCELLATION + "".join(lines[at:]), encoding="utf-8")
    return text


def _words(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_restore_shows_what_comes_back_asks_a_reason_then_writes_and_records_it(
    served: Served,
) -> None:
    path = _file(served.config)
    original = path.read_bytes()
    assert {"c.maillot@jury.example", "p.fontaine@jury.example"} <= set(notified(served))
    cancel = f"/sessions/{SESSION_ID}/annuler"
    with served.logged_in() as client:
        page = client.get(cancel)
        form = {"version": _version(page.text), "reason": "Trop peu de candidats", "confirm": "1"}
        assert post(client, cancel, form, page.text).status_code == 303
        assert "c.maillot@jury.example" in notified(served)  # the jury's cancellation
        session_page = client.get(f"/sessions/{SESSION_ID}").text
        assert f'href="{RESTORE}"' in session_page
        assert "Rétablir la session" in session_page

        shown = client.get(RESTORE)
        assert shown.status_code == 200
        text = _words(shown.text)
        assert "Rétablir la session SA 15/03" in text
        assert "Session annulée le 08/02/2027 : Trop peu de candidats" in text
        # what comes back: the milestones, the calendar items, the jury's new invitations
        assert "Jalons qui reviennent" in text
        returning = re.search(r'<table class="moves" id="resumed">(.*?)</table>', shown.text, re.S)
        assert returning is not None
        assert 'data-milestone="exam_session"' in returning.group(1)
        assert "15/03/2027" in _words(returning.group(1))
        assert 'data-milestone="agrement_check"' not in returning.group(1)  # done in the file
        assert "coordination-st-andre : 0 élément(s) créé(s)" in text
        news = jury_news(shown.text)
        assert news["c.maillot@jury.example"][0] == "invitation"
        assert news["p.fontaine@jury.example"][0] == "invitation"
        assert "recevra une invitation" in news["c.maillot@jury.example"][1]
        assert b"cancelled" in path.read_bytes()  # nothing written by looking

        version = _version(shown.text)
        missing = post(client, RESTORE, {"version": version, "reason": "  "}, shown.text)
        assert missing.status_code == 400
        assert errors_of(missing.text)["reason"].startswith("motif obligatoire")
        assert "Jalons qui reviennent" in _words(missing.text)  # the preview stays in view
        assert b"cancelled" in path.read_bytes()

        done = post(
            client, RESTORE, {"version": version, "reason": "Candidats trouvés"}, shown.text
        )
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"/sessions/{SESSION_ID}?retablie=1"
        assert path.read_bytes() == original  # the file as before the cancellation
        after = _words(client.get(done.headers["location"]).text)
    assert "Le rétablissement est enregistré" in after
    assert (
        "Annulée le 08/02/2027 (Trop peu de candidats) puis rétablie le 08/02/2027 par Nathalie "
        "Técher : Candidats trouvés"
    ) in after
    assert "[cancellation_lifted]" not in after
    assert "Annuler la session" in after
    assert "Rétablir la session" not in after
    assert "rétablissement : « Candidats trouvés »" in after  # the history
    restored, cancelled = served.store.audit_trail(SESSION_ID)
    assert (restored.action, restored.note, restored.user) == (
        "restore",
        "Candidats trouvés",
        "coordination",
    )
    assert ("cancelled.reason", "Trop peu de candidats", None) in restored.changes
    assert cancelled.action == "cancel"
    (record,) = served.store.cancellation_history()[SESSION_ID]
    assert (record.restored_at, record.restored_by, record.restored_note) == (
        NOW,
        "Nathalie Técher",
        "Candidats trouvés",
    )
    assert loaded(served)[SESSION_ID].cancelled is None
    # ``validate`` has nothing to say either, two days later
    later = NOW + timedelta(days=2)
    current = load_config(served.config, load_ruleset(served.settings.ruleset))
    assert lifted_warnings(current, served.store.cancellation_history(), later) == []
    again = notified(served, later)
    assert {"c.maillot@jury.example", "p.fontaine@jury.example"} <= set(again)


@pytest.fixture
def cancelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Served, str]]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    shutil.copytree(ROOT / "config", tmp_path / "config")
    before = _cancel_by_hand(tmp_path / "config")
    with serve(tmp_path) as running:
        yield running, before


def test_the_rest_of_a_hand_written_file_is_kept_byte_for_byte(
    cancelled: tuple[Served, str],
) -> None:
    served, before = cancelled
    with served.logged_in() as client:
        shown = client.get(RESTORE)
        assert "Session annulée le 11/01/2027 : Nombre de candidats insuffisant" in _words(
            shown.text
        )
        form = {"version": _version(shown.text), "reason": "Erreur de saisie"}
        assert post(client, RESTORE, form, shown.text).status_code == 303
        page = _words(client.get(f"/sessions/{SESSION_ID}").text)
    assert _file(served.config).read_text(encoding="utf-8") == before
    assert "# Secrétaire assistant, full title, La Réunion." in before  # a comment, kept
    # never seen cancelled by a pass: the dashboard had seen it (the page), the trace says who
    assert (
        "Annulée le 11/01/2027 (Nombre de candidats insuffisant) puis rétablie le 08/02/2027 "
        "par Nathalie Técher : Erreur de saisie"
    ) in page


def test_a_restore_by_hand_is_still_warned(cancelled: tuple[Served, str]) -> None:
    served, before = cancelled
    with served.logged_in() as client:
        assert "Rétablir la session" in client.get(f"/sessions/{SESSION_ID}").text  # seen
        _file(served.config).write_text(before, encoding="utf-8")
        page = _words(client.get(f"/sessions/{SESSION_ID}").text)
    assert "[cancellation_lifted]" in page
    assert "puis rétablie le 08/02/2027 par" not in page
    (record,) = served.store.cancellation_history()[SESSION_ID]
    assert (record.restored_by, record.restored_note) == (None, None)


def test_a_stale_page_is_a_conflict_and_writes_nothing(cancelled: tuple[Served, str]) -> None:
    served, _before = cancelled
    path = _file(served.config)
    with served.logged_in() as client:
        shown = client.get(RESTORE)
        path.write_text(
            path.read_text(encoding="utf-8").replace("salle B12", "salle B14"), encoding="utf-8"
        )
        form = {"version": _version(shown.text), "reason": "Erreur de saisie"}
        refused = post(client, RESTORE, form, shown.text)
    assert refused.status_code == 409
    assert f'href="{RESTORE}"' in refused.text  # start again on the current version
    assert "cancelled:" in path.read_text(encoding="utf-8")
    assert served.store.audit_trail() == []


def test_an_active_session_has_nothing_to_restore(served: Served) -> None:
    with served.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        assert "Rétablir la session" not in page.text
        shown = client.get(RESTORE)
        assert shown.status_code == 409
        assert "Session non annulée" in _words(shown.text)
        refused = post(client, RESTORE, {"version": "x", "reason": "r"}, page.text)
        assert refused.status_code == 409
    assert served.store.audit_trail() == []


def test_restore_needs_its_csrf_token(cancelled: tuple[Served, str]) -> None:
    served, _before = cancelled
    with served.logged_in() as client:
        shown = client.get(RESTORE)
        form = {"version": _version(shown.text), "reason": "Erreur de saisie"}
        refused = client.post(RESTORE, data=form)
        assert refused.status_code == 403
        assert "Formulaire expiré" in _words(refused.text)
        forged = client.post(RESTORE, data={**form, "csrf": "faux"})
        assert forged.status_code == 403
    assert "cancelled:" in _file(served.config).read_text(encoding="utf-8")
    assert served.store.audit_trail() == []


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """Both the SA (La Réunion) and the TEE (Strasbourg) sessions cancelled; USER coordinates
    Strasbourg only, OTHER is a viewer."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    shutil.copytree(ROOT / "config", tmp_path / "config")
    _cancel_by_hand(tmp_path / "config")
    _cancel_by_hand(tmp_path / "config", TEE)
    with serve(tmp_path, limited) as running:
        yield running


def test_a_coordinator_of_another_centre_gets_no_button_and_a_403(roles: Served) -> None:
    with roles.logged_in() as client:
        own = client.get(f"/sessions/{TEE}")
        assert f'href="/sessions/{TEE}/retablir"' in own.text
        other = client.get(f"/sessions/{SESSION_ID}")
        assert "Session annulée le 11/01/2027" in _words(other.text)
        assert "retablir" not in other.text
        assert client.get(RESTORE).status_code == 403
        form = {"version": _version(client.get(f"/sessions/{TEE}/retablir").text), "reason": "r"}
        refused = post(client, RESTORE, form, own.text)
        assert refused.status_code == 403
        assert "Centre d'un autre coordinateur" in _words(refused.text)
    assert "cancelled:" in _file(roles.config).read_text(encoding="utf-8")
    assert roles.store.audit_trail() == []


def test_a_viewer_gets_no_button_and_a_403(roles: Served) -> None:
    with roles.logged_in(OTHER, OTHER_PASSWORD) as client:
        page = client.get(f"/sessions/{TEE}")
        assert "Session annulée le 11/01/2027" in _words(page.text)
        assert "retablir" not in page.text
        assert client.get(f"/sessions/{TEE}/retablir").status_code == 403
        refused = post(client, f"/sessions/{TEE}/retablir", {"reason": "r"}, page.text)
        assert refused.status_code == 403
        assert "Action réservée" in _words(refused.text)
    assert "cancelled:" in _file(roles.config, TEE).read_text(encoding="utf-8")
    assert roles.store.audit_trail() == []


def test_the_page_title_is_the_sessions_not_its_history(served: Served) -> None:
    with served.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}").text
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None
    assert "Historique" not in title.group(1)
    assert page.count('id="historique"') == 1
