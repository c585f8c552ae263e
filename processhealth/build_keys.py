"""The build's check that normalization wrote each key once (a step of its own, "keys unique").

DuckDB tables here have no primary-key index (it would cost the inserts), so the check runs once,
after normalization; where keys repeat it tells apart copies of raw rows written by hand from
normalization's own fault.
"""

from __future__ import annotations

from typing import Any

import duckdb

from processhealth.errors import UserError

# Keys the tables hold once without a primary-key index (see core.sql and jira.sql): two
# normalization statements that wrote the same event would double its credit.
UNIQUE_KEYS = {"events": ("event_id",), "item_fields": ("item_id", "field_id")}


def unique_keys(con: duckdb.DuckDBPyConnection, config: Any = None) -> None:
    """Every events.event_id and item_fields (item_id, field_id) once (no primary-key index).

    Keys are grouped by their 64-bit hash first (integers: at 10M events 0.8 s, where grouping
    the long event ids took 3.2-4.3 s and spilled); only the keys of a hash seen more than once
    are then compared as text, so two keys that merely share a hash (DuckDB's string hash gives
    a few such pairs among 10M event ids) are no error."""
    for table, key in UNIQUE_KEYS.items():
        columns = ", ".join(key)
        twice = con.execute(
            f"WITH shared AS (SELECT h FROM (SELECT hash({columns}) AS h FROM {table})"
            f" GROUP BY h HAVING count(*) > 1)"
            f" SELECT {columns}, count(*) FROM {table}"
            f" WHERE hash({columns}) IN (SELECT h FROM shared)"
            f" GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL LIMIT 3").fetchall()
        if twice:
            named = ", ".join(f"{' / '.join(map(str, row[:-1]))} ({row[-1]} times)"
                              for row in twice)
            _raw_copies(con)
            raise UserError(
                f"Normalization wrote some {table} rows more than once, e.g. {named}: a bug "
                f"in collectors/sql for data of this shape. The analytics database was left as "
                f"it was; please report it with the keys above.")


def _raw_copies(con: duckdb.DuckDBPyConnection) -> None:
    """A UserError naming the raw rows stored more than once under one natural key, if any: a
    raw store is written only by `RawStore.save` (one row per key), so such copies were written
    by hand (or by another program), and they, not normalization, repeat the keys. Looked for
    only once keys repeat (a scan of every raw table)."""
    tables = [t for (t,) in con.execute(  # the raw tables (of the fixed shape)
        "SELECT table_name FROM duckdb_columns() WHERE database_name = 'raw'"
        " AND schema_name = 'main' AND table_name LIKE 'raw\\_%' ESCAPE '\\'"
        " AND column_name = 'natural_key' ORDER BY table_name").fetchall()]
    for table in tables:
        keys = [k for (k,) in con.execute(
            f'SELECT natural_key FROM raw.main."{table}" GROUP BY natural_key'
            f" HAVING count(*) > 1 ORDER BY natural_key LIMIT 3").fetchall()]
        if keys:
            raise UserError(
                f"The raw store holds some rows of {table} more than once, e.g. "
                f"{', '.join(keys)}: a collection saves one row per key, so these copies were "
                f"written by another program or by hand. The analytics database was left as it "
                f"was. Keep one copy of each, the latest (stop any collection first, then in "
                f"DuckDB: DELETE FROM {table} WHERE rowid NOT IN (SELECT arg_max(rowid, "
                f"coalesce(seq, -1)) FROM {table} GROUP BY natural_key)), then build again.")
