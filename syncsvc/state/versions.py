"""The schema versions that readers without SQLAlchemy need (:mod:`syncsvc.state.bare`): the
steps of :data:`syncsvc.state.schema.MIGRATIONS` from which a table or column exists."""

from __future__ import annotations

CANCELLATIONS_FROM = 17
"""The schema version from which the store keeps the cancellations."""
RESTORES_FROM = 18
"""The schema version from which a cancellation lifted from the dashboard says who and why."""
