"""Issue 12, « Small things a coordinator trips on today », in the dashboard: each test
reproduces an example of the issue (times in UTC, a broken session that disappears, a row
done in the file with an active button, milestone identifiers shown nowhere)."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest

from syncsvc.inputs.settings import Settings
from tests.web.conftest import SECRET, SECRET_ENV, SESSION_ID, Served, csrf_of, serve, web_settings


def _text(page: str) -> str:
    return html.unescape(page)


def _row(page: str, milestone: str) -> str:
    found = re.search(rf'<tr id="m-{milestone}".*?</tr>', page, re.S)
    assert found is not None, milestone
    return html.unescape(found.group(0))


def _break(config: Path, session_id: str = SESSION_ID) -> Path:
    path = config / "sessions" / f"{session_id}.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("end: 2027-03-19", "end: 2027-13-45"),
        encoding="utf-8",
    )
    return path


# --- times ------------------------------------------------------------------------------------


def test_dashboard_time_is_the_service_zone_not_utc(served: Served) -> None:
    """Reported: « état au 30/11/2026 03:14 UTC ». The clock says 08/02/2027 08:00 UTC: Paris
    (the default zone) shows 09:00."""
    with served.logged_in() as client:
        page = _text(client.get("/").text)
    assert "état au 08/02/2027 09:00." in page
    assert not re.search(r"\d\d:\d\d UTC", page)  # (a centre's zone is named « UTC+4 »)


def test_the_zone_of_pages_listing_several_centres_is_a_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def reunion(config: Path) -> Settings:
        return web_settings(config).model_copy(update={"timezone": "Indian/Reunion"})

    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, reunion) as running, running.logged_in() as client:
        page = _text(client.get("/").text)
    assert "état au 08/02/2027 12:00." in page


# --- milestone identifiers ----------------------------------------------------------------------


def test_session_page_shows_each_milestone_identifier_for_syncsvc_done(served: Served) -> None:
    """Reported: the identifiers ``done`` needs are shown nowhere."""
    with served.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}").text
    row = _row(page, "dte_order")
    assert '<code class="milestone-id">dte_order</code>' in row
    assert f"syncsvc done {SESSION_ID} <identifiant>" in _text(page)


# --- a row done in the session file -------------------------------------------------------------


def test_a_row_done_in_the_file_has_no_button_and_says_where_the_mark_lives(
    served: Served,
) -> None:
    """Reported: a row done in the session file (``done:``) still shows an active « Marquer
    fait » button."""
    with served.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}").text
    row = _row(page, "ceres_session_create")
    assert "Marquer fait" not in row
    assert "<button" not in row
    assert f"fait (noté dans le fichier sessions/{SESSION_ID}.yaml)" in row
    # a row marked nowhere keeps its button
    assert "Marquer fait" in _row(page, "dte_order")


def test_undone_of_a_file_mark_is_refused_with_where_it_lives(served: Served) -> None:
    with served.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}").text
        response = client.post(
            f"/sessions/{SESSION_ID}/milestones/ceres_session_create/undone",
            data={"csrf": csrf_of(page)},
        )
    assert response.status_code == 409
    text = _text(response.text)
    assert f"sessions/{SESSION_ID}.yaml" in text
    assert "« ceres_session_create: 2026-11-20 »" in text
    assert served.marked == []


# --- a session whose file is broken -------------------------------------------------------------


def test_a_broken_session_stays_listed_with_its_last_good_state_and_the_error(
    served: Served,
) -> None:
    """Reported: a session whose file is broken disappears from the list (its page answers
    404)."""
    with served.logged_in() as client:
        assert f'id="s-{SESSION_ID}"' in client.get("/").text  # loaded once, good
        _break(served.config)
        page = _text(client.get("/").text)
        row = re.search(rf'<tr id="s-{SESSION_ID}".*?</tr>', page, re.S)
        assert row is not None, "the broken session left the list"
        assert "Fichier en erreur" in row.group(0)
        assert "Commander le pli d'examen (DTE)" in row.group(0)  # its last good state
        assert "19/03/2027" in row.group(0)
        session = client.get(f"/sessions/{SESSION_ID}")
        assert session.status_code == 200
        text = _text(session.text)
        assert "Fichier en erreur" in text
        assert "end: " in text
        assert "2027-13-45" in text
        assert "dernier état lu sans erreur" in text
        assert "Commander le pli d'examen (DTE)" in text
        assert "Marquer fait" not in text  # nothing is marked on a state that may be stale


def test_a_broken_session_never_seen_good_is_listed_with_its_file_and_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a restart, no last good state is known: the session is listed by its file, with
    the error, and its page says the calendars keep the previous state."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    import shutil

    from tests.web.conftest import ROOT

    shutil.copytree(ROOT / "config", tmp_path / "config")
    _break(tmp_path / "config")
    with serve(tmp_path) as running, running.logged_in() as client:
        page = _text(client.get("/").text)
        row = re.search(rf'<tr id="s-{SESSION_ID}".*?</tr>', page, re.S)
        assert row is not None
        assert f"{SESSION_ID}.yaml" in row.group(0)
        assert "état précédent conservé dans les calendriers" in row.group(0)
        assert "2027-13-45" in row.group(0)
        session = client.get(f"/sessions/{SESSION_ID}")
        assert session.status_code == 200
        text = _text(session.text)
        assert "état précédent conservé dans les calendriers" in text
        assert "2027-13-45" in text
        # an id nobody wrote is still a 404
        assert client.get("/sessions/nexiste-pas").status_code == 404


def test_a_broken_session_keeps_its_last_good_state_across_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last good state is kept by the store, not only by the process: after a restart,
    the broken session is still shown as it last loaded (never its candidates' names)."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path) as first, first.logged_in() as client:
        assert f'id="s-{SESSION_ID}"' in client.get("/").text  # loaded good, kept
    kept = first.store.last_good([SESSION_ID])[SESSION_ID]
    assert '"end": "2027-03-19"' in kept
    assert '"list"' not in kept  # counts only
    _break(tmp_path / "config")
    with serve(tmp_path) as second, second.logged_in() as client:  # a restart
        page = _text(client.get("/").text)
        row = re.search(rf'<tr id="s-{SESSION_ID}".*?</tr>', page, re.S)
        assert row is not None
        assert "Fichier en erreur" in row.group(0)
        assert "Commander le pli d'examen (DTE)" in row.group(0)  # its last good state
        assert "état précédent conservé dans les calendriers" not in row.group(0)
        text = _text(client.get(f"/sessions/{SESSION_ID}").text)
        assert "dernier état lu sans erreur" in text
        assert "2027-13-45" in text


def test_a_session_page_shows_the_service_instants_in_the_centres_time(served: Served) -> None:
    """A session belongs to one centre: its page speaks the centre's time (St-André: Réunion,
    UTC+4), not UTC nor Paris."""
    from datetime import timedelta

    from syncsvc.core.jury import JuryReply
    from tests.web.conftest import NOW

    served.store.record_reply(
        JuryReply(
            key="imip:texte:0",
            source="imip",
            kind="text",
            status="pending",
            session_id=SESSION_ID,
            email="p.fontaine@jury.example",
            name="Patrick Fontaine",
            partstat=None,
            sequence=None,
            comment=None,
            replied_at=NOW - timedelta(hours=1),  # 07:00 UTC
            recorded_at=NOW,
            subject="RE: Invitation : Session d'examen",
            excerpt="Oui je serai là.",
        )
    )
    with served.logged_in() as client:
        text = _text(client.get(f"/sessions/{SESSION_ID}").text)
    assert "Oui je serai là." in text
    assert "le 08/02/2027 11:00" in text  # Réunion time
    assert "08:00" not in text  # not Paris
    assert not re.search(r"\d\d:\d\d UTC", text)


def test_templates_are_compiled_once_and_not_checked_on_disk_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """They ship with the package: a page does not stat its template files at every request."""
    from syncsvc.web.common import environment

    env = environment()
    first = env.get_template("error.j2")

    def no_disk(path: object) -> float:
        raise AssertionError(f"template file read again: {path}")

    monkeypatch.setattr(os.path, "getmtime", no_disk)
    assert env.get_template("error.j2") is first
