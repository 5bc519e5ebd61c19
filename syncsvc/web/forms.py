"""The session form: a session file's values as form fields, and back.

A form is flat (``name → text``, the first value of each key, see :meth:`Web.form`): lists are
numbered rows (``jury_email_1``, ``coord_name_2``…), a row left empty is no entry, a row whose
« Retirer » box is ticked is removed. Going back to the file's values starts from the values
the file already has (edit), so that every key the form does not show (``done``, the deputy,
the candidates' list, a juror's titles…) is kept as it was.

Whatever the form itself cannot read (a date, a number) is an error next to its field, in the
loader's words; the rest is left to the loader (:func:`syncsvc.app.preview.check_values`),
whose problems are mapped back to the form's fields by :func:`field_of`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

Form = dict[str, str]
MAX_ROWS: Final = 50
SPARE_ROWS: Final = 2
"""Empty rows offered under the jury and the coordinators."""

SIMPLE: Final = {
    "id": "id",
    "centre": "centre",
    "nature": "nature",
    "ccp_code": "ccp_code",
    "start": "start",
    "end": "end",
    "first_day_start": "first_day_start",
    "last_day_end": "last_day_end",
    "jury_welcome": "jury_welcome",
    "location": "location",
    "title.code": "title_code",
    "title.acronym": "acronym",
    "title.label": "label",
    "title.transport": "transport",
    "title": "title_code",
    "candidates.training": "training",
    "candidates.vae": "vae",
    "candidates": "training",
    "session_manager.name": "manager_name",
    "session_manager.email": "manager_email",
    "session_manager": "manager_email",
    "coordinators": "coord_email_1",
    "jury": "jury_email_1",
}
"""The loader's field path → the form's field (lists: see :func:`field_of`)."""

JURY_KEYS: Final = {
    "name": "jury_name",
    "email": "jury_email",
    "habilitation_until": "jury_until",
    "company": "jury_company",
    "ccp": "jury_ccp",
}
COORD_KEYS: Final = {"name": "coord_name", "email": "coord_email"}
_ROW = re.compile(r"^(jury|coordinators)\[(\d+)\](?:\.([a-z_]+))?")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TIME = re.compile(r"^(\d{1,2})\s*[:hH]\s*(\d{2})?$")

DIRECTORY: Final = "_directory"
"""Marks a known juror who comes from the jury directory (``config/jury.yaml``)."""


@dataclass
class Built:
    """The values made from a form, and what the form itself could not read."""

    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)
    jury_rows: list[int] = field(default_factory=list)
    """The form row of each juror of ``values["jury"]`` (0: added from the known jurors)."""
    coord_rows: list[int] = field(default_factory=list)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


# --- reading what a person typed -----------------------------------------------------------


def parse_day(text: str) -> date:
    """``15/03/2027`` (as typed) or ``2027-03-15`` (a date field); ValueError in French."""
    text = text.strip()
    found = _FR_DATE.match(text)
    try:
        if found:
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"date « {text} » illisible (attendu : une date jj/mm/aaaa, ex. 15/03/2027)"
        ) from None


def parse_time(text: str) -> str:
    """``8:30``, ``8h30``, ``08:30`` → ``08:30``; ValueError in French."""
    found = _TIME.match(text.strip())
    hour = int(found.group(1)) if found else -1
    minute = int(found.group(2) or 0) if found else -1
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"heure « {text.strip()} » illisible (attendu : hh:mm, ex. 08:30)")
    return f"{hour:02d}:{minute:02d}"


def _count(text: str) -> int:
    text = text.strip() or "0"
    if not text.isdigit():
        raise ValueError(f"valeur « {text} » non reconnue (attendu : un nombre entier)")
    return int(text)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


# --- file values → form ------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def form_of(values: Mapping[str, Any]) -> Form:
    """The form fields of a session file's values (dates as jj/mm/aaaa)."""
    title = values.get("title") or {}
    candidates = values.get("candidates") or {}
    manager = values.get("session_manager") or {}
    form: Form = {
        "id": _text(values.get("id")),
        "centre": _text(values.get("centre")),
        "nature": _text(values.get("nature") or "titre"),
        "ccp_code": _text(values.get("ccp_code")),
        "start": _text(values.get("start")),
        "end": _text(values.get("end")),
        "first_day_start": _text(values.get("first_day_start")),
        "last_day_end": _text(values.get("last_day_end")),
        "jury_welcome": _text(values.get("jury_welcome")),
        "location": _text(values.get("location")),
        "title_code": _text(title.get("code")),
        "acronym": _text(title.get("acronym")),
        "label": _text(title.get("label")),
        "transport": "1" if title.get("transport") else "",
        "training": _text(candidates.get("training", 0)),
        "vae": _text(candidates.get("vae", 0)),
        "manager_name": _text(manager.get("name")),
        "manager_email": _text(manager.get("email")),
    }
    for index, juror in enumerate(values.get("jury") or [], start=1):
        for key, name in JURY_KEYS.items():
            value = juror.get(key)
            text = ", ".join(value) if isinstance(value, list | tuple) else _text(value)
            form[f"{name}_{index}"] = text
    for index, person in enumerate(values.get("coordinators") or [], start=1):
        for key, name in COORD_KEYS.items():
            form[f"{name}_{index}"] = _text(person.get(key))
    return form


