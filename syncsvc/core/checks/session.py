"""The session as a whole: agrément, title, CERES, its dates, its results (pure)."""

from __future__ import annotations

from datetime import date, timedelta

from syncsvc.core.checks.common import Add, milestone, ud
from syncsvc.core.dates import working_days
from syncsvc.core.labels import fr_date
from syncsvc.core.model import Centre, Milestone, Session, same_version
from syncsvc.core.words import postponement_texts

CERES_LEAD_DAYS = 92
TITLE_RULE = "article 1.2 de l'arrêté du 21 juillet 2016"
LONGEST_SESSION_DAYS = 62
"""Days of a session looked at for public holidays (a session is a few days long)."""


def check_start_time(session: Session, add: Add) -> None:
    if session.first_day_start is None and not session.days:  # days: give their hours
        add(
            "first_day_start_missing",
            "warning",
            "heure de début du premier jour non renseignée : CERES la demande et la session "
            'apparaîtra sur toute la journée (ajoutez first_day_start: "08:30")',
        )


def check_agrement(session: Session, centre: Centre, add: Add) -> None:
    code = session.title.code
    agrement = centre.agrement_for(code, session.title.version)
    if agrement is None:
        add(
            "agrement_missing",
            "error",
            f"{centre.name} n'a pas d'agrément pour le titre {code} : la session ne peut pas "
            "être créée dans CERES ; la direction du centre doit déposer une demande "
            f"d'agrément plus de 6 mois avant la session et en informer l'UD : {ud(centre)}",
        )
        return
    version = session.title.version
    if version is not None and not same_version(agrement.title_version, version):
        add(
            "agrement_wrong_version",
            "error",
            f"l'agrément {code} de {centre.name} est pour le millésime "
            f"{agrement.title_version} et la session pour le millésime {version} : la session "
            "ne peut être créée que sur la version agréée ; demander à l'UD l'agrément du "
            f"millésime {version} ou présenter la session sur le millésime "
            f"{agrement.title_version} : {ud(centre)}",
        )
    if agrement.until < session.start:
        add(
            "agrement_expired",
            "error",
            f"l'agrément {code} prend fin le {fr_date(agrement.until)}, avant le début de la "
            f"session ({fr_date(session.start)}) : CERES refuse de la créer à cette date ; la "
            "créer à une date antérieure pour commander le DTE, puis informer l'UD de la "
            f"nouvelle date dans l'année qui suit la fin de l'agrément : {ud(centre)}",
        )
    elif agrement.until < session.end:
        add(
            "agrement_ends_during_session",
            "error",
            f"l'agrément {code} prend fin le {fr_date(agrement.until)}, pendant la session "
            f"(fin le {fr_date(session.end)}) : finir la session au plus tard ce jour-là ou "
            f"obtenir le renouvellement de l'agrément avant, et en informer l'UD : {ud(centre)}",
        )
    _check_candidate_numbers(session, agrement.max_candidates, add)


def _check_candidate_numbers(session: Session, most: int, add: Add) -> None:
    if session.candidates.total > most:
        add(
            "too_many_candidates",
            "error",
            f"{session.candidates.total} candidats pour {most} au plus selon l'agrément : "
            "réduire l'effectif ou dédoubler la session",
        )
    counted = session.candidates.training + session.candidates.vae
    named = len(session.candidates.named)
    if named and counted and named != counted:
        add(
            "candidate_count_mismatch",
            "warning",
            f"{counted} candidats annoncés (formation + VAE) mais {named} dans la liste : "
            "corriger l'effectif ou la liste",
        )


def created_on(session: Session, milestones: list[Milestone]) -> date | None:
    """The day the session was created in CERES: its mark, else ``declared_on``."""
    created = milestone(milestones, "ceres_session_create")
    if created is not None and created.done_on is not None:
        return created.done_on
    return session.declared_on


def check_ceres_deadline(
    session: Session, centre: Centre, created: date | None, today: date, add: Add
) -> None:
    latest = session.start - timedelta(days=CERES_LEAD_DAYS)
    if created is not None:
        lead = (session.start - created).days
        if lead < CERES_LEAD_DAYS:
            add(
                "ceres_late",
                "error",
                f"session créée dans CERES le {fr_date(created)}, {lead} jours avant le début : "
                f"hors délai (au moins {CERES_LEAD_DAYS} jours, incompressible) ; prévenir "
                f"l'UD et, si elle ne maintient pas la date, reporter la session : {ud(centre)}",
            )
    elif today > latest:
        add(
            "ceres_late",
            "error",
            f"la session n'est pas déclarée créée dans CERES et le délai de {CERES_LEAD_DAYS} "
            f"jours est dépassé depuis le {fr_date(latest)} : hors délai ; prévenir l'UD et, si "
            f"elle ne maintient pas la date, reporter la session : {ud(centre)} (renseigner "
            "declared_on si la session a été créée)",
        )


