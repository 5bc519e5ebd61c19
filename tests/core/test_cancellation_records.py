"""The trace of a cancellation lifted (« Annulée le … puis rétablie le … ») and its warning: a
restore from the dashboard says who and why, and is not warned about (it was deliberate and
recorded); a restore by editing the file is.

The factory session runs from Monday 15 to Friday 19 March 2027 in a metropolitan centre."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from syncsvc.core.cancellations import CancellationRecord, history_lines, lifted_warning
from syncsvc.inputs.loader import load_config
from tests.harness.factories import SESSION, write_config

PARIS = ZoneInfo("Europe/Paris")
SEEN = datetime(2027, 1, 11, 6, 0, tzinfo=UTC)
BACK = datetime(2027, 1, 14, 23, 30, tzinfo=UTC)  # Friday 15 January in Paris
BY_HAND = CancellationRecord("sa-test", SEEN, date(2027, 1, 11), "Jury incomplet", BACK)
FROM_DASHBOARD = CancellationRecord(
    "sa-test",
    SEEN,
    date(2027, 1, 11),
    "Jury incomplet",
    BACK,
    restored_by="Nathalie Técher",
    restored_note="Jury complété",
)


def test_the_trace_says_who_restored_and_why() -> None:
    assert history_lines([BY_HAND, FROM_DASHBOARD], PARIS) == [
        "Annulée le 11/01/2027 (Jury incomplet) puis rétablie le 15/01/2027",
        "Annulée le 11/01/2027 (Jury incomplet) puis rétablie le 15/01/2027 par Nathalie "
        "Técher : Jury complété",
    ]


def test_a_restore_from_the_dashboard_is_not_warned_a_hand_one_is(tmp_path: Path) -> None:
    (session,) = load_config(write_config(tmp_path, [SESSION])).sessions.values()
    today = date(2027, 1, 20)
    file = "sessions/sa-test.yaml"
    assert lifted_warning(session, file, [FROM_DASHBOARD], today, PARIS) is None
    warned = lifted_warning(session, file, [BY_HAND], today, PARIS)
    assert warned is not None
    assert warned.code == "cancellation_lifted"
    # the last record counts: a hand restore after a dashboard one is warned
    assert lifted_warning(session, file, [FROM_DASHBOARD, BY_HAND], today, PARIS) is not None
