import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime

import duckdb
import pytest

from processhealth import migrations, state
from processhealth.analytics_db import BuildStep, build_analytics, copy_state
from processhealth.errors import UserError
from processhealth.raw_rows import raw_table_name
from processhealth.store import RawStore


def rows(n, state_value="open", start=0):
    return [
        {"natural_key": f"acme/api#{i}", "updated_at": "2024-05-01T10:00:00Z",
         "source_url": f"https://api.github.com/repos/acme/api/pulls/{i}",
         "payload": {"number": i, "state": state_value, "user": {"login": "ana"}}}
        for i in range(start, start + n)
    ]


@pytest.fixture
def store(tmp_path):
    with RawStore(tmp_path / "sub" / "raw.duckdb") as s:
        yield s


def test_upsert_is_idempotent_and_unchanged_rows_write_nothing(store):
    assert store.save("github", "pulls", rows(50), scope="acme/api") == 50
    assert store.save("github", "pulls", rows(50), scope="acme/api") == 0
    assert store.count("github", "pulls") == 50


def fetched_at(store):
    query = "SELECT natural_key, fetched_at FROM raw_github_pulls"
    return dict(store.con.execute(query).fetchall())


def test_only_changed_rows_are_rewritten(store):
    store.save("github", "pulls", rows(10), scope="acme/api")
    before = fetched_at(store)
    changed = rows(10)
    changed[3]["payload"]["state"] = "closed"
    assert store.save("github", "pulls", changed + rows(2, start=10), scope="acme/api") == 3
    after = fetched_at(store)
    assert after["acme/api#0"] == before["acme/api#0"]
    assert after["acme/api#3"] > before["acme/api#3"]
    assert store.count("github", "pulls") == 12


def test_same_key_twice_in_a_batch_keeps_the_last(store):
    batch = rows(1) + rows(1, state_value="closed")
    assert store.save("github", "pulls", batch, scope="acme/api") == 1
    payload = store.con.execute("SELECT payload->>'state' FROM raw_github_pulls").fetchone()[0]
    assert payload == "closed"


def test_updated_at_accepts_datetimes_iso_strings_and_none(store):
    values = [datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2024, 1, 2, 3, 4, 5),
              "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000+0000", date(2024, 1, 2), None]
    batch = [{"natural_key": str(i), "updated_at": v, "payload": {}} for i, v in enumerate(values)]
    store.save("jira", "issues", batch, scope="PAY")
    got = dict(store.con.execute(
        "SELECT natural_key, strftime(updated_at, '%Y-%m-%dT%H:%M:%S') FROM raw_jira_issues"
    ).fetchall())
    assert got == {"0": "2024-01-02T03:04:05", "1": "2024-01-02T03:04:05",
                   "2": "2024-01-02T03:04:05", "3": "2024-01-02T03:04:05",
                   "4": "2024-01-02T00:00:00", "5": None}


def test_cursor_advances_with_the_rows(store):
    store.save("github", "pulls", rows(5), scope="acme/api", cursor="2024-05-01T10:00:00Z")
    assert store.get_cursor("github", "pulls", "acme/api") == "2024-05-01T10:00:00Z"
    assert store.get_cursor("github", "pulls", "other") is None


def test_failure_mid_save_keeps_neither_rows_nor_cursor(store, monkeypatch):
    store.save("github", "pulls", rows(5), scope="acme/api", cursor="c1")

    def fail(*args):
        raise RuntimeError("killed after the rows were written")

    monkeypatch.setattr(store, "_write_cursor", fail)
    with pytest.raises(RuntimeError):
        store.save("github", "pulls", rows(5, start=5), scope="acme/api", cursor="c2")
    monkeypatch.undo()
    assert store.count("github", "pulls") == 5
    assert store.get_cursor("github", "pulls", "acme/api") == "c1"


