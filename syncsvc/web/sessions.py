"""The sessions: the dashboard list, a session's page (timeline, checklist), marking done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final
from urllib.parse import quote

from markupsafe import Markup
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.app import marks
from syncsvc.app.board import Mark, SessionView, Snapshot, checklist
from syncsvc.app.mailboxes import mailbox_warnings
from syncsvc.app.marks import file_mark
from syncsvc.core.labels import fr_date
from syncsvc.core.model import Milestone
from syncsvc.core.words import Citation, citations
from syncsvc.errors import ConfigError
from syncsvc.formats.spliced import Fragment
from syncsvc.formats.timeline import timeline_svg
from syncsvc.web.common import Context, Form, Web, action, not_yours, page
from syncsvc.web.repair import fix_links, session_fix_url

MAX_NOTE: Final = 2000
MAX_BY: Final = 120
TIMELINE_TAIL: Final = timedelta(days=120)
"""Milestones due later than this after a session's end are drawn at the chart's right edge."""


@dataclass(frozen=True, slots=True)
class ChecklistRow:
    """One line of a session's checklist table."""

    milestone: Milestone
    mark: Mark | None
    origin: str | None
    """``store`` (marked here or by the CLI), ``file`` (``done:`` of the session file) or None."""
    intro: str
    todo: list[str]
    sources: list[Citation]
    """Where the milestone comes from: each source by its full title, with its quotes."""


def _snapshot(web: Web, ctx: Context) -> Snapshot | Response:
    try:
        return web.board.snapshot(web.clock())
    except ConfigError as exc:
        return web.error(ctx.request, 503, "Configuration illisible", str(exc), ctx)


@page
def dashboard(web: Web, ctx: Context) -> Response:
    snapshot = _snapshot(web, ctx)
    if isinstance(snapshot, Response):
        return snapshot
    table = snapshot.fragments.get("sessions")
    if table is None:
        template = web.env.get_template("_sessions_table.j2")
        html = template.render(views=snapshot.views, broken=snapshot.broken).encode()
        table = snapshot.fragments["sessions"] = Fragment(html)
    # The big table is spliced in as bytes (compressed once, when clients take gzip): a page
    # for 1,000 sessions then costs its header, not a rendering nor a compression of the whole
    # table per request.
    return web.html(
        ctx.request,
        "dashboard.j2",
        ctx=ctx,
        splice={"sessions": table},
        count=len(snapshot.views) + len(snapshot.broken),
        problems=[str(p) for p in snapshot.config.problems]
        + [f"session {sid} : {reason}" for sid, reason in snapshot.failed.items()],
        warnings=[str(w) for w in mailbox_warnings(snapshot.config, web.settings)],
        totals=snapshot.milestone_counts,
        now=web.clock(),
        centres=sorted(
            {v.centre.id: v.centre for v in snapshot.views}.values(), key=lambda c: c.name
        ),
        can_create=bool(ctx.user.changeable(snapshot.config.centres)),
        fix_links=fix_links(web, ctx, snapshot.config),
    )


def _rows(view: SessionView, snapshot: Snapshot) -> list[ChecklistRow]:
    rows = []
    for m in view.milestones:
        mark = snapshot.marks.get((view.session.id, m.id))
        intro, items = checklist(m.rule.description)
        origin = "store" if mark else ("file" if m.done_on else None)
        rows.append(ChecklistRow(m, mark, origin, intro, items, citations(m.rule)))
    return rows


def _flash(view: SessionView, query: dict[str, str]) -> str | None:
    titles = {m.id: m.title for m in view.milestones}
    done_id, undone_id = query.get("fait"), query.get("annule")
    if "jury" in query:
        return "La réponse du jury est enregistrée."
    saved = {
        "cree": "La session est créée : ses jalons et ses événements suivent en quelques secondes.",
        "corrige": "Le fichier est corrigé : la session se charge de nouveau.",
        "modifie": "La modification est enregistrée.",
        "reportee": "Le report est enregistré.",
        "annulee": "L'annulation est enregistrée.",
        "retablie": (
            "Le rétablissement est enregistré : la session est de nouveau active (ses éléments "
            "d'agenda et le jury suivent au prochain passage)."
        ),
    }
    for flag, message in saved.items():
        if flag in query:
            return message
    if done_id in titles:
        return f"« {titles[done_id]} » est marqué fait."
    if undone_id in titles:
        return f"La marque « fait » de « {titles[undone_id]} » est retirée."
    return None


