"""A session's milestones -> a timeline chart as an SVG string (pure).

One row per milestone, in the order given; x is the date. Each row has a marker at its due day
(a bar from the due day to the last day for a multi-day item such as the exam session), filled
by status: overdue red, due soon amber, done green, pending grey. A done milestone also shows the
day it was done (a green tick, linked to its due day when they differ). A vertical dashed line
marks today. Milestones due after ``horizon`` (the archive deadline five years on, say) would
squash every other row into a few pixels: they are drawn at the right edge with their date.

The chart is decorative for screen readers (``role="img"`` with a title and a description): the
checklist table next to it carries the same facts as text.

Vocabulary of the markup (tests and CSS rely on it): ``<g class="milestone" data-milestone=ID
data-status=STATUS>`` per row, ``<line class="today">`` for today, ``class="done-mark"`` for a
done day, ``class="beyond"`` for a milestone beyond the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from syncsvc.core.labels import MONTHS_SHORT as MONTHS
from syncsvc.core.labels import STATUS_LABELS, capitalised, fr_date
from syncsvc.core.model import Milestone, Status

COLOURS: dict[Status, str] = {
    "overdue": "#c62828",
    "due_soon": "#e69500",
    "done": "#2e7d32",
    "pending": "#8a8f98",
    "cancelled": "#5f6368",
}
LEGEND_ORDER: tuple[Status, ...] = ("overdue", "due_soon", "done", "pending")
TODAY_COLOUR = "#1a3a8f"


@dataclass(frozen=True, slots=True)
class Layout:
    width: int = 980
    label_width: int = 330
    row_height: int = 26
    top: int = 46
    """Room for the month axis and today's label."""
    bottom: int = 44
    """Room for the legend."""
    right: int = 70
    """Room for the date labels of the last markers."""
    char_width: float = 7.0
    """Average width of a 12 px label character, to cut long titles."""
    min_tick_gap: int = 64


def _short(day: date) -> str:
    return f"{day:%d/%m/%y}"


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _cut(text: str, width: float, char_width: float) -> str:
    room = max(4, int(width / char_width))
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def _last_day(m: Milestone) -> date:
    return m.ends_on if m.ends_on is not None and m.ends_on > m.due else m.due


def _months_between(start: date, end: date, step: int) -> list[date]:
    ticks: list[date] = []
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        tick = date(year, month, 1)
        if tick > end:
            return ticks
        if (month - 1) % step == 0:
            ticks.append(tick)


@dataclass(frozen=True, slots=True)
class _Scale:
    """Days -> x positions over the plot area."""

    first: date
    last: date
    left: int
    right: int

    @property
    def span(self) -> int:
        return max(1, (self.last - self.first).days)

    @property
    def width(self) -> int:
        return self.right - self.left

    def x(self, day: date) -> float:
        clamped = min(max(day, self.first), self.last)
        return self.left + (clamped - self.first).days / self.span * self.width


def timeline_svg(
    milestones: Sequence[Milestone],
    today: date,
    *,
    horizon: date | None = None,
    title: str = "Chronologie des jalons",
    layout: Layout = Layout(),
    id_prefix: str = "tl",
) -> str:
    """The SVG chart (a complete ``<svg>`` element, ready to inline in HTML)."""
    lay = layout
    inside = [m for m in milestones if horizon is None or m.due <= horizon]
    days = [today]
    for m in inside:
        days += [m.due, _last_day(m)]
        if m.done_on is not None and (horizon is None or m.done_on <= horizon):
            days.append(m.done_on)
    scale = _Scale(
        min(days) - timedelta(days=7),
        max(days) + timedelta(days=7),
        lay.label_width,
        lay.width - lay.right,
    )
    axis_bottom = lay.top + lay.row_height * max(1, len(milestones))
    height = axis_bottom + lay.bottom
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    counts = {s: sum(1 for m in milestones if m.status == s) for s in LEGEND_ORDER}
    summary = ", ".join(f"{STATUS_LABELS[s]} : {counts[s]}" for s in LEGEND_ORDER)
    cancelled = sum(1 for m in milestones if m.status == "cancelled")
    if cancelled:  # a cancelled session: every milestone is
        summary = f"session annulée, {STATUS_LABELS['cancelled']} : {cancelled}"
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {lay.width} {height}" width="{lay.width}" height="{height}" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="system-ui, sans-serif" '
        f'font-size="12">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{len(milestones)} jalons du '
        f"{fr_date(scale.first + timedelta(days=7))} au {fr_date(scale.last - timedelta(days=7))}"
        f" ; aujourd'hui {fr_date(today)} ; {escape(summary)}. Le détail est dans le tableau "
        "des jalons.</desc>",
        *_axis(scale, lay, axis_bottom),
    ]
    for index, m in enumerate(milestones):
        out += _row(m, index, scale, lay, horizon)
    out += _today(today, scale, lay, axis_bottom)
    out += _legend(lay, axis_bottom)
    out.append("</svg>")
    return "\n".join(out)


def _axis(scale: _Scale, lay: Layout, axis_bottom: int) -> list[str]:
    """The month ticks, spaced so that labels never overlap."""
    step = 1
    while step < 12 and scale.width * 30 * step / scale.span < lay.min_tick_gap:
        step = {1: 2, 2: 3, 3: 6, 6: 12}[step]
    if scale.width * 30 * step / scale.span < lay.min_tick_gap:
        step = 12 * max(1, round(lay.min_tick_gap * scale.span / (scale.width * 365)))
    out = ['<g class="axis" fill="#555">']
    for tick in _months_between(scale.first, scale.last, step):
        tx = _n(scale.x(tick))
        label = (
            f"{MONTHS[tick.month - 1]} {tick.year}"
            if tick.month == 1 or step >= 12
            else (MONTHS[tick.month - 1])
        )
        out.append(
            f'<line x1="{tx}" y1="{lay.top - 6}" x2="{tx}" y2="{axis_bottom}" '
            'stroke="#dde1e6" stroke-width="1"/>'
            f'<text x="{tx}" y="{lay.top - 10}" text-anchor="middle" font-size="11">'
            f"{escape(label)}</text>"
        )
    out.append("</g>")
    return out


