"""The reminder mails as people read them: exact text (line breaks included), short French
subjects, links on their own lines, no candidate data (pure)."""

from __future__ import annotations

from datetime import date, datetime, time
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syncsvc.core.model import Centre, Milestone, Session, Status
from syncsvc.core.reminder_model import (
    DigestEntry,
    Item,
    ItemState,
    Notification,
    Policy,
    Recipient,
)
from syncsvc.core.rules import Rule
from syncsvc.formats.mail import compose, subject_for
from syncsvc.inputs.loader import load_ruleset
from tests.harness.factories import centre, session

REUNION = ZoneInfo("Indian/Reunion")
MONDAY = datetime(2026, 12, 14, 8, 0, tzinfo=REUNION)
SENDER = "Examens <examens@afpar.example>"
NATHALIE = Recipient("Nathalie Técher", "nathalie@centre.example", "coordinators")


def link(session_id: str, milestone_id: str) -> str:
    return f"https://examens.example.org/done/{session_id}/{milestone_id}?t=jeton"


def rule(rule_id: str, title: str, **changes: Any) -> Rule:
    return Rule.model_validate(
        {
            "id": rule_id,
            "title": title,
            "kind": "regulatory",
            "audience": ["coordinators"],
            "anchor": "start",
            "offset": "-92d",
            "reminders": [14, 7, 1],
            "sources": [
                {"ref": "S0", "quote": "Délai de 92 jours."},
                {"ref": "S1", "quote": "3 mois avant."},
            ],
            "description": "Première ligne.\nÀ faire :\n- une chose ;\n- une autre.\n",
            **changes,
        }
    )


def milestone(s: Session, r: Rule, due: date, status: Status) -> Milestone:
    return Milestone(session_id=s.id, rule=r, due=due, unshifted=due, status=status)


def item(
    s: Session,
    c: Centre,
    r: Rule,
    due: date,
    state: ItemState,
    days: int,
    status: Status = "overdue",
) -> Item:
    return Item(s, c, milestone(s, r, due, status), state, days, MONDAY)


def sessions() -> tuple[Session, Session, Centre]:
    c = centre(id="afpar-st-andre", name="AFPAR Saint-André", timezone="Indian/Reunion")
    sa = session(id="sa-test", centre="afpar-st-andre")
    ac = session(
        id="ac-test",
        centre="afpar-st-andre",
        title={"code": "TP-00391", "acronym": "AC", "label": "Assistant commercial"},
        start=date(2027, 5, 10),
        end=date(2027, 5, 12),
    )
    return sa, ac, c


def daily(*items: Item, recipient: Recipient = NATHALIE) -> Notification:
    c = items[0].centre
    key = f"daily:2026-12-14:{recipient.email}"
    return Notification("reminder", key, recipient, MONDAY, centre=c, items=items)


