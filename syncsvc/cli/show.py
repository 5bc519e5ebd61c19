"""``syncsvc validate`` and ``syncsvc plan``: read the configuration, show the one plan."""

from __future__ import annotations

import argparse
import gc
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any, TextIO

from syncsvc.app.cancellations import lifted_warnings, stored_history
from syncsvc.app.mailboxes import mailbox_warnings
from syncsvc.app.marks import stored_marks
from syncsvc.core.checks import check_session
from syncsvc.core.clock import Now, instant
from syncsvc.core.config import Config
from syncsvc.core.entries import centre_entry_for, entries_for
from syncsvc.core.labels import (
    KIND_LABELS,
    REDO_LABEL,
    SEVERITY_LABELS,
    STATUS_LABELS,
    capitalised,
    fr_date,
    fr_day,
    roles,
)
from syncsvc.core.mailboxes import ConfigWarning
from syncsvc.core.model import Milestone, Session
from syncsvc.core.planner import (
    CentreMilestone,
    Marks,
    NotApplicable,
    Planned,
    Planning,
    plan_sessions,
    session_order,
)
from syncsvc.core.rules import Rule
from syncsvc.core.titles import session_name, title_for
from syncsvc.core.words import cancellation_text, postponement_texts
from syncsvc.errors import UsageError
from syncsvc.inputs.forked import ChildFailed, can_fork, in_child
from syncsvc.inputs.loader import SHARED_FROM, load_config, load_ruleset
from syncsvc.inputs.settings import load_settings

if TYPE_CHECKING:  # imported where used: json and validate do without rich and icalendar
    from rich.console import Console
    from rich.table import Table

EXIT_OK, EXIT_INVALID = 0, 1
STATUS_STYLES = {
    "overdue": "bold red",
    "due_soon": "yellow",
    "done": "green",
    "pending": "",
    "cancelled": "dim",
}
SEVERITY_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan"}


def run(args: argparse.Namespace, now: Now) -> int:
    with _cycles_left_alone():
        return _run(args, now)


