"""The optional keys of issue 11: accepted when well written, refused with a French message that
names the file and the field otherwise, with the same hardening as every other key (one line, no
control character, bounded lengths, dates 2000–2099), and sensible defaults when absent."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from syncsvc.core.model import Centre
from syncsvc.inputs.loader import load_config
from tests.core.test_model_limits import refused_at
from tests.harness.factories import CENTRE, SESSION, centre, session, write_config

JURY = SESSION["jury"]
TITLE = SESSION["title"]
AGREMENT = CENTRE["agrements"][0]
PERSON = {"name": "Line Hoarau", "email": "line@centre.example"}


def test_every_new_key_is_optional() -> None:
    built = session()
    assert built.title.expires_on is None
    assert built.title.version is None
    assert built.jury[0].title_code is None
    assert built.surveillant is None
    assert built.comedien is None
    assert centre().agrements[0].title_version is None
    assert centre().agrements[0].session_managers is None
    assert centre().address is None
    assert centre().phone is None


def test_every_new_key_is_read() -> None:
    built = session(
        title={**TITLE, "expires_on": date(2028, 6, 30), "version": "2017"},
        jury=[{**JURY[0], "title_code": "TP-00375"}, JURY[1]],
        candidates={
            "vae": 1,
            "list": [{"name": "X", "route": "vae", "recevabilite_until": date(2027, 9, 1)}],
        },
        surveillant=PERSON,
        comedien={"name": "Paul Comédien", "email": "paul@centre.example"},
    )
    assert built.title.expires_on == date(2028, 6, 30)
    assert built.title.version == "2017"
    assert built.jury[0].title_code == "TP-00375"
    assert built.candidates.named[0].recevabilite_until == date(2027, 9, 1)
    assert built.candidates.named[0].accommodation is False
    assert built.surveillant is not None
    assert built.surveillant.email == "line@centre.example"
    assert built.comedien is not None
    built_centre = centre(
        ud_name="DDETS du Rhône",
        address="12 rue de la Gare, 69200 Vénissieux",
        phone="+33 4 72 00 00 00",
        agrements=[
            {**AGREMENT, "title_version": "2017", "session_managers": ["Jean@Centre.example"]}
        ],
    )
    assert built_centre.ud_name == "DDETS du Rhône"
    assert built_centre.address == "12 rue de la Gare, 69200 Vénissieux"
    assert built_centre.agrements[0].session_managers == ("jean@centre.example",)


@pytest.mark.parametrize(
    ("zone", "address", "expected"),
    [
        ("metropole", None, "DDETS"),
        ("alsace-moselle", "4 rue de l'Industrie, 67000 Strasbourg", "DDETS"),
        ("metropole", "12 rue de la Gare, 69200 Vénissieux", "DDETS"),
        (
            "metropole",
            "10 rue de la Roquette, 75011 Paris",
            "DRIEETS Île-de-France, unité départementale de Paris",
        ),
        (
            "metropole",
            "1 avenue Jean Jaurès, 93200 Saint-Denis",
            "DRIEETS Île-de-France, unité départementale de Seine-Saint-Denis",
        ),
        ("metropole", "2 rue de la Mare, 91000 Évry", "DDETS de l'Essonne"),
        ("971", None, "DEETS de la Guadeloupe"),
        ("972", None, "DEETS de la Martinique"),
        ("973", None, "direction générale des populations de Guyane"),
        ("974", "1 rue du Stade, 97440 Saint-André", "DEETS de La Réunion"),
        ("976", None, "DEETS de Mayotte"),
    ],
)
def test_the_ud_is_named_by_zone_and_departement_unless_written(
    zone: str, address: str | None, expected: str
) -> None:
    """The names in force since 1 April 2021: DDETS, DRIEETS in Paris and the petite
    couronne, DEETS overseas — never the Direccte, and never « DEETS » for Paris."""
    assert centre(holiday_zone=zone, address=address).ud_name == expected
    written = centre(holiday_zone=zone, address=address, ud_name="DDETS du Rhône")
    assert written.ud_name == "DDETS du Rhône"


def test_the_ud_name_is_written_without_its_article() -> None:
    with pytest.raises(ValidationError, match=r"avec son article"):
        centre(ud_name="la DDETS du Rhône")


def test_a_centre_has_a_short_site_name_unless_written() -> None:
    assert centre(name="AFPAR Saint-André").short_name == "St-André"
    assert centre(name="GRETA Lyon Métropole — site de Vénissieux").short_name == "Vénissieux"
    assert centre(name="AFPA Strasbourg").short_name == "Strasbourg"
    assert centre(name="AFPA Strasbourg", short_name="Stras.").short_name == "Stras."


def test_a_version_written_as_a_number_or_a_date_is_text() -> None:
    assert session(title={**TITLE, "version": 2017}).title.version == "2017"
    assert session(title={**TITLE, "version": date(2017, 10, 27)}).title.version == "2017-10-27"
    built = centre(agrements=[{**AGREMENT, "title_version": 3}])
    assert built.agrements[0].title_version == "3"


# --- hardening ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        pytest.param(
            {"title": {**TITLE, "expires_on": date(2100, 1, 1)}},
            ("title", "expires_on"),
            id="expires-2100",
        ),
        pytest.param(
            {"title": {**TITLE, "expires_on": date(1999, 12, 31)}},
            ("title", "expires_on"),
            id="expires-1999",
        ),
        pytest.param(
            {"title": {**TITLE, "version": "20\n17"}}, ("title", "version"), id="version-lf"
        ),
        pytest.param(
            {"title": {**TITLE, "version": "v" * 33}}, ("title", "version"), id="version-33"
        ),
        pytest.param(
            {"jury": [{**JURY[0], "title_code": "TP-374"}, JURY[1]]},
            ("jury", 0, "title_code"),
            id="jury-title-code",
        ),
        pytest.param(
            {"candidates": {"list": [{"name": "X", "route": "vae", "recevabilite_until": "x"}]}},
            ("candidates", "list", 0, "recevabilite_until"),
            id="recevabilite-unreadable",
        ),
        pytest.param(
            {
                "candidates": {
                    "list": [{"name": "X", "route": "vae", "recevabilite_until": date(2100, 1, 1)}]
                }
            },
            ("candidates", "list", 0, "recevabilite_until"),
            id="recevabilite-2100",
        ),
        pytest.param(
            {"candidates": {"list": [{"name": "X", "recevabilite_until": date(2027, 9, 1)}]}},
            ("candidates", "list", 0, "recevabilite_until"),
            id="recevabilite-of-a-training-candidate",
        ),
        pytest.param(
            {"candidates": {"list": [{"name": "X", "accommodation": "oui"}]}},
            ("candidates", "list", 0, "accommodation"),
            id="accommodation-not-a-boolean",
        ),
        pytest.param(
            {"surveillant": {**PERSON, "name": "Line\r\nBcc: x@example.org"}},
            ("surveillant", "name"),
            id="surveillant-crlf",
        ),
        pytest.param(
            {"comedien": {**PERSON, "email": "pas-une-adresse"}},
            ("comedien", "email"),
            id="comedien-email",
        ),
    ],
)
def test_a_bad_session_value_is_refused_on_its_field(
    changes: dict[str, Any], where: tuple[int | str, ...]
) -> None:
    assert refused_at(session, **changes) == {where}


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        pytest.param({"ud_name": "DDETS\x1b[31m du Rhône"}, ("ud_name",), id="ud-name-esc"),
        pytest.param({"ud_name": "D" * 201}, ("ud_name",), id="ud-name-201"),
        pytest.param({"address": "12 rue\nde la Gare"}, ("address",), id="address-lf"),
        pytest.param({"address": "A" * 301}, ("address",), id="address-301"),
        pytest.param({"phone": "04 72\n00 00 00"}, ("phone",), id="phone-lf"),
        pytest.param({"phone": "appeler Marie"}, ("phone",), id="phone-words"),
        pytest.param({"phone": "0" * 33}, ("phone",), id="phone-33"),
        pytest.param({"phone": 472000000}, ("phone",), id="phone-number"),
        pytest.param(
            {"agrements": [{**AGREMENT, "title_version": "\x00"}]},
            ("agrements", 0, "title_version"),
            id="agrement-version-nul",
        ),
        pytest.param(
            {"agrements": [{**AGREMENT, "session_managers": ["pas-une-adresse"]}]},
            ("agrements", 0, "session_managers", 0),
            id="agrement-manager-email",
        ),
        pytest.param(
            {
                "agrements": [
                    {**AGREMENT, "session_managers": [f"rs{n}@c.example" for n in range(51)]}
                ]
            },
            ("agrements", 0, "session_managers"),
            id="agrement-managers-51",
        ),
    ],
)
def test_a_bad_centre_value_is_refused_on_its_field(
    changes: dict[str, Any], where: tuple[int | str, ...]
) -> None:
    assert refused_at(centre, **changes) == {where}


# --- the lines people read ---------------------------------------------------------------------


def test_refusals_are_french_lines_naming_file_and_field(tmp_path: Path) -> None:
    folder = write_config(
        tmp_path,
        [
            {
                **SESSION,
                "title": {**TITLE, "expires_on": "2027-02-30"},
                "candidates": {
                    "list": [{"name": "Karim Benali", "recevabilite_until": "2027-09-01"}]
                },
            }
        ],
        {**CENTRE, "phone": 472000000, "ud_name": "DDETS\ndu Rhône"},
    )
    lines = [str(p) for p in load_config(folder).problems]
    session_file = folder / "sessions" / "sa-test.yaml"
    centres_file = folder / "centres.yaml"
    expected = {
        (session_file, "title.expires_on: date « 2027-02-30 » invalide"),
        (session_file, "candidates.list[1].recevabilite_until: recevabilité VAE"),
        (centres_file, "centre-test.phone: numéro de téléphone lu comme le nombre"),
        (centres_file, "centre-test.ud_name: texte"),
    }
    for file, rest in expected:
        start = re.compile(rf"{re.escape(str(file))}: ligne \d+, {re.escape(rest)}")
        assert any(start.match(line) for line in lines), (start, lines)
    assert all("attendu" in line for line in lines), lines
    assert not any("Karim" in line or "2027-09-01" in line for line in lines), lines


def test_the_example_centres_still_load() -> None:
    example = Path(__file__).resolve().parents[2] / "config"
    assert all(isinstance(c, Centre) for c in load_config(example).centres.values())
