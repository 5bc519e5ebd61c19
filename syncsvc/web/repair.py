"""« Corriger le fichier »: repairing a session file in error from the dashboard.

``/sessions/<id>/corriger`` opens the file ``sessions/<id>.yaml`` when the loader reports it in
error (:mod:`syncsvc.app.repair` finds it, confined to ``config/sessions``):

- its YAML reads as a block of keys: the session form, pre-filled with what could be read, the
  invalid fields marked with the loader's words; saving writes the values (comments and the
  keys the form does not show are kept);
- its YAML does not parse (or ``?texte=1``, for what the form does not show): a text editor,
  the lines the errors name marked above it; saving checks the text with the loader and refuses
  a still-invalid one (the new errors shown, the typed text kept).

Either way, a valid repair is first previewed as « Modifier » previews a change (the same
preview and template: :func:`syncsvc.app.repair.repair_preview`), compared with what the
calendars hold for the session now; « Confirmer la correction » posts the same text (or fields)
again with its version (``previewed``): a text that is not the one previewed, or a file changed
since the page was opened, is refused, never written.

Then the previous content is copied to ``archive/<date>/`` and the change is written in
the session's history (:meth:`syncsvc.app.authoring.Authoring.repair_session`). Who: as every
change of a session (:func:`syncsvc.app.repair.may_repair`); the text of a file that may hold
the candidates' names is shown to administrators only. CSRF: :func:`action`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import quote

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.app.preview import masked, proposed_text
from syncsvc.app.repair import (
    BrokenFile,
    broken_session_files,
    find_broken,
    may_repair,
    repair_preview,
)
from syncsvc.core.config import Config
from syncsvc.errors import Problem
from syncsvc.inputs.loader import check_session_file
from syncsvc.inputs.writer import WriteConflict, WriteRefused, plain, read_draft, version_of
from syncsvc.inputs.yaml_files import parse_yaml
from syncsvc.web import forms
from syncsvc.web.authoring import (
    FormState,
    _checked,
    _choices,
    _config,
    _problems,
    _render_form,
    authoring_of,
)
from syncsvc.web.common import Context, Form, Web, action, log, not_yours, page

CONTEXT_LINES: Final = 2
"""Lines shown around each line an error names, above the text editor."""


def fix_url(session_id: str) -> str:
    return f"/sessions/{quote(session_id)}/corriger"


def fix_links(web: Web, ctx: Context, config: Config) -> dict[str, str]:
    """The first loading problem of each session file in error this user may repair → the
    address of « Corriger le fichier » (for the dashboard's list of problems)."""
    if not ctx.user.can_act:
        return {}
    files = broken_session_files(config)
    links: dict[str, str] = {}
    for problem in config.problems:
        session_id = files.pop(problem.file, None)
        if session_id is None:
            continue
        broken = find_broken(config, web.store, session_id)
        if broken is not None and may_repair(broken, config, ctx.user.may_change):
            links[str(problem)] = fix_url(session_id)
    return links


def session_fix_url(web: Web, ctx: Context, config: Config, session_id: str) -> str | None:
    """« Corriger le fichier » of a session page, when its file is in error and this user may
    repair it."""
    if not ctx.user.can_act:
        return None
    broken = find_broken(config, web.store, session_id)
    if broken is None or not may_repair(broken, config, ctx.user.may_change):
        return None
    return fix_url(session_id)


# --- finding the file, who may repair it -------------------------------------------------------


def _broken(web: Web, ctx: Context) -> tuple[Config, BrokenFile] | Response:
    config = _config(web)
    session_id = ctx.request.path_params["session_id"]
    broken = find_broken(config, web.store, session_id)
    if broken is None:
        message = (
            "Aucun fichier de session en erreur ne porte ce nom dans le dossier sessions/ "
            "(il a peut-être déjà été corrigé)."
        )
        return web.error(ctx.request, 404, "Fichier introuvable", message, ctx)
    if not may_repair(broken, config, ctx.user.may_change):
        centres = sorted(broken.centres) or ["*"]
        return not_yours(web, ctx, next(c for c in centres if not ctx.user.may_change(c)))
    return config, broken


def _text_shown_to(ctx: Context, text: str) -> bool:
    """A text that may hold the candidates' names is for administrators only."""
    return ctx.user.admin or not BrokenFile.names_candidates(text)


def _form_values(broken: BrokenFile) -> dict[str, Any] | None:
    """The file's values for the form (its identifier is its name); None when the form
    cannot show them (the YAML does not read as a session's block of keys)."""
    if broken.raw is None:
        return None
    try:
        tree = read_draft(broken.path).tree
        values = plain(tree)
        if not isinstance(values, dict):
            return None
        values["id"] = broken.session_id
        forms.form_of(values)
        forms.build(forms.form_of(values), values)
    except Exception:  # any value the form cannot hold: the text editor instead
        return None
    return values


# --- the page --------------------------------------------------------------------------------


def _lines(broken: BrokenFile, problems: Iterable[Problem]) -> list[str]:
    """The loader's problems as lines, the file named as a coordinator knows it."""
    return [str(Problem(broken.shown, p.field, p.message, p.line)) for p in problems]


def _excerpt(text: str, lines: list[int]) -> list[tuple[int, str, bool]]:
    """(number, line, named by an error) around each line the errors name."""
    rows = text.split("\n")
    shown: set[int] = set()
    for line in lines:
        shown |= set(range(max(1, line - CONTEXT_LINES), min(len(rows), line + CONTEXT_LINES) + 1))
    return [(n, rows[n - 1], n in lines) for n in sorted(shown) if 0 < n <= len(rows)]


def _text_page(
    web: Web,
    ctx: Context,
    broken: BrokenFile,
    *,
    text: str,
    version: str,
    problems: tuple[Problem, ...] | list[Problem],
    refused: bool = False,
    conflict: str = "",
    current: str = "",
    status_code: int = 200,
) -> Response:
    lines = BrokenFile.lines_of(problems)
    allowed = _text_shown_to(ctx, text) and not broken.too_long
    return web.html(
        ctx.request,
        "session_repair.j2",
        status_code=status_code,
        ctx=ctx,
        broken=broken,
        problems=_lines(broken, problems),
        refused=refused,
        conflict=conflict,
        current=current,
        allowed=allowed,
        text=text if allowed else "",
        version=version,
        excerpt=_excerpt(text, lines) if allowed else [],
        rows=min(60, max(12, text.count("\n") + 2)),
        has_form=_form_values(broken) is not None,
    )


def _form_page(
    web: Web,
    ctx: Context,
    config: Config,
    broken: BrokenFile,
    state: FormState,
    *,
    version: str,
    problems: tuple[Problem, ...] | list[Problem],
    conflict: str = "",
    status_code: int = 200,
) -> Response:
    return _render_form(
        web,
        ctx,
        config,
        state,
        version=version,
        status_code=status_code,
        template="session_repair_form.j2",
        broken=broken,
        problems=_lines(broken, problems),
        conflict=conflict,
        posted=status_code != 200,
        text_allowed=_text_shown_to(ctx, broken.text) and not broken.too_long,
    )


@page
def repair_form(web: Web, ctx: Context) -> Response:
    found = _broken(web, ctx)
    if isinstance(found, Response):
        return found
    config, broken = found
    values = None if ctx.request.query_params.get("texte") else _form_values(broken)
    if values is None:
        return _text_page(
            web, ctx, broken, text=broken.text, version=broken.version, problems=broken.problems
        )
    state = FormState(forms.form_of(values))
    built = forms.build(state.form, values, _choices(config, ctx).known)
    _problems(built, list(broken.problems), state)
    state.general = []  # the file's problems are listed above the form, each once
    return _form_page(
        web, ctx, config, broken, state, version=broken.version, problems=broken.problems
    )


@action
def repair(web: Web, ctx: Context, form: Form) -> Response:
    found = _broken(web, ctx)
    if isinstance(found, Response):
        return found
    config, broken = found
    if form.get("mode") == "formulaire":
        return _save_form(web, ctx, config, broken, form)
    return _save_text(web, ctx, config, broken, form)


def _saved(web: Web, broken: BrokenFile) -> Response:
    web.source.invalidate()
    web.marked()  # the daemon reconciles now instead of at its next look at the folder
    log.info("fichier %s corrigé", broken.shown)
    return RedirectResponse(f"/sessions/{quote(broken.session_id)}?corrige=1", status_code=303)


def _was(broken: BrokenFile) -> str:
    first = broken.problems[0]
    return f"{first.field} : {first.message}" if first.field else first.message


def _current_shown(ctx: Context, exc: WriteConflict) -> str:
    if _text_shown_to(ctx, exc.current):
        return exc.current
    return masked(exc.current)


def _save_text(web: Web, ctx: Context, config: Config, broken: BrokenFile, form: Form) -> Response:
    text = form.get("text", "").replace("\r\n", "\n").replace("\r", "\n")
    version = form.get("version", "")
    if not _text_shown_to(ctx, broken.text):
        return web.error(
            ctx.request,
            403,
            "Réservé aux administrateurs",
            "Ce fichier peut contenir la liste nominative des candidats : seul un "
            "administrateur peut en corriger le texte ici.",
            ctx,
        )
    data = text.encode("utf-8")
    problems = check_session_file(config, broken.path, data)
    if not problems:
        problems = _centre_problems(ctx, broken, data)
    if problems:
        return _text_page(
            web, ctx, broken, text=text, version=version, problems=problems, refused=True,
            status_code=400,
        )  # fmt: skip
    if form.get("back"):
        return _text_page(web, ctx, broken, text=text, version=version, problems=broken.problems)
    if version != broken.version:  # changed since the page was opened: said before any preview
        exc = WriteConflict(broken.path, broken.text, text)
        return _text_page(
            web, ctx, broken, text=text, version=broken.version, problems=broken.problems,
            conflict=str(exc), current=_current_shown(ctx, exc), status_code=409,
        )  # fmt: skip
    if not form.get("confirm") or form.get("previewed") != version_of(data):
        hidden = {"version": version, "mode": "texte", "text": text}
        return _preview(web, ctx, config, broken, data, hidden, "texte", form)
    try:
        authoring_of(web).repair_session(
            user=ctx.user.login,
            path=broken.path,
            session_id=broken.session_id,
            data=data,
            version=version,
            now=web.clock(),
            was=_was(broken),
        )
    except WriteConflict as exc:
        return _text_page(
            web, ctx, broken, text=text, version=broken.version, problems=broken.problems,
            conflict=str(exc), current=_current_shown(ctx, exc), status_code=409,
        )  # fmt: skip
    except WriteRefused as exc:
        return _text_page(
            web, ctx, broken, text=text, version=version, problems=list(exc.problems),
            refused=True, status_code=400,
        )  # fmt: skip
    return _saved(web, broken)


def _centre_problems(ctx: Context, broken: BrokenFile, data: bytes) -> list[Problem]:
    """A repaired file must stay in a centre this user may change."""
    value = parse_yaml(data)
    centre = value.get("centre") if isinstance(value, dict) else None
    if isinstance(centre, str) and not ctx.user.may_change(centre):
        return [
            Problem(
                broken.shown,
                "centre",
                "centre d'un autre coordinateur (attendu : un de vos centres)",
            )
        ]
    return []


def _save_form(web: Web, ctx: Context, config: Config, broken: BrokenFile, form: Form) -> Response:
    values = _form_values(broken)
    version = form.get("version", "")
    if values is None:  # the file changed into one the form cannot show
        return _text_page(
            web, ctx, broken, text=broken.text, version=broken.version, problems=broken.problems,
            status_code=409,
        )  # fmt: skip
    centre = form.get("centre", "")
    if centre in config.centres and not ctx.user.may_change(centre):
        return not_yours(web, ctx, centre)
    built, state = _checked(web, config, ctx, form, values)
    if built.errors or state.general:
        return _form_page(
            web, ctx, config, broken, state, version=version, problems=broken.problems,
            status_code=400,
        )  # fmt: skip
    if form.get("back"):
        return _form_page(
            web, ctx, config, broken, state, version=version, problems=broken.problems
        )
    data = proposed_text(broken.path, built.values).encode("utf-8")
    if version != broken.version:  # changed since the page was opened: said before any preview
        state.general = [str(WriteConflict(broken.path, broken.text, data.decode()))]
        return _form_page(
            web, ctx, config, broken, state, version=broken.version, problems=broken.problems,
            conflict=_diff(broken.text, data.decode()), status_code=409,
        )  # fmt: skip
    if not form.get("confirm") or form.get("previewed") != version_of(data):
        hidden = {
            k: v for k, v in form.items() if k not in ("csrf", "confirm", "back", "previewed")
        }
        return _preview(web, ctx, config, broken, data, hidden, "formulaire", form)
    try:
        authoring_of(web).repair_session(
            user=ctx.user.login,
            path=broken.path,
            session_id=broken.session_id,
            data=data,
            version=version,
            now=web.clock(),
            was=_was(broken),
        )
    except WriteConflict as exc:
        state.general = [str(exc)]
        return _form_page(
            web, ctx, config, broken, state, version=broken.version, problems=broken.problems,
            conflict=_diff(exc.current, exc.proposed), status_code=409,
        )  # fmt: skip
    except WriteRefused as exc:
        _problems(built, list(exc.problems), state)
        return _form_page(
            web, ctx, config, broken, state, version=version, problems=broken.problems,
            status_code=400,
        )  # fmt: skip
    return _saved(web, broken)


def _diff(current: str, proposed: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            masked(current).splitlines(), masked(proposed).splitlines(), lineterm=""
        )
    )


