"""A report for a past month from the data as it stood at that month's end.

    with as_of_database(config, month) as (db, left_out):   # AnalyticsDB, LeftOut | None
        ...

A month's figures must not change when later data arrives: coupling looks 30 days ahead, paperwork
24 hours, a change's after window 12 weeks, baselines and verdicts read what the build saw. So when
the analytics database holds anything dated after the month, the report is made from a copy cut
at the month's end (UTC): events, transitions, items created, merges and resolutions after it are
taken out (an item resolved later is open again, in the status it had then), with the months and
process changes after it; then the stored building blocks, the verdicts and the experiments are
computed again on the copy, by the build's own steps (the other metric views are views: they read
the cut rows). Regenerating the report later therefore gives the same figures, unless data dated
in the month itself arrived late (or went away upstream): the database cannot tell that data
apart, so the figures include it, and reports.late names it per team from the raw store's ledger
of what the month's first report counted.

People, teams, identities, categories and credited minutes stay as the build made them: they
depend on configuration and on each event, not on later months. What the sources only give as
it is now also stays: a work item's title, labels, type, category, linked keys and which fields
hold a value (item_fields) are as last collected. The copy is written beside the analytics
database (`.asof-<pid>@<host>-*`, removed when the report is written; a killed report's copy is
removed by the next report on its host, or on any host a day later: remove_left_by_dead).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from processhealth.duckdb_files import one_commit
from processhealth.temp_names import owner_tag, remove_left_by_dead
from reports.db import AnalyticsDB


@dataclass(frozen=True)
class LeftOut:
    """What the cut took out: rows dated on or after `cutoff`."""

    cutoff: datetime
    events: int
    items: int


def month_end(month: date) -> datetime:
    """The first instant after `month`, UTC."""
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return datetime(nxt.year, nxt.month, 1, tzinfo=UTC)


def later_rows(con: Any, cutoff: datetime) -> LeftOut | None:
    """Counts of what is dated on or after `cutoff`; None when nothing is."""
    events = con.execute("SELECT count(*) FROM events WHERE occurred_at >= ?", [cutoff]
                         ).fetchone()[0]
    items = con.execute(
        "SELECT count(*) FROM work_items WHERE created_at >= $c OR resolved_at >= $c"
        " OR merged_at >= $c OR started_at >= $c", {"c": cutoff}).fetchone()[0]
    moves = con.execute('SELECT count(*) FROM transitions WHERE "at" >= ?', [cutoff]
                        ).fetchone()[0]
    changes = con.execute("SELECT count(*) FROM process_changes WHERE started_on >= ?::DATE",
                          [cutoff.date()]).fetchone()[0]
    if not (events or items or moves or changes):
        return None
    return LeftOut(cutoff, events, items)


# Each statement reads $cut (TIMESTAMPTZ) or $day (DATE); order matters (statuses are set
# from the transitions left).
CUT = (
    "DELETE FROM events WHERE occurred_at >= $cut",
    "DELETE FROM effort_credit WHERE event_seq NOT IN (SELECT event_seq FROM events)",
    "DELETE FROM effort_sessions WHERE session_no NOT IN (SELECT session_no FROM effort_credit)",
    'DELETE FROM transitions WHERE "at" >= $cut',
    "DELETE FROM work_items WHERE created_at >= $cut",
    "DELETE FROM transitions WHERE item_id NOT IN (SELECT item_id FROM work_items)",
    "DELETE FROM item_fields WHERE item_id NOT IN (SELECT item_id FROM work_items)",
    "UPDATE work_items SET started_at = NULL WHERE started_at >= $cut",
    "UPDATE work_items SET merged_at = NULL WHERE merged_at >= $cut",
    "UPDATE work_items SET resolved_at = NULL, resolution = NULL WHERE resolved_at >= $cut",
    # an item done now but not by the cut: the status of its last move before the cut, else
    # open (GitHub: an open pull request is active, an issue todo; Jira: todo)
    """UPDATE work_items AS w SET status = t.to_status, status_category = t.to_status_category
       FROM (SELECT item_id, arg_max(to_status, "at") AS to_status,
                    arg_max(to_status_category, "at") AS to_status_category
             FROM transitions GROUP BY item_id) AS t
       WHERE t.item_id = w.item_id AND w.status_category = 'done'
         AND w.resolved_at IS NULL AND w.merged_at IS NULL""",
    """UPDATE work_items SET status = CASE WHEN source = 'github' THEN 'open' ELSE status END,
                             status_category = CASE WHEN kind = 'pr' THEN 'active' ELSE 'todo' END
       WHERE status_category = 'done' AND resolved_at IS NULL AND merged_at IS NULL""",
    "DELETE FROM person_months WHERE month >= $day",
    "DELETE FROM effort_sensitivity WHERE month >= $day",
    "DELETE FROM process_changes WHERE started_on >= $day",
    "DELETE FROM experiment_criteria WHERE name NOT IN (SELECT name FROM process_changes)",
)


def cut(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> None:
    """Take out of the domain tables what is dated on or after `cutoff` (see the docstring)."""
    params = {"cut": cutoff, "day": cutoff.date()}
    for statement in CUT:
        con.execute(statement, {k: params[k] for k in set(re.findall(r"\$(\w+)", statement))})


def recompute(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Make the stored building blocks views again (their tables dropped, their views created
    from the build's SQL) and empty the verdict tables, then run the build's steps after the
    analysis (stored blocks, verdicts, experiments). The other metric views stay: they are
    views, computed when read. A database whose metric views another version's SQL made
    (build_params `processhealth.metric_sql`) gets every metric view made again from this
    version's: the verdict steps read them."""
    from analysis.params import metric_sql_digest
    from processhealth import pipeline

    def names(sql: str) -> list[str]:
        return [name for (name,) in con.execute(
            f"{sql} AND database_name = current_database() ORDER BY 1").fetchall()]

    views = names("SELECT view_name FROM duckdb_views() WHERE NOT internal"
                  " AND view_name LIKE 'metric_%'")
    tables = names("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'metric_%'")
    this_version = con.execute(
        "SELECT count(*) FROM build_params WHERE name = 'processhealth.metric_sql'"
        " AND value = ?", [metric_sql_digest()]).fetchone()[0] == 1
    for name in () if this_version else views:
        con.execute(f'DROP VIEW "{name}"')
    for name in tables:
        con.execute(f'DROP TABLE "{name}"')
    for name in names("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'health_%'"):
        con.execute(f'DELETE FROM "{name}"')
    pipeline.config_variable(con, config)
    if this_version:
        for statement in pipeline.view_statements(tables):
            con.execute(statement)
    for step in (*(() if this_version else pipeline.metric_steps()), *pipeline.verdict_steps()):
        step(con, config)


