"""Calendar targets (CalDAV, Google Calendar, ICS feeds): adapters of the shell. Not built yet."""
