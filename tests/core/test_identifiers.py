"""Session identifiers from the title, the first day and the centre (the form's and the
import's rule), checked against the example files."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from syncsvc.core.identifiers import session_id_for, slug
from syncsvc.core.model import SESSION_ID_PATTERN
from syncsvc.inputs.loader import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_slug_drops_accents_and_joins_words_with_hyphens() -> None:
    assert slug("St-André") == "st-andre"
    assert slug("Vénissieux") == "venissieux"
    assert slug("  Cœur  d'Île ") == "coeur-d-ile"
    assert slug("---") == ""


@pytest.mark.parametrize(
    "session_id", ["sa-2027-03-st-andre", "ccp-ac-2027-05-st-andre", "dwwm-2027-06-venissieux"]
)
def test_the_example_identifiers_follow_the_rule(session_id: str) -> None:
    config = load_config(ROOT / "config")
    session = config.sessions[session_id]
    site = config.centres[session.centre].short_name
    made = session_id_for(session.title.acronym, session.start, site, nature=session.nature)
    assert made == session_id


def test_a_taken_identifier_gets_a_number() -> None:
    taken = {"sa-2027-03-st-andre", "sa-2027-03-st-andre-2"}
    made = session_id_for("SA", date(2027, 3, 15), "St-André", taken=taken)
    assert made == "sa-2027-03-st-andre-3"


def test_a_long_or_odd_input_still_gives_a_valid_identifier() -> None:
    made = session_id_for("É/T", date(2027, 1, 4), "x" * 200, nature="ccs", taken={"a"})
    assert made.startswith("ccs-e-t-2027-01-")
    assert re.fullmatch(SESSION_ID_PATTERN, made)
    assert re.fullmatch(SESSION_ID_PATTERN, session_id_for("", date(2027, 1, 4), ""))
