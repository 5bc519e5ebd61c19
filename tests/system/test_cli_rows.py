"""A plan row's JSON text, built from pieces, is exactly the encoded row (``_json_row``).

``plan --format json|jsonl`` writes each milestone row from pre-encoded pieces (the rule's
parts once per rule); the row as a dict stays the definition. Every row of the example
configuration, at several dates (pending, due soon, overdue, done, cancelled, to redo), with
summaries that need escaping, is compared with ``json.dumps(row, ensure_ascii=False)``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from syncsvc.cli.show import _json_row, _RowText, _SourceRefs, row_status
from syncsvc.core.planner import plan_sessions
from syncsvc.inputs.loader import load_config
from tests.system.test_cli import EXAMPLE

SUMMARIES = ["", 'J-92 · "DTE" — \\St-André\\', "tab\there\nline\x01", "é ✓ ⚠ ↻ 𝄞", "\u2028"]


@pytest.mark.parametrize("today", [date(2026, 11, 23), date(2027, 4, 1), date(2028, 1, 1)])
def test_every_row_text_is_the_encoded_row(today: date) -> None:
    config = load_config(EXAMPLE)
    planning = plan_sessions(config, {}, today)
    refs = _SourceRefs()
    text = _RowText(json.JSONEncoder(ensure_ascii=False).encode, refs)
    statuses = set()
    compared = 0
    for session, _centre, milestones in planning.planned:
        start = text.session_part(session)
        variants = [
            variant
            for m in milestones
            for variant in (
                m,
                replace(m, redo_of=date(2026, 10, 1), done_on=None),  # to redo
                replace(m, status="cancelled"),
            )
        ]
        for milestone in variants:
            statuses.add(row_status(milestone))
            for summary in SUMMARIES:
                expected = json.dumps(
                    _json_row(session, milestone, summary, refs), ensure_ascii=False
                )
                assert text(start, milestone, summary) == expected
                compared += 1
    assert compared > 100
    assert {"pending", "done", "redo", "cancelled"} <= statuses
