"""Issue 11, « milestones that don't apply »: a rule's ``condition`` (data in the ruleset) keeps
a milestone out of the plan — so out of calendars and mails — with a French reason.

Seen: the DWWM session of the example (agrément TP-01280 valid until 31/03/2028, session in
June 2027) got reminders for « Déposer la demande d'agrément si nécessaire », then « EN RETARD »
alerts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from syncsvc.core.model import Milestone
from syncsvc.core.planner import NotApplicable, not_applicable, plan_session, plan_sessions
from syncsvc.core.reminders import Policy, due_notifications
from syncsvc.core.rules.applicability import covers
from syncsvc.inputs.loader import load_config, load_ruleset
from tests.harness.factories import centre, session

ROOT = Path(__file__).resolve().parents[2]
RULESET = load_ruleset()
DWWM = "dwwm-2027-06-venissieux"
PARIS = ZoneInfo("Europe/Paris")


def ids(milestones: Iterable[Milestone | NotApplicable]) -> set[str]:
    return {m.id for m in milestones}


def test_dwwm_gets_no_agrement_request_reminder_nor_overdue_alert() -> None:
    config = load_config(ROOT / "config")
    # 7 Dec 2026 is the agrement_request day (7 June 2027 - 6 months): remind before, alert after
    for day in (date(2026, 11, 9), date(2026, 12, 7), date(2026, 12, 10), date(2027, 1, 20)):
        now = datetime.combine(day, time(9), PARIS)
        planning = plan_sessions(config, {}, now)
        dwwm = next(p for p in planning.planned if p.session.id == DWWM)
        assert "agrement_request" not in ids(dwwm.milestones)
        notes = due_notifications(planning.planned, Policy(), now)
        # in no one's mail of the day, nor in any weekly point
        about = [(i.owner, i.milestone.id) for n in notes for i in n.items]
        about += [(e.owner, e.milestone.id) for n in notes for e in (*n.overdue, *n.upcoming)]
        assert (DWWM, "agrement_request") not in about, day


def test_dwwm_agrement_request_is_set_apart_with_its_reason() -> None:
    config = load_config(ROOT / "config")
    planning = plan_sessions(config, {}, date(2026, 12, 10))
    apart = {n.id: n for n in planning.not_applicable[DWWM]}
    request = apart["agrement_request"]
    assert request.reason == (
        "l'agrément du centre pour TP-01280 court jusqu'au 31/03/2028, après la fin de la "
        "session (10/06/2027) : aucune demande à déposer"
    )
    assert request.due == date(2026, 12, 7)
    # the CTRMP session of the same centre is covered too (TP-01287 until 30/06/2029)
    assert "agrement_request" in {n.id for n in planning.not_applicable["ctrmp-2027-02-venissieux"]}


@pytest.mark.parametrize(
    ("until", "applies"),
    [
        (date(2027, 3, 18), True),  # ends during the session (15-19 March 2027)
        (date(2027, 3, 19), False),  # covers the last day
        (date(2026, 1, 1), True),  # long expired
    ],
)
def test_agrement_request_applies_when_no_agrement_covers_the_last_day(
    until: date, applies: bool
) -> None:
    c = centre(agrements=[{"title_code": "TP-00374", "until": until, "max_candidates": 15}])
    planned = ids(plan_session(session(), c, RULESET, date(2026, 8, 1)))
    assert ("agrement_request" in planned) is applies


def test_agrement_for_another_title_does_not_count() -> None:
    c = centre(
        agrements=[{"title_code": "TP-01280", "until": date(2035, 1, 1), "max_candidates": 9}]
    )
    assert "agrement_request" in ids(plan_session(session(), c, RULESET, date(2026, 8, 1)))
    assert "agrement_request" in ids(
        plan_session(session(), centre(agrements=[]), RULESET, date(2026, 8, 1))
    )


def test_title_versions_count_when_both_sides_give_them() -> None:
    """The optional ``title.version`` / ``agrements[].title_version`` (another part of issue 11)
    are read with a None default: a version given on one side only matches any version."""
    s = SimpleNamespace(title=SimpleNamespace(code="TP-00374", version=3), end=date(2027, 3, 19))

    def agrement(version: int | None) -> SimpleNamespace:
        return SimpleNamespace(title_code="TP-00374", until=date(2028, 1, 1), title_version=version)

    assert covers(agrement(3), s)  # type: ignore[arg-type]
    assert not covers(agrement(2), s)  # type: ignore[arg-type]
    assert covers(agrement(None), s)  # type: ignore[arg-type]
    assert covers(SimpleNamespace(title_code="TP-00374", until=date(2028, 1, 1)), session())


def test_dte_reception_check_is_set_apart_once_the_pli_is_marked_received() -> None:
    done = {"dte_reception": date(2027, 2, 10)}
    planned = plan_session(session(), centre(), RULESET, date(2027, 2, 11), done)
    assert "dte_reception_check" not in ids(planned)
    apart = {n.id: n for n in not_applicable(session(), centre(), RULESET, done)}
    assert apart["dte_reception_check"].reason == (
        "« Réception du pli, vérification, stockage sous clé » est marqué fait (le 10/02/2027)"
    )
    assert "dte_reception_check" in ids(
        plan_session(session(), centre(), RULESET, date(2027, 2, 11))
    )


def test_candidate_info_mail_only_when_the_centre_enables_candidate_mails() -> None:
    off = plan_session(session(), centre(), RULESET, date(2027, 3, 1))
    on = plan_session(session(), centre(candidate_info_mail=True), RULESET, date(2027, 3, 1))
    assert "candidate_info_mail" not in ids(off)
    assert "candidate_info_mail" in ids(on)
    reason = {n.id: n.reason for n in not_applicable(session(), centre(), RULESET)}
    assert reason["candidate_info_mail"] == (
        "le mail d'information aux candidats n'est pas activé pour Centre de test "
        "(candidate_info_mail: true dans centres.yaml pour l'activer)"
    )


CONDITIONAL = re.compile(r"si nécessaire|le cas échéant|\bsinon\b|si besoin", re.IGNORECASE)


def test_every_conditional_milestone_has_its_condition() -> None:
    """Each rule whose title, or explanation before « À faire », says it is conditional (« si
    nécessaire », « le cas échéant », « Sinon »…) carries a condition — except agrement_check,
    whose explanation only announces the request (the check itself always applies). Conditional
    words inside a checklist are steps of an applicable milestone, not conditions on it."""
    found = set()
    for rule in RULESET.rules:
        intro = rule.description.split("À faire")[0]
        if CONDITIONAL.search(rule.title) or CONDITIONAL.search(intro):
            found.add(rule.id)
    assert found == {"agrement_check", "agrement_request", "dte_reception_check"}
    conditions = {r.id: r.condition for r in RULESET.rules if r.condition is not None}
    assert set(conditions) == {
        "agrement_request",
        "dte_reception_check",
        "candidate_info_mail",
        "ud_postponement_notice",
    }
    assert conditions["agrement_request"].agrement_missing is True
    assert conditions["dte_reception_check"].not_done == "dte_reception"
    assert conditions["candidate_info_mail"].centre_enables == "candidate_info_mail"
