"""Changing sessions from the dashboard: create (or duplicate), edit with a preview, postpone,
cancel, restore a cancelled session. Every change is written by
:class:`syncsvc.app.authoring.Authoring` (round-trip, validated by the loader, version-checked,
atomic, audited); the daemon then plans it like a hand edit.

Who: a user changes the sessions of the centres it may change (:meth:`User.may_change`); the
buttons are shown to them only, and any other request gets a 403 page. Every form carries the
CSRF token (:func:`action`); the edit, postpone, cancel and restore forms carry the version of
the file they were opened on: if it changed meanwhile, the person sees both versions and nothing
is written.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.app import restoring
from syncsvc.app.authoring import Authoring
from syncsvc.app.preview import Preview, check_values, masked, proposed_text, stored_preview
from syncsvc.app.restoring import (
    REASON_MISSING,
    Cancelled,
    read_cancelled,
    reason_of,
    restore_preview,
)
from syncsvc.core.clock import local_today
from syncsvc.core.config import Config
from syncsvc.core.identifiers import session_id_for
from syncsvc.core.model import Session
from syncsvc.core.words import cancellation_text
from syncsvc.errors import Problem
from syncsvc.inputs.writer import WriteConflict, WriteRefused, plain, read_draft
from syncsvc.web import forms
from syncsvc.web.common import Context, Form, Web, action, log, not_yours, page

NATURES: Final = {"titre": "Titre complet", "ccp": "CCP", "ccs": "CCS"}
DROPPED_ON_COPY: Final = (
    "id",
    "done",
    "declared_on",
    "pv_validated_on",
    "parchemins_received_on",
    "training_end",
    "cancelled",
    "postponed",
)
"""What a copy of a session does not keep: its identity, what was done, its history."""


def authoring_of(web: Web) -> Authoring:
    """The folder's writer, checking against the configuration as the files are now."""

    def fresh(_directory: object) -> Config:
        web.source.invalidate()
        return web.source.current()

    return Authoring(web.source.config_dir, web.store, load=fresh)


def _config(web: Web) -> Config:
    web.source.invalidate()
    return web.source.current()


# --- choices offered by the form -----------------------------------------------------------------


@dataclass
class Choices:
    centres: list[tuple[str, str]]
    """(key, name) of the centres the user may change."""
    titles: list[tuple[str, str, str]]
    """(centre key, title code, label) of their agréments."""
    managers: list[tuple[str, str]]
    """(e-mail, what to show) of the declared or known session managers."""
    known: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Jurors of the centres' other sessions, by e-mail (as a session file writes them)."""
    known_centre: dict[str, str] = field(default_factory=dict)


def _known_titles(config: Config) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for session in sorted(config.sessions.values(), key=lambda s: s.start):
        found[session.title.code] = session.title.model_dump(exclude_defaults=True)
    return found


def _choices(config: Config, ctx: Context, session_id: str | None = None) -> Choices:
    centres = [(c.id, c.name) for c in config.centres.values() if ctx.user.may_change(c.id)]
    titles_known = _known_titles(config)
    titles = [
        (centre_id, a.title_code, str(titles_known.get(a.title_code, {}).get("label", "")))
        for centre_id, _ in centres
        for a in config.centres[centre_id].agrements
    ]
    allowed = {c for c, _ in centres}
    managers: dict[str, str] = {}
    for centre_id in allowed:
        for agrement in config.centres[centre_id].agrements:
            for email in agrement.session_managers or ():
                managers.setdefault(email, f"{email} (déclaré pour {agrement.title_code})")
    known: dict[str, dict[str, Any]] = {}
    where: dict[str, str] = {}
    for session in sorted(config.sessions.values(), key=lambda s: s.start):
        if session.centre not in allowed:
            continue
        manager = session.session_manager
        managers.setdefault(manager.email, f"{manager.email} ({manager.name})")
        if session.id == session_id:
            continue
        for juror in session.jury:
            known[juror.email] = plain(juror.model_dump(exclude_defaults=True))
            where[juror.email] = session.centre
    for email, listed in config.jury.jurors.items():
        # The directory's jurors, for every centre; chosen, they are written as {email: …}.
        if listed.retired_on is not None:  # retired: never offered for a session again
            known.pop(email, None)
            where.pop(email, None)
            continue
        known[email] = {**plain(listed.model_dump(exclude_defaults=True)), forms.DIRECTORY: True}
        where[email] = ""
    return Choices(centres, titles, sorted(managers.items()), known, where)


