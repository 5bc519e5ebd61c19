"""Placeholders: the words of a rule that depend on the centre or the session (pure).

A rule's ``title``, ``short``, ``description``, ``note`` and ``shift_reason`` may hold
placeholders in braces — « écrire à la {ud_name} ({ud_email}) ». The planner fills them for each
session and centre (:mod:`syncsvc.core.words`), so that every face (calendars, feeds, mails,
dashboard, ``plan``) names the centre's own service and addresses, never another département's.

The vocabulary is closed (:data:`PLACEHOLDERS`): a placeholder outside it, a format
specification (``{ud_name:>10}``), an attribute (``{ud_name.x}``) or a lone brace is a ruleset
error at load, naming the rule and the field. A brace meant literally is doubled (``{{``).
Quotes of sources are verbatim and never filled.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import Final

PLACEHOLDERS: Final = {
    "ud_name": (
        "le service de l'État qui suit les sessions du centre, sans article (ud_name du "
        "centre ; par défaut d'après sa zone et le code postal de son adresse)"
    ),
    "ud_email": "l'adresse de ce service pour les sessions du centre (ud_email du centre)",
    "exam_office_email": "l'adresse générique du service examens du centre (exam_office_email)",
    "exam_service_email": (
        "l'adresse du service des épreuves de l'AFPA pour la session : epreuves-ccp@afpa.fr pour "
        "une session CCP, sinon celle du secteur du centre (btp, industrie, tertiaire)"
    ),
    "centre_name": "le nom du centre",
}
"""Every placeholder a rule's text may hold, with what it becomes (French, for the README and
the error messages)."""

TEXT_FIELDS: Final = ("title", "short", "description", "note", "shift_reason")
"""The fields of a rule that may hold placeholders."""


def placeholder_problems(text: str) -> list[str]:
    """What is wrong with the placeholders of ``text`` (French), or nothing."""
    try:
        parsed = list(Formatter().parse(text))
    except ValueError:
        return [
            "accolade isolée (attendu : {ud_name} pour un mot du centre, {{ ou }} pour une "
            "accolade)"
        ]
    problems = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            written = "{" + name + (f"!{conversion}" if conversion else "")
            written += (f":{spec}" if spec else "") + "}"
            problems.append(
                f"paramètre « {written} » inconnu (attendu : un de "
                f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
            )
    return problems


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its placeholders replaced by ``values`` (a text checked by
    :func:`placeholder_problems`); a text without braces is returned as is."""
    if "{" not in text and "}" not in text:
        return text
    return text.format_map(values)
