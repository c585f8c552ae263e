"""The raw store: the DuckDB file collectors write (how processhealth opens a DuckDB file is
processhealth/duckdb_files.py; a save's rows and the index of what a table holds,
processhealth/raw_rows.py; its catalog, cursors, deleted marks, coverage and runs,
processhealth/store_sync.py).

    with RawStore.of(cfg) as store:
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
natural_key with its row's payload hash and seq (raw_rows.Stored), loaded once per table and
session: a save classifies its rows against it as new, changed or unchanged by comparing
integers, appends the new and changed rows in one INSERT, and deletes the replaced versions by
seq (seq only grows, so DuckDB's zone maps find them without an index). Unchanged rows are not
written. A session's first save to a table starts its seqs at the clock (raw_rows.clock_seq), so
a number is never handed out twice, even in a restored copy of the file: builds rely on that.

A collector's save is its own transaction, with its cursor. Loading many rows at once (an
import, the simulation's loaders) goes through `with store.bulk():`: the saves share a
transaction committed every 200k rows written, which DuckDB writes straight into the file instead
of through its write-ahead log (1.3x the rows a second, RESULTS.md section 2); an import's, one
transaction for all of it (`all_or_nothing`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from processhealth import __version__, migrations
from processhealth.duckdb_files import DEFAULT_MEMORY_LIMIT, open_duckdb
from processhealth.errors import SourceError, UserError
from processhealth.raw_rows import (
    Plan,
    Stored,
    arrow_batch,
    create_raw_table,
    last_versions,
    raw_table_name,
)
from processhealth.store_sync import StoreSync

DEFAULT_COLLECTOR_VERSION = f"processhealth/{__version__}"

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


class RawStore(StoreSync):
    """The raw DuckDB file: raw_* payload tables, sync_state checkpoints, state_* tables."""

    @classmethod
    def of(cls, config: Any, read_only: bool = False) -> RawStore:
        """The raw store that config's [storage] names, under its memory cap."""
        return cls(config.storage.raw_path, read_only=read_only,
                   memory_limit=config.storage.memory_limit)

    def __init__(self, path: str | Path, read_only: bool = False,
                 memory_limit: str = DEFAULT_MEMORY_LIMIT) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise UserError(
                f"There is no raw store at {self.path} yet. Run `processhealth collect` first."
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = open_duckdb(self.path, read_only=read_only, memory_limit=memory_limit)
        self._known_tables: set[str] = set()
        self._stored: dict[str, Stored] = {}  # per raw table saved to: what it holds
        self._cursors: dict[tuple[str, str, str], str] = {}  # as stored, once read or written
        self._bulk: _Bulk | None = None  # inside `with store.bulk():`
        self.kept_newer = 0  # rows keep_newer saves left as stored (a later version was there)
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
    def bulk(self, rows_per_commit: int = BULK_COMMIT_ROWS,
             all_or_nothing: bool = False) -> Iterator[RawStore]:
        """Saves inside share one transaction, committed once they have written
        `rows_per_commit` rows, and at the end (also when the block raises: each save in it was
        whole). The cursors commit with their rows, so a killed process resumes exactly from the
        last commit, which is all a kill loses. For loading many rows at once (the simulation's
        loaders, benchmarks/ingest.py): a large commit goes straight into the file, compressed,
        instead of through the write-ahead log and again at the checkpoint (RESULTS.md section 2).

        `all_or_nothing` (the imports): one transaction for the whole block, committed at its
        end only; when the block raises, or the process is killed, the store stays as it was
        (an export found unreadable halfway leaves nothing of it behind).

        A save that fails inside DuckDB rolls back the whole open transaction, the saves before
        it since the last commit included (DuckDB cannot keep part of a transaction): their
        cursors go with them, so a new collection fetches them again."""
        if self._bulk is not None:  # nested: the outer block decides
            yield self
            return
        # all or nothing: no commit before the end
        self._bulk = _Bulk(math.inf if all_or_nothing else rows_per_commit, all_or_nothing)
        # A commit larger than the threshold skips the log and checkpoints at once.
        self.con.execute(f"SET checkpoint_threshold = '{BULK_CHECKPOINT}'")
        [(threads,)] = self.con.execute("SELECT current_setting('threads')").fetchall()
        self.con.execute(f"SET threads = {BULK_THREADS}")
        try:
            yield self
        except BaseException:
            if all_or_nothing:
                self._bulk_abort()
            raise
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
        self._known_tables.clear()  # a table created in the transaction is gone with it

    # --- raw tables ---------------------------------------------------------------------------

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
        keep_newer: bool = False,
    ) -> int:
        """Upsert rows and (optionally) advance the cursor in ONE transaction.

        rows: {natural_key, updated_at (datetime, ISO string or None), source_url, payload (dict)}.
        Returns how many rows were inserted or had a different payload; unchanged rows are not
        rewritten, so a re-run that finds nothing new returns 0.

        `keep_newer` (the imports: rows from a file saved at some time, not what the source
        holds now): a row whose stored version has a later `updated_at` is not saved (counted in
        `kept_newer`), and only the rows saved are taken as seen again (a key marked deleted
        upstream stays marked unless a newer version of it comes).
        """
        try:
            batch = arrow_batch(rows, scope, collector_version or DEFAULT_COLLECTOR_VERSION)
        except ValueError as exc:  # data of an unexpected shape, from an API or an export
            kept = ("nothing of this import was saved" if self._bulk is not None
                    and self._bulk.all_or_nothing else
                    "nothing of this batch was saved; what was saved before it is kept")
            raise SourceError(
                f"{source} {entity} for {scope} cannot be stored: {exc}. {kept.capitalize()}."
            ) from None
        return self.save_batch(source, entity, batch, scope=scope, cursor=cursor,
                               keep_newer=keep_newer)

    def save_batch(self, source: str, entity: str, batch: pa.Table, *, scope: str | None = None,
                   cursor: str | None = None, keep_newer: bool = False) -> int:
        """`save` of rows already made into one Arrow table by `arrow_batch` (the bulk loader
        of processhealth/simload builds them in worker processes); the cursor needs `scope`."""
        table = self.ensure_raw_table(source, entity)
        batch = last_versions(batch)
        if self._bulk is not None:
            return self._save_in_bulk(source, entity, table, batch, scope, cursor, keep_newer)
        plan = None
        try:
            with self.transaction():
                plan = self._save_rows(source, entity, table, batch, scope, cursor, keep_newer)
        except BaseException:
            self._stored.pop(table, None)  # reloaded from the table at the next save
            self._cursors.clear()  # the cursor written in it is not
            raise
        if plan is None:
            return 0
        self._stored[table].commit(plan)
        return int(plan.write.size)

    def _save_in_bulk(self, source: str, entity: str, table: str, batch: pa.Table,
                      scope: str | None, cursor: str | None, keep_newer: bool) -> int:
        """save_batch inside `bulk()`: in the open transaction; memory learns the rows at once
        (a later batch of the same table sees them) and forgets everything on a rollback."""
        assert self._bulk is not None
        self._bulk_begin()
        try:
            plan = self._save_rows(source, entity, table, batch, scope, cursor, keep_newer)
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
                   scope: str | None, cursor: str | None, keep_newer: bool = False
                   ) -> Plan | None:
        """The writes of one save, in the caller's transaction; the plan, if rows came."""
        plan = None
        if batch.num_rows:
            plan = self._write(table, batch, keep_newer)
        seen = batch.column("natural_key")
        if keep_newer and plan is not None:  # from a file: only what was saved is news
            seen = plan.keys_written
        if self._deleted and len(seen):  # seen again upstream: no longer deleted
            self.con.execute(
                "DELETE FROM sync_deleted WHERE source = ? AND entity = ?"
                " AND list_contains(?, natural_key)",
                [source, entity, seen.to_pylist()]).fetchall()
        if cursor is not None and scope is not None:
            self._write_cursor(source, entity, scope, cursor)
        return plan

    def _write(self, table: str, batch: pa.Table, keep_newer: bool = False) -> Plan:
        """Append the batch's new and changed rows, delete the versions they replace; the plan
        (what was written) is the caller's to commit to Stored once the transaction is."""
        stored = self._stored.get(table) or self._load_stored(table)
        # DuckDB reads the Arrow table from this frame's local of the name the SQL uses (a
        # replacement scan: ~1 ms less a statement than register/unregister, which for a page
        # of 100 rows was a tenth of the save).
        _ph_batch = batch  # noqa: F841
        hashes = self.con.execute(_HASHES).fetchnumpy()
        plan = stored.plan(hashes["k"], hashes["p"])
        older = self._older_than_stored(table, batch, plan) if keep_newer else None
        if older is not None and older.size:  # plan again without them
            keep = np.ones(batch.num_rows, dtype=bool)
            keep[older] = False
            batch = batch.filter(pa.array(keep))
            plan = stored.plan(hashes["k"][keep], hashes["p"][keep])
            self.kept_newer += int(older.size)
        if keep_newer:
            plan.keys_written = batch.column("natural_key").take(plan.write)
        if plan.write.size:
            self._append(table, batch, plan)
        if plan.replaced.size:
            self._delete_replaced(table, batch, plan)
        return plan

    def _older_than_stored(self, table: str, batch: pa.Table, plan: Plan) -> np.ndarray:
        """Positions (in the batch) of the changed rows whose stored version has a later
        updated_at (found by its seq; a row without one, or without a time, is not older)."""
        known = plan.old_seq >= 0
        if not known.any():
            return np.empty(0, dtype=np.int64)
        positions = plan.replaced[known]
        times = batch.column("updated_at").take(positions).to_pylist()
        found = self.con.execute(
            f"SELECT c.pos FROM (SELECT unnest(?::BIGINT[]) AS pos, unnest(?::BIGINT[]) AS seq,"
            f" TRY_CAST(unnest(?::VARCHAR[]) AS TIMESTAMPTZ) AS at) AS c JOIN {table} AS t"
            f" USING (seq)"
            f" WHERE c.at < t.updated_at",
            [positions.tolist(), plan.old_seq[known].tolist(), times]).fetchall()
        return np.array(sorted(r[0] for r in found), dtype=np.int64)

    def _load_stored(self, table: str) -> Stored:
        stored = Stored.load(self.con, table)
        self._stored[table] = stored
        return stored

    def _append(self, table: str, batch: pa.Table, plan: Plan) -> None:
        rows = batch if plan.write.size == batch.num_rows else batch.take(plan.write)
        rows = rows.append_column("payload_hash", pa.array(plan.payload_hash, pa.uint64()))
        rows = rows.append_column("seq", pa.array(plan.seq, pa.int64()))
        _ph_batch = rows  # noqa: F841 (read by the SQL: see _write)
        try:
            self.con.execute(_APPEND.format(table=table))
        except duckdb.ConversionException as exc:
            raise SourceError(f"Rows for {table} carry an unreadable updated_at: {exc}") from None

    def _delete_replaced(self, table: str, batch: pa.Table, plan: Plan) -> None:
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


class _Bulk:
    """The open `RawStore.bulk()` block: whether its transaction is open, rows written in it."""

    def __init__(self, limit: float, all_or_nothing: bool = False) -> None:
        self.limit = limit
        self.all_or_nothing = all_or_nothing
        self.open = False
        self.rows = 0
