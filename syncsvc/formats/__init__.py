"""formats/ — spell. Pure values -> bytes or text: iCalendar, Google event JSON, mail messages
(and their templates), the timeline SVG, the Prometheus exposition, content hashes.

Nothing here decides what to say (that is :mod:`syncsvc.core`) or where it goes. Imports only
from :mod:`syncsvc.core` and :mod:`syncsvc.errors`.
"""
