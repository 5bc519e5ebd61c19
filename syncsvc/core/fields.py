"""How a value a person wrote is shown back to them in a message (pure).

A message quotes at most 60 characters of a value, and never a character that would break its
line or the terminal: control characters, line separators and undecodable bytes (a file name
that is not UTF-8) are written as escapes (``\\n``, ``\\x1b``, ``\\xe9``).
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import date, datetime, time

SHOWN_LENGTH = 60
"""At most this many characters of a value are quoted in a message."""

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return match[0].encode("unicode_escape").decode("ascii")


def spelling(text: str) -> str:
    """``text`` safe to print on one line: undecodable bytes of a file name (kept by Python as
    lone surrogates) become ``\\xNN``, control characters and line separators become escapes;
    any other text is returned unchanged."""
    if _UNSAFE.search(text) is None:
        return text
    with suppress(UnicodeEncodeError):  # a surrogate no file name produced: escaped below
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _UNSAFE.sub(_escape, text)


def shortened(text: str, length: int = SHOWN_LENGTH) -> str:
    """At most ``length`` characters of ``text`` (then « … »), safe to print on one line."""
    return spelling(text[:length]) + ("…" if len(text) > length else "")


def shown(value: object) -> str:
    """``value`` quoted for a message: « text », at most 60 characters, on one line."""
    text = value.isoformat() if isinstance(value, date | datetime | time) else str(value)
    return f"« {shortened(text)} »"
