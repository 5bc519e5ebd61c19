"""``syncsvc backup``, ``restore`` and ``migrate-store``: the state store's upkeep."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from syncsvc.app.fence import Fence
from syncsvc.cli import main
from syncsvc.state.store import Store
from tests.system.service import PG

ROOT = Path(__file__).resolve().parents[2]
T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def configure(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "syncsvc.toml").write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    return config


def filled(url: str) -> Store:
    store = Store(url)
    store.migrate()
    store.mark_done("sa-2027-03-st-andre", "dte_order", date(2026, 12, 1), "Nathalie", None, T)
    store.feed_token("flux", T)
    store.enqueue(
        key="k1",
        kind="reminder",
        recipient="a@b.example",
        subject="s",
        message_id="<1@x>",
        message=b"x",
        now=T,
    )
    return store


def test_backup_then_restore_brings_back_the_marks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    config = configure(tmp_path, url)
    store = filled(url)
    token = store.feed_token("flux", T)
    store.close()
    saved = tmp_path / "sauvegarde.db"
    assert main(["backup", str(saved), "--config", str(config)]) == 0
    assert "sauvegarde écrite" in capsys.readouterr().out

    store = Store(url)
    store.mark_undone("sa-2027-03-st-andre", "dte_order")  # a mistake after the backup
    store.close()
    assert main(["restore", str(saved), "--config", str(config)]) == 0
    store = Store(url)
    assert store.done_marks() == {"sa-2027-03-st-andre": {"dte_order": date(2026, 12, 1)}}
    assert store.feed_token("flux", T) == token
    assert store.has_key("k1")
    store.close()


def test_backup_and_restore_refuse_while_the_service_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    config = configure(tmp_path, url)
    store = filled(url)
    running = Fence.take(store, 30)  # as the daemon would hold it
    assert running is not None
    try:
        assert main(["backup", str(tmp_path / "b.db"), "--config", str(config)]) == 2
        assert "le service (syncsvc run) est actif" in capsys.readouterr().err
        assert not (tmp_path / "b.db").exists()
    finally:
        running.give_back()
        store.close()


def test_restore_refuses_a_file_that_is_not_a_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = configure(tmp_path, f"sqlite:///{tmp_path / 'state.db'}")
    junk = tmp_path / "notes.txt"
    junk.write_text("pas une base", encoding="utf-8")
    assert main(["restore", str(junk), "--config", str(config)]) == 2
    assert "n'est pas une sauvegarde de syncsvc" in capsys.readouterr().err


@pytest.fixture
def pg_schema() -> str:
    schema = "t_move_" + datetime.now(UTC).strftime("%H%M%S%f")
    engine = create_engine(PG)
    try:
        with engine.begin() as db:
            db.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    engine.dispose()
    return schema


def test_migrate_store_from_sqlite_to_postgresql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_schema: str
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    config = configure(tmp_path, url)
    filled(url).close()
    target = f"{PG}?options=-csearch_path%3D{pg_schema}"
    try:
        assert main(["migrate-store", "--to", target, "--config", str(config)]) == 0
        out = capsys.readouterr().out
        assert "done_marks : 1" in out
        moved = Store(target)
        assert moved.done_marks() == {"sa-2027-03-st-andre": {"dte_order": date(2026, 12, 1)}}
        assert moved.has_key("k1")
        assert Fence.take(moved, 30) is not None  # no lease was carried over
        moved.close()
        # A second move into the same (now filled) base is refused.
        assert main(["migrate-store", "--to", target, "--config", str(config)]) == 2
        assert "n'est pas vide" in capsys.readouterr().err
    finally:
        engine = create_engine(PG)
        with engine.begin() as db:
            db.execute(text(f"DROP SCHEMA {pg_schema} CASCADE"))
        engine.dispose()
