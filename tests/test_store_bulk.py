"""RawStore.bulk(): saves sharing transactions; what a kill or a failure leaves."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from processhealth.raw_rows import arrow_batch
from processhealth.store import RawStore
from tests.test_store import rows


def table(store, name="raw_github_pulls"):
    """The rows, with seq as its rank (the order of writing: the numbers start at the clock)."""
    return sorted(store.con.execute(
        f"SELECT natural_key, scope, updated_at, source_url, payload, payload_hash,"
        f" rank() OVER (ORDER BY seq) FROM {name}").fetchall())


def test_bulk_writes_what_single_saves_write(tmp_path):
    changed = rows(30, start=10)
    for row in changed[::7]:
        row["payload"]["state"] = "closed"
    pages = [rows(20), rows(20, start=20), changed]  # the third changes five rows
    with RawStore(tmp_path / "one.duckdb") as one, RawStore(tmp_path / "bulk.duckdb") as bulk:
        plain = [one.save("github", "pulls", p, scope="acme/api", cursor=f"c{i}")
                 for i, p in enumerate(pages)]
        with bulk.bulk(rows_per_commit=25):
            counted = [bulk.save("github", "pulls", p, scope="acme/api", cursor=f"c{i}")
                       for i, p in enumerate(pages)]
        assert counted == plain == [20, 20, 5]
        assert table(bulk) == table(one)
        assert bulk.get_cursor("github", "pulls", "acme/api") == "c2"
        # and the map of what is stored is right: the same rows again write nothing
        with bulk.bulk():
            assert bulk.save("github", "pulls", changed, scope="acme/api") == 0
        assert bulk.count("github", "pulls") == 40


def test_bulk_runs_duckdb_on_one_thread_and_gives_the_setting_back(tmp_path):
    with RawStore(tmp_path / "raw.duckdb") as store:
        store.con.execute("SET threads = 3")
        setting = "SELECT current_setting('threads')"
        with store.bulk():
            assert store.con.execute(setting).fetchone()[0] == 1
            store.save("github", "pulls", rows(5), scope="acme/api")
        assert store.con.execute(setting).fetchone()[0] == 3
        with pytest.raises(RuntimeError), store.bulk():
            raise RuntimeError("a loader failed")
        assert store.con.execute(setting).fetchone()[0] == 3
        assert store.count("github", "pulls") == 5


KILLED = """
import os, sys
sys.path.insert(0, {root!r})
from processhealth.store import RawStore
from tests.test_store import rows
store = RawStore({path!r})
with store.bulk(rows_per_commit=25):
    for page in range(6):  # 10 rows a page: commits after pages 2 and 5 (30 and 60 rows)
        store.save("github", "pulls", rows(10, start=10 * page), scope="acme/api",
                   cursor=f"c{{page}}")
        if page == 4:
            os._exit(9)  # killed: no commit, no close