def rows(form: Mapping[str, str], prefix: str) -> int:
    """How many rows of ``prefix`` (``jury``, ``coord``) to show: the filled ones and spares."""
    used = [
        int(m.group(1))
        for key, value in form.items()
        if value and (m := re.fullmatch(rf"{prefix}_[a-z]+_(\d+)", key))
    ]
    return min(MAX_ROWS, max(used, default=0) + SPARE_ROWS)


# --- form → file values --------------------------------------------------------------------------


def _rows(form: Mapping[str, str], keys: Mapping[str, str]) -> list[tuple[int, dict[str, str]]]:
    found = []
    for index in range(1, MAX_ROWS + 1):
        row = {key: _clean(form.get(f"{name}_{index}")) for key, name in keys.items()}
        prefix = next(iter(keys.values())).split("_")[0]
        if form.get(f"{prefix}_remove_{index}") or not any(row.values()):
            continue
        found.append((index, row))
    return found


def build(
    form: Mapping[str, str],
    base: Mapping[str, Any] | None,
    known_jurors: Mapping[str, Mapping[str, Any]] = {},
) -> Built:
    """The session file's values for ``form``, starting from ``base`` (the file's values when
    editing, None when creating); ``known_jurors`` (e-mail → juror) are added when their box
    ``known_<e-mail>`` is ticked."""
    old = dict(base or {})
    built = Built({})
    values = built.values
    values["id"] = _clean(form.get("id")) or old.get("id", "")
    title = dict(old.get("title") or {})
    title.update(
        code=_clean(form.get("title_code")),
        acronym=_clean(form.get("acronym")),
        label=_clean(form.get("label")),
    )
    if form.get("transport") or "transport" in title:  # false is the default: not written
        title["transport"] = bool(form.get("transport"))
    values["title"] = title
    values["nature"] = _clean(form.get("nature")) or "titre"
    ccp = _clean(form.get("ccp_code"))
    if ccp or "ccp_code" in old:
        values["ccp_code"] = ccp or None
    values["centre"] = _clean(form.get("centre"))
    for name in ("start", "end"):
        try:
            values[name] = parse_day(form.get(name, ""))
        except ValueError as exc:
            built.error(name, str(exc) if form.get(name, "").strip() else "date obligatoire")
            values[name] = old.get(name)
    for name in ("first_day_start", "last_day_end", "jury_welcome"):
        text = form.get(name, "").strip()
        if text:
            try:
                values[name] = parse_time(text)
            except ValueError as exc:
                built.error(name, str(exc))
    location = _clean(form.get("location"))
    if location:
        values["location"] = location
    candidates = dict(old.get("candidates") or {})
    for name in ("training", "vae"):
        try:
            candidates[name] = _count(form.get(name, ""))
        except ValueError as exc:
            built.error(name, str(exc))
            candidates[name] = 0
    values["candidates"] = candidates
    manager = dict(old.get("session_manager") or {})
    manager.update(name=_clean(form.get("manager_name")), email=_clean(form.get("manager_email")))
    values["session_manager"] = manager
    shown = {"first_day_start", "last_day_end", "jury_welcome", "location", "coordinators", "jury"}
    values.update({k: v for k, v in old.items() if k not in values and k not in shown})
    coordinators = []
    old_coords = list(old.get("coordinators") or [])
    for index, row in _rows(form, COORD_KEYS):
        person = dict(old_coords[index - 1]) if index <= len(old_coords) else {}
        person.update(name=row["name"], email=row["email"])
        coordinators.append(person)
        built.coord_rows.append(index)
    values["coordinators"] = coordinators
    jury = []
    old_jury = list(old.get("jury") or [])
    for index, row in _rows(form, JURY_KEYS):
        juror = dict(old_jury[index - 1]) if index <= len(old_jury) else {}
        # A row with only an e-mail takes the juror from the directory (config/jury.yaml): the
        # loader says so when the address is not there.
        juror["email"] = row["email"]
        _optional(juror, "name", row["name"])
        if row["habilitation_until"]:
            try:
                juror["habilitation_until"] = parse_day(row["habilitation_until"])
            except ValueError as exc:
                built.error(f"jury_until_{index}", str(exc))
                juror["habilitation_until"] = None
        elif row["name"]:  # written here, not taken from the directory: the date too
            built.error(
                f"jury_until_{index}",
                "date obligatoire (ou ne donner que le courriel d'un juré de l'annuaire)",
            )
            juror["habilitation_until"] = None
        else:
            juror.pop("habilitation_until", None)
        _optional(juror, "company", row["company"])
        codes = [c.strip() for c in re.split(r"[,;\s]+", row["ccp"]) if c.strip()]
        _optional(juror, "ccp", codes)
        jury.append(juror)
        built.jury_rows.append(index)
    emails = {str(j.get("email", "")).casefold() for j in jury}
    for email, known in known_jurors.items():
        if form.get(f"known_{email}") and email.casefold() not in emails:
            # from the directory: the e-mail alone, the directory keeps the rest
            jury.append({"email": known["email"]} if known.get(DIRECTORY) else dict(known))
            built.jury_rows.append(0)
    if jury or "jury" in old:
        values["jury"] = jury
    return built


