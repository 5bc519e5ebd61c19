"""Values that later stages cannot handle are refused when a session or centre is validated.

Mail composition refuses a header with a line break, the store's columns have sizes (names and
e-mails String(255), session ids String(80)), dates far in the past or future overflow when
offsets are applied, a time zone name is a file name for the lookup. Each test gives one such
value and checks that validation refuses it on the right field, while ordinary French text
(accents, apostrophes, brackets) is still accepted.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from syncsvc.core.model import Centre, Session
from tests.harness.factories import CENTRE, SESSION, centre, session

JURY = SESSION["jury"]
PERSON = {"name": "Jean Hoarau", "email": "jean@centre.example"}
EXTRA_RULE = {
    "id": "salle_reservation",
    "title": "Réserver les salles",
    "kind": "advice",
    "audience": ["coordinators"],
    "anchor": "start",
    "offset": "-60d",
}


def refused(build: Any, **changes: Any) -> list[tuple[tuple[int | str, ...], str]]:
    """(location, error type) of each refusal; fails when the value is accepted."""
    with pytest.raises(ValidationError) as raised:
        build(**changes)
    return [(tuple(e["loc"]), e["type"]) for e in raised.value.errors()]


def refused_at(build: Any, **changes: Any) -> set[tuple[int | str, ...]]:
    return {loc for loc, _ in refused(build, **changes)}


# --- control characters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("Jean\r\nBcc: tous@example.org", id="crlf"),
        pytest.param("Jean\nHoarau", id="lf"),
        pytest.param("Jean\x00Hoarau", id="nul"),
        pytest.param("Jean\x1b[31mHoarau", id="esc"),
        pytest.param("Jean\tHoarau", id="tab"),
        pytest.param("Jean\x85Hoarau", id="next-line"),
        pytest.param("Jean\u2028Hoarau", id="line-separator"),
        pytest.param("Jean\x7fHoarau", id="del"),
    ],
)
def test_control_character_in_a_name_is_refused(bad: str) -> None:
    assert refused_at(session, session_manager={**PERSON, "name": bad}) == {
        ("session_manager", "name")
    }


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        pytest.param(
            {"title": {**SESSION["title"], "label": "Secrétaire\r\nassistant"}},
            ("title", "label"),
            id="title-label",
        ),
        pytest.param(
            {"title": {**SESSION["title"], "acronym": "S\nA"}}, ("title", "acronym"), id="acronym"
        ),
        pytest.param({"location": "Salle B12\x00"}, ("location",), id="location"),
        pytest.param({"location": "Salle\nB12"}, ("location",), id="location-lf"),
        pytest.param({"nature": "ccp", "ccp_code": "CP-00412\x1b"}, ("ccp_code",), id="ccp-code"),
        pytest.param(
            {"jury": [{**JURY[0], "company": "Cabinet\nMaillot"}, JURY[1]]},
            ("jury", 0, "company"),
            id="jury-company",
        ),
        pytest.param(
            {"jury": [{**JURY[0], "ccp": ["CP-\n00412"]}, JURY[1]]},
            ("jury", 0, "ccp", 0),
            id="jury-ccp",
        ),
        pytest.param(
            {"coordinators": [{"name": "Nathalie\x0bTécher", "email": "n@centre.example"}]},
            ("coordinators", 0, "name"),
            id="coordinator-name",
        ),
        pytest.param(
            {"candidates": {"list": [{"name": "Karim\nBenali"}]}},
            ("candidates", "list", 0, "name"),
            id="candidate-name",
        ),
        pytest.param(
            {"candidates": {"list": [{"name": "Karim", "host_company": "Transports\x00"}]}},
            ("candidates", "list", 0, "host_company"),
            id="candidate-company",
        ),
        pytest.param(
            {"done": {"dte\norder": date(2026, 11, 20)}},
            ("done", "dte\norder", "[key]"),
            id="done-key",
        ),
    ],
)
def test_control_character_in_a_session_text_is_refused(
    changes: dict[str, Any], where: tuple[int | str, ...]
) -> None:
    assert where in refused_at(session, **changes)


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        pytest.param({"name": "Centre\r\nde test"}, ("name",), id="name"),
        pytest.param(
            {"management": [{"name": "Marie\nPayet", "email": "m@centre.example"}]},
            ("management", 0, "name"),
            id="management",
        ),
        pytest.param(
            {"rules": {"extra": [{**EXTRA_RULE, "title": "Réserver\r\nles salles"}]}},
            ("rules", "extra", 0, "title"),
            id="extra-rule-title",
        ),
        pytest.param(
            {"rules": {"extra": [{**EXTRA_RULE, "description": "Salle\x1b[2J B12"}]}},
            ("rules", "extra", 0, "description"),
            id="extra-rule-description",
        ),
        pytest.param(
            {"rules": {"disable": ["dte_reception_check\n"]}},
            ("rules", "disable", 0),
            id="disable",
        ),
        pytest.param(
            {"rules": {"overrides": {"dte_order\x00": {"offset": "-100d"}}}},
            ("rules", "overrides", "dte_order\x00", "[key]"),
            id="override-key",
        ),
    ],
)
def test_control_character_in_a_centre_text_is_refused(
    changes: dict[str, Any], where: tuple[int | str, ...]
) -> None:
    assert where in refused_at(centre, **changes)


def test_ordinary_french_text_is_accepted() -> None:
    built = session(
        title={**SESSION["title"], "label": "Secrétaire [/bold] assistant — « comptable »"},
        location="AFPAR Saint-André, salle B12 (1er étage) — l'accueil",
        session_manager={"name": "Jean-Luc D'Hoarau", "email": "jl.dhoarau@centre.example"},
    )

    assert built.title.label == "Secrétaire [/bold] assistant — « comptable »"


def test_a_multi_line_rule_description_may_hold_line_breaks_and_tabs() -> None:
    text = "Réserver la salle B12 :\n\t- vidéoprojecteur\n\t- tables séparées"
    built = centre(rules={"extra": [{**EXTRA_RULE, "description": text}]})

    assert built.rules.extra[0].description == text


# --- lengths: nothing valid overflows the store's columns ---------------------------------------


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        pytest.param(
            {"session_manager": {**PERSON, "name": "N" * 121}},
            ("session_manager", "name"),
            id="name-121",
        ),
        pytest.param(
            {"session_manager": {**PERSON, "name": "N" * 300}},
            ("session_manager", "name"),
            id="name-300",
        ),
        pytest.param(
            {"session_manager": {**PERSON, "email": "j" * 290 + "@centre.example"}},
            ("session_manager", "email"),
            id="email-300",
        ),
        pytest.param(
            {"session_manager": {**PERSON, "email": "j" * 65 + "@centre.example"}},
            ("session_manager", "email"),
            id="email-local-part-65",
        ),
        pytest.param(
            {"session_manager": {**PERSON, "email": "jean@" + "c" * 64 + ".example"}},
            ("session_manager", "email"),
            id="email-domain-label-64",
        ),
        pytest.param(
            {"session_manager": {**PERSON, "email": "jean\x00x@centre.example"}},
            ("session_manager", "email"),
            id="email-nul",
        ),
        pytest.param(
            {"session_manager": {**PERSON, "email": "jean\x1b@centre.example"}},
            ("session_manager", "email"),
            id="email-esc",
        ),
        pytest.param(
            {"title": {**SESSION["title"], "label": "L" * 201}}, ("title", "label"), id="label"
        ),
        pytest.param({"location": "L" * 301}, ("location",), id="location"),
        pytest.param(
            {"jury": [{**JURY[0], "company": "C" * 201}, JURY[1]]},
            ("jury", 0, "company"),
            id="company",
        ),
        pytest.param(
            {"done": {"d" * 65: date(2026, 11, 20)}}, ("done", "d" * 65, "[key]"), id="done-key"
        ),
        pytest.param({"candidates": {"training": 10**9}}, ("candidates", "training"), id="count"),
        pytest.param(
            {"jury": [{**JURY[0], "email": f"j{n}@jury.example"} for n in range(51)]},
            ("jury",),
            id="jury-51",
        ),
    ],
)
def test_value_too_long_is_refused(changes: dict[str, Any], where: tuple[int | str, ...]) -> None:
    assert where in refused_at(session, **changes)


def test_centre_rule_id_is_short_enough_for_the_reminder_keys() -> None:
    rule = {**EXTRA_RULE, "id": "r" * 33}

    assert refused_at(centre, rules={"extra": [rule]}) == {("rules", "extra", 0, "id")}


def test_longest_accepted_values_fit_the_store() -> None:
    email = "j" * 64 + "@" + ".".join(["c" * 63, "d" * 63, "e" * 61])
    assert len(email) == 254
    built = session(
        session_manager={"name": "N" * 120, "email": "jean@centre.example"},
        deputy_manager={"name": "N", "email": email[:-5]},
    )

    assert len(built.session_manager.name) <= 255
    assert built.deputy_manager is not None
    assert len(built.deputy_manager.email) <= 255
    assert len(built.id) <= 80


@pytest.mark.parametrize(
    "person",
    [
        pytest.param({"name": "N" * 120, "email": "j" * 64 + "@" + "c" * 63 + ".example"}),
        pytest.param({"name": '"' * 100, "email": "j" * 60 + "@" + "c" * 40 + ".example"}),
    ],
)
def test_name_and_address_too_long_for_a_recipient_line_are_refused(
    person: dict[str, str],
) -> None:
    # The outbox keeps each message's recipient line, `"Name" <address>`, in 255 characters.
    assert refused_at(session, session_manager=person) == {("session_manager", "email")}
    candidate = {**person, "route": "vae"}
    assert refused_at(session, candidates={"list": [candidate]}) == {
        ("candidates", "list", 0, "email")
    }


# --- dates within a sane range -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        pytest.param({"start": date(1, 1, 2)}, ("start",), id="start-0001"),
        pytest.param(
            {"start": date(9999, 12, 20), "end": date(9999, 12, 24)}, ("start",), id="start-9999"
        ),
        pytest.param({"end": date(2100, 1, 1)}, ("end",), id="end-2100"),
        pytest.param({"declared_on": date(1999, 12, 31)}, ("declared_on",), id="declared-1999"),
        pytest.param({"training_end": date(9999, 1, 1)}, ("training_end",), id="training-end"),
        pytest.param({"done": {"dte_order": date(1, 1, 1)}}, ("done", "dte_order"), id="done-0001"),
        pytest.param(
            {"jury": [{**JURY[0], "habilitation_until": date(9999, 12, 31)}, JURY[1]]},
            ("jury", 0, "habilitation_until"),
            id="habilitation-9999",
        ),
    ],
)
def test_date_out_of_range_is_refused(
    changes: dict[str, Any], where: tuple[int | str, ...]
) -> None:
    assert where in refused_at(session, **changes)


def test_agrement_date_out_of_range_is_refused() -> None:
    agrement = {**CENTRE["agrements"][0], "until": date(9999, 12, 31)}

    assert refused_at(centre, agrements=[agrement]) == {("agrements", 0, "until")}


def test_dates_at_the_edges_of_the_range_are_accepted() -> None:
    built = session(
        start=date(2000, 1, 3),
        end=date(2000, 1, 4),
        jury=[{**JURY[0], "habilitation_until": date(2099, 12, 31)}, JURY[1]],
    )

    assert built.jury[0].habilitation_until == date(2099, 12, 31)


# --- time zones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Europe/Paris" * 10_000, id="120000-characters"),
        pytest.param("../../../../etc/passwd", id="path"),
        pytest.param("/etc/localtime", id="absolute"),
        pytest.param("Europe/\nParis", id="line-break"),
        pytest.param("Europe/Pàris", id="accent"),
        pytest.param("Europe/Atlantis", id="unknown"),
    ],
)
def test_absurd_time_zone_is_refused_and_never_looked_up(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []

    def spy(key: str) -> ZoneInfo:
        looked_up.append(key)
        return ZoneInfo(key)

    monkeypatch.setattr("syncsvc.core.model.ZoneInfo", spy)

    assert refused_at(centre, timezone=name) == {("timezone",)}
    assert all(len(key) <= 64 and "." not in key and "\n" not in key for key in looked_up)


@pytest.mark.parametrize(
    "name", ["Europe/Paris", "Indian/Reunion", "America/Argentina/Buenos_Aires", "Etc/GMT+4", "UTC"]
)
def test_iana_time_zones_are_accepted(name: str) -> None:
    assert centre(timezone=name).timezone == name


def test_model_validation_still_builds_the_example_types() -> None:
    assert isinstance(session(), Session)
    assert isinstance(centre(), Centre)
