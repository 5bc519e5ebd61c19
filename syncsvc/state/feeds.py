"""Feed tokens: the secret in each feed's address."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, insert, select

from syncsvc.state.base import StorePart
from syncsvc.state.schema import (
    feed_tokens,
    utc,
)


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
