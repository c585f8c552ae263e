"""Raw rows the build cannot normalize are set aside, not allowed to fail every build.

Rows whose required fields are missing or unreadable (a Jira issue without a readable
`created`, a GitHub issue without a number, a Slack message whose ts is not a timestamp, ...)
are recorded in source_coverage (status 'quarantined', naming source, entity and key), left out
of normalization, and warned about once normalization is done (`warn`). The raw store keeps the
rows; a later build reads them again, so a fixed row is picked up by itself.

Where they are found: Slack messages by a build step before normalization (`build`, CHECKS),
which hides them with a TEMP VIEW of the raw table's name (temporary objects are found before
the attached raw store); GitHub and Jira issues by their normalization's own parse
(collectors/sql/10_github.sql and 20_jira.sql record and leave them out: a second parse of every
issue here took 1.1 and 3.9 s at 10M events).
"""

from __future__ import annotations

from typing import Any

import duckdb

from processhealth import ui

# table -> (source, entity, what each row is parsed into once, the test on it that finds a bad
# row, why); a plain projection and filter over one scan (a scalar subquery per row made DuckDB
# join the table with itself: 180 s at 10M events).
CHECKS: dict[str, tuple[str, str, str, str, str]] = {
    "raw_slack_messages": ("slack", "messages",
                           "json_extract_string(payload, ['$.ts', '$.thread_ts']) AS f", """
        NOT coalesce(regexp_full_match(f[1], '\\d{1,12}(\\.\\d{1,9})?'), false)
        OR (f[2] IS NOT NULL AND NOT regexp_full_match(f[2], '\\d{1,12}(\\.\\d{1,9})?'))""",
                           "a ts or thread_ts that is not a Slack timestamp"),
}
SHOWN = 10  # warnings named one by one; the rest are counted


def build(con: duckdb.DuckDBPyConnection, config: Any = None,
          sources: tuple[str, ...] | None = None, read: dict[str, str] | None = None) -> None:
    """Record and hide the raw rows normalization cannot read (see the module docstring); only
    those of `sources` when given (an incremental build: the sources it normalizes again).

    With `read` (raw table -> a query of the (natural_key, seq) pairs the last build read and
    found readable), only the other rows of that table are checked: a pair the last build read
    is the very row it checked (the check reads the row alone). An older version a raw store
    restored from a copy brings back has a pair it did not read, and so has a row it set aside
    (they are checked again: there are few)."""
    for table, (source, entity, parsed, bad, why) in CHECKS.items():
        if (sources is not None and source not in sources) or not _exists(con, table):
            continue
        rows_checked = f"raw.{table}"
        if read is not None and table in read:  # left out before any payload is parsed
            rows_checked = (f"(SELECT * FROM raw.{table} AS r WHERE NOT EXISTS (SELECT 1 FROM"
                            f" ({read[table]}) AS k WHERE k.natural_key = r.natural_key"
                            f" AND k.seq = r.seq))")
        rows = con.execute(f"SELECT natural_key, scope FROM (SELECT natural_key, scope, {parsed}"
                           f" FROM {rows_checked}) WHERE coalesce({bad}, true)"
                           f" ORDER BY natural_key").fetchall()
        if not rows:
            continue
        con.execute("INSERT INTO source_coverage SELECT ?, ?, scope, natural_key, 'quarantined',"
                    " ?, NULL FROM (SELECT unnest(?::VARCHAR[]) AS natural_key,"
                    " unnest(?::VARCHAR[]) AS scope)",
                    [source, entity, why, [r[0] for r in rows], [r[1] for r in rows]])
        hide(con, table)


def hide(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """A TEMP VIEW of the raw table's name without the rows source_coverage sets aside, for
    normalization to read (temporary objects are found before the attached raw store's)."""
    source, entity = CHECKS[table][:2]
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM raw.{table}"
                f" WHERE natural_key NOT IN (SELECT item FROM source_coverage"
                f" WHERE status = 'quarantined' AND source = '{source}'"
                f" AND entity = '{entity}')")


def warn(con: duckdb.DuckDBPyConnection, sources: tuple[str, ...]) -> None:
    """After normalization: warn about the rows set aside of the sources normalized in this
    build (by `build` or by the normalization files), named up to SHOWN, the rest counted."""
    found = con.execute(
        "SELECT source, entity, item, detail FROM source_coverage WHERE status = 'quarantined'"
        " AND list_contains(?, source) ORDER BY source, entity, item", [list(sources)]).fetchall()
    for source, entity, key, why in found[:SHOWN]:
        ui.warn(f"build: {source} {entity} {key} has {why}; it is left out of the analytics "
                f"database (source_coverage lists it) and the build goes on.")
    if len(found) > SHOWN:
        ui.warn(f"build: {len(found) - SHOWN} more raw rows are left out for the same reasons; "
                f"`SELECT * FROM source_coverage WHERE status = 'quarantined'` lists them all.")


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'raw'"
                            " AND table_name = ?", [table]).fetchone()[0])
