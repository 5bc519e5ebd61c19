"""A sync with little or nothing to do, before anything heavy is imported: the common case of
a cron job or a coordinator's ``syncsvc sync``.

The shortcut of :mod:`syncsvc.app.quick` (a stamp recorded after a complete pass, checked
with one request) taken without the store's SQL toolkit, the settings' validation or the
keep-alive HTTP client: the settings file is read as TOML (it was validated by the full pass
that recorded the stamp, and the stamp holds its bytes), the SQLite store through the
standard library (:class:`~syncsvc.state.bare.BareStore`), the server with one REPORT
(:mod:`syncsvc.calendars.bare`).

When the stamp holds but for some session files — every other input as it was (the code,
the settings, the other files, the done marks, the day, the store) — only these sessions are
loaded, planned, rendered and written, by :mod:`syncsvc.app.changed`: their server's REPORT
is sent at once, and answers while the planner and the formats are imported.

Everything or nothing: every chosen target must be a CalDAV calendar whose stamp holds (or
holds but for some session files) and whose server reports no change since the token; the
instance lease is taken first, kept by its keeper, and fences the writes. Anything else —
another kind of target or database, no stamp, a busy lease, a change anywhere else, an answer
that is not plain — returns None before anything is written, and the command takes its full
path as if this module did not exist (where a busy lease, a wrong password or an unreachable
server are reported).
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syncsvc.app.fence import Fence, Keeper
from syncsvc.app.quick import (
    SESSIONS,
    InputParts,
    input_parts,
    read_stamp_parts,
    settings_file,
    stamp,
)
from syncsvc.calendars.bare import changes_since
from syncsvc.calendars.base import Changes
from syncsvc.core.clock import Now, instant
from syncsvc.core.reconcile import Recorded, remote_changes
from syncsvc.inputs.defaults import CALDAV_TIMEOUT, DEFAULT_STORE_URL, LEASE_SECONDS
from syncsvc.state.bare import BareStore, BareTargetState

NO_WRITES: Mapping[str, int] = {"create": 0, "update": 0, "delete": 0}


@dataclass(frozen=True)
class QuickPass:
    """A target's pass taken here: its name, its items left as they were, and what was
    written (nothing, for a target found unchanged) or failed."""

    name: str
    kept: int
    done: Mapping[str, int] = field(default_factory=lambda: dict(NO_WRITES))
    errors: tuple[str, ...] = ()


@dataclass
class Changed:
    """A target whose stamp holds but for some session files (see :mod:`syncsvc.app.changed`)."""

    settings: dict[str, Any]
    state: BareTargetState
    parts: InputParts
    files: frozenset[str]
    """The names of the changed files of the sessions folder (hidden ones left out)."""
    shares: dict[str, str]
    """What each session gave its centre's year at the stamped pass."""
    password: str | None
    remote: _Asked
    recorded: dict[str, Recorded]
    """What the store holds for the target, read once by the check."""

    @property
    def name(self) -> str:
        return str(self.settings["name"])


class _Asked:
    """The server's answer to « anything new since the token? », asked in a thread of its own
    while this process imports what it needs to render."""

    def __init__(self, url: str, token: str, target: dict[str, Any], password: str | None):
        self._found: Changes | None = None
        self._thread = threading.Thread(
            target=self._ask, args=(url, token, target, password), daemon=True
        )
        self._thread.start()

    def _ask(self, url: str, token: str, target: dict[str, Any], password: str | None) -> None:
        self._found = changes_since(
            url,
            token,
            username=target.get("username"),
            password=password,
            timeout=float(target.get("timeout", CALDAV_TIMEOUT)),
        )

    def answer(self) -> Changes | None:
        self._thread.join()
        return self._found


def unchanged_sync(
    config_dir: Path, only: str | None, now: Now, *, force: bool = False
) -> list[QuickPass] | None:
    """Every chosen push target's pass, when each was found unchanged (their new tokens
    recorded) or changed in some session files only (those written); or None: the full path
    decides (see the module). ``force``: the full path's."""
    settings = _settings(config_dir)
    if settings is None or force:
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


def ours_only(changes: Changes, recorded: Mapping[str, Recorded]) -> bool:
    """True when what the server reports since the token is only our own doing (our writes,
    as recorded, or items that are not ours), as :func:`syncsvc.app.quick.unchanged_pass`
    reads it."""
    found = remote_changes(changes.present, changes.deleted, changes.full, recorded)
    return not found.by_uid and not found.adopt


def changed_files(parts: InputParts, before: Mapping[str, str]) -> frozenset[str] | None:
    """The names of the session files changed since ``before`` (:attr:`InputParts.sessions`
    of the stamped pass), or None when anything else changed in the sessions folder: a file
    added or removed, a subfolder. Hidden files, which the loader leaves out, are left out."""
    names: set[str] = set()
    for path in parts.changed(before):
        folder, name = os.path.split(path)
        if name.startswith("."):
            continue
        if folder != SESSIONS or path not in parts.sessions or path not in before:
            return None
        names.add(name)
    return frozenset(names)


def _changed_sync() -> Callable[..., list[QuickPass] | None]:
    """:func:`syncsvc.app.changed.changed_sync`, imported only now (the planner, the models,
    the formats). The imports allocate much and free nearly nothing: the collector is held
    meanwhile, and what they made is set apart from its later rounds (``gc.freeze``), which
    also spares the process's exit going through it — some 0.1 s of a 0.3 s import."""
    gc.disable()
    try:
        from syncsvc.app.changed import changed_sync
    finally:
        gc.freeze()
        gc.enable()
    return changed_sync


def _check(
    config_dir: Path, store: BareStore, chosen: list[dict[str, Any]], now: Now, fence: Fence
) -> list[QuickPass] | None:
    parts = input_parts(config_dir, store.marks_stamp())
    inputs = parts.digest()
    found: list[tuple[str, str | None, int]] = []
    changed: list[Changed] = []
    for target in chosen:
        name = str(target["name"])
        state = store.target_state(name)
        if state is None or state.inputs_stamp is None or not state.location:
            return None
        recorded = store.recorded(name)
        if not recorded or state.sync_token is None:
            return None
        zones, address, location = state.stamp_zones, state.address, state.location
        password = _password(target, config_dir)
        if stamp(inputs, zones, now, recorded, address, location) != state.inputs_stamp:
            stored = read_stamp_parts(state.stamp_parts)
            if stored is None:
                return None
            before = InputParts(parts.rest, stored[0]).digest()
            if stamp(before, zones, now, recorded, address, location) != state.inputs_stamp:
                return None  # more than session files changed
            files = changed_files(parts, stored[0])
            if files is None:
                return None
            asked = _Asked(location, state.sync_token, target, password)
            changed.append(
                Changed(target, state, parts, files, stored[1], password, asked, recorded)
            )
            continue
        changes = changes_since(
            location,
            state.sync_token,
            username=target.get("username"),
            password=password,
            timeout=float(target.get("timeout", CALDAV_TIMEOUT)),
        )
        if changes is None or not ours_only(changes, recorded):
            return None
        found.append((name, changes.token, len(recorded)))
    done: dict[str, QuickPass] = {}
    if changed:
        written = _changed_sync()(config_dir, store, fence, changed, now)
        if written is None:
            return None
        done.update((w.name, w) for w in written)
    moment = instant(now)
    for name, token, kept in found:
        if not store.record_unchanged(name, token, moment, fence.holder, fence.epoch):
            return None  # the lease is no longer ours: the full path refuses and says why
        done[name] = QuickPass(name, kept)
    return [done[str(t["name"])] for t in chosen]
