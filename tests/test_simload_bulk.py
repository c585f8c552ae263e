"""The bulk loader (processhealth/simload/bulk.py) writes the same raw store as the per-source
loaders: the same raw tables with the same rows, the same checkpoints."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from shared_cache import shared_org

from processhealth.simload import bulk, github, jira, slack
from processhealth.store import RawStore
from simulation import OrgSpec
from simulation.model import Org

COLUMNS = "natural_key, scope, updated_at, source_url, collector_version, payload::VARCHAR"


def same_stores(a: Path, b: Path) -> list[str]:
    """Differences between two raw stores (fetched_at and checkpoint times aside)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    found = []
    ta = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name"
                                    " = 'a' AND table_name LIKE 'raw%' ORDER BY 1").fetchall()]
    tb = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name"
                                    " = 'b' AND table_name LIKE 'raw%' ORDER BY 1").fetchall()]
    if ta != tb:
        found.append(f"tables {ta} != {tb}")
    for t in set(ta) & set(tb):
        # as multisets: DuckDB's parallel scans promise no row order, for either store
        q = f"SELECT {COLUMNS} FROM {{db}}.{t}"
        diff = con.execute(f"SELECT count(*) FROM (({q.format(db='a')}) EXCEPT ALL "
                           f"({q.format(db='b')}))").fetchone()[0]
        diff += con.execute(f"SELECT count(*) FROM (({q.format(db='b')}) EXCEPT ALL "
                            f"({q.format(db='a')}))").fetchone()[0]
        if diff:
            found.append(f"{t}: {diff} rows differ")
    cursors = "SELECT source, entity, scope, cursor FROM {db}.sync_state"
    diff = con.execute(f"SELECT count(*) FROM (({cursors.format(db='a')}) EXCEPT "
                       f"({cursors.format(db='b')}) UNION ALL (({cursors.format(db='b')}) "
                       f"EXCEPT ({cursors.format(db='a')})))").fetchone()[0]
    if diff:
        found.append(f"sync_state: {diff} checkpoints differ")
    return found


@pytest.fixture(scope="module")
def org() -> Org:
    return shared_org(3, OrgSpec.small(months=1))


@pytest.fixture(scope="module")
def one_by_one(org: Org, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The per-source loaders' store, and its row count."""
    path = tmp_path_factory.mktemp("simload") / "one_by_one.duckdb"
    with RawStore(path) as store:
        for module in (github, jira, slack):
            module.load(org, store)
        rows = sum(store.count(*t.split("_", 2)[1:]) for t in store.raw_tables())
    return path, rows


@pytest.mark.parametrize("parallel", [True, False])
def test_bulk_load_writes_what_the_loaders_write(org: Org, one_by_one: tuple[Path, int],
                                                 tmp_path: Path, parallel: bool) -> None:
    rows = bulk.load_fresh(org, tmp_path / "bulk.duckdb", parallel=parallel,
                           # small chunks, so tables go over in several appends
                           chunk_bytes=256 * 1024)
    assert rows == one_by_one[1] > 1000
    assert same_stores(one_by_one[0], tmp_path / "bulk.duckdb") == []


def test_a_failing_worker_fails_the_load(org: Org, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="worker failed"):
        bulk.load_fresh(org, tmp_path / "bulk.duckdb", groups=(("github",), ("nosuch",)))


def test_bulk_load_refuses_an_existing_store(org: Org, tmp_path: Path) -> None:
    RawStore(tmp_path / "raw.duckdb").close()
    with pytest.raises(FileExistsError):
        bulk.load_fresh(org, tmp_path / "raw.duckdb")


@pytest.mark.extended  # in CI after the suite (4 s): the simulation's loader, not the product
def test_a_failing_loader_here_stops_the_writer_and_leaves_no_store(org: Org, tmp_path: Path,
                                                                   monkeypatch) -> None:
    """The loader of this process fails after some chunks: its writer thread stops before the
    store's transaction ends on the shared connection (it kept writing), the workers go, and
    no half-written store blocks the next load (it stayed: FileExistsError)."""
    import threading

    real = github.load_repos

    def failing(org, spool, base_url):
        real(org, spool, base_url)
        spool.flush()
        raise ValueError("a loader failed here")

    monkeypatch.setattr(github, "load_repos", failing)
    path = tmp_path / "bulk.duckdb"
    with pytest.raises(ValueError, match="a loader failed here"):
        bulk.load_fresh(org, path, chunk_bytes=256 * 1024)
    assert not path.exists()
    for thread in threading.enumerate():  # each ends within its half-second poll
        if thread.name.startswith("simload"):
            thread.join(timeout=5)
            assert not thread.is_alive(), thread.name
    monkeypatch.setattr(github, "load_repos", real)
    assert bulk.load_fresh(org, path) > 1000
