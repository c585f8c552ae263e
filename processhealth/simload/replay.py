"""A raw store as it was before its last month's collection, and that month appended back as a
collection writes it: for timing and testing the incremental build (docs/build.md).

    held = split_last_month(raw, held_path)   # rows updated in the last month move to held_path
    ...build...
    append(raw, held_path)                    # saved back with RawStore.save_batch: new seqs

`split_last_month` leaves the store without every raw row whose `updated_at` falls in the data's
last calendar month (so entities updated in that month are missing rather than older), and
writes those rows, with the checkpoints, to a new store. `append` saves them back through the
raw store's own write path (payload hashes, seqs above every earlier one), per raw table in
batches, as the collectors' saves do.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from processhealth.duckdb_files import open_duckdb
from processhealth.raw_rows import JSON_TYPE
from processhealth.store import RawStore

_COLUMNS = ("natural_key, scope, updated_at::VARCHAR AS updated_at, source_url,"
            " collector_version, payload::VARCHAR AS payload")


def _raw_tables(con, database: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ?"
        " AND table_name LIKE 'raw\\_%' ESCAPE '\\' ORDER BY 1", [database]).fetchall()]


def hold_last_month(raw: Path, out: Path, *, remove: bool = False) -> int:
    """Copy the raw rows updated in the data's last calendar month, and the checkpoints, into a
    new store `out`; with `remove`, delete them from `raw` too. Returns the rows."""
    out.unlink(missing_ok=True)
    con = open_duckdb(out)
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{raw}' AS raw{'' if remove else ' (READ_ONLY)'}")
        tables = _raw_tables(con, "raw")
        last = con.execute(" UNION ALL ".join(
            f"SELECT max(updated_at) AS m FROM raw.{t}" for t in tables)
            .join(("SELECT date_trunc('month', max(m)) FROM (", ")"))).fetchone()[0]
        held = 0
        for t in tables:
            con.execute(f"CREATE TABLE {t} AS SELECT * FROM raw.{t} WHERE updated_at >= ?",
                        [last])
            held += con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            if remove:
                con.execute(f"DELETE FROM raw.{t} WHERE updated_at >= ?", [last])
        con.execute("CREATE TABLE sync_state AS SELECT * FROM raw.sync_state")
        con.execute("CREATE TABLE held_since AS SELECT ?::TIMESTAMPTZ AS month", [last])
        con.execute("DETACH raw")
    finally:
        con.close()
    return held


def split_last_month(raw: Path, out: Path) -> int:
    """`hold_last_month` that also takes the rows out of `raw` (the store before that month)."""
    return hold_last_month(raw, out, remove=True)


def append(raw: Path, held: Path, batch_rows: int = 50_000) -> int:
    """Save every row of the held store back into `raw` with RawStore.save_batch, per raw table
    in `seq` order, `batch_rows` at a time; returns the rows written (new or changed)."""
    written = 0
    with RawStore(raw) as store:
        source_con = open_duckdb(held, read_only=True)
        try:
            for table in _raw_tables(source_con, source_con.execute(
                    "SELECT current_database()").fetchone()[0]):
                source, entity = table.removeprefix("raw_").split("_", 1)
                reader = source_con.sql(
                    f"SELECT {_COLUMNS} FROM {table} ORDER BY seq").to_arrow_reader(batch_rows)
                for part in reader:
                    written += store.save_batch(source, entity, _as_saved(part))
        finally:
            source_con.close()
    return written


def _as_saved(part: pa.RecordBatch) -> pa.Table:
    """A batch in the shape `raw_rows.arrow_batch` makes (the payload as Arrow JSON)."""
    table = pa.Table.from_batches([part])
    payload = table.column("payload").combine_chunks().cast(pa.large_string())
    return table.set_column(table.schema.get_field_index("payload"), "payload",
                            pa.ExtensionArray.from_storage(JSON_TYPE, payload))
