"""Deletions waiting for confirmation are told to the administrators, once per set."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from syncsvc.app.notify import notify
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import MailSettings, Settings
from syncsvc.state.store import Store

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 2, 8, 8, 0, tzinfo=UTC)


def test_the_administrators_are_told_once_per_set(tmp_path: Path) -> None:
    settings = Settings(
        mail=MailSettings(
            transport="maildir", maildir=tmp_path / "mail", alerts_to=("admin@centre.example",)
        ),
        dashboard_url="https://examens.example.org",
    )
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    config = load_config(ROOT / "config")
    store.record_held("coordination", "f1", "20 suppressions d'un coup (seuil : 20)", NOW)
    first = notify(settings, config, store, NOW)
    alerts = [q for q in first.queued if q.recipient == "admin@centre.example"]
    assert [a.subject for a in alerts] == [
        "Examens TP : suppressions en attente de confirmation sur « coordination »"
    ]
    row = next(r for r in store.messages() if r.kind == "alert")
    parsed = message_from_bytes(row.message, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(("plain",))
    assert part is not None
    body = part.get_content()
    assert "https://examens.example.org/targets#held-coordination" in body
    assert "syncsvc sync --once --force" in body
    again = notify(settings, config, store, NOW)
    assert not [q for q in again.queued if q.recipient == "admin@centre.example"]
    store.record_held("coordination", "f2", "autre ensemble", NOW)
    third = notify(settings, config, store, NOW)
    assert len([q for q in third.queued if q.recipient == "admin@centre.example"]) == 1
    store.close()
