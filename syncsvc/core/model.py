"""Value types of the domain: centres, sessions, people, milestones, findings (pure).

Session and centre files are validated strictly: unknown keys are errors, so a typo never goes
unnoticed, and every value is one that the later stages can handle (bounded texts without
control characters, dates of this century, IANA time zones: see :mod:`syncsvc.core.fields`).
Validation messages are in French because the people who write these files read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from syncsvc.core.administration import default_ud_name
from syncsvc.core.fields import (
    ONE_LINE,
    ClockTime,
    Code,
    Day,
    Email,
    Key,
    Label,
    Name,
    Paragraph,
    Phone,
    Place,
    Refusal,
    RuleTitle,
    Strict,
    Version,
)
from syncsvc.core.rules import CentreRules, Kind, Role, Rule, RuleOverride, RuleSource

_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,3}")
_ZONE_HINT = "un nom IANA, ex. Europe/Paris, Indian/Reunion, America/Martinique…"
SESSION_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,79}$"
CENTRE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"
EXTRA_RULE_ID_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
TitleCode = Annotated[str, Field(pattern=r"^TP-[0-9]{5}$")]
"""The code of a Titre Professionnel (TP-00374)."""

HolidayZone = Literal["metropole", "alsace-moselle", "971", "972", "973", "974", "976"]
Sector = Literal["btp", "industrie", "tertiaire"]
Nature = Literal["titre", "ccp", "ccs"]
Status = Literal["pending", "due_soon", "overdue", "done", "cancelled"]
"""Where a milestone stands; ``cancelled``: every milestone of a cancelled session."""
Severity = Literal["error", "warning", "info"]
ConvenedRole = Literal["jury", "surveillant", "comedien"]
"""What a person is convened to an exam as: a juror, the surveillant, the comédien of the role
plays (each is invited, and has their own calendar ``jury:<e-mail>``)."""


_ARTICLE = re.compile(r"(?i)^(la|le|les|l['’])\s*(?=\S)")
ShortName = Annotated[str, Field(min_length=1, max_length=30, pattern=ONE_LINE)]
"""A short name for a month view's titles (« St-André »)."""


@lru_cache(maxsize=1024)
def site_name(name: str, length: int = 30) -> str:
    """A centre's name, short (see :attr:`Centre.short_name`); remembered, since every title of
    every session of a centre asks for it."""
    site = name.rsplit(" — ", 1)[-1] if " — " in name else name
    site = re.sub(r"(?i)^site\s+(de\s+|d['’]\s*|du\s+)?", "", site).strip() or site
    words = site.split()
    if site == name and len(words) > 1 and re.fullmatch(r"[A-Z0-9]{2,}", words[0]):
        site = " ".join(words[1:])
    site = re.sub(r"\bSainte-", "Ste-", re.sub(r"\bSaint-", "St-", site))
    return site if len(site) <= length else site[: length - 1].rstrip() + "…"


def _zone_code(value: Any) -> Any:
    # "974" written without quotes arrives as an integer.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _timezone(value: str) -> str:
    # The name becomes a file name for the lookup: only an IANA-shaped name of sane length is
    # looked up (a 100,000-character name, or a path, never reaches ZoneInfo).
    if len(value) > 64 or _ZONE_NAME.fullmatch(value) is None:
        raise Refusal("fuseau horaire", value, f"invalide (attendu : {_ZONE_HINT})")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Refusal("fuseau horaire", value, f"inconnu (attendu : {_ZONE_HINT})") from None
    return value


RECIPIENT_LENGTH = 255
"""A name and its address, as an e-mail's recipient line (``"Name" <address>``), fit the
store's 255 characters (the outbox keeps that line)."""


def _fits_a_recipient_line(email: str | None, info: ValidationInfo) -> str | None:
    name = info.data.get("name")
    if email is None or not isinstance(name, str):
        return email
    length = len(name) + name.count('"') + name.count("\\") + len(email) + 5
    if length > RECIPIENT_LENGTH:
        raise ValueError(
            f"nom et adresse trop longs ensemble : {length} caractères dans la ligne de "
            f"destinataire d'un e-mail (attendu : au plus {RECIPIENT_LENGTH} ; raccourcir le nom)"
        )
    return email


class Person(Strict):
    name: Name
    email: Email
    phone: Phone | None = None
    """A number to reach the person on the exam days (the session manager's, for the jury)."""

    _recipient = field_validator("email")(_fits_a_recipient_line)


