"""Regenerate the ``.ods`` fixtures with a real LibreOffice (run by hand, never by the CI):

    apt-get install -y --no-install-recommends libreoffice-calc-nogui
    .venv/bin/python tests/system/data/ods/make_fixtures.py

From the example configuration (``config/``, its session files copied here under
``sessions/``: the fixtures are tied to them), at ``--now 2027-02-08``:

- ``libreoffice-from-xlsx.ods``: our ``.xlsx`` export converted by LibreOffice;
- ``libreoffice-resaved.ods``: our ``.ods`` export opened and saved again by LibreOffice;
- ``libreoffice-shown-<sheet>.csv``: each sheet of our ``.ods`` export as LibreOffice shows it
  (French locale, values as shown); the script checks it is the same as for our ``.xlsx``;
- (checked, not kept) our ``.ods`` template opened and saved again by LibreOffice;
- ``libreoffice-typed.ods``: the St-André sheet edited as a coordinator types it in LibreOffice
  (French locale, cells typed, so a date becomes a date and 0692… a number): the CERES
  declaration day moved to 21/11/2026, a second coordinator on a new line of the same cell, the
  AC session manager's phone typed 0692000001 (read as the number 692000001).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
NOW = "2027-02-08"
CSV_OUT = "csv:Text - txt - csv (StarCalc):59,34,76,1,,1036,false,true,true,false,false,-1"
CSV_IN = "CSV:59,34,76,1,,1036,false,true"


def _soffice(work: Path, *args: str) -> None:
    env = {**os.environ, "HOME": str(work / "home")}
    subprocess.run(
        ["soffice", "--headless", *args], check=True, env=env, capture_output=True, timeout=120
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        config = work / "config"
        shutil.copytree(ROOT / "config", config)
        (config / "syncsvc.toml").write_text(
            f'[store]\nurl = "sqlite:///{work / "state.db"}"\n', encoding="utf-8"
        )
        syncsvc = [str(Path(sys.executable).with_name("syncsvc"))]
        for name in ("ours.xlsx", "ours.ods"):
            subprocess.run(
                [*syncsvc, "export", str(work / name), "--config", str(config), "--now", NOW],
                check=True,
            )
        subprocess.run(
            [*syncsvc, "import", "--template", str(work / "model.ods"), "--config", str(config)],
            check=True,
        )
        # our template (drop-down lists, notes) opens and saves again in LibreOffice
        _soffice(
            work, "--convert-to", "ods", "--outdir", str(work / "model"), str(work / "model.ods")
        )
        assert (work / "model" / "model.ods").stat().st_size > 0
        shutil.rmtree(HERE / "sessions", ignore_errors=True)
        shutil.copytree(config / "sessions", HERE / "sessions")
        for old in HERE.glob("libreoffice-*"):
            old.unlink()

        _soffice(
            work,
            "--convert-to",
            "ods",
            "--outdir",
            str(work / "from-xlsx"),
            str(work / "ours.xlsx"),
        )
        shutil.copy(work / "from-xlsx" / "ours.ods", HERE / "libreoffice-from-xlsx.ods")
        _soffice(
            work, "--convert-to", "ods", "--outdir", str(work / "resaved"), str(work / "ours.ods")
        )
        shutil.copy(work / "resaved" / "ours.ods", HERE / "libreoffice-resaved.ods")

        shown: dict[str, dict[str, bytes]] = {}
        for name in ("ours.ods", "ours.xlsx"):
            out = work / f"shown-{name}"
            _soffice(work, "--convert-to", CSV_OUT, "--outdir", str(out), str(work / name))
            shown[name] = {p.name.split("-", 1)[1]: p.read_bytes() for p in out.iterdir()}
        if shown["ours.ods"] != shown["ours.xlsx"]:
            print("LibreOffice shows our .ods and our .xlsx differently", file=sys.stderr)
            return 1
        for sheet, data in shown["ours.ods"].items():
            (HERE / f"libreoffice-shown-{sheet}").write_bytes(data)

        rows = list(
            csv.reader(
                io.StringIO(shown["ours.ods"]["St-André.csv"].decode("utf-8"), newline=""),
                delimiter=";",
            )
        )
        headers = rows[0]
        at = {h: i for i, h in enumerate(headers)}
        by_id = {r[0]: r for r in rows[1:]}
        sa = by_id["sa-2027-03-st-andre"]
        assert sa[at["Déclaration CERES (date)"]] == "20/11/2026", sa
        sa[at["Déclaration CERES (date)"]] = "21/11/2026"
        sa[at["Coordination (courriels)"]] += "\nLine Payet <l.payet@afpar.example>"
        ac = by_id["ccp-ac-2027-05-st-andre"]
        ac[at["Responsable de session (téléphone)"]] = "0692000001"
        typed = io.StringIO()
        csv.writer(typed, delimiter=";", lineterminator="\n").writerows(rows)
        source = work / "libreoffice-typed.csv"
        source.write_text(typed.getvalue(), encoding="utf-8")
        _soffice(
            work,
            f"--infilter={CSV_IN}",
            "--convert-to",
            "ods",
            "--outdir",
            str(work / "typed"),
            str(source),
        )
        shutil.copy(work / "typed" / "libreoffice-typed.ods", HERE / "libreoffice-typed.ods")
    for path in sorted(HERE.iterdir()):
        if path.is_file():
            print(f"{path.name}: {path.stat().st_size} octets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
