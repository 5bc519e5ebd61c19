"""Candidates listed in the session file: VAE recevabilité, accommodations (pure).

A finding names a candidate by rank in the list (« le candidat n° 2 de la liste »), never by
name, address, company or any date of theirs: findings go to logs and dashboards.
"""

from __future__ import annotations

from syncsvc.core.checks.common import Add, listed, milestone, ud
from syncsvc.core.labels import fr_date
from syncsvc.core.model import Centre, Milestone, Session

UD_DECLARATION = "ud_session_declaration"
ACCOMMODATION_RULE = (
    "le guide de préparation de la session demande d'« informer l'UD de la proposition "
    "d'aménagement des épreuves pour les personnes en situation de handicap » avec les "
    "informations de la session, transmises « au minimum 3 mois avant la date de la session »"
)


def check_vae(session: Session, centre: Centre, add: Add) -> None:
    """A VAE candidate is presented only while the recevabilité is valid."""
    expired = [
        rank
        for rank, c in enumerate(session.candidates.named, start=1)
        if c.route == "vae" and c.recevabilite_until and c.recevabilite_until < session.end
    ]
    if expired:
        add(
            "vae_recevabilite_expired",
            "error",
            f"recevabilité VAE qui prend fin avant la fin de la session ({fr_date(session.end)}) "
            f"pour {listed(expired)} : ne pas présenter un candidat dont la recevabilité a "
            "expiré ; vérifier sa date de fin de validité dans CERES et voir avec l'UD : "
            f"{ud(centre)}",
        )


def check_accommodations(
    session: Session, centre: Centre, milestones: list[Milestone], add: Add
) -> None:
    """An accommodation is proposed to the UD with the session's declaration, at least three
    months before the session: late when that declaration was done late, or is overdue."""
    ranks = [rank for rank, c in enumerate(session.candidates.named, 1) if c.accommodation]
    declaration = milestone(milestones, UD_DECLARATION)
    if not ranks or declaration is None:
        return
    done = declaration.done_on
    if done is None and declaration.status != "overdue":
        return
    if done is not None and done <= declaration.due:
        return
    add(
        "accommodation_ud_late",
        "error",
        f"aménagement d'épreuves prévu pour {listed(ranks)} sans que l'UD en ait été informée "
        f"à temps, au plus tard le {fr_date(declaration.due)} ({ACCOMMODATION_RULE}) ; "
        f"transmettre dès maintenant la proposition d'aménagement à l'UD : {ud(centre)}, et "
        "prévoir l'aménagement dans la préparation de la session",
    )
