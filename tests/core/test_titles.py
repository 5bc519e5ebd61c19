"""Issue 11, « Titles a month view can scan »: « J-92 · CERES + DTE — SA St-André »; the
milestones of one session due the same day in one event, under its first milestone's UID."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from syncsvc.app.desired import Renderer
from syncsvc.core.config import Config
from syncsvc.core.entries import entry_for
from syncsvc.core.planner import plan_sessions
from syncsvc.core.reconcile import Recorded, diff
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import TargetSettings
from tests.harness.factories import write_config

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 14, 8, 0, tzinfo=UTC)
SA = "sa-2027-03-st-andre"
COORDINATION = TargetSettings(
    name="c", kind="feed", audience="coordinators:afpar-st-andre", group_same_day=True
)


def example_files() -> tuple[dict[str, Any], dict[str, Any]]:
    centres = yaml.safe_load((ROOT / "config" / "centres.yaml").read_text(encoding="utf-8"))
    session = yaml.safe_load(
        (ROOT / "config" / "sessions" / f"{SA}.yaml").read_text(encoding="utf-8")
    )
    return centres["afpar-st-andre"], session


def st_andre(tmp_path: Path, rules: dict[str, Any] | None = None) -> Config:
    """The example's SA session at St-André, the centre's rules as given."""
    centre, session = example_files()
    centre = {**copy.deepcopy(centre), "id": "afpar-st-andre"}
    if rules is not None:
        centre["rules"] = rules
    config = load_config(write_config(tmp_path, [session], centre))
    assert config.ok, config.problems
    return config


def summaries(config: Config, target: TargetSettings = COORDINATION) -> dict[str, str]:
    planning = plan_sessions(config, {}, NOW)
    desired = Renderer().desired(target, planning.planned)
    return {uid: d.entry.summary for uid, d in desired.items()}


UD_EARLIER = {"overrides": {"ud_session_declaration": {"offset": "-95d"}}}
"""A centre that tells its UD three days before the 92 days (a regulatory rule may gain margin)."""


def test_the_issue_s_example_title(tmp_path: Path) -> None:
    found = summaries(st_andre(tmp_path / "a", UD_EARLIER))
    assert found[f"{SA}.ceres_session_create@syncsvc"] == "⚠ J-92 · CERES + DTE — SA St-André"
    assert f"{SA}.dte_order@syncsvc" not in found, "in the event of its day"
    assert found[f"{SA}.ud_session_declaration@syncsvc"] == "⚠ J-95 · Déclaration UD — SA St-André"
    assert found[f"{SA}.exam_session@syncsvc"] == "Session d'examen (jour 1/5) — SA St-André"


def test_titles_one_per_milestone_without_grouping(tmp_path: Path) -> None:
    plain = COORDINATION.model_copy(update={"group_same_day": False})
    found = summaries(st_andre(tmp_path), plain)
    assert found[f"{SA}.ceres_session_create@syncsvc"] == "✓ J-92 · CERES — SA St-André"
    assert found[f"{SA}.dte_order@syncsvc"] == "⚠ J-92 · DTE — SA St-André"
    assert found[f"{SA}.pv_transmission@syncsvc"] == "Fin+5 · PV à l'UD — SA St-André"
    assert (
        found[f"{SA}.agrement_check@syncsvc"]
        == "✓ J-8 mois · Échéance titre et agrément — SA St-André"
    )
    assert (
        found[f"{SA}.archive_retention_end@syncsvc"]
        == "Fin+60 mois · Fin de conservation — SA St-André"
    )
    for summary in found.values():
        assert len(summary) <= 70, summary


def test_every_example_title_is_short_and_names_its_session_and_site() -> None:
    config = load_config(ROOT / "config")
    names = {
        "sa-2027-03-st-andre": "SA St-André",
        "ccp-ac-2027-05-st-andre": "CCP AC St-André",
        "ctrmp-2027-02-venissieux": "CTRMP Vénissieux",
        "dwwm-2027-06-venissieux": "DWWM Vénissieux",
        "tee-2027-04-strasbourg": "TEEE Strasbourg",
    }
    for session, centre, milestones in plan_sessions(config, {}, NOW).planned:
        for m in milestones:
            summary = entry_for(session, centre, m).summary
            assert summary.endswith(f" — {names[session.id]}"), summary
            assert len(summary) <= 70, summary


def test_a_group_lists_its_milestones_and_tells_each_status(tmp_path: Path) -> None:
    config = st_andre(tmp_path)
    planning = plan_sessions(config, {}, NOW)
    desired = Renderer().desired(COORDINATION, planning.planned)
    group = desired[f"{SA}.ceres_session_create@syncsvc"]
    assert group.milestone_id == "ceres_session_create"
    entry = group.entry
    assert entry.summary == "⚠ J-92 · CERES + DTE + Déclaration UD — SA St-André"
    assert entry.description.startswith(
        "Échéances de ce jour :\n"
        "- Créer la session dans CERES (fait)\n"
        "- Commander le pli d'examen (DTE) (en retard)\n"
        "- Transmettre à la DEETS de La Réunion dates, lieu, nombre de candidats, responsable "
        "de session (en retard)\n"
    )
    assert entry.status == "overdue"
    assert entry.alarm_days == 14
    assert entry.description.count("Sources :") == 3
    assert not entry.task


def test_grouping_keeps_the_leader_s_uid_and_a_milestone_that_leaves_gets_its_own(
    tmp_path: Path,
) -> None:
    """Stable UIDs: the event of a day keeps its first milestone's UID; the reconciler updates
    it and creates the item of the milestone that left — no deletion, no duplicate."""
    before = Renderer().desired(
        COORDINATION, plan_sessions(st_andre(tmp_path / "a"), {}, NOW).planned
    )
    after = Renderer().desired(
        COORDINATION, plan_sessions(st_andre(tmp_path / "b", UD_EARLIER), {}, NOW).planned
    )
    leader = f"{SA}.ceres_session_create@syncsvc"
    ud = f"{SA}.ud_session_declaration@syncsvc"
    assert set(after) - set(before) == {ud}
    assert set(before) - set(after) == set()
    recorded = {
        uid: Recorded(uid, d.session_id, f"/{uid}", None, d.content_hash, 0)
        for uid, d in before.items()
    }
    plan = diff("c", after, recorded)
    assert sorted((op.action, op.uid) for op in plan.operations) == [
        ("create", ud),
        ("update", leader),
    ]
    again = Renderer().desired(
        COORDINATION, plan_sessions(st_andre(tmp_path / "c", UD_EARLIER), {}, NOW).planned
    )
    assert {u: d.content_hash for u, d in again.items()} == {
        u: d.content_hash for u, d in after.items()
    }, "the same plan gives the same items"


def test_tasks_and_the_exam_are_never_grouped(tmp_path: Path) -> None:
    tasks = COORDINATION.model_copy(update={"items": "tasks"})
    found = summaries(st_andre(tmp_path), tasks)
    assert f"{SA}.dte_order@syncsvc" in found
    assert found[f"{SA}.ceres_session_create@syncsvc"] == "✓ J-92 · CERES — SA St-André"
