"""YAML as the configuration files use it: safe, strict, in French when it fails.

The loader is libyaml's (``CSafeLoader``) when available, with two changes: a key written twice
in the same block is an error (plain YAML silently keeps the second value), and an impossible
date such as 2027-02-30 stays text so that validation reports it against its field.
"""

from __future__ import annotations

from typing import Any

import yaml

from syncsvc.inputs.files import FileProblem

_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """Safe loader (libyaml's parser when available) that refuses a key written twice in the
    same block, where plain YAML would silently keep the second value."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str) and isinstance(key_node, yaml.ScalarNode):
            # `on:`, `123:` or `2026-09-01:` as a key: keep the text as written, so the error
            # names the key the user typed instead of True, 123 or a date object.
            key = key_node.value
        if key in result:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"clé « {key} » écrite deux fois dans le même bloc (la seconde valeur "
                "écraserait la première sans prévenir)",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    # An impossible date such as 2027-02-30 would raise a bare ValueError inside PyYAML: keep
    # the text instead, so validation reports it against its field like any other bad date.
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return node.value


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


_YAML_PROBLEMS_FR = [
    (
        "mapping values are not allowed",
        "deux-points inattendu (une valeur qui contient « : » doit être entre guillemets, "
        "ou l'indentation est fausse)",
    ),
    ("could not find expected ':'", "deux-points manquant après une clé"),
    (
        "cannot start any token",
        "caractère interdit en début de valeur (une tabulation ? indenter avec des espaces)",
    ),
    ("did not find expected key", "indentation incohérente"),
    ("did not find expected ',' or ']'", "liste [ … ] mal fermée (virgule ou crochet manquant)"),
    ("did not find expected ',' or '}'", "bloc { … } mal fermé (virgule ou accolade manquante)"),
    ("did not find expected '-' indicator", "élément de liste mal indenté"),
    (
        "found unexpected end of stream",
        "fin de fichier inattendue (guillemet ou crochet non fermé ?)",
    ),
    ("found unknown escape character", "caractère d'échappement inconnu entre guillemets"),
]


def _yaml_problem_fr(problem: str) -> str:
    if problem.startswith("clé «"):
        return problem  # ours, already in French
    for english, french in _YAML_PROBLEMS_FR:
        if english in problem:
            return french
    return f"syntaxe invalide ({problem})"


def parse_yaml(data: bytes) -> Any:
    """The YAML value of a file's bytes; FileProblem with a French message when it cannot be
    decoded or parsed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileProblem(
            "fichier illisible : encodage non UTF-8 (attendu : un fichier enregistré en UTF-8)"
        ) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"ligne {mark.line + 1}, colonne {mark.column + 1} : " if mark else ""
        what = _yaml_problem_fr(exc.problem or exc.context or "")
        raise FileProblem(
            f"{where}YAML invalide : {what} (attendu : une syntaxe YAML valide ; vérifier "
            "l'indentation, les deux-points et les guillemets)"
        ) from None
    except yaml.YAMLError as exc:
        raise FileProblem(f"YAML invalide : {exc}") from None


def load_text(text: str) -> Any:
    """Parse trusted YAML text (the shipped rulesets) with the same strict loader."""
    return yaml.load(text, Loader=_StrictLoader)
