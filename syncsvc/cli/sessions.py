"""``syncsvc reinstate SESSION_ID --motif …``: a cancelled session restored from the command line,
as « Rétablir la session » does it on the dashboard (:mod:`syncsvc.app.restoring`: the same
preview, the same write, the same trace). Without ``--apply``, the preview only."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from syncsvc.core.clock import Now, instant, local_today
from syncsvc.core.labels import (
    HELD_BUT_INVITED,
    JURY_NEWS_LABELS,
    PREVIEW_HEADINGS,
    PREVIEW_NONE,
    ROLE_NAMES,
    STATUS_LABELS,
    fr_date,
    target_news,
)
from syncsvc.errors import UsageError

if TYPE_CHECKING:
    from syncsvc.app.preview import Preview
    from syncsvc.app.restoring import Cancelled

EXIT_OK = 0


def reinstate(args: argparse.Namespace, now: Now) -> int:
    from syncsvc.app.authoring import Authoring
    from syncsvc.app.restoring import REASON_MISSING, find_cancelled, reason_of, restore_preview
    from syncsvc.core.cancellations import history_lines, restored_text
    from syncsvc.inputs.loader import load_config, load_ruleset
    from syncsvc.inputs.settings import load_settings
    from syncsvc.inputs.writer import WriteConflict
    from syncsvc.state.store import Store

    session_id = str(args.what)
    reason = reason_of(args.motif)
    if not reason:
        raise UsageError(f'session « {session_id} » : {REASON_MISSING[:-1]}, --motif "…")')
    settings = load_settings(args.config)
    ruleset = load_ruleset(settings.ruleset)
    config = load_config(args.config, ruleset)
    found = find_cancelled(config, session_id)
    by = " ".join((args.par or os.environ.get("USER") or "inconnu").split())
    at = instant(now)
    store = Store(settings.store.url)
    try:
        store.migrate()
        if not args.apply:
            shown = restore_preview(config, settings, store, found, at)
            tz = config.centres[found.session.centre].tz
            for line in preview_lines(found, shown, config.directory):
                print(line)
            trace = restored_text(local_today(at, tz), by, reason)
            print(f"Sera noté dans l'historique de l'annulation : « {trace} »")
            print(
                "Aperçu seulement : rien n'a été écrit. Relancer avec --apply pour rétablir "
                "la session."
            )
            return EXIT_OK
        authoring = Authoring(args.config, store, lambda d: load_config(d, ruleset))
        try:
            from syncsvc.app.restoring import restore as restore_session

            restore_session(authoring, store, found, user=by, name=by, reason=reason, now=at)
        except WriteConflict as exc:
            raise UsageError(
                f"session « {session_id} » : {exc} ; rien n'est rétabli (attendu : relancer la "
                "commande sur le fichier tel qu'il est maintenant)"
            ) from None
        records = store.cancellation_history([session_id]).get(session_id, [])
    finally:
        store.close()
    file = _relative(found, config.directory)
    print(f"Session {session_id} rétablie : « cancelled: » retiré de {file}.")
    tz = config.centres[found.session.centre].tz
    for line in history_lines(records[-1:], tz):
        print(f"  {line}")
    print(
        "Les agendas et le jury suivent au prochain passage (le service s'il tourne, sinon "
        "syncsvc sync --once et syncsvc notify)."
    )
    return EXIT_OK


def _relative(found: Cancelled, directory: Path) -> str:
    try:
        return str(found.path.relative_to(directory))
    except ValueError:  # pragma: no cover - the path is built from the folder
        return str(found.path)


def preview_lines(found: Cancelled, shown: Preview, directory: Path) -> list[str]:
    """The dashboard's restore preview, as text: what comes back, per calendar, per person."""
    from syncsvc.core.words import cancellation_text

    session = found.session
    lines = [
        f"Session {session.id} ({session.short_label}, du {fr_date(session.start)} au "
        f"{fr_date(session.end)})",
        f"  {cancellation_text(session)}",
        f"Rétablir la session retire « cancelled: » du fichier {_relative(found, directory)} ; "
        "le reste du fichier ne change pas.",
        "",
        f"{PREVIEW_HEADINGS['resumed']} ({len(shown.resumed)}) :",
    ]
    lines += [
        f"  {fr_date(m.due) if m.due else '—'}  {m.title} ({STATUS_LABELS[m.status]})"
        for m in shown.resumed
    ]
    lines.append("")
    if shown.moves:
        lines.append(f"{PREVIEW_HEADINGS['moves']} ({len(shown.moves)}) :")
        lines += [
            f"  {m.title} : {fr_date(m.before) if m.before else '(nouveau)'} → "
            f"{fr_date(m.after) if m.after else '(disparaît)'}"
            for m in shown.moves
        ]
        lines.append("")
    lines.append(f"{PREVIEW_HEADINGS['targets']} :")
    lines += [
        f"  {t.target} : {target_news(t.created, t.updated, t.removed)}" for t in shown.targets
    ]
    if not shown.targets:
        lines.append(f"  {PREVIEW_NONE['targets']}")
    lines += ["", f"{PREVIEW_HEADINGS['jury']} :"]
    if shown.past:
        lines.append(f"  {PREVIEW_NONE['past']}")
    elif not shown.jury:
        lines.append(f"  {PREVIEW_NONE['jury']}")
    for j in shown.jury:
        who = f"{j.name} <{j.email}>" + (f" ({ROLE_NAMES[j.role]})" if j.role != "jury" else "")
        if j.news == "held":
            said = f"{JURY_NEWS_LABELS['held']} : {' ; '.join(j.reasons)}"
            said += f" ({HELD_BUT_INVITED})" if j.invited else ""
        else:
            said = JURY_NEWS_LABELS[j.news]
        lines.append(f"  {who} : {said}")
    if shown.errors:
        lines += ["", f"{PREVIEW_HEADINGS['errors']} ({len(shown.errors)}) :"]
        lines += [f"  {f.message} [{f.code}]" for f in shown.errors]
    lines.append("")
    return lines
