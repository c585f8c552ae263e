"""GitHub normalized by item in an incremental build (docs/build.md, "GitHub: only the items
touched").

collectors/sql/10_github.sql is in sections: `parse` reads the raw rows, `refs` adds what the
parts across items are made of to compact per-unit tables (`github_*_refs`: a commit's repo,
author time, author, message digest, Jira keys, the pull request number it says it lands,
parents; a pull request's commit; an issue's or pull request's repo, number, is_pr, keys, close
and merge times, issue id; a review's, comment's, issue event's or release's account, a comment's
issue number, an event's issue), `cross` computes the cross-item parts over all of those refs
(rebase duplicates, the pull request of each commit, landing commits, pull-request aggregates,
who merged, the issue each comment is on) and `emit` writes the domain rows of the rows parsed;
identities are aggregated from the refs, group members and repo names from their (small) raw
tables, in every run. The units: an issue or pull request (its key under the repository's latest
name: every raw row of it, under every name), a commit (its key under the latest name: its
commits row and every pull request's commits row of it), and each review, issue comment, review
comment, issue event and release.

An incremental build (`touched`, processhealth/github_touched.py) finds

- the units of the raw rows the last build did not read ((table, key, `seq`) not in the state's
  `github_read`, or no `seq`), of those it read that are gone, and of the issues and issue
  comments marked deleted or unmarked since;
- parses those rows only (the `parse` and `refs` sections on raw tables narrowed to them), into
  the last build's refs of the other units, and computes `cross` over all refs: the commits whose
  result (kept as a rebase duplicate or not, its pull request, landing or not) and the issue
  comments whose result (its issue, issue_comment or pr_comment, left out) differ from the last
  build's events are touched too;
- the items touched: those of the units above, and every item a touched commit, issue comment,
  review comment or issue event names before or after (its aggregates, who merged it, has_result
  read them); every issue event of a touched item is touched (pr_ready reads the item).

Then the rows the build redoes are explicit (`KEPT`): `_github_touched_items` (work_items) and
`_github_touched_events` (events); identities, group members and repo names are redone whole.
They are deleted from the build's file, a copy of the state (state_start.clear; the other rows
stay), `restore` narrows the raw tables (TEMP VIEWs) to the touched units that `touched` did
not parse, and `normalize` runs 10_github.sql's sections on them, with what `touched` parsed
of the changed units added back and its `cross` tables; `show_all` undoes it. When the
repositories' names changed (a rename or transfer re-keys rows across repositories) GitHub is
normalized from all its rows, and the build says why.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

import collectors
from processhealth import ui
from processhealth.build_inputs import has, raw_rows_of, state_has

SQL = Path(collectors.__file__).resolve().parent / "sql" / "10_github.sql"
REFS = ("commit", "pc", "item", "pull", "row")
# The refs tables, github_<x>_refs, are tables of the build's file, not TEMP ones: the build
# state, a copy of that file, holds them without their rows being written again, and the next
# build, whose file is a copy of the state, finds them there (only the touched units' rows are
# deleted and written); they are dropped from the analytics file once the state is copied
# (build_state.save, `drop`). Writing them into the state took 4.5 s at 10M events.
# So is `github_read`, the raw rows read (table, key, scope, seq): a by-item build deletes the
# rows gone or not read as they are and adds the raw rows it had not read (`touched`), where
# writing every raw row's key into the state took about 2 s at 10M events and copying them out
# of it 0.5 s; a build that normalized GitHub from all its rows writes it whole (`keep`).
IN_REFS = (*(f"github_{r}_refs" for r in REFS), "github_read")
# Raw tables normalized by unit (the others, repos, members, team members and users, are read
# whole in every run: small).
TABLES = ("commits", "pull_commits", "issues", "pulls", "reviews", "issue_comments",
          "review_comments", "issue_events", "releases")
STATE_TABLES = (*(f"github_{r}_refs" for r in REFS), "github_read", "github_deleted",
                "github_names")
# The tables of 10_github.sql's `cross` section (over every unit's refs), which a by-item
# build computes once, in `touched`, and `normalize` reads again.
CROSS = ("_gh_deleted", "_gh_all_items", "_gh_commits", "_gh_commit_pr", "_gh_landing",
         "_gh_merged_by", "_gh_comment_item")
# The tables of the `parse` and `refs` sections that `emit` reads: `touched` parses the changed
# units' rows (for their refs), and keeps what it parsed of them; `normalize` parses only the
# rows of the other units touched and adds these back. Parsing the changed rows twice cost
# about 4.6 s at 10M events (the file's `parse` 3.5 s and `refs` 1.1 s, most of them theirs).
PARSED = ("_gh_is", "_gh_pu", "_gh_rv", "_gh_ic", "_gh_rc", "_gh_ie", "_gh_unreadable",
          "_gh_parsed_commits")
ITEMS = "_github_touched_items"  # item_id
EVENTS = "_github_touched_events"  # event_id
UNITS = "_github_touched_units"  # kind ('item', 'commit' or a raw table), key
EXTRA = "_github_extra_units"  # kind, key: the units touched whose rows `touched` did not parse
NARROW = "_github_narrow"  # tbl, natural_key, seq: the raw rows shown
DELETED_NOW = ("SELECT entity, natural_key, scope FROM sync_deleted WHERE source = 'github'"
                " AND entity IN ('issues', 'issue_comments')")

def sections() -> dict[str, str]:
    """10_github.sql's sections by name (`-- @section <name>` lines)."""
    parts = re.split(r"^-- @section (\w+)\n", SQL.read_text(encoding="utf-8"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def run_sections(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    found = sections()
    for name in names:
        for number, statement in enumerate(duckdb.extract_statements(found[name]), 1):
            with ui.profiled(f"{name} {number}: {' '.join(statement.query.split())[:70]}",
                             "      "):
                con.execute(statement)


# table -> the SQL predicate of the GitHub rows a by-item build keeps (those of the units not
# touched); every other GitHub row of the normalized tables (identities, group members, repo
# names) is made again (state_start.clear). A NULL in a touched set would make NOT IN
# unknown for every row, which deletes them all: left out.
KEPT = {"events": f"event_id NOT IN (SELECT event_id FROM {EVENTS} WHERE event_id IS NOT NULL)",
        "work_items": f"item_id NOT IN (SELECT item_id FROM {ITEMS} WHERE item_id IS NOT NULL)"}


def usable(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the previous build state (`prev`) holds what a by-item build needs."""
    return state_has(con, STATE_TABLES, IN_REFS)


def load(con: duckdb.DuckDBPyConnection) -> None:
    """The last build's GitHub tables, copied out of its state (reads only the state), with the
    results `touched` compares: each commit's and issue comment's event."""
    for table in ("deleted", "names"):  # github_read is in the refs (IN_REFS)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _github_prev_{table} AS"
                    f" SELECT * FROM prev.github_{table}")
    con.execute("CREATE OR REPLACE TEMP TABLE _github_prev_results AS"
                " SELECT event_id, item_id, kind, weight::DOUBLE AS weight FROM prev.main.events"
                " WHERE source = 'github' AND (kind = 'commit'"
                " OR event_id LIKE 'github:issue_comment:%')")


def raw_now() -> str:
    return " UNION ALL ".join(
        f"SELECT '{t}' AS tbl, natural_key, scope, seq FROM raw_github_{t}" for t in TABLES)


def narrow(con: duckdb.DuckDBPyConnection, units: str, shown: str | None = None) -> None:
    """`_github_narrow`, the raw rows of `units` (every raw row of each unit), and the raw
    tables as TEMP VIEWs of those of `shown` (default: the same units)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {NARROW} AS SELECT r.tbl, r.natural_key, r.seq"
                f" FROM _github_raw_units AS r JOIN {units} AS u USING (kind, key)")
    rows = NARROW
    if shown is not None:
        rows = "_github_shown"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {rows} AS SELECT r.tbl, r.natural_key,"
                    f" r.seq FROM _github_raw_units AS r JOIN {shown} AS u USING (kind, key)")
    for table in TABLES:
        _show(con, table, rows)


def _show(con: duckdb.DuckDBPyConnection, table: str, rows: str) -> None:
    """raw_github_<table> as a TEMP VIEW of its rows listed in `rows` (tbl, natural_key,
    seq)."""
    if has(con, "raw", "main", f"raw_github_{table}"):
        listed = f"(SELECT natural_key, seq FROM {rows} WHERE tbl = '{table}')"
        con.execute(f"CREATE OR REPLACE TEMP VIEW raw_github_{table} AS"
                    f" {raw_rows_of(f'raw_github_{table}', listed)}")


def show_whole(con: duckdb.DuckDBPyConnection) -> None:
    for (view,) in con.execute("SELECT view_name FROM duckdb_views() WHERE temporary"
                               " AND view_name LIKE 'raw\\_github\\_%' ESCAPE '\\'").fetchall():
        con.execute(f"DROP VIEW {view}")


def normalize(con: duckdb.DuckDBPyConnection) -> None:
    """10_github.sql in a by-item build, after `restore`: its sections but `cross`, whose
    tables `touched` computed over every unit's refs, put back before `emit`. `parse` and
    `refs` run on the rows of the units touched that `touched` did not parse (the raw tables
    show only those); what it parsed of the changed units (`PARSED`) is added to theirs, and
    their refs are the ones it made. Computing `cross` once instead of twice saved about 6 s
    at 10M events."""
    for name in ("prelude", "parse", "refs"):
        with ui.profiled(f"github: {name}", "    "):
            run_sections(con, name)
    for table in PARSED:  # what `touched` parsed of the changed units (the rows not shown)
        con.execute(f"INSERT INTO {table} SELECT * FROM _ghx{table[3:]}")
        con.execute(f"DROP TABLE _ghx{table[3:]}")
    _show(con, "releases", NARROW)  # `emit` reads the releases (few) from the raw rows
    for table in CROSS:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"ALTER TABLE _ghx{table[3:]} RENAME TO {table}")
    # the pull-request aggregates of the items touched only (emit writes no other work item;
    # over every commit they took 1.7 s at 10M events)
    con.execute("ALTER TABLE _gh_commit_pr RENAME TO _ghx_commit_pr")
    con.execute(f"CREATE TEMP TABLE _gh_commit_pr AS SELECT * FROM _ghx_commit_pr"
                f" WHERE item_id IN (SELECT item_id FROM {ITEMS})")
    with ui.profiled("github: pr_commits", "    "):
        run_sections(con, "pr_commits")
    con.execute("DROP TABLE _gh_commit_pr")
    con.execute("ALTER TABLE _ghx_commit_pr RENAME TO _gh_commit_pr")
    with ui.profiled("github: emit", "    "):
        run_sections(con, "emit")


def restore(con: duckdb.DuckDBPyConnection, coverage_columns: str) -> None:
    """After `touched`, and the rows this build redoes deleted from the copy of the state
    (`KEPT`): the raw tables narrowed to the touched units `touched` did not parse, for
    10_github.sql (`show_all` undoes it; `narrow` lists every touched unit's rows, which
    COVERAGE_PREDICATE reads), and the quarantine records of the other issue rows, from the
    state: of
    those still in the raw store (a row gone, say from a raw store restored from a copy, is a
    touched unit's but not shown, and a full build records nothing of it)."""
    narrow(con, UNITS, shown=EXTRA)
    con.execute(f"INSERT INTO source_coverage({coverage_columns}) SELECT {coverage_columns}"
                f" FROM prev.norm_source_coverage WHERE source = 'github'"
                f" AND entity = 'issues' AND NOT ({COVERAGE_PREDICATE})"
                f" AND item IN (SELECT natural_key FROM _github_raw_units"
                f" WHERE tbl = 'issues')")
    con.execute("DROP TABLE _github_raw_units")


# The quarantine records (source_coverage) this build redoes: those of the issue rows shown.
COVERAGE_PREDICATE = f"item IN (SELECT natural_key FROM {NARROW} WHERE tbl = 'issues')"


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The refs, empty, before GitHub is normalized from all its rows (10_github.sql fills
    them); a kept source and a by-item build use the last build's in the copy of the state's
    refs file, and call nothing here."""
    drop(con)
    run_sections(con, "schema")


def show_all(con: duckdb.DuckDBPyConnection) -> None:
    """After 10_github.sql: the raw tables whole again, the working tables gone."""
    show_whole(con)
    for table in (ITEMS, EVENTS, UNITS, EXTRA, NARROW, "_github_shown",
                  *(f"_ghx{t[3:]}" for t in CROSS + PARSED)):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def keep(con: duckdb.DuckDBPyConnection) -> None:
    """Before the build's file is copied to be the state: `github_read`, the raw rows read,
    whole when GitHub was normalized from all its rows (`prepare` dropped it; a by-item build
    made it what the raw store holds now, in `touched`, and a kept GitHub has the last
    build's, as the raw store still is)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS refs.github_read AS {raw_now()}")


def save(con: duckdb.DuckDBPyConnection) -> None:
    """Into the new build state (`state`), which already holds the refs and the raw rows read
    (`IN_REFS`): the issues and comments marked deleted and the repositories' names, as the
    raw store holds them now."""
    con.execute(f"CREATE OR REPLACE TABLE state.github_deleted AS {DELETED_NOW}")
    run_sections(con, "prelude")
    con.execute("CREATE OR REPLACE TABLE state.github_names AS SELECT name, repo, ago"
                " FROM _gh_names")
    con.execute("DROP TABLE _gh_names; DROP TABLE _gh_all_names")


def drop(con: duckdb.DuckDBPyConnection) -> None:
    for table in IN_REFS:
        con.execute(f"DROP TABLE IF EXISTS refs.{table}")
