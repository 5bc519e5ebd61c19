"""« Annuaire du jury » (``/annuaire-jury``): the jurors of ``config/jury.yaml``, the
habilitations that end within :data:`EXPIRY_WINDOW`, the sessions each juror sits on, and a form
to add or change a juror (administrators and coordinators; a viewer reads only).

Not the session's « Jury » panel (:mod:`syncsvc.web.jury`), which follows the invitations.
A juror's e-mail is the key of their entry: it cannot be changed from the form (sessions refer
to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.core.config import Config
from syncsvc.core.labels import fr_date
from syncsvc.core.model import DirectoryJuror, Session
from syncsvc.errors import ConfigError, Problem
from syncsvc.inputs.loader import JURY_FILE, check_jury_file
from syncsvc.inputs.writer import Draft, WriteConflict, WriteRefused, plain, read_draft
from syncsvc.web.common import Context, Form, Web, action, log, page
from syncsvc.web.config_forms import (
    authoring,
    by_field,
    conflict_page,
    day_message,
    day_or_text,
    fresh_config,
    items,
    may_edit,
    saved,
)

EXPIRY_WINDOW: Final = timedelta(days=90)
PATH: Final = "/annuaire-jury"
FIELDS: Final = ("email", "name", "phone", "company", "titles", "ccp", "habilitation_until")


@dataclass(frozen=True, slots=True)
class Row:
    juror: DirectoryJuror
    sessions: list[Session]
    expired: bool


def _today(web: Web) -> date:
    return web.clock().astimezone(web.settings.zone).date()


def _rows(config: Config, today: date) -> list[Row]:
    sits: dict[str, list[Session]] = {}
    for session in sorted(config.sessions.values(), key=lambda s: (s.start, s.id)):
        for member in session.jury:
            sits.setdefault(member.email, []).append(session)
    jurors = sorted(config.jury.jurors.values(), key=lambda j: (j.name.casefold(), j.email))
    return [Row(j, sits.get(j.email, []), j.habilitation_until < today) for j in jurors]


@page
def directory(web: Web, ctx: Context) -> Response:
    try:
        config = fresh_config(web)
    except ConfigError as exc:
        return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
    today = _today(web)
    rows = _rows(config, today)
    horizon = today + EXPIRY_WINDOW
    expiring = sorted(
        (r for r in rows if today <= r.juror.habilitation_until <= horizon),
        key=lambda r: (r.juror.habilitation_until, r.juror.name.casefold()),
    )
    file = str(config.directory / JURY_FILE)
    query = ctx.request.query_params
    saved_email = query.get("enregistre")
    return web.html(
        ctx.request,
        "jury_directory.j2",
        ctx=ctx,
        rows=rows,
        expiring=expiring,
        today=today,
        horizon=horizon,
        window=EXPIRY_WINDOW.days,
        exists=config.jury.exists,
        problems=[p for p in config.problems if p.file == file],
        warnings=config.warnings,
        flash=f"{saved_email} est enregistré(e) dans l'annuaire." if saved_email else None,
    )


def _form_values(juror: DirectoryJuror | None) -> dict[str, str]:
    if juror is None:
        return dict.fromkeys(FIELDS, "")
    return {
        "email": juror.email,
        "name": juror.name,
        "phone": juror.phone or "",
        "company": juror.company or "",
        "titles": ", ".join(juror.titles),
        "ccp": ", ".join(juror.ccp),
        "habilitation_until": fr_date(juror.habilitation_until),
    }


def _form_page(
    web: Web,
    ctx: Context,
    *,
    editing: bool,
    values: dict[str, str],
    version: str,
    errors: dict[str, str] | None = None,
    others: list[Problem] | None = None,
    status_code: int = 200,
) -> Response:
    return web.html(
        ctx.request,
        "jury_directory_form.j2",
        status_code=status_code,
        ctx=ctx,
        editing=editing,
        v=values,
        version=version,
        errors=errors or {},
        others=others or [],
    )


@page
def new_juror(web: Web, ctx: Context) -> Response:
    refused = may_edit(web, ctx)
    if refused is not None:
        return refused
    draft = _draft(web, ctx)
    if isinstance(draft, Response):
        return draft
    return _form_page(web, ctx, editing=False, values=_form_values(None), version=draft.version)


@page
def edit_juror(web: Web, ctx: Context) -> Response:
    refused = may_edit(web, ctx)
    if refused is not None:
        return refused
    email = ctx.request.query_params.get("email", "").strip().lower()
    try:
        config = fresh_config(web)
    except ConfigError as exc:
        return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
    juror = config.jury.jurors.get(email)
    if juror is None:
        return web.error(
            ctx.request,
            404,
            "Membre introuvable",
            "Cette adresse n'est pas dans l'annuaire du jury (ou son entrée est en erreur : "
            "corriger jury.yaml).",
            ctx,
        )
    draft = _draft(web, ctx)
    if isinstance(draft, Response):
        return draft
    return _form_page(web, ctx, editing=True, values=_form_values(juror), version=draft.version)


def _draft(web: Web, ctx: Context) -> Draft | Response:
    """``jury.yaml`` for editing, or a page saying it must be mended by hand first (the
    loader could not read it)."""
    try:
        readable = fresh_config(web).jury.readable
    except ConfigError as exc:
        return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)
    if readable:
        return read_draft(web.source.config_dir / JURY_FILE)
    return web.error(
        ctx.request,
        409,
        "Annuaire illisible",
        f"{JURY_FILE} ne se lit pas (voir ses problèmes sur la page de l'annuaire) : le "
        "corriger dans le fichier avant de le modifier ici.",
        ctx,
    )


def _entry(form: Form) -> dict[str, Any]:
    """The juror's block as the form gives it (empty optional fields left out)."""
    entry: dict[str, Any] = {"name": form.get("name", "").strip()}
    for key in ("phone", "company"):
        if form.get(key, "").strip():
            entry[key] = form[key].strip()
    entry["titles"] = items(form.get("titles", ""))
    ccp = items(form.get("ccp", ""))
    if ccp:
        entry["ccp"] = ccp
    entry["habilitation_until"] = day_or_text(form.get("habilitation_until", ""))
    return entry


