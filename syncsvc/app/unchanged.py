"""A sync with nothing to do, before anything heavy is imported: the common case of a cron
job or a coordinator's ``syncsvc sync``.

The shortcut of :mod:`syncsvc.app.quick` (a stamp recorded after a complete pass, checked
with one request) taken without the store's SQL toolkit, the settings' validation or the
keep-alive HTTP client: the settings file is read as TOML (it was validated by the full pass
that recorded the stamp, and the stamp holds its bytes), the SQLite store through the
standard library (:class:`~syncsvc.state.bare.BareStore`), the server with one REPORT
(:mod:`syncsvc.calendars.bare`).

Everything or nothing: every chosen target must be a CalDAV calendar whose stamp holds and
whose server reports no change since the token; the instance lease is taken first, kept by
its keeper, and fences the only write (each target's new token and success). Anything else —
another kind of target or database, no stamp, a busy lease, a change anywhere, an answer that
is not plain — returns None, and the command takes its full path as if this module did not
exist (where a busy lease, a wrong password or an unreachable server are reported).
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncsvc.app.fence import Fence, Keeper
from syncsvc.app.quick import inputs_digest, settings_file, stamp
from syncsvc.calendars.bare import changes_since
from syncsvc.core.clock import Now, instant
from syncsvc.inputs.defaults import CALDAV_TIMEOUT, DEFAULT_STORE_URL, LEASE_SECONDS
from syncsvc.state.bare import BareStore


@dataclass(frozen=True)
class Unchanged:
    """A target found unchanged: its name and its items (all kept)."""

    name: str
    kept: int


def unchanged_sync(config_dir: Path, only: str | None, now: Now) -> list[Unchanged] | None:
    """Every chosen push target found unchanged (their new tokens recorded), or None: the
    full path decides (see the module)."""
    settings = _settings(config_dir)
    if settings is None:
        return None
    chosen = [
        t
        for t in settings.get("targets", [])
        if isinstance(t, dict)
        and t.get("kind") != "feed"
        and (only is None or t.get("name") == only)
    ]
    if not chosen or any(t.get("kind") != "caldav" for t in chosen):
        return None
    store = BareStore.open(str(settings.get("store", {}).get("url", DEFAULT_STORE_URL)))
    if store is None:
        return None
    try:
        with _lease(store, settings) as fence:
            if fence is None:
                return None
            return _check(config_dir, store, chosen, now, fence)
    except Exception:  # a shortcut never fails a command: the full path decides
        return None
    finally:
        store.close()


def _settings(config_dir: Path) -> dict[str, Any] | None:
    path = settings_file(config_dir)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


@contextlib.contextmanager
def _lease(store: BareStore, settings: dict[str, Any]) -> Iterator[Fence | None]:
    """The instance lease, kept for the length of the check (None: another instance has it;
    the full path refuses the command and says why)."""
    seconds = float(settings.get("daemon", {}).get("lease_seconds", LEASE_SECONDS))
    fence = Fence.take(store, seconds)
    if fence is None:
        yield None
        return
    try:
        with Keeper(fence):
            yield fence
    finally:
        fence.give_back()


def _password(target: dict[str, Any], config_dir: Path) -> str | None:
    """The target's password as :func:`syncsvc.inputs.settings.secret` reads it; a missing
    one raises (the full path reports it)."""
    if target.get("password_env"):
        return os.environ[str(target["password_env"])]
    if target.get("password_file"):
        path = Path(str(target["password_file"]))
        return (path if path.is_absolute() else config_dir / path).read_text("utf-8").strip()
    return None


def _check(
    config_dir: Path, store: BareStore, chosen: list[dict[str, Any]], now: Now, fence: Fence
) -> list[Unchanged] | None:
    inputs = inputs_digest(config_dir, store.marks_stamp())
    found: list[tuple[str, str | None, int]] = []
    for target in chosen:
        name = str(target["name"])
        state = store.target_state(name)
        if state is None or state.inputs_stamp is None or not state.location:
            return None
        recorded = store.recorded(name)
        held = stamp(inputs, state.stamp_zones, now, recorded, state.address, state.location)
        if not recorded or held != state.inputs_stamp or state.sync_token is None:
            return None
        changes = changes_since(
            state.location,
            state.sync_token,
            username=target.get("username"),
            password=_password(target, config_dir),
            timeout=float(target.get("timeout", CALDAV_TIMEOUT)),
        )
        if changes is None or changes.full or changes.present or changes.deleted:
            return None
        found.append((name, changes.token, len(recorded)))
    moment = instant(now)
    for name, token, _ in found:
        if not store.record_unchanged(name, token, moment, fence.holder, fence.epoch):
            return None  # the lease is no longer ours: the full path refuses and says why
    return [Unchanged(name, kept) for name, _, kept in found]
