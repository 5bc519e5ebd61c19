"""Pydantic validation errors -> French problems naming the file and the field.

Each message says what is wrong and what was expected (``attendu : …``); unknown keys get the
closest known key as a suggestion. Values are echoed at most 60 characters long.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from syncsvc.errors import Problem


def _path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else part
    return out


def _show(value: Any) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return f"« {text[:60]}{'…' if len(text) > 60 else ''} »"


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
    "centre": "la clé du centre dans centres.yaml, ex. afpar-st-andre",
    "email": "nom@domaine.fr",
}


def _describe(error: ErrorDetails, root: type[BaseModel]) -> tuple[str, str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    hint = _FIELD_HINTS.get(name)

    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        keys = _keys(parent) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
        guess = f"vouliez-vous dire « {close[0]} » ? " if close else ""
        return _path(loc), f"clé inconnue ({guess}attendu : une des clés {', '.join(keys)})"
    if kind == "missing":
        model = _model_at(root, loc)
        expected = (
            f"un bloc avec {', '.join(_keys(model))}"
            if model
            else hint or f"une valeur pour {name}"
        )
        return _path(loc), f"champ obligatoire manquant (attendu : {expected})"
    if kind.startswith("date") or kind.startswith("datetime"):
        return _path(loc), f"date {_show(value)} invalide (attendu : AAAA-MM-JJ, ex. 2027-03-15)"
    if kind.startswith("time"):
        return _path(loc), f'heure {_show(value)} invalide (attendu : HH:MM, ex. "08:30")'
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", " ou ")
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : {expected})"
    if kind == "string_pattern_mismatch":
        return _path(
            loc
        ), f"valeur {_show(value)} mal formée (attendu : {hint or ctx.get('pattern')})"
    if kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error", error["msg"]))
        return _path(loc), message
    if kind.startswith("bool"):
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : true ou false)"
    if kind.startswith("int"):
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : un nombre entier)"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        signs = {
            "greater_than_equal": "≥",
            "greater_than": ">",
            "less_than_equal": "≤",
            "less_than": "<",
        }
        bound = next(iter(ctx.values()), "")
        return _path(loc), f"valeur {_show(value)} hors limites (attendu : {signs[kind]} {bound})"
    if kind == "too_short":
        return _path(
            loc
        ), f"liste trop courte (attendu : au moins {ctx.get('min_length')} élément(s))"
    if kind == "string_too_short":
        return _path(loc), "texte vide (attendu : une valeur non vide)"
    if kind == "string_too_long":
        return _path(loc), f"texte trop long (attendu : au plus {ctx.get('max_length')} caractères)"
    if kind in ("string_type",):
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : du texte)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(root, loc)
        expected = f"un bloc avec {', '.join(_keys(model))}" if model else "un bloc de clés"
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : {expected})"
    if kind in ("tuple_type", "list_type"):
        return _path(loc), f"valeur {_show(value)} non reconnue (attendu : une liste)"
    return _path(loc), f"{error['msg']} ({kind})"


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