@action
def save_juror(web: Web, ctx: Context, form: Form) -> Response:
    editing = form.get("mode") == "edit"
    values = {key: form.get(key, "").strip() for key in FIELDS}
    email = values["email"].lower()
    version = form.get("version", "")
    path = web.source.config_dir / JURY_FILE
    draft = _draft(web, ctx)
    if isinstance(draft, Response):
        return draft
    current: dict[str, Any] = {}
    if draft.exists:
        tree = plain(draft.tree)
        current = dict(tree) if isinstance(tree, dict) else {}
    key = next((k for k in current if str(k).lower() == email), None) if email else None
    errors: dict[str, str] = {}
    if not email or "@" not in email:
        errors["email"] = "adresse e-mail obligatoire (attendu : nom@domaine.fr)"
    elif editing and key is None:
        errors["email"] = "cette adresse n'est plus dans l'annuaire (attendu : l'ajouter)"
    elif not editing and key is not None:
        errors["email"] = (
            "adresse déjà présente dans l'annuaire (attendu : modifier ce membre plutôt que "
            "l'ajouter une seconde fois)"
        )
    if errors:
        return _form_page(
            web, ctx, editing=editing, values=values, version=version, errors=errors,
            status_code=400,
        )  # fmt: skip
    entry = _entry(form)
    updated = {**current, (key or email): entry}
    prefix = f"{key or email}."
    try:
        authoring(web).save_file(
            user=ctx.user.login,
            path=path,
            values=updated,
            version=version,
            now=web.clock(),
            action="jury_directory",
            check=check_jury_file,
        )
    except WriteConflict as exc:
        return conflict_page(web, ctx, exc, PATH)
    except WriteRefused as exc:
        errors = by_field(exc.problems, path, prefix)
        if "habilitation_until" in errors and isinstance(entry["habilitation_until"], str):
            errors["habilitation_until"] = day_message(values["habilitation_until"])
        return _form_page(
            web,
            ctx,
            editing=editing,
            values=values,
            version=version,
            errors=errors,
            others=[
                p for p in exc.problems if not (p.file == str(path) and p.field.startswith(prefix))
            ],
            status_code=400,
        )
    saved(web)
    log.info("annuaire du jury : %s enregistré(e) par %s", email, ctx.user.login)
    return RedirectResponse(f"{PATH}?enregistre={quote(email)}", status_code=303)


ROUTES = [
    Route(PATH, directory),
    Route(f"{PATH}/nouveau", new_juror),
    Route(f"{PATH}/modifier", edit_juror),
    Route(f"{PATH}/enregistrer", save_juror, methods=["POST"]),
]
