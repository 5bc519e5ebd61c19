"""A session's past cancellations, as the store keeps them (pure).

Each time syncsvc reads the session files (a notify pass, the dashboard), it notes what it sees
(:func:`observe`): a session newly cancelled opens a record (the moment seen, the file's day and
reason); a session whose ``cancelled:`` is gone closes it (``restored_at``). Removing
``cancelled:`` makes the session active again as before (items restored, a new invitation to
the jury), but no longer without a trace: the session's page says « Annulée le … puis rétablie
le … » (:func:`history_lines`) and ``validate`` and the dashboard warn while the session is to
come (:func:`lifted_warning`), so that a coordinator sees it was not an accident. « Rétablir la
session » on the dashboard closes the record itself, with who and why (« … par <nom> :
<motif> »): it is not warned about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from syncsvc.core.labels import fr_date
from syncsvc.core.mailboxes import ConfigWarning
from syncsvc.core.model import Session

LIFTED_CODE = "cancellation_lifted"


@dataclass(frozen=True, slots=True)
class CancellationRecord:
    """One cancellation of one session, as syncsvc saw it."""

    session_id: str
    seen_at: datetime
    """When syncsvc first read the session's file cancelled."""
    on: date | None
    """The day written in the file (``cancelled: {on: …}``); None for ``cancelled: true``."""
    reason: str | None
    restored_at: datetime | None = None
    """When syncsvc first read the file without ``cancelled:`` again; None while cancelled."""
    restored_by: str | None = None
    """Who restored the session from the dashboard; None for a restore by editing the file."""
    restored_note: str | None = None
    """Why (the reason given on the dashboard)."""

    @property
    def deliberate(self) -> bool:
        """Restored from the dashboard (deliberate and recorded), not by editing the file."""
        return self.restored_by is not None


Seen = tuple[date | None, str | None] | None
"""What a session file says of its cancellation: (day, reason), or None when it is active."""


def seen(session: Session) -> Seen:
    cancelled = session.cancelled
    if cancelled is None:
        return None
    return (cancelled.on, cancelled.reason or None)


def _cancelled_on(record: CancellationRecord, tz: tzinfo) -> str:
    day = record.on or record.seen_at.astimezone(tz).date()
    reason = f" ({record.reason})" if record.reason else ""
    return f"Annulée le {fr_date(day)}{reason}"


def restored_text(day: date, by: str | None = None, note: str | None = None) -> str:
    """« puis rétablie le 12/01/2027 par <nom> : <motif> » (who and why when recorded)."""
    text = f"puis rétablie le {fr_date(day)}"
    if by is not None:
        text += f" par {by}"
        if note:
            text += f" : {note}"
    return text


def history_lines(records: Sequence[CancellationRecord], tz: tzinfo) -> list[str]:
    """« Annulée le 11/01/2027 (motif) puis rétablie le 12/01/2027 », oldest first; the day of
    the cancellation is the file's, else the day syncsvc saw it (in ``tz``, the centre's)."""
    lines = []
    for record in records:
        line = _cancelled_on(record, tz)
        if record.restored_at is not None:
            day = record.restored_at.astimezone(tz).date()
            line += f" {restored_text(day, record.restored_by, record.restored_note)}"
        lines.append(line)
    return lines


def lifted_warning(
    session: Session,
    file: str,
    records: Sequence[CancellationRecord],
    today: date,
    tz: tzinfo,
) -> ConfigWarning | None:
    """The warning for ``session`` active again after a cancellation (its last record), while
    it is to come; None otherwise, and None for a restore made from the dashboard (deliberate,
    with who and why in the trace)."""
    if session.cancelled is not None or not records or session.end < today:
        return None
    last = records[-1]
    if last.deliberate:
        return None
    when = _cancelled_on(last, tz).replace("Annulée", "la session a été annulée", 1)
    if last.restored_at is not None:
        again = restored_text(last.restored_at.astimezone(tz).date())
        effect = "ses éléments d'agenda ne sont plus annulés et le jury a reçu (ou reçoit)"
    else:
        again = "et son fichier ne le dit plus"
        effect = "au prochain passage, ses éléments d'agenda sont rétablis et le jury reçoit"
    message = (
        f"{when} {again} (« cancelled: » retiré) : {effect} une nouvelle invitation ; si ce "
        "n'est pas voulu, remettre « cancelled: » dans le fichier"
    )
    return ConfigWarning(file, "cancelled", message, LIFTED_CODE, session.centre)
