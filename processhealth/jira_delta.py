"""Jira normalized by issue in an incremental build (docs/build.md, "Jira: only the issues
touched").

What an issue's normalized rows (its work item, transitions, item_fields rows and events) are
made of: its own payload; the config and the site's field list (a change to either makes Jira
full); the category of each status it names, read from the status list all issues make
(`jira_statuses`); the set of fields any issue carries (`item_fields` has a row per issue and
carried field); and, for an issue moved to another project, the other copies under its id (the
latest is the issue). The Jira identities aggregate the user objects of every issue. So an
incremental build normalizes again the issues touched since the last build (`touched`):

- the raw rows the last build did not read: a (key, `seq`) pair not in the build state's
  `jira_refs`, or no `seq` (new and changed issues, and an older version a raw store restored
  from a copy brings back under a number the last build saw with another row);
- the issues the last build read that the raw store no longer holds as read;
- the issues marked deleted, or no longer marked, since;
- every key sharing an issue id with one of those (moves), by the ids of the state and of the
  raw rows now.

The other issues' rows stay in the build's file, which starts as a copy of the build state.
`jira_refs` keeps, per issue read, what
the cross-issue parts are made of: the statuses it names, the fields it carries and the user
objects it holds (aggregated per user). 20_jira.sql adds the touched issues' rows to it and
computes the status list, the carried fields and the identities over all of it, so a full build
is the case with no kept issue. When a status of the last build's list now has another
category (the site moved it), or the carried fields come out different (a field carried for the
first time, or by no issue any more), the kept rows may be stale: `consistent` says so and the
build normalizes Jira again from all its rows (pipeline._normalize_step). A new status, or one
no issue names any more, changes no kept row. The Jira echo rules read across issues too
(links, bulk changes); they run after the build state is written, over every Jira event, in
every build (collectors/sql/echo/jira_echo.sql).
"""

from __future__ import annotations

import duckdb

from processhealth import event_base_delta
from processhealth.build_inputs import has, raw_rows_of, state_has
from processhealth.slack_delta import changed_keys

REFS = "jira_refs"
_USER = ("STRUCT(uid VARCHAR, \"name\" VARCHAR, email VARCHAR, display_name VARCHAR,"
         " is_bot BOOLEAN)")
_STATUS = "STRUCT(status_id VARCHAR, \"name\" VARCHAR, jira_category VARCHAR, \"rank\" INTEGER)"
REFS_COLUMNS = (f"natural_key VARCHAR, seq BIGINT, issue_id VARCHAR, statuses {_STATUS}[],"
                f" carried VARCHAR[], users {_USER}[]")
TOUCHED = "_jira_touched"
# What the build state keeps for the next build (besides the normalized tables); IN_REFS as
# for Slack (slack_delta.IN_REFS): `jira_refs` is a table of the refs file, which the state
# keeps and the next build finds in its own copy (about 1 s at 10M events to write into the
# state, and as much to copy out of it).
STATE_TABLES = ("jira_refs", "jira_deleted")
IN_REFS = ("jira_refs",)
# The normalized tables holding an issue's own rows (item_id 'jira:<key>'), with the SQL
# expression that picks Jira's rows.
PER_ISSUE = {"events": "source = 'jira'", "work_items": "source = 'jira'",
             "transitions": "true", "item_fields": "true"}
_ISSUES = "raw_jira_issues"
_DELETED_NOW = ("SELECT natural_key FROM sync_deleted WHERE source = 'jira'"
                " AND entity = 'issues'")
_KEPT = f"item_id NOT IN (SELECT 'jira:' || natural_key FROM {TOUCHED})"
# table -> the SQL predicate of the Jira rows a by-issue build keeps (those of the issues not
# touched); every other Jira row of the normalized tables is made again (state_start.clear).
KEPT = {table: _KEPT for table in PER_ISSUE}