@page
def session_page(web: Web, ctx: Context) -> Response:
    request = ctx.request
    snapshot = _snapshot(web, ctx)
    if isinstance(snapshot, Response):
        return snapshot
    session_id = request.path_params["session_id"]
    view = snapshot.by_id.get(session_id)
    if view is None:
        broken = snapshot.broken_session(session_id)
        if broken is not None:  # its file is broken and no good state is known: say so
            fix = session_fix_url(web, ctx, snapshot.config, session_id)
            return web.html(request, "broken_session.j2", ctx=ctx, broken=broken, fix_url=fix)
        message = "Aucune session ne porte cet identifiant."
        return web.error(request, 404, "Session introuvable", message, ctx)
    session = view.session
    svg = timeline_svg(
        view.milestones,
        view.today,
        horizon=max(session.end, view.today) + TIMELINE_TAIL,
        title=f"Chronologie de la session {session.short_label} ({session.title.label})",
    )
    path = snapshot.config.session_files.get(session.id)
    file = str(path or "")
    return web.html(
        request,
        "session.j2",
        ctx=ctx,
        view=view,
        session_file=_shown_file(web, path),
        can_mark=ctx.user.may_change(view.session.centre) and not view.broken,
        s=session,
        rows=_rows(view, snapshot),
        svg=Markup(svg),
        flash=_flash(view, dict(request.query_params)),
        problems=[str(p) for p in snapshot.config.problems if p.file == file],
        warnings=[w for w in snapshot.config.warnings if w.file == file],
        jury_replies=snapshot.jury.replies_of(session.id, (j.email for j in view.jurors)),
        history=web.store.audit_trail(session.id),
        fix_url=session_fix_url(web, ctx, snapshot.config, session.id) if view.broken else None,
    )


def _shown_file(web: Web, path: Path | None) -> str:
    """``sessions/sa-2027-03-st-andre.yaml``: a session file as a coordinator knows it."""
    if path is None:
        return ""
    try:
        return str(path.relative_to(web.source.config_dir))
    except ValueError:
        return str(path)


def _milestone_of(web: Web, ctx: Context) -> tuple[SessionView, Milestone] | Response:
    snapshot = _snapshot(web, ctx)
    if isinstance(snapshot, Response):
        return snapshot
    params = ctx.request.path_params
    view = snapshot.by_id.get(params["session_id"])
    found = (
        next((m for m in view.milestones if m.id == params["milestone_id"]), None) if view else None
    )
    if view is None or found is None:
        return web.error(
            ctx.request, 404, "Jalon introuvable", "Cette session ou ce jalon n'existe pas.", ctx
        )
    if view.broken:
        return web.error(
            ctx.request,
            409,
            "Fichier de session en erreur",
            "Le fichier de cette session ne se charge plus : corrigez-le d'abord (les erreurs "
            "sont sur la page de la session), rien n'est marqué d'ici là.",
            ctx,
        )
    return view, found


def _back(view: SessionView, milestone: Milestone, flag: str) -> Response:
    return RedirectResponse(
        f"/sessions/{quote(view.session.id)}?{flag}={quote(milestone.id)}#m-{milestone.id}",
        status_code=303,
    )


@action
def mark_done(web: Web, ctx: Context, form: Form) -> Response:
    found = _milestone_of(web, ctx)
    if isinstance(found, Response):
        return found
    view, milestone = found
    if not ctx.user.may_change(view.session.centre):
        return not_yours(web, ctx, view.session.centre)
    request = ctx.request
    try:
        on = date.fromisoformat(form.get("done_on", "").strip() or view.today.isoformat())
    except ValueError:
        return web.error(
            request, 400, "Date illisible", "Indiquez la date au format jj/mm/aaaa.", ctx
        )
    if on > view.today:
        return web.error(
            request,
            400,
            "Date dans le futur",
            f"« Fait le » ne peut pas être après aujourd'hui ({fr_date(view.today)}).",
            ctx,
        )
    by = " ".join(form.get("by", "").split())[:MAX_BY] or ctx.user.name
    note = form.get("note", "").strip()[:MAX_NOTE] or None
    marks.mark_done(
        web.store, view.session.id, milestone.id, on, by=by, note=note, at=web.clock(),
        who=ctx.user.login,
    )  # fmt: skip
    web.marked()
    return _back(view, milestone, "fait")


@action
def mark_undone(web: Web, ctx: Context, form: Form) -> Response:
    found = _milestone_of(web, ctx)
    if isinstance(found, Response):
        return found
    view, milestone = found
    if not ctx.user.may_change(view.session.centre):
        return not_yours(web, ctx, view.session.centre)
    in_file = file_mark(view.session, milestone.id)
    if in_file is not None and (view.session.id, milestone.id) not in web.store.done_mark_details():
        path = web.source.current().session_files.get(view.session.id)
        return web.error(
            ctx.request,
            409,
            "Marque écrite dans le fichier",
            f"« {milestone.title} » est marqué fait le {fr_date(in_file[0])} dans le fichier "
            f"{_shown_file(web, path)} : rien n'est changé ici. Pour retirer la marque, "
            f"{in_file[1]} dans ce fichier.",
            ctx,
        )
    marks.mark_undone(web.store, view.session.id, milestone.id, who=ctx.user.login)
    web.marked()
    return _back(view, milestone, "annule")


ROUTES = [
    Route("/", dashboard),
    Route("/sessions/{session_id}", session_page),
    Route("/sessions/{session_id}/milestones/{milestone_id}/done", mark_done, methods=["POST"]),
    Route("/sessions/{session_id}/milestones/{milestone_id}/undone", mark_undone, methods=["POST"]),
]
