"""The shortcut of a sync when nothing changed: no loading, no planning, no rendering.

A complete pass over a target (every write done, nothing held, nothing broken) records a
*stamp* of what it was made of (:func:`stamp`):

- the code (every file of the installed package: name, size, modification time) — a new
  release or a changed format renders differently — and the installed versions of the
  libraries that decide dates and spelling (public holidays, time zones, iCalendar);
- every file of the configuration folder, byte for byte; the settings as loaded (targets,
  dashboard URL, limits, the name of the shipped ruleset…);
- the done marks of the store (their count and latest change);
- the local day of each centre's time zone (statuses change at midnight, nothing else does);
- what the store holds for the target: every pushed item (UID, address, ETag, content hash,
  sequence) and the target's address and location.

The next sync computes the same stamp before loading anything. Equal stamps mean the pass would
render exactly what the target already holds: only the remote side can differ, so one request
asks the server what changed since the last token. Nothing changed: the pass is over (and
records the new token). Anything changed — remotely, in a file, a mark, the day, the code, the
store — and the pass is a full one, as if this module did not exist.

This module imports nothing of the planner or the formats: a no-op sync pays for the store, the
HTTP client and this.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

import syncsvc
from syncsvc.core.clock import Now, instant, local_today
from syncsvc.core.reconcile import Plan, Recorded, remote_changes
from syncsvc.errors import RemoteError

if TYPE_CHECKING:
    from syncsvc.app.apply import RetryPolicy
    from syncsvc.calendars.base import Target
    from syncsvc.inputs.settings import TargetSettings
    from syncsvc.state.store import Store

STAMP_VERSION = b"syncsvc-stamp-3"
PACKAGE = Path(syncsvc.__file__).resolve().parent


@dataclass
class TargetReport:
    """What one pass over one target did (a quick one, or a full one by
    :class:`syncsvc.app.sync.Syncer`)."""

    name: str
    plan: Plan | None = None
    done: dict[str, int] = field(default_factory=lambda: {"create": 0, "update": 0, "delete": 0})
    errors: list[str] = field(default_factory=list)
    refused: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.refused is None


def _code(digest: hashlib._Hash) -> None:
    """Every file of the package that renders: name, size and modification time."""
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            info = os.stat(path)
            digest.update(
                f"{os.path.relpath(path, PACKAGE)}|{info.st_size}|{info.st_mtime_ns}\n".encode()
            )


#: Libraries whose upgrade changes what is rendered (public holidays, time zones, iCalendar).
RENDERING_LIBRARIES = ("holidays", "icalendar", "tzdata", "pydantic")
SYSTEM_ZONES = Path("/usr/share/zoneinfo/tzdata.zi")


def _libraries(digest: hashlib._Hash) -> None:
    """Each rendering library's installed version, told by its files (found, not imported),
    and the system's time-zone database."""
    found: list[tuple[str, Path]] = [("zoneinfo", SYSTEM_ZONES)]
    for name in RENDERING_LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            digest.update(f"{name}:absent\n".encode())
            continue
        origin = Path(spec.origin)
        found.append((name, origin))
        found += [(name, p) for p in origin.parent.parent.glob(f"{name}-*.dist-info/RECORD")]
    for name, path in found:
        try:
            info = path.stat()
        except OSError:
            digest.update(f"{name}:{path}:absent\n".encode())
            continue
        digest.update(f"{name}:{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())


SESSIONS = "sessions"
"""The folder of the session files, inside the configuration folder."""


def _file_digest(path: str) -> str:
    """The SHA-256 of a file's bytes (hex), or what kept it from being read."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def _folder(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Every file under ``root`` by its relative path, with :func:`_file_digest`: those of the
    sessions folder, and the others."""
    sessions: dict[str, str] = {}
    others: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root)
            found = sessions if relative.split(os.sep, 1)[0] == SESSIONS else others
            found[relative] = _file_digest(path)
    return sessions, others


@cache
def code_version() -> str:
    """The code and the rendering libraries as installed (:func:`_code`, :func:`_libraries`):
    what renders, apart from the inputs. A process takes it once, the first time it asks (the
    code it runs is the one it loaded then)."""
    digest = hashlib.sha256(STAMP_VERSION)
    _code(digest)
    _libraries(digest)
    return digest.hexdigest()


