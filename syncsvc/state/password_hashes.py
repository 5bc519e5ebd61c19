"""Upgraded password hashes: a dashboard user's hash recomputed at the current cost.

``syncsvc.toml`` is read-only for the service, so a hash made with an older, cheaper cost is
upgraded here, at the user's next successful login. Each upgraded hash names (by SHA-256) the
``syncsvc.toml`` hash it replaces: it counts only while that one is unchanged, so a password
reset in ``syncsvc.toml`` always wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select

from syncsvc.state.base import StorePart
from syncsvc.state.schema import EPOCH, aware, password_hashes, utc


@dataclass(frozen=True, slots=True)
class UpgradedHash:
    password_hash: str
    replaces: str
    """SHA-256 (hex) of the ``syncsvc.toml`` hash this one replaces."""
    updated_at: datetime


class PasswordHashes(StorePart):
    """Password hashes upgraded at a login, by login."""

    def upgraded_hash(self, login: str) -> UpgradedHash | None:
        with self.begin() as db:
            row = db.execute(
                select(password_hashes).where(password_hashes.c.login == login)
            ).first()
        if row is None:
            return None
        return UpgradedHash(row.password_hash, row.replaces, aware(row.updated_at) or EPOCH)

    def save_upgraded_hash(
        self, login: str, password_hash: str, replaces: str, now: datetime
    ) -> None:
        with self.begin() as db:
            db.execute(delete(password_hashes).where(password_hashes.c.login == login))
            db.execute(
                insert(password_hashes).values(
                    login=login, password_hash=password_hash, replaces=replaces, updated_at=utc(now)
                )
            )
