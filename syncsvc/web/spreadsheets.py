"""The « Tableur » page: import a spreadsheet of sessions (upload -> preview -> confirm), download
the template and the export. The same behaviour as ``syncsvc import`` and ``syncsvc export``,
done marks of the « Échéances » sheet included (written as the dashboard writes them, by the
login).

The upload is a ``multipart/form-data`` POST (read here with the standard library, at most
5 Mo) carrying the CSRF token; the preview page carries the file back (base64) with the
version of each session file it was computed on, so that confirming writes exactly what was
shown: a session whose file changed meanwhile is refused as a conflict, never overwritten.
Importing needs a user who may act; a coordinator limited to some centres (when roles say so)
may import only their sessions.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from email import policy
from email.parser import BytesParser
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncsvc.app.authoring import Authoring
from syncsvc.app.exporting import Exported, export_bytes, exported_today, template_bytes
from syncsvc.app.importing import (
    Preview,
    apply_import,
    apply_marks,
    preview_import,
    problem_line,
)
from syncsvc.core.config import Config
from syncsvc.core.session_sheet import COLUMNS
from syncsvc.errors import UsageError
from syncsvc.inputs.ods import MIMETYPE
from syncsvc.inputs.spreadsheets import MAX_BYTES
from syncsvc.web import auth
from syncsvc.web.common import (
    Context,
    Web,
    csrf_refused,
    log,
    origin_refused,
    page,
    read_only,
    to_login,
    web_of,
)

XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES: Final = {"xlsx": XLSX, "ods": MIMETYPE}
MAX_UPLOAD: Final = MAX_BYTES * 2 + 64 * 1024
"""A file, its copy in base64 on the confirmation, and the form's other fields."""
Fields = dict[str, tuple[str | None, bytes]]


