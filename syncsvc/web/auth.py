"""Who is asking: password hashes, the signed session cookie, CSRF tokens.

Vocabulary:

- *password hash*: ``scrypt$N$r$p$salt_b64$hash_b64`` (RFC 7914 parameters, standard base64),
  made by :func:`hash_password` (``syncsvc hash-password``) and kept in ``syncsvc.toml`` under
  ``[[web.users]]``. Clear-text passwords are never stored or logged. The cost is
  :data:`DEFAULT_COST`, OWASP's current guidance for scrypt (N=2^17, r=8, p=1: 128 MiB and a
  few hundred milliseconds per check); hashes of a lower cost (N=2^14 before) still verify and
  are upgraded at the next successful login (:mod:`syncsvc.web.passwords`).
- *session cookie*: ``<payload_b64>.<hmac_b64>``, an HMAC-SHA256-signed JSON payload
  ``{"u": login or null, "c": csrf token, "t": issued at (epoch seconds), "s": session id or
  null}``. Every visitor gets one (anonymous until login) so that even the login form carries a
  CSRF token. It is only valid for :data:`SESSION_LIFETIME` from its issue, measured on the
  service's clock.
- *session id*: 256 random bits drawn at each login and kept (hashed) in the store's
  ``web_sessions`` table; a logged-in cookie is honoured only while its id is there and younger
  than :data:`SESSION_LIFETIME`. Logging out deletes it: a copy of the cookie is then useless.
- *CSRF token*: a random value held in the cookie and repeated in each POST form; a POST is
  accepted only when both agree (compared in constant time). A cross-site page can neither
  read the cookie nor forge its signature.

The signing key comes from the environment variable named by ``Settings.secret_key_env`` (the
same that signs the "Marquer comme fait" links of reminder mails); cookies use a key derived
from it, so a cookie can never be replayed as a link token or the reverse.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from syncsvc.inputs.settings import WebUser

SCHEME: Final = "scrypt"
SCRYPT_N: Final = 2**17
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_MAX_N: Final = 2**20
_HASH_BYTES: Final = 32
_SALT_BYTES: Final = 16
COOKIE_NAME: Final = "syncsvc_session"
SESSION_LIFETIME: Final = timedelta(hours=12)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * n * r * p + 1024 * 1024,
        dklen=length,
    )


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$N$r$p$salt_b64$hash_b64`` of ``password`` with a fresh random salt."""
    if not password:
        raise ValueError("mot de passe vide")
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p, _HASH_BYTES)
    return f"{SCHEME}${n}${r}${p}${_b64(salt)}${_b64(digest)}"


@dataclass(frozen=True, slots=True)
class Cost:
    """The scrypt parameters of a hash (RFC 7914's N, r and p)."""

    work: int
    """N: the CPU and memory cost (a power of 2)."""
    block_size: int
    """r."""
    parallelism: int
    """p."""

    def below(self, target: Cost) -> bool:
        """Any parameter is lower than the target's: the hash should be upgraded."""
        return (
            self.work < target.work
            or self.block_size < target.block_size
            or self.parallelism < target.parallelism
        )


DEFAULT_COST: Final = Cost(SCRYPT_N, SCRYPT_R, SCRYPT_P)


@dataclass(frozen=True, slots=True)
class _Parsed:
    cost: Cost
    salt: bytes
    digest: bytes


def _parse(encoded: str) -> _Parsed | None:
    """The parts of a well-formed hash whose cost stays within reason, else None."""
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return None
    # Refuse parameters that would make one login attempt cost gigabytes or minutes.
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        return None
    if not salt or not 16 <= len(expected) <= 64:
        return None
    return _Parsed(Cost(n, r, p), salt, expected)


