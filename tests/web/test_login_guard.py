"""Login throttling over HTTP: an atomic attempt counter, a per-address limit, delays that grow
instead of a lock-out. The service's clock is the test's: nothing sleeps for real."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from syncsvc.web import auth
from tests.web.conftest import PASSWORD, USER, Served, csrf_of

WRONG = "Identifiant ou mot de passe incorrect"


class Counter:
    """Counts the password checks (scrypt runs) the service makes."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def wrap(self, real: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
        def counted(password: str, encoded: str) -> bool:
            with self._lock:
                self.calls += 1
            return real(password, encoded)

        return counted


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Counter:
    counter = Counter()
    monkeypatch.setattr(auth, "verify_password", counter.wrap(auth.verify_password))
    return counter


def attempt(
    served: Served, login: str, password: str, address: str | None = None
) -> httpx.Response:
    """One login attempt from a fresh browser (its own cookie and CSRF token)."""
    headers = {"X-Forwarded-For": address} if address else {}
    with served.client() as client:
        csrf = csrf_of(client.get("/login", headers=headers).text)
        return client.post(
            "/login",
            headers=headers,
            data={"login": login, "password": password, "csrf": csrf},
        )


def wait_of(response: httpx.Response) -> timedelta:
    assert response.status_code == 429
    return timedelta(seconds=int(response.headers["retry-after"]))


def test_parallel_wrong_passwords_check_only_the_free_attempts(
    served: Served, checks: Counter
) -> None:
    """40 parallel wrong passwords for one login: 5 checked (not 20), the rest refused."""
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda _: attempt(served, USER, "faux"), range(40)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 5 + [429] * 35
    assert checks.calls == 5
    refused = next(a for a in answers if a.status_code == 429)
    assert "Trop de tentatives" in refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 15 * 60


def test_the_right_password_is_accepted_once_the_delay_has_passed(
    served: Served, checks: Counter
) -> None:
    """No lock-out: after a flood, the user waits the delay shown, not a quarter of an hour."""
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(lambda _: attempt(served, USER, "faux"), range(20)))
    refused = attempt(served, USER, PASSWORD)
    wait = wait_of(refused)
    assert wait < timedelta(minutes=1)
    served.clock.now += wait
    assert attempt(served, USER, PASSWORD).status_code == 303
    assert attempt(served, USER, "faux").status_code == 200  # a success clears the login's count


def test_refused_attempts_do_not_lengthen_the_delay(served: Served, checks: Counter) -> None:
    for _ in range(5):
        attempt(served, USER, "faux")
    first = wait_of(attempt(served, USER, "faux"))
    for _ in range(30):  # an attacker hammering while the delay runs
        assert attempt(served, USER, "faux").status_code == 429
    served.clock.now += first
    assert attempt(served, USER, PASSWORD).status_code == 303
    assert checks.calls == 6


def test_one_address_trying_many_logins_is_slowed_down(served: Served, checks: Counter) -> None:
    """30 different logins from one address: the address's own limit applies."""
    answers = [attempt(served, f"inconnu{i}", "faux", "198.51.100.7") for i in range(30)]
    assert [a.status_code for a in answers] == [200] * 10 + [429] * 20
    assert checks.calls == 10
    # Another address is not slowed down, even for the same login…
    assert attempt(served, USER, PASSWORD, "203.0.113.9").status_code == 303
    # … and the busy address gets its turn once its delay has passed.
    wait = wait_of(attempt(served, USER, PASSWORD, "198.51.100.7"))
    served.clock.now += wait
    assert attempt(served, USER, PASSWORD, "198.51.100.7").status_code == 303
