"""Command line: ``syncsvc COMMAND``, a face over the use cases of :mod:`syncsvc.app`.

Every command that depends on "today" takes ``--now`` (see :mod:`syncsvc.core.clock` for what
a date, a date-time with and without an offset mean). Errors a user can cause end with one
French line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

from syncsvc import __version__
from syncsvc.core.clock import Now
from syncsvc.errors import ConfigError, UsageError

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def counts_line(name: str, counts: Mapping[str, int], kept: int, *, dry_run: bool = False) -> str:
    """The line ``sync`` prints for one target."""
    return (
        f"{name} : {counts['create']} création(s), {counts['update']} mise(s) à jour, "
        f"{counts['delete']} suppression(s), {kept} inchangé(s)"
        + (" — simulation, rien n'a été écrit" if dry_run else "")
    )


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


def parse_now(value: str) -> Now:
    """``AAAA-MM-JJ`` (each centre's local day), ``AAAA-MM-JJTHH:MM`` (that time in each centre's
    zone) or ``AAAA-MM-JJTHH:MM+HH:MM`` (that instant)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"date « {value} » invalide (attendu : AAAA-MM-JJ, ex. 2027-01-15, ou "
            "2027-01-15T09:00, ou 2027-01-15T09:00+01:00)"
        ) from None


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"date « {value} » invalide (attendu : AAAA-MM-JJ, ex. 2027-01-15)"
        ) from None


def _config_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--config",
        type=Path,
        default=Path("config"),
        metavar="DOSSIER",
        help="dossier contenant syncsvc.toml, centres.yaml et sessions/ (défaut : config)",
    )


def _common(sub: argparse.ArgumentParser) -> None:
    _config_option(sub)
    sub.add_argument(
        "--now",
        type=parse_now,
        default=None,
        metavar="AAAA-MM-JJ",
        help="date du jour à utiliser (défaut : aujourd'hui)",
    )


def _add_show(commands: Any) -> None:
    validate = commands.add_parser("validate", help="vérifier les fichiers de configuration")
    _common(validate)
    validate.add_argument(
        "--strict", action="store_true", help="échouer aussi sur les constats de gravité « erreur »"
    )
    validate.add_argument(
        "--format",
        choices=("text", "json", "jsonl"),
        default="text",
        help="text (défaut), json : la liste des constats (session, centre, code, severity, "
        "message), ou jsonl : un constat JSON par ligne",
    )
    plan = commands.add_parser("plan", help="afficher les jalons calculés")
    plan.add_argument(
        "session", nargs="?", metavar="SESSION_ID", help="une seule session (défaut : toutes)"
    )
    _common(plan)
    plan.add_argument(
        "--format",
        choices=("table", "json", "jsonl", "ics"),
        default="table",
        help="table (défaut), json (une liste, un jalon par ligne), jsonl (un objet JSON par "
        "ligne, sans crochets) ou ics",
    )


def _add_sync(commands: Any) -> None:
    sync = commands.add_parser("sync", help="publier les jalons dans les agendas configurés")
    _common(sync)
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
    _common(feeds)
    feeds.add_argument(
        "--rotate",
        metavar="NOM",
        help="remplacer le jeton du flux NOM, ou de l'agenda de la personne convoquée à cette "
        "adresse e-mail (l'ancienne adresse cesse de marcher)",
    )


def _add_mail(commands: Any) -> None:
    notify = commands.add_parser(
        "notify", help="envoyer les rappels, alertes, points hebdomadaires et invitations dus"
    )
    _common(notify)
    notify.add_argument(
        "--dry-run",
        action="store_true",
        help="afficher destinataires, objets et heures, sans rien envoyer",
    )

    outbox = commands.add_parser("outbox", help="voir la file des e-mails")
    _common(outbox)
    outbox.add_argument("--failed", action="store_true", help="seulement les envois en échec")
    outbox.add_argument(
        "--resend", type=int, metavar="N", help="remettre en file l'envoi en échec numéro N"
    )
    outbox.add_argument(
        "--show-candidates",
        action="store_true",
        help="afficher les noms et adresses des candidats (masqués par défaut)",
    )


def _add_jury(commands: Any) -> None:
    inbox = commands.add_parser(
        "inbox", help="lire les réponses du jury dans la boîte de l'organisateur (IMAP)"
    )
    _common(inbox)
    inbox.add_argument(
        "--once",
        action="store_true",
        help="une seule lecture (la lecture continue est celle du service)",
    )
    jury = commands.add_parser("jury", help="voir qui a répondu aux invitations du jury")
    jury.add_argument(
        "session", nargs="?", metavar="SESSION_ID", help="une seule session (défaut : toutes)"
    )
    _common(jury)
    jury.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (défaut) ou json : session, email, name, partstat, replied_at, sequence…",
    )


