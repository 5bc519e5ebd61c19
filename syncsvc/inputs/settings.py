"""Service configuration: ``syncsvc.toml`` in the config folder, validated like session files.

Secrets never live in this file: a target names the environment variable (``password_env``) or
the file (``password_file``) that holds its password, and :func:`secret` reads it when needed.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)

from syncsvc.core.fields import ClockTime, Email, Strict
from syncsvc.errors import ConfigError
from syncsvc.inputs.defaults import CALDAV_TIMEOUT, DEFAULT_STORE_URL, LEASE_SECONDS
from syncsvc.inputs.problems import validation_problems

AUDIENCE_RE = re.compile(r"^(all|coordinators:[a-z0-9-]+|session_manager:\S+@\S+|jury:\S+@\S+)$")


def _audience(value: str) -> str:
    if not AUDIENCE_RE.match(value):
        raise ValueError(
            f"public « {value} » non reconnu (attendu : coordinators:<centre>, "
            "session_manager:<e-mail>, jury:<e-mail> (jury, surveillant ou comédien) ou all)"
        )
    kind, _, who = value.partition(":")
    return f"{kind}:{who.lower()}" if who else kind


Audience = Annotated[str, AfterValidator(_audience)]


def _display_zone(value: str) -> str:
    if len(value) > 64 or not all(c.isalnum() or c in "/_+-" for c in value):
        raise ValueError(
            f"fuseau « {value[:64]} » invalide (attendu : un nom IANA, ex. Europe/Paris)"
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"fuseau « {value} » inconnu (attendu : un nom IANA, ex. Europe/Paris)"
        ) from None
    return value


class StoreSettings(Strict):
    url: str = DEFAULT_STORE_URL


class TargetSettings(Strict):
    """One place the milestones are published to, for one audience."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    kind: Literal["caldav", "google", "graph", "feed"]
    audience: Audience
    items: Literal["events", "tasks"] = "events"
    group_same_day: bool = False
    """Events only: one event for the deadlines of one session due the same day (see
    :mod:`syncsvc.core.same_day`)."""
    # caldav
    url: str | None = None
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    calendar: str | None = None
    display_name: str | None = None
    color: Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")] = "#1F6FB2"
    timeout: float = Field(default=CALDAV_TIMEOUT, gt=0)
    concurrency: int = Field(default=1, ge=1, le=16)
    """CalDAV writes in flight at once: raise it for servers that write in parallel
    (Nextcloud, Cyrus…); Radicale serialises its writes, so 1 is right there."""
    # google (see the Google issue)
    token_file: Path | None = None
    service_account_file: Path | None = None
    subject: str | None = None
    api_endpoint: str | None = None
    batch_uri: str | None = None
    requests_per_minute: int = Field(default=300, ge=1, le=600)
    """Calls per minute to this Google calendar (Google allows ~600/min/user)."""
    attendees: bool = False
    """Google only: add the jury as attendees (Workspace-internal juries; iMIP mail otherwise)."""
    # graph (Microsoft 365 through Microsoft Graph; calendar: its name, created when missing)
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    client_secret_file: Path | None = None
    client_certificate_file: Path | None = None
    """PEM file holding the application's private key and its certificate."""
    mailbox: str | None = None
    authority: Annotated[str, Field(pattern=r"^https://")] = "https://login.microsoftonline.com/"
    graph_url: Annotated[str, Field(pattern=r"^https://")] = "https://graph.microsoft.com/v1.0/"
    ca_bundle: Path | None = None
    """Certificates to trust (private clouds, tests); default: the system's."""
    # guards (default: the service-wide values)
    max_delete_share: float | None = Field(default=None, ge=0, le=1)
    max_delete_items: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _kind_needs(self) -> TargetSettings:
        if self.kind == "caldav":
            missing = [k for k in ("url", "calendar") if getattr(self, k) is None]
            if missing:
                raise ValueError(
                    f"cible caldav « {self.name} » : {', '.join(missing)} manquant(s) "
                    '(attendu : url = "https://serveur/dav/", calendar = "examens-centre")'
                )
            if self.password_env and self.password_file:
                raise ValueError(
                    "password_env et password_file sont exclusifs (attendu : l'un des deux)"
                )
        if self.kind == "google":
            if self.calendar is None:
                raise ValueError(
                    f"cible google « {self.name} » : calendar manquant (attendu : l'id du "
                    "calendrier, ex. coordination@example.org)"
                )
            if (self.token_file is None) == (self.service_account_file is None):
                raise ValueError(
                    f"cible google « {self.name} » : attendu exactement un de token_file "
                    "(jeton OAuth) ou service_account_file (compte de service)"
                )
            if self.subject and self.service_account_file is None:
                raise ValueError(
                    f"cible google « {self.name} » : subject ne s'utilise qu'avec "
                    "service_account_file (délégation de domaine)"
                )
        if self.kind == "graph":
            self._graph_needs()
        return self

    def _graph_needs(self) -> None:
        missing = [
            k for k in ("tenant_id", "client_id", "mailbox", "calendar") if not getattr(self, k)
        ]
        if missing:
            raise ValueError(
                f"cible graph « {self.name} » : {', '.join(missing)} manquant(s) (attendu : "
                'tenant_id = "…", client_id = "…", mailbox = "examens@centre.example", '
                'calendar = "Échéances examens")'
            )
        proofs = [self.client_secret_env, self.client_secret_file, self.client_certificate_file]
        if sum(p is not None for p in proofs) != 1:
            raise ValueError(
                f"cible graph « {self.name} » : attendu exactement un de client_secret_env, "
                "client_secret_file ou client_certificate_file"
            )
        mailbox = self.mailbox or ""
        if "@" not in mailbox or "/" in mailbox:
            raise ValueError(
                f"cible graph « {self.name} » : mailbox doit être l'adresse d'une boîte aux "
                "lettres (attendu : examens@centre.example)"
            )


