"""benchmarks/floor.py, the plain-DuckDB floor scale.py divides by: on the simulated
organization it writes the same events as `processhealth build` (count per source and kind),
and its output has the shape scale.py reads."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from simulated import simulated_config

FLOOR = Path(__file__).resolve().parent.parent / "benchmarks" / "floor.py"


def _floor_module():
    spec = importlib.util.spec_from_file_location("bench_floor", FLOOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_floor"] = module
    spec.loader.exec_module(module)
    return module


def test_floor_writes_the_builds_events_and_a_team_month_table(tmp_path: Path) -> None:
    floor = _floor_module()
    config = simulated_config()  # built once per test process (tests/simulated.py)
    figures = floor.run_floor(Path(config.storage.raw_path), tmp_path / "floor.duckdb",
                              Path(config.path))
    assert set(figures) >= {"floor", "floor_cpu", "stages", "events", "team_months", "counts",
                            "peak_rss"}
    assert list(figures["stages"]) == [
        "parse raw payloads", "write events", "person-months, item states",
        "window, as-of joins, team-month aggregate", "checkpoint"]
    assert all(len(v) == 2 and v[0] >= 0 for v in figures["stages"].values())
    build = floor.build_counts(Path(config.storage.analytics_path))
    mine = {(s, k): n for s, k, n in figures["counts"]}
    assert mine == build, "\n".join(floor.compare_lines(figures["counts"], build))
    assert {s for s, _ in mine} == {"github", "jira", "slack"}
    assert figures["events"] == sum(build.values())
    lines = floor.compare_lines(figures["counts"], build)
    assert not any("DIFFERS" in line for line in lines) and lines[-1].startswith("all")

    import duckdb
    con = duckdb.connect(str(tmp_path / "floor.duckdb"), read_only=True)
    teams = {t.name for t in config.teams}
    rows = con.execute("SELECT team, count(*), sum(events), sum(human_events),"
                       " sum(credited_hours) FROM floor_team_month GROUP BY team").fetchall()
    con.close()
    assert figures["team_months"] == sum(r[1] for r in rows)
    assert teams <= {r[0] for r in rows}  # every configured team has months
    assert sum(r[2] for r in rows) == figures["events"]  # every event placed once
    assert all(0 < r[3] <= r[2] and r[4] > 0 for r in rows if r[0] in teams)


def test_scale_prepare_sets_the_last_months_rows_apart(tmp_path: Path) -> None:
    """The incremental-build hook (benchmarks/scale.py hold_last_month): every raw row updated
    in the data's last month, and nothing else, copied to a store of its own."""
    import duckdb

    sys.path.insert(0, str(FLOOR.parent))
    import scale

    raw = Path(simulated_config().storage.raw_path)
    held = scale.hold_last_month(raw, tmp_path / "last-month.duckdb")
    con = duckdb.connect(str(tmp_path / "last-month.duckdb"), read_only=True)
    con.execute(f"ATTACH '{raw}' AS raw (READ_ONLY)")
    since = con.execute("SELECT month FROM held_since").fetchone()[0]
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'raw'"
        " AND table_name LIKE 'raw\\_%' ESCAPE '\\'").fetchall()]
    expected = sum(con.execute(f"SELECT count(*) FROM raw.{t} WHERE updated_at >= ?",
                               [since]).fetchone()[0] for t in tables)
    total = sum(con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in tables)
    newest = max(con.execute(f"SELECT max(updated_at) FROM raw.{t}").fetchone()[0] or since
                 for t in tables)
    con.close()
    assert 0 < held == expected < total
    assert since.day == 1 and since <= newest and (newest - since).days < 31