# --- rendering the form --------------------------------------------------------------------------


@dataclass
class FormState:
    form: Form
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def _render_form(
    web: Web,
    ctx: Context,
    config: Config,
    state: FormState,
    *,
    session: Session | None = None,
    version: str = "",
    status_code: int = 200,
    copied_from: str | None = None,
    template: str = "session_form.j2",
    **more: Any,
) -> Response:
    choices = _choices(config, ctx, session.id if session else None)
    chosen = {e for e in choices.known if state.form.get(f"known_{e}")}
    listed = {
        state.form.get(f"jury_email_{i}", "").casefold() for i in range(1, forms.MAX_ROWS + 1)
    }
    centre = state.form.get("centre", "")
    offered = [
        e
        for e in choices.known
        if e.casefold() not in listed and (not centre or choices.known_centre[e] in (centre, ""))
    ]
    summary = [
        (name, LABELS.get(name.rstrip("0123456789").rstrip("_"), name), message)
        for name, messages in state.errors.items()
        for message in messages
    ]
    return web.html(
        ctx.request,
        template,
        status_code=status_code,
        ctx=ctx,
        editing=session,
        version=version,
        f=state.form,
        errors=state.errors,
        general=state.general,
        choices=choices,
        chosen=chosen,
        offered=offered,
        unfit={e: _unfit(choices.known[e], state.form) for e in offered},
        summary=summary,
        centre_names=dict(choices.centres),
        natures=NATURES,
        jury_rows=forms.rows(state.form, "jury"),
        coord_rows=max(1, forms.rows(state.form, "coord")),
        copied_from=copied_from,
        **more,
    )


LABELS: Final = {
    "centre": "Centre",
    "title_code": "Titre",
    "acronym": "Sigle du titre",
    "label": "Intitulé du titre",
    "nature": "Nature",
    "ccp_code": "Code du CCP",
    "id": "Identifiant",
    "start": "Premier jour",
    "end": "Dernier jour",
    "first_day_start": "Heure de début de chaque jour",
    "last_day_end": "Heure de fin de chaque jour",
    "jury_welcome": "Accueil du jury",
    "location": "Lieu",
    "training": "Candidats en formation",
    "vae": "Candidats en VAE",
    "manager_name": "Responsable de session (nom)",
    "manager_email": "Responsable de session (courriel)",
    "coord_name": "Coordination (nom)",
    "coord_email": "Coordination (courriel)",
    "jury_name": "Jury (nom)",
    "jury_email": "Jury (courriel)",
    "jury_until": "Jury (habilité jusqu'au)",
    "jury_company": "Jury (entreprise)",
    "jury_ccp": "Jury (CCP habilités)",
    "known": "Jurés déjà connus",
}
"""Each form field's name, for the list of errors at the top of the form."""


def _unfit(juror: Mapping[str, Any], form: Form) -> str | None:
    """Why a known juror cannot sit on the session as the form stands (greyed), else None."""
    until = juror.get("habilitation_until")
    try:
        last = forms.parse_day(form.get("end", "")) if form.get("end") else None
    except ValueError:
        last = None
    if isinstance(until, date) and last is not None and until < last:
        return f"habilitation échue le {until.strftime('%d/%m/%Y')}, avant la fin de la session"
    title = form.get("title_code", "").strip()
    titles = juror.get("titles") or []
    if title and titles and title not in titles:
        return f"habilité pour {', '.join(titles)}, pas pour {title}"
    ccp = form.get("ccp_code", "").strip()
    codes = juror.get("ccp") or []
    if form.get("nature") in ("ccp", "ccs") and ccp and codes and ccp not in codes:
        return f"habilité pour {', '.join(codes)}, pas pour {ccp}"
    return None


# --- checking and writing ------------------------------------------------------------------------


