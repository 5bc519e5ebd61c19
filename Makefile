# Two commands: `make run` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= config

.PHONY: run test lint typecheck unit bench clean lock

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "syncsvc needs Python >= 3.11 (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exact versions from the lock (hashes checked), then syncsvc itself on top.
$(VENV)/.installed: pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

# Refresh the locks after changing the dependency ranges in pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev -o requirements-dev.lock pyproject.toml

# The service on the example config with its own local Radicale and mail catcher (Ctrl-C stops).
run: $(VENV)/.installed
	$(BIN)/syncsvc validate --config $(CONFIG)
	$(BIN)/syncsvc demo --config $(CONFIG)

lint: $(VENV)/.installed
	$(BIN)/ruff check syncsvc tests benchmarks
	$(BIN)/ruff format --check syncsvc tests benchmarks
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# tests/interop installs ical.js (npm ci) itself; in CI (as root) it also apt-installs libical,
# and tests/container apt-installs docker.io and debootstrap and starts (then stops) dockerd.
# The suite runs in $(TEST_WORKERS) processes (pytest-xdist): most tests wait on servers and
# subprocesses; the container tests keep to one process (one Docker engine).
TEST_WORKERS ?= 2

unit: $(VENV)/.installed
	SYNCSVC_INSTALL_SYSTEM_DEPS=$${CI:+1} $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

test: lint typecheck unit

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/plan.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
