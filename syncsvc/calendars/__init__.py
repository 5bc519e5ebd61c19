"""calendars/ — talk to calendar servers: one adapter per family behind the
:class:`~syncsvc.calendars.base.Target` protocol (CalDAV, Google, Microsoft Graph). Each
translates its protocol's answers into :mod:`syncsvc.errors` in one place.
"""
