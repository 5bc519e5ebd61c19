"""Read the organiser's inbox: each reply recorded once, each message moved where it belongs.

One pass over one mailbox (``[mail.inbox]`` or one ``[mail.inboxes.<name>]``: ``syncsvc inbox
--once`` reads them all, the daemon has a job for each):

1. select the mailbox's folder; look only at the UIDs above the last one looked at (the store
   keeps it with the folder's UIDVALIDITY, per mailbox): a second pass downloads nothing;
2. download them by chunks, read each (:func:`syncsvc.formats.replies.read_mail`), record what
   it says in the ledger (:meth:`~syncsvc.state.store.Store.record_reply`, once per message);
3. move the chunk's messages: calendar replies to the processed folder; plain-text answers,
   unreadable mail and replies to no invitation to the folder for humans; mail that has
   nothing to do with the jury (no calendar part, from nobody invited, answering none of our
   messages) stays where it is, untouched;
4. remember the last UID of the chunk.

The order makes a crash harmless: killed after recording and before moving, the next pass reads
the same messages again, records nothing new (the ledger's key) and moves them. Messages are
never deleted. One message that cannot be read never stops the others, nor one mailbox that
cannot be read the other mailboxes.

A reply is matched by the invitation's UID and the attendee's address, whichever mailbox it
arrived in: a centre's mailbox is simply where its ``organizer`` address delivers.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from syncsvc.app.fence import Fence
from syncsvc.core.clock import Now, instant
from syncsvc.core.config import Config
from syncsvc.core.invitations import InvitationState
from syncsvc.core.jury import JuryReply, ReplyStatus, judge
from syncsvc.core.labels import french_date, french_time
from syncsvc.errors import NotActive, UsageError
from syncsvc.formats.replies import CalendarReply, ReadMail, read_mail
from syncsvc.inputs.settings import (
    InboxSettings,
    NamedInbox,
    Settings,
    inbox_client_secret,
    inbox_password,
)
from syncsvc.mailer.imap import Account, Bearer, Mailbox
from syncsvc.state.store import Store

log = logging.getLogger("syncsvc.inbox")
Destination = Literal["processed", "humans"] | None
"""Where a message goes (the processed folder, the folder for humans), or None: it stays."""


@dataclass
class InboxReport:
    looked: int = 0
    """Messages downloaded this pass."""
    recorded: int = 0
    """Replies new to the ledger."""
    already: int = 0
    """Replies the ledger already had (a message read again after an interruption)."""
    processed: int = 0
    for_humans: int = 0
    left: int = 0
    """Messages that have nothing to do with the jury, left where they were."""
    lines: list[str] = field(default_factory=list)
    """One French line per message recorded (no candidate data: jurors' answers only)."""


def account_of(inbox: InboxSettings, base: Path, label: str = "mail.inbox") -> Account:
    """How to reach and log in to ``inbox`` (``label``: its table, named in errors)."""
    common = (inbox.host, inbox.effective_port, inbox.security, inbox.username)
    ca_file = _resolved(inbox.ca_file, base)
    if inbox.auth == "password":
        return Account(*common, inbox_password(inbox, base, label), inbox.timeout, ca_file)
    return Account(
        *common,
        None,
        inbox.timeout,
        ca_file,
        bearer=bearer_of(inbox, base, label),
        mechanism="OAUTHBEARER" if inbox.mechanism == "oauthbearer" else "XOAUTH2",
        refused_hint=_REFUSED_HINTS[inbox.provider or "microsoft"].format(label=label),
    )


_REFUSED_HINTS = {
    "microsoft": (
        "vérifier dans Microsoft Entra la permission IMAP.AccessAsApp de l'application "
        "(consentement de l'administrateur), puis dans Exchange Online le principal de service "
        "(New-ServicePrincipal) et son accès à cette boîte (Add-MailboxPermission) ; "
        "{label} : tenant_id, client_id, username"
    ),
    "google": (
        "vérifier la délégation au niveau du domaine du compte de service (champ d'application "
        "https://mail.google.com/) et que username est bien l'adresse de la boîte ; "
        "{label} : service_account_file ou token_file"
    ),
}
_BEARERS: dict[tuple[object, ...], Bearer] = {}
_BEARERS_LOCK = threading.Lock()


def bearer_of(inbox: InboxSettings, base: Path, label: str = "mail.inbox") -> Bearer:
    """The token source of an ``auth = "oauth2"`` inbox, one per set of credentials for the
    life of the process (its token is cached until near expiry, across connections)."""
    secret = inbox_client_secret(inbox, base, label) if inbox.provider == "microsoft" else None
    key = (
        label,
        str(base),
        inbox.provider,
        inbox.username,
        inbox.tenant_id,
        inbox.client_id,
        hashlib.sha256((secret or "").encode()).hexdigest(),
        inbox.client_certificate_file,
        inbox.authority,
        inbox.ca_bundle,
        inbox.service_account_file,
        inbox.token_file,
        inbox.timeout,
    )
    with _BEARERS_LOCK:
        found = _BEARERS.get(key)
        if found is None:
            found = _make_bearer(inbox, base, label, secret)
            _BEARERS[key] = found
        return found


def _make_bearer(inbox: InboxSettings, base: Path, label: str, secret: str | None) -> Bearer:
    if inbox.provider == "google":
        from syncsvc.oauth.google import MAIL_SCOPES, GoogleTokens, load_credentials

        credentials = load_credentials(
            label,
            base,
            token_file=inbox.token_file,
            service_account_file=inbox.service_account_file,
            subject=inbox.username if inbox.service_account_file is not None else None,
            scopes=MAIL_SCOPES,
            label=label,
        )
        setting = "service_account_file" if inbox.service_account_file else "token_file"
        return GoogleTokens(label, credentials, timeout=inbox.timeout, setting=f"{label}.{setting}")
    import httpx

    from syncsvc.oauth.microsoft import IMAP_SCOPES, GraphCredential, TokenSource, tls_trust

    assert inbox.tenant_id is not None  # the settings' check
    assert inbox.client_id is not None
    certificate = _resolved(inbox.client_certificate_file, base)
    credential = GraphCredential(
        inbox.tenant_id,
        inbox.client_id,
        secret=secret,
        certificate_file=certificate,
        authority=inbox.authority,
    )
    client = httpx.Client(
        verify=tls_trust(_resolved(inbox.ca_bundle, base)),
        timeout=httpx.Timeout(inbox.timeout, connect=min(10.0, inbox.timeout)),
        headers={"User-Agent": "syncsvc"},
    )
    return TokenSource(
        inbox.username,
        credential,
        client,
        scopes=IMAP_SCOPES,
        label=label,
        service="IMAP Exchange Online",
    )


def _resolved(path: Path | None, base: Path) -> Path | None:
    return path if path is None or path.is_absolute() else base / path


def inboxes_of(settings: Settings) -> list[NamedInbox]:
    """Every mailbox to read (``[mail.inbox]``, then ``[mail.inboxes.<name>]``)."""
    found = settings.mail.all_inboxes()
    if not found:
        raise UsageError(
            "aucune boîte de réception configurée (attendu : une section [mail.inbox] dans "
            "syncsvc.toml : host, username, password_env… ; voir le README, « Les réponses du "
            "jury »)"
        )
    return found


def inbox_of(settings: Settings, name: str = "") -> NamedInbox:
    """The mailbox called ``name`` ("": ``[mail.inbox]``)."""
    for named in inboxes_of(settings):
        if named.name == name:
            return named
    raise UsageError(f"boîte de réception « {name} » inconnue (attendu : [mail.inboxes.{name}])")


@dataclass
class InboxOutcome:
    """What reading one mailbox gave: its report, or the French reason it could not be read."""

    inbox: NamedInbox
    report: InboxReport | None = None
    error: str | None = None
    failure: Exception | None = None


def read_inboxes(
    settings: Settings, config: Config, store: Store, now: Now, *, fence: Fence | None = None
) -> list[InboxOutcome]:
    """Read every mailbox once, one after the other; one that fails does not stop the others
    (its reason is in its outcome)."""
    outcomes = []
    for named in inboxes_of(settings):
        try:
            report = read_inbox(settings, config, store, now, fence=fence, name=named.name)
        except NotActive:
            raise  # another instance took over: stop here
        except Exception as exc:
            outcomes.append(InboxOutcome(named, error=str(exc) or type(exc).__name__, failure=exc))
        else:
            outcomes.append(InboxOutcome(named, report))
    return outcomes


def read_inbox(
    settings: Settings,
    config: Config,
    store: Store,
    now: Now,
    *,
    fence: Fence | None = None,
    mailbox: Callable[[], Mailbox] | None = None,
    name: str = "",
) -> InboxReport:
    """One pass over the mailbox ``name`` ("": ``[mail.inbox]``; see the module's docstring)."""
    named = inbox_of(settings, name)
    inbox, key = named.settings, named.position_key
    report = InboxReport()
    opener = mailbox or (lambda: Mailbox(account_of(inbox, config.directory, named.label)))
    moment = instant(now)
    with opener() as box:
        box.ensure_folder(inbox.processed_folder)
        box.ensure_folder(inbox.humans_folder)
        validity = box.select(inbox.folder)
        known = store.inbox_position(key)
        last = known[1] if known is not None and known[0] == validity else 0
        uids = box.uids_after(last)
        if not uids:
            store.set_inbox_position(key, validity, last, moment)
            return report
        reader = _Reader(config, store, moment)
        moves: dict[str, list[int]] = {}
        done_up_to = last
        flush = _Flush(box, inbox, store, key, moves, report, moment, fence)
        for fetched in box.fetch(uids):
            report.looked += 1
            destination = reader.take(fetched.data, report)
            if destination is None:
                report.left += 1
            else:
                folder = (
                    inbox.processed_folder if destination == "processed" else inbox.humans_folder
                )
                moves.setdefault(folder, []).append(fetched.uid)
            done_up_to = fetched.uid
            if report.looked % 50 == 0:
                flush(validity, done_up_to)
        flush(validity, max(done_up_to, uids[-1]))
    return report


@dataclass
class _Flush:
    """Move what was recorded, then remember how far the folder was read."""

    box: Mailbox
    inbox: InboxSettings
    store: Store
    key: str
    moves: dict[str, list[int]]
    report: InboxReport
    moment: datetime
    fence: Fence | None

    def __call__(self, validity: int, up_to: int) -> None:
        if self.fence is not None:
            self.fence.check()
        for folder, uids in self.moves.items():
            self.box.move(uids, folder)
            if folder == self.inbox.processed_folder:
                self.report.processed += len(uids)
            else:
                self.report.for_humans += len(uids)
        self.moves.clear()
        self.store.set_inbox_position(self.key, validity, up_to, self.moment)


class _Reader:
    """Reads one message after another against the invitations as they stand."""

    def __init__(self, config: Config, store: Store, moment: datetime) -> None:
        self.config = config
        self.store = store
        self.moment = moment
        self.states: Mapping[tuple[str, str], InvitationState] = store.invitation_states()
        self.ours = store.invitation_messages()
        self.invited: dict[str, list[str]] = {}
        for (session_id, email), state in self.states.items():
            if state.status == "invited":
                self.invited.setdefault(email, []).append(session_id)

    def take(self, data: bytes, report: InboxReport) -> Destination:
        """Record what one message says; where it goes."""
        try:
            read = read_mail(data)
        except Exception:  # the parser's promise broken: the message is for a person
            read = read_mail(b"")
        if read.kind == "calendar":
            return self._calendar(read, report)
        session_id = self._session_of(read)
        if read.kind == "text" and session_id is None and read.sender not in self.invited:
            return None  # nothing to do with the jury: left where it is
        status: ReplyStatus = "pending" if read.kind == "text" else "unreadable"
        reply = JuryReply(
            key=f"imip:{_digest(read.message_id)}:0",
            source="imip",
            kind="text" if read.kind == "text" else "unreadable",
            status=status,
            session_id=session_id,
            email=read.sender or None,
            name=read.sender_name,
            partstat=None,
            sequence=None,
            comment="réponse automatique" if read.automatic else None,
            replied_at=self._when(read.date),
            recorded_at=self.moment,
            message_id=read.message_id,
            subject=read.subject,
            excerpt=read.text if read.kind == "text" else read.problem,
        )
        self._record(reply, report)
        return "humans"

    def _calendar(self, read: ReadMail, report: InboxReport) -> Destination:
        worst: Destination = "processed"
        for index, answer in enumerate(read.replies):
            session_id, status = judge(answer.uid, answer.attendee, answer.sequence, self.states)
            if status == "unmatched":
                worst = "humans"
            reply = JuryReply(
                key=f"imip:{_digest(read.message_id)}:{index}",
                source="imip",
                kind="counter" if answer.method == "COUNTER" else "reply",
                status=status,
                session_id=session_id,
                email=answer.attendee,
                name=answer.name or read.sender_name,
                partstat=answer.partstat,
                sequence=answer.sequence,
                comment=answer.comment,
                replied_at=self._when(answer.stamp or read.date),
                recorded_at=self.moment,
                message_id=read.message_id,
                subject=read.subject,
                proposed=self._proposed(answer, session_id),
                day=self._day(answer, session_id),
            )
            self._record(reply, report)
        return worst

    def _record(self, reply: JuryReply, report: InboxReport) -> None:
        if self.store.record_reply(reply):
            report.recorded += 1
            what = reply.partstat or reply.kind
            if reply.day is not None:
                what += f" le {french_date(reply.day)}"
            report.lines.append(
                f"{reply.session_id or 'session inconnue'} : {reply.email or 'expéditeur inconnu'}"
                f" — {what} ({reply.status})"
            )
        else:
            report.already += 1

    def _session_of(self, read: ReadMail) -> str | None:
        for reference in read.references:
            found = self.ours.get(reference)
            if found is not None:
                return found[0]
        sessions = self.invited.get(read.sender, [])
        return sessions[0] if len(sessions) == 1 else None

    def _when(self, moment: datetime | None) -> datetime:
        """A reply's time as the sender's client says, never in the future."""
        if moment is None or moment.tzinfo is None or moment > self.moment:
            return self.moment
        return moment

    def _zone(self, session_id: str | None) -> ZoneInfo:
        session = self.config.sessions.get(session_id or "")
        centre = self.config.centres.get(session.centre) if session is not None else None
        return centre.tz if centre is not None else ZoneInfo("Europe/Paris")

    def _proposed(self, answer: CalendarReply, session_id: str | None) -> str | None:
        if answer.method != "COUNTER" or answer.proposed_start is None:
            return None
        return proposal_words(answer.proposed_start, answer.proposed_end, self._zone(session_id))

    def _day(self, answer: CalendarReply, session_id: str | None) -> date | None:
        """The exam day a reply to one occurrence answers, in the centre's zone."""
        found = answer.occurrence
        if isinstance(found, datetime):
            return found.astimezone(self._zone(session_id)).date() if found.tzinfo else found.date()
        return found


def proposal_words(start: datetime | date, end: datetime | date | None, zone: ZoneInfo) -> str:
    """« du mardi 8 juin 2027 à 9 h au vendredi 11 juin 2027 à 18 h » in the centre's zone."""

    def words(moment: datetime | date) -> str:
        if isinstance(moment, datetime):
            local = moment.astimezone(zone) if moment.tzinfo is not None else moment
            return f"{french_date(local)} à {french_time(local)}"
        return french_date(moment)

    if end is None:
        return f"le {words(start)}"
    return f"du {words(start)} au {words(end)}"


def _digest(message_id: str) -> str:
    return hashlib.sha256(message_id.encode()).hexdigest()[:40]
