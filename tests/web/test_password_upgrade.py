"""A hash below the service's cost is upgraded at the next successful login and kept in the
store, where it replaces the one of syncsvc.toml as long as that one does not change."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from syncsvc.inputs.settings import Settings, WebUser
from syncsvc.web import auth
from syncsvc.web.passwords import LoginGuard
from tests.web.conftest import (
    PASSWORD,
    SECRET,
    SECRET_ENV,
    TEST_COST,
    USER,
    Served,
    csrf_of,
    serve,
    web_settings,
)

TARGET = auth.Cost(2**13, 8, 1)
"""Above the test hashes' cost (2^12), cheap enough for a test."""


def _with_password(config: Path, password: str) -> Settings:
    settings = web_settings(config)
    user = WebUser(login=USER, password_hash=auth.hash_password(password, n=TEST_COST.work))
    return settings.model_copy(update={"web": settings.web.model_copy(update={"users": (user,)})})


def _login(served: Served, password: str) -> int:
    with served.client() as client:
        csrf = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"login": USER, "password": password, "csrf": csrf})
    return answer.status_code


def test_a_weak_hash_is_upgraded_at_the_next_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    caplog.set_level(logging.INFO, logger="syncsvc.web")
    with serve(tmp_path, guard=LoginGuard(cost=TARGET)) as served:
        assert served.store.upgraded_hash(USER) is None
        assert _login(served, "faux") == 200
        assert served.store.upgraded_hash(USER) is None  # a failure upgrades nothing
        assert _login(served, PASSWORD) == 303
        upgraded = served.store.upgraded_hash(USER)
        assert upgraded is not None
        assert auth.cost_of(upgraded.password_hash) == TARGET
        assert auth.verify_password(PASSWORD, upgraded.password_hash)
        assert _login(served, PASSWORD) == 303  # now checked against the upgraded hash
        assert _login(served, "faux") == 200
        assert served.store.upgraded_hash(USER) == upgraded  # upgraded once
    messages = [r.getMessage() for r in caplog.records if "mise à niveau" in r.getMessage()]
    assert len(messages) == 1
    assert USER in messages[0]
    assert "syncsvc hash-password" in messages[0]
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()
        assert upgraded.password_hash not in record.getMessage()


def test_a_new_hash_in_syncsvc_toml_wins_over_the_upgraded_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An administrator who resets a password in syncsvc.toml is obeyed: the old password,
    upgraded in the store, stops working."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(
        tmp_path, lambda c: _with_password(c, "ancien"), guard=LoginGuard(cost=TARGET)
    ) as first:
        assert _login(first, "ancien") == 303
        assert first.store.upgraded_hash(USER) is not None
    with serve(
        tmp_path, lambda c: _with_password(c, "nouveau"), guard=LoginGuard(cost=TARGET)
    ) as second:
        assert _login(second, "ancien") == 200
        assert _login(second, "nouveau") == 303
        upgraded = second.store.upgraded_hash(USER)
        assert upgraded is not None
        assert auth.verify_password("nouveau", upgraded.password_hash)


def test_a_hash_at_the_service_cost_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path) as served:  # the tests' guard targets the tests' cost
        assert _login(served, PASSWORD) == 303
        assert served.store.upgraded_hash(USER) is None
