"""Pure parts of the dashboard: the SVG timeline, the checklist lines, the metrics text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from syncsvc.app.board import checklist
from syncsvc.core.planner import plan_session
from syncsvc.formats import prometheus as metrics
from syncsvc.formats.timeline import COLOURS, timeline_svg
from syncsvc.inputs.loader import load_ruleset
from tests.harness import factories

NS = "{http://www.w3.org/2000/svg}"
TODAY = date(2027, 1, 4)


def _svg(horizon: date | None = None) -> ET.Element:
    session = factories.session(done={"agrement_check": date(2026, 7, 1)})
    milestones = plan_session(session, factories.centre(), load_ruleset(), TODAY)
    return ET.fromstring(timeline_svg(milestones, TODAY, horizon=horizon))


def _x_of_today(svg: ET.Element) -> float:
    line = svg.find(f"{NS}line[@class='today']")
    assert line is not None
    assert line.get("x1") == line.get("x2")
    return float(line.get("x1", "nan"))


def test_one_row_per_milestone_coloured_by_status() -> None:
    session = factories.session()
    milestones = plan_session(session, factories.centre(), load_ruleset(), TODAY)
    svg = ET.fromstring(timeline_svg(milestones, TODAY))
    rows = svg.findall(f"{NS}g[@class='milestone']")
    assert [r.get("data-milestone") for r in rows] == [m.id for m in milestones]
    for row, m in zip(rows, milestones, strict=True):
        marker = row.find(f"{NS}*[@class='marker']")
        assert marker is not None
        assert marker.get("fill") == COLOURS[m.status]
        title = row.find(f"{NS}title")
        assert title is not None
        assert m.title in (title.text or "")
    assert svg.get("role") == "img"
    assert svg.find(f"{NS}title") is not None
    assert svg.find(f"{NS}desc") is not None


def test_today_line_sits_between_past_and_future_markers() -> None:
    svg = _svg()
    today = _x_of_today(svg)
    xs: dict[str, float] = {}
    for row in svg.findall(f"{NS}g[@class='milestone']"):
        marker = row.find(f"{NS}*[@class='marker']")
        assert marker is not None
        xs[row.get("data-milestone", "")] = float(marker.get("cx") or marker.get("x") or 0)
    assert xs["agrement_check"] < today < xs["exam_session"]


def test_done_day_is_marked() -> None:
    svg = _svg()
    row = svg.find(f"{NS}g[@data-milestone='agrement_check']")
    assert row is not None
    assert row.get("data-status") == "done"
    assert row.find(f"{NS}path[@class='done-mark']") is not None
    assert "fait le 01/07/26" in "".join(row.itertext())


def test_milestones_beyond_the_horizon_are_drawn_at_the_edge() -> None:
    svg = _svg(horizon=date(2027, 7, 1))
    row = svg.find(f"{NS}g[@data-milestone='archive_retention_end']")
    assert row is not None
    assert row.find(f"{NS}path[@class='beyond']") is not None
    assert "→ " in "".join(row.itertext())
    # The rest keeps the room: the exam session is well inside the plot.
    exam = svg.find(f"{NS}g[@data-milestone='exam_session']/{NS}*[@class='marker']")
    assert exam is not None
    assert float(exam.get("x") or exam.get("cx") or 0) < 0.9 * float(svg.get("width", "0"))


def test_text_is_escaped() -> None:
    svg = timeline_svg([], TODAY, title="<script>alert(1)</script> & co")
    assert "<script>" not in svg
    assert ET.fromstring(svg).find(f"{NS}title") is not None


def test_checklist_lines_of_the_seeds() -> None:
    rule = load_ruleset().rule("agrement_check")
    intro, items = checklist(rule.description)
    assert intro.startswith("Huit mois avant la session")
    assert items[0] == (
        "Vérifier que la date d'échéance du titre professionnel concerné est supérieure à 6 mois."
    )
    assert len(items) == 4
    every = [checklist(r.description)[1] for r in load_ruleset().rules]
    assert all(every), "every rule of the seeds has a checklist"


def test_metrics_text_escapes_labels_and_help() -> None:
    family = metrics.Family(
        "x_total",
        "counter",
        'aide\\ avec "guillemets"\net ligne',
        (metrics.Sample(2.5, {"target": 'a"b\\c\nd'}), metrics.Sample(float("inf"))),
    )
    assert metrics.exposition([family]).splitlines() == [
        '# HELP x_total aide\\\\ avec "guillemets"\\net ligne',
        "# TYPE x_total counter",
        'x_total{target="a\\"b\\\\c\\nd"} 2.5',
        "x_total +Inf",
    ]
