"""A rule's words for one session of one centre: placeholders filled, sources titled (pure).

The planner calls :func:`filled` on every rule it plans, so that a milestone's ``rule`` carries
the words its readers get: the centre's own service (« DDETS du Rhône ») and addresses in its
texts (see :mod:`syncsvc.core.rules.words` for the vocabulary) and, on each source, the full
title from the ruleset's sources table. Every face then shows the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from syncsvc.core.administration import exam_service_email
from syncsvc.core.labels import fr_date
from syncsvc.core.model import Centre, Session
from syncsvc.core.rules import Rule, Source, fill
from syncsvc.core.rules.words import TEXT_FIELDS


def words_for(centre: Centre, session: Session | None = None) -> dict[str, str]:
    """What each placeholder becomes for ``session`` at ``centre`` (None: a centre's own
    milestone, such as the annual programming)."""
    return {
        "ud_name": centre.ud_name,
        "ud_email": centre.ud_email,
        "exam_office_email": centre.exam_office_email,
        "exam_service_email": exam_service_email(
            centre.sector, session.nature if session is not None else None
        ),
        "centre_name": centre.name,
    }


_FILLED: dict[tuple[int, tuple[tuple[str, str], ...], int], tuple[Rule, object, Rule]] = {}
"""Rules already filled, by (rule, words, sources table): a centre's sessions share their words
(only the exam-service address differs for a CCP session), so planning 10,000 sessions fills
each rule a few times, not 10,000 times. Each entry holds its rule and table, so their ids
cannot be reused while it lives."""
_FILLED_SIZE = 4096


def filled(rule: Rule, values: Mapping[str, str], sources: Mapping[str, Source]) -> Rule:
    """``rule`` with its placeholders filled from ``values`` and each source of the table
    titled; the same object when there is nothing to change."""
    return _filled_once(rule, tuple(sorted(values.items())), values, sources)


def filler(values: Mapping[str, str], sources: Mapping[str, Source]) -> Callable[[Rule], Rule]:
    """:func:`filled` for many rules with the same words (a session's): the words' key is
    made once, not once per rule."""
    words = tuple(sorted(values.items()))
    return lambda rule: _filled_once(rule, words, values, sources)


def _filled_once(
    rule: Rule,
    words: tuple[tuple[str, str], ...],
    values: Mapping[str, str],
    sources: Mapping[str, Source],
) -> Rule:
    key = (id(rule), words, id(sources))
    hit = _FILLED.get(key)
    if hit is not None and hit[0] is rule and hit[1] is sources:
        return hit[2]
    result = _filled(rule, values, sources)
    if len(_FILLED) >= _FILLED_SIZE:
        _FILLED.clear()
    _FILLED[key] = (rule, sources, result)
    return result


def _filled(rule: Rule, values: Mapping[str, str], sources: Mapping[str, Source]) -> Rule:
    changes: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        text = getattr(rule, name)
        if text and ("{" in text or "}" in text):
            changes[name] = fill(text, values)
    if any(s.title is None and s.ref in sources for s in rule.sources):
        changes["sources"] = tuple(
            s.model_copy(update={"title": sources[s.ref].label})
            if s.title is None and s.ref in sources
            else s
            for s in rule.sources
        )
    return rule.model_copy(update=changes) if changes else rule


# --- sources, as readers see them ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Citation:
    """One source of a rule, with everything the rule takes from it."""

    ref: str
    name: str
    """The source's full label (title, what it is, issuer, date), or its reference."""
    quotes: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``S2 : « Guide de préparation de la session » (…)``: the reference first, as the
        rule's notes name it."""
        return self.name if self.name == self.ref else f"{self.ref} : {self.name}"


def citations(rule: Rule) -> list[Citation]:
    """The rule's sources in the order it cites them, one per source."""
    found: dict[str, Citation] = {}
    for source in rule.sources:
        known = found.get(source.ref, Citation(source.ref, source.name))
        found[source.ref] = Citation(
            known.ref,
            known.name,
            known.quotes + ((source.quote,) if source.quote else ()),
            known.articles + ((source.article,) if source.article else ()),
        )
    return list(found.values())


def sources_text(rule: Rule) -> str:
    """The rule's sources as plain text (calendar descriptions, mails): each source by its full
    title, then its quotes word for word, one per line."""
    lines = []
    for cited in citations(rule):
        head = f"- {cited.label}"
        if cited.articles:
            head += f", {' ; '.join(cited.articles)}"
        lines.append(head + (" :" if cited.quotes else ""))
        lines += [f"  « {quote} »" for quote in cited.quotes]
    return "Sources :\n" + "\n".join(lines) if lines else ""


# --- a session's cancellation and postponements ------------------------------------------------


def _span(start: date, end: date) -> str:
    return f"le {fr_date(start)}" if start == end else f"du {fr_date(start)} au {fr_date(end)}"


def cancellation_text(session: Session) -> str | None:
    """« Session annulée le 11/01/2027 : <raison> » (the day and reason when the file gives
    them, else « Session annulée »); None when the session is not cancelled."""
    cancelled = session.cancelled
    if cancelled is None:
        return None
    text = "Session annulée"
    if cancelled.on is not None:
        text += f" le {fr_date(cancelled.on)}"
    return text + (f" : {cancelled.reason}" if cancelled.reason else "")


def postponement_texts(session: Session) -> list[str]:
    """« Session reportée le 05/01/2027 (motif) : du 15/03/2027 au 19/03/2027 → du 12/04/2027
    au 16/04/2027 », one line per postponement, oldest first."""
    lines = []
    steps = session.postponed
    for index, step in enumerate(steps):
        after = steps[index + 1] if index + 1 < len(steps) else None
        new_start = after.from_start if after else session.start
        new_end = after.from_end if after else session.end
        lines.append(
            f"Session reportée le {fr_date(step.on)} ({step.reason}) : "
            f"{_span(step.from_start, step.from_end)} → {_span(new_start, new_end)}"
        )
    return lines