def settings_file(config_dir: Path) -> Path:
    """Where the settings are read from (see :func:`syncsvc.inputs.settings.load_settings`)."""
    override = os.environ.get("SYNCSVC_SETTINGS")
    return Path(override) if override else config_dir / "syncsvc.toml"


@dataclass(frozen=True)
class InputParts:
    """What :func:`inputs_digest` is made of: ``rest``, the digest of everything but the
    files of the sessions folder, and the digest of each of these files (by relative path,
    see :func:`_file_digest`). A sync whose stamp holds with the stored ``sessions`` and
    today's ``rest`` knows that only these files changed (:mod:`syncsvc.app.changed`)."""

    rest: str
    sessions: dict[str, str]

    def digest(self) -> str:
        digest = hashlib.sha256(self.rest.encode())
        for path in sorted(self.sessions):
            digest.update(f"{path}\0{self.sessions[path]}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def changed(self, before: Mapping[str, str]) -> set[str]:
        """The session-folder files added, removed or changed since ``before``."""
        return {
            path
            for path in self.sessions.keys() | before.keys()
            if self.sessions.get(path) != before.get(path)
        }


def input_parts(config_dir: Path, marks: tuple[object, ...]) -> InputParts:
    """See :func:`inputs_digest`."""
    digest = hashlib.sha256(code_version().encode())
    sessions, others = _folder(config_dir.resolve())
    for path, found in others.items():
        digest.update(f"{path}\0{found}\n".encode("utf-8", "surrogateescape"))
    settings = settings_file(config_dir)
    digest.update(f"settings {settings.resolve()}\0".encode("utf-8", "surrogateescape"))
    try:
        digest.update(hashlib.sha256(settings.read_bytes()).digest())
    except OSError as exc:
        digest.update(f"unreadable:{exc.errno}".encode())
    digest.update(repr(tuple(marks)).encode())
    return InputParts(digest.hexdigest(), sessions)


def inputs_digest(config_dir: Path, marks: tuple[object, ...]) -> str:
    """What every target's pass is made of, apart from the day and the target's own state:
    the code, the configuration folder (every file, byte for byte), the settings file (byte
    for byte: with the code, that is every setting, defaults included; the ruleset is
    shipped, in the code) and the done marks (``marks``:
    :meth:`syncsvc.state.store.Store.marks_stamp`).

    Computed *before* the configuration is loaded: a file changed after this point makes the
    recorded stamp older than the pass, so the next sync is a full one (never the reverse)."""
    return input_parts(config_dir, marks).digest()


def stamp_parts(sessions: Mapping[str, str], shares: Mapping[str, str]) -> str:
    """What a complete pass records beside its stamp: the digest of each file of the sessions
    folder (:attr:`InputParts.sessions`) and what each session gives its centre's year
    (:func:`syncsvc.core.planner.centre_year_share`), as JSON; and what this process computed
    that only the code and its libraries decide — the public holidays of each year planned,
    the VTIMEZONE of each time zone written — for :func:`remember_computed` in a later pass
    over changed sessions (the stamp covers the code and those libraries: a later pass that
    finds it holding runs the same ones)."""
    from syncsvc.core.dates import known_holidays
    from syncsvc.formats.ical import known_vtimezones

    return json.dumps(
        {
            "sessions": dict(sessions),
            "shares": dict(shares),
            "holidays": known_holidays(),
            "vtimezones": {tzid: data.decode() for tzid, data in known_vtimezones().items()},
        },
        sort_keys=True,
    )


def remember_computed(text: str | None) -> None:
    """Give back to this process what :func:`stamp_parts` recorded it had computed (nothing
    when it is missing or malformed: it is computed again)."""
    from syncsvc.core.dates import remember_holidays
    from syncsvc.formats.ical import remember_vtimezones

    if not text:
        return
    try:
        found = json.loads(text)
    except ValueError:
        return
    if not isinstance(found, dict):
        return
    if "holidays" in found:
        remember_holidays(found["holidays"])
    zones = found.get("vtimezones")
    if isinstance(zones, dict) and all(
        isinstance(k, str) and isinstance(v, str) and v.startswith("BEGIN:VTIMEZONE\r\n")
        for k, v in zones.items()
    ):
        remember_vtimezones({tzid: data.encode() for tzid, data in zones.items()})


def read_stamp_parts(text: str | None) -> tuple[dict[str, str], dict[str, str]] | None:
    """(session files, shares) of :func:`stamp_parts`, or None when there are none."""
    if not text:
        return None
    try:
        found = json.loads(text)
        sessions, shares = found["sessions"], found["shares"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(sessions, dict) or not isinstance(shares, dict):
        return None
    return {str(k): str(v) for k, v in sessions.items()}, {
        str(k): str(v) for k, v in shares.items()
    }


def stamp(
    inputs: str,
    zones: Iterable[str],
    now: Now,
    recorded: Mapping[str, Recorded],
    address: str | None,
    location: str | None,
) -> str:
    """The stamp of one target's pass: ``inputs`` (:func:`inputs_digest`), the local day of
    each zone, and what the store holds for the target (its address and calendar location,
    its recorded items)."""
    digest = hashlib.sha256(inputs.encode())
    for zone in sorted(zones):
        digest.update(f"{zone}={local_today(now, ZoneInfo(zone)).isoformat()}\n".encode())
    digest.update(f"{address}|{location}\n".encode())
    for uid in sorted(recorded):
        r = recorded[uid]
        digest.update(
            f"{r.uid}|{r.session_id}|{r.href}|{r.etag}|{r.content_hash}|{r.sequence}\n".encode()
        )
    return digest.hexdigest()


def stamp_holds(store: Store, name: str, inputs: str, now: Now) -> bool:
    """True when the stamp of ``name``'s last complete pass is the one it would have now:
    only the server can have changed since."""
    state = store.target_state(name)
    if state.inputs_stamp is None:
        return False
    recorded = store.recorded(name)
    held = stamp(inputs, state.stamp_zones, now, recorded, state.address, state.location)
    return bool(recorded) and held == state.inputs_stamp


def unchanged_pass(
    settings: TargetSettings,
    target: Target,
    store: Store,
    inputs: str,
    now: Now,
    retry: RetryPolicy,
) -> Plan | None:
    """The pass over ``target`` when its stamp holds (:func:`stamp_holds`) and the server
    reports no change (an empty plan; the new change token is recorded); None when a full
    pass is needed."""
    name = settings.name
    if not stamp_holds(store, name, inputs, now):
        return None
    state = store.target_state(name)
    recorded = store.recorded(name)
    try:
        location = retry.call(lambda: target.prepare(state.location))
        if location != state.location:
            return None
        changes = retry.call(lambda: target.changes(state.sync_token))
    except RemoteError:
        return None  # the full pass meets it again, and reports it
    found = remote_changes(changes.present, changes.deleted, changes.full, recorded)
    if found.by_uid or found.adopt:
        return None
    store.record_sync_token(name, changes.token)
    store.record_success(name, instant(now))
    return Plan(name, (), kept=len(recorded))


class TokenStore(Protocol):
    """What :func:`token_after_writes` needs of a store (the full one, or the bare one)."""

    def recorded(self, target: str) -> dict[str, Recorded]: ...

    def record_etag(self, target: str, uid: str, etag: str | None) -> None: ...


def token_after_writes(
    store: TokenStore, name: str, target: Target, token: str | None, retry: RetryPolicy
) -> str | None:
    """A token that already covers our own writes.

    The token read before writing would replay them next time, and would miss an item we
    created that someone deletes before the next sync (created and deleted after the
    token: no change to report). Ask again once; keep the new token only if everything it
    reports is our own doing, otherwise keep the old one so the next run sees the rest.
    """
    after = retry.call(lambda: target.changes(token))
    found = remote_changes(after.present, after.deleted, after.full, store.recorded(name))
    for uid, etag in found.adopt.items():
        store.record_etag(name, uid, etag)
    return after.token if not found.by_uid else token
