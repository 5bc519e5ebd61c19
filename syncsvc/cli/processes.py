"""``run``, ``demo`` and ``hash-password``: the commands that live until stopped."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from syncsvc.core.clock import Now, local_moment
from syncsvc.errors import ConfigError

EXIT_OK, EXIT_USAGE = 0, 2


def clock_from(start: Now | None) -> Callable[[], datetime]:
    """The wall clock, or one that starts at ``start`` and then runs at normal speed."""
    if start is None:
        return lambda: datetime.now(UTC)
    origin = local_moment(start, ZoneInfo("UTC"))
    began = time.monotonic()
    return lambda: origin + timedelta(seconds=time.monotonic() - began)


def run(args: argparse.Namespace) -> int:
    if args.command == "hash-password":
        return hash_password()
    if not args.config.is_dir():
        raise ConfigError(
            f"dossier de configuration « {args.config} » introuvable (attendu : un dossier "
            "contenant syncsvc.toml, centres.yaml et sessions/ ; option --config)"
        )
    if args.command == "demo":
        from syncsvc.demo import run_demo

        return run_demo(args.config, args.var, args.log_format)
    from syncsvc.daemon import Daemon, setup_logging
    from syncsvc.inputs.settings import load_settings
    from syncsvc.state.store import Store

    setup_logging(args.log_format)
    settings = load_settings(args.config)
    web = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if web:
        settings = settings.model_copy(update={"web": settings.web.model_copy(update=web)})
    store = Store(settings.store.url)
    try:
        daemon = Daemon(args.config, settings, store, clock=clock_from(args.now))
        return asyncio.run(daemon.run())
    finally:
        store.close()


EXIT_ABANDONED, EXIT_INTERRUPTED = 1, 130
"""``hash-password`` given no password (empty, Ctrl-D, stdin closed) / stopped by Ctrl-C."""


def _ask(prompt: str) -> str:
    """One password: without echo from the terminal, else one line of stdin (a pipe); EOFError
    when there is nothing to read."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()  # no terminal: no English « echo » warning, no prompt to hide
    if not line:
        raise EOFError
    return line.rstrip("\r\n")


def hash_password() -> int:
    """Ask twice, print the hash; one French line and no traceback otherwise."""
    from syncsvc.web.auth import hash_password as make_hash

    try:
        first = _ask("Mot de passe : ")
        if not first:
            print("syncsvc : mot de passe vide (attendu : au moins un caractère)", file=sys.stderr)
            return EXIT_ABANDONED
        again = _ask("Encore une fois : ")
    except EOFError:
        print("\nsyncsvc : abandon, aucune empreinte calculée", file=sys.stderr)
        return EXIT_ABANDONED
    except KeyboardInterrupt:
        print("\nsyncsvc : abandon, aucune empreinte calculée", file=sys.stderr)
        return EXIT_INTERRUPTED
    if first != again:
        print("syncsvc : les deux saisies diffèrent", file=sys.stderr)
        return EXIT_USAGE
    print(make_hash(first))
    return EXIT_OK
