"""``backup``, ``restore``, ``migrate-store``: the state store's upkeep (service stopped)."""

from __future__ import annotations

import argparse

from sqlalchemy.engine import make_url

from syncsvc.app import maintenance
from syncsvc.inputs.settings import load_settings
from syncsvc.state.store import Store

EXIT_OK = 0


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    seconds = settings.daemon.lease_seconds
    store = Store(settings.store.url)
    try:
        if args.command == "backup":
            store.migrate()
            maintenance.backup(store, args.file, seconds)
            print(f"sauvegarde écrite : {args.file}")
        elif args.command == "restore":
            version = maintenance.restore(store, args.file, seconds)
            print(f"base d'état restaurée depuis {args.file} (schéma {version}, mis à jour)")
        else:
            counts = maintenance.move(store, args.to, seconds)
            total = sum(counts.values())
            shown = make_url(args.to).render_as_string(hide_password=True)
            print(f"{total} ligne(s) copiée(s) vers {shown} :")
            for table, count in counts.items():
                print(f"  {table} : {count}")
            print(
                "changer maintenant [store] url dans syncsvc.toml pour la nouvelle base, "
                "puis relancer le service"
            )
        return EXIT_OK
    finally:
        store.close()