def text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def html(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def test_a_mail_of_the_day_with_two_sessions_reads_line_by_line() -> None:
    sa, ac, c = sessions()
    n = daily(
        item(sa, c, rule("ceres", "Créer la session dans CERES"), date(2026, 12, 11), "overdue", 3),
        item(sa, c, rule("ud", "Transmettre à l'UD"), date(2026, 12, 14), "today", 0, "due_soon"),
        item(ac, c, rule("dte", "Commander le pli", sources=[]), date(2027, 2, 8), "soon", 56),
    )
    message = compose(n, SENDER, MONDAY, link)
    assert message["Subject"] == (
        "Examens TP : 3 échéances à traiter (dont 1 en retard et 1 pour aujourd'hui)"
    )
    session_sa = (
        "[SA 15/03] TP-00374 Secrétaire assistant (TITRE), du lundi 15 mars 2027 au "
        "vendredi 19 mars 2027, AFPAR Saint-André"
    )
    session_ac = (
        "[AC 10/05] TP-00391 Assistant commercial (TITRE), du lundi 10 mai 2027 au "
        "mercredi 12 mai 2027, AFPAR Saint-André"
    )
    rule_line = "-" * 72
    assert text(message) == "\n".join(
        [
            "Bonjour Nathalie Técher,",
            "",
            "3 échéances d'examen vous concernent ce lundi 14 décembre 2026, dont 1 en retard.",
            "",
            session_sa,
            "  - EN RETARD de 3 jours : Créer la session dans CERES "
            "(échéance du vendredi 11 décembre 2026)",
            "  - Aujourd'hui : Transmettre à l'UD (échéance du lundi 14 décembre 2026)",
            "",
            session_ac,
            "  - Dans 56 jours : Commander le pli (échéance du lundi 8 février 2027)",
            "",
            rule_line,
            "",
            "EN RETARD de 3 jours : Créer la session dans CERES",
            f"Session : {session_sa}",
            "Échéance : vendredi 11 décembre 2026 (réglementaire)",
            "Marquer comme fait : https://examens.example.org/done/sa-test/ceres?t=jeton",
            "",
            "Première ligne.",
            "À faire :",
            "- une chose ;",
            "- une autre.",
            "",
            "Sources :",
            "- S0 :",
            "  « Délai de 92 jours. »",
            "- S1 :",
            "  « 3 mois avant. »",
            "",
            rule_line,
            "",
            "Aujourd'hui : Transmettre à l'UD",
            f"Session : {session_sa}",
            "Échéance : lundi 14 décembre 2026 (réglementaire)",
            "Marquer comme fait : https://examens.example.org/done/sa-test/ud?t=jeton",
            "",
            "Première ligne.",
            "À faire :",
            "- une chose ;",
            "- une autre.",
            "",
            "Sources :",
            "- S0 :",
            "  « Délai de 92 jours. »",
            "- S1 :",
            "  « 3 mois avant. »",
            "",
            rule_line,
            "",
            "Dans 56 jours : Commander le pli",
            f"Session : {session_ac}",
            "Échéance : lundi 8 février 2027 (réglementaire)",
            "Marquer comme fait : https://examens.example.org/done/ac-test/dte?t=jeton",
            "",
            "Première ligne.",
            "À faire :",
            "- une chose ;",
            "- une autre.",
            "",
            "Une échéance marquée faite (lien « Marquer comme fait », tableau de bord ou "
            "« syncsvc done ») disparaît des messages suivants.",
            "Une échéance en retard revient dans ce message après 1, 2, 4, 8 et 16 jours "
            "ouvrés de retard, puis une fois par semaine (dans le point de la semaine si vous "
            "le recevez).",
            "",
            "-- ",
            "Message envoyé automatiquement par le service de suivi des examens (syncsvc). "
            "Merci de ne pas y répondre.",
            "",
        ]
    )
    page = html(message)
    assert page.count(">Marquer comme fait</a>") == 3
    assert "<li>S1 :<br>« 3 mois avant. »</li>" in page


def test_one_milestone_without_link_nor_sources_reads_line_by_line() -> None:
    sa, _, c = sessions()
    exam = rule("exam_session", "Session d'examen", tracked=False, sources=[], description="")
    n = daily(item(sa, c, exam, date(2027, 3, 15), "soon", 7, "due_soon"))
    message = compose(n, SENDER, MONDAY, link)
    assert message["Subject"] == "[SA 15/03] Rappel : Session d'examen (J-7, le 15/03)"
    assert text(message) == "\n".join(
        [
            "Bonjour Nathalie Técher,",
            "",
            "Une échéance d'examen vous concerne ce lundi 14 décembre 2026.",
            "",
            "Dans 7 jours : Session d'examen",
            "Session : [SA 15/03] TP-00374 Secrétaire assistant (TITRE), du lundi 15 mars "
            "2027 au vendredi 19 mars 2027, AFPAR Saint-André",
            "Échéance : lundi 15 mars 2027 (réglementaire)",
            "",
            "-- ",
            "Message envoyé automatiquement par le service de suivi des examens (syncsvc). "
            "Merci de ne pas y répondre.",
            "",
        ]
    )
    assert "Marquer comme fait" not in html(message)  # not a step one marks done


def test_the_weekly_point_reads_line_by_line() -> None:
    sa, ac, c = sessions()
    late = milestone(sa, rule("ceres", "Créer la session"), date(2026, 12, 11), "overdue")
    soon = milestone(ac, rule("dte", "Commander le pli"), date(2026, 12, 30), "due_soon")
    n = Notification(
        "digest",
        "digest:2026-W51:nathalie@centre.example",
        NATHALIE,
        MONDAY,
        centre=c,
        overdue=(DigestEntry(sa, late),),
        upcoming=(DigestEntry(ac, soon),),
    )
    message = compose(n, SENDER, MONDAY)
    assert message["Subject"] == (
        "Examens TP : point de la semaine du lundi 14 décembre 2026 — 1 en retard"
    )
    assert text(message) == "\n".join(
        [
            "Bonjour Nathalie Técher,",
            "",
            "Voici le point de la semaine du lundi 14 décembre 2026 sur vos sessions d'examen.",
            "",
            "EN RETARD",
            "",
            "[SA 15/03] Secrétaire assistant",
            "  - vendredi 11 décembre 2026 : Créer la session (3 jours de retard)",
            "",
            "LES 21 PROCHAINS JOURS",
            "",
            "[AC 10/05] Assistant commercial",
            "  - mercredi 30 décembre 2026 : Commander le pli",
            "",
            "-- ",
            "Message envoyé automatiquement par le service de suivi des examens (syncsvc). "
            "Merci de ne pas y répondre.",
            "",
        ]
    )


@pytest.mark.parametrize(
    ("role", "intro"),
    [
        ("session_manager", "ces échéances des sessions dont vous êtes responsable"),
        ("centre_management", "ces échéances réglementaires des sessions de votre centre"),
    ],
)
def test_the_weekly_escalation_says_why_it_comes(role: str, intro: str) -> None:
    sa, _, c = sessions()
    late = milestone(sa, rule("ceres", "Créer la session"), date(2026, 12, 4), "overdue")
    n = Notification(
        "digest",
        "digest:2026-W51:jean@centre.example",
        Recipient("Jean Hoarau", "jean@centre.example", role),
        MONDAY,
        centre=c,
        overdue=(DigestEntry(sa, late, escalated=True),),
    )
    lines = text(compose(n, SENDER, MONDAY)).splitlines()
    assert lines[2] == (
        f"Voici le point de la semaine du lundi 14 décembre 2026 : {intro} sont en retard "
        "depuis 5 jours ou plus."
    )
    assert lines[7] == "  - vendredi 4 décembre 2026 : Créer la session (10 jours de retard)"


@pytest.mark.parametrize(
    ("states", "subject"),
    [
        (["overdue"], "[SA 15/03] EN RETARD : Étape 0 (échéance du 11/12)"),
        (["today"], "[SA 15/03] Rappel : Étape 0 (aujourd'hui)"),
        (["soon"], "[SA 15/03] Rappel : Étape 0 (J-3, le 11/12)"),
        (["overdue", "overdue"], "[SA 15/03] 2 échéances en retard"),
        (["today", "today"], "[SA 15/03] 2 échéances pour aujourd'hui"),
        (["soon", "soon", "soon"], "[SA 15/03] 3 échéances à traiter"),
        (["overdue", "soon"], "[SA 15/03] 2 échéances à traiter (dont 1 en retard)"),
        (
            ["overdue", "overdue", "today", "soon"],
            "[SA 15/03] 4 échéances à traiter (dont 2 en retard et 1 pour aujourd'hui)",
        ),
    ],
)
def test_subjects_are_short_and_french(states: list[ItemState], subject: str) -> None:
    sa, _, c = sessions()
    items = [
        item(sa, c, rule(f"r{k}", f"Étape {k}"), date(2026, 12, 11), state, 3)
        for k, state in enumerate(states)
    ]
    assert subject_for(daily(*items), MONDAY) == subject


def test_a_subject_over_several_sessions_names_none() -> None:
    sa, ac, c = sessions()
    n = daily(
        item(sa, c, rule("step_a", "Étape A"), date(2026, 12, 11), "overdue", 3),
        item(ac, c, rule("step_b", "Étape B"), date(2026, 12, 21), "soon", 7),
    )
    assert subject_for(n, MONDAY) == "Examens TP : 2 échéances à traiter (dont 1 en retard)"


def test_every_rule_of_the_ruleset_renders_each_source_and_link_on_its_own_line() -> None:
    """Reported: ``trim_blocks`` glued the sources together and the link to the last one."""
    sa, _, c = sessions()
    rules = load_ruleset().rules
    n = daily(*(item(sa, c, r, date(2026, 12, 11), "overdue", 3) for r in rules))
    plain = text(compose(n, SENDER, MONDAY, link))
    for r in rules:
        for source in r.sources:
            if source.quote is not None:
                assert f"\n  « {source.quote} »\n" in plain, (r.id, source.ref)
            else:
                assert f", {source.article}\n" in plain, (r.id, source.ref)
        if r.tracked:
            assert f"\nMarquer comme fait : {link('sa-test', r.id)}\n" in plain, r.id


def test_no_candidate_data_in_the_mail_of_the_day_nor_the_weekly_point() -> None:
    _, _, c = sessions()
    with_list = session(
        id="sa-test",
        centre="afpar-st-andre",
        candidates={
            "training": 1,
            "list": [{"name": "Karim Benali", "email": "karim@mail.example"}],
        },
    )
    late = item(with_list, c, rule("ceres", "Créer la session"), date(2026, 12, 11), "overdue", 3)
    point = Notification(
        "digest",
        "digest:2026-W51:nathalie@centre.example",
        NATHALIE,
        MONDAY,
        centre=c,
        overdue=(DigestEntry(with_list, late.milestone),),
    )
    for n in (daily(late), point):
        message = compose(n, SENDER, MONDAY, link)
        for part in (text(message), html(message), str(message["Subject"])):
            assert "Karim" not in part
            assert "karim@" not in part


def test_policy_words_follow_the_settings() -> None:
    sa, _, c = sessions()
    n = daily(item(sa, c, rule("step_a", "Étape A"), date(2026, 12, 11), "overdue", 3))
    policy = Policy(overdue_days=(1, 3), overdue_every_days=10, send_hour=time(7))
    assert (
        "revient dans ce message après 1 et 3 jours ouvrés de retard, puis tous les 10 jours "
        "ouvrés" in text(compose(n, SENDER, MONDAY, link, policy))
    )
