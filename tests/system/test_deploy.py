"""What can be checked of the container files without a container engine: they reference only
what exists, their settings are valid, and the test-only overrides change only what they must.
tests/container builds and runs them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from syncsvc.inputs.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.postgres.yml")
OVERRIDES = {
    "docker-compose.yml": "tests/container/compose.ci.yml",
    "docker-compose.postgres.yml": "tests/container/compose.postgres.ci.yml",
}


class _Loader(yaml.SafeLoader):
    """Compose's own tags (`!override`, `!reset`) read as plain values."""


_Loader.add_constructor("!override", lambda loader, node: loader.construct_sequence(node))  # type: ignore[arg-type]
_Loader.add_constructor("!reset", lambda loader, node: loader.construct_sequence(node))  # type: ignore[arg-type]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load((ROOT / name).read_text(), Loader=_Loader)
    return data


def syncsvc_services(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in data["services"].items() if n.startswith("syncsvc")}


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_references_only_what_exists(name: str) -> None:
    data = load(name)
    services = data["services"]
    assert {"radicale", "mailpit"} <= services.keys()
    assert services["radicale"]["image"] == "ghcr.io/kozea/radicale:stable"
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    volumes = set(data.get("volumes") or {})
    for service_name, service in services.items():
        for dependency in service.get("depends_on", []):
            assert dependency in services, (service_name, dependency)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in volumes, (service_name, source)
            else:
                assert (ROOT / source).exists(), (service_name, source)
    replicas = syncsvc_services(data)
    assert replicas
    for service in replicas.values():
        assert service["build"] == "."
        assert service["init"] is True
        assert service["read_only"] is True
        assert service["tmpfs"] == ["/tmp"]
        settings = service["environment"]["SYNCSVC_SETTINGS"]
        assert settings.startswith("/app/config/")
        assert (ROOT / "config" / Path(settings).name).is_file()
        assert set(service["depends_on"]) == services.keys() - replicas.keys()
        assert all(d["condition"] == "service_healthy" for d in service["depends_on"].values())


def test_the_postgres_variant_has_two_replicas_on_one_database() -> None:
    services = load("docker-compose.postgres.yml")["services"]
    assert set(syncsvc_services({"services": services})) == {"syncsvc-a", "syncsvc-b"}
    assert services["postgres"]["image"].startswith("postgres:")
    for replica in ("syncsvc-a", "syncsvc-b"):
        environment = services[replica]["environment"]
        assert environment["PGPASSWORD"].startswith("${POSTGRES_PASSWORD")
        # A standby serves no dashboard: its healthcheck accepts a reachable database instead.
        assert "psycopg.connect" in "".join(services[replica]["healthcheck"]["test"])
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD"
    )


@pytest.mark.parametrize(
    ("name", "store"),
    [
        ("syncsvc.compose.toml", "sqlite:////app/var/"),
        ("syncsvc.compose-postgres.toml", "postgresql+psycopg://syncsvc@postgres:5432/syncsvc"),
    ],
)
def test_compose_settings_are_valid_and_use_service_names(name: str, store: str) -> None:
    text = (ROOT / "config" / name).read_text()
    settings = Settings.model_validate(tomllib.loads(text))
    assert settings.store.url.startswith(store)
    assert settings.mail.host == "mailpit"
    assert settings.web.host == "0.0.0.0"
    assert all(t.url is None or "radicale:5232" in t.url for t in settings.targets)
    assert "password" not in settings.store.url.split("@")[0].split("//")[1]


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_the_ci_overrides_change_images_clock_ports_and_health_interval_only(name: str) -> None:
    """What the container tests run is the repository's compose file: the CI overrides swap the
    images, set the clock, move the ports and check health more often (the same checks); the
    failover stack's replicas also read the settings file the test writes (a shorter lease)."""
    base = load(name)["services"]
    override = load(OVERRIDES[name])["services"]
    assert override.keys() == base.keys()
    settings_mount = "${SYNCSVC_TEST_SETTINGS:?set by the test}:/app/test-settings.toml:ro"
    for service_name, service in override.items():
        assert service["image"].startswith("syncsvc-ci/"), service_name
        allowed = {"image", "command", "ports", "init", "healthcheck"}
        if name == "docker-compose.postgres.yml" and service_name.startswith("syncsvc-"):
            allowed |= {"environment", "volumes"}
            assert service["environment"] == {"SYNCSVC_SETTINGS": "/app/test-settings.toml"}
            assert service["volumes"] == [settings_mount], service_name
        assert set(service) <= allowed, service_name
        assert set(service.get("healthcheck", {})) <= {"interval"}, service_name
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1::"), (service_name, port)


def test_dockerfile_runs_the_documented_command_as_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", text, re.M)
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", text, re.M)
    assert not re.search(r"^# syntax=", text, re.M)
    assert re.search(r"^USER 10001:10001$", text, re.M)
    entry = re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M)
    assert entry is not None  # exec form: signals reach syncsvc
    assert '"syncsvc", "run"' in entry.group(1)
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    assert re.search(r'^VOLUME \["/app/var"\]$', text, re.M)
    # Reproducible: the dependencies are the lock's exact versions, hashes checked, and syncsvc
    # itself is installed without resolving anything else.
    assert re.search(r"pip install --require-hashes -r requirements\.lock", text)
    assert re.search(r"pip install --no-deps \.", text)
    # The build context: everything out (.venv, var/, tests), then only what the image needs.
    lines = [x for x in (ROOT / ".dockerignore").read_text().splitlines() if x and x[0] != "#"]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!requirements.lock", "!README.md", "!syncsvc", "!config"} <= set(
        lines
    )
    readme = (ROOT / "README.md").read_text()
    assert "docker compose up -d --build --wait" in readme
    assert "docker-compose.postgres.yml" in readme