class InboxSettings(Strict):
    """``[mail.inbox]`` (or ``[mail.inboxes.<name>]``, one per mailbox): a mailbox that
    receives the jurors' replies (the ORGANIZER of the jury's invitations, see ``organizer`` in
    centres.yaml), read over IMAP.

    Login: ``auth = "password"`` (the default: ``password_env`` or ``password_file``, an app
    password where the provider asks for one), or ``auth = "oauth2"`` (SASL XOAUTH2, or
    OAUTHBEARER with ``mechanism``) with a token from ``provider``:

    - ``"microsoft"`` (Exchange Online): the application registration ``tenant_id``,
      ``client_id`` and one of ``client_secret_env``, ``client_secret_file``,
      ``client_certificate_file`` (client credentials, permission ``IMAP.AccessAsApp``);
    - ``"google"`` (Google Workspace): ``service_account_file`` (domain-wide delegation,
      impersonating ``username``) or ``token_file`` (an authorized user's token file)."""

    host: str
    port: int | None = Field(default=None, ge=1, le=65535)
    """Default: 993 with ``security = "tls"``, 143 otherwise."""
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str = Field(min_length=1, max_length=255)
    address: Email | None = None
    """The address delivered to this mailbox, checked against each centre's ``organizer``
    (default: ``username`` when it is an address)."""
    aliases: tuple[Email, ...] = Field(default=(), max_length=100)
    """Other addresses delivered to this mailbox (aliases, shared addresses)."""
    auth: Literal["password", "oauth2"] = "password"
    password_env: str | None = None
    password_file: Path | None = None
    provider: Literal["microsoft", "google"] | None = None
    mechanism: Literal["xoauth2", "oauthbearer"] = "xoauth2"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    client_secret_file: Path | None = None
    client_certificate_file: Path | None = None
    authority: Annotated[str, Field(pattern=r"^https://")] = "https://login.microsoftonline.com/"
    ca_bundle: Path | None = None
    """Certificates the token endpoint is checked against (default: the system's)."""
    service_account_file: Path | None = None
    token_file: Path | None = None
    folder: str = Field(default="INBOX", min_length=1, max_length=200)
    """Where the replies arrive (a server rule may file them into a folder of their own)."""
    processed_folder: str = Field(default="Réponses jury traitées", min_length=1, max_length=200)
    """Where a reply goes once recorded (created when missing; never deleted)."""
    humans_folder: str = Field(default="Réponses jury à lire", min_length=1, max_length=200)
    """Where a message goes that a person must read: plain-text answers, mail that could not
    be read, replies to no known invitation."""
    poll_seconds: int = Field(default=120, ge=10, le=3600)
    """How often the service looks (IDLE also wakes it at once where the server has it)."""
    idle: bool = True
    timeout: float = Field(default=30.0, gt=0, le=600)
    ca_file: Path | None = None
    """Certificates to trust instead of the system's (a private CA)."""

    @model_validator(mode="after")
    def _one_login(self) -> InboxSettings:
        if self.auth == "password":
            self._password_needs()
        else:
            self._oauth2_needs()
        folders = {self.folder, self.processed_folder, self.humans_folder}
        if len(folders) < 3:
            raise ValueError(
                "folder, processed_folder et humans_folder doivent être trois dossiers différents"
            )
        return self

    def _password_needs(self) -> None:
        if self.password_env and self.password_file:
            raise ValueError(
                "password_env et password_file sont exclusifs (attendu : l'un des deux)"
            )
        if not self.password_env and not self.password_file:
            raise ValueError(
                'mot de passe manquant (attendu : password_env = "NOM_DE_VARIABLE" ou '
                'password_file = "/chemin/du/fichier" ; un mot de passe d\'application chez '
                'Google, ou auth = "oauth2" pour Microsoft 365 et Google Workspace)'
            )
        oauth = [k for k in _OAUTH2_KEYS if getattr(self, k) is not None]
        if oauth:
            raise ValueError(
                f"{', '.join(oauth)} ne s'utilise(nt) qu'avec auth = \"oauth2\" (attendu : "
                'auth = "oauth2", ou retirer ces réglages)'
            )

    def _oauth2_needs(self) -> None:
        if self.password_env or self.password_file:
            raise ValueError(
                'auth = "oauth2" : password_env et password_file ne s\'utilisent pas (le jeton '
                "vient de provider)"
            )
        if self.provider == "microsoft":
            missing = [k for k in ("tenant_id", "client_id") if not getattr(self, k)]
            if missing:
                raise ValueError(
                    f'provider = "microsoft" : {", ".join(missing)} manquant(s) (attendu : '
                    'tenant_id = "…", client_id = "…" de l\'inscription d\'application)'
                )
            proofs = [self.client_secret_env, self.client_secret_file, self.client_certificate_file]
            if sum(p is not None for p in proofs) != 1:
                raise ValueError(
                    'provider = "microsoft" : attendu exactement un de client_secret_env, '
                    "client_secret_file ou client_certificate_file"
                )
            extra = [k for k in ("service_account_file", "token_file") if getattr(self, k)]
        elif self.provider == "google":
            if (self.service_account_file is None) == (self.token_file is None):
                raise ValueError(
                    'provider = "google" : attendu exactement un de service_account_file (compte '
                    "de service avec délégation au niveau du domaine) ou token_file (jeton OAuth "
                    "d'un utilisateur)"
                )
            extra = [
                k
                for k in (
                    "tenant_id",
                    "client_id",
                    "client_secret_env",
                    "client_secret_file",
                    "client_certificate_file",
                )
                if getattr(self, k)
            ]
        else:
            raise ValueError(
                'auth = "oauth2" : provider manquant (attendu : provider = "microsoft" pour '
                'Exchange Online, ou provider = "google" pour Google Workspace)'
            )
        if extra:
            raise ValueError(
                f'provider = "{self.provider}" : {", ".join(extra)} ne s\'utilise(nt) pas '
                "avec ce fournisseur"
            )

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 993 if self.security == "tls" else 143

    @property
    def received_addresses(self) -> tuple[str, ...]:
        """The addresses delivered here: ``address`` (else ``username`` when it is an
        address) and ``aliases``; empty when none is known."""
        own = self.address or (self.username if _ADDRESS_LIKE.match(self.username) else None)
        return ((own,) if own else ()) + self.aliases


