"""GitHub by item: the units an incremental build normalizes again (`touched`), found from the
raw rows not read as they are now, the deleted marks changed, and the cross-item results that
differ from the last build's (processhealth/github_delta.py's docstring; docs/build.md, "GitHub:
only the items touched"). Moved out of github_delta.py, which runs the rest of the by-item build.
"""

from __future__ import annotations

import duckdb

from processhealth import ui
from processhealth.github_delta import (
    CROSS,
    DELETED_NOW,
    EVENTS,
    EXTRA,
    ITEMS,
    PARSED,
    UNITS,
    narrow,
    raw_now,
    run_sections,
    show_whole,
)

# A raw row's unit (kind, key), by its table, key and scope (with _gh_names of 10_github.sql).
_UNIT = """
    SELECT r.*, CASE WHEN r.tbl IN ('issues', 'pulls') THEN 'item'
                     WHEN r.tbl IN ('commits', 'pull_commits') THEN 'commit'
                     ELSE r.tbl END AS kind,
           CASE WHEN r.tbl IN ('issues', 'pulls', 'commits')
                THEN CASE WHEN n.ago > 1 THEN _gh_renamed(r.natural_key, r.scope, n.repo)
                          ELSE r.natural_key END
                WHEN r.tbl = 'pull_commits'
                THEN CASE WHEN n.ago > 1 THEN n.repo ELSE r.scope END || '@'
                     || nullif(split_part(r.natural_key, '@', 2), '')
                ELSE r.natural_key END AS key
    FROM ({rows}) AS r LEFT JOIN _gh_names AS n ON n.name = r.scope"""


