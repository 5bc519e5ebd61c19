"""A session as the store keeps its last good state: JSON of the model, read back by the same
model, the candidates' list left out (counts only)."""

from __future__ import annotations

import json
from datetime import date, time
from typing import Any

from pydantic import ValidationError

from syncsvc.core.model import Session


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, time):
        return value.strftime("%H:%M")  # as a session file writes it
    if isinstance(value, date):
        return value.isoformat()
    return value


def session_json(session: Session) -> str:
    """``session`` as JSON a :class:`Session` reads back (names of candidates left out)."""
    data = session.model_dump(
        by_alias=True, exclude={"candidates": {"named"}}, exclude_defaults=True
    )
    return json.dumps(_plain(data), ensure_ascii=False, sort_keys=True)


def session_from_json(text: str) -> Session | None:
    """The session kept as ``text``; None when today's model no longer reads it."""
    try:
        return Session.model_validate_json(text)
    except ValidationError:
        return None