def _complete(config: Config, ctx: Context, built: forms.Built, creating: bool) -> None:
    """What the form checks beyond the loader: the centre, its agrément, the title's names,
    the identifier."""
    values = built.values
    centre = config.centres.get(values["centre"])
    if centre is None:
        built.error("centre", "centre obligatoire (attendu : un des centres proposés)")
    elif not ctx.user.may_change(centre.id):
        built.error("centre", "centre d'un autre coordinateur (attendu : un de vos centres)")
    title = values["title"]
    known = _known_titles(config).get(title["code"], {})
    for key in ("acronym", "label"):
        if not title.get(key) and known.get(key):
            title[key] = known[key]
    if centre is not None and title["code"]:
        codes = [a.title_code for a in centre.agrements]
        if title["code"] not in codes:
            built.error(
                "title_code",
                f"pas d'agrément de {centre.name} pour {title['code']} (attendu : un des titres "
                f"agréés du centre : {', '.join(codes) or 'aucun'})",
            )
    elif not title["code"]:
        built.error("title_code", "titre obligatoire (attendu : un des titres agréés du centre)")
    if creating and not values["id"] and centre is not None and isinstance(values["start"], date):
        taken = set(config.sessions) | set(config.file_ids.values())
        taken |= {p.stem for p in (config.directory / "sessions").glob("*.yaml")}
        values["id"] = session_id_for(
            title.get("acronym") or "", values["start"], centre.short_name,
            nature=values["nature"], taken=taken,
        )  # fmt: skip


def _problems(built: forms.Built, problems: list[Problem], state: FormState) -> None:
    """The loader's problems next to their fields (the ones the form already said aside)."""
    pairs = [(p.field, p.message) for p in problems]
    fresh = forms.Built(built.values, {}, built.jury_rows, built.coord_rows)
    state.general += forms.place(pairs, fresh)
    for name, messages in fresh.errors.items():
        if name not in built.errors:
            built.errors[name] = messages
    state.errors = built.errors


def _checked(
    web: Web, config: Config, ctx: Context, form: Form, base: Mapping[str, Any] | None
) -> tuple[forms.Built, FormState]:
    state = FormState(form)
    built = forms.build(form, base, _choices(config, ctx).known)
    _complete(config, ctx, built, creating=base is None)
    if base is not None:
        built.values["id"] = base.get("id", "")
    path = authoring_of(web).session_path(str(built.values["id"]) or "nouvelle-session")
    problems = check_values(config, path, built.values) if built.values["id"] else []
    _problems(built, problems, state)
    return built, state


def _conflict(
    web: Web, ctx: Context, exc: WriteConflict, session_id: str, again: str = "modifier"
) -> Response:
    """The conflict page; ``again``: the page (``/sessions/<id>/<again>``) to start over on
    the current version."""
    current, proposed = masked(exc.current), masked(exc.proposed)
    diff = "\n".join(
        difflib.unified_diff(
            current.splitlines(),
            proposed.splitlines(),
            "version actuelle du fichier",
            "votre version",
            lineterm="",
        )
    )
    log.warning("%s : conflit d'écriture pour %s", session_id, ctx.user.login)
    return web.html(
        ctx.request,
        "session_conflict.j2",
        status_code=409,
        ctx=ctx,
        session_id=session_id,
        message=str(exc),
        current=current,
        proposed=proposed,
        diff=diff,
        again=again,
    )


def _saved(web: Web, session_id: str, flag: str) -> Response:
    web.source.invalidate()
    web.marked()  # the daemon reconciles now instead of at its next look at the folder
    return RedirectResponse(f"/sessions/{quote(session_id)}?{flag}=1", status_code=303)


# --- create --------------------------------------------------------------------------------------


def _shifted(day: date, years: int) -> date:
    """The day ``years`` later, moved to the same weekday (the nearest one)."""
    try:
        later = day.replace(year=day.year + years)
    except ValueError:  # 29 February
        later = day.replace(year=day.year + years, day=28)
    delta = (day.weekday() - later.weekday()) % 7
    return later + timedelta(days=delta if delta <= 3 else delta - 7)