_ADDRESS_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_OAUTH2_KEYS = (
    "provider",
    "tenant_id",
    "client_id",
    "client_secret_env",
    "client_secret_file",
    "client_certificate_file",
    "service_account_file",
    "token_file",
)


class MailSettings(Strict):
    """How mail leaves: SMTP (through aiosmtplib) or a Maildir of .eml files (the default)."""

    transport: Literal["smtp", "maildir"] = "maildir"
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username_env: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    sender: Annotated[str, Field(alias="from")] = "Service examens <examens@localhost>"
    maildir: Path = Path("var/mail")
    send_hour: ClockTime = time(8, 0)
    rate_per_minute: int = Field(default=30, ge=1, le=100_000)
    timeout: float = Field(default=30.0, gt=0)
    alerts_to: tuple[Email, ...] = ()
    """The service's administrators: told by mail when deletions wait for confirmation."""
    inbox: InboxSettings | None = None
    """Where the jury's replies are read (none: replies come only by link or by hand)."""
    inboxes: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")], InboxSettings] = (
        Field(default_factory=dict)
    )
    """More mailboxes, by name (e.g. one per centre whose ``organizer`` is its own exam
    office's address): each is read like ``inbox``, by a reader of its own."""

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _distinct_inboxes(self) -> MailSettings:
        seen: dict[tuple[str, str, str], str] = {}
        for named in self.all_inboxes():
            s = named.settings
            where = (s.host.lower(), s.username.lower(), s.folder)
            if where in seen:
                raise ValueError(
                    f"{seen[where]} et {named.label} lisent le même dossier « {s.folder} » de "
                    f"la même boîte ({s.username}) : attendu une boîte (ou un dossier) par table"
                )
            seen[where] = named.label
        return self

    def all_inboxes(self) -> list[NamedInbox]:
        """``[mail.inbox]`` first (when set), then ``[mail.inboxes.<name>]`` by name."""
        found = [NamedInbox("", self.inbox)] if self.inbox is not None else []
        return found + [NamedInbox(name, self.inboxes[name]) for name in sorted(self.inboxes)]


