"""The login throttle's policy, on its own: an injected clock, no HTTP, no sleeping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from syncsvc.web.throttle import LoginThrottle, Rule, Slot, wait_text
from tests.web.conftest import NOW

ADDRESS = "192.0.2.1"


def fail(
    throttle: LoginThrottle, login: str, address: str = ADDRESS, at: timedelta = timedelta(0)
) -> Slot | timedelta:
    """One attempt whose password turns out wrong (the reserved slot stays counted)."""
    return throttle.reserve(login, address, NOW + at)


def test_delays_double_from_one_second_up_to_a_quarter_of_an_hour() -> None:
    rule = Rule(free=5)
    assert [rule.delay(n) for n in range(5)] == [timedelta(0)] * 5
    assert [rule.delay(n).total_seconds() for n in range(5, 10)] == [1, 2, 4, 8, 16]
    assert rule.delay(14) == timedelta(seconds=512)
    assert rule.delay(15) == rule.delay(10_000) == timedelta(minutes=15)


def test_a_login_is_delayed_after_five_failures_and_the_delay_grows() -> None:
    throttle = LoginThrottle()
    for _ in range(5):
        assert isinstance(fail(throttle, "marie"), Slot)
    last_failure = timedelta(0)
    for expected in (1, 2, 4, 8):
        # same identifier whatever the case and spaces; the delay runs from the last failure
        assert fail(throttle, "Marie ", at=last_failure) == timedelta(seconds=expected)
        last_failure += timedelta(seconds=expected)
        assert isinstance(fail(throttle, "marie", at=last_failure), Slot)


def test_waiting_attempts_are_not_counted() -> None:
    throttle = LoginThrottle()
    for _ in range(5):
        fail(throttle, "marie")
    for second in range(100):
        wait = fail(throttle, "marie", at=timedelta(milliseconds=10 * second))
        assert isinstance(wait, timedelta)
    assert isinstance(fail(throttle, "marie", at=timedelta(seconds=1)), Slot)


def test_a_success_clears_the_login_but_only_gives_the_address_its_slot_back() -> None:
    throttle = LoginThrottle()
    for n in range(9):
        fail(throttle, f"x{n}")
    slot = throttle.reserve("marie", ADDRESS, NOW)
    assert isinstance(slot, Slot)
    throttle.succeeded(slot)
    assert isinstance(fail(throttle, "y"), Slot)  # the 10th failure of the address…
    assert isinstance(fail(throttle, "z"), timedelta)  # … and then it waits


def test_a_cancelled_slot_is_given_back() -> None:
    throttle = LoginThrottle()
    for _ in range(4):
        fail(throttle, "marie")
    slot = throttle.reserve("marie", ADDRESS, NOW)
    assert isinstance(slot, Slot)
    throttle.cancel(slot)
    assert isinstance(fail(throttle, "marie"), Slot)
    assert isinstance(fail(throttle, "marie"), timedelta)


def test_failures_are_forgotten_after_an_hour_of_quiet() -> None:
    throttle = LoginThrottle()
    for _ in range(6):
        fail(throttle, "marie")
    assert isinstance(fail(throttle, "marie", at=timedelta(minutes=59)), Slot)  # delay passed
    for n in range(5):
        assert isinstance(fail(throttle, "marie", at=timedelta(hours=2, seconds=n)), Slot)


def test_memory_is_bounded() -> None:
    throttle = LoginThrottle(per_address=Rule(free=10**9), max_keys=100)
    for n in range(1000):
        fail(throttle, f"inconnu{n}")
    assert len(throttle) == 100


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "1 seconde"),
        (1, "1 seconde"),
        (1.5, "2 secondes"),
        (119, "119 secondes"),
        (120, "2 minutes"),
        (900, "15 minutes"),
    ],
)
def test_wait_text(seconds: float, text: str) -> None:
    assert wait_text(timedelta(seconds=seconds)) == text