def test_reset_forgets_checkpoints_of_one_source(store):
    store.save("github", "pulls", rows(2), scope="acme/api", cursor="c1")
    store.set_cursor("slack", "messages", "C1", "1700000000.0001")
    store.reset("github")
    assert store.get_cursor("github", "pulls", "acme/api") is None
    assert store.get_cursor("slack", "messages", "C1") == "1700000000.0001"
    assert store.count("github", "pulls") == 2
    store.reset("github", drop_rows=True)
    assert store.count("github", "pulls") == 0


def test_raw_identifiers_are_validated():
    assert raw_table_name("slack", "export_messages") == "raw_slack_export_messages"
    for source, entity in [("GitHub", "pulls"), ("github", "pulls; drop"), ("1x", "a")]:
        with pytest.raises(ValueError):
            raw_table_name(source, entity)


def test_raw_tables_and_columns_are_commented(store):
    store.ensure_raw_table("jira", "issues")
    missing = store.con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal"
        " AND database_name = current_database() AND coalesce(comment, '') = ''"
    ).fetchall()
    assert missing == []


def test_store_held_by_another_process_gives_a_clear_error(tmp_path):
    path = tmp_path / "raw.duckdb"
    RawStore(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(path)!r})
            print("ready", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(UserError, match="Another processhealth command is using"):
            RawStore(path)
    finally:
        holder.communicate("")


def test_migrations_are_recorded_and_applied_once(tmp_path):
    path = tmp_path / "raw.duckdb"
    RawStore(path).close()
    RawStore(path).close()
    con = duckdb.connect(str(path))
    assert con.execute("SELECT version, name FROM schema_migrations ORDER BY version"
                       ).fetchall() == [(1, "core"), (2, "coverage"), (3, "deleted"),
                                         (4, "report_ledger"), (5, "raw_log"), (6, "runs")]


def test_migrations_run_in_numeric_order(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "010_second.sql").write_text("INSERT INTO log VALUES ('second');")
    (folder / "002_first.sql").write_text(
        "CREATE TABLE log(x VARCHAR); INSERT INTO log VALUES ('first');"
    )
    con = duckdb.connect()
    assert migrations.apply(con, folder) == [2, 10]
    assert con.execute("SELECT x FROM log").fetchall() == [("first",), ("second",)]
    assert migrations.apply(con, folder) == []


def test_failed_build_leaves_the_old_database(config):
    build_analytics(config, [])
    target = config.storage.analytics_path
    before = target.read_bytes()

    def broken(con, cfg):
        con.execute("SELECT * FROM no_such_table")

    with pytest.raises(UserError, match="broken failed"):
        build_analytics(config, [BuildStep("broken", broken)])
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir() if "building" in p.name] == []


def test_process_changes_round_trip_and_reach_analytics(config):
    with RawStore(config.storage.raw_path) as store:
        criteria = [state.parse_criterion("overhead_ratio_change <= +3pp")]
        state.add_process_change(store, "pm-tool", started_on=date(2024, 3, 1), team="a",
                                 scope={"jira_project": ["PAY"]}, criteria=criteria)
        with pytest.raises(UserError, match="already exists"):
            state.add_process_change(store, "pm-tool", started_on=date(2024, 3, 1))
        [change] = state.list_process_changes(store)
        assert change["scope"] == {"jira_project": ["PAY"]} and change["criteria"] == criteria
    build_analytics(config, [BuildStep("recorded process changes", copy_state)])
    con = duckdb.connect(str(config.storage.analytics_path), read_only=True)
    assert con.execute("SELECT metric, op, threshold, unit FROM experiment_criteria").fetchall() \
        == [("overhead_ratio_change", "<=", 3.0, "pp")]
    con.close()
    with RawStore(config.storage.raw_path) as store:
        state.remove_process_change(store, "pm-tool")
        assert state.list_process_changes(store) == []
        with pytest.raises(UserError, match="no process change"):
            state.remove_process_change(store, "pm-tool")


