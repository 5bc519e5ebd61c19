"""What a change to a session file will do, before it is written: the dashboard's preview.

A proposed content (plain values, as :mod:`syncsvc.inputs.writer` writes them) is checked with
the loader's own checks without writing anything (:func:`check_values`); then the session as
it is and the session as proposed are planned with the same planner and rendered with the same
renderer the sync uses (:func:`preview`), and compared:

- *moves*: milestones whose due day changes (old → new), that appear or that disappear;
- *resumed*: milestones cancelled before the change and running after it (a restored session);
- *targets*: per calendar target, the items the next sync will create, update or remove
  (compared with the session as it is, rendered; or, for a file in error whose items the sync
  keeps as they are, with what the store recorded on each target: :func:`held_items`);
- *jury*: what the sender will do for each person invited to the exam, decided by the sender's
  own functions (:func:`syncsvc.core.invitations.changes` with the store's invitation states,
  :func:`syncsvc.core.invitations.session_holds` from the findings): an invitation, an update,
  a cancellation, or an invitation held (habilitation, conflict of interest…) with its reasons;
  nothing for a session already over;
- *errors*: the findings of severity « erreur » the change creates (absent before it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from syncsvc.app.desired import Renderer
from syncsvc.core.checks import check_session
from syncsvc.core.config import Config
from syncsvc.core.invitations import InvitationState, Role, changes, session_holds, upcoming
from syncsvc.core.model import Centre, Finding, Milestone, Session
from syncsvc.core.planner import Planned, plan_session
from syncsvc.core.rules import customise
from syncsvc.errors import ConfigError, Problem
from syncsvc.inputs.loader import check_session_file, session_of
from syncsvc.inputs.settings import Settings
from syncsvc.inputs.writer import Change, merge, plain, read_draft, render
from syncsvc.inputs.writer import changes as field_changes

if TYPE_CHECKING:
    from syncsvc.state.store import Store

JuryNews = Literal["invitation", "update", "cancel", "held"]


@dataclass(frozen=True, slots=True)
class Move:
    """One milestone whose due day changes (``before`` None: it appears; ``after`` None: it
    disappears)."""

    milestone_id: str
    title: str
    before: date | None
    after: date | None


@dataclass(frozen=True, slots=True)
class TargetNews:
    """What the next sync will do on one calendar target for this session."""

    target: str
    created: int
    updated: int
    removed: int

    @property
    def any(self) -> bool:
        return bool(self.created or self.updated or self.removed)


@dataclass(frozen=True, slots=True)
class JurorNews:
    name: str
    email: str
    news: JuryNews
    reasons: tuple[str, ...] = ()
    """Why the invitation is held (the findings' messages), for ``held``."""
    invited: bool = False
    """Held, but already invited: the invitation received stands (syncsvc sends neither an
    update nor a cancellation; the coordinators decide)."""
    role: Role = "jury"


@dataclass
class Preview:
    changes: tuple[Change, ...]
    """Field by field (dotted paths), as the audit will record them."""
    moves: list[Move] = field(default_factory=list)
    resumed: list[Milestone] = field(default_factory=list)
    """Milestones cancelled before the change that run again after it (not done), as the
    planner dates them."""
    targets: list[TargetNews] = field(default_factory=list)
    jury: list[JurorNews] = field(default_factory=list)
    past: bool = False
    """The session is over: its jury gets no message."""
    errors: list[Finding] = field(default_factory=list)
    """Findings of severity « erreur » that the change creates."""


def proposed_text(path: Path, values: Mapping[str, Any]) -> str:
    """The text the writer would write at ``path`` for ``values`` (comments and order kept)."""
    return render(merge(read_draft(path).tree, values))


def masked(text: str) -> str:
    """A session file's text for a page: the candidates' names (``candidates.list``) replaced
    by how many they are. A text that cannot be read is not shown."""
    if not text.strip():
        return text
    try:
        tree = YAML(typ="rt").load(text)
    except Exception:  # any parse error: nothing of it reaches the page
        return "(texte illisible, non affiché)"
    candidates = tree.get("candidates") if isinstance(tree, CommentedMap) else None
    if isinstance(candidates, CommentedMap):
        for key in ("list", "named"):
            if key in candidates:
                count = len(candidates[key]) if isinstance(candidates[key], list) else 0
                candidates[key] = f"({count} candidat(s) nommé(s), masqué(s) ici)"
    return render(tree)


def check_values(config: Config, path: Path, values: Mapping[str, Any]) -> list[Problem]:
    """The loader's problems for ``values`` written at ``path`` (nothing is written)."""
    return check_session_file(config, path, proposed_text(path, values).encode("utf-8"))


def _planned(
    config: Config, session: Session | None, marks: Mapping[str, date], now: datetime
) -> Planned | None:
    if session is None or session.centre not in config.centres:
        return None
    centre = config.centres[session.centre]
    ruleset = config.rulesets.get(centre.id, config.ruleset)
    return Planned(session, centre, plan_session(session, centre, ruleset, now, marks))


def _moves(before: Sequence[Milestone], after: Sequence[Milestone]) -> list[Move]:
    old = {m.id: m for m in before}
    new = {m.id: m for m in after}
    moves = [
        Move(m.id, m.title, old[m.id].due if m.id in old else None, m.due)
        for m in after
        if m.id not in old or old[m.id].due != m.due
    ]
    moves += [Move(m.id, m.title, m.due, None) for m in before if m.id not in new]
    return moves


def _resumed(before: Sequence[Milestone], after: Sequence[Milestone]) -> list[Milestone]:
    cancelled = {m.id for m in before if m.status == "cancelled"}
    return [m for m in after if m.id in cancelled and m.status not in ("cancelled", "done")]


def _jury(
    planned: Planned | None, states: Mapping[tuple[str, str], InvitationState], now: datetime
) -> list[JurorNews]:
    """What the sender will do for each person of ``planned`` (the session as proposed), with
    the store's invitation ``states``: the sender's own decision, not a second rule."""
    if planned is None:
        return []
    session = planned.session
    own = {key: state for key, state in states.items() if key[0] == session.id}
    found = session_holds(session, planned.centre, planned.milestones, now)
    reasons: dict[str, list[str]] = {}
    for hold in found:
        reasons.setdefault(hold.email, []).append(hold.reason)
    held = frozenset((session.id, email) for email in reasons)
    news: list[JurorNews] = []
    for change in changes([planned], own, frozenset(), held):
        if change.method == "CANCEL":
            news.append(JurorNews(change.name, change.email, "cancel", role=change.role))
        else:
            kind: JuryNews = "update" if change.update else "invitation"
            news.append(JurorNews(change.name, change.email, kind, role=change.role))
    for person in session.jury:
        if person.email in reasons and all(n.email != person.email for n in news):
            state = own.get((session.id, person.email))
            invited = state is not None and state.status == "invited"
            why = tuple(reasons.pop(person.email))
            news.append(JurorNews(person.name, person.email, "held", why, invited))
    return news


def _new_errors(old: Planned | None, new: Planned | None, now: datetime) -> list[Finding]:
    """The findings of severity « erreur » of ``new`` that ``old`` did not have (same code, same
    juror)."""
    if new is None:
        return []
    before: set[tuple[str, str | None]] = set()
    if old is not None:
        found = check_session(old.session, old.centre, old.milestones, now)
        before = {(f.code, f.juror) for f in found if f.severity == "error"}
    found = check_session(new.session, new.centre, new.milestones, now)
    return [f for f in found if f.severity == "error" and (f.code, f.juror) not in before]


def preview(
    config: Config,
    settings: Settings,
    before: Session | None,
    after: Session,
    marks: Mapping[str, date],
    now: datetime,
    before_values: Any = None,
    after_values: Any = None,
    states: Mapping[tuple[str, str], InvitationState] | None = None,
    held: Mapping[str, Mapping[str, str]] | None = None,
) -> Preview:
    """What writing ``after`` in place of ``before`` (None: a new session) will do, with the
    store's done ``marks`` of the session and its invitation ``states``, at ``now``. ``held``:
    what each target holds now for the session (:func:`held_items`), compared instead of
    ``before`` rendered."""
    old, new = _planned(config, before, marks, now), _planned(config, after, marks, now)
    result = Preview(field_changes(plain(before_values), plain(after_values)))
    result.moves = _moves(old.milestones if old else [], new.milestones if new else [])
    result.resumed = _resumed(old.milestones if old else [], new.milestones if new else [])
    renderer = Renderer()
    for target in settings.targets:
        if held is None:
            rendered = renderer.desired(target, [old] if old else [], settings.dashboard_url)
            was = {uid: d.content_hash for uid, d in rendered.items()}
        else:
            was = dict(held.get(target.name, {}))
        will = renderer.desired(target, [new] if new else [], settings.dashboard_url)
        created = sum(1 for uid in will if uid not in was)
        removed = sum(1 for uid in was if uid not in will)
        updated = sum(1 for uid, d in will.items() if uid in was and was[uid] != d.content_hash)
        result.targets.append(TargetNews(target.name, created, updated, removed))
    if new is not None and not upcoming(new.session, new.centre, now):
        result.past = True
    else:
        result.jury = _jury(new, states or {}, now)
    result.errors = _new_errors(old, new, now)
    return result


def held_items(settings: Settings, store: Store, session_id: str) -> dict[str, dict[str, str]]:
    """What each calendar target holds now for ``session_id``, as the store recorded its
    writes (UID → content hash): the items a file in error keeps."""
    held: dict[str, dict[str, str]] = {}
    for target in settings.targets:
        recorded = store.recorded(target.name)
        held[target.name] = {
            uid: r.content_hash for uid, r in recorded.items() if r.session_id == session_id
        }
    return held


def stored_preview(
    config: Config,
    settings: Settings,
    store: Store,
    before: Session | None,
    values: Any,
    proposed: Mapping[str, Any],
    now: datetime,
    held: Mapping[str, Mapping[str, str]] | None = None,
) -> Preview:
    """What writing ``proposed`` (a session file's plain values, checked by the loader) in place
    of ``values`` will do, with the store's done marks and invitation states: the one preview
    of every face (« Modifier », reporter, annuler, rétablir, corriger ; ``syncsvc reinstate``)."""
    after = session_of(config, proposed)
    if after is None:  # pragma: no cover - the loader's checks passed
        raise ConfigError("session illisible après vérification")
    marks = store.done_marks().get(after.id, {})
    states = store.invitation_states()
    return preview(config, settings, before, after, marks, now, values, proposed, states, held)


@dataclass(frozen=True, slots=True)
class SessionMoves:
    """The milestones of one session of a centre whose due day changes with the centre."""

    session: Session
    moves: list[Move]


def centre_moves(
    config: Config,
    after: Centre,
    marks: Mapping[tuple[str, str], date],
    now: datetime,
) -> list[SessionMoves]:
    """What a centre written as ``after`` changes in the plan of each of its sessions (the same
    planner as the sync): milestones that move, that start or that stop applying. ``marks``:
    the store's done marks by (session, milestone)."""
    before = config.centres.get(after.id)
    if before is None:
        return []
    old_rules = config.rulesets.get(after.id, config.ruleset)
    new_rules, _ = customise(config.ruleset, after.rules)
    out: list[SessionMoves] = []
    for session in sorted(config.sessions.values(), key=lambda s: (s.start, s.id)):
        if session.centre != after.id:
            continue
        done = {m: d for (s, m), d in marks.items() if s == session.id}
        old = plan_session(session, before, old_rules, now, done)
        new = plan_session(session, after, new_rules, now, done)
        moves = _moves(old, new)
        if moves:
            out.append(SessionMoves(session, moves))
    return out
