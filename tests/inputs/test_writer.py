"""The configuration writer: round-trip, validated by the loader, version-checked, atomic."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from syncsvc.app.authoring import Authoring
from syncsvc.inputs import writer
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.writer import ABSENT, WriteConflict, WriteRefused, read_draft, version_of
from syncsvc.state.store import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "config"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SA = "sa-2027-03-st-andre"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    return root


@pytest.fixture
def store(tmp_path: Path) -> Store:
    created = Store(f"sqlite:///{tmp_path / 'state.db'}")
    created.migrate()
    return created


@pytest.fixture
def authoring(folder: Path, store: Store) -> Authoring:
    return Authoring(folder, store)


def values_of(folder: Path, session_id: str) -> dict[str, Any]:
    draft = read_draft(folder / "sessions" / f"{session_id}.yaml")
    plain = writer.plain(draft.tree)
    assert isinstance(plain, dict)
    return plain


def test_one_field_changed_keeps_every_other_line_and_comment(
    folder: Path, authoring: Authoring, store: Store
) -> None:
    path = folder / "sessions" / f"{SA}.yaml"
    before = path.read_text(encoding="utf-8")
    values = values_of(folder, SA)
    values["end"] = date(2027, 3, 20)
    written = authoring.save_session(
        user="nathalie", values=values, version=version_of(path.read_bytes()), now=NOW
    )
    after = path.read_text(encoding="utf-8")
    lines = zip(before.splitlines(), after.splitlines(), strict=True)
    changed = [(a, b) for a, b in lines if a != b]
    assert changed == [("end: 2027-03-19", "end: 2027-03-20")]
    assert after.startswith("# Secrétaire assistant, full title, La Réunion.\n")
    assert [(c.field, c.before, c.after) for c in written.changes] == [
        ("end", "19/03/2027", "20/03/2027")
    ]
    assert load_config(folder).sessions[SA].end == date(2027, 3, 20)
    (entry,) = store.audit_trail(SA)
    assert (entry.user, entry.action, entry.file) == ("nathalie", "edit", f"sessions/{SA}.yaml")
    assert entry.changes == (("end", "19/03/2027", "20/03/2027"),)


def test_a_time_yaml_11_would_read_as_a_number_is_quoted(
    folder: Path, authoring: Authoring
) -> None:
    path = folder / "sessions" / f"{SA}.yaml"
    values = values_of(folder, SA)
    values["first_day_start"] = "10:30"  # unquoted, YAML 1.1 reads 630
    authoring.save_session(user="n", values=values, version=version_of(path.read_bytes()), now=NOW)
    assert 'first_day_start: "10:30"' in path.read_text(encoding="utf-8")
    session = load_config(folder).sessions[SA]
    assert str(session.first_day_start)[:5] == "10:30"


def test_changed_meanwhile_is_a_conflict_and_nothing_is_written(
    folder: Path, authoring: Authoring, store: Store
) -> None:
    path = folder / "sessions" / f"{SA}.yaml"
    opened = version_of(path.read_bytes())
    other_tab = path.read_text(encoding="utf-8").replace("salle B12", "salle C4")
    path.write_text(other_tab, encoding="utf-8")
    values = values_of(folder, SA)
    values["location"] = "AFPAR Saint-André, salle B14"
    with pytest.raises(WriteConflict) as caught:
        authoring.save_session(user="n", values=values, version=opened, now=NOW)
    assert path.read_text(encoding="utf-8") == other_tab
    assert "salle C4" in caught.value.current
    assert "salle B14" in caught.value.proposed
    assert "a été modifié depuis l'ouverture du formulaire" in str(caught.value)
    assert store.audit_trail(SA) == []


def test_refused_by_the_loader_names_file_and_field(folder: Path, authoring: Authoring) -> None:
    path = folder / "sessions" / f"{SA}.yaml"
    before = path.read_bytes()
    values = values_of(folder, SA)
    values["centre"] = "afpar-nulle-part"
    with pytest.raises(WriteRefused) as caught:
        authoring.save_session(user="n", values=values, version=version_of(before), now=NOW)
    (problem,) = caught.value.problems
    assert problem.field == "centre"
    assert problem.file.endswith(f"sessions/{SA}.yaml")
    assert "centre « afpar-nulle-part » inconnu" in problem.message
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


def test_model_errors_come_in_the_loaders_words(folder: Path, authoring: Authoring) -> None:
    path = folder / "sessions" / f"{SA}.yaml"
    values = values_of(folder, SA)
    values["end"] = date(2027, 3, 1)  # before the start
    with pytest.raises(WriteRefused) as caught:
        authoring.save_session(
            user="n", values=values, version=version_of(path.read_bytes()), now=NOW
        )
    assert caught.value.problems
    assert all(p.file.endswith(f"{SA}.yaml") for p in caught.value.problems)


def test_create_then_create_again_is_a_conflict(folder: Path, authoring: Authoring) -> None:
    values = values_of(folder, SA)
    values["id"] = "sa-2027-09-st-andre"
    values["start"], values["end"] = date(2027, 9, 13), date(2027, 9, 17)
    values.pop("done", None)
    written = authoring.save_session(user="n", values=values, version=ABSENT, now=NOW)
    assert written.created
    assert "sa-2027-09-st-andre" in load_config(folder).sessions
    with pytest.raises(WriteConflict):
        authoring.save_session(user="n", values=values, version=ABSENT, now=NOW)


def test_same_values_again_write_nothing(folder: Path, authoring: Authoring, store: Store) -> None:
    path = folder / "sessions" / f"{SA}.yaml"
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    written = authoring.save_session(
        user="n", values=values_of(folder, SA), version=version_of(before), now=NOW
    )
    assert written.changes == ()
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime
    assert store.audit_trail(SA) == []


def test_archive_moves_never_deletes(folder: Path, authoring: Authoring, store: Store) -> None:
    path = folder / "sessions" / f"{SA}.yaml"
    text = path.read_text(encoding="utf-8")
    moved = authoring.archive_session(
        user="n", session_id=SA, version=version_of(path.read_bytes()), now=NOW, note="doublon"
    )
    assert moved == folder / "archive" / "2026-11-30" / f"{SA}.yaml"
    assert moved.read_text(encoding="utf-8") == text
    assert not path.exists()
    config = load_config(folder)
    assert SA not in config.sessions
    assert config.ok
    (entry,) = store.audit_trail(SA)
    assert entry.action == "archive"
    assert entry.note == "doublon"


def test_a_failed_rename_leaves_the_file_whole(
    folder: Path, authoring: Authoring, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder / "sessions" / f"{SA}.yaml"
    before = path.read_bytes()
    values = values_of(folder, SA)
    values["end"] = date(2027, 3, 20)

    def broken(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("syncsvc.inputs.writer.os.replace", broken)
    with pytest.raises(OSError, match="No space"):
        authoring.save_session(user="n", values=values, version=version_of(before), now=NOW)
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_two_writers_on_one_version_one_wins(folder: Path, authoring: Authoring) -> None:
    path = folder / "sessions" / f"{SA}.yaml"
    opened = version_of(path.read_bytes())
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def edit(room: str) -> None:
        values = values_of(folder, SA)
        values["location"] = f"AFPAR Saint-André, {room}"
        barrier.wait()
        try:
            authoring.save_session(user=room, values=values, version=opened, now=NOW)
            outcomes.append("written")
        except WriteConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(r,)) for r in ("salle A1", "salle A2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "written"]


def test_removing_a_centre_in_use_is_refused(folder: Path, authoring: Authoring) -> None:
    path = folder / "centres.yaml"
    before = path.read_bytes()
    values = writer.plain(read_draft(path).tree)
    assert isinstance(values, dict)
    del values["afpar-st-andre"]
    with pytest.raises(WriteRefused) as caught:
        authoring.save_centres(user="admin", values=values, version=version_of(before), now=NOW)
    assert any(p.field == "centre" and "afpar-st-andre" in p.message for p in caught.value.problems)
    assert path.read_bytes() == before


def test_a_change_over_several_files_that_fails_midway_names_what_was_written(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two files edited together; the second rename fails (disk full): the error names the
    first, already written, and the second, left whole; no temporary file stays behind."""
    first, second = sorted((folder / "sessions").glob("*.yaml"))[:2]
    before = {path: path.read_bytes() for path in (first, second)}

    def rename_room(tree: Any) -> Any:
        tree["room"] = "Salle B12"
        return tree

    edits = [writer.Edit(path, version_of(before[path]), rename_room) for path in (first, second)]
    real_replace = os.replace
    calls: list[object] = []

    def full_disk_on_second(source: Any, target: Any) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr("syncsvc.inputs.writer.os.replace", full_disk_on_second)
    with pytest.raises(writer.PartialWrite) as raised:
        writer.write_edits(edits, lambda _contents: [], folder / ".lock")
    assert [w.path for w in raised.value.written] == [first]
    assert raised.value.failed == second
    message = str(raised.value)
    assert first.name in message
    assert second.name in message
    assert "No space left on device" in message
    assert "les autres sont inchangés" in message
    assert writer.plain(read_draft(first).tree)["room"] == "Salle B12"
    assert second.read_bytes() == before[second]
    assert not [p for p in first.parent.iterdir() if p.name.endswith(".tmp")]
