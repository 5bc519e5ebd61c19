"""The long-lived :class:`~syncsvc.app.desired.Renderer` keeps hashes, not entries.

The daemon keeps one renderer for every item of every target (some 21,000 at 1,000 sessions
with 20 feeds); an entry's description weighs some 5 kB. The renderer keeps, by the inputs of
each milestone, the items' UIDs and content hashes alone: what it holds at rest is looked at
structurally (every object reachable from it), never timed. An item it gives from what it
kept renders its entry again when the entry is read (writing the item): that entry is the one
a fresh rendering gives, byte for byte in every format.
"""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, ModuleType

from syncsvc.app.desired import Renderer
from syncsvc.core.entries import Entry
from syncsvc.core.planner import Planning, plan_sessions
from syncsvc.core.reconcile import Desired
from syncsvc.formats.fingerprint import content_hash
from syncsvc.formats.google_event import event_resource
from syncsvc.formats.graph_event import event_body
from syncsvc.formats.ical import item_bytes, resource_bytes
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import TargetSettings, load_settings

CONFIG = Path(__file__).resolve().parents[2] / "config"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def example() -> tuple[tuple[TargetSettings, ...], Planning]:
    """The example's targets (events, tasks, grouped deadlines, a juror) and its plan."""
    config = load_config(CONFIG)
    assert not config.problems
    planning = plan_sessions(config, {}, date(2026, 12, 1))
    assert planning.planned
    assert planning.centre_milestones
    return load_settings(CONFIG).targets, planning


def render(renderer: Renderer, target: TargetSettings, planning: Planning) -> dict[str, Desired]:
    failed: dict[str, str] = {}
    url = "https://x.example/"
    desired = renderer.desired(target, planning.planned, url, failed, planning.centre_milestones)
    assert not failed
    return desired


def reachable(root: object) -> list[object]:
    """Every object reachable from ``root``'s state (classes, modules and functions are code,
    not state: not followed)."""
    seen: set[int] = set()
    found: list[object] = []
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(
            obj, type | ModuleType | FunctionType | BuiltinFunctionType
        ):
            continue
        seen.add(id(obj))
        found.append(obj)
        todo.extend(gc.get_referents(obj))
    return found


def test_the_renderer_keeps_no_entry_and_no_description_at_rest() -> None:
    targets, planning = example()
    renderer = Renderer()
    descriptions: set[str] = set()
    hashes: set[str] = set()
    items = 0
    for target in targets:
        desired = render(renderer, target, planning)
        items += len(desired)
        descriptions |= {want.entry.description for want in desired.values()}
        hashes |= {want.content_hash for want in desired.values()}
        del desired
    assert items > 100
    assert len(descriptions) > 50
    kept = reachable(renderer)
    assert not [obj for obj in kept if isinstance(obj, Entry)]
    texts = {obj for obj in kept if isinstance(obj, str)}
    assert not descriptions & texts
    assert hashes <= texts  # what decides is kept: a no-op pass renders nothing


def test_an_item_given_from_what_was_kept_renders_the_same_entry_and_bytes() -> None:
    targets, planning = example()
    renderer = Renderer()
    for target in targets:
        first = render(renderer, target, planning)
        again = render(renderer, target, planning)  # every item a hit
        fresh = render(Renderer(), target, planning)
        assert first.keys() == again.keys() == fresh.keys()
        for uid, want in again.items():
            assert not isinstance(want.source, Entry)  # nothing kept: rendered on demand
            entry, expected = want.entry, fresh[uid].entry
            assert entry == expected == first[uid].entry
            assert (want.session_id, want.milestone_id) == (
                fresh[uid].session_id,
                fresh[uid].milestone_id,
            )
            assert want.content_hash == content_hash(entry) == fresh[uid].content_hash
            assert item_bytes(entry, NOW, 3) == item_bytes(expected, NOW, 3)
            assert resource_bytes(entry, NOW, 3) == resource_bytes(expected, NOW, 3)
            assert event_body(entry) == event_body(expected)
            digest = want.content_hash
            assert event_resource(entry, digest, 3) == event_resource(expected, digest, 3)