@dataclass(frozen=True)
class NamedInbox:
    """One mailbox to read: ``name`` is "" for ``[mail.inbox]``."""

    name: str
    settings: InboxSettings

    @property
    def label(self) -> str:
        """Its table in syncsvc.toml, named in errors."""
        return f"mail.inboxes.{self.name}" if self.name else "mail.inbox"

    @property
    def position_key(self) -> str:
        """Under which key the store keeps how far its folder was read (``[mail.inbox]``: the
        folder's name, as before named inboxes existed)."""
        folder = self.settings.folder
        return f"inboxes.{self.name}:{folder}" if self.name else folder


class ReminderSettings(Strict):
    """When the mail of the day and the weekly point go out, and how often an overdue
    milestone comes back (one mail a day per person at most, whatever the number of sessions)."""

    overdue_days: tuple[int, ...] = (1, 2, 4, 8, 16)
    """Working days of delay after which an overdue milestone comes back in the mail of the
    day (each person concerned)…"""
    overdue_every_days: int = Field(default=5, ge=1, le=30)
    """… then every N working days (5: once a week) until it is done; for whoever gets the
    weekly point listing it, that point is its weekly return."""
    escalate_after_days: int = Field(default=5, ge=1, le=60)
    """Overdue for M days or more: listed in the weekly point of the session manager, the
    deputy and, for regulatory milestones, the centre's management."""
    digest_weekday: int = Field(default=0, ge=0, le=6)  # Monday
    digest_hour: ClockTime = time(8, 0)
    digest_horizon_days: int = Field(default=21, ge=1, le=120)
    candidate_info_days: int = Field(default=3, ge=1, le=30)
    link_days: int = Field(default=30, ge=1, le=365)
    """How long a "Marquer comme fait" link (and a juror's answer link) stays valid."""
    jury_answer_days: tuple[int, ...] = (7, 14)
    """Days after an invitation on which a juror who has not answered is reminded (in their
    mail of the day); never once they answered."""

    @model_validator(mode="after")
    def _a_schedule(self) -> ReminderSettings:
        days = list(self.overdue_days)
        if (
            not 1 <= len(days) <= 20
            or days != sorted(set(days))
            or not 1 <= days[0] <= days[-1] <= 250
        ):
            raise ValueError(
                f"overdue_days = {days} : attendu de 1 à 20 jours ouvrés de retard, croissants, "
                "sans doublon, de 1 à 250 (ex. [1, 2, 4, 8, 16])"
            )
        answer = list(self.jury_answer_days)
        if (
            len(answer) > 10
            or answer != sorted(set(answer))
            or any(not 1 <= d <= 120 for d in answer)
        ):
            raise ValueError(
                f"jury_answer_days = {answer} : attendu au plus 10 jours croissants, sans "
                "doublon, de 1 à 120 (ex. [7, 14]) ; [] : aucune relance"
            )
        return self