def _optional(target: dict[str, Any], key: str, value: Any) -> None:
    if value:
        target[key] = value
    else:
        target.pop(key, None)


def field_of(path: str, built: Built) -> str | None:
    """The form field of a loader's field path (``jury[2].email`` → ``jury_email_<row>``);
    None when the form does not show it."""
    found = _ROW.match(path)
    if found:
        kind, index, key = found.group(1), int(found.group(2)), found.group(3) or "email"
        rows, keys = (
            (built.jury_rows, JURY_KEYS) if kind == "jury" else (built.coord_rows, COORD_KEYS)
        )
        row = rows[index - 1] if 0 < index <= len(rows) else 0
        if row == 0 or key not in keys:
            return "known" if kind == "jury" else None
        return f"{keys[key]}_{row}"
    return SIMPLE.get(path) or SIMPLE.get(path.split(".")[0] if "." in path else "", None)


def place(problems: Iterable[tuple[str, str]], built: Built) -> list[str]:
    """Each (field path, message) next to its form field; returns the ones the form does not
    show (said at the top of the form)."""
    elsewhere = []
    for path, message in problems:
        name = field_of(path, built)
        if name is None:
            elsewhere.append(f"{path} : {message}" if path else message)
        else:
            built.error(name, message)
    return elsewhere