def _preview(
    web: Web,
    ctx: Context,
    config: Config,
    broken: BrokenFile,
    data: bytes,
    hidden: dict[str, str],
    mode: str,
    form: Form,
) -> Response:
    """What writing ``data`` will do (« Modifier »'s page), with a form that confirms it: the
    same text or fields again, and the version of the text previewed. A confirmation whose text
    is not the one previewed comes back here (409), nothing written."""
    found = repair_preview(config, web.settings, web.store, broken, data, web.clock())
    mismatch = bool(form.get("confirm"))
    if mismatch:
        log.warning("%s : correction confirmée sur un autre texte que l'aperçu", broken.shown)
    return web.html(
        ctx.request,
        "session_preview.j2",
        status_code=409 if mismatch else 200,
        ctx=ctx,
        s=found.after,
        shown=found.shown,
        hidden={**hidden, "previewed": found.version},
        proposed=masked(data.decode("utf-8", "replace")),
        what="repair",
        action=fix_url(broken.session_id),
        repair=found,
        broken=broken,
        was=_was(broken),
        mode=mode,
        mismatch=mismatch,
    )


ROUTES = [
    Route("/sessions/{session_id}/corriger", repair_form),
    Route("/sessions/{session_id}/corriger", repair, methods=["POST"]),
]