def cost_of(encoded: str) -> Cost | None:
    """The parameters of a well-formed hash, else None."""
    parsed = _parse(encoded)
    return parsed.cost if parsed else None


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches ``encoded``; False for any malformed hash.

    The comparison of the digests runs in constant time.
    """
    parsed = _parse(encoded)
    if parsed is None:
        return False
    cost = parsed.cost
    try:
        actual = _scrypt(
            password, parsed.salt, cost.work, cost.block_size, cost.parallelism, len(parsed.digest)
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, parsed.digest)


@functools.cache
def dummy_hash(cost: Cost = DEFAULT_COST) -> str:
    """A real hash of a random password: checking an unknown login costs as much as a known one."""
    return hash_password(
        secrets.token_urlsafe(16), n=cost.work, r=cost.block_size, p=cost.parallelism
    )


Role = Literal["admin", "coordinator", "viewer"]


@dataclass(frozen=True, slots=True)
class User:
    login: str
    name: str
    role: Role = "coordinator"
    centres: frozenset[str] | None = None
    """The centres a coordinator may change; None: every centre."""
    timezone: str | None = None
    """The zone of the times that belong to no one centre (``[[web.users]] timezone``); None:
    the service's."""

    @property
    def admin(self) -> bool:
        """Sees candidates' names and addresses, changes every centre."""
        return self.role == "admin"

    @property
    def can_act(self) -> bool:
        """May mark milestones done and resend mails (everyone but a viewer)."""
        return self.role != "viewer"

    def may_change(self, centre_id: str) -> bool:
        """May change the sessions of this centre: create, edit, postpone, cancel, mark done
        (an admin: every centre; a coordinator: its centres; a viewer: none)."""
        if self.role == "admin":
            return True
        if self.role != "coordinator":
            return False
        return self.centres is None or centre_id in self.centres

    def changeable(self, centre_ids: Iterable[str]) -> list[str]:
        """Those of ``centre_ids`` this user may change, in their order."""
        return [c for c in centre_ids if self.may_change(c)]


def user_of(account: WebUser, login: str | None = None) -> User:
    """The dashboard user of a configured account."""
    centres = frozenset(account.centres) if account.centres is not None else None
    return User(
        login or account.login,
        account.name or account.login,
        account.role,
        centres,
        account.timezone,
    )


def authenticate(
    users: Iterable[WebUser], login: str, password: str, cost: Cost = DEFAULT_COST
) -> User | None:
    """The configured user whose login and password match, else None.

    An unknown login still pays for one scrypt (of ``cost``), so the answer time does not tell
    whether the login exists.
    """
    found = next((user for user in users if user.login == login), None)
    ok = verify_password(password, found.password_hash if found else dummy_hash(cost))
    if found is None or not ok:
        return None
    return user_of(found)


# --- session cookie --------------------------------------------------------------------------


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose only (HMAC of the purpose under the service's secret)."""
    return hmac.new(secret, f"syncsvc-web|{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class WebSession:
    """The content of a valid session cookie."""

    login: str | None
    csrf: str
    issued_at: int
    sid: str | None = None
    """The session id in the store (logged-in sessions only)."""

    @property
    def logged_in(self) -> bool:
        return self.login is not None


def new_session(login: str | None, now: datetime) -> WebSession:
    """A fresh session (and a fresh CSRF token: logging in never keeps the anonymous one), with
    a fresh session id when someone logs in (never the one of an earlier cookie)."""
    sid = secrets.token_urlsafe(32) if login is not None else None
    return WebSession(login, secrets.token_urlsafe(32), int(now.timestamp()), sid)


def _mac(key: bytes, payload: bytes) -> str:
    digest = hmac.new(key, payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def encode_session(key: bytes, session: WebSession) -> str:
    body = json.dumps(
        {"u": session.login, "c": session.csrf, "t": session.issued_at, "s": session.sid},
        separators=(",", ":"),
    ).encode()
    payload = base64.urlsafe_b64encode(body).decode("ascii").rstrip("=")
    return f"{payload}.{_mac(key, payload.encode('ascii'))}"


def decode_session(key: bytes, cookie: str | None, now: datetime) -> WebSession | None:
    """The session in ``cookie`` when its signature is right and it has not expired."""
    if not cookie or cookie.count(".") != 1 or len(cookie) > 4096:
        return None
    payload, signature = cookie.split(".")
    try:
        expected = _mac(key, payload.encode("ascii"))
    except UnicodeEncodeError:
        return None
    if not hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace")):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(data, Mapping):
        return None
    login, csrf, issued, sid = data.get("u"), data.get("c"), data.get("t"), data.get("s")
    if not (login is None or isinstance(login, str)) or not isinstance(csrf, str):
        return None
    if not (sid is None or (isinstance(sid, str) and 0 < len(sid) <= 64)):
        return None
    if not isinstance(issued, int) or now.timestamp() - issued > SESSION_LIFETIME.total_seconds():
        return None
    return WebSession(login, csrf, issued, sid)


def csrf_ok(session: WebSession | None, submitted: str | None) -> bool:
    """The form's token equals the session's (constant-time)."""
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode("utf-8", "replace"))
