"""Pydantic validation errors -> French problems naming the file and the field.

Each message says what is wrong and what was expected (``attendu : …``); unknown keys get the
closest known key as a suggestion. Values and keys are echoed at most 60 characters long, with
control characters escaped (see :func:`syncsvc.core.fields.shown`), and the values of a
candidate (``candidates.list[…]``: names, e-mails, host companies) are never echoed: the message
says which field is wrong, not what it holds. No message is left in English.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable
from datetime import date
from typing import Any, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from syncsvc.core.fields import TEXT_PATTERNS, Refusal, shortened, shown
from syncsvc.errors import Problem

_KEY = "[key]"  # pydantic's marker of an error about a mapping's key rather than its value
_QUOTED = re.compile(r" ?« .*? »", re.DOTALL)
_LONG_QUOTE = re.compile(r"« (.{61,}?) »", re.DOTALL)


def _path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if part == _KEY:
            continue
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            segment = shortened(str(part))
            out += f".{segment}" if out else segment
    return out


def _private(loc: tuple[int | str, ...]) -> bool:
    """A candidate's data (GDPR): the candidates block itself, or anything in its list."""
    return bool(loc) and loc[0] == "candidates" and (len(loc) == 1 or loc[1] in ("list", "named"))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, tuple, list, dict, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        fields.update(model.model_fields)
        info = fields.get(part)
        if info is None:
            # a dict key (e.g. a rule id under overrides): stay on the dict's value model
            continue
        model = _model_in(info.annotation)
    return model


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


_FIELD_HINTS = {
    "id": "minuscules, chiffres et tirets, ex. sa-2027-03-st-andre",
    "code": "le code RNCP du titre, ex. TP-00374",
    "title_code": "le code du titre, ex. TP-00374",
    "titles": "un code de titre, ex. TP-00374",
    "centre": "la clé du centre dans centres.yaml, ex. afpar-st-andre",
    "email": "nom@domaine.fr",
}
_SIGNS = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}


def _value_error(error: ErrorDetails, private: bool) -> str:
    """The message of a validator of the model, its value left out for personal data."""
    raised = (error.get("ctx") or {}).get("error")
    if isinstance(raised, Refusal):
        return raised.private() if private else str(raised)
    message = str(raised if raised is not None else error["msg"])
    if private:
        return _QUOTED.sub("", message)
    message = _LONG_QUOTE.sub(lambda m: f"« {m[1][:60]}… »", message)
    return shortened(message, 1000)


def _bounds(kind: str, value: Any, ctx: dict[str, Any], shown_value: str) -> str:
    bound = next(iter(ctx.values()), "")
    if isinstance(value, date) or isinstance(bound, date):
        return (
            f"date{shown_value} hors des limites (attendu : une date entre 2000-01-01 et "
            "2099-12-31)"
        )
    return f"valeur{shown_value} hors limites (attendu : {_SIGNS[kind]} {bound})"


def _describe(error: ErrorDetails, root: type[BaseModel]) -> tuple[str, str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    private = _private(loc)
    # the value, quoted, with its leading space; nothing for a candidate's data
    v = "" if private else f" {shown(value)}"
    name = next((p for p in reversed(loc) if isinstance(p, str) and p != _KEY), "")
    hint = _FIELD_HINTS.get(name)
    if name == "id" and "extra" in loc:
        hint = "minuscules, chiffres et _, 32 caractères au plus, ex. salle_reservation"
    where = _path(loc)

    if loc and loc[-1] == _KEY:
        return where, (
            "clé invalide (attendu : un identifiant d'au plus 64 caractères, sur une seule "
            "ligne, ex. dte_order)"
        )
    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        keys = _keys(parent) if parent else []
        import difflib  # only for a misspelt name: not on every start-up

        close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
        guess = f"vouliez-vous dire « {close[0]} » ? " if close else ""
        return where, f"clé inconnue ({guess}attendu : une des clés {', '.join(keys)})"
    if kind == "missing":
        model = _model_at(root, loc)
        expected = (
            f"un bloc avec {', '.join(_keys(model))}"
            if model
            else hint or f"une valeur pour {name}"
        )
        return where, f"champ obligatoire manquant (attendu : {expected})"
    if kind in _SIGNS:
        return where, _bounds(kind, value, ctx, v)
    if kind.startswith("date") or kind.startswith("datetime"):
        return where, f"date{v} invalide (attendu : AAAA-MM-JJ, ex. 2027-03-15)"
    if kind.startswith("time"):
        return where, f'heure{v} invalide (attendu : HH:MM, ex. "08:30")'
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", " ou ")
        return where, f"valeur{v} non reconnue (attendu : {expected})"
    if kind == "string_pattern_mismatch":
        text_rule = TEXT_PATTERNS.get(str(ctx.get("pattern")))
        if text_rule is not None:
            return where, f"texte{v} : {text_rule[0]} (attendu : {text_rule[1]})"
        return where, f"valeur{v} mal formée (attendu : {hint or ctx.get('pattern')})"
    if kind in ("value_error", "assertion_error"):
        return where, _value_error(error, private)
    if kind in ("too_short", "too_long") and isinstance(error.get("input"), str):
        kind = f"string_{kind}"  # a text checked after a conversion (a millésime): its length
    return where, _describe_shape(kind, ctx, v, _model_at(root, loc))


def _describe_shape(kind: str, ctx: dict[str, Any], v: str, model: type[BaseModel] | None) -> str:
    """Messages about the kind of value (number, text, list, block), its size."""
    if kind.startswith("bool"):
        return f"valeur{v} non reconnue (attendu : true ou false)"
    if kind.startswith("int"):
        return f"valeur{v} non reconnue (attendu : un nombre entier)"
    if kind == "too_short":
        return f"liste trop courte (attendu : au moins {ctx.get('min_length')} élément(s))"
    if kind == "too_long":
        return f"liste trop longue (attendu : au plus {ctx.get('max_length')} élément(s))"
    if kind == "string_too_short":
        return "texte vide (attendu : une valeur non vide)"
    if kind == "string_too_long":
        return f"texte trop long (attendu : au plus {ctx.get('max_length')} caractères)"
    if kind == "string_type":
        return f"valeur{v} non reconnue (attendu : du texte)"
    if kind == "string_unicode":
        return "texte avec un caractère invalide (attendu : du texte Unicode valide)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        expected = f"un bloc avec {', '.join(_keys(model))}" if model else "un bloc de clés"
        return f"valeur{v} non reconnue (attendu : {expected})"
    if kind in ("tuple_type", "list_type"):
        return f"valeur{v} non reconnue (attendu : une liste)"
    return f"valeur{v} non reconnue (attendu : une valeur comme celles décrites dans le README)"


def validation_problems(
    file: str, exc: ValidationError, root: type[BaseModel], prefix: tuple[str, ...] = ()
) -> list[Problem]:
    """One :class:`Problem` per pydantic error; ``prefix`` is prepended to each field path
    (the centre's key in centres.yaml)."""
    problems = []
    for error in exc.errors(include_url=False):
        path, message = _describe(error, root)
        problems.append(Problem(file, _path((*prefix, *error["loc"])) if prefix else path, message))
    return problems
