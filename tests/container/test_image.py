"""The image of the Dockerfile, run as ``docker run`` runs it: not root, root filesystem read-only,
state on a volume, healthy, and a ``docker stop`` that ends it cleanly."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.container.engine import Docker, Images, wait_for
from tests.container.stack import FAILED, NOW, messages


@pytest.fixture
def name(docker: Docker, request: pytest.FixtureRequest) -> Iterator[str]:
    """A container name and its state volume (``NAME-state``), removed after the test; its log
    is kept in the session's log folder, and printed when the test failed."""
    container = f"syncsvc-ci-{uuid.uuid4().hex[:8]}"
    try:
        yield container
    finally:
        log = docker.run("logs", container, check=False)
        (docker.logs / f"{container}.log").write_text(log.stdout + log.stderr, encoding="utf-8")
        if request.node.stash.get(FAILED, True):
            print(f"--- docker logs {container} ---", log.stdout, log.stderr, sep="\n")
        docker.run("rm", "-f", container, check=False)
        docker.run("volume", "rm", f"{container}-state", check=False)


def test_the_image_runs_read_only_as_non_root_turns_healthy_and_stops_cleanly(
    docker: Docker, images: Images, name: str
) -> None:
    [image] = images.get("syncsvc")
    volume = f"{name}-state"
    assert "/healthz" in docker.inspect(image, "{{json .Config.Healthcheck.Test}}")

    def run() -> None:
        docker.run(
            "run",
            "--detach",
            "--name",
            name,
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--volume",
            f"{volume}:/app/var",
            "--publish",
            "127.0.0.1::8080",
            # The image's HEALTHCHECK, run every second instead of every 10 s: the test does not
            # wait out its first interval.
            "--health-interval",
            "1s",
            image,
            "--log-format",
            "json",
            "--now",
            NOW,
        )

    def log() -> list[str]:
        done = docker.run("logs", name)
        return messages(done.stdout + done.stderr)

    run()
    # The image's HEALTHCHECK turns healthy: /healthz answers inside the container.
    took = wait_for(
        "the container to be healthy",
        lambda: docker.inspect(name, "{{.State.Health.Status}}") == "healthy",
        seconds=60,
    )
    print(f"healthy after {took:.1f} s")
    address = docker.run("port", name, "8080/tcp").stdout.split()[0]
    assert httpx.get(f"http://{address}/healthz", timeout=10).status_code == 200

    # Not root: the image's user, numeric, and the process really runs as it.
    assert docker.inspect(name, "{{.Config.User}}") == "10001:10001"
    assert docker.run("exec", name, "id", "-u").stdout.strip() == "10001"
    # Read-only root filesystem: nothing can be written outside the volume and /tmp …
    denied = docker.run("exec", name, "touch", "/app/written", check=False)
    assert denied.returncode != 0
    assert "Read-only file system" in denied.stderr
    # … and the state is in the volume.
    assert "syncsvc.db" in docker.run("exec", name, "ls", "/app/var").stdout.split()
    mounts = docker.inspect(name, "{{range .Mounts}}{{.Name}}={{.Destination}} {{end}}")
    assert f"{volume}=/app/var" in mounts.split()

    # `docker stop`: SIGTERM, the service finishes its work and exits 0 within the grace period.
    start = time.monotonic()
    docker.run("stop", "--time", "30", name, timeout=60)
    stopped_in = time.monotonic() - start
    assert docker.inspect(name, "{{.State.ExitCode}}") == "0"
    assert stopped_in < 30, stopped_in
    lines = log()
    assert "arrêt terminé" in lines
    assert "instance active (bail n° 1)" in lines
    text = "\n".join(lines)
    for trouble in ("Read-only file system", "Errno 30", "Traceback", "Permission denied"):
        assert trouble not in text, trouble

    # A new container on the same volume finds the state there: the lease it takes is the next.
    docker.run("rm", name)
    run()
    wait_for(
        "the second container's first pass",
        lambda: any(line.startswith("synchronisation coordination") for line in log()),
        seconds=60,
    )
    assert "instance active (bail n° 2)" in log()
    docker.run("stop", "--time", "30", name, timeout=60)
    assert docker.inspect(name, "{{.State.ExitCode}}") == "0"
