"""Issue 11, « after-the-event deadlines moved before the event »: a deadline counted after an
event (the session's end, a validated PV…) is never due before that event; the shift of each
milestone is documented in the ruleset, and ``previous`` on such a rule needs a reason.

Seen: a session ending Saturday 20/03/2027 got results entry, PV signature and CERES closure due
Friday 19/03; a PV validated on Sunday 15/08 gave results posting due Friday 13/08, before the
PV arrives (posting before the validated PV is forbidden, S3).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from syncsvc.core.planner import plan_session
from syncsvc.core.rules import Rule
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import centre, session

RULESET = load_ruleset()
NOW = date(2026, 11, 23)


def due(**changes: Any) -> dict[str, date]:
    return {m.id: m.due for m in plan_session(session(**changes), centre(), RULESET, NOW)}


def test_a_session_ending_on_saturday_20_march_2027() -> None:
    days = due(start=date(2027, 3, 16), end=date(2027, 3, 20))
    assert days["results_entry"] == date(2027, 3, 20)  # with the jury, on the last day
    assert days["pv_signature"] == date(2027, 3, 20)
    assert days["ceres_session_close"] == date(2027, 3, 22)  # next working day, Monday
    assert days["pv_transmission"] == date(2027, 3, 25)  # + 5 days, a Thursday


def test_results_posting_for_a_pv_validated_on_sunday_15_august_2027() -> None:
    days = due(start=date(2027, 6, 7), end=date(2027, 6, 10), pv_validated_on=date(2027, 8, 15))
    assert days["results_posting"] == date(2027, 8, 16)  # Monday, never the Friday before


def test_a_maximal_delay_keeps_the_previous_working_day_but_never_crosses_the_event() -> None:
    transport = {"code": "TP-01287", "acronym": "CTRMP", "label": "Conducteur", "transport": True}
    # ends Friday 26 Feb 2027: + 2 days is a Sunday, the Friday keeps the 48 hours
    assert due(title=transport, start=date(2027, 2, 22), end=date(2027, 2, 26))[
        "pv_transmission"
    ] == date(2027, 2, 26)
    # ends Saturday 27 March 2027: + 2 days is Easter Monday; the previous working day would be
    # Friday 26, before the end: the next one, Tuesday 30, instead
    assert due(title=transport, start=date(2027, 3, 22), end=date(2027, 3, 27))[
        "pv_transmission"
    ] == date(2027, 3, 30)


def test_every_shipped_rule_says_why_its_shift() -> None:
    shifts = {rule.id: rule.shift for rule in RULESET.rules}
    assert all(rule.shift_reason for rule in RULESET.rules), [
        r.id for r in RULESET.rules if not r.shift_reason
    ]
    assert {rid for rid, shift in shifts.items() if shift == "none"} == {
        "exam_session",
        "results_entry",
        "pv_signature",
    }
    assert {rid for rid, shift in shifts.items() if shift == "next"} == {
        "dte_reception_check",
        "ceres_session_close",
        "results_posting",
        "archive_retention_end",
        "ud_postponement_notice",
    }
    justified = {r.id for r in RULESET.rules if r.after_event and r.shift == "previous"}
    assert justified == {"pv_transmission", "parchemins_report", "retake_window_end"}


RULE: dict[str, Any] = {
    "id": "compte_rendu",
    "title": "Envoyer le compte rendu",
    "kind": "advice",
    "audience": ["coordinators"],
    "anchor": "end",
    "offset": "+0d",
}


def test_previous_on_an_after_event_rule_is_refused_unless_justified() -> None:
    with pytest.raises(ValidationError, match="shift: previous pourrait avancer l'échéance"):
        Rule.model_validate({**RULE, "shift": "previous"})
    Rule.model_validate({**RULE, "shift": "next"})
    Rule.model_validate({**RULE, "shift": "previous", "shift_reason": "délai maximal de 3 jours"})
    Rule.model_validate({**RULE, "offset": "-1d", "shift": "previous"})  # counted before the end
    assert Rule.model_validate(RULE).shift == "next"  # the default for an after-event rule
    assert Rule.model_validate({**RULE, "anchor": "start"}).shift == "previous"