@pytest.mark.parametrize("text, parsed", [
    ("overhead_ratio_change <= +3pp", ("overhead_ratio_change", "<=", 3.0, "pp")),
    ("customer_throughput_change>=-10%", ("customer_throughput_change", ">=", -10.0, "%")),
    ("flow_efficiency > 0.25", ("flow_efficiency", ">", 0.25, "")),
])
def test_criterion_grammar(text, parsed):
    c = state.parse_criterion(text)
    assert (c.metric, c.op, c.threshold, c.unit) == parsed


@pytest.mark.parametrize(
    "text", ["overhead up", "Overhead <= 3", "x == 3", "x <= 3 points", "x <="]
)
def test_criterion_grammar_rejects(text):
    with pytest.raises(UserError, match="not understood"):
        state.parse_criterion(text)


# --- the raw tables' write path: hashes, seq, migration 005 -------------------------------------

def table_rows(con, table="raw_github_pulls"):
    return con.execute(f"SELECT natural_key, payload::VARCHAR, seq FROM {table}"
                       " ORDER BY natural_key").fetchall()


def test_a_changed_row_replaces_its_version_across_sessions(tmp_path):
    path = tmp_path / "raw.duckdb"
    with RawStore(path) as store:
        assert store.save("github", "pulls", rows(20), scope="acme/api") == 20
    with RawStore(path) as store:  # what the table holds is loaded from it
        assert store.save("github", "pulls", rows(20), scope="acme/api") == 0
        changed = rows(20)
        changed[7]["payload"]["state"] = "closed"
        assert store.save("github", "pulls", changed, scope="acme/api") == 1
        got = table_rows(store.con)
    assert len(got) == 20 and len({key for key, _, _ in got}) == 20
    assert dict((k, p) for k, p, _ in got)["acme/api#7"] == \
        '{"number":7,"state":"closed","user":{"login":"ana"}}'
    seqs = {key: seq for key, _, seq in got}
    assert len(set(seqs.values())) == 20
    assert max(seqs.values()) == seqs["acme/api#7"]  # the changed row was written last


def test_seq_never_repeats_a_number_even_in_a_restored_copy(tmp_path):
    """A build takes every row above the highest seq it read as new: a copy restored over the
    store, then saved to, must not hand out the numbers the lost rows had (docs/build.md)."""
    path = tmp_path / "raw.duckdb"
    with RawStore(path) as store:
        store.save("github", "pulls", rows(3), scope="acme/api")
    shutil.copyfile(path, tmp_path / "backup.duckdb")
    with RawStore(path) as store:
        store.save("github", "pulls", rows(1, start=3), scope="acme/api")
        [(lost,)] = store.con.execute("SELECT max(seq) FROM raw_github_pulls").fetchall()
    shutil.copyfile(tmp_path / "backup.duckdb", path)
    with RawStore(path) as store:
        store.save("github", "pulls", rows(1, start=4), scope="acme/api")
        [(new,)] = store.con.execute("SELECT seq FROM raw_github_pulls"
                                     " WHERE natural_key = 'acme/api#4'").fetchall()
    assert new > lost


def test_payload_hash_is_duckdbs_hash_of_the_stored_text(store):
    store.save("github", "pulls", rows(5), scope="acme/api")
    differ = store.con.execute("SELECT count(*) FROM raw_github_pulls"
                               " WHERE payload_hash IS DISTINCT FROM hash(payload::VARCHAR)"
                               ).fetchone()[0]
    assert differ == 0


def test_a_key_saved_under_another_scope_stays_one_row(store):
    store.save("github", "pulls", rows(3), scope="acme/api")
    moved = rows(1)
    moved[0]["payload"]["state"] = "moved"
    assert store.save("github", "pulls", moved, scope="acme/new") == 1
    assert store.con.execute("SELECT natural_key, scope FROM raw_github_pulls"
                             " WHERE natural_key = 'acme/api#0'").fetchall() == \
        [("acme/api#0", "acme/new")]
    assert store.count("github", "pulls") == 3


