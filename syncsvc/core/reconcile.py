"""Desired vs recorded state -> a plan of create / update / delete operations (pure).

Vocabulary:

- *desired*: the items a target should hold now, computed from the configuration (one per
  milestone the target's audience sees), each with its UID and content hash;
- *recorded*: what the store says syncsvc last wrote to that target: remote href, ETag, content
  hash and SEQUENCE per UID;
- *remote changes*: what the target reports changed since the last sync (an item edited or
  deleted by someone else), by UID; the service owns its items, so such changes are overwritten
  or restored;
- *protected sessions*: sessions whose file exists but failed to load: their items are kept as
  they are, neither updated nor deleted;
- *recovery*: what to do when the server answers that the item exists or changed
  (``if_exists``) or that it is gone (``if_missing``). It is decided here, with the operation,
  so the loop that applies a plan has no choice of its own to make:

  ==========  ===========================  ================================
  action      if_exists (412/409)          if_missing (404/410)
  ==========  ===========================  ================================
  create      ``adopt``: ours from a run   —
              cut short, or a remote edit
  update      ``adopt``                    ``recreate``
  delete      ``delete_any``: edited       ``gone``: nothing left to do
              remotely, still ours
  ==========  ===========================  ================================

  ``adopt`` overwrites the item only if syncsvc made it (the target checks UID and marker and
  refuses someone else's).

:func:`diff` decides; it does no I/O. :mod:`syncsvc.app.apply` runs the plan and records each
result right after the remote call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from syncsvc.errors import MassDeleteRefused

if TYPE_CHECKING:  # a type only: reconciling never builds an entry (and stays light to import)
    from syncsvc.core.entries import Entry

Action = Literal["create", "update", "delete"]
Recovery = Literal["adopt", "recreate", "delete_any", "gone", "fail"]
RECOVERY: dict[Action, tuple[Recovery, Recovery]] = {
    "create": ("adopt", "fail"),
    "update": ("adopt", "recreate"),
    "delete": ("delete_any", "gone"),
}
"""(if_exists, if_missing) of each action: see the table in the module docstring."""
MIN_ITEMS_FOR_SHARE_GUARD = 4
"""Below this many recorded items, the share guard does not apply (deleting 1 of 2 is normal)."""


@dataclass(frozen=True, slots=True)
class Desired:
    """One item a target should hold. Deciding needs its content hash alone; its entry is read
    only when the item is written."""

    uid: str
    session_id: str
    milestone_id: str
    content_hash: str
    source: Entry | Callable[[str], Entry] = field(repr=False, compare=False)
    """The entry, or what renders it again when asked, called with the UID (a long-lived
    renderer keeps hashes, not entries: see :class:`syncsvc.app.desired.Renderer`)."""

    @property
    def entry(self) -> Entry:
        source = self.source
        return source(self.uid) if callable(source) else source


@dataclass(frozen=True, slots=True)
class Recorded:
    uid: str
    session_id: str
    href: str
    etag: str | None
    content_hash: str
    sequence: int


@dataclass(frozen=True, slots=True)
class Operation:
    action: Action
    uid: str
    reason: str
    desired: Desired | None = None
    recorded: Recorded | None = None
    sequence: int = 0

    @property
    def if_exists(self) -> Recovery:
        return RECOVERY[self.action][0]

    @property
    def if_missing(self) -> Recovery:
        return RECOVERY[self.action][1]


@dataclass(frozen=True, slots=True)
class Plan:
    target: str
    operations: tuple[Operation, ...] = ()
    kept: int = 0
    """Recorded items left untouched (unchanged, or protected)."""
    protected: tuple[str, ...] = field(default=())

    def count(self, action: Action) -> int:
        return sum(1 for op in self.operations if op.action == action)

    @property
    def is_noop(self) -> bool:
        return not self.operations


def diff(
    target: str,
    desired: Mapping[str, Desired],
    recorded: Mapping[str, Recorded],
    *,
    remote_changes: Mapping[str, str | None] | None = None,
    protected_sessions: frozenset[str] = frozenset(),
    max_delete_share: float = 0.5,
    force: bool = False,
) -> Plan:
    """The operations that make ``target`` hold exactly ``desired``.

    ``remote_changes`` maps UIDs to their new remote ETag, or None when deleted remotely.
    Raises :class:`MassDeleteRefused` when deletes exceed ``max_delete_share`` of the recorded
    items (or would empty a non-empty target), unless ``force``.
    """
    remote = remote_changes or {}
    ops: list[Operation] = []
    kept = 0
    protected: list[str] = []
    for uid in sorted(desired.keys() | recorded.keys()):
        want, have = desired.get(uid), recorded.get(uid)
        if have is not None and have.session_id in protected_sessions:
            kept += 1
            protected.append(uid)
            continue
        op = _decide(uid, want, have, remote)
        if op is None:
            kept += 1
        else:
            ops.append(op)
    plan = Plan(target, tuple(ops), kept, tuple(protected))
    _guard(plan, len(recorded), max_delete_share, force)
    return plan


def _decide(
    uid: str, want: Desired | None, have: Recorded | None, remote: Mapping[str, str | None]
) -> Operation | None:
    """The operation for one UID, or None when the item is as it should be."""
    if have is None:
        assert want is not None
        return Operation("create", uid, "nouveau", desired=want, sequence=0)
    if want is None:
        return Operation("delete", uid, "jalon ou session supprimé", recorded=have)
    next_sequence = have.sequence + 1
    if uid in remote and remote[uid] is None:
        reason = "supprimé à distance : restauré"
        return Operation("create", uid, reason, want, have, next_sequence)
    if want.content_hash != have.content_hash:
        return Operation("update", uid, "modifié", want, have, next_sequence)
    if uid in remote and remote[uid] != have.etag:
        reason = "modifié à distance : rétabli"
        return Operation("update", uid, reason, want, have, next_sequence)
    return None


def _guard(plan: Plan, total: int, max_share: float, force: bool) -> None:
    deletes = plan.count("delete")
    if force or deletes == 0 or total < MIN_ITEMS_FOR_SHARE_GUARD:
        return
    if deletes / total > max_share or deletes == total:
        raise MassDeleteRefused(plan.target, deletes, total, max_share)


def deletion_hold(
    plan: Plan,
    recorded: Mapping[str, Recorded],
    *,
    max_share: float,
    max_items: int,
    loaded: frozenset[str] | None = None,
    intended: frozenset[str] = frozenset(),
) -> str | None:
    """Why the plan's deletions must wait for a person's confirmation (French), or None.

    Deletions of ``intended`` sessions (cancelled ones) never wait. The others wait when they
    are a surprising share of the target, or ``max_items`` or more, or when a session that is no
    longer in the configuration (``loaded``: the loaded sessions; its file was removed) would
    leave a target that holds other sessions too: a folder that failed to mount, a file moved by
    mistake or a wrong rename must never empty calendars without someone saying so.
    """
    deletes = [
        op
        for op in plan.operations
        if op.action == "delete"
        and op.recorded is not None
        and op.recorded.session_id not in intended
    ]
    if not deletes:
        return None
    total = len(recorded)
    if total >= MIN_ITEMS_FOR_SHARE_GUARD and (
        len(deletes) / total > max_share or len(deletes) == total
    ):
        return f"{len(deletes)} suppressions sur {total} éléments (plus de {max_share:.0%})"
    if loaded is not None and len({r.session_id for r in recorded.values()}) > 1:
        gone = sorted({op.recorded.session_id for op in deletes if op.recorded} - loaded)
        if gone:
            names = ", ".join(f"« {s} »" for s in gone[:3]) + (" …" if len(gone) > 3 else "")
            return (
                f"{len(deletes)} suppression(s) : la session {names} n'est plus dans la "
                "configuration (fichier retiré ?) et disparaîtrait de cet agenda"
            )
    if len(deletes) >= max_items:
        return f"{len(deletes)} suppressions d'un coup (seuil : {max_items})"
    return None


def without_deletes(plan: Plan) -> Plan:
    """The plan minus its deletions (the rest goes on while they wait)."""
    kept = tuple(op for op in plan.operations if op.action != "delete")
    return Plan(plan.target, kept, plan.kept + plan.count("delete"), plan.protected)


def deletes_fingerprint(plan: Plan) -> str:
    """Names one set of deletions, so that a confirmation applies to exactly that set."""
    uids = sorted(op.uid for op in plan.operations if op.action == "delete")
    return hashlib.sha256("\n".join(uids).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class RemoteChanges:
    """What a target reported since the last sync, as the reconciler needs it."""

    by_uid: dict[str, str | None]
    """New remote ETag by UID, or None when the item was deleted remotely."""
    adopt: dict[str, str]
    """ETags to record without writing (the server gave none when the item was written)."""


def remote_changes(
    present: Mapping[str, str | None],
    deleted: Iterable[str],
    full: bool,
    recorded: Mapping[str, Recorded],
) -> RemoteChanges:
    """Translate a target's report (hrefs -> ETags, deleted hrefs; ``full``: a complete
    listing, where absence means deletion) into changes by UID.

    Items the store does not know are never looked at: they are not ours. An ETag the store
    lacks (the server sent none on PUT) is adopted, not treated as a remote edit.
    """
    by_href = {r.href: r for r in recorded.values()}
    found: dict[str, str | None] = {}
    adopt: dict[str, str] = {}
    for href, etag in present.items():
        record = by_href.get(href)
        if record is None or etag == record.etag:
            continue
        if record.etag is None and etag is not None:
            adopt[record.uid] = etag
        else:
            found[record.uid] = etag
    for href in deleted:
        if href in by_href:
            found[by_href[href].uid] = None
    if full:
        for record in recorded.values():
            if record.href not in present:
                found[record.uid] = None
    return RemoteChanges(found, adopt)


def protected_sessions(
    broken: Iterable[str], structure_broken: bool, known: Iterable[str]
) -> frozenset[str]:
    """Sessions whose items and invitations must not be touched.

    ``broken``: sessions whose file exists but failed to load (by file name, by the id read
    inside, or by the id remembered for an unreadable file). When the configuration itself could
    not be read (``structure_broken``), every ``known`` session (with recorded items or
    invitations) is protected: its absence proves nothing.
    """
    protected = set(broken)
    if structure_broken:
        protected |= set(known)
    return frozenset(protected)
