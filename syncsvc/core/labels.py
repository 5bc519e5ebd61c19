"""Every French word a person reads for a code value, and every French date format (pure).

One place: the command line, the dashboard, the mails, the calendars and the metrics' help all
take their labels from here, so rewording one changes it everywhere. Codes (``overdue``,
``regulatory``…) never change for a rewording: anything that decides (Google colours, CSS
classes) reads the code, never the label.

Labels are written as they appear inside a sentence (lower case); a page that needs a heading
capitalises it (``capitalised``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from typing import Final

WEEKDAYS: Final = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
WEEKDAYS_SHORT: Final = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
MONTHS: Final = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
MONTHS_SHORT: Final = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)

STATUS_LABELS: Final = {
    "pending": "à venir",
    "due_soon": "bientôt",
    "overdue": "en retard",
    "done": "fait",
    "cancelled": "annulé",
}
"""Milestone statuses (see :data:`syncsvc.core.model.Status`)."""
REDO_LABEL: Final = "à refaire"
"""A milestone done before the session was postponed, to do again (``redo`` in ``plan``)."""
CANCELLED_PREFIX: Final = "ANNULÉE — "
"""The start of every calendar title of a cancelled session."""

KIND_LABELS: Final = {"regulatory": "réglementaire", "advice": "conseil"}
SEVERITY_LABELS: Final = {"error": "erreur", "warning": "avertissement", "info": "info"}
ANCHOR_PHRASES: Final = {
    "start": "le début de la session",
    "end": "la fin de la session",
    "pv_validated_on": "la validation du PV",
    "parchemins_received_on": "la réception des parchemins",
    "training_end": "la fin de la formation",
    "postponed_on": "le report de la session",
}
"""What a rule counts from (its ``anchor``), after « avant » / « après »."""
UNIT_WORDS: Final = {"d": "jours", "mo": "mois"}
"""An offset's unit, in words."""
ROLE_LABELS: Final = {
    "coordinators": "coordination",
    "session_manager": "resp. session",
    "deputy_manager": "suppléant",
    "centre_management": "direction",
    "jury": "jury",
}
OUTBOX_LABELS: Final = {
    "dead": "en échec",
    "pending": "en attente",
    "sent": "envoyé",
    "skipped": "non envoyé (manqué)",
    "sending": "en cours d'envoi",
}
"""States of an outbox message."""
PARTSTAT_LABELS: Final = {
    "NEEDS-ACTION": "sans réponse",
    "ACCEPTED": "accepté",
    "DECLINED": "refusé",
    "TENTATIVE": "peut-être",
}
"""A juror's answer to an invitation (iCalendar PARTSTAT)."""
DAY_ANSWER_VERBS: Final = {
    "ACCEPTED": "a accepté",
    "DECLINED": "a décliné",
    "TENTATIVE": "a répondu « peut-être »",
}
"""A juror's answer to one exam day (a reply to one occurrence of the invitation)."""
ALL_DAYS_LABEL: Final = "tous les jours"
"""An answer for the whole session, beside the answers for one exam day (links, manual entry)."""
BY_DAY_LABEL: Final = "jour par jour (ci-dessous)"
"""The manual entry's « Pour tous les jours » left unchosen: each exam day answered apart."""
ANSWER_LINK_LABELS: Final = {"accept": "Je serai présent(e)", "decline": "Je ne pourrai pas venir"}
"""A juror's two signed links in an invitation or a reminder (the URL's word: its label)."""
INVITATION_LABELS: Final = {
    "invited": "envoyée",
    "cancelled": "annulée",
    "not_sent": "pas encore envoyée",
    "held": "retenue",
}
"""Where a juror's invitation stands."""
JURY_NEWS_LABELS: Final = {
    "invitation": "recevra une invitation",
    "update": "recevra une mise à jour",
    "cancel": "recevra une annulation",
    "held": "Invitation retenue",
}
"""What the sender will do for one person, as a change's preview says it (a held invitation is
followed by its reasons)."""
HELD_BUT_INVITED: Final = (
    "l'invitation déjà reçue reste valable : ni mise à jour ni annulation n'est envoyée, "
    "les coordinateurs décident"
)
"""After the reasons of a held invitation, for a person invited before the problem."""
PREVIEW_HEADINGS: Final = {
    "changes": "Champs modifiés",
    "resumed": "Jalons qui reviennent",
    "moves": "Jalons qui changent de date",
    "targets": "Calendriers",
    "jury": "Jury",
    "errors": "Nouveaux constats de gravité « erreur »",
}
"""The sections of a change's preview (the dashboard's pages, ``syncsvc reinstate``)."""
PREVIEW_NONE: Final = {
    "moves": "Aucun jalon ne change de date.",
    "targets": "Aucun calendrier n'est configuré.",
    "jury": "Aucun membre du jury ne recevra de message.",
    "past": "Session passée : aucun message n'est envoyé au jury.",
}
"""What a preview's section says when it has nothing to list."""


