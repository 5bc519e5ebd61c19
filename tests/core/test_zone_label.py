"""« heure de La Réunion (UTC+4) »: the zone a time is shown in, named for a reader elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from syncsvc.core.labels import centre_zones_note, same_zone, zone_label

WINTER = datetime(2027, 2, 7, 22, 30, tzinfo=UTC)
SUMMER = datetime(2027, 7, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "at", "label"),
    [
        ("Indian/Reunion", WINTER, "heure de La Réunion (UTC+4)"),
        ("Europe/Paris", WINTER, "heure de métropole"),
        ("Europe/Paris", SUMMER, "heure de métropole"),  # summer and winter dates: no offset
        ("America/New_York", SUMMER, "heure du fuseau America/New_York"),
        ("America/Cayenne", WINTER, "heure de Guyane (UTC-3)"),
        ("Indian/Mayotte", WINTER, "heure de Mayotte (UTC+3)"),
        ("Asia/Kolkata", WINTER, "heure du fuseau Asia/Kolkata (UTC+5:30)"),
        ("UTC", WINTER, "heure du fuseau UTC (UTC)"),
    ],
)
def test_a_zone_is_named_by_its_place_and_its_offset_when_it_keeps_one_all_year(
    zone: str, at: datetime, label: str
) -> None:
    assert zone_label(ZoneInfo(zone), at) == label


def test_zones_showing_the_same_wall_time_need_no_word() -> None:
    paris, brussels, reunion = (
        ZoneInfo(z) for z in ("Europe/Paris", "Europe/Brussels", "Indian/Reunion")
    )
    assert same_zone(paris, brussels, WINTER)
    assert not same_zone(paris, reunion, WINTER)


def test_the_note_names_each_centre_elsewhere_once() -> None:
    assert centre_zones_note([]) == ""
    assert centre_zones_note(
        [
            ("AFPA Strasbourg", "heure de métropole"),
            ("GRETA Lyon", "heure de métropole"),
        ]
    ) == (
        "Dates et heures de chaque session à l'heure de son centre — AFPA Strasbourg : heure de "
        "métropole ; GRETA Lyon : heure de métropole."
    )