@contextmanager
def _cycles_left_alone() -> Iterator[None]:
    """Without the cyclic garbage collector: loading and planning 10,000 sessions keep every
    object alive until the output is written, and its passes over them cost a fifth of the
    time while finding next to nothing (measured: a few hundred objects at 10,000 sessions; the
    peak memory is the same). Reference counting still frees everything else at once. The
    collector runs again afterwards (tests call this in-process)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(args: argparse.Namespace, now: Now) -> int:
    settings = load_settings(args.config)
    config = load_config(args.config, load_ruleset(settings.ruleset), share=True)
    marks = stored_marks(settings, args.config)
    remarks: list[ConfigWarning] = []
    if args.command == "validate":
        remarks = mailbox_warnings(config, settings)
        remarks += lifted_warnings(config, stored_history(settings), now)
    if _shareable(args, config):
        code = _run_shared(args, config, marks, now, remarks)
        if code is not None:
            return code
    planning = plan_sessions(config, marks, now)
    _print_failed(config, planning.failed)
    if args.command == "validate":
        code = validate(
            config,
            planning.planned,
            now,
            strict=args.strict,
            fmt=args.format,
            remarks=remarks,
        )
        return EXIT_INVALID if planning.failed else code
    code = plan(config, planning, now, args.session, args.format)
    return EXIT_INVALID if planning.failed else code


def _print_failed(config: Config, failed: Mapping[str, str]) -> None:
    for session_id, reason in failed.items():
        file = config.session_files[session_id]
        print(f"{file}: erreur: {reason} [planning_failed]", file=sys.stderr)


# --- two processes for many sessions -----------------------------------------------------------
#
# From SHARED_FROM sessions, ``validate`` and ``plan --format json|jsonl`` (all sessions) share
# the planning and the writing with a forked child (see syncsvc.inputs.forked): the sessions in
# plan order are cut in two, the child plans the second half, sends the sessions whose planning
# failed, writes its half's lines into a temporary file (the same bytes this process would
# write) and sends its counts; this process plans and writes the first half, then copies the
# child's lines after its own. The output is the same, byte for byte, in the same order, and
# the errors too: failures are printed before any output, as without a child. When the child
# fails, this process does its half itself (before writing anything: the whole command, as
# without a child; after: the second half).


def _shareable(args: argparse.Namespace, config: Config) -> bool:
    if args.command == "plan" and (args.session is not None or args.format not in _ROWS):
        return False
    out = sys.stdout
    return (
        len(config.sessions) >= SHARED_FROM
        and hasattr(out, "buffer")
        and bool(getattr(out, "encoding", None))
        and can_fork()
    )


def _run_shared(
    args: argparse.Namespace,
    config: Config,
    marks: Marks,
    now: Now,
    remarks: Sequence[ConfigWarning] = (),
) -> int | None:
    """The command with a child writing the second half; None when no child could start (or
    it failed before anything was written): the caller then runs it in this process."""
    ordered = session_order(config)
    half = len(ordered) // 2
    mine, theirs = ordered[:half], ordered[half:]
    fmt = "text" if args.command == "validate" and args.format == "text" else args.format
    try:
        body = tempfile.TemporaryFile()  # noqa: SIM115 - the with below closes it
    except OSError:  # no writable temporary folder (a read-only container): no child
        return None
    with body:
        child = in_child(lambda: _second_half(args.command, config, marks, now, theirs, fmt, body))
        if child is None:
            return None
        try:
            planning = plan_sessions(config, marks, now, mine)
            try:
                failed = {**planning.failed, **child.receive()}
            except ChildFailed:
                return None

            def rest(output: _Output) -> None:
                try:
                    started, counts = child.receive()
                except ChildFailed:  # this process writes the second half itself
                    part = _part(config, marks, now, theirs)
                    output.add(_lines(args.command, config, part, now, output, fmt))
                    return
                output.append(body, started, counts)

            _print_failed(config, failed)
            if args.command == "validate":
                planned = planning.planned
                code = validate(
                    config,
                    planned,
                    now,
                    strict=args.strict,
                    fmt=args.format,
                    rest=rest,
                    remarks=remarks,
                )
            else:
                code = plan(config, planning, now, None, args.format, rest=rest)
            return EXIT_INVALID if failed else code
        finally:
            child.close()


def _part(config: Config, marks: Marks, now: Now, sessions: list[Session]) -> Planning:
    return plan_sessions(config, marks, now, sessions, centres=False)


def _second_half(
    command: str,
    config: Config,
    marks: Marks,
    now: Now,
    sessions: list[Session],
    fmt: str,
    body: IO[bytes],
) -> Iterator[Any]:
    """In the child: the failed sessions of ``sessions``, then (once its lines are in ``body``)
    whether it wrote any and its counts of findings."""
    planning = _part(config, marks, now, sessions)
    yield planning.failed
    stream = io.TextIOWrapper(body, encoding=sys.stdout.encoding, errors=sys.stdout.errors)
    output = _Output(stream, fmt, bare=True)
    output.add(_lines(command, config, planning, now, output, fmt))
    stream.flush()
    yield output.started, output.counts


def _lines(
    command: str, config: Config, planning: Planning, now: Now, output: _Output, fmt: str
) -> Iterator[str]:
    """What ``command`` writes for the sessions of ``planning`` (without the centres' yearly
    milestones), each line encoded: a finding's line or row (counted in ``output``), a
    milestone's row."""
    if command == "validate":
        return _finding_lines(config, planning.planned, now, output.counts, fmt)
    return _session_rows(planning.planned, planning.not_applicable, _SourceRefs())


