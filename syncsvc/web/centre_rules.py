"""A centre's own deadlines and reminder days for a milestone (``rules.overrides``), as the
« Centres » page shows, reads and writes them.

The form has one line per milestone of the ruleset: its title as the catalogue names it (the
centre's service filled in), its kind, the ruleset's deadline in words (« 92 jours avant le
début de la session ») and its reminder days, then two boxes: the centre's own deadline, a
number of days (or months) in the same direction, and its own reminder days. An empty box
keeps the ruleset's value. The form's value is one text (JSON, by rule id, only the boxes
filled), so that the preview can carry it in a hidden field and compare it with what is
written; the loader (:func:`syncsvc.core.rules.customise`) then refuses what would make a
regulatory deadline later or break an order, and its French problem goes next to the line.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from syncsvc.core.labels import ANCHOR_PHRASES, KIND_LABELS, MONTHS, UNIT_WORDS
from syncsvc.core.rules import Offset, Rule, Ruleset, fill
from syncsvc.core.rules.ruleset import CentreRules

SERVICE_WORDS: Final = {
    "ud_name": "service de l'État",
    "ud_email": "adresse du service de l'État",
    "exam_office_email": "adresse du service examens",
    "exam_service_email": "adresse du service des épreuves",
    "centre_name": "centre",
}
"""Placeholders of a title on the form of a centre not written yet."""

_NUMBER = re.compile(r"^\d{1,4}$")
_OFFSET = re.compile(r"^[+-]\d{1,4}(d|mo)$")


@dataclass(frozen=True)
class OverrideLine:
    """One milestone on the form."""

    rule_id: str
    title: str
    kind: str
    shipped: str
    """The ruleset's deadline in words."""
    unit: str
    """What the centre's box counts: « jours avant le début de la session »."""
    reminders: str
    """The ruleset's reminder days, « 14, 7, 1 »."""


def _after(rule: Rule) -> bool:
    """The centre's box counts after the anchor (an after-event rule), else before it."""
    return rule.after_event or rule.offset.amount > 0


def _anchor(rule: Rule) -> str:
    if rule.fixed_date is not None:
        return f"le {rule.fixed_date.day} {MONTHS[rule.fixed_date.month - 1]}"
    return ANCHOR_PHRASES[rule.anchor]


def in_words(rule: Rule, offset: Offset) -> str:
    """« 92 jours avant le début de la session », « le jour de la fin de la session »."""
    if offset.amount == 0:
        return f"le jour même ({_anchor(rule)})"
    way = "après" if offset.amount > 0 else "avant"
    unit = "jour" if offset.unit == "d" and abs(offset.amount) == 1 else UNIT_WORDS[offset.unit]
    return f"{abs(offset.amount)} {unit} {way} {_anchor(rule)}"


def days_list(days: tuple[int, ...]) -> str:
    return ", ".join(str(d) for d in days)


def lines(ruleset: Ruleset, words: Mapping[str, str]) -> list[OverrideLine]:
    """The form's lines, in the ruleset's order (``words``: the centre's placeholders)."""
    out = []
    for rule in ruleset.rules:
        way = "après" if _after(rule) else "avant"
        out.append(
            OverrideLine(
                rule.id,
                fill(rule.title, words),
                KIND_LABELS[rule.kind],
                in_words(rule, rule.offset),
                f"{UNIT_WORDS[rule.offset.unit]} {way} {_anchor(rule)}",
                days_list(rule.reminders),
            )
        )
    return out


def decoded(text: str) -> dict[str, dict[str, str]]:
    """The form's value by rule id: {"offset": "100", "reminders": "7, 1"} (boxes filled)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {
        str(k): {str(n): str(t) for n, t in v.items()}
        for k, v in value.items()
        if isinstance(v, dict)
    }


def encoded(boxes: Mapping[str, Mapping[str, str]], ruleset: Ruleset) -> str:
    """The form's value: the boxes filled, in the ruleset's order (then unknown rules)."""
    order = {rule_id: n for n, rule_id in enumerate(ruleset.ids)}
    kept = {
        rule_id: {name: text for name, text in box.items() if text}
        for rule_id, box in sorted(boxes.items(), key=lambda kv: order.get(kv[0], len(order)))
    }
    kept = {rule_id: box for rule_id, box in kept.items() if box}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":")) if kept else ""


def shown(custom: CentreRules, ruleset: Ruleset) -> str:
    """The form's value for what centres.yaml says."""
    boxes: dict[str, dict[str, str]] = {}
    for rule_id, override in custom.overrides.items():
        box = {}
        if override.offset is not None:
            box["offset"] = _box_of(ruleset, rule_id, override.offset)
        if override.reminders is not None:
            box["reminders"] = days_list(override.reminders) or "aucun"
        boxes[rule_id] = box
    return encoded(boxes, ruleset)


