"""benchmarks/patch_in_place.py on a small `events` table: what it prints of the file's growth
is the patch's own."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import duckdb

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "patch_in_place.py"


def test_the_closure_patch_s_growth_is_measured_in_a_file_without_free_blocks(
        tmp_path: Path, monkeypatch, capsys) -> None:
    """Deleting and inserting again a month and some items' events grows a file that has no
    free blocks (the deleted blocks are free only after the checkpoint that writes the new
    rows); the copy of step 4 held the blocks of the table its rewrite replaced, so step 5
    printed no growth whatever the patch wrote."""
    database = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE events AS SELECT i AS event_seq, 'item' || (i % 5000)"
                    " AS item_id, TIMESTAMPTZ '2026-01-01' + to_seconds(i * 30) AS occurred_at,"
                    " md5(i::VARCHAR) AS detail FROM range(600000) AS t(i)")
    spec = importlib.util.spec_from_file_location("bench_patch_in_place", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["patch_in_place.py", str(database), "--items", "50"])
    module.main()
    printed = capsys.readouterr().out
    [(patched, grew)] = re.findall(r"([\d,]+) events patched; the file grew by ([-\d.,]+) MiB",
                                   printed)
    assert int(patched.replace(",", "")) > 0
    assert float(grew.replace(",", "")) > 0, printed
