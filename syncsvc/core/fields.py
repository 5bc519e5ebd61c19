"""The kinds of values people write in the configuration files, and how a value is shown back
to them in a message (pure).

Every text is bounded and refuses control characters, so that what validation accepts can be
written to an e-mail header, a calendar, a terminal and the store's columns (String(255) for
names and e-mails, String(80) for session ids): a name or a label is one line of at most 120 or
200 characters; only the free texts of a rule (description, note) may hold line breaks and
tabs. Dates lie between 2000 and 2099, so that offsets of a few years never overflow.

A message quotes at most 60 characters of a value, and never a character that would break its
line or the terminal: control characters, line separators and undecodable bytes (a file name
that is not UTF-8) are written as escapes (``\\n``, ``\\x1b``, ``\\xe9``). A :class:`Refusal`
can also be told without its value, for personal data.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

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


class Refusal(ValueError):
    """A French validation message that quotes the refused value: ``what « value » why``.

    :meth:`private` is the same message without the value, for a candidate's personal data."""

    def __init__(self, what: str, value: object, why: str) -> None:
        super().__init__(f"{what} {shown(value)} {why}")
        self.what, self.why = what, why

    def private(self) -> str:
        return f"{self.what} {self.why}"


# --- texts -------------------------------------------------------------------------------------

ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
"""No control character at all (no line break, no tab, no NUL, no escape sequence)."""
MULTI_LINE = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]*$"
"""Line feeds and tabs allowed, no other control character."""
TEXT_PATTERNS = {
    ONE_LINE: (
        "caractère de contrôle interdit",
        "un texte sur une seule ligne, sans retour à la ligne, tabulation, caractère nul ni "
        "séquence d'échappement",
    ),
    MULTI_LINE: (
        "caractère de contrôle interdit",
        "un texte dont les seuls caractères de contrôle sont le retour à la ligne et la tabulation",
    ),
}
"""(what is wrong, what was expected) in French, for a text refused by one of these patterns."""

Name = Annotated[str, Field(min_length=1, max_length=120, pattern=ONE_LINE)]
"""A person's name."""
Label = Annotated[str, Field(min_length=1, max_length=200, pattern=ONE_LINE)]
"""A title's label, a centre's or a company's name."""
Place = Annotated[str, Field(min_length=1, max_length=300, pattern=ONE_LINE)]
"""Where the exams take place."""
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=ONE_LINE)]
"""A short code such as a CCP code (CP-00412)."""
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=ONE_LINE)]
"""A key written by a person that names something else (a milestone, a rule)."""
RuleTitle = Annotated[str, Field(min_length=3, max_length=120, pattern=ONE_LINE)]
Paragraph = Annotated[str, Field(max_length=4000, pattern=MULTI_LINE)]
"""A free text that may span lines (a rule's description or note)."""

# --- dates -------------------------------------------------------------------------------------

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
"""A date of a session, an habilitation or an agrément: years 2000 to 2099."""

# --- short codes a person may write as a number or a date ---------------------------------------


def _as_text(value: object) -> object:
    """A millésime written ``2017`` (a number in YAML) or ``2017-10-27`` (a date) is text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


Version = Annotated[
    str, BeforeValidator(_as_text), Field(min_length=1, max_length=32, pattern=ONE_LINE)
]
"""The millésime (version) of a title, as CERES shows it: ``2017``, ``27/10/2017``…"""

# --- a telephone number ------------------------------------------------------------------------

_PHONE = re.compile(r"\+?[0-9][0-9 .()/-]{3,31}")


def _phone(value: object) -> object:
    # 0472000000 without quotes arrives as an integer (its leading zero lost, or read as octal).
    if isinstance(value, int) and not isinstance(value, bool):
        raise Refusal(
            "numéro de téléphone lu comme le nombre",
            value,
            '(attendu : le numéro entre guillemets, ex. "04 72 00 00 00")',
        )
    if isinstance(value, str) and _PHONE.fullmatch(value.strip()) is None:
        raise Refusal(
            "numéro de téléphone",
            value,
            "illisible (attendu : au plus 32 chiffres, espaces, points, tirets, parenthèses, "
            'précédés ou non de +, ex. "+262 262 00 00 00")',
        )
    return value


Phone = Annotated[str, BeforeValidator(_phone)]
"""A telephone number: digits and the usual separators, at most 32 characters."""


_EMAIL_RE = re.compile(
    r"^[^@\s<>\"(),;:\x00-\x1f\x7f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9-]{1,63})+$"
)
"""An address whose local part is at most 64 characters and each domain label at most 63."""


def _email(value: str) -> str:
    if value.isascii() and _EMAIL_RE.match(value):
        return value.lower()
    if not value.isascii():
        raise Refusal(
            "adresse e-mail",
            value,
            "avec des caractères accentués : la plupart des serveurs de messagerie la "
            "refusent (attendu : une adresse sans accent)",
        )
    local, _, domain = value.rpartition("@")
    if len(local) > 64 or any(len(label) > 63 for label in domain.split(".")):
        raise Refusal(
            "adresse e-mail",
            value,
            "trop longue (attendu : au plus 64 caractères avant @ et 63 par partie du nom de "
            "domaine, RFC 5321)",
        )
    raise Refusal("adresse e-mail", value, "invalide (attendu : nom@domaine.fr)")


def _clock_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 8:30 as the sexagesimal integer 510: say how to write it.
    if isinstance(value, int) and not isinstance(value, bool):
        hours, minutes = divmod(value, 60)
        example = f"{hours:02d}:{minutes:02d}" if 0 <= hours < 24 else "08:30"
        raise Refusal(
            "heure lue comme le nombre",
            value,
            f'(attendu : une heure entre guillemets, ex. "{example}")',
        )
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,2}:[0-9]{2}", value.strip()):
        raise Refusal("heure", value, 'illisible (attendu : HH:MM, ex. "08:30")')
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
"""An e-mail address: at most 254 characters (RFC 5321), 64 before the @."""
ClockTime = Annotated[time, BeforeValidator(_clock_time)]


class Strict(BaseModel):
    """Base of every configuration model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