def _box_of(ruleset: Ruleset, rule_id: str, offset: Offset) -> str:
    """A number in the box's direction and unit when it is one, else the offset as written."""
    rule = ruleset.rule(rule_id) if rule_id in ruleset.ids else None
    if rule is None or offset.unit != rule.offset.unit:
        return str(offset)
    amount = offset.amount if _after(rule) else -offset.amount
    return str(amount) if amount >= 0 else str(offset)


def posted(form: Mapping[str, str], ruleset: Ruleset) -> str:
    """The form's value from the boxes of the page (``offset-<id>``, ``reminders-<id>``)."""
    shown_ids = form.get("overrides-shown", "").split()
    boxes = {  # the file's overrides of rules without a line (the loader names them) stay
        rule_id: box
        for rule_id, box in decoded(form.get("overrides", "")).items()
        if rule_id not in shown_ids
    }
    for rule_id in shown_ids:
        boxes[rule_id] = {
            "offset": " ".join(form.get(f"offset-{rule_id}", "").split()),
            "reminders": " ".join(form.get(f"reminders-{rule_id}", "").split()),
        }
    return encoded(boxes, ruleset)


def problems(text: str, ruleset: Ruleset) -> dict[str, str]:
    """What the boxes say that is not a number of days (French), by ``overrides.<rule id>``."""
    out = {}
    for rule_id, box in decoded(text).items():
        rule = ruleset.rule(rule_id) if rule_id in ruleset.ids else None
        unit = UNIT_WORDS[rule.offset.unit] if rule else "jours"
        offset = box.get("offset", "")
        if offset and not (_NUMBER.match(offset) or _OFFSET.match(offset)):
            out[f"overrides.{rule_id}"] = (
                f"échéance du centre « {offset} » illisible (attendu : un nombre de {unit}, "
                "ex. 100)"
            )
            continue
        days = box.get("reminders", "")
        if days and days != "aucun" and _reminder_days(days) is None:
            out[f"overrides.{rule_id}"] = (
                f"jours de rappel « {days} » illisibles (attendu : des nombres de jours avant "
                "l'échéance séparés par des virgules, ex. 14, 7, 1 ; « aucun » pour ne pas "
                "rappeler)"
            )
    return out


def _reminder_days(text: str) -> list[int] | None:
    parts = [p for p in re.split(r"[,;\s]+", text) if p]
    if not parts or not all(_NUMBER.match(p) for p in parts):
        return None
    return [int(p) for p in parts]


def written(text: str, current: Any, ruleset: Ruleset) -> dict[str, Any]:
    """``rules.overrides`` for the form's value (checked by :func:`problems`): each rule's
    entry keeps what the form does not show (``transport_offset``); an entry left empty goes."""
    boxes = decoded(text)
    old = dict(current) if isinstance(current, dict) else {}
    out: dict[str, Any] = {}
    for rule_id in [*old, *(r for r in boxes if r not in old)]:
        entry = dict(old.get(rule_id) or {}) if isinstance(old.get(rule_id), dict) else {}
        if rule_id in ruleset.ids or rule_id in boxes:
            box = boxes.get(rule_id, {})
            entry.pop("offset", None)
            entry.pop("reminders", None)
            if box.get("offset"):
                entry["offset"] = _offset_of(ruleset, rule_id, box["offset"])
            if box.get("reminders"):
                entry["reminders"] = (
                    [] if box["reminders"] == "aucun" else _reminder_days(box["reminders"])
                )
        if entry:
            out[rule_id] = entry
    return out