class WebUser(Strict):
    """A dashboard account. ``role``: ``admin`` changes everything and also sees candidates'
    names and addresses (the mail queue); ``coordinator`` (the default) sees everything and
    changes the sessions of its ``centres`` (create, edit, postpone, cancel, mark done),
    candidates masked; ``viewer`` only reads, candidates masked.

    ``centres``: the centres (their keys in ``centres.yaml``) a coordinator may change; left
    out, every centre (what every account could do before roles). Ignored for the other
    roles."""

    login: Annotated[str, Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$")]
    password_hash: str = Field(min_length=20)
    """From ``syncsvc hash-password``; never a clear-text password."""
    name: str | None = None
    role: Literal["admin", "coordinator", "viewer"] = "coordinator"
    centres: tuple[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")], ...] | None = None
    """The centres a coordinator may change; ``None`` (not written): every centre."""
    timezone: Annotated[str, AfterValidator(_display_zone)] | None = None
    """The zone of the times this user reads that belong to no one centre (sync status, mail
    queue, « état au »); ``None`` (not written): the service's ``timezone``."""


class WebSettings(Strict):
    """The dashboard and feeds HTTP server of ``syncsvc run``.

    ``secure_cookies``: ``true`` always sets the session cookie's Secure flag (the dashboard is
    only reached over https, even behind a proxy that speaks http to the service), ``false``
    never, ``"auto"`` (default) when the request is https. ``metrics_token_env`` names the
    environment variable whose value /metrics requires as a bearer token before it shows
    per-target figures (without it: aggregate figures only).
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    users: tuple[WebUser, ...] = ()
    auth_header: str | None = None
    """Trust this header (e.g. X-Remote-User) set by an authenticating reverse proxy."""
    ready_within_minutes: int = Field(default=30, ge=1)
    """/readyz fails when the last reconcile is older than this, or failed."""
    secure_cookies: StrictBool | Literal["auto"] = "auto"
    """Secure flag of the session cookie: always, never, or when the request is https."""
    metrics_token_env: str | None = None
    """Environment variable holding the bearer token of /metrics; unset: aggregate figures only."""
    metrics_target_names: bool = False
    """Label /metrics' per-target series by target name (names often name people) instead of
    ``<kind>-<rank>``."""


class DaemonSettings(Strict):
    lease_seconds: float = Field(default=LEASE_SECONDS, ge=2, le=600)
    """Lifetime of the instance lease, renewed every third of it: a standby takes over this long
    after the active instance stopped answering (at once on SQLite when it died)."""
    reconcile_every_minutes: int = Field(default=15, ge=1, le=1440)
    notify_every_seconds: int = Field(default=60, ge=5, le=3600)
    watch_every_seconds: float = Field(default=2.0, gt=0, le=60)
    debounce_seconds: float = Field(default=1.0, ge=0, le=60)


class FeedSettings(Strict):
    base_url: str = "http://127.0.0.1:8080"
    refresh_minutes: int = Field(default=60, ge=5, le=1440)
    per_person: bool = False
    """Every person convened in a loaded session (juror, surveillant, comédien) has a feed of
    their own — the ``jury:<e-mail>`` audience — with no ``[[targets]]`` block: its link is on
    the « Annuaire du jury » page and in their invitation (see :mod:`syncsvc.app.feeds`)."""

    @model_validator(mode="after")
    def _people_need_an_address(self) -> FeedSettings:
        if self.per_person and "base_url" not in self.model_fields_set:
            raise ValueError(
                "per_person = true demande base_url (attendu : l'adresse publique du service, "
                'à laquelle les personnes s\'abonnent, ex. base_url = "https://examens.example.org")'
            )
        return self


class Settings(Strict):
    store: StoreSettings = StoreSettings()
    targets: tuple[TargetSettings, ...] = ()
    feeds: FeedSettings = FeedSettings()
    mail: MailSettings = MailSettings()
    web: WebSettings = WebSettings()
    daemon: DaemonSettings = DaemonSettings()
    reminders: ReminderSettings = ReminderSettings()
    secret_key_env: str = "SYNCSVC_SECRET_KEY"
    """Environment variable holding the key that signs "Marquer comme fait" links."""
    dashboard_url: str | None = None
    max_delete_share: float = Field(default=0.5, ge=0, le=1)
    """Deleting more than this share of a target's items waits for a person's confirmation."""
    max_delete_items: int = Field(default=20, ge=1)
    """Deleting this many items or more at once waits for a person's confirmation (so does a
    session whose file left the folder, on a calendar that holds other sessions too)."""
    ruleset: str = "tp-2025"
    timezone: Annotated[str, AfterValidator(_display_zone)] = "Europe/Paris"
    """The zone of the times the service shows about itself (outbox, passes) to a reader with
    no ``timezone`` of their own; the dates and times of one centre's sessions are always in
    that centre's own zone."""

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        names = [t.name for t in self.targets]
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ValueError(
                f"cible(s) en double : {', '.join(doubles)} (attendu : des noms uniques)"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def target(self, name: str) -> TargetSettings:
        for target in self.targets:
            if target.name == name:
                return target
        raise KeyError(name)


def settings_path(directory: Path) -> Path:
    """Where the settings are read from: the file named by ``SYNCSVC_SETTINGS``, else
    ``<directory>/syncsvc.toml``."""
    override = os.environ.get("SYNCSVC_SETTINGS")
    return Path(override) if override else directory / "syncsvc.toml"


def load_settings(directory: Path) -> Settings:
    """``<directory>/syncsvc.toml`` (or the file named by ``SYNCSVC_SETTINGS``), or the
    embedded defaults when there is no such file."""
    override = os.environ.get("SYNCSVC_SETTINGS")
    path = settings_path(directory)
    if override and not path.is_file():
        raise ConfigError(f"SYNCSVC_SETTINGS : fichier {path} introuvable")
    if not path.is_file():
        return Settings()
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: TOML invalide : {exc} (attendu : une syntaxe TOML valide)"
        ) from None
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(str(path), exc, Settings)) from None