def touched(con: duckdb.DuckDBPyConnection) -> tuple[int, str | None]:
    """After `load`: find the units to normalize again (the module docstring), leave in the refs
    those of the other units only, and make `_github_touched_items` and `_github_touched_events`.
    Returns how many units, and None; or 0 and why GitHub must be normalized from all its rows
    (then nothing is left of this: `prepare(con)` follows)."""
    with ui.profiled("github: prelude", "    "):
        run_sections(con, "prelude")
    [(renamed,)] = con.execute(
        "SELECT count(*) FROM (SELECT name, repo, ago FROM _gh_names"
        " EXCEPT SELECT name, repo, ago FROM _github_prev_names"
        " UNION ALL (SELECT name, repo, ago FROM _github_prev_names"
        " EXCEPT SELECT name, repo, ago FROM _gh_names))").fetchall()
    if renamed:
        _drop_work(con)
        _drop_prev(con)
        return 0, "a repository's names changed (renamed or transferred)"
    _timed(con, 1, f"CREATE OR REPLACE TEMP TABLE _github_raw_units AS"
                f" {_UNIT.format(rows=raw_now())}")
    # A raw row's version is its (table, seq, key): a save gives every new or changed row a seq
    # of its own (raw_rows.clock_seq) and deletes the version it replaces. So the rows not read
    # as they are now are those without a seq or of a (table, seq, key) not read, and the rows
    # gone those read of a (table, seq, key) no longer there (every row read without a seq is
    # read again). The key guards against a seq handed out twice (a raw store restored from a
    # copy, then a save with the clock behind: tests/test_seq_review.py). At 10M events these
    # two anti-joins took 1.0-1.4 s, where an EXCEPT over (table, key, scope, seq) and the
    # joins it fed took 4.1 s.
    _timed(con, "1b", """
        CREATE OR REPLACE TEMP TABLE _github_new_rows AS
        SELECT * FROM _github_raw_units AS u WHERE NOT EXISTS (
            SELECT 1 FROM github_read AS p WHERE p.tbl = u.tbl AND p.seq = u.seq
            AND p.natural_key = u.natural_key)""")
    _timed(con, "1c", """
        CREATE OR REPLACE TEMP TABLE _github_gone_rows AS
        SELECT tbl, natural_key, scope, seq FROM github_read AS p WHERE seq IS NULL
            OR NOT EXISTS (SELECT 1 FROM _github_raw_units AS u WHERE u.tbl = p.tbl
                           AND u.seq = p.seq AND u.natural_key = p.natural_key)""")
    # the units of those rows, and of the deleted marks changed
    _timed(con, 2, f"""
        CREATE OR REPLACE TEMP TABLE _github_changed AS
        WITH gone AS ({_UNIT.format(rows='SELECT * FROM _github_gone_rows')}),
        marks AS (
            SELECT * FROM ({DELETED_NOW} EXCEPT SELECT * FROM _github_prev_deleted)
            UNION ALL (SELECT * FROM _github_prev_deleted EXCEPT {DELETED_NOW})
        ),
        marked AS ({_UNIT.format(rows='''
                SELECT entity AS tbl, natural_key, scope, NULL AS seq FROM marks''')})
        SELECT DISTINCT kind, key FROM (
            SELECT kind, key FROM _github_new_rows
            UNION ALL SELECT kind, key FROM gone
            UNION ALL SELECT kind, key FROM marked)
        WHERE key IS NOT NULL""")
    # github_read made the raw rows as they are now: the rows gone out, the rows not read in
    _timed(con, "2b", """
        DELETE FROM github_read WHERE seq IS NULL OR EXISTS (
            SELECT 1 FROM _github_gone_rows AS g WHERE g.tbl = github_read.tbl
            AND g.seq = github_read.seq AND g.natural_key = github_read.natural_key)""")
    _timed(con, "2c", "INSERT INTO github_read SELECT tbl, natural_key, scope, seq"
                      " FROM _github_new_rows")
    con.execute("DROP TABLE _github_gone_rows")
    con.execute("DROP TABLE _github_new_rows")
    # what the last build's refs of the changed rows said they name (their items)
    _timed(con, 3, """
        CREATE OR REPLACE TEMP TABLE _github_named AS
        SELECT CASE WHEN r.tbl = 'issue_events' THEN r.ref ELSE r.scope || '#' || r.num END
               AS key
        FROM github_row_refs AS r JOIN _github_changed AS c
             ON c.kind = r.tbl AND c.key = r.natural_key
        WHERE r.tbl IN ('issue_events', 'review_comments', 'issue_comments')""")
    with ui.profiled("github touched 3b: forget, narrow", "    "):
        _forget(con, "_github_changed")
        narrow(con, "_github_changed")
    with ui.profiled("github: parse, refs and cross of the changed rows", "    "):
        run_sections(con, "parse", "refs", "cross")
    # the results now of every commit and issue comment, against the last build's
    _timed(con, 4, """
        CREATE OR REPLACE TEMP TABLE _github_differ AS
        WITH now AS (
            SELECT 'github:commit:' || c.natural_key AS event_id, l.item_id, 'commit' AS kind,
                   CASE WHEN g.natural_key IS NULL THEN 1 ELSE 0 END::DOUBLE AS weight
            FROM _gh_commits AS c LEFT JOIN _gh_commit_pr AS l USING (natural_key)
            LEFT JOIN _gh_landing AS g USING (natural_key)
            UNION ALL
            SELECT 'github:issue_comment:' || natural_key, item_id, kind, 1
            FROM _gh_comment_item
        ),
        prev AS (SELECT event_id, item_id, kind,
                        CASE WHEN kind = 'commit' THEN weight ELSE 1 END AS weight
                 FROM _github_prev_results)
        SELECT coalesce(n.event_id, p.event_id) AS event_id, n.item_id AS now_item,
               p.item_id AS prev_item
        FROM now AS n FULL JOIN prev AS p USING (event_id)
        WHERE (n.item_id, n.kind, n.weight) IS DISTINCT FROM (p.item_id, p.kind, p.weight)""")
    # the results of the changed ones too: the items they name before and after
    _timed(con, 5, """
        INSERT INTO _github_differ
        SELECT p.event_id, NULL, p.item_id FROM _github_prev_results AS p
        JOIN _github_changed AS c
          ON p.event_id = CASE c.kind WHEN 'commit' THEN 'github:commit:'
                                      ELSE 'github:issue_comment:' END || c.key
        WHERE c.kind IN ('commit', 'issue_comments')""")
    with ui.profiled("github touched 5b: drop work", "    "):
        _drop_work(con, keep=CROSS + PARSED)
    _timed(con, 6, f"""
        CREATE OR REPLACE TEMP TABLE {UNITS} AS
        SELECT kind, key FROM _github_changed
        UNION SELECT CASE WHEN event_id LIKE 'github:commit:%' THEN 'commit'
                          ELSE 'issue_comments' END,
                     regexp_replace(event_id, '^github:(commit|issue_comment):', '')
              FROM _github_differ""")
    _timed(con, 7, f"""
        INSERT INTO {UNITS}
        SELECT DISTINCT 'item', key FROM (
            SELECT key FROM _github_named
            UNION ALL SELECT r.scope || '#' || r.num FROM github_row_refs AS r
                      JOIN {UNITS} AS u ON u.kind = r.tbl AND u.key = r.natural_key
                      WHERE r.tbl IN ('review_comments', 'issue_comments')
            UNION ALL SELECT r.ref FROM github_row_refs AS r
                      JOIN {UNITS} AS u ON u.kind = r.tbl AND u.key = r.natural_key
                      WHERE r.tbl = 'issue_events'
            UNION ALL SELECT substr(unnest([now_item, prev_item]), 8) FROM _github_differ)
        WHERE key IS NOT NULL
          AND key NOT IN (SELECT key FROM {UNITS} WHERE kind = 'item')""")
    # every issue event of a touched item (its pr_ready event reads the item)
    _timed(con, 8, f"""
        INSERT INTO {UNITS}
        SELECT DISTINCT 'issue_events', natural_key FROM (
            SELECT natural_key, ref FROM github_row_refs WHERE tbl = 'issue_events'
            UNION ALL SELECT natural_key, ref FROM _github_prev_ie)
        WHERE ref IN (SELECT key FROM {UNITS} WHERE kind = 'item')
          AND natural_key NOT IN (SELECT key FROM {UNITS} WHERE kind = 'issue_events')""")
    # the refs of the changed units are those just made, from the same raw rows: only the
    # other units' are made again
    con.execute(f"CREATE OR REPLACE TEMP TABLE {EXTRA} AS SELECT kind, key FROM {UNITS}"
                f" EXCEPT SELECT kind, key FROM _github_changed")
    with ui.profiled("github touched 8b: forget extra", "    "):
        _forget(con, EXTRA)
    _timed(con, 9, f"CREATE OR REPLACE TEMP TABLE {ITEMS} AS SELECT 'github:' || key AS item_id"
                f" FROM {UNITS} WHERE kind = 'item'")
    _timed(con, 10, f"""
        CREATE OR REPLACE TEMP TABLE {EVENTS} AS
        SELECT 'github:' || unnest(['pr_opened:', 'issue_opened:', 'pr_merged:']) || key
               AS event_id FROM {UNITS} WHERE kind = 'item'
        UNION ALL
        SELECT 'github:' || CASE kind WHEN 'commit' THEN 'commit'
                                      WHEN 'reviews' THEN 'review'
                                      WHEN 'issue_comments' THEN 'issue_comment'
                                      WHEN 'review_comments' THEN 'review_comment'
                                      WHEN 'issue_events' THEN 'issue_event'
                                      WHEN 'releases' THEN 'release' END || ':' || key
        FROM {UNITS} WHERE kind <> 'item'""")
    _drop_prev(con)
    return con.execute(f"SELECT count(*) FROM {UNITS}").fetchone()[0], None


