"""The raw store (the DuckDB file collectors write), and how processhealth opens a DuckDB file.

    with RawStore(cfg.storage.raw_path) as store:
        n = store.save("github", "pulls", rows, scope="acme/api", cursor="2024-05-01T00:00:00Z")

Raw tables have one fixed shape, `raw_<source>_<entity>`, created on demand: one row per
natural_key, the latest version saved. Analysis never reads them; normalization SQL turns them into
the domain tables (processhealth/schema/analytics). The raw store is the one file that persists, so
its schema is migrated (processhealth/migrations/raw); the analytics database is rebuilt from it
(processhealth.analytics_db).

How a save writes (benchmarks/RESULTS.md section 2): the tables have no primary-key index (keeping
one, and DuckDB's INSERT ... ON CONFLICT, cost more than the writing of the payloads). Each row
carries `payload_hash`, DuckDB's hash() of its canonical JSON, and `seq`, its place in the order
rows were written. The store keeps in memory, per table it saves to, the hash of every
natural_key with its row's payload hash and seq (_Stored), loaded once per table and session: a
save classifies its rows against it as new, changed or unchanged by comparing integers, appends
the new and changed rows in one INSERT, and deletes the replaced versions by seq (seq only grows,
so DuckDB's zone maps find them without an index). Unchanged rows are not written.

A collector's save is its own transaction, with its cursor. Loading many rows at once (an
import, the simulation's loaders) goes through `with store.bulk():`: the saves share a
transaction committed every 200k rows written, which DuckDB writes straight into the file instead
of through its write-ahead log (1.3x the rows a second, RESULTS.md section 2).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from processhealth import __version__, migrations
from processhealth.errors import SourceError, UserError

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
# Canonical JSON (sorted keys, compact, UTF-8) so an unchanged payload compares equal to the
# stored one. Encoding is most of a save's Python time: orjson is ~10x the stdlib encoder and
# gives the same text for API payloads; the stdlib encoder takes what orjson refuses (integers
# past 64 bits, non-string keys, lone surrogates, types without a JSON form).
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str, check_circular=False
)
_ORJSON = orjson.OPT_SORT_KEYS
_JSON_TYPE = pa.json_(pa.large_string())


def _encode_utf8(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=_ORJSON)
    except (TypeError, orjson.JSONEncodeError):
        return _ENCODER.encode(value).encode("utf-8", "surrogatepass")


def _encode(value: Any) -> str:
    return _encode_utf8(value).decode("utf-8", "surrogatepass")


DEFAULT_COLLECTOR_VERSION = f"processhealth/{__version__}"

RAW_COLUMN_COMMENTS = {
    "natural_key": "The entity's key in its source (issue key, repo#number, channel/ts, ...).",
    "scope": "Repository, project or channel whose collection wrote the row.",
    "updated_at": "The source's own last-modified time for the entity, when it has one.",
    "fetched_at": "When processhealth fetched this version of the row (UTC).",
    "source_url": "API URL the row came from (provenance).",
    "collector_version": "Collector that wrote the row, e.g. processhealth/0.1.0.",
    "payload": "The entity as the API returned it (JSON), minus anything privacy settings drop.",
    "payload_hash": "DuckDB's hash() of the payload text: a save skips a row whose payload hashes "
                    "the same (unchanged).",
    "seq": "Order in which rows were written to this table (grows with every new or changed "
           "row).",
}
# The columns of every raw table, in order (migration 005 turned the older keyed tables into this).
RAW_COLUMNS = (
    "natural_key VARCHAR NOT NULL, scope VARCHAR, updated_at TIMESTAMPTZ, fetched_at TIMESTAMPTZ,"
    " source_url VARCHAR, collector_version VARCHAR,"
    # zstd: payloads are kilobytes of repetitive JSON; DuckDB's default string compression
    # analysis made inserts ~1.5x slower and the file ~3x larger.
    " payload JSON USING COMPRESSION zstd, payload_hash UBIGINT, seq BIGINT"
)

# New and changed rows of a save, appended in one statement (_ph_batch holds only those, with the
# payload hashes and seqs the save computed).
_APPEND = """
INSERT INTO {table}
SELECT natural_key, scope, updated_at::TIMESTAMPTZ, now(), source_url, collector_version, payload,
       payload_hash, seq