def test_rows_written_without_hash_or_seq_are_replaced_not_duplicated(tmp_path):
    """Rows a hand edit or another tool wrote (no payload_hash, no seq; the same key twice) are
    found by natural_key when a save replaces them."""
    path = tmp_path / "raw.duckdb"
    with RawStore(path) as store:
        store.save("github", "pulls", rows(4), scope="acme/api")
        for _ in range(2):
            store.con.execute(
                "INSERT INTO raw_github_pulls(natural_key, scope, payload)"
                " VALUES ('acme/api#9', 'acme/api', '{\"number\":9}')")
        store.con.execute("INSERT INTO raw_github_pulls(natural_key, scope, payload)"
                          " VALUES ('acme/api#1', 'acme/api', '{\"number\":1}')")
    with RawStore(path) as store:
        assert store.save("github", "pulls", rows(10), scope="acme/api") == 7  # 1, 4-9
        got = table_rows(store.con)
        assert store.save("github", "pulls", rows(10), scope="acme/api") == 0
    assert [key for key, _, _ in got] == sorted(f"acme/api#{i}" for i in range(10))
    assert all(seq is not None for _, _, seq in got)


def test_many_saves_in_one_session_fold_into_the_sorted_map(store, monkeypatch):
    monkeypatch.setattr("processhealth.raw_rows.MERGE_AT", 16)
    for start in range(0, 200, 10):  # 20 pages, the map merges several times
        assert store.save("github", "pulls", rows(10, start=start), scope="acme/api") == 10
    stored = store._stored["raw_github_pulls"]
    assert stored.keys.size + len(stored.recent) >= 200 and stored.keys.size > 0
    changed = rows(200)
    for row in changed[::50]:
        row["payload"]["state"] = "closed"
    assert store.save("github", "pulls", changed, scope="acme/api") == 4
    assert store.count("github", "pulls") == 200
    assert store.con.execute("SELECT count(*) FROM raw_github_pulls WHERE payload->>'state'"
                             " = 'closed'").fetchone()[0] == 4


def test_a_failed_save_leaves_the_map_consistent(store, monkeypatch):
    store.save("github", "pulls", rows(5), scope="acme/api", cursor="c1")
    changed = rows(5)
    changed[0]["payload"]["state"] = "closed"

    def fail(*args):
        raise RuntimeError("killed after the rows were written")

    monkeypatch.setattr(store, "_write_cursor", fail)
    with pytest.raises(RuntimeError):
        store.save("github", "pulls", changed, scope="acme/api", cursor="c2")
    monkeypatch.undo()
    assert store.save("github", "pulls", changed, scope="acme/api", cursor="c2") == 1
    assert store.count("github", "pulls") == 5


def test_deleted_rows_are_unmarked_when_seen_again(store):
    store.save("github", "issues", rows(5), scope="acme/api")
    assert store.mark_deleted("github", "issues", "acme/api", [f"acme/api#{i}" for i in (0, 1)]
                              ) == 3
    assert store.save("github", "issues", rows(1, start=3), scope="acme/api") == 0
    assert store.con.execute("SELECT natural_key FROM sync_deleted ORDER BY 1").fetchall() == \
        [("acme/api#2",), ("acme/api#4",)]


# The DDL main's code (before migration 005) gave every raw table.
OLD_SHAPE = ("natural_key VARCHAR PRIMARY KEY, scope VARCHAR, updated_at TIMESTAMPTZ,"
             " fetched_at TIMESTAMPTZ, source_url VARCHAR, collector_version VARCHAR,"
             " payload JSON USING COMPRESSION zstd")


