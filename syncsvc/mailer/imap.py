"""The organiser's inbox over IMAP (IMAPClient, synchronous: run it in a worker thread).

Why IMAPClient: maintained, pure Python, no dependency, UIDs everywhere by default, folder
names in modified UTF-7 handled for us (« Réponses traitées »), IDLE (RFC 2177), MOVE (RFC
6851) and UIDPLUS where the server has them; the service's jobs already run in threads.

What syncsvc does with the mailbox, and nothing else:

- look at the messages of one folder whose UID is above the last one it looked at (so a second
  pass downloads nothing, whatever it left in place), ``BODY.PEEK[]`` (the \\Seen flag of a
  message left in place does not change);
- move each message it dealt with into the processed folder, or the folder for humans (MOVE,
  else COPY + \\Deleted + UID EXPUNGE of those messages only): a message is never deleted;
- wait for new mail with IDLE when the server offers it.

Login: a password (LOGIN), or an OAuth2 access token (SASL XOAUTH2, or OAUTHBEARER of RFC 7628)
from a :class:`Bearer` (Exchange Online, Google Workspace). A refused token is dropped
(:meth:`Bearer.forget`) and a new one tried once, on a new connection (the token may have
expired or been revoked since it was cached); refused again, it is a
:class:`~syncsvc.errors.PermanentError` that says what to check. Tokens never appear in an error.

Every failure is one of :mod:`syncsvc.errors`: :class:`~syncsvc.errors.Unreachable` (no
connection), :class:`~syncsvc.errors.PermanentError` (login refused), else
:class:`~syncsvc.errors.TemporaryError`.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, Protocol

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from syncsvc.errors import PermanentError, TemporaryError, Unreachable

Security = Literal["tls", "starttls", "none"]
Mechanism = Literal["XOAUTH2", "OAUTHBEARER"]
FETCH_CHUNK = 50
"""Messages downloaded per FETCH command (one round trip for many)."""


class Bearer(Protocol):
    """Where OAuth2 access tokens come from (cached by their source until near expiry)."""

    def token(self) -> str: ...

    def forget(self) -> None:
        """The server refused the last token: the next :meth:`token` must be a new one."""


@dataclass(frozen=True, slots=True)
class Account:
    """Where the inbox is and how to log in: ``password``, or ``bearer`` (OAuth2)."""

    host: str
    port: int
    security: Security
    username: str
    password: str | None
    timeout: float = 30.0
    ca_file: Path | None = None
    """Certificates to trust instead of the system's (a private CA, tests)."""
    bearer: Bearer | None = None
    mechanism: Mechanism = "XOAUTH2"
    refused_hint: str = "vérifier les droits de l'application sur cette boîte"
    """What to check when the server refuses the tokens (French, names the settings)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    uid: int
    data: bytes


def _context(account: Account) -> ssl.SSLContext:
    context = ssl.create_default_context(
        cafile=str(account.ca_file) if account.ca_file is not None else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Mailbox:
    """One logged-in IMAP connection (a context manager)."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.client: IMAPClient | None = None
        self._selected: str | None = None

    # --- connection ---------------------------------------------------------------------------

    def __enter__(self) -> Mailbox:
        self.open()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def open(self) -> None:
        a = self.account
        where = f"{a.host}:{a.port}"
        if a.bearer is None:
            self.client = self._connect(lambda client: client.login(a.username, a.password))
            return
        bearer = a.bearer
        for attempt in (1, 2):
            token = bearer.token()
            try:
                self.client = self._connect(partial(self._oauth2, token=token))
                return
            except _Refused:
                bearer.forget()
                if attempt == 2:
                    raise PermanentError(
                        f"serveur IMAP {where} : jeton OAuth2 refusé pour {a.username} (un "
                        f"jeton neuf aussi) ; {a.refused_hint}"
                    ) from None
        raise AssertionError("unreachable")

    def _connect(self, login: Callable[[IMAPClient], object]) -> IMAPClient:
        a = self.account
        where = f"{a.host}:{a.port}"
        try:
            client = IMAPClient(
                a.host,
                port=a.port,
                ssl=a.security == "tls",
                ssl_context=_context(a) if a.security == "tls" else None,
                timeout=a.timeout,
            )
        except (OSError, IMAPClientError) as exc:
            raise Unreachable(f"serveur IMAP {where} injoignable ({_why(exc)})") from None
        try:
            if a.security == "starttls":
                client.starttls(_context(a))
            login(client)
        except LoginError:
            _quietly_close(client)
            if a.bearer is not None:
                raise _Refused from None
            raise PermanentError(
                f"serveur IMAP {where} : identifiant ou mot de passe refusé pour {a.username}"
            ) from None
        except (OSError, IMAPClientError, ssl.SSLError) as exc:
            _quietly_close(client)
            raise TemporaryError(f"serveur IMAP {where} : {_why(exc)}") from None
        return client

    def _oauth2(self, client: IMAPClient, token: str) -> None:
        """AUTHENTICATE with the token (a server's error challenge, RFC 7628 §3.2.2, is
        answered by IMAPClient and followed by the server's NO: a LoginError)."""
        a = self.account
        if a.mechanism == "OAUTHBEARER":
            client.oauthbearer_login(a.username, token)
        else:
            client.oauth2_login(a.username, token, mech="XOAUTH2")

    def close(self) -> None:
        if self.client is not None:
            _quietly_close(self.client)
        self.client = None
        self._selected = None

    def _live(self) -> IMAPClient:
        if self.client is None:
            raise TemporaryError("connexion IMAP fermée")
        return self.client

    # --- folders and messages -----------------------------------------------------------------

    def ensure_folder(self, name: str) -> None:
        """Create ``name`` when it does not exist yet."""
        with _translated(self.account, f"dossier « {name} »"):
            client = self._live()
            if not client.folder_exists(name):
                client.create_folder(name)

    def select(self, folder: str) -> int:
        """Select ``folder`` (read-write); its UIDVALIDITY."""
        with _translated(self.account, f"dossier « {folder} »"):
            answer = self._live().select_folder(folder)
        self._selected = folder
        return int(answer.get(b"UIDVALIDITY", 0))

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs of the selected folder above ``last_uid``, ascending (``UID n:*`` always
        answers the highest UID even when it is lower: it is filtered out here)."""
        with _translated(self.account, "recherche"):
            found = self._live().search(["UID", f"{last_uid + 1}:*"])
        return sorted(int(u) for u in found if int(u) > last_uid)

    def fetch(self, uids: Sequence[int]) -> Iterator[Fetched]:
        """The raw bytes of ``uids`` (without setting \\Seen), in chunks, in UID order."""
        client = self._live()
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = list(uids[start : start + FETCH_CHUNK])
            with _translated(self.account, "téléchargement"):
                answer = client.fetch(chunk, ["BODY.PEEK[]"])
            for uid in chunk:
                item = answer.get(uid)
                data = item.get(b"BODY[]") if item is not None else None
                if isinstance(data, bytes):
                    yield Fetched(uid, data)

    def move(self, uids: Sequence[int], folder: str) -> None:
        """Move ``uids`` of the selected folder into ``folder`` (never a deletion: with no MOVE
        the messages are copied first, and only those are expunged)."""
        if not uids:
            return
        client = self._live()
        with _translated(self.account, f"déplacement vers « {folder} »"):
            if client.has_capability("MOVE"):
                client.move(list(uids), folder)
                return
            client.copy(list(uids), folder)
            client.add_flags(list(uids), [b"\\Deleted"], silent=True)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(list(uids))
            # Without UIDPLUS the copies are marked \Deleted and left for the next EXPUNGE
            # of a mail client: an EXPUNGE here could remove what someone else marked.

    # --- waiting for mail ---------------------------------------------------------------------

    @property
    def can_idle(self) -> bool:
        return bool(self._live().has_capability("IDLE"))

    def wait(self, seconds: float, stop: Callable[[], bool], step: float = 1.0) -> bool:
        """IDLE on the selected folder for at most ``seconds`` (checking ``stop`` every
        ``step``); True when the server announced new mail."""
        client = self._live()
        arrived = False
        with _translated(self.account, "attente (IDLE)"):
            client.idle()
            try:
                waited = 0.0
                while waited < seconds and not stop():
                    responses: list[Any] = client.idle_check(timeout=step)
                    waited += step
                    if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                        arrived = True
                        break
            finally:
                client.idle_done()
        return arrived


class _Refused(Exception):
    """The server refused an OAuth2 token (internal: :meth:`Mailbox.open` tries another)."""


def _why(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "délai dépassé"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "certificat du serveur refusé"
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


@contextmanager
def _translated(account: Account, what: str) -> Iterator[None]:
    """Turn what IMAPClient and the socket raise into :mod:`syncsvc.errors`."""
    where = f"{account.host}:{account.port}"
    try:
        yield
    except ssl.SSLError as exc:
        raise TemporaryError(f"serveur IMAP {where} : {what} : {_why(exc)}") from None
    except OSError as exc:
        raise Unreachable(f"serveur IMAP {where} : {what} : {_why(exc)}") from None
    except IMAPClientError as exc:
        raise TemporaryError(f"serveur IMAP {where} : {what} : {_why(exc)}") from None


def _quietly_close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # already gone: nothing to tell
        try:
            client.shutdown()
        except Exception:
            return