def _tooltip(m: Milestone) -> str:
    tooltip = f"{m.title} — échéance {fr_date(m.due)}"
    if _last_day(m) != m.due:
        tooltip += f" au {fr_date(_last_day(m))}"
    tooltip += f" — {STATUS_LABELS[m.status]}"
    if m.done_on is not None:
        tooltip += f" le {fr_date(m.done_on)}"
    return tooltip


def _row(m: Milestone, index: int, scale: _Scale, lay: Layout, horizon: date | None) -> list[str]:
    """One milestone: label, guide line, marker (or an arrow beyond the horizon), done mark."""
    top = lay.top + index * lay.row_height
    mid = top + lay.row_height / 2
    colour = COLOURS[m.status]
    label = _cut(m.title, lay.label_width - 16, lay.char_width)
    out = [
        f'<g class="milestone" data-milestone="{escape(m.id)}" data-status="{m.status}">'
        f"<title>{escape(_tooltip(m))}</title>"
    ]
    if index % 2 == 0:
        out.append(
            f'<rect x="0" y="{top}" width="{lay.width}" height="{lay.row_height}" fill="#f4f6f8"/>'
        )
    out.append(
        f'<text x="8" y="{_n(mid + 4)}" fill="#1b1f24">{escape(label)}</text>'
        f'<line x1="{scale.left}" y1="{_n(mid)}" x2="{scale.right}" y2="{_n(mid)}" '
        'stroke="#e3e6ea" stroke-width="1"/>'
    )
    if horizon is not None and m.due > horizon:
        tip = scale.right + 4
        out.append(
            f'<path class="beyond" d="M{tip - 10} {_n(mid - 6)} L{tip} {_n(mid)} '
            f'L{tip - 10} {_n(mid + 6)} Z" fill="{colour}"/>'
            f'<text x="{tip - 14}" y="{_n(mid + 4)}" text-anchor="end" font-size="11" '
            f'fill="#333">→ {fr_date(m.due)}</text>'
        )
        out.append("</g>")
        return out
    x_due, x_last = scale.x(m.due), scale.x(_last_day(m))
    if x_last - x_due >= 4:
        out.append(
            f'<rect class="marker" x="{_n(x_due)}" y="{_n(mid - 6)}" '
            f'width="{_n(x_last - x_due)}" height="12" rx="3" fill="{colour}"/>'
        )
    else:
        out.append(
            f'<circle class="marker" cx="{_n(x_due)}" cy="{_n(mid)}" r="6" fill="{colour}" '
            'stroke="#fff" stroke-width="1.5"/>'
        )
    note = _short(m.due)
    if m.done_on is not None:
        x_done = scale.x(m.done_on)
        if abs(x_done - x_due) > 1:
            out.append(
                f'<line x1="{_n(x_due)}" y1="{_n(mid)}" x2="{_n(x_done)}" y2="{_n(mid)}" '
                f'stroke="{COLOURS["done"]}" stroke-width="2" stroke-dasharray="3 2"/>'
            )
        out.append(
            f'<path class="done-mark" d="M{_n(x_done - 5)} {_n(mid - 1)} '
            f'l4 5 l7 -10" fill="none" stroke="{COLOURS["done"]}" stroke-width="2.5" '
            'stroke-linecap="round" stroke-linejoin="round"/>'
        )
        note = f"fait le {_short(m.done_on)}"
    right_edge = max(x_last, scale.x(m.done_on) if m.done_on else x_last)
    out.append(
        f'<text x="{_n(right_edge + 10)}" y="{_n(mid + 4)}" font-size="10.5" '
        f'fill="#444">{escape(note)}</text>'
    )
    out.append("</g>")
    return out


def _today(today: date, scale: _Scale, lay: Layout, axis_bottom: int) -> list[str]:
    tx = _n(scale.x(today))
    return [
        f'<line class="today" x1="{tx}" y1="{lay.top - 4}" x2="{tx}" y2="{axis_bottom}" '
        f'stroke="{TODAY_COLOUR}" stroke-width="2" stroke-dasharray="5 3"/>'
        f'<text x="{tx}" y="12" text-anchor="middle" font-size="11" font-weight="bold" '
        f'fill="{TODAY_COLOUR}">Aujourd\'hui {fr_date(today)}</text>'
    ]


def _legend(lay: Layout, axis_bottom: int) -> list[str]:
    ly = axis_bottom + 26
    lx = 8
    out = ['<g class="legend">']
    for status in LEGEND_ORDER:
        out.append(
            f'<circle cx="{lx + 6}" cy="{ly - 4}" r="6" fill="{COLOURS[status]}"/>'
            f'<text x="{lx + 16}" y="{ly}">{escape(capitalised(STATUS_LABELS[status]))}</text>'
        )
        lx += 30 + int(len(STATUS_LABELS[status]) * lay.char_width)
    out.append(
        f'<line x1="{lx}" y1="{ly - 10}" x2="{lx}" y2="{ly + 2}" stroke="{TODAY_COLOUR}" '
        'stroke-width="2" stroke-dasharray="5 3"/>'
        f'<text x="{lx + 8}" y="{ly}">Aujourd\'hui</text>'
    )
    out.append("</g>")
    return out
