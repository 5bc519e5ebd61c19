"""``syncsvc demo``: the daemon plus the two local servers it needs, for a first look.

Starts Radicale (CalDAV, ``http://127.0.0.1:5232/``, storage under ``var/radicale``) as a child
process and a mail catcher (aiosmtpd on ``127.0.0.1:2525``, messages in the Maildir
``var/mail-catcher``), then runs the daemon on the given config. Ctrl-C stops all three.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mailbox
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger("syncsvc.demo")
RADICALE_PORT = 5232
DEMO_PASSWORD = "demo"
"""The demo calendars' password (a public demonstration, never a real account)."""
DEMO_USERS = ("coordination", "chabert")
CATCHER_PORT = 2525


def _wait_port(port: int, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"le port {port} ne répond pas")


@contextlib.contextmanager
def radicale(var: Path, port: int = RADICALE_PORT) -> Iterator[str]:
    folder = var / "radicale"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "users").write_text(
        "".join(f"{user}:{DEMO_PASSWORD}\n" for user in DEMO_USERS), encoding="utf-8"
    )
    conf = folder / "config"
    conf.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = htpasswd\n"
        f"htpasswd_filename = {folder / 'users'}\nhtpasswd_encryption = plain\ndelay = 0\n"
        "[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
        "[logging]\nlevel = warning\n[web]\ntype = internal\n",
        encoding="utf-8",
    )
    log_file = (folder / "radicale.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(conf)],
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_port(port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log_file.close()


class _Catcher:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.box = mailbox.Maildir(folder, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.box.add(envelope.content)
        return "250 Message accepted"


@contextlib.contextmanager
def mail_catcher(var: Path, port: int = CATCHER_PORT) -> Iterator[Path]:
    from aiosmtpd.controller import Controller

    folder = var / "mail-catcher"
    if folder.exists():
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    controller = Controller(_Catcher(folder), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield folder
    finally:
        controller.stop()


def _demo_secret_key(var: Path) -> None:
    """A signing key kept under ``var/`` so that the demo's mails carry working « Marquer
    comme fait » links (and logins survive a restart); an administrator's own key wins."""
    if os.environ.get("SYNCSVC_SECRET_KEY"):
        return
    path = var / "demo-secret-key"
    if not path.is_file():
        var.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        path.chmod(0o600)
    os.environ["SYNCSVC_SECRET_KEY"] = path.read_text(encoding="utf-8").strip()


def missing_servers() -> list[str]:
    """The demonstration's local servers that are not installed (an image or a plain install
    has only the service's own dependencies; ``make run`` installs them)."""
    import importlib.util

    return [name for name in ("radicale", "aiosmtpd") if importlib.util.find_spec(name) is None]


def run_demo(config_dir: Path, var: Path, log_format: str) -> int:
    from syncsvc.daemon import Daemon, setup_logging
    from syncsvc.errors import UsageError
    from syncsvc.inputs.settings import load_settings
    from syncsvc.state.store import Store

    missing = missing_servers()
    if missing:
        raise UsageError(
            f"la démonstration a besoin de {' et '.join(missing)}, non installé(s) : "
            "pip install 'syncsvc[demo]' (ou lancer make run, qui les installe)"
        )
    setup_logging(log_format)
    os.environ.setdefault("SYNCSVC_DEMO_CALDAV_PASSWORD", DEMO_PASSWORD)
    _demo_secret_key(var)
    settings = load_settings(config_dir)
    with radicale(var) as caldav_url, mail_catcher(var) as maildir:
        store = Store(settings.store.url)
        try:
            print(
                "\nsyncsvc tourne en démonstration :\n"
                f"  tableau de bord et flux : http://{settings.web.host}:{settings.web.port}/"
                "  (identifiant demo, mot de passe demo)\n"
                f"  agendas CalDAV (Radicale) : {caldav_url}  (utilisateur coordination, mot de"
                " passe demo ; les adresses de chaque calendrier sont sur la page Calendriers"
                " du tableau de bord, à coller dans Thunderbird, Apple Calendar, DAVx5)\n"
                f"  e-mails reçus (capture locale) : {maildir}/new/\n"
                "  Ctrl-C pour tout arrêter.\n",
                flush=True,
            )
            return asyncio.run(Daemon(config_dir, settings, store).run())
        finally:
            store.close()
