"""The pure rooms (core/, formats/) read no clock, draw no randomness and open no file.

The import-linter contracts in pyproject.toml (run by ``make test``) hold the layers and keep
I/O libraries out of these folders; this test catches what imports cannot show. The rooms are
the folders: a new module in ``core/`` is checked without being listed anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import syncsvc

PACKAGE = Path(syncsvc.__file__).parent
PURE = sorted(
    str(path.relative_to(PACKAGE))
    for room in ("core", "formats")
    for path in (PACKAGE / room).rglob("*.py")
)
FORBIDDEN_CALLS = {"now", "today", "utcnow", "uuid4", "uuid1", "random", "open", "read_text"}
FORBIDDEN_IMPORTS = {"random", "uuid", "time", "os", "socket", "subprocess", "yaml", "secrets"}


def test_the_pure_rooms_are_found() -> None:
    assert "core/planner.py" in PURE
    assert "formats/ical.py" in PURE


@pytest.mark.parametrize("module", PURE)
def test_pure_module(module: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert name not in FORBIDDEN_CALLS, f"{module}:{node.lineno} calls {name}()"
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] not in FORBIDDEN_IMPORTS, (module, alias.name)
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in FORBIDDEN_IMPORTS, (module, node.module)
