"""The configuration folder's fingerprint (syncsvc/inputs/watcher.py)."""

from __future__ import annotations

import os
from pathlib import Path

from syncsvc.inputs.watcher import fingerprint


def test_every_file_below_sorted_links_to_folders_not_followed(tmp_path: Path) -> None:
    (tmp_path / "sessions" / "old").mkdir(parents=True)
    (tmp_path / "centres.yaml").write_text("a: 1\n")
    (tmp_path / "sessions" / "b.yaml").write_text("id: b\n")
    (tmp_path / "sessions" / "old" / "a.yaml").write_text("id: a\n")
    os.symlink(tmp_path / "centres.yaml", tmp_path / "link.yaml")
    os.symlink(tmp_path / "sessions", tmp_path / "folder-link")
    os.symlink(tmp_path / "nowhere", tmp_path / "broken")
    found = fingerprint(tmp_path)
    names = [name for name, _, _ in found]
    assert names == sorted(
        ["broken", "centres.yaml", "link.yaml", "sessions/b.yaml", "sessions/old/a.yaml"]
    )
    by_name = {name: (mtime, size) for name, mtime, size in found}
    assert by_name["broken"] == (-1, -1)
    assert by_name["link.yaml"][1] == 5
    assert by_name["sessions/b.yaml"] == (
        (tmp_path / "sessions" / "b.yaml").stat().st_mtime_ns,
        6,
    )


def test_an_edit_a_new_file_or_a_removal_changes_it(tmp_path: Path) -> None:
    (tmp_path / "sessions").mkdir()
    path = tmp_path / "sessions" / "a.yaml"
    path.write_text("id: a\n")
    first = fingerprint(tmp_path)
    path.write_text("id: a  \n")
    second = fingerprint(tmp_path)
    assert second != first
    (tmp_path / "sessions" / "b.yaml").write_text("id: b\n")
    third = fingerprint(tmp_path)
    assert third != second
    path.unlink()
    assert fingerprint(tmp_path) != third
