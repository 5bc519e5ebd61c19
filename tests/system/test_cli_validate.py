"""``syncsvc validate --format json``: the findings as a list a tool can read, beside the text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from syncsvc.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config"
KEYS = {"session", "centre", "code", "severity", "message"}


@pytest.fixture(autouse=True)
def _own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a scratch folder: nothing is written next to the example configuration."""
    monkeypatch.chdir(tmp_path)


def validate_json(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["validate", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_json_lists_every_finding_with_the_documented_keys(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, rows, _ = validate_json(capsys, "--config", str(EXAMPLE), "--now", "2026-12-12")
    assert code == 0
    assert rows
    assert all(set(row) == KEYS for row in rows)
    assert {row["severity"] for row in rows} <= {"error", "warning", "info"}
    (dte,) = [
        r
        for r in rows
        if r["session"] == "sa-2027-03-st-andre" and r["code"] == "overdue:dte_order"
    ]
    assert dte["centre"] == "afpar-st-andre"
    assert dte["severity"] == "error"
    assert "11/12/2026" in dte["message"]


def test_json_and_text_report_the_same_findings(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--config", str(EXAMPLE), "--now", "2027-06-01"]
    _, rows, _ = validate_json(capsys, *args)
    assert main(["validate", *args]) == 0
    text = capsys.readouterr().out
    assert len(rows) == sum(1 for line in text.splitlines() if line.endswith("]"))
    for row in rows:
        assert f"{row['message']} [{row['code']}]" in text


def test_json_of_a_clean_configuration_is_an_empty_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, rows, err = validate_json(capsys, "--config", str(EXAMPLE), "--now", "2026-11-23")
    assert (code, rows, err) == (0, [], "")


def test_json_strict_exits_1_on_an_error_finding(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, _ = validate_json(
        capsys, "--strict", "--config", str(EXAMPLE), "--now", "2027-06-01"
    )
    assert code == 1
    assert any(row["severity"] == "error" for row in rows)


def test_json_keeps_the_problems_of_broken_files_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    broken = root / "sessions" / "sa-2027-03-st-andre.yaml"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("end: 2027-03-19", "end: 2027-02-30")
    )

    # 1 February 2027: the Strasbourg session is late (on 12 December 2026 the only other
    # finding was the DWWM's agrément request, « sans objet » since issue 11)
    code, rows, err = validate_json(capsys, "--config", str(root), "--now", "2027-02-01")
    assert code == 1
    assert f"{broken}: ligne 8, end: " in err
    assert rows
    assert all(row["session"] != "sa-2027-03-st-andre" for row in rows)


def test_json_never_carries_a_candidate_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    path = root / "sessions" / "ctrmp-2027-02-venissieux.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('company: "Transports Roux"', 'company: "TRANSPORTS DUMAS SAS"'))

    _, rows, _ = validate_json(capsys, "--config", str(root), "--now", "2026-12-01")
    (conflict,) = [r for r in rows if r["code"] == "jury_conflict"]
    assert "le candidat n° 1 de la liste" in conflict["message"]
    dumped = json.dumps(rows, ensure_ascii=False)
    assert "Benali" not in dumped
    assert "Perret" not in dumped


def test_jsonl_is_one_finding_per_line_with_the_rows_of_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, listed, _ = validate_json(capsys, "--config", str(EXAMPLE), "--now", "2026-12-12")
    code = main(["validate", "--format", "jsonl", "--config", str(EXAMPLE), "--now", "2026-12-12"])
    out = capsys.readouterr().out
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == listed
    assert len(listed) > 0
