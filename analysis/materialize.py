"""A build step of its own: store the per-event and per-item metric views as tables.

Every team-month view adds up the same per-event facts (metric_event_base, of which
metric_event_human is a filter: five as-of joins over all events); as views they would be
recomputed by every query of every view, report and verdict. Per-event rows are stored once,
without the event id (metric_event_team and metric_event_facts add it for readers).
Once the build has created all views (and written build_params, which metric_team_months reads),
these building blocks are stored as tables of the same name, with the same comments. The views
that read them rebind by name, so nothing else changes; the SQL that defines them stays in
analysis/sql/blocks/*.sql.
"""

from __future__ import annotations

from typing import Any

import duckdb

from processhealth import event_base_delta, ui
from processhealth.duckdb_files import one_commit, sql_literal

# In dependency order: each is stored after the ones it reads.
BUILDING_BLOCKS = (
    "metric_team_months", "metric_channel_presence", "metric_reminder_person_months",
    "metric_event_base", "metric_item_team",
    "metric_status_intervals", "metric_flow_items", "metric_pr_items", "metric_scope_events",
    # Not building blocks: read more than once per build and report, each read recomputing
    # them. The report reads metric_effort_allocation six times (allocation, unclassified
    # share, months shown); the verdicts and the report each read metric_coupling (at 10M
    # events 0.6 s a read, the stored table 0.01 s).
    "metric_effort_allocation", "metric_coupling",
)


def materialize(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Replace view `name` by a table with its rows and comments (no-op if it is no view)."""
    found = con.execute(
        "SELECT comment FROM duckdb_views() WHERE view_name = ? AND NOT internal"
        " AND database_name = current_database()", [name]
    ).fetchone()
    if found is None:
        return
    columns = con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?"
        " AND database_name = current_database() ORDER BY column_index", [name]
    ).fetchall()
    with ui.profiled(f"store {name}", indent="  "):
        if name == "metric_event_base" and event_base_delta.active(con):
            event_base_delta.patch(con)  # the last build's rows, patched
            con.execute(f"ALTER TABLE {event_base_delta.KEPT} RENAME TO _materialized")
        else:
            con.execute(f"CREATE TABLE _materialized AS SELECT * FROM {name}")
        if name == "metric_event_base":
            event_base_delta.drop(con)
    # one commit for the renames and comments (a commit each cost a third of this step in a
    # build of the tests' small organization)
    with one_commit(con):
        con.execute(f"DROP VIEW {name}")
        con.execute(f"ALTER TABLE _materialized RENAME TO {name}")
        if found[0]:
            con.execute(f"COMMENT ON TABLE {name} IS {sql_literal(found[0])}")
        for column, comment in columns:
            if comment:
                con.execute(f'COMMENT ON COLUMN {name}."{column}" IS {sql_literal(comment)}')


def build(con: duckdb.DuckDBPyConnection, config: Any = None) -> None:
    """Store every view of BUILDING_BLOCKS as a table, in order."""
    for name in BUILDING_BLOCKS:
        materialize(con, name)
