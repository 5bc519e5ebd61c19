"""syncsvc: calendar and notification sync for Titre Professionnel exam sessions.

Data flows one way: configuration files (``inputs``) -> model and plan (``core``) -> calendar
entries, iCalendar, mails (``core``, ``formats``) -> reconcile (``core``) -> adapters
(``calendars``, ``mailer``) -> store (``state``), tied together by use cases (``app``) and
faced by people through ``web``, ``cli`` and ``daemon``. Each folder is a room named by its
verb; a room imports only from the rooms below it (the import-linter contracts in
``pyproject.toml`` hold this; see README « Architecture »).
"""

__version__ = "0.1.0"
