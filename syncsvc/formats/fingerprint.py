"""The content hash of an entry: what decides whether a remote item must be written (pure).

Items are compared by a hash of their meaning, never of their bytes: the DTSTAMP, SEQUENCE and
LAST-MODIFIED a format adds change on every write and are not part of it. The hash covers every
field of the :class:`~syncsvc.core.entries.Entry` and :data:`FORMAT_VERSION`: change a format's
output for the same entry (a new property, another spelling) and bump it, so every item is
written once more in the new form.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from syncsvc.core.entries import Entry
from syncsvc.core.model import Person

FORMAT_VERSION = 3
"""3: a VTODO is due on its deadline day (DUE was the day after), without DTSTART."""


def _plain(value: Any) -> Any:
    if isinstance(value, Person):
        return [value.name, value.email]
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return [value.isoformat(), getattr(value.tzinfo, "key", None)]
    if isinstance(value, date):
        return value.isoformat()
    return value


def content_hash(entry: Entry) -> str:
    """SHA-256 (hex) of the entry's meaning and the format version."""
    data = [FORMAT_VERSION, *(_plain(getattr(entry, f.name)) for f in fields(entry))]
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()