class JuryMember(Person):
    habilitation_until: Day
    ccp: tuple[Code, ...] = Field(default=(), max_length=20)
    """CCP codes the habilitation is restricted to; empty means the whole title."""
    company: Label | None = None
    title_code: TitleCode | None = None
    """The title the habilitation is for; None means the session's title."""


class DirectoryJuror(Strict):
    """One juror of the jury directory (``config/jury.yaml``), under their e-mail: who they
    are and what they are habilitated for, written once for every session they sit on."""

    name: Name
    email: Email
    phone: Phone | None = None
    company: Label | None = None
    titles: tuple[TitleCode, ...] = Field(min_length=1, max_length=50)
    """The titles the habilitation is for."""
    ccp: tuple[Code, ...] = Field(default=(), max_length=50)
    """CCP codes the habilitation is restricted to; empty means the whole titles."""
    habilitation_until: Day
    retired_on: Day | None = None
    """The day the juror was retired from the directory (« Retirer de l'annuaire »): kept
    only because sessions take them from here by their address; never offered again."""

    _recipient = field_validator("email")(_fits_a_recipient_line)

    def member_values(self, title_code: str) -> dict[str, Any]:
        """The :class:`JuryMember` keys this juror gives a session of ``title_code``: the
        habilitation is for that title when the directory lists it, else for the first title
        listed (the jury check then says the juror is habilitated for another title)."""
        values: dict[str, Any] = {
            "name": self.name,
            "email": self.email,
            "habilitation_until": self.habilitation_until,
            "title_code": title_code if title_code in self.titles else self.titles[0],
        }
        if self.ccp:
            values["ccp"] = self.ccp
        if self.company is not None:
            values["company"] = self.company
        return values


class Title(Strict):
    code: TitleCode
    acronym: Annotated[str, Field(min_length=1, max_length=16, pattern=ONE_LINE)]
    label: Label
    transport: bool = False
    expires_on: Day | None = None
    """Échéance du titre: no session of this title may be created in CERES after this day."""
    version: Version | None = None
    """Millésime of the title the session is for."""


