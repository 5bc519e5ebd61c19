"""The dashboard lists the centres whose organizer no read mailbox receives, beside the load
problems."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from syncsvc.inputs.settings import InboxSettings, Settings
from tests.web.conftest import SECRET, SECRET_ENV, serve, web_settings


def _one_inbox(config: Path) -> Settings:
    """The example configuration, reading Saint-André's exam office mailbox only."""
    settings = web_settings(config)
    inbox = InboxSettings(
        host="imap.afpar.example", username="examen.cfpae@afpar.example", password_env="UNUSED"
    )
    return settings.model_copy(update={"mail": settings.mail.model_copy(update={"inbox": inbox})})


def test_dashboard_lists_the_centres_whose_replies_no_mailbox_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.delenv("SYNCSVC_SETTINGS", raising=False)
    with serve(tmp_path, _one_inbox) as served, served.logged_in() as client:
        page = html.unescape(client.get("/").text)
    assert "Avertissements de configuration (2)" in page
    centres = served.config / "centres.yaml"
    for centre, address in (
        ("greta-lyon-venissieux", "examens.venissieux@greta-lyon.example"),
        ("afpa-strasbourg", "examens.strasbourg@afpa.example"),
    ):
        assert (
            f"{centres}, centre « {centre} », organizer (non écrit : exam_office_email) "
            f"« {address} » : aucune boîte lue ([mail.inbox]) ne reçoit cette adresse"
        ) in page
    assert "centre « afpar-st-andre »" not in page


def test_no_warning_section_without_a_mailbox_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path) as served, served.logged_in() as client:
        assert "Avertissements de configuration" not in client.get("/").text
