"""The last good state of a session as the store keeps it: read back the same, names left out."""

from __future__ import annotations

from datetime import date

from syncsvc.formats.session_state import session_from_json, session_json
from tests.harness.factories import session


def test_a_session_is_read_back_the_same_without_its_candidates_names() -> None:
    s = session(
        first_day_start="08:30",
        days=[{"date": date(2027, 3, 15), "start": "08:30", "end": "17:30"}],
        candidates={"training": 1, "list": [{"name": "Julie Perret", "host_company": "Géodis"}]},
    )
    text = session_json(s)
    assert "Julie" not in text
    assert "Géodis" not in text
    back = session_from_json(text)
    assert back is not None
    assert back.model_dump(exclude={"candidates"}) == s.model_dump(exclude={"candidates"})
    assert back.candidates.training == 1
    assert back.candidates.named == ()
    assert session_from_json('{"id": "x"}') is None  # not a session any more: nothing shown
