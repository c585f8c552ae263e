"""What starting an incremental build from a copy of the build state would cost, against copying
the kept sources' rows into a new file (issue 20; docs/build.md, "start the new build from a copy
of the build state").

    .venv/bin/python benchmarks/state_copy.py /work/scratch/incr/1300

On the folder of `scale.py run <people> --only-incremental` (its build state, never changed:
every step works on copies in a scratch folder beside it), with the touched sets a month makes
(the build's own figures: 17% of the Jira issues, 8.5% of the Slack messages; chosen at random,
seed 7), prints the seconds of:
1. today's way: a new file with the schema, the kept rows of Jira (untouched issues) and Slack
   (untouched messages) inserted from the state (the incremental build's "normalized rows of
   the sources kept"), then a checkpoint;
2. the other way: the state file copied, its own tables dropped, the rows a build would
   normalize again deleted (every GitHub row, the touched Jira issues' and Slack messages'),
   then a checkpoint; and the size of both files, since freed blocks stay in the file until
   DuckDB reuses them.
Step 2 does not insert the normalized rows again, nor does step 1: both are followed by the
same normalization.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from patch_in_place import timed  # noqa: E402  (beside this script)

from processhealth import incremental, jira_delta, pipeline, state_start  # noqa: E402
from processhealth.store import DEFAULT_MEMORY_LIMIT  # noqa: E402

# What the state holds besides the analytics tables: what a build drops from its copy.
STATE_ONLY = state_start.STATE_ONLY
JIRA_SHARE, SLACK_SHARE = 17, 8.5  # percent touched by the month (RESULTS.md section 8)


def touched(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """The touched sets, from the state (`prev`) or the file itself (`main`)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _jira_touched AS SELECT natural_key FROM"
                f" {source}.jira_refs USING SAMPLE {JIRA_SHARE} PERCENT (bernoulli, 7)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _slack_touched AS SELECT natural_key FROM"
                f" {source}.slack_refs USING SAMPLE {SLACK_SHARE} PERCENT (bernoulli, 7)")


SLACK_KEPT = ("event_id NOT IN (SELECT 'slack:message:' || natural_key FROM _slack_touched"
              " UNION ALL SELECT 'slack:reply:' || natural_key FROM _slack_touched)")
JIRA_KEPT = "item_id NOT IN (SELECT 'jira:' || natural_key FROM _jira_touched)"


def copy_rows(path: Path, state: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute(f"SET memory_limit = '{DEFAULT_MEMORY_LIMIT}'")
    pipeline.create_empty(con)
    con.execute("ATTACH ? AS prev (READ_ONLY)", [str(state)])
    touched(con, "prev")

    def run() -> None:
        for table, jira in jira_delta.PER_ISSUE.items():
            columns = state_start.columns(con, table, skip={"event_seq"})
            con.execute(f"INSERT INTO {table}({columns}) SELECT {columns}"
                        f" FROM prev.main.{table} WHERE {jira} AND {JIRA_KEPT}")
        columns = state_start.columns(con, "events", skip={"event_seq"})
        con.execute(f"INSERT INTO events({columns}) SELECT {columns} FROM prev.main.events"
                    f" WHERE source = 'slack' AND {SLACK_KEPT}")
        con.execute("CHECKPOINT")

    timed("1. kept Jira and Slack rows inserted into a new file", run)
    con.close()


def copy_file(path: Path, state: Path) -> None:
    timed("2a. the state file copied", lambda: shutil.copyfile(state, path))
    con = duckdb.connect(str(path))
    con.execute(f"SET memory_limit = '{DEFAULT_MEMORY_LIMIT}'")
    touched(con, "main")

    def drop() -> None:
        for table in STATE_ONLY:
            con.execute(f"DROP TABLE IF EXISTS {table}")

    def github() -> None:
        for table, source in incremental.NORMALIZED.items():
            con.execute(f"DELETE FROM {table} WHERE {source} = 'github'")

    def jira() -> None:
        for table, kept in jira_delta.PER_ISSUE.items():
            con.execute(f"DELETE FROM {table} WHERE {kept} AND NOT ({JIRA_KEPT})")

    timed("2b. its own tables dropped", drop)
    timed("2c. every GitHub row deleted", github)
    timed("2d. the touched Jira issues' rows deleted", jira)
    timed("2e. the touched Slack messages' events deleted", lambda: con.execute(
        f"DELETE FROM events WHERE source = 'slack' AND NOT ({SLACK_KEPT})"))
    timed("2f. checkpoint", lambda: con.execute("CHECKPOINT"))
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a scale.py incremental folder")
    args = parser.parse_args()
    [state] = sorted((args.folder / "build-state").glob("*.duckdb"))
    print(f"{state} ({state.stat().st_size / 2**20:,.0f} MiB)")
    with tempfile.TemporaryDirectory(dir=args.folder) as scratch:
        rows, copied = Path(scratch) / "rows.duckdb", Path(scratch) / "copied.duckdb"
        copy_rows(rows, state)
        copy_file(copied, state)
        for name, path in (("1", rows), ("2", copied)):
            print(f"  file {name}: {path.stat().st_size / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
