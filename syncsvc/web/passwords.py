"""Checking a password at login: which hash counts, and its upgrade to the current cost.

The hashes live in ``syncsvc.toml`` (``[[web.users]]``), which the service never writes. When a
user logs in successfully with a hash below the service's cost (:data:`auth.DEFAULT_COST`, e.g.
one made with N=2^14 before), the password — known at that moment only — is hashed again at
the current cost and the new hash is kept in the store (table ``password_hashes``), with the
SHA-256 of the ``syncsvc.toml`` hash it replaces. From then on it is the one checked, as long
as ``syncsvc.toml`` keeps the same hash for that login: a password reset there (a new hash from
``syncsvc hash-password``) always wins, and the old password stops working. A French log line
says so once, with the way to put the strong hash in ``syncsvc.toml`` too.

:class:`LoginGuard` gathers what protects the login form: the throttle, the target cost.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from syncsvc.inputs.settings import WebUser
from syncsvc.state.store import Store
from syncsvc.web import auth
from syncsvc.web.common import Web, log
from syncsvc.web.throttle import LoginThrottle


@dataclass
class LoginGuard:
    """What protects the login form (one per application; tests inject their own)."""

    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    cost: auth.Cost = auth.DEFAULT_COST
    """The cost of new and upgraded hashes, and of the stand-in hash of unknown logins."""


def fingerprint(encoded: str) -> str:
    """SHA-256 (hex) of a ``syncsvc.toml`` hash: names it without repeating it."""
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def effective_hash(store: Store, user: WebUser) -> str:
    """The upgraded hash when it replaces the current ``syncsvc.toml`` one, else that one."""
    upgraded = store.upgraded_hash(user.login)
    if upgraded is not None and hmac.compare_digest(
        upgraded.replaces, fingerprint(user.password_hash)
    ):
        return upgraded.password_hash
    return user.password_hash


def _upgrade(web: Web, user: WebUser, password: str, cost: auth.Cost) -> None:
    upgraded = auth.hash_password(password, n=cost.n, r=cost.r, p=cost.p)
    web.store.save_upgraded_hash(user.login, upgraded, fingerprint(user.password_hash), web.clock())
    log.info(
        "empreinte du mot de passe de %s mise à niveau (scrypt N=%d, r=%d, p=%d) et gardée "
        "dans la base d'état ; pour la mettre aussi dans syncsvc.toml : syncsvc hash-password",
        user.login,
        cost.n,
        cost.r,
        cost.p,
    )


def check_password(web: Web, guard: LoginGuard, login: str, password: str) -> auth.User | None:
    """The user when ``password`` is theirs, else None (blocking: one scrypt, two on upgrade).

    An unknown login pays for one scrypt of the guard's cost too.
    """
    found = web.users.get(login)
    encoded = effective_hash(web.store, found) if found else auth.dummy_hash(guard.cost)
    ok = auth.verify_password(password, encoded)
    if found is None or not ok:
        return None
    cost = auth.cost_of(encoded)
    if cost is not None and cost.below(guard.cost):
        _upgrade(web, found, password, guard.cost)
    return auth.User(found.login, found.name or found.login)
