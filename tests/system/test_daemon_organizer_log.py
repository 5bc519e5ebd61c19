"""``syncsvc run``: a centre whose organizer no read mailbox receives is said in the log, once
per version of the configuration."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from syncsvc.daemon import Daemon
from syncsvc.inputs.settings import load_settings
from syncsvc.state.store import Store
from tests.system.test_cli_organizer_inboxes import _config


def test_the_daemon_logs_the_unread_organizer_once_per_configuration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNCSVC_SETTINGS", raising=False)
    root = _config(
        tmp_path / "config",
        st_andre="jury.st-andre@afpar.example",
        lyon='address = "secretariat@greta-lyon.example"',
    )
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    daemon = Daemon(root, load_settings(root), store, serve_web=False)
    try:
        with caplog.at_level(logging.WARNING, logger="syncsvc"):
            daemon._config()
            daemon._config()  # the same configuration: not said again
        lines = [r.getMessage() for r in caplog.records if "organizer" in r.getMessage()]
        assert lines == [
            f"configuration : {root / 'centres.yaml'}, centre « venissieux », organizer (non "
            "écrit : exam_office_email) « examens.venissieux@greta-lyon.example » : aucune boîte "
            "lue ([mail.inbox], [mail.inboxes.lyon]) ne reçoit cette adresse ; les réponses du "
            "jury n'y seront pas relevées (attendu : dans syncsvc.toml, cette adresse en address "
            "ou dans aliases de la table de la boîte où elle arrive, ou une table "
            "[mail.inboxes.<nom>] pour cette boîte ; ou un organizer qu'une boîte lue reçoit)"
        ]
    finally:
        store.close()
