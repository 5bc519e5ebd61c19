"""What "now" means (pure): time is an input, never read from the clock in the core.

``Now`` is what a person gives with ``--now`` (or what the daemon's clock gives), with one
meaning everywhere:

- a ``date``: that day, local to each centre (its first instant, 00:00 in the centre's zone);
- an aware ``datetime``: that instant, wherever the centre is;
- a naive ``datetime``: that wall-clock time in each centre's own zone (``2027-01-20T09:00``
  is 09:00 in Paris for a Paris centre and 09:00 in Saint-Denis for a Réunion centre).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

Now = date | datetime
Clock = Callable[[], datetime]
"""The service's clock: an aware instant each call (the wall clock, or one a test drives)."""


def local_moment(now: Now, tz: ZoneInfo) -> datetime:
    """The instant ``now`` stands for in a centre of zone ``tz`` (aware)."""
    if isinstance(now, datetime):
        return now.replace(tzinfo=tz) if now.tzinfo is None else now
    return datetime.combine(now, time(0), tz)


def local_today(now: Now, tz: ZoneInfo) -> date:
    """The centre's local day at ``now``."""
    if isinstance(now, datetime):
        return now.date() if now.tzinfo is None else now.astimezone(tz).date()
    return now


def instant(now: Now) -> datetime:
    """One aware instant for the service's own records (store timestamps, mail headers): an
    instant as is, a date or a wall-clock time read in UTC."""
    return local_moment(now, ZoneInfo("UTC")).astimezone(UTC)