def target_news(created: int, updated: int, removed: int) -> str:
    """What the next pass does on one calendar, as a change's preview says it."""
    if not (created or updated or removed):
        return "rien ne change"
    return f"{created} élément(s) créé(s), {updated} mis à jour, {removed} retiré(s)"


ROLE_NAMES: Final = {"jury": "jury", "surveillant": "surveillant(e)", "comedien": "comédien(ne)"}
"""Who a person is on a session's exam (the panel, the CLI)."""
INVITED_AS: Final = {
    "jury": "membre du jury",
    "surveillant": "surveillant(e)",
    "comedien": "comédien(ne) des mises en situation",
}
"""What a person is invited as (« Vous êtes convoqué(e) comme … »)."""
JURY_WELCOME_LABEL: Final = "Accueil du jury"
"""Before a time: when the jury is welcomed on the first exam day (``jury_welcome``)."""
JUROR_DAY_NOTE: Final = (
    "Le jour de la session : présentez-vous au responsable de session pour l'accueil du jury "
    "(vérification d'identité lors d'une première participation, remise du REAC et du "
    "référentiel d'évaluation, signature de la déclaration sur l'honneur). Apportez une pièce "
    "d'identité. Un membre de jury ayant accueilli un candidat dans son entreprise ne peut pas "
    "l'évaluer : signalez-le au responsable de session."
)
"""What a juror brings and reads on the day: in the invitation and the juror's calendar."""
CONVENED_AUDIENCE: Final = "Convocations (jury, surveillance, comédien)"
"""The public of a ``jury:<e-mail>`` calendar or feed: every exam that address is convened to,
as a juror, the surveillant or the comédien (« Calendriers » page)."""
PERSON_FEED_LINE: Final = "Vos journées d'examen dans votre agenda"
"""Before a convened person's own feed link, in their invitation (« … : <lien> (abonnement) »)."""
PERSON_FEED_NAME: Final = "Examens TP — mes convocations"
"""The name of a convened person's own feed (``[feeds] per_person``), whatever becomes of their
sessions: it never changes (a session file that fails to load, a person convened nowhere any
more), and it names no one."""
INVITATION_SUMMARIES: Final = {
    "jury": "Jury",
    "surveillant": "Surveillance",
    "comedien": "Comédien",
}
"""The first word of the invitation's calendar title, by role."""
REPLY_SOURCE_LABELS: Final = {
    "imip": "réponse d'agenda",
    "link": "lien de l'invitation",
    "manual": "saisie manuelle",
}
REPLY_STATUS_LABELS: Final = {
    "applied": "prise en compte",
    "outdated": "invitation périmée",
    "unmatched": "sans invitation correspondante",
    "pending": "à traiter",
    "handled": "traitée",
    "unreadable": "illisible",
}
MAIL_KINDS: Final = {
    "reminder": "rappel",
    "overdue": "alerte retard",
    "digest": "récapitulatif",
    "candidate_info": "information candidats",
    "invitation": "invitation jury",
    "alert": "alerte administrateur",
}
TARGET_KINDS: Final = {"caldav": "CalDAV", "google": "Google Agenda", "feed": "flux ICS"}
AUDIT_LABELS: Final = {
    "create": "création",
    "edit": "modification",
    "postpone": "report",
    "cancel": "annulation",
    "restore": "rétablissement",
    "archive": "archivage",
    "import": "import de tableur",
    "centres": "centres et agréments",
    "jury_directory": "annuaire du jury",
    "jury_directory_retire": "annuaire du jury : membre retiré",
    "jury_directory_reactivate": "annuaire du jury : membre réactivé",
    "jury_address": "annuaire du jury : adresse changée",
    "repair": "correction du fichier",
    "person_feed_rotate": "nouveau lien d'agenda personnel",
}
"""The actions of the audit (« Historique » of a session)."""
FIELD_LABELS: Final = {
    "id": "identifiant",
    "title": "titre",
    "code": "code",
    "acronym": "sigle",
    "label": "intitulé",
    "transport": "titre du transport",
    "nature": "nature",
    "ccp_code": "code du CCP",
    "centre": "centre",
    "start": "premier jour",
    "end": "dernier jour",
    "first_day_start": "heure de début",
    "last_day_end": "heure de fin",
    "location": "lieu",
    "candidates": "candidats",
    "training": "en formation",
    "vae": "en VAE",
    "session_manager": "responsable de session",
    "deputy_manager": "suppléance",
    "coordinators": "coordination",
    "jury": "jury",
    "name": "nom",
    "email": "courriel",
    "habilitation_until": "habilité jusqu'au",
    "company": "entreprise",
    "ccp": "CCP habilités",
    "cancelled": "annulation",
    "postponed": "report",
    "from_start": "ancien premier jour",
    "from_end": "ancien dernier jour",
    "on": "le",
    "reason": "motif",
    "done": "fait",
}
"""The keys of a session file, for the pages that show a change field by field."""


