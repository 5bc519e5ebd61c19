"""``[reminders]`` in syncsvc.toml: the overdue schedule, its defaults and its French errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncsvc.app.notify import policy_of
from syncsvc.errors import ConfigError
from syncsvc.inputs.settings import load_settings


def settings_with(tmp_path: Path, reminders: str) -> Path:
    (tmp_path / "syncsvc.toml").write_text(f"[reminders]\n{reminders}\n", encoding="utf-8")
    return tmp_path


def test_the_default_schedule_thins_out_then_is_weekly(tmp_path: Path) -> None:
    policy = policy_of(load_settings(settings_with(tmp_path, "")))
    assert policy.overdue_days == (1, 2, 4, 8, 16)
    assert policy.overdue_every_days == 5
    assert policy.escalate_after_days == 5


def test_a_schedule_of_ones_own_reaches_the_policy(tmp_path: Path) -> None:
    folder = settings_with(tmp_path, "overdue_days = [1, 3, 10]\noverdue_every_days = 10")
    policy = policy_of(load_settings(folder))
    assert policy.overdue_days == (1, 3, 10)
    assert policy.overdue_every_days == 10


@pytest.mark.parametrize("days", ["[1, 4, 2]", "[2, 2]", "[0, 1]", "[]", "[1, 300]"])
def test_a_bad_schedule_is_one_french_line_naming_the_field(tmp_path: Path, days: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(settings_with(tmp_path, f"overdue_days = {days}"))
    assert f"syncsvc.toml: reminders: overdue_days = {days} : attendu de 1 à 20 jours" in str(
        caught.value
    )
