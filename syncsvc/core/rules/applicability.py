"""Whether a rule applies to a session: its ``condition``, evaluated (pure).

The vocabulary is in :mod:`syncsvc.core.rules.ruleset`. Each part is decided from the session,
its centre and the done marks only; :func:`why_not` gives the French reason a milestone is
« sans objet », or None when it applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from syncsvc.core.labels import fr_date

if TYPE_CHECKING:
    from syncsvc.core.model import Centre, Session
    from syncsvc.core.rules.ruleset import Condition, Rule, Ruleset

CENTRE_OPTION_LABELS = {"candidate_info_mail": "le mail d'information aux candidats"}
"""What each centre option a condition may name turns on, in French."""


def covers(agrement: Any, session: Session) -> bool:
    """Whether ``agrement`` covers the session's title on its last day.

    The version of the title counts when both sides give it (``title.version`` of the session,
    ``title_version`` of the agrément: optional fields, read with a None default so that this
    works with and without them); a side that does not give it matches any version.
    """
    if agrement.title_code != session.title.code or agrement.until < session.end:
        return False
    wanted = getattr(session.title, "version", None)
    held = getattr(agrement, "title_version", None)
    return wanted is None or held is None or wanted == held


def _agrement_reason(session: Session, centre: Centre) -> str | None:
    covering = [a for a in centre.agrements if covers(a, session)]
    if not covering:
        return None
    best = max(covering, key=lambda a: a.until)
    version = getattr(best, "title_version", None)
    title = session.title.code + (f" (version {version})" if version is not None else "")
    return (
        f"l'agrément du centre pour {title} court jusqu'au {fr_date(best.until)}, après la fin "
        f"de la session ({fr_date(session.end)}) : aucune demande à déposer"
    )


def why_not(
    rule: Rule,
    session: Session,
    centre: Centre,
    marks: Mapping[str, date],
    ruleset: Ruleset,
) -> str | None:
    """Why ``rule`` does not apply to ``session`` (French), or None when it applies."""
    condition: Condition | None = rule.condition
    if condition is None:
        return None
    if condition.agrement_missing:
        reason = _agrement_reason(session, centre)
        if reason is not None:
            return reason
    if condition.not_done is not None and condition.not_done in marks:
        done = condition.not_done
        title = ruleset.rule(done).title if done in ruleset.ids else done
        return f"« {title} » est marqué fait (le {fr_date(marks[done])})"
    if condition.postponed and not session.postponed:
        return "la session n'a pas été reportée (aucun report dans postponed)"
    option = condition.centre_enables
    if option is not None and not getattr(centre, option, False):
        return (
            f"{CENTRE_OPTION_LABELS[option]} n'est pas activé pour {centre.name} "
            f"({option}: true dans centres.yaml pour l'activer)"
        )
    return None