def _add_marks(commands: Any) -> None:
    done = commands.add_parser("done", help="marquer une échéance comme faite")
    _common(done)
    done.add_argument("session", metavar="SESSION_ID")
    done.add_argument("milestone", metavar="JALON")
    done.add_argument(
        "--on",
        type=parse_day,
        metavar="AAAA-MM-JJ",
        help="date où c'est fait (défaut : aujourd'hui)",
    )
    done.add_argument("--by", default=None, metavar="NOM", help="qui l'a fait")
    done.add_argument("--note", default=None, metavar="TEXTE", help="observations")

    undone = commands.add_parser("undone", help="annuler une marque « fait »")
    _common(undone)
    undone.add_argument("session", metavar="SESSION_ID")
    undone.add_argument("milestone", metavar="JALON")


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser("serve", help="servir les flux ICS en HTTP")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (défaut 8080)")


def _add_maintenance(commands: Any) -> None:
    backup = commands.add_parser(
        "backup", help="sauvegarder la base d'état SQLite (service arrêté)"
    )
    _config_option(backup)
    backup.add_argument("file", type=Path, metavar="FICHIER", help="fichier de sauvegarde à créer")
    restore = commands.add_parser(
        "restore", help="remplacer la base d'état SQLite par une sauvegarde (service arrêté)"
    )
    _config_option(restore)
    restore.add_argument("file", type=Path, metavar="FICHIER", help="sauvegarde à restaurer")
    reinstate = commands.add_parser(
        "reinstate",
        help="rétablir une session annulée (aperçu, puis --apply), comme le bouton « Rétablir "
        "la session » du tableau de bord",
    )
    _common(reinstate)
    reinstate.add_argument("what", metavar="SESSION_ID", help="la session annulée à rétablir")
    reinstate.add_argument(
        "--motif", default=None, metavar="TEXTE", help="pourquoi la session est rétablie"
    )
    reinstate.add_argument(
        "--par", default=None, metavar="NOM", help="qui la rétablit (défaut : $USER)"
    )
    reinstate.add_argument(
        "--apply",
        action="store_true",
        help="écrire le fichier et la trace (sans cette option : aperçu seulement)",
    )
    move = commands.add_parser(
        "migrate-store", help="copier la base d'état vers une autre base neuve (ex. PostgreSQL)"
    )
    _config_option(move)
    move.add_argument(
        "--to", required=True, metavar="URL", help="adresse de la nouvelle base (vide)"
    )


def _add_long_running(commands: Any) -> None:
    run = commands.add_parser("run", help="lancer le service (démon, tableau de bord, flux)")
    _config_option(run)
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
    _config_option(demo)
    demo.add_argument(
        "--var",
        type=Path,
        default=Path("var"),
        metavar="DOSSIER",
        help="où garder l'état de la démonstration (défaut var)",
    )
    demo.add_argument("--log-format", choices=("text", "json"), default="text")
    commands.add_parser("hash-password", help="calculer l'empreinte d'un mot de passe (web)")


def _add_spreadsheets(commands: Any) -> None:
    from syncsvc.cli.spreadsheets import add_commands

    add_commands(commands, _common)


def build_parser() -> argparse.ArgumentParser:
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
    for add in (
        _add_show,
        _add_sync,
        _add_mail,
        _add_jury,
        _add_marks,
        _add_serve,
        _add_maintenance,
        _add_long_running,
        _add_spreadsheets,
    ):
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    now: Now = getattr(args, "now", None) or datetime.now(UTC)
    try:
        if args.command in ("run", "demo", "hash-password"):
            from syncsvc.cli import processes

            return processes.run(args)
        if args.config is not None and not args.config.is_dir():
            raise ConfigError(
                f"dossier de configuration « {args.config} » introuvable (attendu : un dossier "
                "contenant syncsvc.toml, centres.yaml et sessions/ ; option --config)"
            )
        if args.command == "reinstate":
            from syncsvc.cli import sessions

            return sessions.reinstate(args, now)
        if args.command in ("backup", "restore", "migrate-store"):
            from syncsvc.cli import maintenance

            return maintenance.run(args)
        if args.command in ("inbox", "jury"):
            from syncsvc.cli import jury

            return jury.run(args, now)
        if args.command in ("import", "export"):
            from syncsvc.cli import spreadsheets

            return spreadsheets.run(args, now)
        if args.command in ("validate", "plan"):
            from syncsvc.cli import show

            return show.run(args, now)
        if args.command == "sync" and not args.dry_run:
            from syncsvc.app.unchanged import unchanged_sync

            quick = unchanged_sync(args.config, args.target, now, force=args.force)
            if quick is not None:  # little or nothing to do, done without the heavy imports
                for target in quick:
                    print(counts_line(target.name, target.done, target.kept))
                    for error in target.errors[:10]:
                        print(f"  erreur : {error}")
                    if len(target.errors) > 10:
                        print(f"  … et {len(target.errors) - 10} autre(s) erreur(s)")
                return EXIT_INVALID if any(t.errors for t in quick) else EXIT_OK
        from syncsvc.cli import service

        return service.run(args, now)
    except (ConfigError, UsageError) as exc:
        print(f"syncsvc : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the state store or a file out of reach: one French line
        from sqlalchemy.exc import SQLAlchemyError  # imported here: --help stays light

        if not isinstance(exc, OSError | SQLAlchemyError):
            raise
        from syncsvc.app.passes import reason_of

        print(f"syncsvc : {reason_of(exc)}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return EXIT_OK