def field_label(path: str) -> str:
    """``jury.2.email`` → ``jury 2, courriel``: a session file's dotted field path in words."""
    words: list[str] = []
    for part in path.split("."):
        if part.isdigit() and words:
            words[-1] += f" {part}"
        else:
            words.append(FIELD_LABELS.get(part, part))
    return ", ".join(words)


def jury_summary(accepted: int, invited: int) -> str:
    """``jury : 2 confirmés / 3 invités``."""
    confirmed = "confirmé" if accepted <= 1 else "confirmés"
    asked = "invité" if invited <= 1 else "invités"
    return f"jury : {accepted} {confirmed} / {invited} {asked}"


def capitalised(text: str) -> str:
    """``en retard`` -> ``En retard`` (only the first letter changes)."""
    return text[:1].upper() + text[1:]


def fr_date(day: date | datetime | None) -> str:
    """``15/03/2027``."""
    return "" if day is None else f"{day:%d/%m/%Y}"


def fr_day(day: date | datetime | None) -> str:
    """``lun. 15/03/2027``."""
    return "" if day is None else f"{WEEKDAYS_SHORT[day.weekday()]} {day:%d/%m/%Y}"


def fr_weekday_date(day: date | datetime) -> str:
    """``jeudi 18/03/2027``."""
    return f"{WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}"


def french_date(day: date | datetime) -> str:
    """``lundi 15 mars 2027`` (``1er`` for the first of the month)."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{WEEKDAYS[day.weekday()]} {number} {MONTHS[day.month - 1]} {day.year}"


def day_answer(partstat: str, day: date) -> str:
    """``a décliné le mardi 16 mars 2027``: a juror's answer to one exam day."""
    verb = DAY_ANSWER_VERBS.get(partstat, PARTSTAT_LABELS.get(partstat, partstat))
    return f"{verb} le {french_date(day)}"


def french_time(moment: time | datetime) -> str:
    """``8 h 30``, ``18 h``."""
    return f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"


def fr_moment(moment: datetime | None, tz: tzinfo | None = None) -> str:
    """``30/11/2026 07:14``: an instant of the service's own life (outbox, passes), in ``tz``
    (the service's display zone); ``30/11/2026 03:14 UTC`` without one."""
    if moment is None:
        return ""
    if tz is None:
        return moment.astimezone(UTC).strftime("%d/%m/%Y %H:%M UTC")
    return moment.astimezone(tz).strftime("%d/%m/%Y %H:%M")


ZONE_PLACES: Final = {
    "Europe/Paris": "métropole",
    "Indian/Reunion": "La Réunion",
    "Indian/Mayotte": "Mayotte",
    "America/Cayenne": "Guyane",
    "America/Martinique": "Martinique",
    "America/Guadeloupe": "Guadeloupe",
    "America/St_Barthelemy": "Saint-Barthélemy",
    "America/Marigot": "Saint-Martin",
    "America/Miquelon": "Saint-Pierre-et-Miquelon",
    "Pacific/Noumea": "Nouvelle-Calédonie",
    "Pacific/Tahiti": "Polynésie française",
    "Pacific/Wallis": "Wallis-et-Futuna",
}
"""The French name of the place of a time zone (others: « heure du fuseau Asia/Kolkata »)."""


def zone_label(tz: tzinfo, at: datetime) -> str:
    """``heure de La Réunion (UTC+4)``: the zone whose times a page or a line shows, when it is
    not the reader's. The offset is named only for a zone that keeps it all year: a page of a
    métropole session shows winter and summer dates (UTC+1 and UTC+2), « heure de métropole »
    is true of both."""
    name = str(getattr(tz, "key", tz))
    place = ZONE_PLACES.get(name)
    label = f"heure de {place}" if place else f"heure du fuseau {name}"
    year = at.astimezone(tz).year
    offsets = {datetime(year, m, 1, 12, tzinfo=tz).utcoffset() for m in (1, 7)}
    if len(offsets) > 1:
        return label
    offset = at.astimezone(tz).utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    utc = "UTC" if not minutes else f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"{label} ({utc})"


def same_zone(one: tzinfo, other: tzinfo, at: datetime) -> bool:
    """The two zones show the same wall time at ``at`` (then nothing needs saying)."""
    return at.astimezone(one).utcoffset() == at.astimezone(other).utcoffset()


def centre_zones_note(elsewhere: list[tuple[str, str]]) -> str:
    """``Dates et heures de chaque session à l'heure de son centre — AFPAR Saint-André : heure
    de La Réunion (UTC+4).`` for the (centre name, :func:`zone_label`) of the centres not at the
    reader's time; empty when there are none."""
    if not elsewhere:
        return ""
    shown = " ; ".join(f"{name} : {zone}" for name, zone in elsewhere)
    return f"Dates et heures de chaque session à l'heure de son centre — {shown}."


def roles(audience: tuple[str, ...]) -> str:
    """``coordination, resp. session``."""
    return ", ".join(ROLE_LABELS.get(r, r) for r in audience)
