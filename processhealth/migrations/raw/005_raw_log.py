"""Raw tables without a primary key, with payload_hash and seq (processhealth.store explains why).

Each raw_* table of the older shape (natural_key PRIMARY KEY, seven columns) is copied into the
new shape in its own row order, by a plain scan with insertion order preserved (DuckDB's
default; an ORDER BY rowid sorted the whole table, payloads included, and ran out of memory on a
2 GiB store): payload_hash is DuckDB's hash() of the stored payload, as a save computes it, and
seq the row's rowid (unique, in the table's order). Rows, their order and every other column
stay as they were, so a build reads the same rows as before.
"""

from __future__ import annotations

import duckdb


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    from processhealth.raw_rows import create_raw_table

    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND table_name LIKE 'raw\\_%' ESCAPE '\\'"
        " ORDER BY table_name").fetchall()]
    for table in tables:
        con.execute(f"ALTER TABLE {table} RENAME TO _ph_migrating")
        create_raw_table(con, table)
        con.execute(
            f"INSERT INTO {table} SELECT natural_key, scope, updated_at, fetched_at, source_url,"
            f" collector_version, payload, hash(payload), rowid FROM _ph_migrating")
        con.execute("DROP TABLE _ph_migrating")
