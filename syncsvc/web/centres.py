"""« Centres » (``/centres``): the centres of ``config/centres.yaml`` with their contacts and
agréments (title, millésime, end date, maximum candidates, declared session managers), edited
from the dashboard; their identity and contacts in :mod:`syncsvc.web.centre_identity`.

Every change goes through :meth:`syncsvc.app.authoring.Authoring.save_centres`: validated by the
loader with every session (removing a centre in use is refused, in the loader's words),
version-checked, audited.

Who: everyone logged in reads the page; an administrator changes every centre, adds and removes
centres; a coordinator changes the contacts and agréments of its centres (every centre when its
account lists none, :meth:`syncsvc.web.auth.User.may_change`); a viewer changes nothing. The
buttons are shown only where allowed; a forged request gets a 403 page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.core.labels import fr_date
from syncsvc.core.model import Agrement, Centre
from syncsvc.errors import ConfigError, Problem
from syncsvc.inputs.writer import Draft, WriteConflict, WriteRefused, plain, read_draft
from syncsvc.web import centre_identity
from syncsvc.web.centre_identity import (
    centre_of,
    centres_unreadable,
    refused_edit,
    refused_unless_admin,
)
from syncsvc.web.common import Context, Form, Web, action, log, page
from syncsvc.web.config_forms import (
    authoring,
    conflict_page,
    day_message,
    day_or_text,
    fresh_config,
    int_or_text,
    items,
)

PATH: Final = "/centres"
FIELDS: Final = ("title_code", "title_version", "until", "max_candidates", "session_managers")
MAX_ROWS: Final = 200
_ROW_FIELD = re.compile(r"^agrements\[(\d+)\]\.([a-z_]+)")


@dataclass
class Row:
    """One agrément as the form shows it."""

    values: dict[str, str]
    errors: dict[str, str]
    remove: bool = False


def _draft(web: Web, ctx: Context) -> Draft | Response:
    try:
        config = fresh_config(web)
    except ConfigError as exc:
        return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
    refused = centres_unreadable(web, ctx)
    if refused is not None:
        return refused
    return read_draft(config.directory / "centres.yaml")


@page
def centres_page(web: Web, ctx: Context) -> Response:
    return _list(web, ctx)


def _list(
    web: Web,
    ctx: Context,
    problems: list[Problem] | None = None,
    status_code: int = 200,
    intro: str | None = None,
) -> Response:
    draft = _draft(web, ctx)
    if isinstance(draft, Response):
        return draft
    config = fresh_config(web)
    used: dict[str, int] = {}
    for session in config.sessions.values():
        used[session.centre] = used.get(session.centre, 0) + 1
    query = ctx.request.query_params
    saved, removed = query.get("enregistre"), query.get("retire")
    edited, added = query.get("modifie"), query.get("ajoute")
    flash = None
    if saved:
        flash = f"Agréments du centre « {saved} » enregistrés."
    elif removed:
        flash = f"Centre « {removed} » retiré de centres.yaml."
    elif edited:
        flash = f"Coordonnées du centre « {edited} » enregistrées."
    elif added:
        flash = f"Centre « {added} » ajouté à centres.yaml : ajoutez-lui ses agréments."
    file = str(config.directory / "centres.yaml")
    return web.html(
        ctx.request,
        "centres.j2",
        status_code=status_code,
        ctx=ctx,
        centres=list(config.centres.values()),
        used=used,
        version=draft.version,
        refused=problems or [],
        refused_intro=intro,
        problems=[p for p in config.problems if p.file == file],
        flash=flash,
        editable={c for c in config.centres if ctx.user.may_change(c)},
        admin=ctx.user.admin,
    )


def _row_values(agrement: Agrement) -> dict[str, str]:
    return {
        "title_code": agrement.title_code,
        "title_version": agrement.title_version or "",
        "until": fr_date(agrement.until),
        "max_candidates": str(agrement.max_candidates),
        "session_managers": ", ".join(agrement.session_managers or ()),
    }


def _form(
    web: Web,
    ctx: Context,
    centre: Centre,
    rows: list[Row],
    version: str,
    others: list[Problem] | None = None,
    status_code: int = 200,
) -> Response:
    return web.html(
        ctx.request,
        "centre_agrements.j2",
        status_code=status_code,
        ctx=ctx,
        centre=centre,
        rows=rows,
        version=version,
        others=others or [],
        fields=FIELDS,
    )


def _blank() -> Row:
    return Row(dict.fromkeys(FIELDS, ""), {})


@page
def agrements_page(web: Web, ctx: Context) -> Response:
    centre = centre_of(web, ctx)
    if isinstance(centre, Response):
        return centre
    refused = refused_edit(web, ctx, centre.id)
    if refused is not None:
        return refused
    draft = _draft(web, ctx)
    if isinstance(draft, Response):
        return draft
    rows = [Row(_row_values(a), {}) for a in centre.agrements] + [_blank()]
    return _form(web, ctx, centre, rows, draft.version)


def _posted_rows(form: Form) -> list[Row]:
    count = min(int(form["rows"]) if form.get("rows", "").isdigit() else 0, MAX_ROWS)
    rows = []
    for index in range(count):
        values = {name: form.get(f"a{index}-{name}", "").strip() for name in FIELDS}
        remove = form.get(f"a{index}-remove") == "1"
        if not any(values.values()):
            continue  # the blank row left blank
        rows.append(Row(values, {}, remove))
    return rows


def _agrement(values: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "title_code": values["title_code"],
        "until": day_or_text(values["until"]),
        "max_candidates": int_or_text(values["max_candidates"]),
    }
    if values["title_version"]:
        out["title_version"] = values["title_version"]
    if values["session_managers"]:
        out["session_managers"] = items(values["session_managers"])
    return out


@action
def save_agrements(web: Web, ctx: Context, form: Form) -> Response:
    centre = centre_of(web, ctx)
    if isinstance(centre, Response):
        return centre
    refused = refused_edit(web, ctx, centre.id)
    if refused is not None:
        return refused
    draft = _draft(web, ctx)
    if isinstance(draft, Response):
        return draft
    version = form.get("version", "")
    rows = _posted_rows(form)
    kept = [r for r in rows if not r.remove]
    current = plain(draft.tree)
    block = dict(current.get(centre.id) or {})
    if kept:
        block["agrements"] = [_agrement(r.values) for r in kept]
    else:
        block.pop("agrements", None)
    values = {**current, centre.id: block}
    try:
        authoring(web).save_centres(
            user=ctx.user.login, values=values, version=version, now=web.clock()
        )
    except WriteConflict as exc:
        return conflict_page(web, ctx, exc, f"{PATH}/{quote(centre.id)}/agrements")
    except WriteRefused as exc:
        others: list[Problem] = []
        prefix = f"{centre.id}."
        for problem in exc.problems:
            found = _ROW_FIELD.match(problem.field.removeprefix(prefix))
            if found and problem.field.startswith(prefix) and int(found[1]) <= len(kept):
                row = kept[int(found[1]) - 1]
                message = problem.message
                if found[2] == "until" and isinstance(day_or_text(row.values["until"]), str):
                    message = day_message(row.values["until"])
                row.errors.setdefault(found[2], message)
            else:
                others.append(problem)
        return _form(web, ctx, centre, [*kept, _blank()], version, others, 400)
    web.source.invalidate()
    log.info("centres.yaml : agréments de %s enregistrés par %s", centre.id, ctx.user.login)
    return RedirectResponse(f"{PATH}?enregistre={quote(centre.id)}#c-{centre.id}", 303)


@action
def remove_centre(web: Web, ctx: Context, form: Form) -> Response:
    refused = refused_unless_admin(web, ctx, "retirer un centre")
    if refused is not None:
        return refused
    centre = centre_of(web, ctx)
    if isinstance(centre, Response):
        return centre
    draft = _draft(web, ctx)
    if isinstance(draft, Response):
        return draft
    values = {k: v for k, v in plain(draft.tree).items() if k != centre.id}
    try:
        authoring(web).save_centres(
            user=ctx.user.login, values=values, version=form.get("version", ""), now=web.clock()
        )
    except WriteConflict as exc:
        return conflict_page(web, ctx, exc, PATH)
    except WriteRefused as exc:
        users = sum(1 for p in exc.problems if p.field == "centre")
        intro = (
            f"le centre « {centre.id} » est utilisé par {users} session"
            f"{'s' if users > 1 else ''}, qui ne se chargerai{'en' if users > 1 else ''}t plus"
            if users
            else None
        )
        return _list(web, ctx, list(exc.problems), 400, intro)
    web.source.invalidate()
    log.info("centres.yaml : centre %s retiré par %s", centre.id, ctx.user.login)
    return RedirectResponse(f"{PATH}?retire={quote(centre.id)}", 303)


ROUTES = [
    Route(PATH, centres_page),
    Route(f"{PATH}/{{centre_id}}/agrements", agrements_page),
    Route(f"{PATH}/{{centre_id}}/agrements", save_agrements, methods=["POST"]),
    Route(f"{PATH}/{{centre_id}}/retirer", remove_centre, methods=["POST"]),
    *centre_identity.ROUTES,
]
