"""The plain-DuckDB floor: the build's essential work on a prepared raw store, nothing more.

    .venv/bin/python benchmarks/floor.py 130                 # SCALE_DIR/130 (see scale.py)
    .venv/bin/python benchmarks/floor.py /some/folder --compare /some/processhealth.duckdb

Every scale figure is divided by this one (benchmarks/scale.py runs it in its own fresh process
next to each build, on the same raw store). It does, in DuckDB SQL only, what no build of this
data can skip, once each:

1. parse every raw payload the events come from, once (one json_extract_string path list per
   GitHub and Slack table, one typed from_json per Jira issue with its changelog, comments and
   worklogs), into typed temp tables; the small tables (users, channels, statuses, team members)
   too;
2. write one `events` table, once: the same event rows as processhealth's `events` (same ids,
   same rules for which raw rows are acts: deleted items left out, rewritten commits counted
   once, Jira's status vs field-edit vs time-tracking items, Slack notices dropped), checked by
   count per (source, kind) against a real build; typed columns instead of a JSON `detail`, no
   primary-key index;
3. person-months: each account's team per month, by the team whose scope ([[teams]] in the
   size's processhealth.toml: jira_projects, repos, channels) holds most of its events (the
   fallback rule of analysis/teams.py);
4. one window pass (the gap to the account's previous event, credited minutes capped at 30),
   two as-of joins (event -> the account's latest person-month at or before it; event -> the
   item's status category at that time, from Jira transitions and GitHub opened/merged/closed),
   one team-month aggregate (events, human events, process events, credited hours, people,
   items, events on items in progress), stored as `floor_team_month`.

What it leaves out, on purpose: identity linking across tools, classification rules, effort
models, the metric views, verdicts, the report. So build/floor is how much the build costs beyond
reading the data once and writing its facts once; it is not a claim that those steps are free.

The output database is a fresh file (memory_limit as the build's default, the build's storage
version), removed first if present. The statements are in benchmarks/floor_sql.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.floor_sql import (  # noqa: E402
    BOTS,
    EVENTS,
    ITEM_STATES,
    PARSE,
    PERSON_MONTHS,
    TEAM_MONTH,
)
from benchmarks.peak_rss import peak_rss  # noqa: E402
from processhealth.duckdb_files import (  # noqa: E402
    ANALYTICS_STORAGE_VERSION,
    DEFAULT_MEMORY_LIMIT,
    open_duckdb,
)

SCALE_DIR = Path(os.environ.get("PROCESSHEALTH_SCALE_DIR", "/work/scratch/scale"))


def scope_teams(config_path: Path) -> list[tuple[str, str, str]]:
    """(source, pattern, team) from [[teams]] in the size's processhealth.toml."""
    teams = tomllib.loads(config_path.read_text()).get("teams", [])
    out = []
    for team in teams:
        for source, key in (("jira", "jira_projects"), ("github", "repos"),
                            ("slack", "channels")):
            out += [(source, str(p).lower(), team["name"]) for p in team.get(key, [])]
    return out


