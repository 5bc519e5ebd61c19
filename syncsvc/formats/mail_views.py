"""The French words of the reminder mails: subjects, headings, one line per milestone (pure).

:mod:`syncsvc.formats.mail` puts them into the templates; everything a person reads in a mail
of the day or a weekly point is worded here or in ``mail_templates/``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from syncsvc.core.exam_days import exam_days
from syncsvc.core.labels import (
    ALL_DAYS_LABEL,
    INVITED_AS,
    KIND_LABELS,
    REDO_LABEL,
    fr_date,
    french_date,
)
from syncsvc.core.model import Centre, Session
from syncsvc.core.reminder_model import DigestEntry, Item, JuryNotice, Notification, Policy

DoneLink = Callable[[str, str], str | None]
PageLink = Callable[[str], str]
"""A session's dashboard page by session id (when the dashboard's public address is set)."""
AnswerLinksOf = Callable[[str, str, int, date | None], tuple[str, str] | None]
"""A juror's two signed links for (session, e-mail, SEQUENCE, exam day — None: every day), or
None (no dashboard/key)."""


@dataclass(frozen=True, slots=True)
class LinkPair:
    """« Je serai présent(e) » and « Je ne pourrai pas venir », for every day or one day."""

    heading: str
    """« Pour tous les jours », « Pour le mardi 16 mars 2027 seulement »; empty for the one
    pair of a one-day session."""
    accept: str
    decline: str


def link_pairs(
    links: AnswerLinksOf,
    session_id: str,
    email: str,
    sequence: int,
    exam_dates: Sequence[date],
    open_days: Sequence[date] = (),
) -> tuple[LinkPair, ...]:
    """A juror's answer links: one pair for a one-day session; for several exam days, a pair
    for every day and one per day, or only one per day of ``open_days`` (the days still
    unanswered, when some are answered). Empty without signed links."""
    wanted: list[tuple[str, date | None]]
    if len(exam_dates) <= 1:
        wanted = [("", None)]
    else:
        days = [d for d in exam_dates if d in open_days] if open_days else list(exam_dates)
        wanted = [] if open_days else [(f"Pour {ALL_DAYS_LABEL}", None)]
        wanted += [(f"Pour le {french_date(d)} seulement", d) for d in days]
    out = []
    for heading, day in wanted:
        found = links(session_id, email, sequence, day)
        if found is None:
            return ()
        out.append(LinkPair(heading, *found))
    return tuple(out)


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 échéance``, ``3 échéances``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def enumeration(values: Sequence[object]) -> str:
    """``1, 2, 4, 8 et 16``."""
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} et {words[-1]}"


def session_text(session: Session, centre: Centre) -> str:
    """``[SA 15/03] TP-00374 Secrétaire assistant (TITRE), du … au …, AFPAR Saint-André``."""
    return (
        f"[{session.short_label}] {session.title.code} {session.title.label} "
        f"({session.nature.upper()}), du {french_date(session.start)} "
        f"au {french_date(session.end)}, {centre.name}"
    )


def centre_text(centre: Centre, year: int | None) -> str:
    """``AFPAR Saint-André (échéance annuelle, pour toutes ses sessions de l'année 2027)``."""
    of_year = f"de l'année {year}" if year is not None else "de l'année"
    return f"{centre.name} (échéance annuelle, pour toutes ses sessions {of_year})"


def centre_heading(centre: Centre, year: int | None) -> str:
    """``Centre AFPAR Saint-André — échéance annuelle 2027``: a centre year's group."""
    return f"Centre {centre.name} — échéance annuelle{f' {year}' if year is not None else ''}"


def label(item: Item) -> str:
    """``[SA 15/03]`` for a session's milestone, ``[AFPAR Saint-André]`` for a centre's."""
    if item.session is None:
        return f"[{item.centre.name}]"
    return f"[{item.session.short_label}]"


def headline(item: Item) -> str:
    """Where a milestone stands on the day of the mail; « à refaire » when it was done before
    its session was postponed."""
    if item.state == "overdue":
        when = f"EN RETARD de {plural(item.days, 'jour')}"
    elif item.state == "today":
        when = "Aujourd'hui"
    else:
        when = "Demain" if item.days == 1 else f"Dans {item.days} jours"
    redo_of = item.milestone.redo_of
    if redo_of is None:
        return when
    return f"{when}, {REDO_LABEL} (fait le {fr_date(redo_of)}, avant le report de la session)"


def daily_subject(items: Sequence[Item]) -> str:
    """One milestone: its name; several: how many, and how many are late or due today."""
    if len(items) == 1:
        item = items[0]
        m = item.milestone
        if item.state == "overdue":
            return f"{label(item)} EN RETARD : {m.title} (échéance du {m.due:%d/%m})"
        when = "aujourd'hui" if item.state == "today" else f"J-{item.days}, le {m.due:%d/%m}"
        return f"{label(item)} Rappel : {m.title} ({when})"
    owners = {i.owner for i in items}
    prefix = label(items[0]) if len(owners) == 1 else "Examens TP :"
    return f"{prefix} {_counts(items)}"


def _counts(items: Sequence[Item]) -> str:
    """``3 échéances à traiter (dont 1 en retard)``."""
    total = len(items)
    late = sum(i.state == "overdue" for i in items)
    today = sum(i.state == "today" for i in items)
    if late == total:
        return f"{plural(total, 'échéance')} en retard"
    if today == total:
        return f"{plural(total, 'échéance')} pour aujourd'hui"
    parts = [f"{late} en retard"] if late else []
    parts += [f"{today} pour aujourd'hui"] if today else []
    among = f" (dont {' et '.join(parts)})" if parts else ""
    return f"{plural(total, 'échéance')} à traiter{among}"


@dataclass(frozen=True, slots=True)
class Line:
    """One milestone of a mail of the day, worded."""

    item: Item
    headline: str
    where: str
    """``Session`` or, for a centre's yearly milestone, ``Centre``."""
    session: str
    """The session's (or the centre year's) text after ``where``."""
    kind: str
    link: str | None
    marking: str = ""
    """How to mark a centre's yearly milestone done (no link can: it belongs to no
    session's page)."""
    page: str | None = None
    """The session's dashboard page, for a recipient who has access to the dashboard."""


@dataclass(frozen=True, slots=True)
class Group:
    """One session (or a centre year) of a mail of the day, with its milestones."""

    heading: str
    lines: tuple[Line, ...]


def centre_marking(item: Item) -> str:
    """How a centre's yearly milestone is marked done: for any session of the centre that
    year (the links and the dashboard's pages are a session's, where it is not)."""
    if not item.milestone.rule.tracked:
        return ""
    year = f"de {item.year}" if item.year is not None else "de l'année"
    return (
        "Pour la marquer faite : « syncsvc done <session> "
        f"{item.milestone.id} » pour l'une des sessions {year} du centre (ou « done: » "
        "dans le fichier de l'une d'elles) ; elle l'est alors pour toutes."
    )


def dashboard_people(session: Session, centre: Centre | None) -> frozenset[str]:
    """The addresses of the people who work with a session in the dashboard: coordinators,
    session manager and deputy, the centre's management (never the jury, who has no account)."""
    people = [*session.coordinators, session.session_manager]
    if centre is not None and centre.id == session.centre:
        people += centre.management
    if session.deputy_manager is not None:
        people.append(session.deputy_manager)
    return frozenset(p.email.lower() for p in people)


SessionPage = Callable[[Session, Centre | None], str | None]


def page_for(email: str, page_link: PageLink | None) -> SessionPage:
    """A session's page link for the person at ``email``, or None when they have no access to
    the dashboard for that session (or no public address is set)."""

    def page(session: Session, centre: Centre | None) -> str | None:
        if page_link is None or email.lower() not in dashboard_people(session, centre):
            return None
        return page_link(session.id)

    return page


def daily_groups(
    n: Notification, done_link: DoneLink | None, page_link: PageLink | None = None
) -> list[Group]:
    """The items of a mail of the day, by session (a centre year's yearly milestones as a
    group of their own), in the order the core decided."""
    page = page_for(n.recipient.email, page_link)
    groups: dict[str, list[Line]] = {}
    headings: dict[str, str] = {}
    for item in n.items:
        kind = KIND_LABELS[item.milestone.kind]
        if item.session is None:  # a centre's yearly milestone: no « Marquer comme fait » link
            headings.setdefault(item.owner, centre_heading(item.centre, item.year))
            text = centre_text(item.centre, item.year)
            line = Line(item, headline(item), "Centre", text, kind, None, centre_marking(item))
        else:
            text = session_text(item.session, item.centre)
            headings.setdefault(item.owner, text)
            link = None
            if done_link is not None and item.milestone.rule.tracked:
                link = done_link(item.session.id, item.milestone.id)
            line = Line(
                item,
                headline(item),
                "Session",
                text,
                kind,
                link,
                page=page(item.session, item.centre),
            )
        groups.setdefault(item.owner, []).append(line)
    return [Group(headings[owner], tuple(lines)) for owner, lines in groups.items()]


def daily_intro(n: Notification) -> str:
    """``3 échéances d'examen vous concernent ce mardi 15 décembre 2026, dont 1 en retard.``"""
    assert n.centre is not None
    day = french_date(n.send_at.astimezone(n.centre.tz).date())
    total = len(n.items)
    late = sum(i.state == "overdue" for i in n.items)
    what = (
        "Une échéance d'examen vous concerne"
        if total == 1
        else (f"{total} échéances d'examen vous concernent")
    )
    among = ""
    if total > 1 and late:
        among = ", toutes en retard" if late == total else f", dont {late} en retard"
    return f"{what} ce {day}{among}."


def schedule_note(policy: Policy) -> str:
    """How often an overdue milestone comes back, in words."""
    every = policy.overdue_every_days
    then = {1: "chaque jour ouvré", 5: "une fois par semaine"}.get(
        every, f"tous les {every} jours ouvrés"
    )
    steps = policy.overdue_days
    after = f"{enumeration(steps)} {'jour ouvré' if steps == (1,) else 'jours ouvrés'}"
    return (
        f"Une échéance en retard revient dans ce message après {after} de retard, puis "
        f"{then} (dans le point de la semaine si vous le recevez)."
    )


@dataclass(frozen=True, slots=True)
class DigestGroup:
    """One session (or a centre year) of a weekly point, one line per milestone."""

    heading: str
    lines: tuple[str, ...]
    page: str | None = None
    """The session's dashboard page (none for a centre year)."""


def digest_groups(
    entries: Sequence[DigestEntry],
    day: date,
    late: bool,
    page: SessionPage | None = None,
    centre: Centre | None = None,
) -> list[DigestGroup]:
    """Entries by session or centre year (first seen first), each line ``date : title``, and
    for overdue ones how late they are on the day of the point; ``page`` gives a session's
    dashboard page (``centre``: the recipient's, whose management sees its sessions)."""
    groups: dict[str, list[str]] = {}
    headings: dict[str, str] = {}
    pages: dict[str, str | None] = {}
    for e in entries:
        s, m = e.session, e.milestone
        if s is not None:
            headings.setdefault(e.owner, f"[{s.short_label}] {s.title.label}")
            if page is not None and e.owner not in pages:
                pages[e.owner] = page(s, centre)
        else:
            assert e.centre is not None
            headings.setdefault(e.owner, centre_heading(e.centre, e.year))
        line = f"{french_date(m.due)} : {m.title}"
        if late:
            line += f" ({plural((day - m.due).days, 'jour')} de retard)"
        groups.setdefault(e.owner, []).append(line)
    return [
        DigestGroup(headings[owner], tuple(lines), pages.get(owner))
        for owner, lines in groups.items()
    ]


MANAGED = {
    "session_manager": "ces échéances des sessions dont vous êtes responsable",
    "deputy_manager": "ces échéances des sessions dont vous êtes responsable suppléant(e)",
    "centre_management": "ces échéances réglementaires des sessions de votre centre",
}


def digest_intro(n: Notification, day: date, policy: Policy) -> str:
    """Why this point, to this person."""
    when = f"Voici le point de la semaine du {french_date(day)}"
    if n.upcoming or not all(e.escalated for e in n.overdue):
        return f"{when} sur vos sessions d'examen."
    which = MANAGED.get(n.recipient.role, "ces échéances de vos sessions")
    if any(e.session is None for e in n.overdue):  # a centre's yearly milestone among them
        sessions = any(e.session is not None for e in n.overdue)
        which = "ces échéances réglementaires de votre centre" + (
            " et de ses sessions" if sessions else ""
        )
    days = plural(policy.escalate_after_days, "jour")
    return f"{when} : {which} sont en retard depuis {days} ou plus."


# --- the jury's news in the mail of the day -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoticeText:
    """One notice, worded: a heading line, paragraphs, and (for a juror) the two links."""

    heading: str
    lines: tuple[str, ...]
    links: tuple[LinkPair, ...] = ()
    page: str | None = None
    """The session's dashboard page (to the coordination, never to a juror)."""


def notice_subject(notices: Sequence[JuryNotice]) -> str:
    """The subject of a mail of the day that only carries news of the jury."""
    if len(notices) == 1:
        n = notices[0]
        label = f"[{n.session.short_label}]"
        if n.kind == "too_few":
            accepted = plural(n.accepted, "membre")
            return (
                f"{label} Jury incomplet à J-{n.days_before} : {accepted} sur {n.invited} a accepté"
            )
        if n.kind == "declined":
            when = f" le {french_date(n.day)}" if n.day is not None else ""
            return f"{label} Jury : {n.juror} ne pourra pas venir{when}"
        if n.kind == "counter":
            return f"{label} Jury : {n.juror} propose un autre horaire"
        return f"Jury du {n.session.start:%d/%m/%Y} : merci de confirmer votre présence"
    sessions = {n.session.id for n in notices}
    prefix = f"[{notices[0].session.short_label}]" if len(sessions) == 1 else "Examens TP :"
    return f"{prefix} {len(notices)} nouvelles du jury"


def notice_intro(n: Notification) -> str:
    """The first line of a mail of the day that only carries news of the jury."""
    assert n.centre is not None
    if all(x.kind == "answer_reminder" for x in n.notices):
        return "Nous n'avons pas encore votre réponse à l'invitation ci-dessous."
    day = french_date(n.send_at.astimezone(n.centre.tz).date())
    return f"Des nouvelles du jury de vos sessions ce {day}."


def notice_texts(
    notices: Sequence[JuryNotice],
    answer_links: AnswerLinksOf | None,
    page: SessionPage | None = None,
) -> list[NoticeText]:
    texts = []
    for n in notices:
        text = _notice_text(n, answer_links)
        link = page(n.session, n.centre) if page is not None else None
        texts.append(dataclasses.replace(text, page=link) if link else text)
    return texts


def _notice_text(n: JuryNotice, answer_links: AnswerLinksOf | None) -> NoticeText:
    session = session_text(n.session, n.centre)
    said = f"Son message : « {n.comment} »" if n.comment else ""
    lines: tuple[str, ...]
    if n.kind == "too_few":
        accepted = plural(n.accepted, "membre")
        why = "date limite de convocation du jury" if n.days_before >= 31 else "bientôt la session"
        lines = (
            f"À J-{n.days_before} ({why}), "
            f"{accepted} du jury sur {n.invited} invité{'s' if n.invited > 1 else ''} a accepté : "
            "il en faut au moins 2 présents pour évaluer les candidats. Relancez les membres sans "
            "réponse (tableau de bord, panneau « Jury ») ou convoquez d'autres membres habilités ; "
            "faute de jury, prévenez l'UD et reportez la session.",
        )
        return NoticeText(f"{session} — jury incomplet", lines)
    if n.kind == "declined":
        then = f"le {french_date(n.day)}" if n.day is not None else "à ces dates"
        if n.alternatives:
            others = f"Membres habilités sur ce titre et libres {then} : " + ", ".join(
                n.alternatives
            )
        else:
            others = (
                "Aucun autre membre des fichiers de session n'est habilité sur ce titre et libre "
                f"{then} : cherchez dans la liste des jurés habilités (CERES)."
            )
        if n.day is not None:
            day = french_date(n.day)
            what = (
                f"{n.juror} ({n.email}) a décliné le {day} (réponse à ce seul jour de "
                "l'invitation) : sa réponse pour les autres jours est inchangée."
            )
        else:
            what = f"{n.juror} ({n.email}) a répondu qu'il ou elle ne pourra pas venir."
        lines = tuple(x for x in (what, said, others) if x)
        who = {"surveillant": "le surveillant", "comedien": "le comédien"}.get(
            n.role, "un membre du jury"
        )
        if n.role != "jury":
            lines = tuple(x for x in lines if x != others)
        when = f" le {french_date(n.day)}" if n.day is not None else ""
        return NoticeText(f"{session} — {who} ne pourra pas venir{when}", lines)
    if n.kind == "counter":
        proposed = n.detail or "un autre horaire"
        lines = tuple(
            x
            for x in (
                f"{n.juror} ({n.email}) propose {proposed}.",
                said,
                "Rien n'est changé : si la proposition convient, modifiez les dates de la "
                "session ; l'invitation modifiée repart alors d'elle-même vers tout le jury.",
            )
            if x
        )
        return NoticeText(f"{session} — nouvel horaire proposé", lines)
    dates = [d.day for d in exam_days(n.session, n.centre)]
    links = (
        link_pairs(answer_links, n.session.id, n.email, n.sequence, dates, n.days)
        if answer_links
        else ()
    )
    missing = (
        "Votre réponse manque pour "
        + enumeration([f"le {french_date(d)}" for d in dates if d in n.days])
        + "."
        if n.days
        else ""
    )
    lines = (
        f"Vous êtes invité(e) comme {INVITED_AS.get(n.role, 'membre du jury')} de la session "
        f"{n.session.title.code} "
        f"{n.session.title.label} du {french_date(n.session.start)} au "
        f"{french_date(n.session.end)}, {n.centre.name}.",
        "Merci de répondre avec les boutons Accepter / Refuser de l'invitation dans votre "
        "messagerie"
        + (
            ", ou d'un clic ci-dessous."
            if links
            else ", ou en répondant simplement à l'invitation."
        ),
    )
    if missing:
        lines = (lines[0], missing, lines[1])
    return NoticeText(f"{session} — votre réponse est attendue", lines, links)
