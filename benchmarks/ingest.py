"""Ingest: raw records per second into the raw store (RawStore.save, bulk).

    .venv/bin/python benchmarks/ingest.py            # the 12-month demo organization
    .venv/bin/python benchmarks/ingest.py --small    # the test organization

The rows are the ones a collection writes (the fast loaders in processhealth/simload build them
from simulation/*_api.py payloads with the collectors' own row code). They are built first, then
replayed into a fresh raw store, timing only `RawStore.save`: once in the loaders' batches (one
save per entity and scope) and once in pages of 100 rows, as the collectors save a page at a time.
A third pass saves the same rows again: nothing changed, so nothing is rewritten.

The recorded rows (millions of small Python objects) are frozen out of the garbage collector's
view before timing (gc.freeze): they are the benchmark's scaffolding, and a collector holds one page
of them at a time. Times are wall seconds; the CPU seconds of the process (DuckDB's threads
included) are printed too, being less sensitive to other load on the machine, whose 1-minute load
average is printed before each row.

Goal (printed, not asserted): at least 100k records/s.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processhealth.raw_rows import encode_text  # noqa: E402
from processhealth.simload import github, jira, slack  # noqa: E402
from processhealth.store import RawStore  # noqa: E402
from simulation import OrgSpec, generate_org  # noqa: E402

GOAL = 100_000
PAGE = 100


class Recorder:
    """A RawStore the loaders write through, keeping every save call's rows for the replays."""

    def __init__(self, store: RawStore) -> None:
        self.store = store
        self.calls: list[tuple[str, str, list[dict], str, str | None]] = []

    def save(self, source: str, entity: str, rows, *, scope: str, cursor: str | None = None,
             collector_version: str | None = None) -> int:
        kept = list(rows)
        self.calls.append((source, entity, kept, scope, cursor))
        return self.store.save(source, entity, kept, scope=scope, cursor=cursor)

    def __getattr__(self, name: str):  # the loaders also read the store (unknown logins)
        return getattr(self.store, name)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def replay(calls: list, path: Path, page: int | None,
           bulk: bool = False) -> tuple[int, float, float]:
    """Save every recorded call (split into pages of `page` rows, if given; inside
    `RawStore.bulk()` if `bulk`); rows, wall seconds, CPU seconds.

    The time includes closing the store (its last checkpoint), so nothing is left unwritten.
    """
    rows = 0
    store = RawStore(path)
    for source, entity, *_ in calls:  # table creation is not ingest
        store.ensure_raw_table(source, entity)
    t0, c0 = time.perf_counter(), cpu_seconds()
    with store.bulk() if bulk else contextlib.nullcontext():
        for source, entity, kept, scope, cursor in calls:
            chunks = [kept[i:i + page] for i in range(0, len(kept), page)] if page else [kept]
            for chunk in chunks or [[]]:
                store.save(source, entity, chunk, scope=scope, cursor=cursor)
                rows += len(chunk)
    store.close()
    return rows, time.perf_counter() - t0, cpu_seconds() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="OrgSpec.small() instead of demo")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    org = generate_org(args.seed, OrgSpec.small() if args.small else OrgSpec.demo())
    scratch = Path("/work/scratch")
    with tempfile.TemporaryDirectory(dir=scratch if scratch.is_dir() else None) as folder:
        with RawStore(Path(folder) / "record.duckdb") as store:
            recorder = Recorder(store)
            for module in (github, jira, slack):
                module.load(org, recorder)  # type: ignore[arg-type]
        calls = recorder.calls
        gc.collect()
        gc.freeze()
        measure(calls, Path(folder))


def measure(calls: list, folder: Path) -> None:
    sizes = Counter()
    counts = Counter()
    for source, _, kept, _, _ in calls:
        counts[source] += len(kept)
        sizes[source] += sum(len(encode_text(r["payload"])) for r in kept)
    total = sum(counts.values())
    print(f"rows: {total:,} from {len(calls)} loader saves; mean payload "
          + ", ".join(f"{s} {sizes[s] / counts[s] / 1024:.1f} KiB" for s in sorted(counts)))
    print(f"\n  {'batches':32} {'rows':>9} {'seconds':>8} {'records/s':>10} {'CPU s':>7}"
          f" {'per CPU s':>10} {'load':>5}")
    for label, page, name, bulk in (
            ("loader batches (entity x scope)", None, "a0", False),
            ("loader batches in RawStore.bulk()", None, "a", True),
            (f"pages of {PAGE} (as collectors save)", PAGE, "b", False),
            ("pages again, nothing changed", PAGE, "b", False)):
        row(label, calls, folder / f"{name}.duckdb", page, bulk)
    print(f"  raw store after the loader batches: {(folder / 'a.duckdb').stat().st_size:,} bytes")
    print("\n  per source, loader batches in bulk (payload size decides the rate):")
    for source in sorted(counts):
        row(source, [c for c in calls if c[0] == source], folder / f"{source}.duckdb", None,
            True)
    print(f"\ngoal: at least {GOAL:,} records/s")


def row(label: str, calls: list, path: Path, page: int | None, bulk: bool = False) -> None:
    load = os.getloadavg()[0]
    rows, seconds, cpu = replay(calls, path, page, bulk)
    print(f"  {label:32} {rows:9,d} {seconds:8.1f} {rows / seconds:10,.0f} {cpu:7.1f}"
          f" {rows / cpu:10,.0f} {load:5.1f}", flush=True)


if __name__ == "__main__":
    main()
