"""How many events keep their number (events.event_seq) when more data arrives: two analytics
databases of the same organization, BEFORE (built from a raw store without the last month, e.g.
the reference build of `scale.py run --only-incremental`) and AFTER (the whole store).

    .venv/bin/python benchmarks/renumbered.py BEFORE.duckdb AFTER.duckdb

Prints, for the events in both: how many the build numbered differently (as stored), and how
many a dense number (1..n in time order, ties by event_id: the numbering before the eighteenth
session) would have numbered differently. An incremental analysis can keep the rows keyed by
event_seq (effort_credit, metric_event_base) only for events whose number did not move; the
rows of BEFORE that AFTER does not hold unchanged (`EXCEPT ALL`) are what it would rewrite.
`benchmarks/scale.py run --only-incremental` prints both for its two builds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb


def renumbered(before: Path, after: Path) -> dict[str, int]:
    con = duckdb.connect(config={"memory_limit": "8GB"})
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"ATTACH '{before}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{after}' AS b (READ_ONLY)")
    numbered = ("SELECT event_id, occurred_at, event_seq,"
                " row_number() OVER (ORDER BY occurred_at, event_id) AS dense FROM {}.events")
    con.execute(f"CREATE TEMP TABLE x AS {numbered.format('a')}")
    con.execute(f"CREATE TEMP TABLE y AS {numbered.format('b')}")
    both, moved, dense_moved, time_moved = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE x.event_seq <> y.event_seq),
               count(*) FILTER (WHERE x.dense <> y.dense),
               count(*) FILTER (WHERE x.occurred_at <> y.occurred_at)
        FROM x JOIN y USING (event_id)""").fetchone()
    new, late = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE occurred_at < (SELECT max(occurred_at) FROM x))
        FROM y ANTI JOIN x USING (event_id)""").fetchone()
    return {"before": con.execute("SELECT count(*) FROM x").fetchone()[0], "in_both": both,
            "new": new, "new_dated_before_the_last_event_before": late, "moved": moved,
            "dense_moved": dense_moved, "time_changed": time_moved}


REKEYED = ("effort_credit", "effort_sessions", "metric_event_base")


def rewritten(before: Path, after: Path) -> dict[str, tuple[int, int]]:
    """{table: (rows of BEFORE, of which AFTER does not hold unchanged)} for REKEYED."""
    con = duckdb.connect(config={"memory_limit": "8GB"})
    con.execute(f"ATTACH '{before}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{after}' AS b (READ_ONLY)")
    return {t: (con.execute(f"SELECT count(*) FROM a.{t}").fetchone()[0],
                con.execute(f"SELECT count(*) FROM (SELECT * FROM a.{t}"
                            f" EXCEPT ALL SELECT * FROM b.{t})").fetchone()[0])
            for t in REKEYED}


def report(before: Path, after: Path) -> None:
    r = renumbered(before, after)
    print(f"events before {r['before']:,}; in both {r['in_both']:,}; new {r['new']:,}, of which "
          f"{r['new_dated_before_the_last_event_before']:,} dated before the last event of BEFORE")
    print(f"renumbered by the build: {r['moved']:,} ({100 * r['moved'] / r['in_both']:.2f}%)")
    print(f"renumbered by a dense number 1..n: {r['dense_moved']:,} "
          f"({100 * r['dense_moved'] / r['in_both']:.2f}%)")
    if r["time_changed"]:
        print(f"(events whose time changed: {r['time_changed']:,})")
    for table, (rows, changed) in rewritten(before, after).items():
        print(f"{table}: {changed:,} of {rows:,} rows ({100 * changed / max(rows, 1):.2f}%) "
              f"not kept unchanged")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    for path in (args.before, args.after):
        if not path.exists():
            sys.exit(f"{path} does not exist")
    report(args.before, args.after)

if __name__ == "__main__":
    main()
