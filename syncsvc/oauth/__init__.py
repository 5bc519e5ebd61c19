"""OAuth2 access tokens, shared by the calendar adapters and the IMAP inbox.

- :mod:`syncsvc.oauth.microsoft`: Microsoft Entra client credentials (MSAL), for Microsoft Graph
  and for IMAP on Exchange Online;
- :mod:`syncsvc.oauth.google`: Google credentials (a service account with domain-wide
  delegation, or an authorized user's token file), for Google Calendar and Gmail's IMAP.

A room of its own, below the adapters (calendars, mailer) and above the pure rooms: it talks to
token endpoints (I/O) and imports nothing from syncsvc but :mod:`syncsvc.errors`.
"""