def _offset_of(ruleset: Ruleset, rule_id: str, box: str) -> str:
    if not _NUMBER.match(box) or rule_id not in ruleset.ids:
        return box
    rule = ruleset.rule(rule_id)
    sign = "+" if _after(rule) else "-"
    return f"{sign}{int(box)}{rule.offset.unit}" if int(box) else f"0{rule.offset.unit}"


def described(text: str, ruleset: Ruleset, words: Mapping[str, str]) -> str:
    """The form's value as the preview's table shows it, one milestone a line."""
    out = []
    for rule_id, box in decoded(text).items():
        if rule_id not in ruleset.ids:
            out.append(rule_id)
            continue
        rule = ruleset.rule(rule_id)
        parts = []
        if box.get("offset"):
            try:
                offset = Offset.model_validate(_offset_of(ruleset, rule_id, box["offset"]))
                parts.append(f"échéance {in_words(rule, offset)}")
            except ValueError:
                parts.append(f"échéance {box['offset']}")
        if box.get("reminders"):
            parts.append(f"rappels : {box['reminders']}")
        out.append(f"{fill(rule.title, words)} : " + ", ".join(parts))
    return "\n".join(out) or "aucun réglage"


def reminder_news(old: Ruleset, new: Ruleset, words: Mapping[str, str]) -> list[str]:
    """« Les rappels de « … » partiront 7, 1 jours avant l'échéance (au lieu de 14, 7, 1). »"""
    was = {rule.id: rule.reminders for rule in old.rules}
    out = []
    for rule in new.rules:
        if rule.id in was and was[rule.id] != rule.reminders:
            title = fill(rule.title, words)
            before = days_list(was[rule.id]) or "aucun"
            if rule.reminders:
                out.append(
                    f"Les rappels de « {title} » partiront {days_list(rule.reminders)} jour(s) "
                    f"avant l'échéance (au lieu de {before})."
                )
            else:
                out.append(f"« {title} » ne sera plus rappelé (au lieu de {before} jour(s) avant).")
    return out


# --- the centre's own rules (rules.extra) -------------------------------------------------------

EXTRA_KEYS: Final = ("id", "title", "kind", "audience", "anchor", "offset", "way", "reminders")
"""What the form shows of a centre's own rule; the rest of its entry (description, sources,
condition, after…) stays as written."""
WAYS: Final = (("avant", "avant"), ("après", "après"))
ANCHOR_CHOICES: Final = tuple((key, phrase) for key, phrase in ANCHOR_PHRASES.items())


def _extra_box(rule: Rule) -> dict[str, str]:
    offset = rule.offset
    if offset.unit == "d":
        box_offset, way = str(abs(offset.amount)), "après" if offset.amount > 0 else "avant"
    else:
        box_offset, way = str(offset), "avant"
    return {
        "id": rule.id,
        "title": rule.title,
        "kind": rule.kind,
        "audience": " ".join(rule.audience),
        "anchor": rule.anchor,
        "offset": box_offset,
        "way": way,
        "reminders": days_list(rule.reminders) or "aucun",
    }


def extra_shown(custom: CentreRules) -> str:
    """The form's value for the centre's own rules written in centres.yaml."""
    boxes = [_extra_box(rule) for rule in custom.extra]
    return json.dumps(boxes, ensure_ascii=False, separators=(",", ":")) if boxes else ""


def extra_decoded(text: str) -> list[dict[str, str]]:
    """The form's value: one dict a rule (:data:`EXTRA_KEYS`)."""
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    if not isinstance(value, list):
        return []
    return [
        {key: str(item.get(key, "")) for key in EXTRA_KEYS}
        for item in value
        if isinstance(item, dict)
    ]


def extra_posted(form: Mapping[str, str], roles: tuple[str, ...]) -> str:
    """The form's value from the boxes of the page: ``x<n>-<key>`` for each rule shown
    (``extra-shown``: their numbers), ``x<n>-audience-<role>`` ticked, ``x<n>-remove`` to
    drop it. The empty block for a new rule counts when its title or deadline is filled."""
    boxes = []
    for n in form.get("extra-shown", "").split():
        if form.get(f"x{n}-remove") == "1":
            continue
        box = {key: " ".join(form.get(f"x{n}-{key}", "").split()) for key in EXTRA_KEYS}
        box["audience"] = " ".join(r for r in roles if form.get(f"x{n}-audience-{r}") == "1")
        if not box["id"] and not (box["title"] or box["offset"]):
            continue
        boxes.append(box)
    return json.dumps(boxes, ensure_ascii=False, separators=(",", ":")) if boxes else ""


