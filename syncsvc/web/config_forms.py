"""What the pages that edit a configuration file share (the jury directory, the centres).

A form carries the version of the file it was opened on; saving goes through
:class:`syncsvc.app.authoring.Authoring` (validated by the loader, version-checked, atomic,
audited). A refused change comes back as the loader's French problems, by field; a file changed
meanwhile comes back as a conflict page with both versions, nothing overwritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from starlette.responses import Response

from syncsvc.app.authoring import Authoring
from syncsvc.core.config import Config
from syncsvc.core.fields import shown
from syncsvc.errors import Problem
from syncsvc.inputs.writer import WriteConflict
from syncsvc.web.common import Context, Web, log

_DAY = re.compile(r"\s*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\s*")
_SEPARATORS = re.compile(r"[\s,;]+")


def fresh_config(web: Web) -> Config:
    """The configuration as the files are now (whatever the source's recheck pace)."""
    web.source.invalidate()
    return web.source.current()


def authoring(web: Web) -> Authoring:
    return Authoring(web.source.config_dir, web.store, lambda _directory: fresh_config(web))


def saved(web: Web) -> None:
    """After a write: the next page reads the files again."""
    web.source.invalidate()


def day_or_text(value: str) -> date | str:
    """``jj/mm/aaaa`` (or ``aaaa-mm-jj``) as a date; anything else as written, for the loader
    to refuse in its own words."""
    found = _DAY.fullmatch(value)
    try:
        if found:
            return date(int(found[3]), int(found[2]), int(found[1]))
        return date.fromisoformat(value.strip())
    except ValueError:
        return value.strip()


def day_message(value: str) -> str:
    """What is wrong with a date typed in a form, in the form's own format."""
    return f"date {shown(value)} illisible (attendu : jj/mm/aaaa, ex. 30/06/2028)"


def int_or_text(value: str) -> int | str:
    text = value.strip()
    return int(text) if text.isdigit() else text


def items(value: str) -> list[str]:
    """A list typed in one field: separated by commas, semicolons or spaces."""
    return [item for item in _SEPARATORS.split(value) if item]


def by_field(problems: Iterable[Problem], file: Path, prefix: str) -> dict[str, str]:
    """The problems of ``file`` under ``prefix`` (``c.maillot@jury.example.``), by the rest of
    their field path (``habilitation_until``, ``titles[1]`` → ``titles``)."""
    found: dict[str, str] = {}
    for problem in problems:
        if problem.file == str(file) and problem.field.startswith(prefix):
            name = problem.field[len(prefix) :].split("[", 1)[0].split(".", 1)[0]
            found.setdefault(name, problem.message)
    return found


def conflict_page(web: Web, ctx: Context, exc: WriteConflict, back: str) -> Response:
    log.warning("%s : conflit d'écriture de %s", ctx.user.login, exc.path.name)
    return web.html(
        ctx.request,
        "config_conflict.j2",
        status_code=409,
        ctx=ctx,
        message=str(exc),
        current=exc.current,
        proposed=exc.proposed,
        back=back,
    )


def admin_only(web: Web, ctx: Context) -> Response | None:
    """A 403 page for anyone but an administrator, else None."""
    if ctx.user.role == "admin":
        return None
    request = ctx.request
    log.warning(
        "%s %s 403 : %s n'est pas administrateur", request.method, request.url.path, ctx.user.login
    )
    return web.error(
        request,
        403,
        "Page réservée",
        "Les centres et leurs agréments ne sont accessibles qu'aux administrateurs.",
        ctx,
    )


def may_edit(web: Web, ctx: Context) -> Response | None:
    """A 403 page for a viewer (read only), else None."""
    if ctx.user.can_act:
        return None
    return web.error(
        ctx.request,
        403,
        "Action réservée",
        "Votre compte permet de consulter le tableau de bord, pas de le modifier : demandez à "
        "un coordinateur ou à un administrateur.",
        ctx,
    )
