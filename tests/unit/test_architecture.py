"""The functional core reads no clock, draws no randomness and opens no file.

The import-linter contract in pyproject.toml (run by ``make test``) keeps I/O libraries out of
these modules; this test catches what imports cannot show.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import syncsvc

PACKAGE = Path(syncsvc.__file__).parent
CORE = ["model.py", "dates.py", "planner.py", "checks.py", "ical.py", "rules/ruleset.py"]
FORBIDDEN_CALLS = {"now", "today", "utcnow", "uuid4", "uuid1", "random", "open", "read_text"}
FORBIDDEN_IMPORTS = {"random", "uuid", "time", "os", "socket", "subprocess", "yaml"}


@pytest.mark.parametrize("module", CORE)
def test_core_module_is_pure(module: str) -> None:
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
