"""Load a simulated organization into a NEW raw store fast: the same rows, written in bulk.

    from processhealth.simload import bulk
    rows = bulk.load_fresh(org, "raw.duckdb")   # what github/jira/slack.load(org, store) write

For benchmarks (benchmarks/scale.py prepare): the per-source loaders (github.py, jira.py,
slack.py) save as a collection does, one `RawStore.save` per entity and scope, each an upsert in
its own transaction. Into an empty store that is mostly overhead: at 1,300 people the 6.5M rows
took 19 minutes. Here the loaders run unchanged, but their saves go to a spool that builds the
same Arrow batches as `RawStore.save` (processhealth.store._arrow_batch: the same canonical JSON,
keys, times and URLs) and hands them, tens of MB at a time, to one writer, which stores them
with `RawStore.save_batch` (the write path of every save, so hashes and seq are the same) and
records the checkpoints with `RawStore.set_cursor`.

The loaders run in forked worker processes, one per group of sources (GitHub alone; Jira and
Slack together), while the parent writes; each raw table is written by one worker only, in that
worker's save order. The GitHub
user profiles (`github._save_users`) read the stored GitHub rows, so the parent saves them last,
through the ordinary `RawStore.save`.

Only `fetched_at` differs from a sequential load (it is the time of writing, as always), and
the physical row order, which DuckDB's parallel scans do not promise for either.
tests/test_simload_bulk.py compares the two stores row by row.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from processhealth.store import DEFAULT_COLLECTOR_VERSION, RawStore, _arrow_batch, raw_table_name
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
        batch = _arrow_batch(rows, scope, collector_version or DEFAULT_COLLECTOR_VERSION)
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
    (it must not exist yet); returns the raw rows written."""
    from processhealth.simload import github

    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists: bulk loading writes a new raw store only")
    with RawStore(path) as store:
        writer = Writer(store)
        if parallel and "fork" in mp.get_all_start_methods():
            _parallel(org, base_url, groups, writer, chunk_bytes)
        else:
            spool = Spool(writer, chunk_bytes)
            for group in groups:
                _load_group(org, group, spool, base_url)
            spool.flush()
        rows = writer.rows
        if any("github" in group for group in groups):
            rows += github.save_users(org, store, base_url)
    return rows


def _load_group(org: Org, group: Sequence[str], spool: Spool, base_url: str) -> None:
    from processhealth.simload import github, jira, slack

    for source in group:
        if source == "github":
            github.load_repos(org, spool, base_url)  # profiles: after, by the parent
        else:
            {"jira": jira, "slack": slack}[source].load(org, spool, base_url)


def _parallel(org: Org, base_url: str, groups: Sequence[Sequence[str]], writer: Writer,
              chunk_bytes: int) -> None:
    ctx = mp.get_context("fork")  # the workers share the generated organization, unpickled
    queue = ctx.Queue(maxsize=2 * len(groups) + 2)  # bounds the chunks in flight
    workers = [ctx.Process(target=_work, args=(org, group, base_url, queue, chunk_bytes),
                           daemon=True, name=f"simload-{'+'.join(group)}") for group in groups]
    for w in workers:
        w.start()
    running = len(workers)
    try:
        while running:
            kind, value = queue.get()
            if kind == "done":
                running -= 1
            elif kind == "error":
                raise RuntimeError(f"a bulk-load worker failed:\n{value}")
            else:
                writer(kind, value)
    finally:
        for w in workers:
            if w.is_alive() and running:
                w.terminate()
            w.join()


def _work(org: Org, group: Sequence[str], base_url: str, queue: Any, chunk_bytes: int) -> None:
    try:
        spool = Spool(lambda kind, value: queue.put((kind, value)), chunk_bytes)
        _load_group(org, group, spool, base_url)
        spool.flush()
        queue.put(("done", os.getpid()))
    except BaseException:
        queue.put(("error", traceback.format_exc()))