FROM _ph_batch
"""
# A save hands DuckDB the rows in one Arrow table; DuckDB hashes keys and payloads (both threads,
# ~1 GB/s) for the comparison with what the table holds.
_HASHES = "SELECT hash(natural_key) AS k, hash(payload) AS p FROM _ph_batch"


MAX_SPILL = "8GiB"
RAW_CHECKPOINT = "1GiB"
# Inside RawStore.bulk(): a commit of more than this skips the write-ahead log (DuckDB's
# auto_checkpoint_skip_wal_threshold) and is written once, compressed; a commit every this many
# rows written keeps what a kill can lose, and the transaction's memory, bounded.
BULK_CHECKPOINT = "16MiB"
BULK_COMMIT_ROWS = 200_000
# Inside RawStore.bulk() DuckDB runs on one thread: a bulk save is mostly Python (encoding) and a
# single-table append, and a second DuckDB thread made the demo organization's bulk replay ~10%
# slower (benchmarks/RESULTS.md section 2: 2.63-2.72 s against 2.36-2.49 s, three runs each).
BULK_THREADS = 1
# A file that is not a DuckDB database (SQLite, ...) must not make DuckDB download an extension:
# processhealth talks to the configured APIs only.
NO_AUTOLOAD = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


# DuckDB's own default is 80% of RAM, which it then keeps instead of spilling: a 3M-event build
# peaked at 8 GiB. Capped, the same build peaked at 3.1 GiB in the same time (benchmarks/). A
# whole build peaks about 0.4 GiB above the cap: at 10M events 3.16-3.27 GiB under "3GB",
# 3.71-3.74 GiB under "3.6GB", which spills less (build 169-172 s against 179-184 s, alternating
# runs; benchmarks/RESULTS.md section 3). The goal is a peak under 4 GiB.
DEFAULT_MEMORY_LIMIT = "3.6GB"

# The storage format of the analytics file. DuckDB 2.x writes by default a format no 1.x reader
# opens, and the analytics file is the contract ops leads read with their own tools (DuckDB CLIs,
# BI tools, notebooks pinned to 1.x); in this format DuckDB 1.1.0 and later read it
# (tests/test_old_reader.py opens a fresh build with 1.1.3). It applies to files a connection
# creates only: an existing file keeps its format. The raw store keeps DuckDB's own default: its
# zstd-compressed payload columns need a newer format, and it is processhealth's working store.
ANALYTICS_STORAGE_VERSION = "v1.1.0"


def open_duckdb(path: Path, *, read_only: bool = False,
                memory_limit: str = DEFAULT_MEMORY_LIMIT,
                storage_version: str | None = None) -> duckdb.DuckDBPyConnection:
    """Connect with UTC as the session time zone and a memory cap ([storage] memory_limit);
    a new file in the given storage format (DuckDB's newest if None); a held lock becomes a
    clear UserError."""
    config: dict[str, object] = {**NO_AUTOLOAD, "memory_limit": memory_limit}
    if storage_version is not None:
        config["storage_compatibility_version"] = storage_version
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        raise lock_error(path, exc) from None
    con.execute("SET TimeZone = 'UTC'")
    # A runaway query must fail with a message, not fill the disk with spill files.
    con.execute(f"SET max_temp_directory_size = '{MAX_SPILL}'")
    return con


def lock_error(path: Path, exc: Exception) -> UserError:
    text = " ".join(str(exc).split())  # one paragraph
    if "not a valid DuckDB database" in text or "extension" in text.lower():
        return UserError(
            f"{path} is not a DuckDB database (DuckDB says: {text}). The [storage] paths name "
            f"processhealth's own database files; move that file away or change the path.")
    if any(sign in text.lower() for sign in ("could not read enough bytes", "corrupt",
                                            "checksum")):
        return UserError(
            f"The database file {path} is damaged or cut short (DuckDB says: {text}). The "
            f"analytics database is rebuilt by `processhealth build`, which never reads the old "
            f"file; a damaged raw store must be restored from a backup, or replaced by a "
            f"new raw_path and `processhealth collect --full`.")
    if "lock" not in text.lower():
        return UserError(f"Cannot open the database {path}: {text}")
    pid = re.search(r"PID (\d+)", text)
    holder = f" (process {pid.group(1)})" if pid else ""
    return UserError(
        f"Another processhealth command is using {path}{holder}. DuckDB lets one process write "
        f"a file at a time; wait for that command to finish, then run this one again."
    )


def sql_literal(text: object) -> str:
    """`text` as a SQL string literal, for the statements that take no parameters (COMMENT ON)."""
    return "'" + str(text).replace("'", "''") + "'"


def raw_table_name(source: str, entity: str) -> str:
    for part, value in (("source", source), ("entity", entity)):
        if not _IDENT.match(value):
            raise ValueError(f"raw table {part} {value!r} must match [a-z][a-z0-9_]*")
    return f"raw_{source}_{entity}"


class RawStore:
    """The raw DuckDB file: raw_* payload tables, sync_state checkpoints, state_* tables."""

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise UserError(
                f"There is no raw store at {self.path} yet. Run `processhealth collect` first."
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = open_duckdb(self.path, read_only=read_only)
        self._known_tables: set[str] = set()
        self._stored: dict[str, _Stored] = {}  # per raw table saved to: what it holds
        self._cursors: dict[tuple[str, str, str], str] = {}  # as stored, once read or written
        self._bulk: _Bulk | None = None  # inside `with store.bulk():`
        if not read_only:
            # Saves are small transactions; with DuckDB's default (16 MB of WAL) every few pages
            # rewrote the tables they touched. The WAL is as durable; close() checkpoints it.
            self.con.execute(f"SET checkpoint_threshold = '{RAW_CHECKPOINT}'")
            migrations.apply(self.con)
        # Whether any row is marked deleted: a save then unmarks the keys it sees again.
        self._deleted = self.table_exists("sync_deleted") and bool(
            self.con.execute("SELECT count(*) FROM sync_deleted").fetchone()[0])

    def __enter__(self) -> RawStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._bulk is not None:
            self._bulk_commit()
        self.con.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """BEGIN ... COMMIT, rolled back on any exception. Inside `bulk()`, the saves gathered
        so far are committed first."""
        if self._bulk is not None:
            self._bulk_commit()
        self.con.begin()
        try:
            yield self.con
        except BaseException:
            self.con.rollback()
            raise
        self.con.commit()

    @contextlib.contextmanager
    def bulk(self, rows_per_commit: int = BULK_COMMIT_ROWS) -> Iterator[RawStore]:
        """Saves inside share one transaction, committed once they have written
        `rows_per_commit` rows, and at the end (also when the block raises: each save in it was
        whole). The cursors commit with their rows, so a killed process resumes exactly from the
        last commit, which is all a kill loses. For loading many rows at once (the simulation's
        loaders, benchmarks/ingest.py): a large commit goes straight into the file, compressed,
        instead of through the write-ahead log and again at the checkpoint (RESULTS.md section 2).

        A save that fails inside DuckDB rolls back the whole open transaction, the saves before
        it since the last commit included (DuckDB cannot keep part of a transaction): their
        cursors go with them, so a new collection fetches them again."""
        if self._bulk is not None:  # nested: the outer block decides
            yield self
            return
        self._bulk = _Bulk(rows_per_commit)
        # A commit larger than the threshold skips the log and checkpoints at once.
        self.con.execute(f"SET checkpoint_threshold = '{BULK_CHECKPOINT}'")
        [(threads,)] = self.con.execute("SELECT current_setting('threads')").fetchall()
        self.con.execute(f"SET threads = {BULK_THREADS}")
        try:
            yield self
        finally:
            try:
                self._bulk_commit()
            finally:
                self._bulk = None
                self.con.execute(f"SET checkpoint_threshold = '{RAW_CHECKPOINT}'")
                self.con.execute(f"SET threads = {int(threads)}")

    def _bulk_begin(self) -> None:
        assert self._bulk is not None
        if not self._bulk.open:
            self.con.begin()
            self._bulk.open = True

    def _bulk_commit(self, keep: bool = True) -> None:
        """End the open bulk transaction: commit it, or roll it back if not `keep`."""
        assert self._bulk is not None
        if self._bulk.open:
            self._bulk.open = False
            self._bulk.rows = 0
            self.con.commit() if keep else self.con.rollback()

    def _bulk_abort(self) -> None:
        """Roll back the open bulk transaction; forget what memory says of its writes."""
        self._bulk_commit(keep=False)
        self._stored.clear()  # reloaded from the tables at the next save
        self._cursors.clear()

    # --- raw tables ---------------------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        found = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
            " AND schema_name = 'main' AND table_name = ?",
            [name],
        ).fetchone()
        return bool(found and found[0])

    def raw_tables(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            " AND table_name LIKE 'raw\\_%' ESCAPE '\\' ORDER BY table_name"
        ).fetchall()
        return [r[0] for r in rows]

    def ensure_raw_table(self, source: str, entity: str) -> str:
        """Create raw_<source>_<entity> (fixed shape, commented) if missing; return its name."""
        table = raw_table_name(source, entity)
        if table in self._known_tables or self.table_exists(table):
            self._known_tables.add(table)
            return table
        create_raw_table(self.con, table)
        self._known_tables.add(table)
        return table

    def save(
        self,
        source: str,
        entity: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        scope: str,
        cursor: str | None = None,
        collector_version: str | None = None,
    ) -> int:
        """Upsert rows and (optionally) advance the cursor in ONE transaction.

        rows: {natural_key, updated_at (datetime, ISO string or None), source_url, payload (dict)}.
        Returns how many rows were inserted or had a different payload; unchanged rows are not
        rewritten, so a re-run that finds nothing new returns 0.
        """
        try:
            batch = _arrow_batch(rows, scope, collector_version or DEFAULT_COLLECTOR_VERSION)
        except ValueError as exc:  # data of an unexpected shape, from an API or an export
            raise SourceError(
                f"{source} {entity} for {scope} cannot be stored: {exc}. Nothing of this batch "
                f"was saved; what was saved before it is kept.") from None
        return self.save_batch(source, entity, batch, scope=scope, cursor=cursor)

    def save_batch(self, source: str, entity: str, batch: pa.Table, *, scope: str | None = None,
                   cursor: str | None = None) -> int:
        """`save` of rows already made into one Arrow table by `_arrow_batch` (the bulk loader
        of processhealth/simload builds them in worker processes); the cursor needs `scope`."""
        table = self.ensure_raw_table(source, entity)
        if self._bulk is not None:
            return self._save_in_bulk(source, entity, table, batch, scope, cursor)
        plan = None
        try:
            with self.transaction():
                plan = self._save_rows(source, entity, table, batch, scope, cursor)
        except BaseException:
            self._stored.pop(table, None)  # reloaded from the table at the next save
            self._cursors.clear()  # the cursor written in it is not
            raise
        if plan is None:
            return 0
        self._stored[table].commit(plan)
        return int(plan.write.size)

    def _save_in_bulk(self, source: str, entity: str, table: str, batch: pa.Table,
                      scope: str | None, cursor: str | None) -> int:
        """save_batch inside `bulk()`: in the open transaction; memory learns the rows at once
        (a later batch of the same table sees them) and forgets everything on a rollback."""
        assert self._bulk is not None
        self._bulk_begin()
        try:
            plan = self._save_rows(source, entity, table, batch, scope, cursor)
        except BaseException:
            self._bulk_abort()
            raise
        if plan is None:
            return 0
        self._stored[table].commit(plan)
        self._bulk.rows += int(plan.write.size)
        if self._bulk.rows >= self._bulk.limit:
            self._bulk_commit()
        return int(plan.write.size)

    def _save_rows(self, source: str, entity: str, table: str, batch: pa.Table,
                   scope: str | None, cursor: str | None) -> _Plan | None:
        """The writes of one save, in the caller's transaction; the plan, if rows came."""
        plan = None
        if batch.num_rows:
            plan = self._write(table, batch)
        if self._deleted and batch.num_rows:  # seen again upstream: no longer deleted
            self.con.execute(
                "DELETE FROM sync_deleted WHERE source = ? AND entity = ?"
                " AND list_contains(?, natural_key)",
                [source, entity, batch.column("natural_key").to_pylist()]).fetchall()
        if cursor is not None and scope is not None:
            self._write_cursor(source, entity, scope, cursor)
        return plan

    def _write(self, table: str, batch: pa.Table) -> _Plan:
        """Append the batch's new and changed rows, delete the versions they replace; the plan
        (what was written) is the caller's to commit to _Stored once the transaction is."""
        stored = self._stored.get(table) or self._load_stored(table)
        # DuckDB reads the Arrow table from this frame's local of the name the SQL uses (a
        # replacement scan: ~1 ms less a statement than register/unregister, which for a page
        # of 100 rows was a tenth of the save).
        _ph_batch = batch  # noqa: F841
        hashes = self.con.execute(_HASHES).fetchnumpy()
        plan = stored.plan(hashes["k"], hashes["p"])
        if plan.write.size:
            self._append(table, batch, plan)
        if plan.replaced.size:
            self._delete_replaced(table, batch, plan)
        return plan

    def _load_stored(self, table: str) -> _Stored:
        stored = _Stored.load(self.con, table)
        self._stored[table] = stored
        return stored

    def _append(self, table: str, batch: pa.Table, plan: _Plan) -> None:
        rows = batch if plan.write.size == batch.num_rows else batch.take(plan.write)
        rows = rows.append_column("payload_hash", pa.array(plan.payload_hash, pa.uint64()))
        rows = rows.append_column("seq", pa.array(plan.seq, pa.int64()))
        _ph_batch = rows  # noqa: F841 (read by the SQL: see _write)
        try:
            self.con.execute(_APPEND.format(table=table))
        except duckdb.ConversionException as exc:
            raise SourceError(f"Rows for {table} carry an unreadable updated_at: {exc}") from None

    def _delete_replaced(self, table: str, batch: pa.Table, plan: _Plan) -> None:
        """Remove the versions the changed rows replace: by seq (zone maps find them), guarded by
        the natural_key; if fewer went than expected (a row written by other means, without a
        seq, or two keys of the same 64-bit hash), every older row of those keys goes."""
        keys = batch.column("natural_key").take(plan.replaced).to_pylist()
        expected = int((plan.old_seq >= 0).sum())
        [(gone,)] = self.con.execute(
            f"DELETE FROM {table} WHERE seq = ANY(?::BIGINT[]) AND list_contains(?, natural_key)",
            [plan.old_seq[plan.old_seq >= 0].tolist(), keys]).fetchall()
        if expected == len(keys) and int(gone) == expected:
            return
        self.con.execute(
            f"DELETE FROM {table} WHERE list_contains(?, natural_key)"
            f" AND (seq IS NULL OR seq < ?)", [keys, int(plan.first_seq)]).fetchall()

    def count(self, source: str, entity: str) -> int:
        table = raw_table_name(source, entity)
        if not self.table_exists(table):
            return 0
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    # --- checkpoints --------------------------------------------------------------------------

    def get_cursor(self, source: str, entity: str, scope: str) -> str | None:
        row = self.con.execute(
            "SELECT cursor FROM sync_state WHERE source = ? AND entity = ? AND scope = ?",
            [source, entity, scope],
        ).fetchall()
        if row and row[0][0] is not None:
            self._cursors[(source, entity, scope)] = row[0][0]
        return row[0][0] if row else None

    def set_cursor(self, source: str, entity: str, scope: str, cursor: str) -> None:
        if self._bulk is not None:  # with the rows it follows
            self._bulk_begin()
        self._write_cursor(source, entity, scope, cursor)

    def _write_cursor(self, source: str, entity: str, scope: str, cursor: str) -> None:
        """The checkpoint, written only when it moves (a page of a list that saves the same
        cursor as the page before writes nothing); an UPDATE of the row costs a quarter of DuckDB's
        INSERT OR REPLACE."""
        key, cursor = (source, entity, scope), str(cursor)
        if self._cursors.get(key) == cursor:
            return
        self._cursors.pop(key, None)  # until the write is in
        [(updated,)] = self.con.execute(
            "UPDATE sync_state SET cursor = ?, updated_at = now()"
            " WHERE source = ? AND entity = ? AND scope = ?",
            [cursor, source, entity, scope]).fetchall()
        if not updated:
            self.con.execute("INSERT INTO sync_state VALUES (?, ?, ?, ?, now())",
                             [source, entity, scope, cursor])
        self._cursors[key] = cursor

    # --- items gone upstream -------------------------------------------------------------------

    def mark_deleted(self, source: str, entity: str, scope: str, seen: Iterable[str],
                     since: str | None = None) -> int:
        """After a full pass of (entity, scope) that saw the keys `seen`: every stored row of
        that scope (updated at or after `since`, when the pass started there) that it did not
        see is marked deleted (sync_deleted); the seen ones are unmarked. Returns how many are
        marked now."""
        table = raw_table_name(source, entity)
        if not self.table_exists(table):
            return 0
        keys = sorted(set(seen))
        with self.transaction() as con:
            con.execute("DELETE FROM sync_deleted WHERE source = ? AND entity = ? AND scope = ?",
                        [source, entity, scope]).fetchall()
            con.execute(
                f"INSERT OR REPLACE INTO sync_deleted SELECT ?, ?, natural_key, scope, now()"
                f" FROM {table} WHERE scope = ? AND (?::TIMESTAMPTZ IS NULL"
                f" OR updated_at >= ?::TIMESTAMPTZ)"
                f" AND natural_key NOT IN (SELECT unnest(?::VARCHAR[]))",
                [source, entity, scope, since, since, keys]).fetchall()
            found = con.execute("SELECT count(*) FROM sync_deleted WHERE source = ?"
                                " AND entity = ? AND scope = ?", [source, entity, scope]
                                ).fetchone()
        marked = int(found[0]) if found else 0
        self._deleted = self._deleted or marked > 0
        return marked

    # --- coverage -----------------------------------------------------------------------------

    def clear_gaps(self, source: str) -> None:
        """Forget what the last collection of `source` skipped (a new collection starts)."""
        self.con.execute("DELETE FROM sync_coverage WHERE source = ?", [source])

    def note_gap(self, source: str, entity: str, scope: str, status: str, detail: str) -> None:
        """Record an entity this collection skipped (sync_coverage; the report shows it)."""
        self.con.execute("INSERT OR REPLACE INTO sync_coverage VALUES (?, ?, ?, ?, ?, now())",
                         [source, entity, scope, status, detail])

    def reset(self, source: str, *, drop_rows: bool = False) -> None:
        """Forget a source's checkpoints (for `collect --full`); rows stay unless drop_rows."""
        self._cursors.clear()
        with self.transaction() as con:
            con.execute("DELETE FROM sync_state WHERE source = ?", [source])
            for table in self.raw_tables() if drop_rows else []:
                if table.startswith(f"raw_{source}_"):
                    con.execute(f"DROP TABLE {table}")
                    self._known_tables.discard(table)
                    self._stored.pop(table, None)


def create_raw_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An empty raw table of the fixed shape, with its comments."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {table}({RAW_COLUMNS})")
    source, entity = table.removeprefix("raw_").split("_", 1)
    con.execute(
        f"COMMENT ON TABLE {table} IS 'Raw {entity} from {source}, one row per entity: the latest"
        f" version saved of each natural_key.'")
    for column, text in RAW_COLUMN_COMMENTS.items():
        con.execute(f"COMMENT ON COLUMN {table}.{column} IS {sql_literal(text)}")