def validate(
    config: Config,
    planned: list[Planned],
    now: Now,
    *,
    strict: bool,
    fmt: str = "text",
    rest: Callable[[_Output], None] | None = None,
    remarks: Sequence[ConfigWarning] = (),
) -> int:
    """Every problem of every file, then every finding; ``json``: the findings only, as a list
    of ``{session, centre, code, severity, message}`` on stdout (problems go to stderr).
    ``rest``: adds the findings of the sessions after ``planned`` (a child's). ``remarks``:
    the configuration's warnings about no session (a centre whose jury replies no read mailbox
    receives), first, as findings of severity « avertissement » (``session``: null)."""
    as_json = fmt in ("json", "jsonl")
    for problem in config.problems:
        print(problem, file=sys.stderr if as_json else sys.stdout)
    for warning in config.warnings:  # loaded anyway (a jury value differing from jury.yaml)
        print(
            f"{warning.file}: {SEVERITY_LABELS['warning']}: {warning.field}: {warning.message}",
            file=sys.stderr if as_json else sys.stdout,
        )
    output = _Output(sys.stdout, fmt if as_json else "text")
    output.add(_remark_lines(remarks, output.counts, as_json))
    output.add(_finding_lines(config, planned, now, output.counts, fmt))
    if rest is not None:
        rest(output)
    output.close()
    errors, warnings = output.counts["error"], output.counts["warning"]
    if not as_json:
        broken = len({p.file for p in config.problems})
        print(
            f"{len(config.sessions)} session(s) chargée(s), {broken} fichier(s) en erreur ; "
            f"constats : {errors} erreur(s), {warnings} avertissement(s)"
        )
    return EXIT_INVALID if config.problems or (strict and errors) else EXIT_OK


def _remark_lines(
    remarks: Iterable[ConfigWarning], counts: dict[str, int], as_json: bool
) -> Iterator[str]:
    """Each configuration warning, counted: its JSON row or its line
    (``file: avertissement: where : message [code]``)."""
    encode = _row_encoder()
    label = SEVERITY_LABELS["warning"]
    for remark in remarks:
        counts["warning"] += 1
        if as_json:
            yield encode(
                {
                    "session": None,
                    "centre": remark.centre,
                    "code": remark.code,
                    "severity": "warning",
                    "message": str(remark),
                }
            )
        else:
            yield f"{remark.file}: {label}: {remark.where} : {remark.message} [{remark.code}]"


def _finding_lines(
    config: Config, planned: list[Planned], now: Now, counts: dict[str, int], fmt: str
) -> Iterator[str]:
    """Each finding of each session, counted by severity: its JSON row (``json``, ``jsonl``)
    or its line (``text``: ``file: erreur: message [code]``)."""
    encode = _row_encoder()
    as_json = fmt in _ROWS
    for session, centre, milestones in planned:
        for finding in check_session(session, centre, milestones, now):
            counts[finding.severity] += 1
            if as_json:
                yield encode(
                    {
                        "session": session.id,
                        "centre": centre.id,
                        "code": finding.code,
                        "severity": finding.severity,
                        "message": finding.message,
                    }
                )
            else:
                file = config.session_files[session.id]
                label = SEVERITY_LABELS[finding.severity]
                yield f"{file}: {label}: {finding.message} [{finding.code}]"


def plan(
    config: Config,
    planning: Planning,
    now: Now,
    session_id: str | None,
    fmt: str,
    rest: Callable[[_Output], None] | None = None,
) -> int:
    """The one plan: the centres' yearly milestones (without ``session_id``), then each
    session's milestones and those that do not apply to it (« sans objet », with why).
    ``rest``: adds the rows of the sessions after the planning's (a child's)."""
    planned, yearly = planning.planned, planning.centre_milestones
    if session_id is not None:
        if session_id not in config.sessions:
            if session_id in config.broken_session_ids:
                raise UsageError(
                    f"la session « {session_id} » ne se charge pas : lancer syncsvc validate"
                )
            known = ", ".join(p.session.id for p in planned) or "aucune"
            raise UsageError(f"session « {session_id} » inconnue (attendu : une de {known})")
        planned = [p for p in planned if p.session.id == session_id]
        yearly = []
    for problem in config.problems:
        print(problem, file=sys.stderr)
    apart = planning.not_applicable
    if fmt in _ROWS:
        refs = _SourceRefs()
        encode = _row_encoder()
        output = _Output(sys.stdout, fmt)
        output.add(encode(_centre_row(c, refs)) for c in yearly)
        output.add(_session_rows(planned, apart, refs))
        if rest is not None:
            rest(output)
        output.close()
    elif fmt == "ics":
        from syncsvc.formats.ical import calendar_of

        entries = [centre_entry_for(c.centre, c.year, c.milestone) for c in yearly]
        entries += [e for s, c, ms in planned for m in ms for e in entries_for(s, c, m)]
        sys.stdout.buffer.write(calendar_of(entries, instant(now)))
        sys.stdout.flush()
    else:
        _print_tables(planned, yearly, apart, now)
    return EXIT_INVALID if config.problems else EXIT_OK


