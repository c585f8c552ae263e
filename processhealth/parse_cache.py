"""Parsed payloads kept between builds: an incremental build parses only the raw rows written
since the last build (docs/build.md, "Parsed rows kept").

A normalization statement that parses one raw table, row by row, into a temporary table is
marked in its SQL file:

    -- ph:parsed raw_github_commits _gh_c natural_key
    CREATE OR REPLACE TEMP TABLE _gh_c AS SELECT natural_key, ... FROM raw_github_commits;

(raw table, parse table, the parse table's column holding the raw row's natural_key, then any
raw tables the parse also depends on, e.g. the Jira field list). Every build saves the parse
table right after the statement in the build state file (processhealth/incremental.py). An
incremental build that normalizes the source again runs the statement on the rows written since
the last build only and adds the previous build's parsed rows of every row still there unchanged
(its natural_key held by a row at or below the seq that build read: such a row is the one it
parsed). Exact,
because the statement reads each row alone (no joins, aggregates or other rows); the set-level
logic after it runs on all rows as in a full build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import duckdb

_MARK = re.compile(r"^--\s*ph:parsed\s+(\w+)\s+(\w+)\s+(\w+)((?:[ \t]+\w+)*)[ \t]*$", re.M)


@dataclass(frozen=True)
class Mark:
    raw: str
    table: str
    key: str
    depends: tuple[str, ...]

    @property
    def source(self) -> str:
        return self.raw.split("_")[1]


def mark_of(text: str) -> Mark | None:
    found = _MARK.search(text)
    if not found:
        return None
    return Mark(found[1], found[2], found[3], tuple(found[4].split()))


def marks_in(sql: str) -> list[Mark]:
    return [m for m in (mark_of(s.query) for s in duckdb.extract_statements(sql)) if m]


def usable(con: duckdb.DuckDBPyConnection, plan: Any, mark: Mark) -> bool:
    """Whether this build may take the previous build's parsed rows for `mark`."""
    if plan.mode != "incremental" or mark.raw not in plan.since:
        return False
    if any(dep in plan.dirty for dep in mark.depends):
        return False
    return _in_prev(con, mark)


def _in_prev(con: duckdb.DuckDBPyConnection, mark: Mark) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'prev'"
        " AND table_name = ?", [f"parsed{mark.table}"]).fetchone()[0])


def run(con: duckdb.DuckDBPyConnection, statement: str, plan: Any) -> None:
    """One normalization statement; a marked one parses only the new rows when it can, and its
    parse table is saved for the next build."""
    mark = mark_of(statement)
    if mark is None:
        con.execute(statement)
        return
    if usable(con, plan, mark):
        since = int(plan.since[mark.raw])
        con.execute(f"CREATE OR REPLACE TEMP VIEW _ph_new_rows AS SELECT * FROM {mark.raw}"
                    f" WHERE seq > {since} OR seq IS NULL")
        con.execute(re.sub(rf"\b{mark.raw}\b", "_ph_new_rows", statement))
        [(kept,)] = con.execute(
            f"INSERT INTO {mark.table} SELECT * FROM prev.parsed{mark.table}"
            f" WHERE {mark.key} IN (SELECT natural_key FROM raw.{mark.raw}"
            f" WHERE seq <= {since})").fetchall()
        plan.parsed_kept[mark.table] = int(kept)
        con.execute("DROP VIEW _ph_new_rows")
    else:
        con.execute(statement)
    if plan.state is not None:
        con.execute(f"CREATE OR REPLACE TABLE state.parsed{mark.table} AS"
                    f" SELECT * FROM {mark.table}")


def carry(con: duckdb.DuckDBPyConnection, marks: list[Mark], kept: tuple[str, ...]) -> None:
    """The kept sources' parsed rows, copied as they are into the new state file."""
    for mark in marks:
        if mark.source in kept and _in_prev(con, mark):
            con.execute(f"CREATE OR REPLACE TABLE state.parsed{mark.table} AS"
                        f" SELECT * FROM prev.parsed{mark.table}")