class _Bulk:
    """The open `RawStore.bulk()` block: whether its transaction is open, rows written in it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = False
        self.rows = 0


MERGE_AT = 65_536  # rows a session writes to a table before they join its sorted arrays
_MISSING = np.int64(-2)  # seq of a key the table does not hold
_UNKNOWN = np.int64(-1)  # seq of a key whose stored row has no seq, or whose hash is not unique


class _Plan:
    """What one save writes: positions (in the batch) of the rows to append with their payload
    hashes and new seqs; positions of those that replace a stored row, with that row's seq."""

    def __init__(self, keys: np.ndarray, payload: np.ndarray, old_seq: np.ndarray,
                 old_payload: np.ndarray, first_seq: int) -> None:
        found = old_seq != _MISSING
        write = ~found | (old_seq == _UNKNOWN) | (old_payload != payload)
        self.write = np.flatnonzero(write)
        self.keys = keys[self.write]
        self.payload_hash = payload[self.write]
        self.first_seq = first_seq
        self.seq = np.arange(first_seq, first_seq + self.write.size, dtype=np.int64)
        replaced = found[self.write]
        self.replaced = self.write[replaced]
        self.old_seq = old_seq[self.write][replaced]


class _Stored:
    """Of one raw table: the 64-bit hash of each natural_key stored, with its row's payload hash
    and seq. Sorted arrays from the table (24 bytes a row), plus a dict of what this session wrote
    since, merged into the arrays when it grows. Loaded once per table and session; only this
    RawStore writes the file while it is open (DuckDB's lock)."""

    def __init__(self, keys: np.ndarray, payload: np.ndarray, seq: np.ndarray,
                 next_seq: int) -> None:
        self.keys, self.payload, self.seq = keys, payload, seq
        self.recent: dict[int, tuple[int, int]] = {}
        self.next_seq = next_seq

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, table: str) -> _Stored:
        got = con.execute(
            f"SELECT hash(natural_key) AS k, coalesce(payload_hash, 0) AS p,"
            f" coalesce(seq, -1) AS s FROM {table}").fetchnumpy()
        [(top,)] = con.execute(f"SELECT max(seq) FROM {table}").fetchall()
        next_seq = int(top) + 1 if top is not None else 0
        keys, payload, seq = (np.asarray(got[c]) for c in ("k", "p", "s"))
        return cls(*_sorted_unique(keys.astype(np.uint64), payload.astype(np.uint64),
                                   seq.astype(np.int64), repeated_unknown=True), next_seq)

    def plan(self, keys: np.ndarray, payload: np.ndarray) -> _Plan:
        keys = np.asarray(keys, dtype=np.uint64)
        payload = np.asarray(payload, dtype=np.uint64)
        old_seq = np.full(keys.size, _MISSING, dtype=np.int64)
        old_payload = np.zeros(keys.size, dtype=np.uint64)
        if self.keys.size:
            at = np.searchsorted(self.keys, keys).clip(max=self.keys.size - 1)
            hit = self.keys[at] == keys
            old_seq[hit] = self.seq[at[hit]]
            old_payload[hit] = self.payload[at[hit]]
        if self.recent:
            get = self.recent.get
            for i, key in enumerate(keys.tolist()):
                found = get(key)
                if found is not None:
                    old_payload[i], old_seq[i] = found
        return _Plan(keys, payload, old_seq, old_payload, self.next_seq)

    def commit(self, plan: _Plan) -> None:
        """The plan's rows are in the table now."""
        self.next_seq = plan.first_seq + plan.write.size
        if not plan.write.size:
            return
        if self.keys.size == 0 and not self.recent and plan.write.size > 1024:
            self.keys, self.payload, self.seq = _sorted_unique(plan.keys, plan.payload_hash,
                                                               plan.seq)
            return
        values = zip(plan.payload_hash.tolist(), plan.seq.tolist(), strict=True)
        self.recent.update(zip(plan.keys.tolist(), values, strict=True))
        if len(self.recent) > max(MERGE_AT, self.keys.size // 2):
            self._merge()

    def _merge(self) -> None:
        n = len(self.recent)
        keys = np.fromiter(self.recent.keys(), np.uint64, n)
        payload = np.fromiter((v[0] for v in self.recent.values()), np.uint64, n)
        seq = np.fromiter((v[1] for v in self.recent.values()), np.int64, n)
        self.keys, self.payload, self.seq = _sorted_unique(
            np.concatenate([self.keys, keys]), np.concatenate([self.payload, payload]),
            np.concatenate([self.seq, seq]))
        self.recent = {}


def _sorted_unique(keys: np.ndarray, payload: np.ndarray, seq: np.ndarray, *,
                   repeated_unknown: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted by key; of equal keys the last given wins (later writes come later). With
    repeated_unknown (as loaded from the table), a key the table holds more than once (rows
    written without a seq, or a 64-bit hash two keys share) gets seq -1, so that a save replacing
    it deletes by natural_key instead of by seq."""
    order = np.argsort(keys, kind="stable")
    keys, payload, seq = keys[order], payload[order], seq[order]
    last = np.ones(keys.size, dtype=bool)
    last[:-1] = keys[1:] != keys[:-1]
    if repeated_unknown:
        first = np.ones(keys.size, dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        seq = np.where(first, seq, _UNKNOWN)
    return keys[last], payload[last], seq[last]


def _arrow_batch(rows: Iterable[Mapping[str, Any]], scope: str, version: str) -> pa.Table:
    # One plain pass: this loop and the JSON encoding are the Python cost of a save.
    keys: list[Any] = []
    updated: list[Any] = []
    urls: list[Any] = []
    payloads: list[bytes] = []
    encode = orjson.dumps
    option = _ORJSON
    checked = True  # orjson writes valid UTF-8 only; the stdlib fallback may not
    for row in rows:
        keys.append(row.get("natural_key"))
        updated.append(row.get("updated_at"))
        urls.append(row.get("source_url"))
        value = row.get("payload")
        try:
            payloads.append(encode(value, option=option))
        except (TypeError, orjson.JSONEncodeError):
            payloads.append(_ENCODER.encode(value).encode("utf-8", "surrogatepass"))
            checked = False
    if not all(type(k) is str and k for k in keys):
        keys = [_key(k) for k in keys]
    if not all(type(u) is str or u is None for u in updated):
        updated = [_iso(u) for u in updated]
    if len(set(keys)) != len(keys):  # the last version of a key within one batch wins
        last = {k: i for i, k in enumerate(keys)}
        pick = sorted(last.values())
        keys, updated, urls, payloads = ([col[i] for i in pick]
                                         for col in (keys, updated, urls, payloads))
    n = len(keys)
    return pa.table({
        "natural_key": pa.array(keys, pa.string()),
        "scope": pa.repeat(scope, n).cast(pa.string()) if n else pa.array([], pa.string()),
        "updated_at": pa.array(updated, pa.string()),
        "source_url": pa.array(urls, pa.string()),
        "collector_version": (pa.repeat(version, n).cast(pa.string()) if n
                              else pa.array([], pa.string())),
        "payload": _utf8_column(payloads, checked),
    })


def _utf8_column(payloads: list[bytes], checked: bool = False) -> pa.Array:
    """The encoded payloads as an Arrow JSON column, built from one joined buffer and the offsets
    of its parts (a list of bytes objects turned into an Arrow array item by item cost more than
    the encoding).

    Unless every payload came from orjson (which writes valid UTF-8 only), the bytes are checked
    to be UTF-8 without decoding each payload in Python; the JSON type tells DuckDB the text is
    JSON already (we encoded it), which spares it a parse per row.
    """
    offsets = np.zeros(len(payloads) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, payloads), np.int64, len(payloads)), out=offsets[1:])
    text = pa.LargeStringArray.from_buffers(
        len(payloads), pa.py_buffer(offsets), pa.py_buffer(b"".join(payloads)))
    if not checked:
        try:
            text.validate(full=True)
        except pa.ArrowInvalid as exc:  # a lone surrogate in the data
            raise ValueError(f"a payload is not valid UTF-8 ({exc})") from None
    return pa.ExtensionArray.from_storage(_JSON_TYPE, text)


def _key(value: Any) -> str:
    if value is None or value == "":
        raise ValueError("every raw row needs a non-empty natural_key; found an empty one")
    return str(value)


def _iso(value: Any) -> str | None:
    """ISO text for DuckDB to cast; naive values are read as UTC (the session time zone)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise ValueError(f"updated_at must be a datetime, an ISO string or None; got {value!r}")
