"""Every library the service imports is one it declares: ``[project] dependencies`` in
pyproject.toml (hence in requirements.lock, the image's install), never a package that only
happens to be installed because another one, or a development tool, pulled it in (lxml came
through the caldav client until the client moved to the development extras)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PART_OF = {"pydantic-core": "pydantic"}
"""Distributions that are another one's own half, pinned by it (pydantic pins its core)."""
OPTIONAL = {"syncsvc/demo.py": "demo"}
"""Files that run only with an extra: the demonstration's local servers."""


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _imported_modules() -> list[tuple[str, str]]:
    """(top-level module, the file importing it), over syncsvc/."""
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "syncsvc").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.add((name.split(".")[0], str(path.relative_to(ROOT))))
    return sorted(found)


def test_every_imported_library_is_a_declared_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    extras = {
        name: {_name(r) for r in requirements}
        for name, requirements in project["optional-dependencies"].items()
    }
    distributions = packages_distributions()
    undeclared = {}
    for module, where in _imported_modules():
        if module == "syncsvc" or module in sys.stdlib_module_names:
            continue
        owners = {_name(d) for d in distributions.get(module, [])}
        assert owners, f"{where}: « {module} » is not installed"
        allowed = declared | extras.get(OPTIONAL.get(where, ""), set())
        if not {PART_OF.get(o, o) for o in owners} & allowed:
            undeclared[f"{where}: {module}"] = sorted(owners)
    assert undeclared == {}


def test_the_image_lock_holds_no_development_tool() -> None:
    locked = {
        _name(line)
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith((" ", "#"))
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    development = {_name(r) for r in project["optional-dependencies"]["dev"]}
    assert declared_subset(project, locked)
    assert locked & development == set()


def declared_subset(project: dict[str, object], locked: set[str]) -> bool:
    dependencies = project["dependencies"]
    assert isinstance(dependencies, list)
    return {_name(r) for r in dependencies} <= locked


def test_the_demonstration_says_what_to_install_when_its_servers_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    from syncsvc.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "radicale" else real(name)
    )
    code = main(["demo", "--config", str(ROOT / "config"), "--var", str(tmp_path / "var")])
    assert code == 2
    assert capsys.readouterr().err == (
        "syncsvc : la démonstration a besoin de radicale, non installé(s) : pip install "
        "'syncsvc[demo]' (ou lancer make run, qui les installe)\n"
    )
    assert not (tmp_path / "var").exists()