def extra_problems(text: str) -> dict[str, str]:
    """What the boxes of the centre's own rules say that cannot be written, by ``extra.<n>``
    (1 for the first rule); the loader checks the rest."""
    out = {}
    for n, box in enumerate(extra_decoded(text), start=1):
        if not box["title"]:
            out[f"extra.{n}"] = (
                "titre obligatoire (attendu : ce qu'il faut faire, ex. Réserver les salles)"
            )
        elif not (_NUMBER.match(box["offset"]) or _OFFSET.match(box["offset"])):
            out[f"extra.{n}"] = (
                f"échéance « {box['offset']} » illisible (attendu : un nombre de jours, ex. 60)"
            )
        elif not box["audience"]:
            out[f"extra.{n}"] = "destinataires manquants (attendu : au moins un rôle coché)"
        elif (
            box["reminders"]
            and box["reminders"] != "aucun"
            and _reminder_days(box["reminders"]) is None
        ):
            out[f"extra.{n}"] = (
                f"jours de rappel « {box['reminders']} » illisibles (attendu : des nombres de "
                "jours avant l'échéance séparés par des virgules, ex. 14, 7, 1)"
            )
    return out


def new_id(title: str, taken: set[str]) -> str:
    """A rule id for a new rule of the centre, from its title: « Réserver les salles » →
    ``reserver_les_salles`` (``_2``… when taken)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_title.lower()).strip("_")[:50] or "regle"
    base = base if base[0].isalpha() and len(base) > 1 else f"regle_{base}"
    rule_id, n = base, 2
    while rule_id in taken:
        rule_id, n = f"{base}_{n}", n + 1
    return rule_id


def extra_written(text: str, current: Any, ruleset: Ruleset) -> list[dict[str, Any]]:
    """``rules.extra`` for the form's value (checked by :func:`extra_problems`): a rule kept
    keeps what the form does not show; a new rule gets an id from its title."""
    old = {
        str(item.get("id")): item
        for item in (current if isinstance(current, list) else [])
        if isinstance(item, dict)
    }
    boxes = extra_decoded(text)
    taken = {*ruleset.ids, *(box["id"] for box in boxes if box["id"])}
    out = []
    for box in boxes:
        entry = dict(old.get(box["id"], {}))
        if not box["id"]:
            box["id"] = new_id(box["title"], taken)
            taken.add(box["id"])
        entry["id"] = box["id"]
        entry["title"] = box["title"]
        entry["kind"] = box["kind"] or "advice"
        entry["audience"] = box["audience"].split()
        entry["anchor"] = box["anchor"] or "start"
        if _NUMBER.match(box["offset"]):
            sign = "+" if box["way"] == "après" else "-"
            entry["offset"] = f"{sign}{int(box['offset'])}d" if int(box["offset"]) else "0d"
        else:
            entry["offset"] = box["offset"]
        entry.pop("reminders", None)
        if box["reminders"] and box["reminders"] != "aucun":
            entry["reminders"] = _reminder_days(box["reminders"])
        out.append(entry)
    return out


def extra_described(text: str, roles: Mapping[str, str]) -> str:
    """The centre's own rules as the preview's table shows them, one a line."""
    out = []
    for box in extra_decoded(text):
        anchor = ANCHOR_PHRASES.get(box["anchor"], box["anchor"])
        when = (
            f"{box['offset']} jours {box['way']} {anchor}"
            if _NUMBER.match(box["offset"])
            else f"{box['offset']} ({anchor})"
        )
        who = ", ".join(roles.get(r, r) for r in box["audience"].split())
        kind = KIND_LABELS.get(box["kind"], box["kind"])
        out.append(
            f"{box['title']} : {when} ({kind} ; pour : {who} ; rappels : "
            f"{box['reminders'] or 'aucun'})"
        )
    return "\n".join(out) or "aucune"
