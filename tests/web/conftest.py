"""Fixtures of the web tests: the app served by a real uvicorn on 127.0.0.1, a fixed clock.

Each test gets a temporary copy of the example ``config/``, a fresh SQLite store, two users
(``coordination`` with a name, ``direction`` without) and a known secret key, so done links can
be signed here exactly as the mailer signs them.
"""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from syncsvc.app.status import ProcessStatus
from syncsvc.inputs.settings import Settings, WebSettings, WebUser, load_settings
from syncsvc.state.store import Store
from syncsvc.web import create_app
from syncsvc.web.auth import Cost, hash_password
from syncsvc.web.passwords import LoginGuard
from tests.harness.servers import serve_app

ROOT = Path(__file__).resolve().parents[2]
# A Monday when every status shows: the SA session has overdue and due-soon milestones.
NOW = datetime(2027, 2, 8, 8, 0, tzinfo=UTC)
SECRET_ENV = "SYNCSVC_TEST_WEB_SECRET"
SECRET = "clé-de-test-des-liens-et-des-cookies"
USER, PASSWORD, NAME = "coordination", "mot de passe de test", "Nathalie Técher"
OTHER, OTHER_PASSWORD = "direction", "autre mot de passe"
SESSION_ID = "sa-2027-03-st-andre"
_CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


TEST_COST = Cost(2**12, 8, 1)
"""Lighter scrypt cost than the default: the format and the checks are the same."""


@functools.cache
def _hashes() -> tuple[str, str]:
    return hash_password(PASSWORD, n=TEST_COST.work), hash_password(
        OTHER_PASSWORD, n=TEST_COST.work
    )


def test_guard() -> LoginGuard:
    """The login guard of the tests: the service's, with the test hashes' cost as target (so no
    login upgrades a hash unless a test asks for it)."""
    return LoginGuard(cost=TEST_COST)


def web_settings(config: Path, **web: object) -> Settings:
    first, second = _hashes()
    users = (
        WebUser(login=USER, password_hash=first, name=NAME),
        WebUser(login=OTHER, password_hash=second),
    )
    base = load_settings(config)
    return base.model_copy(
        update={
            "web": WebSettings(users=users, **web),
            "secret_key_env": SECRET_ENV,
        }
    )


@dataclass
class Served:
    root: Path
    config: Path
    store: Store
    clock: Clock
    status: ProcessStatus
    settings: Settings
    base: str
    marked: list[str]
    """One entry each time the app said a milestone was marked done or undone."""
    guard: LoginGuard

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, follow_redirects=False, timeout=30)

    def login(self, client: httpx.Client, login: str = USER, password: str = PASSWORD) -> None:
        form = client.get("/login")
        response = client.post(
            "/login",
            data={"login": login, "password": password, "csrf": csrf_of(form.text), "next": "/"},
        )
        assert response.status_code == 303, response.text

    @contextmanager
    def logged_in(self, login: str = USER, password: str = PASSWORD) -> Iterator[httpx.Client]:
        with self.client() as client:
            self.login(client, login, password)
            yield client


def csrf_of(html: str) -> str:
    found = _CSRF_RE.search(html)
    assert found is not None, "no CSRF field in the page"
    return found.group(1)


@contextmanager
def serve(
    tmp_path: Path,
    settings_for: Callable[[Path], Settings] = web_settings,
    *,
    with_status: bool = True,
    guard: LoginGuard | None = None,
) -> Iterator[Served]:
    """The app on a free port of 127.0.0.1 until the block ends."""
    guard = guard or test_guard()
    config = tmp_path / "config"
    if not config.exists():
        shutil.copytree(ROOT / "config", config)
    settings = settings_for(config)
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    clock = Clock(NOW)
    status = ProcessStatus()
    marked: list[str] = []
    app = create_app(
        config,
        settings,
        store,
        clock,
        status if with_status else None,
        on_marked=lambda: marked.append("marque"),
        guard=guard,
    )
    try:
        with serve_app(app) as url:
            yield Served(tmp_path, config, store, clock, status, settings, url, marked, guard)
    finally:
        store.close()


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path) as running:
        yield running
