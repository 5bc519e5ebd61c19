"""What can be checked of the container files without a container engine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from syncsvc.inputs.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_references_only_what_exists() -> None:
    data = compose()
    services = data["services"]
    assert {"syncsvc", "radicale", "mailpit"} <= services.keys()
    assert services["radicale"]["image"].startswith("ghcr.io/kozea/radicale")
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    volumes = set(data.get("volumes") or {})
    for name, service in services.items():
        for dependency in service.get("depends_on", []):
            assert dependency in services, (name, dependency)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in volumes, (name, source)
            else:
                assert (ROOT / source).exists(), (name, source)
    env = services["syncsvc"]["environment"]["SYNCSVC_SETTINGS"]
    assert env.startswith("/app/config/")
    assert (ROOT / "config" / Path(env).name).is_file()


def test_compose_settings_are_valid_and_use_service_names() -> None:
    text = (ROOT / "config/syncsvc.compose.toml").read_text()
    settings = Settings.model_validate(tomllib.loads(text))
    assert settings.mail.host == "mailpit"
    assert settings.web.host == "0.0.0.0"
    assert all(t.url is None or "radicale:5232" in t.url for t in settings.targets)


def test_dockerfile_runs_the_documented_command_as_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER syncsvc$", text, re.M)
    entry = re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M)
    assert entry is not None  # exec form: signals reach syncsvc
    assert '"syncsvc", "run"' in entry.group(1)
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    readme = (ROOT / "README.md").read_text()
    assert "docker compose up --build" in readme
