"""Load a simulated organization into a NEW raw store fast: the same rows, written in bulk.

    from processhealth.simload import bulk
    rows = bulk.load_fresh(org, "raw.duckdb")   # what github/jira/slack.load(org, store) write

For benchmarks (benchmarks/scale.py prepare): the per-source loaders (github.py, jira.py,
slack.py) save as a collection does, one `RawStore.save` per entity and scope, each an upsert in
its own transaction, one source after the other: at 1,300 people the 6.5M rows took 19 minutes.
Most of that CPU time is Python building the payloads (simulation/*_api.py) and the rows
(collectors/*_rows.py, collectors/privacy.py), not DuckDB. So here the loaders run unchanged but
two at a time, and their saves go to a spool that builds the same Arrow batches as
`RawStore.save` (processhealth.raw_rows.arrow_batch: the same canonical JSON, keys, times and
URLs) and hands them, tens of MB at a time, to one writer, which stores them with
`RawStore.save_batch` (the write path of every save, so payload hashes and the order of
seq are the same; a key that several joined saves repeat keeps its last version, as
`raw_rows.last_versions` does for one save)
and records the checkpoints with `RawStore.set_cursor`.

The loaders run two at a time: GitHub in this process, Jira then Slack in one forked worker (it
shares the generated organization; one worker, not one per source, because each copies the
pages of the objects it touches: at 1,300 people the organization alone is about 10 GB), while a
thread of this process writes. Each raw table is written from one loader only, in its save
order. The GitHub user profiles (`github.save_users`) read the stored GitHub rows, so they are
saved last, through the ordinary `RawStore.save`.

Only `fetched_at` differs from a sequential load (it is the time of writing, as always), and
the physical row order, which DuckDB's parallel scans do not promise for either.
tests/test_simload_bulk.py compares the two stores row by row.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
import os
import queue
import threading
import traceback
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from processhealth.raw_rows import arrow_batch, raw_table_name
from processhealth.store import DEFAULT_COLLECTOR_VERSION, RawStore
from simulation.model import Org

GROUPS: tuple[tuple[str, ...], ...] = (("github",), ("jira", "slack"))
CHUNK_BYTES = 64 * 2**20  # payload bytes a worker gathers per table before handing them over


class Spool:
    """Takes a loader's `save` calls; gathers each table's batches and passes them on in chunks.

    `emit(kind, value)` receives ("table", (source, entity)) at a table's first save (created
    even if no rows come), ("rows", (source, entity, table)), each table's rows in save order,
    and at `flush()` the checkpoints, ("cursor", (source, entity, scope, cursor)).
    """

    def __init__(self, emit: Any, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.emit = emit
        self.chunk_bytes = chunk_bytes
        self.pending: dict[tuple[str, str], list[pa.Table]] = {}
        self.sizes: dict[tuple[str, str], int] = {}
        self.cursors: list[tuple[str, str, str, str]] = []
        self.seen: set[tuple[str, str]] = set()
        self.rows = 0

    def save(self, source: str, entity: str, rows: Iterable[Mapping[str, Any]], *, scope: str,
             cursor: str | None = None, collector_version: str | None = None) -> int:
        raw_table_name(source, entity)  # the same name check as RawStore.save
        batch = arrow_batch(rows, scope, collector_version or DEFAULT_COLLECTOR_VERSION)
        key = (source, entity)
        if key not in self.seen:  # RawStore.save creates the table even for no rows
            self.seen.add(key)
            self.emit("table", key)
        if batch.num_rows:
            self.pending.setdefault(key, []).append(batch)
            self.sizes[key] = self.sizes.get(key, 0) + batch.nbytes
            self.rows += batch.num_rows
            if self.sizes[key] >= self.chunk_bytes:
                self._emit_rows(key)
        if cursor is not None:
            self.cursors.append((source, entity, scope, str(cursor)))
        return batch.num_rows

    def flush(self) -> None:
        """Every gathered row, then every checkpoint (a checkpoint never precedes its rows)."""
        for key in list(self.pending):
            self._emit_rows(key)
        for cursor in self.cursors:
            self.emit("cursor", cursor)
        self.cursors = []

    def _emit_rows(self, key: tuple[str, str]) -> None:
        batches = self.pending.pop(key, [])
        self.sizes.pop(key, None)
        if batches:
            self.emit("rows", (*key, pa.concat_tables(batches)))


class Writer:
    """Stores spooled chunks in a new raw store (one `RawStore.save_batch` per chunk)."""

    def __init__(self, store: RawStore) -> None:
        self.store = store
        self.rows = 0

    def __call__(self, kind: str, value: tuple) -> None:
        if kind == "cursor":
            self.store.set_cursor(*value)
            return
        if kind == "table":
            self.store.ensure_raw_table(*value)
            return
        source, entity, table = value
        self.store.save_batch(source, entity, table)
        self.rows += table.num_rows


def load_fresh(org: Org, path: str | Path, base_url: str = "http://127.0.0.1:1",
               groups: Sequence[Sequence[str]] = GROUPS, parallel: bool = True,
               chunk_bytes: int = CHUNK_BYTES) -> int:
    """Write the organization's GitHub, Jira and Slack rows into a new raw store at `path`
    (it must not exist yet); returns the raw rows written.

    parallel: the first group loads in this process while each other group loads in a forked
    worker, and a thread of this process writes; otherwise everything runs here, in order."""
    from processhealth.simload import github

    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists: bulk loading writes a new raw store only")
    forked = parallel and len(groups) > 1 and "fork" in mp.get_all_start_methods()
    workers: list[Any] = []
    inbox: Any = None
    if forked:  # before the store opens or a thread starts: a fork copies neither
        ctx = mp.get_context("fork")  # the workers share the generated organization
        inbox = ctx.Queue(maxsize=2 * len(groups))  # bounds the chunks in flight
        gc.collect()
        gc.freeze()  # the collector then leaves the organization's objects (and pages) alone
        try:
            workers = [ctx.Process(target=_work, args=(org, group, base_url, inbox, chunk_bytes),
                                   daemon=True, name=f"simload-{'+'.join(group)}")
                       for group in groups[1:]]
            for w in workers:
                w.start()
        finally:
            gc.unfreeze()
    try:
        with RawStore(path) as store, store.bulk():  # a commit per 200k rows, not per chunk
            writer = Writer(store)
            if forked:
                try:
                    _load_and_write(org, groups[0], base_url, chunk_bytes, inbox,
                                    len(workers), writer)
                finally:
                    for w in workers:
                        if w.is_alive() and w.exitcode is None:
                            w.join(timeout=5)
                        if w.is_alive():
                            w.terminate()
                            w.join()
            else:
                spool = Spool(writer, chunk_bytes)
                for group in groups:
                    _load_group(org, group, spool, base_url)
                spool.flush()
            rows = writer.rows
            if any("github" in group for group in groups):
                rows += github.save_users(org, store, base_url)
    except BaseException:  # the store is this load's alone: no half of it stays to block a retry
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    return rows


def _load_group(org: Org, group: Sequence[str], spool: Spool, base_url: str) -> None:
    from processhealth.simload import github, jira, slack

    for source in group:
        if source == "github":
            github.load_repos(org, spool, base_url)  # profiles: after, by the parent
        else:
            {"jira": jira, "slack": slack}[source].load(org, spool, base_url)


def _load_and_write(org: Org, group: Sequence[str], base_url: str, chunk_bytes: int,
                    inbox: Any, workers: int, writer: Writer) -> None:
    """Load `group` here while one thread writes every chunk (this process's and the workers')
    and another moves the workers' chunks from `inbox` to it. One connection, one writer."""
    chunks: queue.Queue = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def write() -> None:
        open_parts = workers + 1  # each worker and this process end with ("done", ...)
        try:
            while open_parts:
                kind, value = chunks.get()
                if kind == "done":
                    open_parts -= 1
                elif kind == "stop":  # this process's loader failed: write no more
                    raise RuntimeError("stopped: the loader of this process failed")
                elif kind == "error":
                    raise RuntimeError(f"a bulk-load worker failed:\n{value}")
                else:
                    writer(kind, value)
        except BaseException as exc:
            failed.append(exc)

    def forward() -> None:
        try:
            for _ in range(workers):
                while True:
                    try:
                        item = inbox.get(timeout=0.5)
                    except queue.Empty:
                        if failed:
                            return  # the writer stopped: the caller says why
                        continue
                    put(item)
                    if item[0] in ("done", "error"):
                        break
        except BaseException:
            return  # put() found the writer stopped: the caller says why

    def put(item: tuple) -> None:
        while not failed:
            try:
                chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        raise failed[0]  # the writer stopped: say why (a worker's traceback, a DuckDB error)

    threads = [threading.Thread(target=write, daemon=True, name="simload-writer"),
               threading.Thread(target=forward, daemon=True, name="simload-inbox")]
    for t in threads:
        t.start()
    spool = Spool(lambda kind, value: put((kind, value)), chunk_bytes)
    try:
        _load_group(org, group, spool, base_url)
        spool.flush()
    except BaseException:
        # the writer must be done with the connection before bulk() ends the transaction on it
        with contextlib.suppress(BaseException):
            put(("stop", None))
        threads[0].join()
        raise
    put(("done", None))
    threads[0].join()
    if failed:
        raise failed[0]


def _work(org: Org, group: Sequence[str], base_url: str, inbox: Any, chunk_bytes: int) -> None:
    try:
        spool = Spool(lambda kind, value: inbox.put((kind, value)), chunk_bytes)
        _load_group(org, group, spool, base_url)
        spool.flush()
        inbox.put(("done", os.getpid()))
    except BaseException:
        inbox.put(("error", traceback.format_exc()))
