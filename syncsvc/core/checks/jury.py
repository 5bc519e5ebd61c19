"""The jury and the session manager: who may sit, who may run the session (pure).

A juror *can sit* when the habilitation is for this title (``title_code``), covers the session
(the whole title for a titre session, the session's CCP otherwise), lasts until the session's
last day, the juror has no professional link with a listed candidate's host company and is not
the session manager. At least :data:`MIN_JURY` distinct jurors must be able to sit. Each finding
about one juror carries the juror's e-mail, so that the invitations can be held for that juror
only (:mod:`syncsvc.core.invitations`).
"""

from __future__ import annotations

from collections import defaultdict

from syncsvc.core.checks.common import MIN_JURY, Add, listed, ud
from syncsvc.core.checks.companies import company_key, words_of
from syncsvc.core.labels import fr_date
from syncsvc.core.model import Centre, JuryMember, Session


def check_jury(session: Session, centre: Centre, add: Add) -> None:
    hosts = _hosts(session)
    seen: dict[str, JuryMember] = {}
    able: set[str] = set()
    for member in session.jury:
        if member.email in seen:
            add(
                "jury_duplicate",
                "error",
                f"{member.name} ({member.email}) figure deux fois dans le jury : ne l'inscrire "
                "qu'une fois et, s'il faut un autre membre, en convoquer un autre",
            )
            continue
        seen[member.email] = member
        problems = _member_problems(session, member, hosts)
        for code, message in problems:
            add(code, "error", message, member.email)
        if not problems:
            able.add(member.email)
    _check_same_names(list(seen.values()), add)
    if len(able) < MIN_JURY:
        plural = len(able) > 1
        add(
            "jury_too_small",
            "error",
            f"{len(able)} membre{'s' if plural else ''} de jury "
            f"{'peuvent' if plural else 'peut'} siéger (habilité sur ce titre et jusqu'à la fin "
            "de la session, sans conflit d'intérêts, compté une fois) : il en faut au moins "
            f"{MIN_JURY} pour évaluer les candidats ; convoquer d'autres membres habilités "
            f"(liste dans CERES) et, faute de jury, prévenir l'UD : {ud(centre)}",
        )


def can_sit(session: Session, member: JuryMember) -> bool:
    """Whether ``member`` is habilitated for ``session`` (title, CCP, dates) with no conflict
    and is not its session manager: the test of every juror of the session."""
    return not _member_problems(session, member, _hosts(session))


def _hosts(session: Session) -> dict[str, list[int]]:
    """Candidates' ranks in the list, by host company (as :func:`company_key` reads it)."""
    hosts: dict[str, list[int]] = defaultdict(list)
    for rank, candidate in enumerate(session.candidates.named, start=1):
        if candidate.host_company:
            hosts[company_key(candidate.host_company)].append(rank)
    return hosts


def _member_problems(
    session: Session, member: JuryMember, hosts: dict[str, list[int]]
) -> list[tuple[str, str]]:
    """Why ``member`` cannot sit on this session: (code, French message) pairs."""
    problems = []
    title = session.title.code
    if member.title_code is not None and member.title_code != title:
        problems.append(
            (
                "jury_other_title",
                f"{member.name} est habilité(e) pour le titre {member.title_code}, pas pour "
                f"{title} : convoquer un membre habilité sur {title} (liste dans CERES)",
            )
        )
    if member.habilitation_until < session.end:
        problems.append(
            (
                "jury_habilitation_expired",
                f"l'habilitation de {member.name} prend fin le "
                f"{fr_date(member.habilitation_until)}, avant la fin de la session "
                f"({fr_date(session.end)}) : la faire renouveler ou convoquer un autre membre",
            )
        )
    problems += _scope_problems(session, member)
    ranks = hosts.get(company_key(member.company)) if member.company else None
    if ranks:
        problems.append(
            (
                "jury_conflict",
                f"{member.name} travaille dans l'entreprise qui a accueilli {listed(ranks)} : "
                "ce membre ne peut pas l'évaluer (lien professionnel) ; convoquer un autre "
                "membre habilité",
            )
        )
    if member.email == session.session_manager.email:
        problems.append(
            (
                "session_manager_in_jury",
                f"{member.name} est à la fois responsable de session et membre du jury : le "
                "responsable de session n'évalue pas et le jury délibère hors de sa présence ; "
                "convoquer un autre membre ou désigner un autre responsable de session",
            )
        )
    return problems


def _scope_problems(session: Session, member: JuryMember) -> list[tuple[str, str]]:
    """A habilitation limited to some CCPs: not for a whole title, nor for another CCP."""
    if not member.ccp:
        return []
    scope = ", ".join(member.ccp)
    if session.nature == "titre":
        return [
            (
                "jury_ccp_limited",
                f"l'habilitation de {member.name} est limitée aux CCP {scope} : elle ne permet "
                "pas de siéger sur une session du titre complet ; convoquer un membre habilité "
                "sur tout le titre",
            )
        ]
    if session.ccp_code not in member.ccp:
        return [
            (
                "jury_ccp_not_covered",
                f"l'habilitation de {member.name} est limitée à {scope} et ne couvre pas "
                f"{session.ccp_code} : convoquer un membre habilité sur ce CCP",
            )
        ]
    return []


def _check_same_names(members: list[JuryMember], add: Add) -> None:
    """Two addresses for one name: probably one person entered twice."""
    by_name: dict[str, list[JuryMember]] = defaultdict(list)
    for member in members:
        by_name[" ".join(words_of(member.name))].append(member)
    for same in by_name.values():
        if len(same) > 1:
            add(
                "jury_same_name",
                "warning",
                f"{same[0].name} figure dans le jury avec {len(same)} adresses "
                f"({', '.join(m.email for m in same)}) : s'il s'agit de la même personne, ne "
                "l'inscrire qu'une fois",
            )


def check_session_manager(session: Session, centre: Centre, add: Add) -> None:
    """The session manager must be declared in the agrément, when the agrément lists them."""
    agrement = centre.agrement_for(session.title.code, session.title.version)
    if agrement is None or agrement.session_managers is None:
        return
    manager = session.session_manager
    if manager.email not in agrement.session_managers:
        add(
            "session_manager_not_declared",
            "error",
            f"{manager.name} ({manager.email}), responsable de session, n'est pas déclaré(e) dans "
            f"l'agrément {agrement.title_code} de {centre.name} : désigner un responsable "
            "déclaré dans l'agrément, ou demander à l'UD la modification de l'agrément dans "
            f"CERES avant la commande du pli : {ud(centre)}",
        )
