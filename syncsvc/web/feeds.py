"""ICS feeds: ``/feeds/<token>.ics``, with an ETag and 304 when nothing changed.

Tokens never reach a log line: the access log is ours and prints ``/feeds/…`` only.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from syncsvc.web.common import log, web_of


def serve_feed(request: Request) -> Response:
    feeds = web_of(request).feeds
    target = feeds.target_for(request.path_params["token"])
    if target is None:
        log.info("GET /feeds/… 404")
        return PlainTextResponse("Introuvable\n", status_code=404)
    published = feeds.feed(target)
    headers = {
        "ETag": published.etag,
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": f'inline; filename="{target.name}.ics"',
    }
    if published.etag in request.headers.get("if-none-match", ""):
        log.info("GET /feeds/… (%s) 304", target.name)
        return Response(status_code=304, headers=headers)
    log.info("GET /feeds/… (%s) 200, %d éléments", target.name, published.items)
    return Response(published.body, media_type="text/calendar; charset=utf-8", headers=headers)


ROUTES = [Route("/feeds/{token}.ics", serve_feed, methods=["GET", "HEAD"])]
