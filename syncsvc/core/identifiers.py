"""Session identifiers made from what a person types (pure): ``sa-2027-03-st-andre``.

The rule, shared by the dashboard's form and the spreadsheet import, is the one of the example
files: the title's acronym, the year and month of the first day, the centre's site (its short
name, :attr:`syncsvc.core.model.Centre.short_name`: « St-André », « Vénissieux »), in lower
case without accents, joined by hyphens; a CCP (or CCS) session starts with ``ccp-``
(``ccs-``). When that identifier is taken, ``-2``, ``-3``… is added.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container
from datetime import date

MAX_LENGTH = 80
"""The model's limit for a session identifier."""


def slug(text: str) -> str:
    """``St-André`` → ``st-andre``: lower case ASCII letters and digits, one hyphen between
    words, no accent."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    plain = plain.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def session_id_for(
    acronym: str,
    start: date,
    site: str,
    *,
    nature: str = "titre",
    taken: Container[str] = (),
) -> str:
    """The identifier of a session of ``acronym`` starting on ``start`` at ``site`` (the
    centre's short name, or its identifier), not one of ``taken``.

    >>> session_id_for("SA", date(2027, 3, 15), "St-André")
    'sa-2027-03-st-andre'
    >>> session_id_for("AC", date(2027, 5, 10), "St-André", nature="ccp")
    'ccp-ac-2027-05-st-andre'
    """
    prefix = f"{nature}-" if nature in ("ccp", "ccs") else ""
    site_part = slug(site)[:40].strip("-")
    base = f"{prefix}{slug(acronym) or 'session'}-{start.year:04d}-{start.month:02d}"
    if site_part:
        base = f"{base}-{site_part}"
    base = base[:MAX_LENGTH].strip("-")
    candidate, counter = base, 1
    while candidate in taken:
        counter += 1
        suffix = f"-{counter}"
        candidate = base[: MAX_LENGTH - len(suffix)].strip("-") + suffix
    return candidate
