"""Calendar targets: adapters that perform a reconcile plan on a remote calendar.

Every target implements :class:`syncsvc.calendars.base.Target`; HTTP statuses become the errors
of :mod:`syncsvc.calendars.base` in one place per adapter.
"""