class NamedCandidate(Strict):
    """A candidate: personal data (GDPR). Never written to a calendar, a feed or a message."""

    name: Name
    email: Email | None = None
    route: Literal["training", "vae"] = "training"
    host_company: Label | None = None
    recevabilite_until: Day | None = None
    """VAE: last day the recevabilité (admissibility) decision is valid."""
    accommodation: bool = False
    """Aménagement d'épreuves (a candidate with a disability)."""

    _recipient = field_validator("email")(_fits_a_recipient_line)

    @field_validator("recevabilite_until")
    @classmethod
    def _vae_only(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is not None and info.data.get("route") != "vae":
            raise ValueError(
                "recevabilité VAE donnée pour un candidat qui n'est pas en VAE (attendu : "
                "route: vae, ou pas de recevabilite_until)"
            )
        return value


class Candidates(Strict):
    model_config = ConfigDict(populate_by_name=True)

    training: int = Field(default=0, ge=0, le=1000)
    vae: int = Field(default=0, ge=0, le=1000)
    named: tuple[NamedCandidate, ...] = Field(default=(), alias="list", max_length=1000)

    @property
    def total(self) -> int:
        return max(self.training + self.vae, len(self.named))


class SessionDay(Strict):
    """One day of a session's exams and its hours, as listed under ``days:``."""

    day: Day = Field(alias="date")
    start: ClockTime
    end: ClockTime

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if isinstance(start, time) and value <= start:
            raise ValueError(
                f"l'heure de fin ({value:%H:%M}) ne suit pas l'heure de début ({start:%H:%M}) "
                "(attendu : une fin après le début, le même jour)"
            )
        return value


class Cancellation(Strict):
    """``cancelled:`` of a session file: ``true`` (neither day nor reason known: files written
    before the block existed), or ``{on: <day>, reason: <why>}``."""

    on: Day | None = None
    """The day the session was cancelled."""
    reason: Label | None = None


_CANCELLATION_HINT = 'true, ou un bloc {on: 2027-01-11, reason: "le motif"}'


def _cancellation(value: Any) -> Any:
    """``true`` and the block are a cancellation; ``false`` (or nothing) is none."""
    if value is None or value is False:
        return None
    if value is True:
        return Cancellation()
    if isinstance(value, dict):
        missing = [key for key in ("on", "reason") if key not in value]
        if missing:
            names = " et ".join(missing)
            raise ValueError(
                f"annulation sans {names} (attendu : {_CANCELLATION_HINT} ; on est le jour de "
                "l'annulation, reason son motif)"
            )
        return value
    if isinstance(value, Cancellation):
        return value
    raise Refusal("annulation", value, f"illisible (attendu : {_CANCELLATION_HINT})")


class Postponement(Strict):
    """One postponement of a session (``postponed:``, oldest first): the dates it had before,
    the day it was postponed and why. The dates it has after are the next postponement's
    ``from_start``/``from_end``, or the session's own ``start``/``end`` for the last one."""

    from_start: Day
    from_end: Day
    on: Day
    """The day the session was postponed (the milestones done before it that depend on its
    dates are to be redone: ``redo_on_postpone`` in the ruleset)."""
    reason: Label

    @field_validator("from_end")
    @classmethod
    def _from_end_after_from_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("from_start")
        if isinstance(start, date) and value < start:
            raise ValueError(
                f"l'ancienne fin ({value.isoformat()}) précède l'ancien début "
                f"({start.isoformat()}) (attendu : from_end égal ou postérieur à from_start)"
            )
        return value


class Session(Strict):
    """One exam session, as written in ``config/sessions/<id>.yaml``."""

    id: Annotated[str, Field(pattern=SESSION_ID_PATTERN)]
    title: Title
    nature: Nature
    ccp_code: Code | None = Field(default=None, validate_default=True)
    centre: Annotated[str, Field(pattern=CENTRE_ID_PATTERN)]
    start: Day
    end: Day
    first_day_start: ClockTime | None = None
    last_day_end: ClockTime = time(18, 0)
    jury_welcome: ClockTime | None = None
    """When the jury is welcomed on the first exam day (accueil, briefing by the session
    manager), before the candidates start; told to the jury, never later than the first day's
    start."""
    days: tuple[SessionDay, ...] = Field(default=(), max_length=60)
    """The exam days and their hours; empty: every working day of the centre from ``start`` to
    ``end``, from ``first_day_start`` to ``last_day_end`` (see
    :func:`syncsvc.core.exam_days.exam_days`)."""
    candidates: Candidates
    session_manager: Person
    deputy_manager: Person | None = None
    coordinators: tuple[Person, ...] = Field(min_length=1, max_length=50)
    jury: tuple[JuryMember, ...] = Field(default=(), max_length=50)
    surveillant: Person | None = None
    comedien: Person | None = None
    """The actor of role plays, when the title's RE (référentiel d'évaluation) has one."""
    declared_on: Day | None = None
    pv_validated_on: Day | None = None
    parchemins_received_on: Day | None = None
    training_end: Day | None = None
    location: Place | None = None
    cancelled: Annotated[Cancellation | None, BeforeValidator(_cancellation)] = None
    """Set when the session is cancelled (``true``, or ``{on, reason}``): its calendar items
    stay, marked cancelled; its reminders stop; its jury gets a cancellation."""
    postponed: tuple[Postponement, ...] = Field(default=(), max_length=50)
    """The session's postponements, oldest first (its dates before each, the day, why)."""
    done: dict[Key, Day] = Field(default_factory=dict)
    """Milestones already done, with the day they were done (``dte_order: 2026-12-10``)."""

    @field_validator("ccp_code")
    @classmethod
    def _ccp_code_for_ccp(cls, value: str | None, info: ValidationInfo) -> str | None:
        nature = info.data.get("nature")
        if nature in ("ccp", "ccs") and not value:
            raise ValueError(
                f"code CCP obligatoire pour une session de nature {nature} "
                "(attendu : le code du CCP, ex. CP-00396)"
            )
        return value

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if isinstance(start, date) and value < start:
            raise ValueError(
                f"la fin ({value.isoformat()}) précède le début ({start.isoformat()}) "
                "(attendu : une date de fin égale ou postérieure à start)"
            )
        return value

    @field_validator("days")
    @classmethod
    def _days_in_session(
        cls, value: tuple[SessionDay, ...], info: ValidationInfo
    ) -> tuple[SessionDay, ...]:
        start, end = info.data.get("start"), info.data.get("end")
        if not isinstance(start, date) or not isinstance(end, date):
            return value
        seen: set[date] = set()
        for index, day in enumerate(value, start=1):
            if not start <= day.day <= end:
                raise ValueError(
                    f"jour {index} ({day.day.isoformat()}) hors de la session (attendu : une date "
                    f"du {start.isoformat()} au {end.isoformat()}, entre start et end)"
                )
            if day.day in seen:
                raise ValueError(
                    f"jour {index} ({day.day.isoformat()}) déjà listé (attendu : chaque date une "
                    "seule fois dans days)"
                )
            seen.add(day.day)
        return tuple(sorted(value, key=lambda d: d.day))

    @model_validator(mode="after")
    def _hours_of_each_day(self) -> Session:
        # Without days:, each exam day runs from first_day_start to last_day_end.
        start, end = self.first_day_start, self.last_day_end
        if not self.days and start is not None and end <= start:
            raise ValueError(
                f"last_day_end ({end:%H:%M}) ne suit pas first_day_start ({start:%H:%M}) : "
                "chaque jour d'examen va de first_day_start à last_day_end (attendu : une fin "
                "après le début, ou les jours et leurs heures listés sous days)"
            )
        first = self.days[0].start if self.days else start
        welcome = self.jury_welcome
        if welcome is not None and first is not None and welcome > first:
            raise ValueError(
                f"jury_welcome ({welcome:%H:%M}) après le début du premier jour ({first:%H:%M}) "
                f": l'accueil du jury précède les épreuves (attendu : une heure au plus égale à "
                f"{first:%H:%M})"
            )
        return self

    @field_validator("postponed")
    @classmethod
    def _postponements_in_order(
        cls, value: tuple[Postponement, ...], info: ValidationInfo
    ) -> tuple[Postponement, ...]:
        days = [p.on for p in value]
        if days != sorted(days):
            raise ValueError(
                "reports dans le désordre (attendu : du plus ancien au plus récent, par date on)"
            )
        start, end = info.data.get("start"), info.data.get("end")
        last = value[-1] if value else None
        if last is not None and (last.from_start, last.from_end) == (start, end):
            raise ValueError(
                f"report du {last.on.isoformat()} sans changement de dates : from_start et "
                "from_end sont les dates actuelles de la session (attendu : les dates d'avant "
                "le report, start et end portant les nouvelles)"
            )
        return value

    @property
    def last_postponement(self) -> Postponement | None:
        """The latest postponement, None when the session was never postponed."""
        return self.postponed[-1] if self.postponed else None

    @property
    def postponed_on(self) -> date | None:
        """The day of the latest postponement."""
        return self.postponed[-1].on if self.postponed else None

    def convened(self) -> list[tuple[Person, ConvenedRole]]:
        """Everyone convened to the exam, each address once: the jury, then the surveillant and
        the comédien when the session names them (an address on the jury that is also the
        surveillant is convened as a juror)."""
        people: list[tuple[Person, ConvenedRole]] = [(m, "jury") for m in self.jury]
        if self.surveillant is not None:
            people.append((self.surveillant, "surveillant"))
        if self.comedien is not None:
            people.append((self.comedien, "comedien"))
        seen: set[str] = set()
        out = []
        for person, role in people:
            if person.email not in seen:
                seen.add(person.email)
                out.append((person, role))
        return out

    def convened_as(self, email: str) -> tuple[Person, ConvenedRole] | None:
        """The person convened under ``email`` (lower case) and as what; None when the
        address is not convened to this session's exam."""
        return next(((p, r) for p, r in self.convened() if p.email == email), None)

    @property
    def short_label(self) -> str:
        """``SA 15/03``: the prefix of every calendar title of this session."""
        start = self.start  # formatted by hand: strftime is slow on 200,000 rows
        return f"{self.title.acronym} {start.day:02d}/{start.month:02d}"


class Agrement(Strict):
    title_code: TitleCode
    until: Day
    max_candidates: int = Field(gt=0, le=1000)
    title_version: Version | None = None
    """The millésime of the title the agrément is for; None: not said."""
    session_managers: tuple[Email, ...] | None = Field(default=None, max_length=50)
    """The session managers declared in the agrément; None: not said (no check)."""


class _ExtraSource(RuleSource):
    ref: Label
    quote: Paragraph


class _ExtraRule(Rule):
    """A centre's own rule: the shipped rule's fields, with its texts bounded like every text
    a person writes (they end up in calendars and e-mail subjects). Its id is at most 32
    characters: with a session id (80), an e-mail (254) and a day, it makes the idempotency key
    of a reminder, which the store keeps in 400 characters."""

    id: Annotated[str, Field(pattern=EXTRA_RULE_ID_PATTERN)]
    title: RuleTitle
    short: Annotated[str, Field(min_length=2, max_length=40, pattern=ONE_LINE)] | None = None
    sources: tuple[_ExtraSource, ...] = Field(default=(), max_length=20)
    note: Paragraph | None = None
    description: Paragraph = ""


class CentreCustomisation(CentreRules):
    """``rules:`` of a centre in centres.yaml (see :class:`CentreRules`), every key and text
    bounded."""

    overrides: dict[Key, RuleOverride] = Field(default_factory=dict, max_length=200)
    disable: tuple[Key, ...] = Field(default=(), max_length=200)
    extra: tuple[_ExtraRule, ...] = Field(default=(), max_length=100)


class Centre(Strict):
    """A training centre, as written under its key in ``config/centres.yaml``."""

    id: Annotated[str, Field(pattern=CENTRE_ID_PATTERN)]
    name: Label
    timezone: Annotated[str, AfterValidator(_timezone)] = "Europe/Paris"
    holiday_zone: Annotated[HolidayZone, BeforeValidator(_zone_code)] = "metropole"
    working_day_shift: bool = True
    candidate_info_mail: bool = False
    """Send candidates (listed with an e-mail) what to bring, a few days before (off by default)."""
    exam_office_email: Email
    organizer: Email | None = None
    """The ORGANIZER of the jury's invitations, the mailbox syncsvc reads the replies from
    (``[mail.inbox]``); default: ``exam_office_email``."""
    ud_email: Email
    written_ud_name: Label | None = Field(default=None, alias="ud_name")
    """The UD as written (« DDETS du Rhône »); see :attr:`ud_name` for the default."""
    written_short_name: ShortName | None = Field(default=None, alias="short_name")
    """The site as a month view shows it (« St-André »); see :attr:`short_name`."""
    address: Place | None = None
    phone: Phone | None = None
    sector: Sector
    management: tuple[Person, ...] = Field(default=(), max_length=50)
    agrements: tuple[Agrement, ...] = Field(default=(), max_length=200)
    rules: CentreCustomisation = CentreCustomisation()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @field_validator("written_ud_name")
    @classmethod
    def _without_article(cls, value: str | None) -> str | None:
        if value is not None and _ARTICLE.match(value):
            raise Refusal(
                "nom du service de l'État",
                value,
                "écrit avec son article : les textes disent « la {ud_name} » (attendu : le nom "
                "seul, ex. DDETS du Rhône)",
            )
        return value

    @property
    def organizer_email(self) -> str:
        """Where the jurors' calendar replies go: ``organizer``, else the exam office."""
        return self.organizer or self.exam_office_email

    @property
    def ud_name(self) -> str:
        """The State's service that oversees the centre's sessions, without article: as
        written, else its name in force by holiday zone and département (see
        :func:`syncsvc.core.administration.default_ud_name`)."""
        if self.written_ud_name:
            return self.written_ud_name
        return default_ud_name(self.holiday_zone, self.address)

    @property
    def short_name(self) -> str:
        """The site, short: as written, else from the name — the part after its last « — »
        without « site de », else the name without a leading acronym (« AFPAR Saint-André »
        → « St-André »), « Saint »/« Sainte » abbreviated."""
        if self.written_short_name:
            return self.written_short_name
        return site_name(self.name)

    def agrement_for(self, title_code: str, version: str | None = None) -> Agrement | None:
        """The centre's agrément for a title (the one that lasts longest), preferring one for
        ``version`` (or one that does not name its version) when ``version`` is given."""
        matching = [a for a in self.agrements if a.title_code == title_code]
        if version is not None:
            fitting = [a for a in matching if same_version(a.title_version, version)]
            matching = fitting or matching
        return max(matching, key=lambda a: a.until) if matching else None


def same_version(written: str | None, version: str) -> bool:
    """An agrément's millésime fits ``version`` when it is not said or is the same (letter
    case and spaces aside)."""
    return (
        written is None
        or "".join(written.split()).casefold() == "".join(version.split()).casefold()
    )


@dataclass(frozen=True, slots=True)
class Milestone:
    """One dated step of a session's timeline, computed by the planner."""

    session_id: str
    rule: Rule
    due: date
    unshifted: date
    status: Status
    done_on: date | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    ends_on: date | None = None
    """Last day (inclusive) of a multi-day item such as the exam session."""
    redo_of: date | None = None
    """« À refaire »: the day it was marked done before the session was postponed, when its
    meaning depended on the old dates (``redo_on_postpone``); it is then not done (its status
    runs from its new due day) until marked done again on or after the postponement day."""

    @property
    def redo(self) -> bool:
        return self.redo_of is not None

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def title(self) -> str:
        return self.rule.title

    @property
    def kind(self) -> Kind:
        return self.rule.kind

    @property
    def audience(self) -> tuple[Role, ...]:
        return self.rule.audience


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem or remark about a session definition, for the people who maintain it."""

    session_id: str
    code: str
    severity: Severity
    message: str
    juror: str | None = None
    """The e-mail of the jury member the finding is about, when it is about one."""
