"""``[feeds]`` in syncsvc.toml: ``per_person`` (off by default) needs the public ``base_url``."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncsvc.errors import ConfigError
from syncsvc.inputs.settings import load_settings


def settings_with(tmp_path: Path, feeds: str) -> Path:
    (tmp_path / "syncsvc.toml").write_text(f"[feeds]\n{feeds}\n", encoding="utf-8")
    return tmp_path


def test_per_person_is_off_unless_written(tmp_path: Path) -> None:
    assert load_settings(settings_with(tmp_path, "")).feeds.per_person is False
    folder = settings_with(tmp_path, 'per_person = true\nbase_url = "https://examens.example.org"')
    feeds = load_settings(folder).feeds
    assert feeds.per_person is True
    assert feeds.base_url == "https://examens.example.org"


def test_per_person_without_a_public_address_is_one_french_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(settings_with(tmp_path, "per_person = true"))
    message = str(caught.value)
    assert "syncsvc.toml" in message
    assert "feeds" in message
    assert "base_url" in message
    assert "attendu : l'adresse publique du service" in message
