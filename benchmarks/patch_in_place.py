"""What an incremental build that patches the previous analytics file in place would pay, against
writing every event again (issue 20; docs/build.md, "patch in place, not rebuild").

    .venv/bin/python benchmarks/patch_in_place.py /work/scratch/sfinal/130/processhealth.duckdb

On a built analytics database (never changed: every step works on copies in a scratch folder
beside it), prints the seconds of:
1. copying the file (what a build would do first, so readers keep the old one until a rename);
2. writing `events` whole into a new file (what every build does today);
3. in the copy, deleting the last month's events and inserting them again, then a checkpoint,
   with `events` in the order the build wrote it (normalization order);
4. the same with `events` first rewritten in `occurred_at` order (step 4's own rewrite is not
   timed: it is the layout a build would keep);
5. in that time-ordered copy, the closure an exact incremental build would patch: the last
   month and the events of `--items` work items spread over every earlier month (4,363 at 10M
   events, the items whose rows or links a month of data changed: benchmarks/RESULTS.md section
   8, fifteenth session), deleted and inserted again, then a checkpoint; and how much the file
   grew (DuckDB reuses freed blocks only after a checkpoint). Done in a file newly written in
   time order: the copy of step 4 holds the blocks of the `events` its rewrite replaced, free
   since its checkpoint, into which the patch's rows went without the file growing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processhealth.store import DEFAULT_MEMORY_LIMIT  # noqa: E402


def timed(label: str, work) -> float:
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    print(f"  {label:62} {seconds:7.2f} s", flush=True)
    return seconds


def connect(path: Path, source: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(f"SET memory_limit = '{DEFAULT_MEMORY_LIMIT}'")
    con.execute("ATTACH ? AS old (READ_ONLY)", [str(source)])
    return con


def patch(con: duckdb.DuckDBPyConnection, since) -> None:
    con.execute("DELETE FROM events WHERE occurred_at >= ?", [since])
    con.execute("INSERT INTO events SELECT * FROM old.events WHERE occurred_at >= ?", [since])
    con.execute("CHECKPOINT")


def patch_closure(con: duckdb.DuckDBPyConnection, since, items: int) -> int:
    """Delete and insert again the last month's events and every event of `items` work items
    chosen evenly by hash among those with events before it; the events patched."""
    con.execute(f"""CREATE TEMP TABLE _closure AS
        SELECT item_id FROM (SELECT DISTINCT item_id FROM old.events
                             WHERE occurred_at < ? AND item_id IS NOT NULL)
        ORDER BY hash(item_id) LIMIT {int(items)}""", [since])
    where = "occurred_at >= ? OR item_id IN (SELECT item_id FROM _closure)"
    [(patched,)] = con.execute(f"SELECT count(*) FROM old.events WHERE {where}",
                               [since]).fetchall()
    con.execute(f"DELETE FROM events WHERE {where}", [since])
    con.execute(f"INSERT INTO events SELECT * FROM old.events WHERE {where}", [since])
    con.execute("CHECKPOINT")
    return int(patched)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database", type=Path, help="a built processhealth.duckdb")
    parser.add_argument("--items", type=int, default=4363,
                        help="work items of earlier months in the closure (step 5)")
    args = parser.parse_args()
    source = args.database.resolve()
    with duckdb.connect(str(source), read_only=True) as con:
        since = con.execute("SELECT date_trunc('month', max(occurred_at)) FROM events"
                            ).fetchone()[0]
        month, total = con.execute("SELECT count(*) FILTER (WHERE occurred_at >= ?), count(*)"
                                   " FROM events", [since]).fetchone()
    print(f"{source}: {total:,} events, {month:,} in the last month (from {since:%Y-%m-%d}), "
          f"file {source.stat().st_size / 2**20:,.0f} MiB")
    with tempfile.TemporaryDirectory(dir=source.parent) as folder:
        copy = Path(folder) / "copy.duckdb"
        timed("copy the file", lambda: shutil.copyfile(source, copy))
        fresh = connect(Path(folder) / "fresh.duckdb", source)
        timed("write every event into a new file (as every build does)", lambda: (
            fresh.execute("CREATE TABLE events AS SELECT * FROM old.events"),
            fresh.execute("CHECKPOINT")))
        fresh.close()
        (Path(folder) / "fresh.duckdb").unlink()
        con = connect(copy, source)
        timed("patch the last month in place, events in build order", lambda: patch(con, since))
        con.execute("CREATE OR REPLACE TABLE events AS SELECT * FROM old.events"
                    " ORDER BY occurred_at")
        con.execute("CHECKPOINT")
        timed("patch the last month in place, events in time order", lambda: patch(con, since))
        con.close()
        copy.unlink()
        ordered = Path(folder) / "ordered.duckdb"  # without free blocks (see the docstring)
        con = connect(ordered, source)
        con.execute("CREATE TABLE events AS SELECT * FROM old.events ORDER BY occurred_at")
        con.execute("CHECKPOINT")
        size = ordered.stat().st_size
        patched: list[int] = []
        timed(f"patch the last month and {args.items:,} earlier items, time order",
              lambda: patched.append(patch_closure(con, since, args.items)))
        con.close()
        print(f"  {patched[0]:,} events patched; the file grew by "
              f"{(ordered.stat().st_size - size) / 2**20:,.1f} MiB")


if __name__ == "__main__":
    main()