def old_store(path, tmp_path):
    """A raw store as the code before migration 005 left it: migrations 1-4, keyed tables."""
    folder = tmp_path / "old_migrations"
    folder.mkdir()
    for m in migrations.available()[:4]:
        (folder / m.path.name).write_text(m.path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    migrations.apply(con, folder)
    for table in ("raw_github_pulls", "raw_slack_messages"):
        con.execute(f"CREATE TABLE {table}({OLD_SHAPE})")
    con.executemany("INSERT INTO raw_github_pulls VALUES (?, 'acme/api', ?, now(), ?, 'old', ?)",
                    [[r["natural_key"], r["updated_at"], r["source_url"],
                      f'{{"number":{i},"state":"open","user":{{"login":"ana"}}}}']
                     for i, r in enumerate(rows(30))])
    con.execute("INSERT INTO sync_deleted VALUES ('github', 'pulls', 'acme/api#3', 'acme/api',"
                " now())")
    before = con.execute("SELECT * FROM raw_github_pulls").fetchall()
    con.close()
    return before


def test_migration_005_keeps_rows_and_order_and_the_unchanged_check(tmp_path):
    path = tmp_path / "raw.duckdb"
    before = old_store(path, tmp_path)
    with RawStore(path) as store:
        after = store.con.execute("SELECT * EXCLUDE (payload_hash, seq) FROM raw_github_pulls"
                                  ).fetchall()
        assert after == before  # same rows, same order
        shape = store.con.execute(
            "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns()"
            " WHERE table_name LIKE 'raw_%' GROUP BY ALL ORDER BY ALL").fetchall()
        assert shape == [(t, ["natural_key", "scope", "updated_at", "fetched_at", "source_url",
                              "collector_version", "payload", "payload_hash", "seq"])
                         for t in ("raw_github_pulls", "raw_slack_messages")]
        assert store.con.execute("SELECT count(*) FROM duckdb_constraints()"
                                 " WHERE table_name LIKE 'raw_%' AND constraint_type ="
                                 " 'PRIMARY KEY'").fetchone()[0] == 0
        assert store.save("github", "pulls", rows(30), scope="acme/api") == 0
        changed = rows(31)
        changed[3]["payload"]["state"] = "closed"
        assert store.save("github", "pulls", changed, scope="acme/api") == 2
        assert store.count("github", "pulls") == 31
        assert store.con.execute("SELECT count(*) FROM sync_deleted").fetchone()[0] == 0
        missing = store.con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal"
            " AND database_name = current_database() AND coalesce(comment, '') = ''").fetchall()
        assert missing == []


def test_the_build_reads_a_migrated_store_read_only(config, tmp_path):
    before = old_store(config.storage.raw_path, tmp_path)
    RawStore(config.storage.raw_path).close()  # migrates
    raw_bytes = config.storage.raw_path.read_bytes()

    def read(con, cfg):
        assert con.execute("SELECT natural_key, scope, updated_at, fetched_at, source_url,"
                           " collector_version, payload FROM raw_github_pulls").fetchall() \
            == before

    build_analytics(config, [BuildStep("read raw", read)])
    assert config.storage.raw_path.read_bytes() == raw_bytes


def test_the_raw_store_opens_under_the_configured_memory_cap(write_config, tmp_path):
    """[storage] memory_limit caps the raw store too (collect, import, audit), not only the
    build; before, the raw store always used the default cap."""
    from processhealth.config import load_config
    from processhealth.duckdb_files import DEFAULT_MEMORY_LIMIT

    config = load_config(write_config('[storage]\nmemory_limit = "512MB"\n'))
    expected = duckdb.connect(config={"memory_limit": "512MB"}).execute(
        "SELECT current_setting('memory_limit')").fetchone()[0]
    default = duckdb.connect(config={"memory_limit": DEFAULT_MEMORY_LIMIT}).execute(
        "SELECT current_setting('memory_limit')").fetchone()[0]
    assert expected != default
    with RawStore.of(config) as store:
        assert store.path == config.storage.raw_path
        got = store.con.execute("SELECT current_setting('memory_limit'),"
                                " current_setting('block_allocator_memory')").fetchone()
    assert got == (expected, expected)
    with RawStore.of(config, read_only=True) as store:
        assert store.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] \
            == expected