_IN_USE: set[str] = set()  # this process's as-of copies (remove_left_by_dead leaves them)


@contextlib.contextmanager
def as_of_database(config: Any, month: date) -> Iterator[tuple[AnalyticsDB, LeftOut | None]]:
    """The analytics database as it stood at the end of `month` (a cut copy, removed after), or
    the database itself when it holds nothing dated later."""
    path = Path(config.storage.analytics_path)
    with AnalyticsDB.open(path, config.storage.memory_limit) as db:
        left_out = later_rows(db.con, month_end(month))
    if left_out is None:
        with AnalyticsDB.open(path, config.storage.memory_limit) as db:
            yield db, None
        return
    # copies of killed reports (also one whose process id this process got again)
    remove_left_by_dead(path.parent, ".asof-", ours=_IN_USE)
    folder = Path(tempfile.mkdtemp(prefix=f".asof-{owner_tag()}-", dir=path.parent))
    _IN_USE.add(folder.name)
    try:
        copy = folder / path.name
        shutil.copyfile(path, copy)
        con = duckdb.connect(str(copy))
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(f"SET memory_limit = '{config.storage.memory_limit}'")
            with one_commit(con):
                cut(con, left_out.cutoff)
                recompute(con, config)
        finally:
            con.close()
        with AnalyticsDB.open(copy, config.storage.memory_limit) as db:
            yield db, left_out
    finally:
        _IN_USE.discard(folder.name)
        shutil.rmtree(folder, ignore_errors=True)