def copy_values(values: Mapping[str, Any], years: int = 0) -> dict[str, Any]:
    """A session's values for a new session: no identifier, nothing done, no history, no
    candidates' names; dates ``years`` later on the same weekday."""
    copied = {k: v for k, v in values.items() if k not in DROPPED_ON_COPY}
    candidates = dict(copied.get("candidates") or {})
    candidates.pop("list", None)
    candidates.pop("named", None)
    copied["candidates"] = candidates
    if years and isinstance(copied.get("start"), date) and isinstance(copied.get("end"), date):
        start = _shifted(copied["start"], years)
        copied["end"] = start + (copied["end"] - copied["start"])
        copied["start"] = start
    return copied


@page
def new_form(web: Web, ctx: Context) -> Response:
    config = _config(web)
    if not ctx.user.changeable(config.centres):
        return not_yours(web, ctx, "*")
    query = ctx.request.query_params
    source_id = query.get("depuis", "")
    values: dict[str, Any] = {"centre": query.get("centre", ""), "nature": "titre"}
    if source_id:
        source = config.sessions.get(source_id)
        if source is None:
            return web.error(ctx.request, 404, "Session introuvable", "Rien à copier.", ctx)
        draft = read_draft(config.session_files[source_id])
        values = copy_values(plain(draft.tree), 1 if query.get("annee") else 0)
    return _render_form(
        web, ctx, config, FormState(forms.form_of(values)), copied_from=source_id or None
    )


@action
def create(web: Web, ctx: Context, form: Form) -> Response:
    config = _config(web)
    if not ctx.user.changeable(config.centres):
        return not_yours(web, ctx, "*")
    centre = form.get("centre", "")
    if centre in config.centres and not ctx.user.may_change(centre):
        return not_yours(web, ctx, centre)
    built, state = _checked(web, config, ctx, form, None)
    if built.errors or state.general:
        return _render_form(web, ctx, config, state, status_code=400)
    session_id = str(built.values["id"])
    try:
        authoring_of(web).save_session(
            user=ctx.user.login, values=built.values, version="", now=web.clock()
        )
    except WriteConflict as exc:
        return _conflict(web, ctx, exc, session_id)
    except WriteRefused as exc:
        _problems(built, list(exc.problems), state)
        return _render_form(web, ctx, config, state, status_code=400)
    log.info("session %s créée par %s", session_id, ctx.user.login)
    return _saved(web, session_id, "cree")


# --- edit ----------------------------------------------------------------------------------------


def _editable(web: Web, ctx: Context) -> tuple[Config, Session, dict[str, Any], str] | Response:
    config = _config(web)
    session_id = ctx.request.path_params["session_id"]
    session = config.sessions.get(session_id)
    if session is None:
        message = (
            "Le fichier de cette session contient des erreurs : corrigez-le d'abord (le tableau "
            "de bord les liste)."
            if session_id in config.broken_session_ids
            else "Aucune session ne porte cet identifiant."
        )
        return web.error(ctx.request, 404, "Session introuvable", message, ctx)
    if not ctx.user.may_change(session.centre):
        return not_yours(web, ctx, session.centre)
    draft = read_draft(config.session_files[session_id])
    values = plain(draft.tree)
    return config, session, values, draft.version


@page
def edit_form(web: Web, ctx: Context) -> Response:
    found = _editable(web, ctx)
    if isinstance(found, Response):
        return found
    config, session, values, version = found
    return _render_form(
        web, ctx, config, FormState(forms.form_of(values)), session=session, version=version
    )


@action
def edit(web: Web, ctx: Context, form: Form) -> Response:
    found = _editable(web, ctx)
    if isinstance(found, Response):
        return found
    config, session, values, _current = found
    version = form.get("version", "")
    centre = form.get("centre", "")
    if centre in config.centres and not ctx.user.may_change(centre):
        return not_yours(web, ctx, centre)
    built, state = _checked(web, config, ctx, form, values)
    if built.errors or state.general or form.get("back"):
        return _render_form(
            web,
            ctx,
            config,
            state,
            session=session,
            version=version,
            status_code=200 if form.get("back") and not built.errors else 400,
        )
    if not form.get("confirm"):
        return _preview(web, ctx, config, session, values, built.values, form)
    try:
        authoring_of(web).save_session(
            user=ctx.user.login, values=built.values, version=version, now=web.clock()
        )
    except WriteConflict as exc:
        return _conflict(web, ctx, exc, session.id)
    except WriteRefused as exc:
        _problems(built, list(exc.problems), state)
        return _render_form(
            web, ctx, config, state, session=session, version=version, status_code=400
        )
    log.info("session %s modifiée par %s", session.id, ctx.user.login)
    return _saved(web, session.id, "modifie")