def _download(data: bytes, name: str, kind: str) -> Response:
    return Response(
        data,
        media_type=MEDIA_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _allowed(ctx: Context, config: Config) -> list[str] | None:
    """The centres this user may change (None: all; roles may not say more yet)."""
    may_change = getattr(ctx.user, "may_change", None)
    if not callable(may_change):
        return None
    return [key for key in config.centres if may_change(key)]


@page
def import_page(web: Web, ctx: Context) -> Response:
    return web.html(ctx.request, "import.j2", ctx=ctx, stage="form", columns=COLUMNS, refusal=None)


def _kind(ctx: Context) -> str:
    """« xlsx » or « ods », as the address says (``/export.ods``)."""
    return "ods" if ctx.request.url.path.endswith(".ods") else "xlsx"


@page
def template_download(web: Web, ctx: Context) -> Response:
    kind = _kind(ctx)
    data = template_bytes(web.source.current(), kind)
    return _download(data, f"modele-sessions.{kind}", kind)


@page
def export_download(web: Web, ctx: Context) -> Response:
    kind = _kind(ctx)
    now = web.clock()
    snapshot = web.board.snapshot(now)
    authors: dict[str, dict[str, str]] = {}
    for (session_id, milestone_id), mark in snapshot.marks.items():
        authors.setdefault(session_id, {})[milestone_id] = mark.by
    items = [
        Exported(v.session, v.centre, v.milestones, v.findings, authors.get(v.session.id, {}))
        for v in snapshot.views
    ]
    data = export_bytes(snapshot.config, items, kind)
    return _download(data, exported_today(now.astimezone(web.settings.zone).date(), kind), kind)


# --- the upload ------------------------------------------------------------------------------


def _fields(content_type: str, body: bytes) -> Fields:
    """The parts of a ``multipart/form-data`` body: name -> (file name or None, bytes)."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in (
        content_type.lower()
    ):
        raise UsageError("Formulaire d'envoi de fichier attendu (multipart/form-data).", 415)
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise UsageError("Formulaire illisible.")
    fields: Fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = part.get_filename()
        if filename is not None:
            filename = filename.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        payload = part.get_payload(decode=True)
        fields.setdefault(name, (filename, payload if isinstance(payload, bytes) else b""))
    return fields


def _value(fields: Fields, name: str) -> str:
    return fields.get(name, (None, b""))[1].decode("utf-8", "replace")


async def _upload(request: Request, stage: str) -> Response:
    """A POST of the upload form or of its confirmation: same checks as every action (same
    site, logged in, CSRF token, a user who may act), then the work in the threadpool."""
    web = web_of(request)
    if web.from_elsewhere(request):
        return origin_refused(web, request)
    ctx = await run_in_threadpool(web.context, request)
    if ctx is None:
        return to_login(request)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_UPLOAD:
            return web.error(
                request,
                413,
                "Fichier trop volumineux",
                f"Le fichier dépasse {MAX_BYTES // 1024 // 1024} Mo.",
                ctx,
            )
    try:
        fields = _fields(request.headers.get("content-type", ""), bytes(body))
    except UsageError as exc:
        return web.error(request, exc.status, "Requête refusée", exc.message, ctx)
    if ctx.new_cookie or not auth.csrf_ok(ctx.session, _value(fields, "csrf") or None):
        return csrf_refused(web, request, ctx)
    if not ctx.user.can_act:
        return read_only(web, ctx)
    return await run_in_threadpool(_work, web, ctx, fields, stage)


def _work(web: Web, ctx: Context, fields: Fields, stage: str) -> Response:
    request = ctx.request
    if stage == "preview":
        name, data = fields.get("fichier", (None, b""))
        if not name or not data:
            return _form_again(web, ctx, "Choisissez un fichier .xlsx, .ods ou .csv à importer.")
        versions: dict[str, str] | None = None
        marks_shown: dict[str, str] = {}
    else:
        name = _value(fields, "nom") or "tableau"
        try:
            data = base64.b64decode(_value(fields, "donnees"), validate=True)
            versions = json.loads(_value(fields, "versions") or "{}")
            marks_shown = json.loads(_value(fields, "marques") or "{}")
        except (binascii.Error, ValueError):
            return web.error(request, 400, "Requête refusée", "Formulaire illisible.", ctx)
        if not isinstance(versions, dict) or not isinstance(marks_shown, dict):
            return web.error(request, 400, "Requête refusée", "Formulaire illisible.", ctx)
    source = web.source
    config = source.current()
    stored: dict[str, dict[str, date]] = {}
    for (session_id, milestone_id), mark in web.store.done_mark_details().items():
        stored.setdefault(session_id, {})[milestone_id] = mark.done_on
    try:
        preview = preview_import(
            source.config_dir,
            name,
            data,
            allowed_centres=_allowed(ctx, config),
            load=lambda _: source.current(),
            stored=stored,
            now=web.clock(),
        )
    except UsageError as exc:
        return _form_again(web, ctx, exc.message)
    if versions is None:
        return web.html(
            request,
            "import.j2",
            ctx=ctx,
            stage="preview",
            preview=preview,
            columns=COLUMNS,
            name=name,
            data=base64.b64encode(data).decode("ascii"),
            versions=json.dumps(_versions(preview)),
            marks=json.dumps({p.key: p.shown for p in [*preview.to_mark, *preview.to_unmark]}),
        )
    for row in preview.to_write:
        # what was shown is what is written: a file changed since the preview is a conflict
        shown = versions.get(row.session_id or "")
        if isinstance(shown, str):
            row.version = shown
            continue
        row.kind = "error"  # not to write in the preview shown, to write now: not without a look
        row.problems = [
            problem_line(
                row.where,
                None,
                f"la session « {row.session_id} » a changé depuis l'aperçu : cette ligne n'y "
                "était pas à enregistrer (attendu : refaire l'aperçu)",
            )
        ]
    for plan in [*preview.to_mark, *preview.to_unmark]:
        # the same for the marks: one set or removed since the preview is not overwritten
        if marks_shown.get(plan.key) != plan.shown:
            plan.problems = [
                problem_line(
                    plan.where,
                    None,
                    f"l'échéance « {plan.key.replace('|', ' / ')} » a changé depuis l'aperçu "
                    "(ou n'y était pas à marquer) : rien n'a été écrit pour cette ligne "
                    "(attendu : refaire l'aperçu)",
                )
            ]
    authoring = Authoring(source.config_dir, web.store, lambda _: _fresh(web))
    applied = apply_import(preview, authoring, user=ctx.user.login, now=web.clock())
    login = ctx.user.login
    apply_marks(preview, web.store, by=login, who=login, now=web.clock(), applied=applied)
    source.invalidate()
    if applied.marked or applied.unmarked:
        web.marked()
    log.info(
        "import de « %s » par %s : %d créée(s), %d modifiée(s), %d refusée(s), "
        "%d marque(s) posée(s), %d retirée(s), %d en erreur",
        name,
        login,
        len(applied.created),
        len(applied.updated),
        len(applied.failed),
        len(applied.marked),
        len(applied.unmarked),
        preview.errors,
    )
    return web.html(
        request,
        "import.j2",
        ctx=ctx,
        stage="done",
        preview=preview,
        applied=applied,
        columns=COLUMNS,
        name=name,
    )


def _fresh(web: Web) -> Config:
    web.source.invalidate()
    return web.source.current()


def _versions(preview: Preview) -> dict[str, str]:
    return {row.session_id: row.version for row in preview.to_write if row.session_id}


def _form_again(web: Web, ctx: Context, message: str) -> Response:
    return web.html(
        ctx.request,
        "import.j2",
        ctx=ctx,
        status_code=400,
        stage="form",
        columns=COLUMNS,
        refusal=message,
    )


async def preview_upload(request: Request) -> Response:
    return await _upload(request, "preview")


async def apply_upload(request: Request) -> Response:
    return await _upload(request, "apply")


ROUTES: list[Any] = [
    Route("/import", import_page),
    Route("/import/preview", preview_upload, methods=["POST"]),
    Route("/import/apply", apply_upload, methods=["POST"]),
    Route("/import/template.xlsx", template_download),
    Route("/import/template.ods", template_download),
    Route("/export.xlsx", export_download),
    Route("/export.ods", export_download),
]
