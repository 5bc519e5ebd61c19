"""Issue 12, points 3 « Reporter » and 4 « Annuler », below the dashboard: what a session file
that says ``cancelled:`` or ``postponed:`` gives — the French validation of both, the plan
(« annulé », « à refaire », « Informer l'UD du report »), the calendar items (kept as cancelled in
iCalendar, Google and Graph spelling), the reminders (none for a cancelled session), the words.

Session files are written as YAML and loaded by the loader, as the service does. The factory
session runs from Monday 15 to Friday 19 March 2027 in a metropolitan centre; postponed on
Tuesday 1 December 2026 to Monday 12 – Friday 16 April 2027.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from syncsvc.core.checks import check_session
from syncsvc.core.entries import entry_for
from syncsvc.core.planner import Planned, plan_sessions
from syncsvc.core.reminders import Policy, due_notifications
from syncsvc.core.words import cancellation_text, postponement_texts
from syncsvc.formats.google_event import event_resource
from syncsvc.formats.graph_event import event_body
from syncsvc.formats.ical import resource_bytes
from syncsvc.formats.mail_views import headline
from syncsvc.inputs.loader import load_config
from tests.harness.factories import SESSION, write_config

PARIS = ZoneInfo("Europe/Paris")
CANCELLED = {"on": date(2027, 1, 11), "reason": "Nombre de candidats insuffisant"}
POSTPONED = {
    **SESSION,
    "start": date(2027, 4, 12),
    "end": date(2027, 4, 16),
    "postponed": [
        {
            "from_start": date(2027, 3, 15),
            "from_end": date(2027, 3, 19),
            "on": date(2026, 12, 1),
            "reason": "Plateau technique indisponible",
        }
    ],
    "done": {
        "dte_order": date(2026, 11, 20),
        "ud_session_declaration": date(2026, 11, 20),
        "jury_convocation": date(2026, 11, 25),
    },
}


def loaded(tmp_path: Path, **changes: Any) -> Any:
    return load_config(write_config(tmp_path, [{**SESSION, **changes}]))


def planned(tmp_path: Path, body: dict[str, Any], now: date | datetime) -> Planned:
    config = load_config(write_config(tmp_path, [body]))
    assert not config.problems, config.problems
    (found,) = plan_sessions(config, {}, now).planned
    return found


def problems(tmp_path: Path, **changes: Any) -> list[str]:
    config = loaded(tmp_path, **changes)
    # the line of the field (tests/inputs/test_field_lines.py) is left out: written by yaml.dump
    return [
        re.sub(r"^ligne \d+, ", "", str(p).split("sa-test.yaml: ", 1)[1]) for p in config.problems
    ]


# --- the session file ---------------------------------------------------------------------------


def test_cancelled_is_true_or_a_block_with_its_day_and_reason(tmp_path: Path) -> None:
    legacy = loaded(tmp_path / "a", cancelled=True).sessions["sa-test"]
    assert legacy.cancelled is not None
    assert (legacy.cancelled.on, legacy.cancelled.reason) == (None, None)
    assert cancellation_text(legacy) == "Session annulée"

    block = loaded(tmp_path / "b", cancelled=CANCELLED).sessions["sa-test"]
    assert block.cancelled is not None
    assert block.cancelled.on == date(2027, 1, 11)
    assert cancellation_text(block) == (
        "Session annulée le 11/01/2027 : Nombre de candidats insuffisant"
    )

    assert loaded(tmp_path / "c", cancelled=False).sessions["sa-test"].cancelled is None
    assert cancellation_text(loaded(tmp_path / "d").sessions["sa-test"]) is None


def test_a_wrong_cancellation_is_told_in_french(tmp_path: Path) -> None:
    hint = 'attendu : true, ou un bloc {on: 2027-01-11, reason: "le motif"}'
    assert problems(tmp_path / "a", cancelled="oui") == [
        f"cancelled: annulation « oui » illisible ({hint})"
    ]
    assert problems(tmp_path / "b", cancelled={"on": date(2027, 1, 11)}) == [
        f"cancelled: annulation sans reason ({hint} ; on est le jour de l'annulation, reason "
        "son motif)"
    ]
    assert problems(tmp_path / "c", cancelled={**CANCELLED, "par": "Nathalie"}) == [
        "cancelled.par: clé inconnue (attendu : une des clés on, reason)"
    ]


def test_a_wrong_postponement_is_told_in_french(tmp_path: Path) -> None:
    step = POSTPONED["postponed"][0]
    without_reason = {k: v for k, v in step.items() if k != "reason"}
    assert problems(tmp_path / "a", **{**POSTPONED, "postponed": [without_reason]}) == [
        "postponed[1].reason: champ obligatoire manquant (attendu : une valeur pour reason)"
    ]
    same = {**step, "from_start": date(2027, 4, 12), "from_end": date(2027, 4, 16)}
    assert problems(tmp_path / "b", **{**POSTPONED, "postponed": [same]}) == [
        "postponed: report du 2026-12-01 sans changement de dates : from_start et from_end sont "
        "les dates actuelles de la session (attendu : les dates d'avant le report, start et end "
        "portant les nouvelles)"
    ]
    reversed_days = {**step, "from_end": date(2027, 3, 10)}
    assert problems(tmp_path / "c", **{**POSTPONED, "postponed": [reversed_days]}) == [
        "postponed[1].from_end: l'ancienne fin (2027-03-10) précède l'ancien début (2027-03-15) "
        "(attendu : from_end égal ou postérieur à from_start)"
    ]
    earlier = {**step, "on": date(2026, 11, 2), "from_start": date(2027, 2, 15)}
    earlier["from_end"] = date(2027, 2, 19)
    assert problems(tmp_path / "d", **{**POSTPONED, "postponed": [step, earlier]}) == [
        "postponed: reports dans le désordre (attendu : du plus ancien au plus récent, par date on)"
    ]


def test_postponements_are_told_old_to_new(tmp_path: Path) -> None:
    first = {
        "from_start": date(2027, 2, 15),
        "from_end": date(2027, 2, 19),
        "on": date(2026, 10, 5),
        "reason": "Formateur absent",
    }
    twice = {**POSTPONED, "postponed": [first, *POSTPONED["postponed"]]}
    session = loaded(tmp_path, **twice).sessions["sa-test"]
    assert postponement_texts(session) == [
        "Session reportée le 05/10/2026 (Formateur absent) : du 15/02/2027 au 19/02/2027 → du "
        "15/03/2027 au 19/03/2027",
        "Session reportée le 01/12/2026 (Plateau technique indisponible) : du 15/03/2027 au "
        "19/03/2027 → du 12/04/2027 au 16/04/2027",
    ]


# --- cancelled: the plan and the items ----------------------------------------------------------


def test_every_milestone_of_a_cancelled_session_is_cancelled_done_days_kept(
    tmp_path: Path,
) -> None:
    body = {**SESSION, "cancelled": CANCELLED, "done": {"dte_order": date(2026, 11, 20)}}
    session, _, milestones = planned(tmp_path, body, date(2027, 1, 12))
    assert {m.status for m in milestones} == {"cancelled"}
    dte = next(m for m in milestones if m.id == "dte_order")
    assert (dte.due, dte.done_on) == (date(2026, 12, 11), date(2026, 11, 20))
    assert session.cancelled is not None


def test_a_cancelled_session_keeps_its_events_and_tasks_marked_cancelled(
    tmp_path: Path,
) -> None:
    session, centre, milestones = planned(
        tmp_path, {**SESSION, "cancelled": CANCELLED}, date(2027, 1, 12)
    )
    by_id = {m.id: m for m in milestones}
    stamp = datetime(2027, 1, 12, 8, tzinfo=UTC)

    exam = entry_for(session, centre, by_id["exam_session"])
    assert exam.summary == "ANNULÉE — Session d'examen — SA Centre de test"
    assert exam.description.startswith(
        "Session annulée le 11/01/2027 : Nombre de candidats insuffisant\n\nTP-00374 "
        "Secrétaire assistant — session du 15/03/2027 au 19/03/2027"
    )
    assert exam.alarm_days is None
    (event,) = Calendar.from_ical(resource_bytes(exam, stamp, 1)).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert str(event["SUMMARY"]).startswith("ANNULÉE — ")
    assert event.decoded("DTSTART") == datetime(2027, 3, 15, 8, 30, tzinfo=PARIS)
    assert not event.walk("VALARM")

    task = entry_for(session, centre, by_id["candidate_convocation"], "tasks")
    (todo,) = Calendar.from_ical(resource_bytes(task, stamp, 1)).walk("VTODO")
    assert str(todo["STATUS"]) == "CANCELLED"
    assert str(todo["SUMMARY"]) == "ANNULÉE — J-31 · Convocation candidats — SA Centre de test"
    assert todo.decoded("DUE") == date(2027, 2, 12)
    assert str(todo["DESCRIPTION"]).startswith("Session annulée le 11/01/2027 : ")
    assert not todo.walk("VALARM")


def test_google_and_graph_keep_the_event_with_the_prefixed_title(tmp_path: Path) -> None:
    session, centre, milestones = planned(
        tmp_path, {**SESSION, "cancelled": CANCELLED}, date(2027, 1, 12)
    )
    dte = entry_for(session, centre, next(m for m in milestones if m.id == "dte_order"))
    google = event_resource(dte, "hash", 2)
    assert google["status"] == "confirmed"  # « cancelled » would delete it in Google Calendar
    assert google["summary"] == "ANNULÉE — J-92 · DTE — SA Centre de test"
    assert google["description"].startswith("Session annulée le 11/01/2027 : Nombre de")
    assert (google["colorId"], google["transparency"]) == ("8", "transparent")
    assert google["reminders"] == {"useDefault": False, "overrides": []}

    graph = event_body(dte)
    assert "isCancelled" not in graph  # read-only in Graph: see formats.graph_event
    assert graph["subject"] == "ANNULÉE — J-92 · DTE — SA Centre de test"
    assert graph["body"]["content"].startswith("Session annulée le 11/01/2027 : ")
    assert "syncsvc:cancelled" in graph["categories"]
    assert (graph["showAs"], graph["isReminderOn"]) == ("free", False)


def test_a_cancelled_session_gets_no_reminder_alert_or_weekly_point(tmp_path: Path) -> None:
    # Monday 1 March 2027, 08:00 in Paris: the mail of the day and the weekly point are due,
    # with J-14 reminders and overdue milestones for the session as it is.
    now = datetime(2027, 3, 1, 8, tzinfo=PARIS)
    live = planned(tmp_path / "live", SESSION, now)
    sent = due_notifications([live], Policy(), now)
    assert {n.recipient.email for n in sent} >= {"nathalie@centre.example", "jean@centre.example"}

    cancelled = planned(tmp_path / "cancelled", {**SESSION, "cancelled": CANCELLED}, now)
    assert due_notifications([cancelled], Policy(), now) == []
    legacy = planned(tmp_path / "legacy", {**SESSION, "cancelled": True}, now)
    assert due_notifications([legacy], Policy(), now) == []


# --- postponed: « à refaire » and « Informer l'UD du report » ---------------------------------


def test_milestones_done_before_a_postponement_are_to_redo(tmp_path: Path) -> None:
    session, centre, milestones = planned(tmp_path, POSTPONED, date(2026, 12, 2))
    by_id = {m.id: m for m in milestones}
    declaration = by_id["ud_session_declaration"]
    # 12/04/2027 − 92 days = Sunday 10/01/2027: the previous working day
    assert (declaration.due, declaration.status) == (date(2027, 1, 8), "pending")
    assert (declaration.done_on, declaration.redo_of) == (None, date(2026, 11, 20))
    jury = by_id["jury_convocation"]
    assert (jury.due, jury.done_on, jury.redo_of) == (date(2027, 3, 12), None, date(2026, 11, 25))
    # the DTE order does not depend on the dates: it stays done
    assert (by_id["dte_order"].status, by_id["dte_order"].redo_of) == ("done", None)
    redo = {m.id for m in milestones if m.redo}
    assert redo == {"ud_session_declaration", "jury_convocation"}

    entry = entry_for(session, centre, declaration)
    assert entry.summary == "↻ J-92 · Déclaration UD — SA Centre de test"
    assert "À refaire : fait le 20/11/2026, avant le report du 01/12/2026" in entry.description
    assert (
        "Session reportée le 01/12/2026 (Plateau technique indisponible) : du 15/03/2027 au "
        "19/03/2027 → du 12/04/2027 au 16/04/2027" in entry.description
    )


def test_a_mark_made_on_or_after_the_postponement_counts_again(tmp_path: Path) -> None:
    again = {
        **POSTPONED,
        "done": {**POSTPONED["done"], "ud_session_declaration": date(2026, 12, 1)},
    }
    _, _, milestones = planned(tmp_path, again, date(2026, 12, 2))
    declaration = next(m for m in milestones if m.id == "ud_session_declaration")
    assert (declaration.status, declaration.done_on, declaration.redo_of) == (
        "done",
        date(2026, 12, 1),
        None,
    )


def test_inform_the_ud_of_the_postponement_a_few_working_days_after(tmp_path: Path) -> None:
    _, _, milestones = planned(tmp_path, POSTPONED, date(2026, 12, 2))
    (notice,) = [m for m in milestones if m.id == "ud_postponement_notice"]
    # postponed on Tuesday 1 December: + 5 days is Sunday 6, the next working day Monday 7
    assert (notice.due, notice.status, notice.audience) == (
        date(2026, 12, 7),
        "pending",
        ("coordinators",),
    )
    assert notice.title == "Informer la DDETS du report de la session"
    assert "ud@ddets.example" in notice.rule.description
    # due soon from Friday 4 December (its first reminder, 3 days before)
    _, _, later = planned(tmp_path / "later", POSTPONED, date(2026, 12, 4))
    assert next(m for m in later if m.id == "ud_postponement_notice").status == "due_soon"


def test_the_ud_is_told_of_a_second_postponement_too(tmp_path: Path) -> None:
    """« Informer l'UD du report », done after the first postponement, is to redo after a
    second one (not done for good by the first); done after the second, it counts."""
    twice = {
        **POSTPONED,
        "start": date(2027, 5, 10),
        "end": date(2027, 5, 14),
        "postponed": [
            *POSTPONED["postponed"],
            {
                "from_start": date(2027, 4, 12),
                "from_end": date(2027, 4, 16),
                "on": date(2027, 1, 11),
                "reason": "Jury incomplet",
            },
        ],
        "done": {"ud_postponement_notice": date(2026, 12, 3)},
    }
    _, _, milestones = planned(tmp_path, twice, date(2027, 1, 20))
    notice = next(m for m in milestones if m.id == "ud_postponement_notice")
    # postponed again on Monday 11 January: + 5 days is Saturday 16, then Monday 18
    assert (notice.due, notice.status, notice.done_on, notice.redo_of) == (
        date(2027, 1, 18),
        "overdue",
        None,
        date(2026, 12, 3),
    )
    once = {**POSTPONED, "done": {"ud_postponement_notice": date(2026, 12, 3)}}
    _, _, first = planned(tmp_path / "once", once, date(2026, 12, 8))
    notice = next(m for m in first if m.id == "ud_postponement_notice")
    assert (notice.status, notice.done_on, notice.redo_of) == ("done", date(2026, 12, 3), None)
    told = {**twice, "done": {"ud_postponement_notice": date(2027, 1, 12)}}
    _, _, again = planned(tmp_path / "told", told, date(2027, 1, 20))
    notice = next(m for m in again if m.id == "ud_postponement_notice")
    assert (notice.status, notice.redo_of) == ("done", None)


def test_a_session_never_postponed_has_no_ud_postponement_notice(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, [SESSION]))
    planning = plan_sessions(config, {}, date(2026, 12, 2))
    assert "ud_postponement_notice" not in {m.id for m in planning.planned[0].milestones}
    apart = {n.id: n.reason for n in planning.not_applicable["sa-test"]}
    assert apart["ud_postponement_notice"] == (
        "la session n'a pas été reportée (aucun report dans postponed)"
    )


def test_the_redo_attribute_is_data_of_the_ruleset(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, [SESSION]))
    ruleset = config.rulesets["centre-test"]
    assert {r.id for r in ruleset.rules if r.redo_on_postpone} == {
        "ud_session_declaration",
        "jury_convocation",
        "candidate_convocation",
        "ud_postponement_notice",  # each postponement is told to the UD
    }


def test_reminders_run_again_for_a_milestone_to_redo(tmp_path: Path) -> None:
    """« Déclaration UD » to redo, due Friday 08/01/2027: its J-7 reminder goes on Friday
    01/01/2027 (a holiday: Thursday 31/12/2026) to the coordinators, like any milestone due."""
    now = datetime.combine(date(2026, 12, 31), time(8), PARIS)
    sent = due_notifications([planned(tmp_path, POSTPONED, now)], Policy(), now)
    daily = [n for n in sent if n.recipient.email == "nathalie@centre.example"]
    (item,) = [i for n in daily for i in n.items if i.milestone.id == "ud_session_declaration"]
    assert headline(item) == (
        "Dans 8 jours, à refaire (fait le 20/11/2026, avant le report de la session)"
    )


def test_validate_tells_what_to_redo_after_a_postponement_and_to_whom(tmp_path: Path) -> None:
    """A pair: the same postponed session with its marks made after the postponement (clean),
    then made before it (the finding)."""
    now = date(2026, 12, 2)
    after = {**POSTPONED, "done": dict.fromkeys(POSTPONED["done"], date(2026, 12, 1))}
    clean = planned(tmp_path / "clean", after, now)
    assert "postponed_redo" not in {f.code for f in check_session(*clean, now)}

    defect = planned(tmp_path / "defect", POSTPONED, now)
    (finding,) = [f for f in check_session(*defect, now) if f.code == "postponed_redo"]
    assert finding.severity == "warning"
    assert finding.message == (
        "session reportée le 01/12/2026 (Plateau technique indisponible) : du 15/03/2027 au "
        "19/03/2027 → du 12/04/2027 au 16/04/2027 ; à refaire pour les nouvelles dates : "
        "« Transmettre à la DDETS dates, lieu, nombre de candidats, responsable de session » "
        "(fait le 20/11/2026) ; « Désigner, inscrire et convoquer les membres du jury (et "
        "surveillant, comédien) » (fait le 25/11/2026) ; informer par écrit l'UD du report "
        "(motif, anciennes et nouvelles dates) : DDETS (ud@ddets.example)"
    )