def _preview(
    web: Web,
    ctx: Context,
    config: Config,
    session: Session,
    values: dict[str, Any],
    proposed: dict[str, Any],
    form: Form,
    what: str = "edit",
) -> Response:
    """What writing ``proposed`` in place of ``values`` will do, with a form that confirms
    (the same fields again, and ``confirm``)."""
    shown = _shown(web, config, session, values, proposed)
    path = config.session_files[session.id]
    return web.html(
        ctx.request,
        "session_preview.j2",
        ctx=ctx,
        s=session,
        shown=shown,
        hidden={k: v for k, v in form.items() if k not in ("csrf", "confirm", "back")},
        proposed=masked(proposed_text(path, proposed)),
        what=what,
        target=PAGES[what],
    )


def _shown(
    web: Web, config: Config, session: Session, values: dict[str, Any], proposed: dict[str, Any]
) -> Preview:
    """What writing ``proposed`` in place of ``values`` will do (the sync's planner and
    renderer, the sender's decisions, with the store's marks and invitations)."""
    return stored_preview(config, web.settings, web.store, session, values, proposed, web.clock())


PAGES: Final = {"edit": "modifier", "postpone": "reporter", "cancel": "annuler"}
"""The page of each change (``/sessions/<id>/<page>``)."""


# --- postpone and cancel -------------------------------------------------------------------------


def _reason(form: Form) -> str:
    return reason_of(form.get("reason"))


def _today(web: Web, config: Config, session: Session) -> date:
    return local_today(web.clock(), config.centres[session.centre].tz)


def _dte_ordered(web: Web, session: Session) -> date | None:
    marks = web.store.done_mark_details()
    mark = marks.get((session.id, "dte_order"))
    return mark.done_on if mark else session.done.get("dte_order")


@page
def postpone_form(web: Web, ctx: Context) -> Response:
    found = _editable(web, ctx)
    if isinstance(found, Response):
        return found
    _config_now, session, _values, version = found
    return _postpone_page(web, ctx, session, version, {}, {})


def _reason_page(
    web: Web,
    ctx: Context,
    template: str,
    session: Session,
    version: str,
    form: Form,
    errors: dict[str, list[str]],
    general: list[str] | None = None,
    status_code: int = 200,
    **more: Any,
) -> Response:
    """A page asking a reason for a change of the whole session (postpone, cancel, retire)."""
    return web.html(
        ctx.request,
        template,
        status_code=status_code,
        ctx=ctx,
        s=session,
        version=version,
        f=form,
        errors=errors,
        general=general or [],
        **more,
    )


