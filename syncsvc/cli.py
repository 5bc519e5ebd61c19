"""Command line: a thin shell over loader, planner, checks and ical.

Every command that depends on "today" takes ``--now``. Errors a user can cause end with one
French line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table
from rich.text import Text

from syncsvc import __version__
from syncsvc.app.sync import TargetReport, as_moment, sync_all
from syncsvc.core.checks import check_session
from syncsvc.core.model import Finding, Milestone, Session
from syncsvc.core.planner import plan_session
from syncsvc.formats.ical import KIND_LABELS, STATUS_LABELS, calendar_of, summary_for
from syncsvc.inputs.loader import Config, ConfigError, load_config, load_ruleset
from syncsvc.inputs.settings import Settings, SettingsError, load_settings
from syncsvc.state.store import Store

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
SEVERITY_LABELS = {"error": "erreur", "warning": "avertissement", "info": "info"}
STATUS_STYLES = {"overdue": "bold red", "due_soon": "yellow", "done": "green", "pending": ""}
WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
AUDIENCE_LABELS = {
    "coordinators": "coordination",
    "session_manager": "resp. session",
    "deputy_manager": "suppléant",
    "centre_management": "direction",
    "jury": "jury",
}


class UsageError(Exception):
    """A mistake on the command line or in what it names (one French line)."""


_ARGPARSE_FR = [
    (r"the following arguments are required: (.*)", r"argument(s) obligatoire(s) manquant(s) : \1"),
    (r"unrecognized arguments: (.*)", r"argument(s) inconnu(s) : \1"),
    (
        r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)",
        r"argument \1 : choix \2 invalide (attendu : \3)",
    ),
    (r"argument (\S+): expected one argument", r"argument \1 : une valeur est attendue"),
    (r"argument (\S+): (.*)", r"argument \1 : \2"),
]


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")

    def error(self, message: str) -> NoReturn:
        for pattern, replacement in _ARGPARSE_FR:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, replacement, message)
                break
        self.exit(EXIT_USAGE, f"syncsvc : {message} (voir syncsvc --help)\n")


def parse_now(value: str) -> date | datetime:
    """``YYYY-MM-DD`` (the centre's local day) or an ISO date-time with an offset."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"date « {value} » invalide (attendu : AAAA-MM-JJ, ex. 2027-01-15)"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"« {value} » sans fuseau horaire (attendu : AAAA-MM-JJ ou 2027-01-15T09:00+01:00)"
        )
    return moment


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="syncsvc",
        description="Calendrier et rappels des sessions d'examen du Titre Professionnel.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"syncsvc {__version__}",
        help="afficher la version et quitter",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMANDE", parser_class=_Parser
    )

    def config_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--config",
            type=Path,
            default=Path("config"),
            metavar="DOSSIER",
            help="dossier contenant syncsvc.toml, centres.yaml et sessions/ (défaut : config)",
        )

    def common(sub: argparse.ArgumentParser) -> None:
        config_option(sub)
        sub.add_argument(
            "--now",
            type=parse_now,
            default=None,
            metavar="AAAA-MM-JJ",
            help="date du jour à utiliser (défaut : aujourd'hui)",
        )

    validate = commands.add_parser("validate", help="vérifier les fichiers de configuration")
    common(validate)
    validate.add_argument(
        "--strict", action="store_true", help="échouer aussi sur les constats de gravité « erreur »"
    )

    plan = commands.add_parser("plan", help="afficher les jalons calculés")
    plan.add_argument(
        "session", nargs="?", metavar="SESSION_ID", help="une seule session (défaut : toutes)"
    )
    common(plan)
    plan.add_argument(
        "--format",
        choices=("table", "json", "ics"),
        default="table",
        help="table (défaut), json ou ics",
    )

    sync = commands.add_parser("sync", help="publier les jalons dans les agendas configurés")
    common(sync)
    sync.add_argument(
        "--once", action="store_true", help="une seule passe (le mode continu est celui du démon)"
    )
    sync.add_argument(
        "--dry-run", action="store_true", help="afficher ce qui serait fait, sans rien écrire"
    )
    sync.add_argument(
        "--force",
        action="store_true",
        help="autoriser des suppressions massives (voir max_delete_share)",
    )
    sync.add_argument("--target", metavar="NOM", help="une seule cible")

    feeds = commands.add_parser("feeds", help="lister les adresses des flux ICS")
    common(feeds)
    feeds.add_argument(
        "--rotate",
        metavar="NOM",
        help="remplacer le jeton du flux NOM (l'ancienne adresse cesse de marcher)",
    )

    notify = commands.add_parser(
        "notify", help="envoyer les rappels, alertes, points hebdomadaires et invitations dus"
    )
    common(notify)
    notify.add_argument(
        "--dry-run",
        action="store_true",
        help="afficher destinataires, objets et heures, sans rien envoyer",
    )

    outbox = commands.add_parser("outbox", help="voir la file des e-mails")
    common(outbox)
    outbox.add_argument("--failed", action="store_true", help="seulement les envois en échec")
    outbox.add_argument(
        "--resend", type=int, metavar="N", help="remettre en file l'envoi en échec numéro N"
    )

    done = commands.add_parser("done", help="marquer une échéance comme faite")
    common(done)
    done.add_argument("session", metavar="SESSION_ID")
    done.add_argument("milestone", metavar="JALON")
    done.add_argument(
        "--on",
        type=date.fromisoformat,
        metavar="AAAA-MM-JJ",
        help="date où c'est fait (défaut : aujourd'hui)",
    )
    done.add_argument("--by", default=None, metavar="NOM", help="qui l'a fait")
    done.add_argument("--note", default=None, metavar="TEXTE", help="observations")

    undone = commands.add_parser("undone", help="annuler une marque « fait »")
    common(undone)
    undone.add_argument("session", metavar="SESSION_ID")
    undone.add_argument("milestone", metavar="JALON")

    run = commands.add_parser("run", help="lancer le service (démon, tableau de bord, flux)")
    config_option(run)
    run.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="format des journaux (défaut text)",
    )
    run.add_argument(
        "--now",
        type=parse_now,
        default=None,
        metavar="AAAA-MM-JJTHH:MM+HH:MM",
        help="faire comme si l'on était à cette date (l'horloge avance ensuite)",
    )
    run.add_argument("--host", default=None, help="adresse d'écoute du tableau de bord")
    run.add_argument("--port", type=int, default=None, help="port du tableau de bord")

    demo = commands.add_parser(
        "demo", help="lancer le service avec un Radicale et une capture d'e-mails locaux"
    )
    config_option(demo)
    demo.add_argument(
        "--var",
        type=Path,
        default=Path("var"),
        metavar="DOSSIER",
        help="où garder l'état de la démonstration (défaut var)",
    )
    demo.add_argument("--log-format", choices=("text", "json"), default="text")

    commands.add_parser("hash-password", help="calculer l'empreinte d'un mot de passe (web)")

    serve = commands.add_parser("serve", help="servir les flux ICS en HTTP")
    common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (défaut 8080)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command in ("run", "demo", "hash-password"):
        return _long_running(args)
    now: date | datetime = args.now or datetime.now(UTC)
    try:
        if args.command in ("sync", "feeds", "serve", "notify", "outbox", "done", "undone"):
            return _service_command(args, now)
        config = load_config(args.config)
        if args.command == "validate":
            return _validate(config, now, strict=args.strict)
        return _plan(config, now, args.session, args.format)
    except (ConfigError, UsageError, SettingsError) as exc:
        print(f"syncsvc : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


def _clock_from(start: date | datetime | None) -> Callable[[], datetime]:
    """The wall clock, or one that starts at ``start`` and then runs at normal speed."""
    if start is None:
        return lambda: datetime.now(UTC)
    origin = as_moment(start)
    began = time.monotonic()
    return lambda: origin + timedelta(seconds=time.monotonic() - began)


def _long_running(args: argparse.Namespace) -> int:
    if args.command == "hash-password":
        import getpass

        from syncsvc.web.auth import hash_password

        first = getpass.getpass("Mot de passe : ")
        if first != getpass.getpass("Encore une fois : "):
            print("syncsvc : les deux saisies diffèrent", file=sys.stderr)
            return EXIT_USAGE
        print(hash_password(first))
        return EXIT_OK
    try:
        if not args.config.is_dir():
            raise ConfigError(
                f"dossier de configuration « {args.config} » introuvable (attendu : un dossier "
                "contenant syncsvc.toml, centres.yaml et sessions/ ; option --config)"
            )
        if args.command == "demo":
            from syncsvc.demo import run_demo

            return run_demo(args.config, args.var, args.log_format)
        import asyncio

        from syncsvc.daemon import Daemon, setup_logging

        setup_logging(args.log_format)
        settings = load_settings(args.config)
        web = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
        if web:
            settings = settings.model_copy(update={"web": settings.web.model_copy(update=web)})
        store = Store(settings.store.url)
        try:
            daemon = Daemon(args.config, settings, store, clock=_clock_from(args.now))
            return asyncio.run(daemon.run())
        finally:
            store.close()
    except (ConfigError, SettingsError, UsageError) as exc:
        print(f"syncsvc : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK


def _service_command(args: argparse.Namespace, now: date | datetime) -> int:
    if not args.config.is_dir():
        raise ConfigError(
            f"dossier de configuration « {args.config} » introuvable (attendu : un dossier "
            "contenant syncsvc.toml, centres.yaml et sessions/ ; option --config)"
        )
    settings = load_settings(args.config)
    store = Store(settings.store.url)
    store.migrate()
    try:
        if args.command == "feeds":
            return _feeds(settings, store, as_moment(now), args.rotate)
        if args.command == "serve":
            return _serve(args, settings, store)
        if args.command == "outbox":
            return _outbox(store, as_moment(now), failed=args.failed, resend=args.resend)
        config = load_config(args.config, load_ruleset(settings.ruleset))
        if args.command in ("done", "undone"):
            return _mark(args, config, store, now)
        if args.command == "notify":
            for problem in config.problems:
                print(problem, file=sys.stderr)
            return _notify(settings, config, store, as_moment(now), dry_run=args.dry_run)
        config = load_config(args.config, load_ruleset(settings.ruleset))
        for problem in config.problems:
            print(problem, file=sys.stderr)
        if args.target is not None and args.target not in {t.name for t in settings.targets}:
            known = ", ".join(t.name for t in settings.targets) or "aucune"
            raise UsageError(f"cible « {args.target} » inconnue (attendu : une de {known})")
        reports = sync_all(
            settings,
            config,
            store,
            as_moment(now),
            only=args.target,
            dry_run=args.dry_run,
            force=args.force,
        )
        return _print_reports(reports, dry_run=args.dry_run)
    finally:
        store.close()


def _notify(
    settings: Settings, config: Config, store: Store, now: datetime, *, dry_run: bool
) -> int:
    from syncsvc.app.notify import notify

    report = notify(settings, config, store, now, dry_run=dry_run)
    for item in report.queued:
        when = item.send_at.astimezone(UTC).strftime("%d/%m/%Y %H:%M UTC")
        print(
            f"{'à envoyer' if dry_run else 'en file'} : {item.recipient} — {item.subject} "
            f"(dû depuis le {when})"
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


def _outbox(store: Store, now: datetime, *, failed: bool, resend: int | None) -> int:
    if resend is not None:
        if not store.resend(resend, now):
            raise UsageError(f"aucun envoi en échec numéro {resend} (voir syncsvc outbox --failed)")
        print(f"envoi {resend} remis en file : il partira au prochain syncsvc notify")
        return EXIT_OK
    labels = {
        "pending": "en attente",
        "sent": "envoyé",
        "dead": "en échec",
        "skipped": "non envoyé",
    }
    counts = store.outbox_counts()
    print(", ".join(f"{labels.get(k, k)} : {v}" for k, v in sorted(counts.items())) or "file vide")
    for row in store.messages("dead" if failed else None, limit=200):
        when = (row.sent_at or row.created_at).astimezone(UTC).strftime("%d/%m/%Y %H:%M")
        detail = f" — {row.last_error}" if row.last_error and row.status != "sent" else ""
        print(
            f"{row.id}\t{labels.get(row.status, row.status)}\t{when}\t{row.recipient}\t"
            f"{row.subject}{detail}"
        )
    return EXIT_OK


def _mark(args: argparse.Namespace, config: Config, store: Store, now: date | datetime) -> int:
    session = config.sessions.get(args.session)
    if session is None:
        known = ", ".join(sorted(config.sessions)) or "aucune"
        raise UsageError(f"session « {args.session} » inconnue (attendu : une de {known})")
    ruleset = config.rulesets[session.centre]
    if args.milestone not in ruleset.ids:
        raise UsageError(
            f"jalon « {args.milestone} » inconnu (attendu : un de {', '.join(ruleset.ids)})"
        )
    moment = as_moment(now)
    if args.command == "undone":
        store.mark_undone(session.id, args.milestone)
        print(f"{session.id} / {args.milestone} : marque « fait » retirée")
        return EXIT_OK
    centre = config.centres[session.centre]
    on = args.on or (
        now
        if isinstance(now, date) and not isinstance(now, datetime)
        else moment.astimezone(centre.tz).date()
    )
    by = args.by or os.environ.get("USER") or "inconnu"
    store.mark_done(session.id, args.milestone, on, by, args.note, moment)
    print(f"{session.id} / {args.milestone} : fait le {on:%d/%m/%Y} par {by}")
    return EXIT_OK


def _print_reports(reports: list[TargetReport], *, dry_run: bool) -> int:
    if not reports:
        print("aucune cible à synchroniser (voir [[targets]] dans syncsvc.toml)")
    for report in reports:
        plan = report.plan
        if dry_run and plan is not None:
            counts = {a: plan.count(a) for a in ("create", "update", "delete")}
        else:
            counts = report.done
        kept = plan.kept if plan is not None else 0
        print(
            f"{report.name} : {counts['create']} création(s), {counts['update']} mise(s) à jour, "
            f"{counts['delete']} suppression(s), {kept} inchangé(s)"
            + (" — simulation, rien n'a été écrit" if dry_run else "")
        )
        if dry_run and plan is not None:
            symbols = {"create": "+", "update": "~", "delete": "-"}
            for op in plan.operations:
                print(f"  {symbols[op.action]} {op.uid} ({op.reason})")
        if report.refused:
            print(f"  refusé : {report.refused}")
        for error in report.errors[:10]:
            print(f"  erreur : {error}")
        if len(report.errors) > 10:
            print(f"  … et {len(report.errors) - 10} autre(s) erreur(s)")
    return EXIT_OK if all(r.ok for r in reports) else EXIT_INVALID


def _feeds(settings: Settings, store: Store, now: datetime, rotate: str | None) -> int:
    feeds = [t for t in settings.targets if t.kind == "feed"]
    if rotate is not None:
        if rotate not in {t.name for t in feeds}:
            known = ", ".join(t.name for t in feeds) or "aucun"
            raise UsageError(f"flux « {rotate} » inconnu (attendu : un de {known})")
        store.rotate_feed_token(rotate, now)
    if not feeds:
        print('aucun flux configuré (ajouter une cible kind = "feed" dans syncsvc.toml)')
    base = settings.feeds.base_url.rstrip("/")
    for target in feeds:
        token = store.feed_token(target.name, now)
        print(f"{target.name}\t{target.audience}\t{base}/feeds/{token}.ics")
    return EXIT_OK


def _serve(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    import uvicorn

    from syncsvc.web.app import create_app

    app = create_app(args.config, settings, store)
    print(f"flux servis sur http://{args.host}:{args.port}/ (syncsvc feeds pour les adresses)")
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return EXIT_OK


def _console() -> Console:
    terminal = sys.stdout.isatty()
    return Console(highlight=False, width=None if terminal else 160, soft_wrap=not terminal)


def _findings(config: Config, now: date | datetime) -> list[tuple[Session, Finding]]:
    found = []
    for session in config.sessions.values():
        centre = config.centres[session.centre]
        milestones = plan_session(session, centre, config.rulesets[centre.id], now)
        found += [(session, f) for f in check_session(session, centre, milestones, now)]
    return found


def _validate(config: Config, now: date | datetime, *, strict: bool) -> int:
    for problem in config.problems:
        print(problem)
    findings = _findings(config, now)
    for session, finding in findings:
        file = config.session_files[session.id]
        print(f"{file}: {SEVERITY_LABELS[finding.severity]}: {finding.message} [{finding.code}]")
    errors = sum(1 for _, f in findings if f.severity == "error")
    warnings = sum(1 for _, f in findings if f.severity == "warning")
    broken = len({p.file for p in config.problems})
    print(
        f"{len(config.sessions)} session(s) chargée(s), {broken} fichier(s) en erreur ; "
        f"constats : {errors} erreur(s), {warnings} avertissement(s)"
    )
    if config.problems or (strict and errors):
        return EXIT_INVALID
    return EXIT_OK


def _plan(config: Config, now: date | datetime, session_id: str | None, fmt: str) -> int:
    sessions = sorted(config.sessions.values(), key=lambda s: (s.start, s.id))
    if session_id is not None:
        if session_id not in config.sessions:
            if session_id in config.broken_session_ids:
                raise UsageError(
                    f"la session « {session_id} » ne se charge pas : lancer syncsvc validate"
                )
            known = ", ".join(s.id for s in sessions) or "aucune"
            raise UsageError(f"session « {session_id} » inconnue (attendu : une de {known})")
        sessions = [config.sessions[session_id]]
    for problem in config.problems:
        print(problem, file=sys.stderr)
    planned = [
        (s, plan_session(s, config.centres[s.centre], config.rulesets[s.centre], now))
        for s in sessions
    ]
    if fmt == "json":
        rows = [_json_row(s, m) for s, milestones in planned for m in milestones]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "ics":
        generated_at = (
            now if isinstance(now, datetime) else datetime.combine(now, clock_time(0), tzinfo=UTC)
        )
        items = [(s, config.centres[s.centre], m) for s, milestones in planned for m in milestones]
        sys.stdout.buffer.write(calendar_of(items, generated_at))
        sys.stdout.flush()
    else:
        _print_tables(config, planned, now)
    return EXIT_INVALID if config.problems else EXIT_OK


def _json_row(session: Session, milestone: Milestone) -> dict[str, Any]:
    return {
        "session": session.id,
        "milestone": milestone.id,
        "title": milestone.title,
        "summary": summary_for(session, milestone),
        "due": milestone.due.isoformat(),
        "unshifted": milestone.unshifted.isoformat(),
        "kind": milestone.kind,
        "audience": list(milestone.audience),
        "status": milestone.status,
        "done_on": milestone.done_on.isoformat() if milestone.done_on else None,
        "starts_at": milestone.starts_at.isoformat() if milestone.starts_at else None,
        "ends_at": milestone.ends_at.isoformat() if milestone.ends_at else None,
        "sources": list(dict.fromkeys(s.ref for s in milestone.rule.sources)),
    }


def _fr_day(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}"


def _print_tables(
    config: Config, planned: list[tuple[Session, list[Milestone]]], now: date | datetime
) -> None:
    console = _console()
    for session, milestones in planned:
        centre = config.centres[session.centre]
        table = Table(
            title=(
                f"[{session.short_label}] {session.title.code} {session.title.label} "
                f"({session.nature.upper()}) — {centre.name}, du {session.start:%d/%m/%Y} au "
                f"{session.end:%d/%m/%Y}"
            ),
            title_justify="left",
        )
        for column in ("Échéance", "Jalon", "Type", "Pour", "Statut"):
            table.add_column(column)
        for m in milestones:
            style = STATUS_STYLES[m.status]
            shifted = "*" if m.due != m.unshifted else ""
            table.add_row(
                _fr_day(m.due) + shifted,
                m.title,
                KIND_LABELS[m.kind],
                ", ".join(AUDIENCE_LABELS[a] for a in m.audience),
                Text(STATUS_LABELS[m.status], style=style),
                style=style if m.status == "overdue" else None,
            )
        console.print(table)
        findings = check_session(session, centre, milestones, now)
        for finding in findings:
            colour = {"error": "red", "warning": "yellow", "info": "cyan"}[finding.severity]
            console.print(
                Text(f"  {SEVERITY_LABELS[finding.severity]} : {finding.message}", style=colour)
            )
        console.print()
    if any(m.due != m.unshifted for _, ms in planned for m in ms):
        console.print("* échéance déplacée sur un jour ouvré (week-end ou jour férié)")
