"""The strict loader resolves every plain value to the same type as PyYAML's safe loader.

Its resolver is a faster copy of PyYAML's (see :class:`syncsvc.inputs.yaml_files._StrictLoader`):
the same tag for every kind of value a configuration file may hold, written plain or quoted.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from syncsvc.inputs.yaml_files import _StrictLoader

VALUES = [
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "nul",
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "False",
    "y",
    "n",
    "0",
    "-12",
    "+7",
    "0x1F",
    "0o17",
    "017",
    "0b101",
    "1_000",
    "190:20:30",
    "1.5",
    "-.5",
    "1e3",
    "1.5e3",
    ".inf",
    "-.Inf",
    ".nan",
    ".NaN",
    "2027-01-04",
    "2027-1-4",
    "2027-01-04 10:00:00",
    "2027-01-04T10:00:00+01:00",
    "2027-02-30",
    "08:30",
    "<<",
    "=",
    "titre",
    "Jury A1",
    "rs1@centre.example",
    "TP-00374",
    "é",
    "«",
    "-",
    ".",
]


def tags(node: yaml.Node | None) -> list[str]:
    """Every tag of a composed tree, in document order."""
    if node is None:
        return []
    found = [node.tag]
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found += tags(key) + tags(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += tags(item)
    return found


def composed(loader: type[Any], text: str) -> list[str]:
    instance = loader(text)
    try:
        return tags(instance.get_single_node())
    finally:
        instance.dispose()


def document(values: list[str]) -> str:
    """Each value plain (as a key and as a value), single-quoted and double-quoted."""
    lines = []
    for index, value in enumerate(values):
        lines += [f"q{index}: '{value}'", f'd{index}: "{value}"']
        if value != "-":  # a lone dash starts a list
            lines.append(f"k{index}: {value}")
        if value not in ("", "-"):
            lines.append(f"{value}: v{index}")
    lines.append("list: [1, a, 2027-01-04, ~, {x: 1.5}]")
    lines.append("block:\n  - yes\n  -\n  - 0x10")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("loader", sorted({yaml.SafeLoader, yaml.CSafeLoader}, key=str))
def test_the_same_tags_as_pyyaml_for_every_kind_of_value(loader: type[Any]) -> None:
    text = document(VALUES)
    assert composed(_StrictLoader, text) == composed(loader, text)


@given(st.lists(st.text(alphabet="0123456789-+.:_eExXoObBnNyYtTfF~<=a ", max_size=12)))
def test_the_same_tags_for_any_plain_value(values: list[str]) -> None:
    lines = [f"k{index}: '{value}'" for index, value in enumerate(values)]
    lines += [f"p{index}: {value}" for index, value in enumerate(values) if _plain(value)]
    text = "\n".join(lines) + "\n"
    assert composed(_StrictLoader, text) == composed(yaml.SafeLoader, text)


def _plain(value: str) -> bool:
    """A value that reads back as one plain scalar (not a list, a mapping or a comment)."""
    try:
        node = yaml.compose(f"x: {value}\n", Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return False
    return isinstance(node, yaml.MappingNode) and isinstance(node.value[0][1], yaml.ScalarNode)