def _postpone_page(
    web: Web,
    ctx: Context,
    session: Session,
    version: str,
    form: Form,
    errors: dict[str, list[str]],
    general: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return _reason_page(
        web, ctx, "session_postpone.j2", session, version, form, errors, general, status_code
    )


@action
def postpone(web: Web, ctx: Context, form: Form) -> Response:
    found = _editable(web, ctx)
    if isinstance(found, Response):
        return found
    config, session, values, _current = found
    version = form.get("version", "")
    errors: dict[str, list[str]] = {}
    days: dict[str, date] = {}
    for name in ("start", "end"):
        try:
            days[name] = forms.parse_day(form.get(name, ""))
        except ValueError as exc:
            message = str(exc) if form.get(name, "").strip() else "date obligatoire"
            errors.setdefault(name, []).append(message)
    reason = _reason(form)
    if not reason:
        errors.setdefault("reason", []).append(REASON_MISSING)
    if not errors and (days["start"], days["end"]) == (session.start, session.end):
        errors.setdefault("start", []).append(
            "mêmes dates qu'aujourd'hui (attendu : les nouvelles dates de la session)"
        )
    if errors or form.get("back"):
        status = 400 if errors else 200
        return _postpone_page(web, ctx, session, version, form, errors, status_code=status)
    changed = dict(values)
    history = list(changed.get("postponed") or [])
    history.append(
        {
            "from_start": session.start,
            "from_end": session.end,
            "on": _today(web, config, session),
            "reason": reason,
        }
    )
    changed.update(start=days["start"], end=days["end"], postponed=history)
    return _write_event(web, ctx, config, session, values, changed, "postpone", reason, form)


@page
def cancel_form(web: Web, ctx: Context) -> Response:
    found = _editable(web, ctx)
    if isinstance(found, Response):
        return found
    config, session, _values, version = found
    return _cancel_page(web, ctx, config, session, version, {}, {})


def _cancel_page(
    web: Web,
    ctx: Context,
    config: Config,
    session: Session,
    version: str,
    form: Form,
    errors: dict[str, list[str]],
    general: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return _reason_page(
        web,
        ctx,
        "session_cancel.j2",
        session,
        version,
        form,
        errors,
        general,
        status_code,
        centre=config.centres[session.centre],
        dte_ordered=_dte_ordered(web, session),
    )


@action
def cancel(web: Web, ctx: Context, form: Form) -> Response:
    found = _editable(web, ctx)
    if isinstance(found, Response):
        return found
    config, session, values, _current = found
    version = form.get("version", "")
    reason = _reason(form)
    if not reason or form.get("back"):
        errors = {} if reason else {"reason": [REASON_MISSING]}
        status = 400 if errors else 200
        return _cancel_page(web, ctx, config, session, version, form, errors, status_code=status)
    changed = dict(values)
    changed["cancelled"] = {"on": _today(web, config, session), "reason": reason}
    return _write_event(web, ctx, config, session, values, changed, "cancel", reason, form)


def _write_event(
    web: Web,
    ctx: Context,
    config: Config,
    session: Session,
    values: dict[str, Any],
    changed: dict[str, Any],
    what: str,
    reason: str,
    form: Form,
) -> Response:
    """A postponement or a cancellation: checked, shown, then (``confirm``) written and
    audited with its reason as the note."""
    version = form.get("version", "")
    try:
        problems = check_values(config, config.session_files[session.id], changed)
        if problems:
            raise WriteRefused(problems)
        if not form.get("confirm"):
            return _preview(web, ctx, config, session, values, changed, form, what)
        authoring_of(web).save_session(
            user=ctx.user.login,
            values=changed,
            version=version,
            now=web.clock(),
            action=what,
            note=reason,
        )
    except WriteConflict as exc:
        return _conflict(web, ctx, exc, session.id)
    except WriteRefused as exc:
        general = [f"{p.field} : {p.message}" if p.field else p.message for p in exc.problems]
        if what == "postpone":
            return _postpone_page(web, ctx, session, version, form, {}, general, 400)
        return _cancel_page(web, ctx, config, session, version, form, {}, general, 400)
    log.info("session %s : %s par %s (%s)", session.id, what, ctx.user.login, reason)
    return _saved(web, session.id, "reportee" if what == "postpone" else "annulee")


# --- restore (a cancelled session active again) -------------------------------------------------


def _cancelled(web: Web, ctx: Context) -> tuple[Config, Cancelled] | Response:
    found = _editable(web, ctx)
    if isinstance(found, Response):
        return found
    config, session, _values, _version = found
    if session.cancelled is None:
        return web.error(
            ctx.request,
            409,
            "Session non annulée",
            "Cette session n'est pas annulée : il n'y a rien à rétablir.",
            ctx,
        )
    return config, read_cancelled(config, session)


def _restore_page(
    web: Web,
    ctx: Context,
    config: Config,
    found: Cancelled,
    version: str,
    form: Form,
    errors: dict[str, list[str]],
    general: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    """What comes back (the edit preview's own reckoning) and the reason to give."""
    return _reason_page(
        web,
        ctx,
        "session_restore.j2",
        found.session,
        version,
        form,
        errors,
        general,
        status_code,
        shown=restore_preview(config, web.settings, web.store, found, web.clock()),
        proposed=found.proposed(),
        cancellation=cancellation_text(found.session),
    )


@page
def restore_form(web: Web, ctx: Context) -> Response:
    found = _cancelled(web, ctx)
    if isinstance(found, Response):
        return found
    config, cancelled = found
    return _restore_page(web, ctx, config, cancelled, cancelled.version, {}, {})


@action
def restore(web: Web, ctx: Context, form: Form) -> Response:
    """``cancelled:`` taken out of the session's file, audited with the reason; the trace of
    the cancellation closes with who and why (:func:`syncsvc.app.restoring.restore`: no
    ``cancellation_lifted`` warning, this restore was deliberate and is recorded)."""
    found = _cancelled(web, ctx)
    if isinstance(found, Response):
        return found
    config, cancelled = found
    version = form.get("version", "")
    reason = reason_of(form.get("reason"))
    if not reason:
        errors = {"reason": [REASON_MISSING]}
        return _restore_page(web, ctx, config, cancelled, version, form, errors, None, 400)
    try:
        restoring.restore(
            authoring_of(web),
            web.store,
            dataclasses.replace(cancelled, version=version),
            user=ctx.user.login,
            name=ctx.user.name,
            reason=reason,
            now=web.clock(),
        )
    except WriteConflict as exc:
        return _conflict(web, ctx, exc, cancelled.session.id, "retablir")
    except WriteRefused as exc:
        general = [f"{p.field} : {p.message}" if p.field else p.message for p in exc.problems]
        return _restore_page(web, ctx, config, cancelled, version, form, {}, general, 400)
    session = cancelled.session
    log.info("session %s rétablie par %s (%s)", session.id, ctx.user.login, reason)
    return _saved(web, session.id, "retablie")


# --- retire (archive the file) --------------------------------------------------------------------


@page
def retire_form(web: Web, ctx: Context) -> Response:
    found = _editable(web, ctx)
    if isinstance(found, Response):
        return found
    _config_now, session, _values, version = found
    return _retire_page(web, ctx, session, version, {}, {})


def _retire_page(
    web: Web,
    ctx: Context,
    session: Session,
    version: str,
    form: Form,
    errors: dict[str, list[str]],
    status_code: int = 200,
) -> Response:
    return _reason_page(
        web, ctx, "session_retire.j2", session, version, form, errors, None, status_code
    )


@action
def retire(web: Web, ctx: Context, form: Form) -> Response:
    """The session's file moved to ``archive/<date>/`` (never deleted), audited with the
    reason: the session leaves the calendars and its jury gets a cancellation."""
    found = _editable(web, ctx)
    if isinstance(found, Response):
        return found
    config, session, _values, _current = found
    version = form.get("version", "")
    reason = _reason(form)
    if not reason:
        errors = {"reason": [REASON_MISSING]}
        return _retire_page(web, ctx, session, version, form, errors, 400)
    try:
        moved = authoring_of(web).archive_session(
            user=ctx.user.login,
            session_id=session.id,
            version=version,
            now=web.clock(),
            note=reason,
        )
    except WriteConflict as exc:
        return _conflict(web, ctx, exc, session.id)
    web.source.invalidate()
    web.marked()
    log.info("session %s retirée par %s (%s)", session.id, ctx.user.login, reason)
    return web.html(
        ctx.request,
        "session_retired.j2",
        ctx=ctx,
        s=session,
        archived=str(moved.relative_to(config.directory)),
    )


ROUTES = [
    Route("/nouvelle-session", new_form),
    Route("/nouvelle-session", create, methods=["POST"]),
    Route("/sessions/{session_id}/modifier", edit_form),
    Route("/sessions/{session_id}/modifier", edit, methods=["POST"]),
    Route("/sessions/{session_id}/reporter", postpone_form),
    Route("/sessions/{session_id}/reporter", postpone, methods=["POST"]),
    Route("/sessions/{session_id}/annuler", cancel_form),
    Route("/sessions/{session_id}/annuler", cancel, methods=["POST"]),
    Route("/sessions/{session_id}/retablir", restore_form),
    Route("/sessions/{session_id}/retablir", restore, methods=["POST"]),
    Route("/sessions/{session_id}/retirer", retire_form),
    Route("/sessions/{session_id}/retirer", retire, methods=["POST"]),
]
