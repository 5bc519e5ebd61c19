"""When two company names written by different people name the same company (pure).

A juror's company and a candidate's host company are typed by hand, by different people:
« Géodis Corbas » and « GEODIS CORBAS », « Transports Dumas SAS » and « Transports Dumas »,
« S.A.R.L. Dumas & Fils » and « Dumas et fils » are the same company. The comparison ignores
accents, letter case, punctuation and the legal form (SA, SAS, SARL, EURL…), wherever it is
written; what remains must be equal (« Géodis » is not « Géodis Corbas »).
"""

from __future__ import annotations

import re
import unicodedata

LEGAL_FORMS = frozenset(
    {
        "sa",
        "sas",
        "sasu",
        "sarl",
        "eurl",
        "snc",
        "scs",
        "sca",
        "sci",
        "scop",
        "scic",
        "sel",
        "selarl",
        "selas",
        "selafa",
        "gie",
        "ei",
        "eirl",
        "earl",
        "gaec",
        "scea",
    }
)
"""French legal forms, lower case without dots."""

_INITIAL_DOT = re.compile(r"(?<![a-z0-9])([a-z])\.")
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")


def words_of(text: str) -> list[str]:
    """The words of ``text`` without accents, letter case or punctuation (``&`` is « et »,
    ``S.A.R.L.`` is one word)."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    plain = plain.replace("&", " et ")
    # S.A.R.L. -> sarl: the dot after a single letter joins it to the next one
    plain = _INITIAL_DOT.sub(r"\1", plain)
    return _NOT_A_WORD.sub(" ", plain).split()


def company_key(name: str) -> str:
    """``name`` reduced to what identifies the company: ``Transports Dumas SAS`` ->
    ``transports dumas``; a name made only of a legal form stays as it is."""
    words = words_of(name)
    kept = [w for w in words if w not in LEGAL_FORMS]
    return " ".join(kept or words)


def same_company(first: str, second: str) -> bool:
    return company_key(first) == company_key(second)