def _session_rows(
    planned: list[Planned], apart: Mapping[str, list[NotApplicable]], refs: _SourceRefs
) -> Iterator[str]:
    """Each session's milestone rows then its « sans objet » rows, encoded."""
    encode = _row_encoder()
    text = _RowText(encode, refs)
    for session, centre, milestones in planned:
        whose, transport = session_name(session, centre), session.title.transport
        start = text.session_part(session)
        for m in milestones:  # the summary is summary_for's, its parts found once
            yield text(start, m, title_for([m], whose, transport))
        for n in apart.get(session.id, []):
            yield encode(_apart_row(session, n, refs))


class _RowText:
    """The JSON text of a session's milestone row, exactly ``encode(_json_row(...))`` (tested):
    built from pieces, the parts that come from the rule alone (its id, title, kind, audience
    and sources) encoded once per rule, the others per row with the encoder's own string
    encoding. Dates and instants are ISO text (digits, ``-``, ``:``, ``+``, ``.``, ``T``):
    quoted, nothing to escape. Rules are remembered by identity, each entry holding its rule
    (its id cannot be reused while the output lives)."""

    def __init__(self, encode: Callable[[Any], str], refs: _SourceRefs) -> None:
        self._encode = encode
        self._string: Callable[[str], str] = json.encoder.encode_basestring
        self._refs = refs
        self._rules: dict[int, tuple[Rule, str, str, str]] = {}

    def session_part(self, session: Session) -> str:
        string = self._string
        return f'{{"session": {string(session.id)}, "centre": {string(session.centre)}, '

    def _rule_parts(self, rule: Rule) -> tuple[Rule, str, str, str]:
        hit = self._rules.get(id(rule))
        if hit is None or hit[0] is not rule:
            string, encode = self._string, self._encode
            hit = self._rules[id(rule)] = (
                rule,
                f'"milestone": {string(rule.id)}, "title": {string(rule.title)}, "summary": ',
                f'"kind": {string(rule.kind)}, "audience": {encode(list(rule.audience))}, ',
                f'"sources": {encode(self._refs(rule))}}}',
            )
        return hit

    def __call__(self, start: str, m: Milestone, summary: str) -> str:
        _, head, middle, end = self._rule_parts(m.rule)
        string = self._string
        return (
            f'{start}{head}{string(summary)}, "due": "{m.due.isoformat()}", '
            f'"unshifted": "{m.unshifted.isoformat()}", {middle}'
            f'"status": {string(row_status(m))}, "timing": {string(m.status)}, '
            f'"done_on": {_iso_text(m.done_on)}, "redo_of": {_iso_text(m.redo_of)}, '
            f'"starts_at": {_iso_text(m.starts_at)}, "ends_at": {_iso_text(m.ends_at)}, {end}'
        )


def _iso_text(value: date | datetime | None) -> str:
    """``_iso(value)`` as JSON: ``null`` or the quoted ISO text."""
    return "null" if value is None else f'"{value.isoformat()}"'


_ROWS = ("json", "jsonl")
_BATCH = 256
"""Lines encoded before one write: fewer, larger writes, still a few hundred Ko at most."""


