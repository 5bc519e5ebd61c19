"""The defaults of the settings that a sync with nothing to do reads without validating the
settings (see :mod:`syncsvc.app.unchanged`): one definition, used by the settings model too."""

from __future__ import annotations

from typing import Final

DEFAULT_STORE_URL: Final = "sqlite:///var/syncsvc.db"
LEASE_SECONDS: Final = 30.0
"""``[daemon] lease_seconds``."""
CALDAV_TIMEOUT: Final = 30.0
"""A CalDAV target's ``timeout``."""
