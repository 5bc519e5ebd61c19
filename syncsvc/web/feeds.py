"""ICS feeds: ``/feeds/<token>.ics``, with an ETag and 304 when nothing changed.

Tokens never reach a log line: the access log is ours and prints ``/feeds/…`` only (and a
person's feed, ``[feeds] per_person``, is « agenda personnel » there, never their address).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from syncsvc.web.common import log, web_of


def serve_feed(request: Request) -> Response:
    feeds = web_of(request).feeds
    token = request.path_params["token"]
    target = feeds.target_for(token)
    person = None if target is not None else feeds.person_for(token)
    if target is not None:
        published, what, filename = feeds.feed(target), target.name, target.name
    elif person is not None:  # never the person's address in a log line either
        published, what, filename = feeds.person_feed(person), "agenda personnel", "convocations"
    else:
        log.info("GET /feeds/… 404")
        return PlainTextResponse("Introuvable\n", status_code=404)
    headers = {
        "ETag": published.etag,
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": f'inline; filename="{filename}.ics"',
    }
    if published.etag in request.headers.get("if-none-match", ""):
        log.info("GET /feeds/… (%s) 304", what)
        return Response(status_code=304, headers=headers)
    log.info("GET /feeds/… (%s) 200, %d éléments", what, published.items)
    return Response(published.body, media_type="text/calendar; charset=utf-8", headers=headers)


ROUTES = [Route("/feeds/{token}.ics", serve_feed, methods=["GET", "HEAD"])]