def _row_encoder() -> Callable[[Mapping[str, Any]], str]:
    """``json.dumps(row, ensure_ascii=False)``, the same text: the C encoder made once, not once
    per row as :meth:`json.JSONEncoder.encode` does (the pure-Python one when C is missing)."""
    make = getattr(json.encoder, "c_make_encoder", None)  # not in the stubs
    if make is None:  # pragma: no cover - CPython always has it
        return json.JSONEncoder(ensure_ascii=False).encode
    default = json.JSONEncoder().default
    encode = make(
        None, default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True
    )
    join = "".join
    return lambda row: join(encode(row, 0))


class _Output:
    """Lines streamed to ``out`` as they come, in batches: ``jsonl`` and ``text``, one per
    line; ``json``, the same lines inside one list (valid JSON, still one row per line; rows
    encoded by the C encoder, no indent). Nothing is held but a batch of lines.

    ``bare``: only the lines and their separators, no opening nor closing (a child's half, that
    :meth:`append` puts after the parent's lines). ``counts``: findings by severity."""

    def __init__(self, out: TextIO, fmt: str, *, bare: bool = False) -> None:
        self._out = out
        self._json = fmt == "json"
        self._separator = ",\n" if self._json else "\n"
        self._opening = "" if bare or not self._json else "[\n"
        self.started = False
        self.counts = {"error": 0, "warning": 0, "info": 0}

    def _before(self) -> str:
        return self._separator if self.started else self._opening

    def add(self, lines: Iterable[str]) -> None:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) == _BATCH:
                self._out.write(self._before() + self._separator.join(batch))
                self.started, batch = True, []
        if batch:
            self._out.write(self._before() + self._separator.join(batch))
            self.started = True

    def append(self, body: IO[bytes], started: bool, counts: Mapping[str, int]) -> None:
        """A child's bare lines, in ``body``, after these; its counts added to these."""
        for severity, count in counts.items():
            self.counts[severity] += count
        if not started:
            return
        self._out.write(self._before())
        self._out.flush()
        body.seek(0)
        shutil.copyfileobj(body, self._out.buffer, 1 << 20)
        self.started = True

    def close(self) -> None:
        if self._json:
            self._out.write("\n]\n" if self.started else "[]\n")
        elif self.started:
            self._out.write("\n")
        self._out.flush()


class _SourceRefs:
    """The distinct source references of each rule, computed once per rule for one output
    (keyed by the rule object's identity: the ruleset lives as long as the output)."""

    def __init__(self) -> None:
        self._refs: dict[int, list[str]] = {}

    def __call__(self, rule: Rule) -> list[str]:
        refs = self._refs.get(id(rule))
        if refs is None:
            refs = self._refs[id(rule)] = list(dict.fromkeys(s.ref for s in rule.sources))
        return refs


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json_row(
    session: Session, milestone: Milestone, summary: str, refs: _SourceRefs
) -> dict[str, Any]:
    """A session's milestone; ``summary``: its calendar title (:func:`summary_for`)."""
    return {
        "session": session.id,
        "centre": session.centre,
        "milestone": milestone.id,
        "title": milestone.title,
        "summary": summary,
        "due": milestone.due.isoformat(),
        "unshifted": milestone.unshifted.isoformat(),
        "kind": milestone.kind,
        "audience": list(milestone.audience),
        "status": row_status(milestone),
        "timing": milestone.status,
        "done_on": _iso(milestone.done_on),
        "redo_of": _iso(milestone.redo_of),
        "starts_at": _iso(milestone.starts_at),
        "ends_at": _iso(milestone.ends_at),
        "sources": refs(milestone.rule),
    }


def row_status(milestone: Milestone) -> str:
    """A plan row's ``status``: the milestone's (``pending``, ``due_soon``, ``overdue``,
    ``done``, ``cancelled`` for every milestone of a cancelled session), or ``redo`` for one
    done before the session was postponed, to do again (``timing`` then says whether it is
    pending, due soon or overdue, from its new due day)."""
    return "redo" if milestone.redo else milestone.status


