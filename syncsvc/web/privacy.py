"""Candidates' names and addresses, kept for administrators (RGPD: data minimisation).

The mail queue holds mails to candidates (kind ``candidate_info``): their address, and their
name in the stored message (and possibly in the subject). Only a dashboard user with the
``admin`` role sees them; everyone else — and ``syncsvc outbox`` without
``--show-candidates`` — sees the address masked (``c•••@m•••.example``: first letter of the
mailbox and of the domain, then the top-level domain) and the subject, the error and the relay
reply with the candidate's name and address masked. Mails to staff (coordinators, managers,
jury) are shown as they are.
"""

from __future__ import annotations

import dataclasses
import re
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses
from typing import Final

from syncsvc.state.store import OutboxRow

CANDIDATE_KINDS: Final = frozenset({"candidate_info"})
HIDDEN: Final = "•••"
_MIN_NAME_PART: Final = 2


def mask_address(address: str) -> str:
    """``camille.dupont@mail.example`` → ``c•••@m•••.example``; ``•••`` when not an address."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return HIDDEN
    labels = domain.split(".")
    masked_domain = f"{labels[0][:1]}{HIDDEN}" + (f".{labels[-1]}" if len(labels) > 1 else "")
    return f"{local[:1]}{HIDDEN}@{masked_domain}"


def recipient_name(message: bytes) -> str | None:
    """The display name of the stored message's ``To:``, if any."""
    if not message:
        return None
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(message)
        found = getaddresses([str(headers.get("To", ""))])
    except (ValueError, TypeError, IndexError):
        return None
    names = [name for name, _ in found if name.strip()]
    return names[0].strip() if names else None


def _without(text: str | None, address: str, name: str | None) -> str | None:
    """``text`` with the address and every part of the name masked (case-insensitive)."""
    if not text:
        return text
    text = re.sub(re.escape(address), mask_address(address), text, flags=re.IGNORECASE)
    if name:
        parts = sorted({p for p in re.split(r"[\s,]+", name) if len(p) >= _MIN_NAME_PART}, key=len)
        for part in [name, *reversed(parts)]:
            text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", HIDDEN, text, flags=re.IGNORECASE)
    return text


def masked(row: OutboxRow) -> OutboxRow:
    """The row as a non-administrator sees it: a candidate's mail without name nor address
    (the stored message itself is dropped); any other row unchanged."""
    if row.kind not in CANDIDATE_KINDS:
        return row
    name = recipient_name(row.message)
    return dataclasses.replace(
        row,
        recipient=mask_address(row.recipient),
        subject=_without(row.subject, row.recipient, name) or "",
        last_error=_without(row.last_error, row.recipient, name),
        smtp_reply=_without(row.smtp_reply, row.recipient, name),
        message=b"",
    )
