"""Whose time a page speaks: one centre's thing (a session, its jury's answers) at that centre's
time, named when it is not the reader's; the service's own instants (« état au », the calendars'
synchronisation) at the reader's time, ``[[web.users]] timezone`` or the service's ``timezone``.

The clock says 08/02/2027 08:00 UTC: 09:00 in Paris, 12:00 in La Réunion (St-André)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncsvc.core.jury import JuryReply
from syncsvc.errors import ConfigError
from syncsvc.inputs.settings import Settings, WebSettings, WebUser, load_settings
from tests.web.conftest import (
    NAME,
    OTHER,
    OTHER_PASSWORD,
    SECRET,
    SECRET_ENV,
    SESSION_ID,
    Served,
    _hashes,
    serve,
)
from tests.web.test_jury import FONTAINE, invite

LATE_IN_PARIS = datetime(2027, 2, 7, 22, 30, tzinfo=UTC)
"""23:30 in Paris on Sunday 07/02, already 02:30 on Monday 08/02 in La Réunion."""
ST_ANDRE_NOTE = (
    "Dates et heures de chaque session à l'heure de son centre — AFPAR Saint-André : heure de "
    "La Réunion (UTC+4)."
)


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", page))


def _reunion_reader(config: Path) -> Settings:
    """``coordination`` reads at the service's time (Paris); ``direction`` lives in La Réunion."""
    first, second = _hashes()
    users = (
        WebUser(login="coordination", password_hash=first, name=NAME),
        WebUser(login=OTHER, password_hash=second, timezone="Indian/Reunion"),
    )
    base = load_settings(config)
    return base.model_copy(update={"web": WebSettings(users=users), "secret_key_env": SECRET_ENV})


@pytest.fixture
def two_readers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, _reunion_reader) as running:
        yield running


def test_the_dashboard_is_at_the_readers_time_and_names_the_centres_elsewhere(
    two_readers: Served,
) -> None:
    with two_readers.logged_in() as client:
        paris = _text(client.get("/").text)
    with two_readers.logged_in(OTHER, OTHER_PASSWORD) as client:
        reunion = _text(client.get("/").text)
    assert "état au 08/02/2027 09:00." in paris
    assert ST_ANDRE_NOTE in paris
    assert "heure de métropole" not in paris
    assert "état au 08/02/2027 12:00." in reunion
    assert (
        "Dates et heures de chaque session à l'heure de son centre — AFPA Strasbourg : heure de "
        "métropole ; GRETA Lyon Métropole — site de Vénissieux : heure de métropole." in reunion
    )
    assert "La Réunion (UTC+4)" not in reunion


def test_a_session_page_says_once_that_its_times_are_its_centres(two_readers: Served) -> None:
    """The jury's answer at 23:30 Paris time is 02:30 the next day at St-André: the St-André
    page shows Monday 08/02 to every reader, and says whose time it is to the Paris one."""
    invite(two_readers.store, FONTAINE, "Patrick Fontaine")
    two_readers.store.record_reply(
        JuryReply(
            key="imip:tard:0",
            source="imip",
            kind="reply",
            status="applied",
            session_id=SESSION_ID,
            email=FONTAINE,
            name="Patrick Fontaine",
            partstat="ACCEPTED",
            sequence=0,
            comment=None,
            replied_at=LATE_IN_PARIS,
            recorded_at=LATE_IN_PARIS,
        )
    )
    note = "Fuseau dates et heures de cette page à l'heure de La Réunion (UTC+4)"
    with two_readers.logged_in() as client:
        paris = _text(re.sub(r"<[^>]+>", " ", client.get(f"/sessions/{SESSION_ID}").text))
        lyon = _text(re.sub(r"<[^>]+>", " ", client.get("/sessions/dwwm-2027-06-venissieux").text))
    with two_readers.logged_in(OTHER, OTHER_PASSWORD) as client:
        reunion = _text(re.sub(r"<[^>]+>", " ", client.get(f"/sessions/{SESSION_ID}").text))
        lyon_there = _text(
            re.sub(r"<[^>]+>", " ", client.get("/sessions/dwwm-2027-06-venissieux").text)
        )
    for page in (paris, reunion):
        assert "le 08/02/2027 02:30" in page
        assert "07/02/2027" not in page
    assert paris.count(note) == 1
    assert "Fuseau" not in reunion
    assert "Fuseau" not in lyon
    assert "Fuseau dates et heures de cette page à l'heure de métropole" in lyon_there


def test_the_calendars_synchronisation_is_at_each_readers_time(two_readers: Served) -> None:
    """Not one centre's: the Paris reader sees Sunday 23:30, the Réunion one Monday 02:30."""
    two_readers.store.record_failure("coordination-st-andre", "serveur injoignable", LATE_IN_PARIS)
    with two_readers.logged_in() as client:
        paris = _text(client.get("/targets").text)
    with two_readers.logged_in(OTHER, OTHER_PASSWORD) as client:
        reunion = _text(client.get("/targets").text)
    assert ">07/02/2027 23:30<" in paris
    assert ">08/02/2027 02:30<" in reunion
    assert "23:30" not in reunion


def test_a_users_zone_is_an_iana_name(tmp_path: Path) -> None:
    (tmp_path / "syncsvc.toml").write_text(
        '[[web.users]]\nlogin = "direction"\npassword_hash = "scrypt$16384$8$1$abcdefghijkl"\n'
        'timezone = "Indian/Reuniom"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'syncsvc.toml'}: web.users[1].timezone: fuseau « Indian/Reuniom » inconnu "
        "(attendu : un nom IANA, ex. Europe/Paris)"
    )


def test_the_jury_directory_counts_from_the_readers_day(two_readers: Served) -> None:
    """No one centre's: at 23:30 in Paris, the Paris reader's today is Sunday 07/02, the Réunion
    reader's already Monday 08/02."""
    two_readers.clock.now = LATE_IN_PARIS
    with two_readers.logged_in() as client:
        paris = _text(client.get("/annuaire-jury").text)
    with two_readers.logged_in(OTHER, OTHER_PASSWORD) as client:
        reunion = _text(client.get("/annuaire-jury").text)
    assert "Du 07/02/2027 au 08/05/2027, la plus proche en premier." in paris
    assert "Du 08/02/2027 au 09/05/2027, la plus proche en premier." in reunion
