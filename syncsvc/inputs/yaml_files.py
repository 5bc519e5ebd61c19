"""YAML as the configuration files use it: safe, strict, bounded, in French when it fails.

The loader is libyaml's (``CSafeLoader``) when available, with these changes:

- a key written twice in the same block is an error (plain YAML silently keeps the second
  value), and a key must be a plain value: a list or a block used as a key is an error;
- an impossible date such as 2027-02-30 stays text so that validation reports it against its
  field;
- what is parsed is bounded before any Python value is built: no anchor nor alias (a 1 Ko
  « alias bomb » would build billions of values), at most 10,000 values and 20 levels of
  nesting. Anchors and aliases are looked for in the parser's events when the text holds a
  ``&`` or a ``*`` (or is long); the tree libyaml composed is then walked level by level, without
  recursion, to count its values and levels.

Every failure is a :class:`FileProblem` whose message gives the line and column and says, in
French, what is wrong and what was expected; it never quotes the file, except a duplicated key
(60 characters at most).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain
from typing import Any

import yaml

from syncsvc.core.fields import shortened, shown
from syncsvc.inputs.files import FileProblem
from syncsvc.inputs.yaml_messages import (
    ALIAS,
    DEPTH,
    KEY_NOT_TEXT,
    MAX_DEPTH,
    MAX_NODES,
    TOO_MANY,
    translated,
    unreadable_character,
)

_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCAN_LONGER_THAN = 16_000
"""A text this long may hold more than MAX_NODES values: it is counted event by event, before
libyaml composes it (so that a 1 Mo list is refused without building a million nodes)."""


class _Refused(yaml.MarkedYAMLError):
    """One of our refusals: ``problem`` is its whole French message (with « attendu : … »)."""


def _refused(message: str, mark: Any) -> _Refused:
    """A refusal at ``mark`` (libyaml's marks and PyYAML's have the same line and column)."""
    return _Refused(None, None, message, mark)


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def _implicit_table(
    loader: type[yaml.SafeLoader],
) -> dict[str, tuple[tuple[str, re.Pattern[str]], ...]]:
    """The loader's implicit resolvers by first character, each list followed by the
    wildcard ones: what :meth:`yaml.resolver.BaseResolver.resolve` concatenates per value."""
    resolvers = loader.yaml_implicit_resolvers
    wildcard = tuple(resolvers.get(None, []))
    return {k: (*v, *wildcard) for k, v in resolvers.items() if k is not None}


_IMPLICIT = _implicit_table(_SafeBase)
_WILDCARD: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    _SafeBase.yaml_implicit_resolvers.get(None, [])
)


class _StrictLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """Safe loader (libyaml's parser when available) that refuses a key written twice in the
    same block, where plain YAML would silently keep the second value.

    It resolves tags as the safe loader does, faster: the composer asks for every value of
    every file (60 per session file), and PyYAML's resolver concatenates lists and walks path
    resolvers a safe loader has none of."""

    if not _SafeBase.yaml_path_resolvers:  # always: no path resolver is ever added

        def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
            if kind is yaml.ScalarNode:
                if implicit[0]:
                    for tag, regexp in _IMPLICIT.get(value[:1], _WILDCARD):
                        if regexp.match(value):
                            return tag
                return _STR
            if kind is yaml.SequenceNode:
                return _SEQ
            return _MAP

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _refused(KEY_NOT_TEXT, key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            # `on:`, `123:` or `2026-09-01:` as a key: keep the text as written, so the error
            # names the key the user typed instead of True, 123 or a date object.
            key = key_node.value
        if key in result:
            raise _refused(_twice(key), key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _twice(key: Any) -> str:
    return (
        f"clé {shown(key)} écrite deux fois dans le même bloc : la seconde valeur "
        "écraserait la première sans prévenir (attendu : chaque clé une seule fois par bloc)"
    )


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


def _scan(text: str) -> None:
    """Refuse anchors, aliases, too many values or levels, from the parser's events."""
    nodes = depth = 0
    for event in yaml.parse(text, Loader=_SafeBase):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _refused(ALIAS, event.start_mark)
        if isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise _refused(TOO_MANY, event.start_mark)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _refused(DEPTH, event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_tree(root: yaml.Node) -> None:
    """Count the values and levels of a composed tree, level by level (no recursion)."""
    level: list[yaml.Node] = [root]
    count, depth = 1, 1
    while level:
        if depth > MAX_DEPTH:
            raise _refused(DEPTH, level[0].start_mark)
        below: list[yaml.Node] = []
        for node in level:
            if isinstance(node, yaml.MappingNode):
                below.extend(chain.from_iterable(node.value))
            elif isinstance(node, yaml.SequenceNode):
                below.extend(node.value)
        count += len(below)
        if count > MAX_NODES:
            raise _refused(TOO_MANY, root.start_mark)
        level = [node for node in below if not isinstance(node, yaml.ScalarNode)]
        depth += 1


_SCALARS = {
    "tag:yaml.org,2002:null": lambda loader, node: None,
    "tag:yaml.org,2002:bool": yaml.constructor.SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": yaml.constructor.SafeConstructor.construct_yaml_int,
    "tag:yaml.org,2002:float": yaml.constructor.SafeConstructor.construct_yaml_float,
    "tag:yaml.org,2002:timestamp": _construct_timestamp,
}


def _build(loader: _StrictLoader, node: yaml.Node) -> Any:
    """The Python value of a checked tree (at most MAX_DEPTH levels: recursion is bounded).

    The same values as the loader's own constructors, several times faster: plain text, the
    common scalars and the two collections are built here; anything else (another tag) goes
    to the loader, which refuses what a safe loader refuses."""
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _MAP and not any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _refused(KEY_NOT_TEXT, key_node.start_mark)
            key = key_node.value  # a key is the text as written (see _construct_mapping)
            if key in result:
                raise _refused(_twice(key), key_node.start_mark)
            result[key] = _build(loader, value_node)
        return result
    if tag == _SEQ:
        return [_build(loader, item) for item in node.value]
    scalar = _SCALARS.get(tag)
    if scalar is not None and isinstance(node, yaml.ScalarNode):
        return scalar(loader, node)
    return loader.construct_object(node, deep=True)


def _load(text: str) -> Any:
    if "&" in text or "*" in text or len(text) > _SCAN_LONGER_THAN:
        _scan(text)
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_tree(node)
        return _build(loader, node)
    finally:
        loader.dispose()


def _where(data: bytes, offset: int) -> str:
    """``ligne L, colonne C : `` of a byte offset (libyaml counts in UTF-8 bytes)."""
    before = data[:offset]
    start = before.rfind(b"\n") + 1
    line = before.count(b"\n") + 1
    column = len(before[start:].decode("utf-8", "replace")) + 1
    return f"ligne {line}, colonne {column} : "


def _not_utf8(data: bytes, offset: int) -> str:
    """Where the first byte that is not UTF-8 is, and how to save the file right."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        found = "encodage UTF-16 (« Unicode » du Bloc-notes)"
    else:
        found = f"{_where(data, offset)}octet 0x{data[offset]:02X} : encodage non UTF-8"
        found += " (sans doute Windows-1252 ou Latin-1, « ANSI » du Bloc-notes)"
    return (
        f"fichier illisible : {found} (attendu : un fichier enregistré en UTF-8 ; dans le "
        "Bloc-notes : Fichier › Enregistrer sous, Encodage : UTF-8)"
    )


def parse_yaml(data: bytes) -> Any:
    """The YAML value of a file's bytes; FileProblem with a French message when it cannot be
    decoded, parsed, or is beyond the limits (see the module's docstring)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(_not_utf8(data, exc.start)) from None
    try:
        return _load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"ligne {mark.line + 1}, colonne {mark.column + 1} : " if mark else ""
        if isinstance(exc, _Refused):
            raise FileProblem(f"{where}{exc.problem}") from None
        raise FileProblem(f"{where}{translated(f'{exc.context} {exc.problem}')}") from None
    except yaml.reader.ReaderError as exc:
        # libyaml counts in bytes, PyYAML's own reader in characters
        chars = _SafeBase is yaml.SafeLoader
        offset = len(text[: exc.position].encode("utf-8")) if chars else exc.position
        raise FileProblem(_where(data, offset) + unreadable_character(exc.character)) from None
    except yaml.YAMLError:
        raise FileProblem(translated("")) from None
    except RecursionError:  # defensive: the limits above stop any nesting long before
        raise FileProblem(DEPTH) from None


def load_text(text: str) -> Any:
    """Parse trusted YAML text (the shipped rulesets) with the same strict loader."""
    return yaml.load(text, Loader=_StrictLoader)


_INDEX = re.compile(r"\[(\d+)\]")


def field_lines(data: bytes, fields: Iterable[str]) -> dict[str, int]:
    """The line (from 1) where each field path of a problem is written in ``data``, a file
    :func:`parse_yaml` read: ``days[2].end``, ``afpar-st-andre.rules.overrides.dte_order``
    (keys as :func:`~syncsvc.core.fields.shortened` shows them, so a key with dots is found
    whole). The deepest key or list item written is the one pointed at: a missing key points
    at the block that lacks it. A path whose first key is not written (a required key left
    out) has no line. Called only when a file has problems: the tree is composed again."""
    try:
        loader = _StrictLoader(data.decode("utf-8"))
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except (UnicodeDecodeError, yaml.YAMLError):
        return {}
    if root is None:
        return {}
    found = {}
    for field in fields:
        line = _line_of(root, field)
        if line is not None:
            found[field] = line
    return found


def _line_of(node: yaml.Node, path: str) -> int | None:
    line = None
    rest = path
    while rest:
        index = _INDEX.match(rest)
        if index is not None and isinstance(node, yaml.SequenceNode):
            position = int(index.group(1)) - 1
            if not 0 <= position < len(node.value):
                break
            node = node.value[position]
            line = node.start_mark.line + 1
            rest = rest[index.end() :].removeprefix(".")
            continue
        if not isinstance(node, yaml.MappingNode):
            break
        best: tuple[str, yaml.Node, yaml.Node] | None = None
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = shortened(str(key_node.value))
            whole = rest == key or rest.startswith((f"{key}.", f"{key}["))
            if whole and (best is None or len(key) > len(best[0])):
                best = (key, key_node, value_node)
        if best is None:
            break
        key, key_node, node = best
        line = key_node.start_mark.line + 1
        rest = rest[len(key) :].removeprefix(".")
    return line
