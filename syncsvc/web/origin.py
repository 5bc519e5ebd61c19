"""Where a POST comes from: Fetch Metadata, ``Origin`` and ``Referer`` (defence in depth).

Every POST form already carries a CSRF token tied to the session cookie (SameSite=Lax), which
is the main defence. On top of it, a POST is refused (403) when the browser says it comes from
elsewhere:

1. ``Sec-Fetch-Site`` (sent by current browsers): only ``same-origin`` — or ``none``, a
   request the user made directly — is accepted; ``same-site`` and ``cross-site`` are refused;
2. ``Origin``, unless absent or ``null``: it must be this service's origin — the scheme and
   host the request was made to (behind a proxy uvicorn trusts, the ones the client used) — or
   the origin of ``dashboard_url``;
3. otherwise ``Referer``, when present: its origin must be one of the same.

A POST with none of them (a script, an old browser) is accepted: the CSRF token decides, as
the OWASP CSRF cheat sheet allows when a token is the primary defence. ``Origin: null`` alone
cannot be refused: the pages send ``Referrer-Policy: no-referrer`` (tokens in addresses never
leave in a Referer), and the Fetch standard then makes browsers send ``Origin: null`` and no
Referer with our own forms; current browsers add ``Sec-Fetch-Site: same-origin``, which rule 1
checks.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from starlette.requests import Request

DEFAULT_PORTS: Final = {"http": 80, "https": 443}
ACCEPTED_FETCH_SITES: Final = frozenset({"same-origin", "none"})


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` (lower case, default port dropped), None if unusable."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    shown = "" if port is None or port == DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{shown}"


def allowed_origins(request: Request, dashboard_url: str | None) -> set[str]:
    own = origin_of(f"{request.url.scheme}://{request.url.netloc}")
    configured = origin_of(dashboard_url) if dashboard_url else None
    return {o for o in (own, configured) if o is not None}


def same_origin(request: Request, dashboard_url: str | None) -> bool:
    """False when the browser says the request comes from another site (see the module)."""
    headers = request.headers
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.strip().lower() not in ACCEPTED_FETCH_SITES:
        return False
    origin = headers.get("origin")
    if origin is not None and origin.strip().lower() != "null":
        return origin_of(origin) in allowed_origins(request, dashboard_url)
    referer = headers.get("referer")
    if referer is not None:
        return origin_of(referer) in allowed_origins(request, dashboard_url)
    return True
