"""Feed tokens: the secret in each feed's address."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select

from syncsvc.state.base import StorePart
from syncsvc.state.schema import (
    feed_tokens,
    utc,
)

_CHUNK = 500
"""Names per ``IN (…)`` (SQLite allows 32,766 parameters, PostgreSQL 65,535)."""


class FeedTokens(StorePart):
    """The secret token of each feed."""

    def feed_token(self, target: str, now: datetime) -> str:
        """The feed's token, created (unguessable, 256 bits) on first use."""
        with self.begin() as db:
            token = db.execute(
                select(feed_tokens.c.token).where(feed_tokens.c.target == target)
            ).scalar()
            if token is None:
                token = secrets.token_urlsafe(32)
                db.execute(
                    insert(feed_tokens).values(target=target, token=token, created_at=utc(now))
                )
            return str(token)

    def feed_tokens(self, targets: Iterable[str], now: datetime) -> dict[str, str]:
        """The token of each feed of ``targets``, those missing created: one transaction for
        all (a page listing hundreds of people's feeds)."""
        wanted = sorted(set(targets))
        found: dict[str, str] = {}
        with self.begin() as db:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                rows = db.execute(
                    select(feed_tokens.c.target, feed_tokens.c.token).where(
                        feed_tokens.c.target.in_(chunk)
                    )
                )
                found.update({str(row.target): str(row.token) for row in rows})
            missing = [t for t in wanted if t not in found]
            if missing:
                made = {t: secrets.token_urlsafe(32) for t in missing}
                db.execute(
                    insert(feed_tokens),
                    [
                        {"target": t, "token": token, "created_at": utc(now)}
                        for t, token in made.items()
                    ],
                )
                found.update(made)
        return found

    def rotate_feed_token(self, target: str, now: datetime) -> str:
        with self.begin() as db:
            db.execute(delete(feed_tokens).where(feed_tokens.c.target == target))
        return self.feed_token(target, now)

    def feed_for_token(self, token: str) -> str | None:
        with self.begin() as db:
            found = db.execute(
                select(feed_tokens.c.target).where(feed_tokens.c.token == token)
            ).scalar()
        return None if found is None else str(found)