def secret(target: TargetSettings, base: Path) -> str | None:
    """The password of ``target``, read from its environment variable or file."""
    if target.password_env:
        value = os.environ.get(target.password_env)
        if value is None:
            raise ConfigError(
                f"cible « {target.name} » : la variable d'environnement {target.password_env} "
                "n'est pas définie (attendu : le mot de passe du compte CalDAV)"
            )
        return value
    if target.password_file:
        path = (
            target.password_file
            if target.password_file.is_absolute()
            else base / target.password_file
        )
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError:
            raise ConfigError(
                f"cible « {target.name} » : fichier de mot de passe {path} illisible"
            ) from None
    return None


def inbox_password(inbox: InboxSettings, base: Path, label: str = "mail.inbox") -> str:
    """The inbox's password, read from its environment variable or file."""
    if inbox.password_env:
        value = os.environ.get(inbox.password_env)
        if value is None:
            raise ConfigError(
                f"{label} : la variable d'environnement {inbox.password_env} n'est pas "
                "définie (attendu : le mot de passe, ou mot de passe d'application, de la boîte "
                f"{inbox.username})"
            )
        return value
    assert inbox.password_file is not None
    path = inbox.password_file if inbox.password_file.is_absolute() else base / inbox.password_file
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigError(f"{label} : fichier de mot de passe {path} illisible") from None


def inbox_client_secret(inbox: InboxSettings, base: Path, label: str = "mail.inbox") -> str | None:
    """The client secret of the inbox's Microsoft application (environment variable or file);
    None when it proves itself with a certificate."""
    if inbox.client_secret_env:
        value = os.environ.get(inbox.client_secret_env)
        if not value:
            raise ConfigError(
                f"{label} : la variable d'environnement {inbox.client_secret_env} n'est pas "
                "définie (attendu : le secret client de l'application Microsoft Entra)"
            )
        return value
    if inbox.client_secret_file:
        path = (
            inbox.client_secret_file
            if inbox.client_secret_file.is_absolute()
            else base / inbox.client_secret_file
        )
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError:
            value = ""
        if not value:
            raise ConfigError(
                f"{label} : fichier de secret {path} illisible ou vide (attendu : le secret "
                "client de l'application Microsoft Entra)"
            )
        return value
    return None


def mail_credentials(mail: MailSettings, base: Path) -> tuple[str | None, str | None]:
    """(username, password) for the SMTP relay, from the environment or a file."""
    user = os.environ.get(mail.username_env) if mail.username_env else None
    password = None
    if mail.password_env:
        password = os.environ.get(mail.password_env)
        if password is None:
            raise ConfigError(
                f"mail : la variable d'environnement {mail.password_env} n'est pas définie "
                "(attendu : le mot de passe du relais SMTP)"
            )
    elif mail.password_file:
        path = mail.password_file if mail.password_file.is_absolute() else base / mail.password_file
        try:
            password = path.read_text(encoding="utf-8").strip()
        except OSError:
            raise ConfigError(f"mail : fichier de mot de passe {path} illisible") from None
    return user, password
