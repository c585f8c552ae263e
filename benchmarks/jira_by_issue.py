"""What normalizing Jira by issue would save in an incremental build (docs/build.md, "Cost, and
what is not incremental yet"): a prepared scale store (`scale.py prepare`), its last month held
out (`last-month.duckdb`, as `scale.py run --only-incremental` holds it) and a build state of the
store without that month (`scale.py run --only-incremental` leaves one in
/work/scratch/incr/<people>/build-state).

    .venv/bin/python benchmarks/jira_by_issue.py 1300 [--state PATH]

Builds (full, `PROCESSHEALTH_PROFILE=1`, in a fresh process each) two copies of the raw store
with GitHub and Slack emptied: one with every Jira issue, one with only the issues the month
changed; prints the time of `20_jira.sql` and `echo/jira_echo.sql` in each, alternating, twice.
Then copies, from the build state, the Jira rows of the issues the month did not change into a
new file (what an incremental build by issue would copy instead of normalizing them again) and
prints that time. Scratch files go to /work/scratch/jira_by_issue/ (about 3.5 GB at 1300).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale import folder  # noqa: E402

from processhealth.duckdb_files import open_duckdb  # noqa: E402

WORK = Path("/work/scratch/jira_by_issue")
JIRA_FILES = ("collectors/sql/20_jira.sql", "collectors/sql/echo/jira_echo.sql")
KEPT_ROWS = (("events", "source = 'jira'"), ("work_items", "source = 'jira'"),
             ("transitions", "item_id LIKE 'jira:%'"), ("item_fields", "item_id LIKE 'jira:%'"))


def jira_only(raw: Path, held: Path, out: Path, changed_only: bool) -> int:
    """A copy of `raw` without GitHub and Slack rows (and, with `changed_only`, only the Jira
    issues `held` holds), with a config beside it; returns its Jira issues."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(raw, out / "raw.duckdb")
    with duckdb.connect(str(out / "raw.duckdb")) as con:
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()"
                                    " WHERE regexp_matches(table_name, '^raw_(github|slack)_')"
                                    ).fetchall():
            con.execute(f"DELETE FROM {table}")
        if changed_only:
            con.execute(f"ATTACH '{held}' AS held (READ_ONLY)")
            con.execute("DELETE FROM raw_jira_issues WHERE natural_key NOT IN"
                        " (SELECT natural_key FROM held.raw_jira_issues)")
        con.execute("CHECKPOINT")
        issues = con.execute("SELECT count(*) FROM raw_jira_issues").fetchone()[0]
    toml = (raw.parent / "processhealth.toml").read_text(encoding="utf-8")
    toml = re.sub(r'(?m)^raw_path = .*$', f'raw_path = "{out / "raw.duckdb"}"', toml)
    toml = re.sub(r'(?m)^analytics_path = .*$',
                  f'analytics_path = "{out / "processhealth.duckdb"}"', toml)
    (out / "processhealth.toml").write_text(toml, encoding="utf-8")
    return issues


def jira_seconds(where: Path) -> dict[str, float]:
    """A full build of `where` in a fresh process; the profile's seconds of each Jira file."""
    env = {**os.environ, "PROCESSHEALTH_PROFILE": "1"}
    for source in ("GITHUB", "JIRA", "SLACK"):
        env.setdefault(f"PROCESSHEALTH_DEMO_{source}_TOKEN", "unused")
    run = subprocess.run([sys.executable, "-c", "from processhealth.cli import cli; cli()",
                          "--config", str(where / "processhealth.toml"), "build", "--full"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    found = {}
    for line in (run.stdout + run.stderr).splitlines():
        m = re.match(r"profile:\s+([0-9.]+) s\s+(\S+)$", line)
        if m and m.group(2) in JIRA_FILES:
            found[m.group(2)] = float(m.group(1))
    return found


def copy_kept(state: Path, held: Path, out: Path) -> tuple[float, dict[str, int]]:
    """Seconds to copy the Jira rows of the issues `held` does not hold from `state` into a new
    file (with its checkpoint), and the rows copied per table."""
    out.unlink(missing_ok=True)
    con = open_duckdb(out)
    try:
        con.execute(f"ATTACH '{state}' AS st (READ_ONLY)")
        con.execute(f"ATTACH '{held}' AS held (READ_ONLY)")
        con.execute("CREATE TEMP TABLE changed AS SELECT 'jira:' || natural_key AS item_id"
                    " FROM held.raw_jira_issues")
        for table, _ in KEPT_ROWS:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM st.{table} LIMIT 0")
        rows, started = {}, time.perf_counter()
        for table, where in KEPT_ROWS:
            rows[table] = con.execute(
                f"INSERT INTO {table} SELECT * FROM st.{table} WHERE {where}"
                " AND item_id NOT IN (SELECT item_id FROM changed)").fetchone()[0]
        con.execute("CHECKPOINT")
        return time.perf_counter() - started, rows
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("people", type=int)
    parser.add_argument("--state", type=Path, help="build state of the store without its last"
                        " month (default: the one in /work/scratch/incr/<people>/build-state)")
    args = parser.parse_args()
    store = folder(args.people)
    raw, held = store / "raw.duckdb", store / "last-month.duckdb"
    state = args.state or next((Path("/work/scratch/incr") / str(args.people)
                                / "build-state").glob("*.duckdb"), None)
    if not held.exists() or state is None or not state.exists():
        sys.exit(f"needs {held} and a build state (scale.py run {args.people} "
                 "--only-incremental makes both)")
    every, changed = WORK / "every", WORK / "changed"
    issues = {"every": jira_only(raw, held, every, False),
              "changed": jira_only(raw, held, changed, True)}
    print(f"Jira issues: {issues['every']:,} in the store, {issues['changed']:,} changed by its"
          f" last month ({issues['changed'] / issues['every']:.1%})")
    for _ in range(2):
        for name, where in (("every issue", every), ("changed issues only", changed)):
            s = jira_seconds(where)
            print(f"  {name:20s} 20_jira.sql {s.get(JIRA_FILES[0], float('nan')):6.2f} s"
                  f"   jira_echo.sql {s.get(JIRA_FILES[1], float('nan')):5.2f} s", flush=True)
    seconds, rows = copy_kept(state, held, WORK / "kept.duckdb")
    print(f"  the other issues' rows copied from the build state: {seconds:.2f} s ("
          + ", ".join(f"{t} {n:,}" for t, n in rows.items()) + ")")
    print(f"  load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
