"""Value types of the domain: centres, sessions, people, milestones, findings (pure).

Session and centre files are validated strictly: unknown keys are errors, so a typo never goes
unnoticed. Validation messages are in French because the people who write these files read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from syncsvc.core.rules import CentreRules, Kind, Role, Rule

_EMAIL_RE = re.compile(
    r"^[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
SESSION_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,79}$"
CENTRE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"

HolidayZone = Literal["metropole", "alsace-moselle", "971", "972", "973", "974", "976"]
Sector = Literal["btp", "industrie", "tertiaire"]
Nature = Literal["titre", "ccp", "ccs"]
Status = Literal["pending", "due_soon", "overdue", "done"]
Severity = Literal["error", "warning", "info"]


def _email(value: str) -> str:
    if not value.isascii():
        raise ValueError(
            f"adresse e-mail « {value} » avec des caractères accentués : la plupart des "
            "serveurs de messagerie la refusent (attendu : une adresse sans accent)"
        )
    if not _EMAIL_RE.match(value):
        raise ValueError(f"adresse e-mail « {value} » invalide (attendu : nom@domaine.fr)")
    return value.lower()


def _clock_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 8:30 as the sexagesimal integer 510: say how to write it.
    if isinstance(value, int) and not isinstance(value, bool):
        hours, minutes = divmod(value, 60)
        raise ValueError(
            f"heure lue comme le nombre {value} (attendu : une heure entre guillemets, "
            f'ex. "{hours:02d}:{minutes:02d}")'
        )
    if isinstance(value, str) and not re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        raise ValueError(f'heure « {value} » illisible (attendu : HH:MM, ex. "08:30")')
    return value


def _zone_code(value: Any) -> Any:
    # "974" written without quotes arrives as an integer.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        hint = "Europe/Paris, Indian/Reunion, America/Martinique…"
        raise ValueError(
            f"fuseau horaire « {value} » inconnu (attendu : un nom IANA, ex. {hint})"
        ) from None
    return value


Email = Annotated[str, AfterValidator(_email)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
Text = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    """Base of every configuration model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Person(Strict):
    name: Text
    email: Email


class JuryMember(Person):
    habilitation_until: date
    ccp: tuple[str, ...] = ()
    """CCP codes the habilitation is restricted to; empty means the whole title."""
    company: str | None = None


class Title(Strict):
    code: Annotated[str, Field(pattern=r"^TP-\d{5}$")]
    acronym: Annotated[str, Field(min_length=1, max_length=16)]
    label: Text
    transport: bool = False


class NamedCandidate(Strict):
    """A candidate: personal data (GDPR). Never written to a calendar or a feed."""

    name: Text
    email: Email | None = None
    route: Literal["training", "vae"] = "training"
    host_company: str | None = None


class Candidates(Strict):
    model_config = ConfigDict(populate_by_name=True)

    training: int = Field(default=0, ge=0)
    vae: int = Field(default=0, ge=0)
    named: tuple[NamedCandidate, ...] = Field(default=(), alias="list")

    @property
    def total(self) -> int:
        return max(self.training + self.vae, len(self.named))


class Session(Strict):
    """One exam session, as written in ``config/sessions/<id>.yaml``."""

    id: Annotated[str, Field(pattern=SESSION_ID_PATTERN)]
    title: Title
    nature: Nature
    ccp_code: str | None = Field(default=None, validate_default=True)
    centre: Annotated[str, Field(pattern=CENTRE_ID_PATTERN)]
    start: date
    end: date
    first_day_start: ClockTime | None = None
    last_day_end: ClockTime = time(18, 0)
    candidates: Candidates
    session_manager: Person
    deputy_manager: Person | None = None
    coordinators: tuple[Person, ...] = Field(min_length=1)
    jury: tuple[JuryMember, ...] = ()
    declared_on: date | None = None
    pv_validated_on: date | None = None
    parchemins_received_on: date | None = None
    training_end: date | None = None
    location: str | None = None
    cancelled: bool = False
    """A cancelled session leaves the calendars and its jury gets a cancellation."""
    done: dict[str, date] = Field(default_factory=dict)
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

    @property
    def short_label(self) -> str:
        """``SA 15/03``: the prefix of every calendar title of this session."""
        return f"{self.title.acronym} {self.start:%d/%m}"


class Agrement(Strict):
    title_code: Annotated[str, Field(pattern=r"^TP-\d{5}$")]
    until: date
    max_candidates: int = Field(gt=0)


class Centre(Strict):
    """A training centre, as written under its key in ``config/centres.yaml``."""

    id: Annotated[str, Field(pattern=CENTRE_ID_PATTERN)]
    name: Text
    timezone: Annotated[str, AfterValidator(_timezone)] = "Europe/Paris"
    holiday_zone: Annotated[HolidayZone, BeforeValidator(_zone_code)] = "metropole"
    working_day_shift: bool = True
    candidate_info_mail: bool = False
    """Send candidates (listed with an e-mail) what to bring, a few days before (off by default)."""
    exam_office_email: Email
    ud_email: Email
    sector: Sector
    management: tuple[Person, ...] = ()
    agrements: tuple[Agrement, ...] = ()
    rules: CentreRules = CentreRules()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def agrement_for(self, title_code: str) -> Agrement | None:
        matching = [a for a in self.agrements if a.title_code == title_code]
        return max(matching, key=lambda a: a.until) if matching else None


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
