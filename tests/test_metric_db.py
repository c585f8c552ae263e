"""A tiny hand-built analytics database for the metric-view tests (no simulation, no HTTP).

    db = TinyDB()
    db.team("t", 5, ["2026-01"])                       # people t1..t5, active in January
    db.item("jira:T-1", created="2026-01-01", resolved="2026-01-07")
    db.move("jira:T-1", "2026-01-02", "To Do", "In Progress")
    db.event("e1", "2026-01-02 10:00", "t1", "jira_field_edit", item="jira:T-1", minutes=3)
    con = db.views()                                   # schema + analysis/sql/metric_*.sql
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from analysis import effort, fill_typed_columns
from processhealth import pipeline

REPO = Path(__file__).resolve().parent.parent
CATEGORY = {"To Do": "todo", "Backlog": "todo", "In Progress": "active", "In Review": "active",
            "Blocked": "waiting", "Done": "done"}
SOURCE = {"jira": "jira", "commit": "github", "pr": "github", "issue": "github",
          "release": "github", "slack": "slack"}
PROCESS_SUBKIND = {"jira_transition": "status_change", "jira_field_edit": "metadata_edit",
                   "jira_worklog": "timesheet"}


class TinyDB:
    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        pipeline.create_empty(self.con)  # tables, building blocks and metric views
        self._events: list[tuple] = []
        self._effort: list[tuple] = []

    def team(self, name: str, people: int, months: Iterable[str], active: bool = True
             ) -> list[str]:
        pids = [f"{name}{n}" for n in range(1, people + 1)]
        for pid in pids:
            self.person(pid, name, months, active=active)
        return pids

    def person(self, pid: str, team: str | None, months: Iterable[str] = (), *,
               bot: bool = False, active: bool = True, slack_id: str | None = None) -> None:
        self.con.execute("INSERT INTO people VALUES (?, ?, ?, ?, ?)",
                         [pid, pid.title(), f"{pid}@x.example", team, bot])
        for month in months:
            self.con.execute("INSERT INTO person_months VALUES (?, ?, ?, ?)",
                             [pid, f"{month}-01", team, active])
        self.con.execute("INSERT INTO identities VALUES ('jira', ?, ?, NULL, ?, ?, ?, 'test')",
                         [pid, pid, pid, bot, pid])
        if slack_id:
            self.con.execute(
                "INSERT INTO identities VALUES ('slack', ?, ?, NULL, ?, ?, ?, 'test')",
                [slack_id, pid, pid, bot, pid])

    def item(self, item_id: str, *, created: str, resolved: str | None = None,
             merged: str | None = None, category: str = "customer", author: str | None = None,
             assignee: str | None = None, linked: Iterable[str] = (), kind: str | None = None,
             type: str | None = "Story", labels: Iterable[str] = (), container: str | None = None,
             fields: dict[str, Any] | None = None, resolution: str | None = None) -> None:
        source = item_id.split(":", 1)[0]
        key = item_id.split(":", 1)[1]
        kind = kind or ("jira_issue" if source == "jira" else "pr")
        done = resolved is not None or merged is not None
        self.con.execute(
            "INSERT INTO work_items(item_id, source, kind, key, container, type, labels, status,"
            " status_category, created_at, resolved_at, merged_at, author_id, assignee_id,"
            " linked_keys, category, fields, resolution)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [item_id, source, kind, key, container or key.split("-")[0].split("#")[0],
             type if source == "jira" else None, list(labels), "Done" if done else "To Do",
             "done" if done else "todo", created, resolved or merged, merged, author, assignee,
             list(linked), category, json.dumps(fields) if fields is not None else None,
             resolution])

    def move(self, item_id: str, at: str, frm: str | None, to: str, person: str | None = None
             ) -> None:
        self.con.execute("INSERT INTO transitions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [item_id, at, None, person, frm, to, CATEGORY.get(frm or ""),
                          CATEGORY[to]])

    def event(self, event_id: str, at: str, person: str | None, kind: str, *,
              item: str | None = None, category: str | None = None, subkind: str | None = None,
              channel: str | None = None, detail: dict[str, Any] | None = None,
              minutes: float | None = None, source: str | None = None) -> None:
        source = source or SOURCE.get(kind.split("_")[0], "github")
        if category is None:
            category = "process" if kind in PROCESS_SUBKIND else "customer"
        subkind = subkind or PROCESS_SUBKIND.get(kind)
        self._events.append(
            (event_id, source, at, f"jira:{person}" if person else None, person, item, channel,
             kind, subkind, category, json.dumps(detail or {})))
        if minutes is not None and person is not None:
            self._effort.append((person, event_id, "s", float(minutes)))

    def flush(self) -> None:
        """Write the buffered events and effort (one bulk insert each), with what normalization
        and the effort model write beside them: the typed columns from detail, the event_seq."""
        for table, rows, columns in (
            ("events", self._events, "event_id, source, occurred_at, actor_account, person_id,"
             " item_id, channel_id, kind, subkind, category, detail"),
            ("effort", self._effort, "person_id, event_id, session_id, minutes"),
        ):
            if rows:
                names = [c.strip() for c in columns.split(",")]
                frame = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
                self.con.register("_rows", frame)
                if table == "effort":
                    effort.insert_named(self.con, f"SELECT {columns} FROM _rows")
                else:
                    self.con.execute(f"INSERT INTO {table}({columns}) SELECT {columns} FROM _rows")
                    fill_typed_columns(self.con)
                self.con.unregister("_rows")
            rows.clear()

    def channel(self, channel_id: str, name: str) -> None:
        self.con.execute("INSERT INTO channels(channel_id, name) VALUES (?, ?)", [channel_id, name])

    def change(self, name: str, started_on: str, team: str | None, scope: dict[str, Any]) -> None:
        self.con.execute("INSERT INTO process_changes VALUES (?, NULL, ?, ?, ?, now())",
                         [name, team, started_on, json.dumps(scope)])

    def views(self) -> duckdb.DuckDBPyConnection:
        """The connection, rows written: the metric views are there from the start (the build's
        template, pipeline.create_empty), and read the rows when asked."""
        self.flush()
        return self.con

    def one(self, sql: str, params: list[Any] | None = None) -> Any:
        self.flush()
        row = self.con.execute(sql, params or []).fetchone()
        return row if row is None or len(row) > 1 else row[0]


def month(text: str) -> date:
    return date.fromisoformat(f"{text}-01")


def test_views_create_on_an_empty_database() -> None:
    con = TinyDB().views()
    names = {r[0] for r in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {"metric_overhead", "metric_flow", "metric_coupling", "metric_adoption",
            "metric_weekly"} <= names
    for name in sorted(names):
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone() == (0,), name


def test_every_metric_view_and_column_is_commented() -> None:
    con = TinyDB().views()
    missing = con.execute("""
        SELECT view_name FROM duckdb_views()
        WHERE NOT internal AND view_name LIKE 'metric\\_%' ESCAPE '\\' AND comment IS NULL
          AND view_name NOT LIKE 'metric\\_effort%' ESCAPE '\\'
        UNION ALL
        SELECT c.table_name || '.' || c.column_name FROM duckdb_columns() AS c
        JOIN duckdb_views() AS v ON v.view_name = c.table_name
        WHERE NOT v.internal AND v.view_name LIKE 'metric\\_%' ESCAPE '\\' AND c.comment IS NULL
          AND v.view_name NOT LIKE 'metric\\_effort%' ESCAPE '\\'
    """).fetchall()
    assert missing == []


def test_a_file_database_of_any_name_gets_the_metric_views(tmp_path: Path) -> None:
    # its database is named after the file: a quote in it, or the name the template was
    # attached under, once failed (ParserException; "database ... already exists")
    for stem in ('a"b', "processhealth_template", "processhealth_template_0"):
        con = duckdb.connect(str(tmp_path / f"{stem}.duckdb"))
        try:
            pipeline.create_empty(con)
            assert con.execute("SELECT count(*) FROM metric_coupling").fetchone() == (0,)
            assert [r[0] for r in con.execute(
                "SELECT database_name FROM duckdb_databases() WHERE NOT internal").fetchall()
            ] == [stem]
        finally:
            con.close()