def check_title_expiry(
    session: Session, centre: Centre, created: date | None, today: date, add: Add
) -> None:
    """No session may be created in CERES after the title's expiry (art. 1.2)."""
    expires = session.title.expires_on
    if expires is None or (created or today) <= expires:
        return
    code = session.title.code
    if created is not None:
        what = (
            f"session créée dans CERES le {fr_date(created)}, après l'échéance du titre {code} "
            f"({fr_date(expires)})"
        )
    else:
        what = (
            f"le titre {code} est arrivé à échéance le {fr_date(expires)} et la session n'est "
            "pas déclarée créée dans CERES : elle ne peut plus être créée"
        )
    add(
        "title_expired",
        "error",
        f"{what} ; toute session doit être créée avant l'échéance du titre ({TITLE_RULE}) : "
        "voir avec l'UD sur quel titre présenter les candidats et ne pas convoquer sur "
        f"celui-ci : {ud(centre)}",
    )


def check_dates(session: Session, centre: Centre, add: Add) -> None:
    """Public holidays of the centre's zone during the session; training ending after it."""
    calendar = working_days(centre.holiday_zone)
    length = min((session.end - session.start).days, LONGEST_SESSION_DAYS)
    days = (session.start + timedelta(days=n) for n in range(length + 1))
    if session.days:  # the days listed are the exam days: only they count
        days = (d.day for d in session.days)
    holidays = [(day, name) for day in days if (name := calendar.holiday_name(day))]
    if holidays:
        named = ", ".join(f"le {fr_date(day)} ({name})" for day, name in holidays)
        add(
            "session_on_holiday",
            "warning",
            f"la session comprend un jour férié de sa zone : {named} ; vérifier les dates avec "
            "le responsable de session, ne pas prévoir d'épreuve ce jour-là ou en informer "
            f"l'UD : {ud(centre)}",
        )
    if session.training_end is not None and session.training_end > session.end:
        add(
            "training_end_after_exam",
            "warning",
            f"fin de formation (training_end) le {fr_date(session.training_end)}, après la fin "
            f"des épreuves ({fr_date(session.end)}) : l'examen clôt la formation ; corriger "
            "training_end, d'où se comptent les 12 mois de représentation",
        )


def check_results(session: Session, centre: Centre, milestones: list[Milestone], add: Add) -> None:
    """Results are posted only once the PV validated by the UD is received."""
    posting = milestone(milestones, "results_posting")
    posted = posting.done_on if posting is not None else None
    posted = posted or session.done.get("results_posting")
    validated = session.pv_validated_on
    if posted is None or (validated is not None and posted >= validated):
        return
    pv = f"le {fr_date(validated)}" if validated else "pas encore reçu"
    add(
        "results_before_pv",
        "error",
        f"résultats affichés le {fr_date(posted)}, avant le PV validé par l'UD ({pv}) : aucun "
        "résultat ne peut être communiqué avant la validation ; retirer l'affichage jusqu'à "
        "réception du PV validé (pv_validated_on) et en informer l'UD : "
        f"{ud(centre)}",
    )


def check_cancelled(
    session: Session, centre: Centre, milestones: list[Milestone], add: Add
) -> None:
    """CERES deletes a session only before its DTE is ordered."""
    order = milestone(milestones, "dte_order")
    ordered = order.done_on if order is not None else session.done.get("dte_order")
    if ordered is None:
        return
    cancelled = session.cancelled
    when = f" le {fr_date(cancelled.on)}" if cancelled and cancelled.on else ""
    why = f" ({cancelled.reason})" if cancelled and cancelled.reason else ""
    add(
        "cancelled_after_dte_order",
        "warning",
        f"session annulée{when}{why} alors que le pli (DTE) a été commandé le "
        f"{fr_date(ordered)} : CERES "
        "ne permet de supprimer une session qu'avant la commande du DTE ; ne pas la supprimer, "
        "informer par écrit l'UD de l'annulation (ou du report, avec les nouvelles dates), "
        f"garder le pli scellé sous clé et suivre ses consignes : {ud(centre)}",
    )


def check_postponed(
    session: Session, centre: Centre, milestones: list[Milestone], add: Add
) -> None:
    """A postponed session: what was done for the old dates is to be done again."""
    redo = [(m, m.redo_of) for m in milestones if m.redo_of is not None]
    if not session.postponed or not redo:
        return
    told = postponement_texts(session)[-1]
    steps = " ; ".join(f"« {m.title} » (fait le {fr_date(day)})" for m, day in redo)
    add(
        "postponed_redo",
        "warning",
        f"{told[:1].lower()}{told[1:]} ; à refaire pour les nouvelles dates : {steps} ; "
        f"informer par écrit l'UD du report (motif, anciennes et nouvelles dates) : {ud(centre)}",
    )