def usable(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the previous build state (`prev`) holds what a by-issue build needs and the raw
    store has an issues table."""
    return state_has(con, STATE_TABLES, IN_REFS) and has(con, "raw", "main", _ISSUES)


def load(con: duckdb.DuckDBPyConnection) -> None:
    """The last build's Jira tables, copied out of its state (reads only the state, so that
    incremental._from_state can tell a damaged state from a damaged raw store; `jira_refs` is
    in the build's file, a copy of the state), with what `consistent` compares: the category
    of each status name, and the fields carried."""
    con.execute("CREATE OR REPLACE TEMP TABLE _jira_prev_deleted AS"
                " SELECT * FROM prev.jira_deleted")
    con.execute("CREATE OR REPLACE TEMP TABLE _jira_prev_categories AS"
                " SELECT lower(name) AS lname, any_value(status_category) AS status_category"
                " FROM prev.main.jira_statuses GROUP BY lower(name)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _jira_prev_carried AS {_carried(REFS)}")


def _carried(refs: str) -> str:
    return (f"SELECT coalesce(list(field_id ORDER BY field_id), []) AS fields FROM"
            f" (SELECT DISTINCT unnest(carried) AS field_id FROM {refs})")


def touched(con: duckdb.DuckDBPyConnection) -> int:
    """After `load`: find the issues to normalize again (the module docstring) into
    `_jira_touched`, and drop their rows from `jira_refs`; returns how many."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {TOUCHED} AS
        WITH issues_now AS (SELECT natural_key, seq FROM raw.{_ISSUES}),
        deleted_now AS ({_DELETED_NOW}),
        changed AS (
            {changed_keys("issues_now", REFS, "deleted_now", "_jira_prev_deleted")}
        ),
        -- The ids of the changed keys, as the last build read them and as they are now: a
        -- changed key's row not read since (no seq, or a seq the refs lack) is parsed for its
        -- id, found by seq (the newest rows, where zone maps skip the others: by key, every
        -- payload was read, 3.5 GB at 10M events); a row read then has the id the refs hold.
        not_read AS (
            SELECT seq FROM (SELECT natural_key, seq FROM issues_now WHERE seq IS NOT NULL
                             EXCEPT SELECT natural_key, seq FROM {REFS})
        ),
        ids AS (
            SELECT issue_id FROM {REFS} WHERE natural_key IN (SELECT natural_key FROM changed)
            UNION SELECT payload ->> 'id' FROM raw.{_ISSUES} WHERE seq IS NULL
            UNION SELECT payload ->> 'id' FROM raw.{_ISSUES}
                  WHERE seq IN (SELECT seq FROM not_read)
        )
        SELECT natural_key FROM changed
        UNION SELECT natural_key FROM {REFS} WHERE issue_id IN (SELECT issue_id FROM ids)
        """)
    con.execute(f"DELETE FROM {REFS} WHERE natural_key IN (SELECT natural_key FROM {TOUCHED})")
    con.execute("DROP TABLE _jira_prev_deleted")
    return con.execute(f"SELECT count(*) FROM {TOUCHED}").fetchone()[0]


def restore(con: duckdb.DuckDBPyConnection, coverage_columns: str) -> None:
    """After the touched issues' rows are deleted from the copy of the state (`KEPT`): the
    quarantine records of the others, then `raw_jira_issues` narrowed to the touched issues
    for 20_jira.sql (`show_all` undoes it)."""
    con.execute(f"INSERT INTO source_coverage({coverage_columns}) SELECT {coverage_columns}"
                f" FROM prev.norm_source_coverage WHERE source = 'jira' AND entity = 'issues'"
                f" AND item NOT IN (SELECT natural_key FROM {TOUCHED})")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _jira_touched_rows AS SELECT natural_key, seq"
                f" FROM raw.{_ISSUES} WHERE natural_key IN (SELECT natural_key FROM {TOUCHED})")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_ISSUES} AS"
                f" {raw_rows_of(_ISSUES, '_jira_touched_rows')}")


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """`jira_refs`, empty, before Jira is normalized from every issue (20_jira.sql fills it);
    a kept source and a by-issue build use the last build's in the copy of the state's refs
    file (`touched` deleted the touched issues' rows), and call nothing here."""
    con.execute(f"CREATE OR REPLACE TABLE refs.{REFS}({REFS_COLUMNS})")


def consistent(con: duckdb.DuckDBPyConnection) -> str | None:
    """After 20_jira.sql in a by-issue build: None when the kept issues' rows are what a full
    normalization would give, else why not (a status of the last build now has another
    category, or the fields carried changed). A status of the last build that is gone names
    no kept issue (each status a kept issue names is in `jira_refs`, so in this build's
    jira_statuses): it does not count."""
    [(moved, same)] = con.execute(f"""
        SELECT (SELECT count(*) FROM _jira_prev_categories AS p
                JOIN (SELECT lower(name) AS lname, any_value(status_category) AS category
                      FROM jira_statuses GROUP BY lower(name)) AS n USING (lname)
                WHERE n.category IS DISTINCT FROM p.status_category),
               ({_carried(REFS)}) = (SELECT fields FROM _jira_prev_carried)""").fetchall()
    if moved:
        return "a Jira status is now in another category"
    if not same:
        return "the Jira fields that issues carry changed"
    return None


def widen(con: duckdb.DuckDBPyConnection) -> None:
    """Undo a by-issue normalization, for 20_jira.sql to run again on every issue: every Jira
    row of the domain tables goes, and `raw_jira_issues` is shown whole."""
    for table, jira in {**PER_ISSUE, "identities": "source = 'jira'",
                        "jira_statuses": "true", "jira_sprints": "true"}.items():
        event_base_delta.gone(con, table, jira)
        con.execute(f"DELETE FROM {table} WHERE {jira}")
    con.execute("DELETE FROM source_coverage WHERE source = 'jira' AND entity = 'issues'"
                " AND status = 'quarantined'")
    show_all(con)
    prepare(con)


def show_all(con: duckdb.DuckDBPyConnection) -> None:
    """After 20_jira.sql: `raw_jira_issues` the raw table again, the working tables gone."""
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary"
                   " AND table_name = ?", [TOUCHED]).fetchone()[0]:
        con.execute(f"DROP VIEW {_ISSUES}")
        con.execute(f"DROP TABLE {TOUCHED}")
        con.execute("DROP TABLE IF EXISTS _jira_touched_rows")
    con.execute("DROP TABLE IF EXISTS _jira_prev_categories")
    con.execute("DROP TABLE IF EXISTS _jira_prev_carried")


def save(con: duckdb.DuckDBPyConnection) -> None:
    """Into the new build state (`state`), which already holds what each issue read is made
    of (`IN_REFS`): the issues marked deleted, as the raw store holds them now."""
    con.execute(f"CREATE OR REPLACE TABLE state.jira_deleted AS {_DELETED_NOW}")

