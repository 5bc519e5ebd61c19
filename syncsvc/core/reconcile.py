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
  they are, neither updated nor deleted.

:func:`diff` decides; it does no I/O. The service applies the plan and records each result
right after the remote call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["create", "update", "delete"]
MIN_ITEMS_FOR_SHARE_GUARD = 4
"""Below this many recorded items, the share guard does not apply (deleting 1 of 2 is normal)."""


@dataclass(frozen=True, slots=True)
class Desired:
    uid: str
    session_id: str
    milestone_id: str
    content_hash: str
    component: Any  # icalendar Component (kept opaque: this module does not render)


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


class MassDeleteRefused(Exception):
    """The plan would delete a surprising share of a target's items; ``--force`` overrides."""

    def __init__(self, target: str, deletes: int, total: int, max_share: float) -> None:
        self.target, self.deletes, self.total, self.max_share = target, deletes, total, max_share
        super().__init__(
            f"cible « {target} » : {deletes} suppressions sur {total} éléments "
            f"(plus de {max_share:.0%}) refusées par sécurité ; vérifier le dossier des "
            "sessions, puis relancer avec --force si c'est voulu"
        )


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
        if have is None:
            assert want is not None
            ops.append(Operation("create", uid, "nouveau", desired=want, sequence=0))
            continue
        if have.session_id in protected_sessions:
            kept += 1
            protected.append(uid)
            continue
        if want is None:
            ops.append(Operation("delete", uid, "jalon ou session supprimé", recorded=have))
            continue
        changed = want.content_hash != have.content_hash
        if uid in remote and remote[uid] is None:
            ops.append(
                Operation(
                    "create",
                    uid,
                    "supprimé à distance : restauré",
                    desired=want,
                    recorded=have,
                    sequence=have.sequence + 1,
                )
            )
        elif changed:
            ops.append(
                Operation(
                    "update",
                    uid,
                    "modifié",
                    desired=want,
                    recorded=have,
                    sequence=have.sequence + 1,
                )
            )
        elif uid in remote and remote[uid] != have.etag:
            ops.append(
                Operation(
                    "update",
                    uid,
                    "modifié à distance : rétabli",
                    desired=want,
                    recorded=have,
                    sequence=have.sequence + 1,
                )
            )
        else:
            kept += 1
    plan = Plan(target, tuple(ops), kept, tuple(protected))
    _guard(plan, len(recorded), max_delete_share, force)
    return plan


def _guard(plan: Plan, total: int, max_share: float, force: bool) -> None:
    deletes = plan.count("delete")
    if force or deletes == 0 or total < MIN_ITEMS_FOR_SHARE_GUARD:
        return
    if deletes / total > max_share or deletes == total:
        raise MassDeleteRefused(plan.target, deletes, total, max_share)
