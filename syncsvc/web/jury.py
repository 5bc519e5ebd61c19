"""Recording by hand, from a session's « Jury » panel, an answer a juror gave in plain words
(a text reply, a phone call): same CSRF check and roles as marking a milestone done. For a
session of several exam days, one entry answers every day (« pour tous les jours ») and each
day apart (« oui sauf jeudi »): :func:`~syncsvc.core.jury.manual_entries` decides the replies,
recorded in one transaction (all or none)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Final
from urllib.parse import quote

from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syncsvc.app.passes import reason_of
from syncsvc.core.jury import ANSWERS, CLEARED, JuryReply, manual_entries
from syncsvc.core.links import parse_day
from syncsvc.errors import ConfigError
from syncsvc.web.common import Context, Form, Web, action, log, not_yours

MAX_NOTE: Final = 500
DAY_FIELD: Final = "answer-"
"""``answer-2027-03-18``: the entry's answer for one exam day (empty: none)."""
SHOWN_FIELD: Final = "was-"
"""``was-2027-03-18``: the answer the panel showed for that day when the entry was filled in."""


@action
def record_answer(web: Web, ctx: Context, form: Form) -> Response:
    request = ctx.request
    session_id = request.path_params["session_id"]
    try:
        view = web.board.snapshot(web.clock()).by_id.get(session_id)
    except ConfigError as exc:
        return web.error(request, 503, "Configuration illisible", str(exc), ctx)
    email = form.get("email", "").strip().lower()
    juror = next((j for j in view.jurors if j.email == email), None) if view else None
    if view is None or juror is None:
        return web.error(
            request, 404, "Membre introuvable", "Ce membre n'est pas du jury de la session.", ctx
        )
    if not ctx.user.may_change(view.session.centre):
        return not_yours(web, ctx, view.session.centre)
    partstat = form.get("partstat", "")
    reply_id = form.get("reply", "")
    handled = int(reply_id) if reply_id.isdigit() else None
    if partstat == "NONE" and handled is not None:  # a message that is no answer: filed
        web.store.mark_reply_handled(handled, ctx.user.name)
        return _back(session_id)
    if partstat and partstat not in (*ANSWERS, CLEARED):  # CLEARED: « sans réponse »
        return web.error(request, 400, "Réponse inconnue", "Choisissez une réponse.", ctx)
    if juror.invitation != "invited" or juror.sequence is None:
        return web.error(
            request,
            409,
            "Pas d'invitation en cours",
            "Ce membre n'a pas d'invitation en cours : il n'y a pas de réponse à enregistrer.",
            ctx,
        )
    exam_dates = set(view.exam_dates)
    written = form.get("day", "")
    day = parse_day(written) if written else None
    wanted = _day_answers(form, exam_dates)
    if wanted is None or (written and (day is None or day not in exam_dates)):
        return web.error(
            request,
            400,
            "Jour inconnu",
            "Choisissez un des jours d'examen de la session, ou « tous les jours ».",
            ctx,
        )
    if any(a is not None and a not in ANSWERS for a in wanted.values()):
        return web.error(request, 400, "Réponse inconnue", "Choisissez une réponse.", ctx)
    if day is not None:  # one day chosen in a single list (the form before the day rows)
        entries: list[tuple[date | None, str]] = [(day, partstat)] if partstat else []
    else:
        shown = {
            d: (form[f"{SHOWN_FIELD}{d.isoformat()}"] or None)
            if f"{SHOWN_FIELD}{d.isoformat()}" in form
            else juror.answer_on(d)
            for d in exam_dates
        }
        entries = manual_entries(partstat or None, wanted, shown, exam_dates)
    if not entries:
        return web.error(
            request,
            400,
            "Rien à enregistrer",
            "Choisissez une réponse pour tous les jours, ou changez celle d'un des jours.",
            ctx,
        )
    note = " ".join(form.get("note", "").split())[:MAX_NOTE] or None
    now = web.clock()
    replies = [
        JuryReply(
            key=f"manual:{session_id}:{email}:{uuid.uuid4().hex}",
            source="manual",
            kind="reply",
            status="applied",
            session_id=session_id,
            email=email,
            name=juror.name,
            partstat=answer,
            sequence=juror.sequence,
            comment=note,
            replied_at=now,
            recorded_at=now,
            by=ctx.user.name,
            day=one_day,
        )
        for one_day, answer in entries
    ]
    try:  # one entry, one transaction: every day's answer, or none
        web.store.record_replies(replies, handled, ctx.user.name)
    except (SQLAlchemyError, OSError) as exc:
        reason = reason_of(exc)
        log.warning("%s : réponse du jury non enregistrée (%s)", session_id, reason)
        return web.error(
            request,
            503,
            "Réponse non enregistrée",
            f"Rien n'a été enregistré ({reason}) : saisissez la réponse à nouveau.",
            ctx,
        )
    log.info(
        "%s : réponse du jury saisie par %s (%s)",
        session_id,
        ctx.user.login,
        ", ".join(_logged(d, a) for d, a in entries),
    )
    return _back(session_id)


def _logged(day: date | None, answer: str) -> str:
    """``DECLINED le 2027-03-18``, ``réponse retirée`` (the whole session)."""
    said = "réponse retirée" if answer == CLEARED else answer
    return f"{said} le {day.isoformat()}" if day is not None else said


def _day_answers(form: Form, exam_dates: set[date]) -> dict[date, str | None] | None:
    """What the entry says of each exam day it lists (None: a field names another day)."""
    wanted: dict[date, str | None] = {}
    for key, value in form.items():
        if key.startswith(DAY_FIELD):
            day = parse_day(key[len(DAY_FIELD) :])
            if day is None or day not in exam_dates:
                return None
            wanted[day] = value or None
    return wanted


def _back(session_id: str) -> Response:
    return RedirectResponse(f"/sessions/{quote(session_id)}?jury=1#jury", status_code=303)


ROUTES = [Route("/sessions/{session_id}/jury/answer", record_answer, methods=["POST"])]