def _timed(con: duckdb.DuckDBPyConnection, number: int | str,
           sql: str) -> duckdb.DuckDBPyConnection:
    with ui.profiled(f"github touched {number}: {' '.join(sql.split())[:60]}", "    "):
        return con.execute(sql)


def _drop_prev(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("_github_changed", "_github_named", "_github_differ", "_github_prev_ie",
                  "_github_prev_deleted", "_github_prev_names",
                  "_github_prev_results"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _forget(con: duckdb.DuckDBPyConnection, units: str) -> None:
    """Drop the refs of `units` (kind, key) not dropped yet; the issue events' items they named
    are kept aside in _github_prev_ie (a touched item touches its events)."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS _github_prev_ie(natural_key VARCHAR,"
                " ref VARCHAR)")
    con.execute(f"INSERT INTO _github_prev_ie SELECT natural_key, ref FROM github_row_refs"
                f" WHERE tbl = 'issue_events' AND natural_key IN"
                f" (SELECT key FROM {units} WHERE kind = 'issue_events')")
    for ref, kind, key in (("commit", "commit", "natural_key"), ("pc", "commit", "natural_key"),
                           ("item", "item", "key"), ("pull", "item", "key")):
        con.execute(f"DELETE FROM github_{ref}_refs WHERE {key} IN"
                    f" (SELECT key FROM {units} WHERE kind = '{kind}')")
    con.execute(f"DELETE FROM github_row_refs WHERE EXISTS (SELECT 1 FROM {units} AS u"
                f" WHERE u.kind = github_row_refs.tbl AND u.key = github_row_refs.natural_key)")


def _drop_work(con: duckdb.DuckDBPyConnection, keep: tuple[str, ...] = ()) -> None:
    """10_github.sql's working tables (named _gh_*) and the narrowed raw tables; the tables
    of `keep` are set aside under _ghx_<name> (`normalize` puts them back)."""
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary"
                                " AND table_name LIKE '\\_gh\\_%' ESCAPE '\\'").fetchall():
        if table in keep:
            con.execute(f"DROP TABLE IF EXISTS _ghx{table[3:]}")
            con.execute(f"ALTER TABLE {table} RENAME TO _ghx{table[3:]}")
        else:
            con.execute(f"DROP TABLE {table}")
    show_whole(con)