"""


def test_a_kill_inside_bulk_resumes_exactly_from_the_last_commit(tmp_path):
    path = tmp_path / "raw.duckdb"
    RawStore(path).close()
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED.format(
        root=root, path=str(path)))], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    with RawStore(path) as store:
        # pages 0-2 were committed together (30 rows), pages 3-4 were not
        assert store.count("github", "pulls") == 30
        assert store.get_cursor("github", "pulls", "acme/api") == "c2"
        # resuming from that cursor writes the rest once
        with store.bulk():
            for page in range(3, 6):
                assert store.save("github", "pulls", rows(10, start=10 * page),
                                  scope="acme/api", cursor=f"c{page}") == 10
        assert store.count("github", "pulls") == 60
        assert store.con.execute("SELECT count(DISTINCT seq) FROM raw_github_pulls"
                                 ).fetchone()[0] == 60


def test_a_failed_save_in_bulk_rolls_back_to_the_last_commit_and_memory_follows(tmp_path):
    with RawStore(tmp_path / "raw.duckdb") as store:
        bad = rows(5, start=100)
        bad[2]["updated_at"] = "not a time"
        with store.bulk(rows_per_commit=15):
            store.save("github", "pulls", rows(10), scope="acme/api", cursor="c0")
            store.save("github", "pulls", rows(10, start=10), scope="acme/api", cursor="c1")
            # committed (20 rows >= 15); the next save is in a new transaction
            store.save("github", "pulls", rows(5, start=20), scope="acme/api", cursor="c2")
            with pytest.raises(Exception, match="unreadable updated_at"):
                store.save("github", "pulls", bad, scope="acme/api", cursor="c3")
            # rows 20-24 went with the failed transaction: saved again, they are new again
            assert store.save("github", "pulls", rows(5, start=20), scope="acme/api",
                              cursor="c2") == 5
        assert store.count("github", "pulls") == 25
        assert store.get_cursor("github", "pulls", "acme/api") == "c2"
        assert store.save("github", "pulls", rows(25), scope="acme/api") == 0


def test_other_writes_inside_bulk_commit_what_came_before(tmp_path):
    with RawStore(tmp_path / "raw.duckdb") as store:
        with store.bulk():
            store.save("github", "pulls", rows(10), scope="acme/api", cursor="c0")
            store.set_cursor("slack", "messages", "C1", "1700000000.0001")
            # mark_deleted runs its own transaction: the saves before it are committed first
            assert store.mark_deleted("github", "pulls", "acme/api",
                                      [f"acme/api#{i}" for i in range(8)]) == 2
            store.save("github", "pulls", rows(2, start=8), scope="acme/api")
        assert store.count("github", "pulls") == 10
        assert store.con.execute("SELECT count(*) FROM sync_deleted").fetchone()[0] == 0
        assert store.get_cursor("slack", "messages", "C1") == "1700000000.0001"


def test_an_error_in_the_block_keeps_the_whole_saves_before_it(tmp_path):
    path = tmp_path / "raw.duckdb"
    with RawStore(path) as store, pytest.raises(KeyError), store.bulk():
        store.save("github", "pulls", rows(10), scope="acme/api", cursor="c0")
        raise KeyError("the caller's own failure")
    with RawStore(path) as store:
        assert store.count("github", "pulls") == 10
        assert store.get_cursor("github", "pulls", "acme/api") == "c0"
        assert store.con.execute(
            "SELECT value FROM duckdb_settings() WHERE name = 'checkpoint_threshold'"
        ).fetchone()[0] == "1.0 GiB"


def test_all_or_nothing_leaves_the_store_as_it_was_and_can_go_on(tmp_path):
    """The imports' mode: a failure after several saves, one of them into a table created in
    the block, leaves nothing; the store then saves into that table again (it raised
    CatalogException: the table was gone, the store's memory still listed it)."""
    with RawStore(tmp_path / "raw.duckdb") as store:
        store.save("github", "pulls", rows(5), scope="acme/api")
        with pytest.raises(RuntimeError), store.bulk(rows_per_commit=3, all_or_nothing=True):
            store.save("github", "pulls", rows(5, start=5), scope="acme/api", cursor="c1")
            store.save("github", "issues", rows(4), scope="acme/api")  # a new table
            raise RuntimeError("the export turned out unreadable")
        assert store.count("github", "pulls") == 5 and not store.table_exists("raw_github_issues")
        assert store.get_cursor("github", "pulls", "acme/api") is None
        with store.bulk():
            assert store.save("github", "issues", rows(4), scope="acme/api") == 4
            assert store.save("github", "pulls", rows(5, start=5), scope="acme/api") == 5


def test_batches_of_several_saves_joined_keep_each_keys_last_version(tmp_path):
    """The simulation's loader joins saves into one save_batch: a key two of them carry is
    stored once, its later version, as two saves one after the other leave it (it was twice)."""
    first, second = rows(3), rows(3)
    for row in second:
        row["payload"]["state"] = "closed"
    joined = pa.concat_tables([arrow_batch(first, "acme/api", "v"),
                               arrow_batch(second, "acme/api", "v")])
    with RawStore(tmp_path / "raw.duckdb") as store:
        assert store.save_batch("github", "pulls", joined, scope="acme/api") == 3
        states = store.con.execute("SELECT DISTINCT payload->>'state' FROM raw_github_pulls"
                                   ).fetchall()
        assert store.count("github", "pulls") == 3 and states == [("closed",)]
