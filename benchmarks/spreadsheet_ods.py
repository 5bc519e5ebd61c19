"""Benchmark: writing and reading the largest spreadsheet an import takes (5 000 sessions) as
``.ods`` beside ``.xlsx``; then a ``.ods`` as LibreOffice saves a sheet (a million empty rows of
16 384 empty cells, written as repeated rows) under the same rows.

The rows are the example configuration's export rows, repeated. Prints, for each, the file's
size, wall and CPU times, the peak of Python's memory (tracemalloc), and the machine's load.

    .venv/bin/python benchmarks/spreadsheet_ods.py [--rows 5000]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from syncsvc.app.exporting import Exported, export_bytes  # noqa: E402
from syncsvc.app.importing import EXPORT_ONLY  # noqa: E402
from syncsvc.core import session_sheet  # noqa: E402
from syncsvc.core.planner import plan_sessions  # noqa: E402
from syncsvc.inputs.loader import load_config  # noqa: E402
from syncsvc.inputs.ods import read_ods  # noqa: E402
from syncsvc.inputs.spreadsheets import Sheet, read_table, write_book  # noqa: E402

EMPTY_TAIL = (
    '<table:table-row table:number-rows-repeated="1048000">'
    '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
)


def measured(what: str, work: Callable[[], Any], memory: bool = True) -> Any:
    """Times ``work`` (without tracemalloc, which slows Python down), then, when ``memory``,
    runs it again under tracemalloc for its peak."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    shown = ""
    if memory:
        tracemalloc.start()
        work()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        shown = f"  pic mémoire {peak / 2**20:6.1f} Mo"
    print(f"{what:<46} wall {wall:6.2f} s  CPU {cpu:6.2f} s{shown}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    config = load_config(ROOT / "config")
    now = date(2027, 2, 8)
    planning = plan_sessions(config, {}, now)
    items = [Exported(s, c, m, []) for s, c, m in planning.planned]
    data = export_bytes(config, items, "ods")
    rows = [
        values
        for sheet in read_ods(data, max_lines=100, max_rows=100)
        for _, values in sheet.rows[1:]
    ]
    headers = [c.name for c in session_sheet.COLUMNS] + list(EXPORT_ONLY)
    many = [rows[i % len(rows)] for i in range(args.rows)]
    sheets = [Sheet("Sessions", headers, many)]
    columns = [c.name for c in session_sheet.COLUMNS]
    for kind in ("xlsx", "ods"):
        book: bytes = measured(
            f"écrire {args.rows} lignes en .{kind}",
            partial(write_book, sheets, kind),
            memory=False,
        )
        print(f"  taille : {len(book) / 1024:.0f} Ko")
        table = measured(
            f"lire {args.rows} lignes d'un .{kind}",
            partial(read_table, f"p.{kind}", book, columns, also=EXPORT_ONLY),
        )
        assert len(table.rows) == args.rows
    padded = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(padded, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "content.xml":
                content = content.replace(
                    b"</table:table>", EMPTY_TAIL.encode() + b"</table:table>"
                )
            target.writestr(info, content)
    table = measured(
        "lire le .ods avec un million de lignes vides",
        lambda: read_table("p.ods", padded.getvalue(), columns, also=EXPORT_ONLY),
    )
    assert len(table.rows) == args.rows
    print(
        f"charge de la machine : {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
        f"{os.getloadavg()[2]:.2f} (uptime), {os.cpu_count()} cœurs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