def run_floor(raw_path: Path, out_path: Path, config_path: Path,
              memory_limit: str = DEFAULT_MEMORY_LIMIT) -> dict:
    """The floor on one raw store, into a fresh `out_path`; returns stage times and counts."""
    for stale in (out_path, out_path.with_name(out_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    times: dict[str, list[float]] = {}  # stage -> [wall s, CPU s of this process's threads]
    t_all, c_all = time.perf_counter(), time.process_time()
    con = open_duckdb(out_path, memory_limit=memory_limit,
                      storage_version=ANALYTICS_STORAGE_VERSION)
    con.execute("SET enable_progress_bar = false")  # stdout is for figures
    con.execute(f"ATTACH '{raw_path}' AS raw (READ_ONLY)")
    for table in ("sync_deleted",):  # a store older than its migration: an empty stand-in
        if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'raw'"
                           " AND table_name = ?", [table]).fetchone()[0]:
            con.execute("CREATE TEMP TABLE sync_deleted(source VARCHAR, entity VARCHAR,"
                        " natural_key VARCHAR)")

    def stage(name: str, statements: list[str]) -> None:
        t0, c0 = time.perf_counter(), time.process_time()
        for sql in statements:
            con.execute(sql)
        times[name] = [time.perf_counter() - t0, time.process_time() - c0]

    stage("parse raw payloads", PARSE)
    stage("write events", [EVENTS, BOTS])
    con.execute("CREATE TABLE floor_scope_team(source VARCHAR, pattern VARCHAR, team VARCHAR)")
    rows = scope_teams(config_path)
    if rows:
        con.executemany("INSERT INTO floor_scope_team VALUES (?, ?, ?)", rows)
    stage("person-months, item states", [
        # containers: repo full names end in the configured repo; Slack scopes are channel names
        """CREATE OR REPLACE TABLE floor_scope_team AS
           SELECT c.source, c.container, min(t.team) AS team
           FROM (SELECT DISTINCT source, container FROM events) AS c
           LEFT JOIN slack_channels AS ch ON c.source = 'slack' AND ch.channel_id = c.container
           JOIN floor_scope_team AS t ON t.source = c.source
                AND (lower(coalesce(ch.name, c.container)) GLOB t.pattern
                     OR lower(split_part(c.container, '/', -1)) GLOB t.pattern)
           GROUP BY ALL""",
        PERSON_MONTHS, ITEM_STATES])
    stage("window, as-of joins, team-month aggregate", [TEAM_MONTH])
    t0, c0 = time.perf_counter(), time.process_time()
    con.execute("DETACH raw")
    con.execute("CHECKPOINT")
    counts = con.execute("SELECT source, kind, count(*) FROM events GROUP BY ALL ORDER BY ALL"
                         ).fetchall()
    team_months = con.execute("SELECT count(*) FROM floor_team_month").fetchone()[0]
    con.close()
    times["checkpoint"] = [time.perf_counter() - t0, time.process_time() - c0]
    return {"floor": time.perf_counter() - t_all, "floor_cpu": time.process_time() - c_all,
            "stages": times,
            "events": sum(n for _, _, n in counts), "team_months": team_months,
            "counts": [[s, k, n] for s, k, n in counts],
            "peak_rss": peak_rss()}


def build_counts(analytics: Path) -> dict[tuple[str, str], int]:
    """Events per (source, kind) in a processhealth analytics database."""
    con = open_duckdb(analytics, read_only=True)
    try:
        return {(s, k): n for s, k, n in con.execute(
            "SELECT source, kind, count(*) FROM events GROUP BY ALL").fetchall()}
    finally:
        con.close()


def compare_lines(floor_counts: list, build: dict[tuple[str, str], int]) -> list[str]:
    """The floor's and the build's event counts side by side; mismatches marked."""
    mine = {(s, k): n for s, k, n in floor_counts}
    lines = [f"{'source':7} {'kind':16} {'build':>11} {'floor':>11}"]
    for key in sorted(set(mine) | set(build)):
        a, b = build.get(key, 0), mine.get(key, 0)
        lines.append(f"{key[0]:7} {key[1]:16} {a:11,d} {b:11,d}{'' if a == b else '  DIFFERS'}")
    a, b = sum(build.values()), sum(mine.values())
    lines.append(f"{'all':24} {a:11,d} {b:11,d}{'' if a == b else '  DIFFERS'}")
    return lines


def folder_of(arg: str) -> Path:
    return Path(arg) if not arg.isdigit() else SCALE_DIR / arg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", help="a prepared size (people, under SCALE_DIR) or its folder")
    parser.add_argument("--out", help="the floor's database (default: <folder>/floor.duckdb)")
    parser.add_argument("--compare", help="a processhealth analytics database of the same raw "
                                          "store: print the event counts side by side")
    parser.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT)
    parser.add_argument("--json", action="store_true", help="print one JSON line (scale.py)")
    args = parser.parse_args()
    where = folder_of(args.folder)
    out = Path(args.out) if args.out else where / "floor.duckdb"
    out.parent.mkdir(parents=True, exist_ok=True)
    figures = run_floor(where / "raw.duckdb", out, where / "processhealth.toml",
                        args.memory_limit)
    if args.json:
        print(json.dumps(figures), flush=True)
        return
    print(f"floor {figures['floor']:.1f} s (CPU {figures['floor_cpu']:.1f} s) for "
          f"{figures['events']:,} events, {figures['team_months']:,} team-months, peak RSS "
          f"{figures['peak_rss'] / 2**30:.2f} GiB")
    for name, (wall, cpu) in figures["stages"].items():
        print(f"  {name:45} {wall:6.1f} s  (CPU {cpu:6.1f} s)")
    if args.compare:
        print("\n".join(compare_lines(figures["counts"], build_counts(Path(args.compare)))))


if __name__ == "__main__":
    main()