def _centre_row(yearly: CentreMilestone, refs: _SourceRefs) -> dict[str, Any]:
    """A centre's yearly milestone: no session, the centre and the year instead."""
    m = yearly.milestone
    return {
        "session": None,
        "centre": yearly.centre.id,
        "year": yearly.year,
        "milestone": m.id,
        "title": m.title,
        "summary": centre_entry_for(yearly.centre, yearly.year, m).summary,
        "due": m.due.isoformat(),
        "unshifted": m.unshifted.isoformat(),
        "kind": m.kind,
        "audience": list(m.audience),
        "status": m.status,
        "done_on": _iso(m.done_on),
        "starts_at": None,
        "ends_at": None,
        "sources": refs(m.rule),
    }


def _apart_row(session: Session, apart: NotApplicable, refs: _SourceRefs) -> dict[str, Any]:
    """A milestone that does not apply: ``due`` is the day it would have had."""
    rule = apart.rule
    return {
        "session": session.id,
        "centre": session.centre,
        "milestone": apart.id,
        "title": apart.title,
        "due": _iso(apart.due),
        "kind": rule.kind,
        "audience": list(rule.audience),
        "status": "not_applicable",
        "reason": apart.reason,
        "sources": refs(rule),
    }


def _console() -> Console:
    from rich.console import Console

    terminal = sys.stdout.isatty()
    return Console(highlight=False, width=None if terminal else 160, soft_wrap=not terminal)


def _row(table: Table, m: Milestone, title: str) -> None:
    from rich.text import Text

    style = STATUS_STYLES[m.status]
    status = capitalised(STATUS_LABELS[m.status])
    if m.redo_of is not None:
        status = f"{capitalised(REDO_LABEL)} ({STATUS_LABELS[m.status]})"
        style = style or "magenta"
    table.add_row(
        fr_day(m.due) + ("*" if m.due != m.unshifted else ""),
        Text(title),
        Text(m.id),
        capitalised(KIND_LABELS[m.kind]),
        roles(m.audience),
        Text(status, style=style),
        style=style if m.status == "overdue" else None,
    )


def _table(title: str) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title), title_justify="left")
    for column in ("Échéance", "Jalon", "Identifiant", "Type", "Pour", "Statut"):
        table.add_column(column, no_wrap=column == "Identifiant")  # to copy for `done`
    return table


def _print_tables(
    planned: list[Planned],
    yearly: list[CentreMilestone],
    apart: Mapping[str, list[NotApplicable]],
    now: Now,
) -> None:
    from rich.text import Text

    console = _console()
    for centre_id in dict.fromkeys(c.centre.id for c in yearly):
        mine = [c for c in yearly if c.centre.id == centre_id]
        table = _table(f"{mine[0].centre.name} — échéances annuelles du centre")
        for c in mine:
            _row(table, c.milestone, f"{c.milestone.title} {c.year}")
        console.print(table)
        console.print()
    for session, centre, milestones in planned:
        table = _table(
            f"[{session.short_label}] {session.title.code} {session.title.label} "
            f"({session.nature.upper()}) — {centre.name}, du {fr_date(session.start)} au "
            f"{fr_date(session.end)}"
        )
        for m in milestones:
            _row(table, m, m.title)
        console.print(table)
        console.print(Text(f"  marquer fait : syncsvc done {session.id} <identifiant>"))
        for line in [cancellation_text(session), *postponement_texts(session)]:
            if line:
                console.print(Text(f"  {line}", style="bold"))
        for n in apart.get(session.id, []):
            console.print(Text(f"  sans objet : {n.title} — {n.reason}", style="dim"))
        for finding in check_session(session, centre, milestones, now):
            label = SEVERITY_LABELS[finding.severity]
            colour = SEVERITY_COLOURS[finding.severity]
            console.print(Text(f"  {label} : {finding.message}", style=colour))
        console.print()
    shown = [m for p in planned for m in p.milestones] + [c.milestone for c in yearly]
    if any(m.due != m.unshifted for m in shown):
        console.print("* échéance déplacée sur un jour ouvré (week-end ou jour férié)")
