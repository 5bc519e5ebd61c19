"""syncsvc: calendar and notification sync for Titre Professionnel exam sessions.

Data flows one way: configuration files (``inputs``) -> model and plan (``core``) -> calendar
entries, iCalendar, mails (``core``, ``formats``) -> reconcile (``core``) -> adapters
(``calendars``, ``mailer``) -> store (``state``), tied together by use cases (``app``) and
faced by people through ``web``, ``cli`` and ``daemon``. Each folder is a room named by its
verb; a room imports only from the rooms below it (the import-linter contracts in
``pyproject.toml`` hold this; see README « Architecture »).
"""

__version__ = "0.1.0"

import sys as _sys

# httpx imports its own command-line client (click, pygments, rich) when they are installed,
# as they are here (uvicorn needs click, rich needs pygments): some 50–90 ms of every process that
# talks HTTP, for a client syncsvc never runs. httpx falls back to a stub when that import
# fails; marking the module absent makes it fail (tests/test_startup.py checks both).
_sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
