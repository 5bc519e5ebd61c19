"""`syncsvc sync` end to end: config folder -> real Radicale, through the command line."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from syncsvc.cli import main
from tests.harness.servers import CalDAVServer, free_port, radicale_server

ROOT = Path(__file__).resolve().parents[2]
NOW = ["--now", "2026-11-23"]


def write_config(tmp: Path, server: CalDAVServer, *, extra: str = "") -> Path:
    config = tmp / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "syncsvc.toml").write_text(
        f"""
[store]
url = "sqlite:///{tmp / "state.db"}"

[[targets]]
name = "coordination-st-andre"
kind = "caldav"
url = "{server.url}"
username = "{server.username}"
password_env = "TEST_CALDAV_PASSWORD"
calendar = "examens-st-andre"
audience = "coordinators:afpar-st-andre"
{extra}
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[CalDAVServer]:
    with radicale_server(tmp_path / "radicale") as server:
        yield server


def test_dry_run_then_sync_then_noop(
    radicale: CalDAVServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_CALDAV_PASSWORD", radicale.password)
    config = write_config(tmp_path, radicale)
    args = ["sync", "--once", "--config", str(config), *NOW]

    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "coordination-st-andre : 40 création(s)" in out
    assert "simulation" in out
    assert "+ sa-2027-03-st-andre.dte_order@syncsvc (nouveau)" in out
    assert radicale.proxy.counts["PUT"] == 0

    assert main(args) == 0
    assert "40 création(s)" in capsys.readouterr().out
    assert radicale.proxy.counts["PUT"] == 40

    radicale.proxy.reset()
    assert main(args) == 0
    assert "0 création(s), 0 mise(s) à jour, 0 suppression(s), 40 inchangé(s)" in (
        capsys.readouterr().out
    )
    assert radicale.proxy.writes == 0


def test_a_failing_target_does_not_stop_the_others(
    radicale: CalDAVServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_CALDAV_PASSWORD", radicale.password)
    dead = f"""
[[targets]]
name = "a-serveur-eteint"
kind = "caldav"
url = "http://127.0.0.1:{free_port()}/"
calendar = "http://127.0.0.1:{free_port()}/x/"
audience = "all"
timeout = 2
"""
    config = write_config(tmp_path, radicale, extra=dead)
    code = main(["sync", "--once", "--config", str(config), *NOW])
    out = capsys.readouterr().out
    assert code == 1
    assert "coordination-st-andre : 40 création(s)" in out
    assert "a-serveur-eteint : 0 création(s)" in out
    assert "injoignable" in out


def test_missing_password_variable_is_a_clear_error(
    radicale: CalDAVServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEST_CALDAV_PASSWORD", raising=False)
    config = write_config(tmp_path, radicale)
    assert main(["sync", "--once", "--config", str(config), *NOW]) == 1
    out = capsys.readouterr().out
    assert "TEST_CALDAV_PASSWORD" in out
    assert radicale.password not in out


def test_invalid_service_config_names_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "syncsvc.toml").write_text(
        '[[targets]]\nname = "x"\nkind = "caldav"\naudience = "coordinateurs:x"\nurl = "u"\n'
        'calendar = "c"\nmot_de_passe = "secret"\n',
        encoding="utf-8",
    )
    assert main(["sync", "--once", "--config", str(config), *NOW]) == 2
    err = capsys.readouterr().err
    assert "syncsvc.toml: targets[1].audience: public « coordinateurs:x » non reconnu" in err
    assert "targets[1].mot_de_passe: clé inconnue" in err


def test_done_updates_the_calendar_before_it_returns(
    radicale: CalDAVServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reported: a mark reached the calendars only at the next periodic pass. With no service
    running on the store, ``syncsvc done`` updates the targets that show the milestone."""
    monkeypatch.setenv("TEST_CALDAV_PASSWORD", radicale.password)
    config = write_config(tmp_path, radicale)
    common = ["--config", str(config), "--now", "2026-12-07"]
    assert main(["sync", "--once", *common]) == 0
    capsys.readouterr()
    radicale.proxy.reset()

    assert main(["done", "sa-2027-03-st-andre", "dte_order", "--by", "Nathalie", *common]) == 0
    out = capsys.readouterr().out
    assert "agenda coordination-st-andre : à jour" in out
    assert radicale.proxy.counts["PUT"] == 1  # that milestone's item only
    dte = radicale_item(radicale, "sa-2027-03-st-andre.dte_order@syncsvc")
    assert "SUMMARY:✓ J-92 · DTE — SA St-André" in dte

    assert main(["undone", "sa-2027-03-st-andre", "dte_order", *common]) == 0
    assert "SUMMARY:J-92 · DTE — SA St-André" in radicale_item(
        radicale, "sa-2027-03-st-andre.dte_order@syncsvc"
    )


def radicale_item(server: CalDAVServer, uid: str) -> str:
    import httpx

    url = f"{server.home_url}examens-st-andre/{uid.replace('@', '%40')}.ics"
    response = httpx.get(url, auth=(server.username, server.password))
    assert response.status_code == 200, url
    return response.text.replace("\r\n ", "")


def test_a_changed_calendar_address_is_refused_not_ignored(
    radicale: CalDAVServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reported: changing an existing target's ``calendar`` was silently ignored (the stored
    location won). Now nothing is written and the message says what to do."""
    monkeypatch.setenv("TEST_CALDAV_PASSWORD", radicale.password)
    config = write_config(tmp_path, radicale)
    args = ["sync", "--once", "--config", str(config), *NOW]
    assert main(args) == 0
    capsys.readouterr()
    settings = config / "syncsvc.toml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(
            'calendar = "examens-st-andre"', 'calendar = "examens-autre"'
        ),
        encoding="utf-8",
    )
    radicale.proxy.reset()
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "l'adresse a changé" in out
    assert "examens-autre" in out
    assert radicale.proxy.writes == 0


def test_a_sync_alone_keeps_the_trace_of_a_cancellation(
    radicale: CalDAVServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cancelled, synced, then restored in the file and synced again — without any `notify`
    or dashboard in between: the store still says « annulée le … puis rétablie le … » (it
    used to note cancellations only at the sending pass or the dashboard's display)."""
    from syncsvc.state.store import Store

    monkeypatch.setenv("TEST_CALDAV_PASSWORD", radicale.password)
    config = write_config(tmp_path, radicale)
    args = ["sync", "--once", "--config", str(config)]
    session = config / "sessions" / "sa-2027-03-st-andre.yaml"
    original = session.read_text(encoding="utf-8")
    assert main([*args, "--now", "2026-11-23"]) == 0
    session.write_text(
        original + "cancelled:\n  on: 2026-11-24\n  reason: Jury incomplet\n", encoding="utf-8"
    )
    assert main([*args, "--now", "2026-11-24"]) == 0
    assert "mise(s) à jour" in capsys.readouterr().out
    session.write_text(original, encoding="utf-8")
    assert main([*args, "--now", "2026-11-25"]) == 0
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        (record,) = store.cancellation_history()["sa-2027-03-st-andre"]
    finally:
        store.close()
    assert (record.on, record.reason) == (date(2026, 11, 24), "Jury incomplet")
    assert record.seen_at.date() == date(2026, 11, 24)  # the pass that saw it (--now)
    assert record.restored_at is not None
    assert record.restored_at.date() == date(2026, 11, 25)
    assert record.restored_by is None  # by hand: the dashboard's restore names who
