"""``sync``, ``notify``, ``outbox``, ``done``/``undone``, ``feeds``, ``serve``: the commands
that use the state store."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from syncsvc.app.fence import Fence, Keeper
from syncsvc.app.quick import TargetReport, input_parts, stamp_holds, unchanged_pass
from syncsvc.cli import counts_line
from syncsvc.core.clock import Now, instant, local_today
from syncsvc.core.labels import OUTBOX_LABELS, fr_date, fr_moment, same_zone, zone_label
from syncsvc.core.reconcile import Action
from syncsvc.errors import SyncsvcError, UsageError
from syncsvc.inputs.settings import Settings, TargetSettings, load_settings
from syncsvc.state.store import Store

if TYPE_CHECKING:  # a no-op sync loads neither the configuration nor the planner
    from syncsvc.core.config import Config

EXIT_OK, EXIT_INVALID = 0, 1
BUSY = (
    "le service (syncsvc run) est actif sur cette base d'état : c'est lui qui publie et "
    "envoie ; pour lancer cette commande à la main, arrêter d'abord le service (attendu : "
    "syncsvc run arrêté, ou l'option --dry-run pour voir sans rien faire)"
)
SYMBOLS: dict[Action, str] = {"create": "+", "update": "~", "delete": "-"}


def run(args: argparse.Namespace, now: Now) -> int:
    settings = load_settings(args.config)
    store = Store(settings.store.url)
    store.migrate()
    try:
        if args.command == "feeds":
            people = _load(args, settings) if settings.feeds.per_person else None
            return feeds(settings, store, now, args.rotate, people)
        if args.command == "serve":
            return serve(args, settings, store)
        if args.command == "outbox":
            return outbox(
                store,
                now,
                settings.zone,
                failed=args.failed,
                resend=args.resend,
                show_candidates=getattr(args, "show_candidates", False),
            )
        if args.command == "sync":
            return sync(args, settings, store, now)
        config = _load(args, settings)
        if args.command in ("done", "undone"):
            return mark(args, settings, config, store, now)
        if args.command == "notify":
            return send(settings, config, store, now, dry_run=args.dry_run)
        raise AssertionError(args.command)
    finally:
        store.close()


def _load(args: argparse.Namespace, settings: Settings, *, quiet: bool = False) -> Config:
    """The configuration folder, loaded; its problems on stderr (unless ``quiet``)."""
    from syncsvc.inputs.loader import load_config, load_ruleset

    config = load_config(args.config, load_ruleset(settings.ruleset))
    if not quiet:
        for problem in config.problems:
            print(problem, file=sys.stderr)
    return config


@contextmanager
def active(settings: Settings, store: Store, *, dry_run: bool = False) -> Iterator[Fence | None]:
    """The instance lease for the length of a command that sends or writes (none for a dry
    run); refused when the service runs on the same store: it does the work itself."""
    if dry_run:
        yield None
        return
    fence = Fence.take(store, settings.daemon.lease_seconds)
    if fence is None:
        raise UsageError(BUSY)
    try:
        with Keeper(fence):
            yield fence
    finally:
        fence.give_back()


def sync(args: argparse.Namespace, settings: Settings, store: Store, now: Now) -> int:
    """One pass over the push targets. A target whose stamp holds (nothing changed since its
    last complete pass, see :mod:`syncsvc.app.quick`) costs one request and no rendering; the
    others get a full pass."""
    if args.target is not None and args.target not in {t.name for t in settings.targets}:
        known = ", ".join(t.name for t in settings.targets) or "aucune"
        raise UsageError(f"cible « {args.target} » inconnue (attendu : une de {known})")
    chosen = [
        t
        for t in settings.targets
        if t.kind != "feed" and (args.target is None or t.name == args.target)
    ]
    with active(settings, store, dry_run=args.dry_run) as fence:
        quick: dict[str, TargetReport] = {}
        inputs = None
        if not args.dry_run:
            inputs = input_parts(Path(args.config), store.marks_stamp())
            quick = _unchanged(chosen, Path(args.config), store, inputs.digest(), now)
        rest = [t.name for t in chosen if t.name not in quick]
        reports = list(quick.values())
        if rest:
            from syncsvc.app.sync import Syncer

            config = _load(args, settings)
            syncer = Syncer(store, force=args.force, fence=fence, inputs=inputs)
            reports += syncer.sync_all(settings, config, now, only=rest, dry_run=args.dry_run)
    order = {t.name: i for i, t in enumerate(settings.targets)}
    return print_reports(sorted(reports, key=lambda r: order[r.name]), dry_run=args.dry_run)


def _unchanged(
    chosen: list[TargetSettings], config_dir: Path, store: Store, inputs: str, now: Now
) -> dict[str, TargetReport]:
    """The targets whose pass is over already: their stamp holds and their server reports no
    change (see :func:`syncsvc.app.quick.unchanged_pass`)."""
    from syncsvc.app.apply import RetryPolicy
    from syncsvc.app.targets import make_target
    from syncsvc.calendars.quota import RateLimiters

    done: dict[str, TargetReport] = {}
    retry, limiters = RetryPolicy(), RateLimiters()
    for target_settings in chosen:
        if not stamp_holds(store, target_settings.name, inputs, now):
            continue  # the full pass: no adapter made, no request sent here
        retry.new_pass()
        try:
            target = make_target(target_settings, config_dir, limiters)
        except SyncsvcError:
            continue  # the full pass reports it
        try:
            plan = unchanged_pass(target_settings, target, store, inputs, now, retry)
        finally:
            target.close()
        if plan is not None:
            done[target_settings.name] = TargetReport(target_settings.name, plan=plan)
    return done


def print_reports(reports: list[TargetReport], *, dry_run: bool) -> int:
    if not reports:
        print("aucune cible à synchroniser (voir [[targets]] dans syncsvc.toml)")
    for report in reports:
        plan = report.plan
        counts = (
            {a: plan.count(a) for a in SYMBOLS} if dry_run and plan is not None else report.done
        )
        kept = plan.kept if plan is not None else 0
        print(
            counts_line(report.name, {str(k): n for k, n in counts.items()}, kept, dry_run=dry_run)
        )
        if dry_run and plan is not None:
            for op in plan.operations:
                print(f"  {SYMBOLS[op.action]} {op.uid} ({op.reason})")
        if report.refused:
            print(f"  refusé : {report.refused}")
        for error in report.errors[:10]:
            print(f"  erreur : {error}")
        if len(report.errors) > 10:
            print(f"  … et {len(report.errors) - 10} autre(s) erreur(s)")
    return EXIT_OK if all(r.ok for r in reports) else EXIT_INVALID


def send(settings: Settings, config: Config, store: Store, now: Now, *, dry_run: bool) -> int:
    from syncsvc.app.notify import notify  # mail composition: only for this command

    with active(settings, store, dry_run=dry_run) as fence:
        report = notify(settings, config, store, now, dry_run=dry_run, fence=fence)
    moment = instant(now)
    for item in report.queued:
        # a mail sent by one centre: at that centre's time, named when it is not the service's
        zone = item.zone or settings.zone
        named = "" if same_zone(zone, settings.zone, moment) else f", {zone_label(zone, moment)}"
        print(
            f"{'à envoyer' if dry_run else 'en file'} : {item.recipient} — {item.subject} "
            f"(dû depuis le {fr_moment(item.send_at, zone)}{named})"
        )
    if dry_run:
        print(f"{len(report.queued)} message(s) à envoyer — simulation, rien n'a été envoyé")
        return EXIT_OK
    drained = report.drained
    assert drained is not None
    print(
        f"{len(report.queued)} message(s) mis en file ; envoyés : {drained.sent}, "
        f"à réessayer : {drained.retried}, en échec définitif : {drained.dead}"
    )
    for error in drained.errors[:10]:
        print(f"  erreur : {error}")
    return EXIT_OK if not drained.errors else EXIT_INVALID


def outbox(
    store: Store,
    now: Now,
    zone: tzinfo,
    *,
    failed: bool,
    resend: int | None,
    show_candidates: bool = False,
) -> int:
    """The queue, one line per message; candidates' names and addresses masked unless
    ``show_candidates`` (``--show-candidates``: the data is personal, seeing it is a choice)."""
    from syncsvc.web.privacy import CANDIDATE_KINDS, masked

    if resend is not None:
        if not store.resend(resend, instant(now)):
            raise UsageError(f"aucun envoi en échec numéro {resend} (voir syncsvc outbox --failed)")
        print(f"envoi {resend} remis en file : il partira au prochain syncsvc notify")
        return EXIT_OK
    counts = store.outbox_counts()
    if failed:  # only what was asked for (reported: « envoyé : 15 » under --failed)
        counts = {"dead": counts.get("dead", 0)}
    print(
        ", ".join(f"{OUTBOX_LABELS.get(k, k)} : {v}" for k, v in sorted(counts.items()))
        or "file vide"
    )
    rows = store.messages("dead" if failed else None, limit=200)
    if not show_candidates and any(row.kind in CANDIDATE_KINDS for row in rows):
        rows = [masked(row) for row in rows]
        print("(candidats masqués : --show-candidates pour voir leurs noms et adresses)")
    for row in rows:
        when = fr_moment(row.sent_at or row.created_at, zone)
        detail = f" — {row.last_error}" if row.last_error and row.status != "sent" else ""
        print(
            f"{row.id}\t{OUTBOX_LABELS.get(row.status, row.status)}\t{when}\t{row.recipient}\t"
            f"{row.subject}{detail}"
        )
    return EXIT_OK


def mark(
    args: argparse.Namespace, settings: Settings, config: Config, store: Store, now: Now
) -> int:
    """Mark (or unmark) a milestone, then bring the calendars that show it up to date: at once
    when no service runs on this store, else the running service does it within seconds."""
    from syncsvc.app.marks import (
        file_mark,
        mark_done,
        mark_undone,
        milestone_of,
        targets_showing,
    )
    from syncsvc.app.sync import Syncer

    session = milestone_of(config, args.session, args.milestone)
    in_file = file_mark(session, args.milestone)
    file = config.session_files[session.id]
    if args.command == "undone":
        stored = args.milestone in store.done_marks().get(session.id, {})
        if in_file is not None and not stored:
            day, how = in_file
            raise UsageError(
                f"« {args.milestone} » est marqué fait le {fr_date(day)} dans le fichier de "
                f"session {file}, pas par syncsvc done : rien n'est changé. Pour retirer la "
                f"marque, {how} dans ce fichier."
            )
        mark_undone(store, session.id, args.milestone, who=os.environ.get("USER") or "inconnu")
        print(f"{session.id} / {args.milestone} : marque « fait » retirée")
        if in_file is not None:
            print(
                f"  il reste marqué fait dans le fichier de session {file} : pour le retirer, "
                f"{in_file[1]}"
            )
    else:
        today = local_today(now, config.centres[session.centre].tz)
        on = args.on or today
        if on > today:
            raise UsageError(
                f"date {fr_date(on)} dans le futur (attendu : aujourd'hui, {fr_date(today)}, "
                "ou avant)"
            )
        by = args.by or os.environ.get("USER") or "inconnu"
        mark_done(store, session.id, args.milestone, on, by=by, note=args.note, at=instant(now))
        print(f"{session.id} / {args.milestone} : fait le {fr_date(on)} par {by}")
    names = targets_showing(settings, config, session, args.milestone)
    if not names:
        return EXIT_OK
    fence = Fence.take(store, settings.daemon.lease_seconds)
    if fence is None:
        print("le service en cours met à jour les agendas dans quelques secondes")
        return EXIT_OK
    try:
        with Keeper(fence):
            reports = Syncer(store, fence=fence).sync_all(settings, config, now, only=names)
    finally:
        fence.give_back()
    for report in reports:
        state = "à jour" if report.ok else f"en erreur ({'; '.join(report.errors[:1])})"
        print(f"agenda {report.name} : {state}")
    return EXIT_OK


def feeds(
    settings: Settings,
    store: Store,
    now: Now,
    rotate: str | None,
    config: Config | None = None,
) -> int:
    """Every feed's secret address on standard output (never in a log line): the configured
    feeds, then with ``[feeds] per_person`` (``config`` given) every convened person's, as
    ``personne<TAB>e-mail<TAB>adresse``. ``rotate``: a feed's name, or a person's address."""
    from syncsvc.app.feeds import person_links, rotate_person
    from syncsvc.core.audience import convened_people

    published = [t for t in settings.targets if t.kind == "feed"]
    people = convened_people(config.sessions.values()) if config is not None else {}
    moment = instant(now)
    if rotate is not None and "@" in rotate and config is not None:
        email = rotate.strip().lower()
        if email not in people:
            raise UsageError(
                f"« {rotate} » n'est convoquée à aucune session chargée (attendu : l'adresse "
                "d'un membre du jury, d'un surveillant ou d'un comédien)"
            )
        rotate_person(store, email, moment)
    elif rotate is not None:
        if rotate not in {t.name for t in published}:
            known = ", ".join(t.name for t in published) or "aucun"
            people_too = " ou l'adresse d'une personne convoquée" if config is not None else ""
            raise UsageError(f"flux « {rotate} » inconnu (attendu : un de {known}{people_too})")
        store.rotate_feed_token(rotate, moment)
    if not published and not people:
        print('aucun flux configuré (ajouter une cible kind = "feed" dans syncsvc.toml)')
    base = settings.feeds.base_url.rstrip("/")
    for target in published:
        token = store.feed_token(target.name, moment)
        print(f"{target.name}\t{target.audience}\t{base}/feeds/{token}.ics")
    links = person_links(settings, store, people, moment)
    for email in people:
        print(f"personne\t{email}\t{links[email]}")
    return EXIT_OK


def serve(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    import uvicorn

    from syncsvc.web import create_app

    app = create_app(args.config, settings, store)
    print(f"flux servis sur http://{args.host}:{args.port}/ (syncsvc feeds pour les adresses)")
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return EXIT_OK
