"""The build sequence (processhealth/pipeline.py) and the analytics schema it starts from."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time

import duckdb
import pytest
from simulated import simulated_config

from processhealth import analytics_db, duckdb_files, incremental, pipeline, temp_names
from processhealth.config import load_config
from processhealth.errors import UserError


def test_build_steps_run_once_each_in_the_documented_order() -> None:
    names = [step.name for step in pipeline.build_steps()]
    assert len(names) == len(set(names))
    python_steps = [n for n in names if not n.endswith(".sql")]
    assert python_steps == [
        "raw tables the SQL reads", "full or incremental", "config as a SQL variable",
        "recorded process changes", "set aside raw rows that cannot be read",
        "events numbered later", "normalized rows of the sources kept",
        "raw GitHub, Jira and Slack tables shown whole again", "warn of the raw rows set aside",
        "keys unique",
        "normalized tables kept for the next build",
        "parameters and thresholds",
        "identities and people", "teams", "classification", "effort", "pseudonyms",
        "store the heaviest views as tables", "verdicts per team-month", "process experiments",
        "analysed tables kept for the next build",
    ]
    normalize = [n for n in names if n.startswith("collectors/sql/")
                 and not n.startswith("collectors/sql/echo/")]
    # the Jira echo rules read across issues: after the build state is written (jira_delta.py)
    echo = names.index("collectors/sql/echo/jira_echo.sql")
    assert echo == names.index("normalized tables kept for the next build") + 1
    assert normalize and not [n for n in names if n.startswith("analysis/sql/")]
    # the metric views come with the schema (analytics_db.Prelude), blocks first
    files = [p.relative_to(pipeline.REPO_ROOT).as_posix() for p in pipeline.metric_files()]
    assert files[:3] == [f"analysis/sql/blocks/{f}" for f in ("base.sql", "items.sql",
                                                              "scope.sql")]
    assert sorted(files[3:]) == files[3:] and len(files[3:]) == len(
        list(pipeline.METRIC_SQL.glob("*.sql")))
    at = names.index
    # normalize, then the analysis, then the blocks before any view, and every view before
    # the step that stores the heavy ones as tables, which the verdicts then read.
    assert max(map(at, normalize)) < at("parameters and thresholds")
    assert at("set aside raw rows that cannot be read") < min(map(at, normalize))
    # an incremental build (docs/build.md): decided once the raw store is attached, the kept
    # sources' rows in before any normalization file, the normalized tables saved after all
    assert at("raw tables the SQL reads") < at("full or incremental") \
        < at("normalized rows of the sources kept") < min(map(at, normalize))
    assert max(map(at, normalize)) < at("keys unique") \
        < at("normalized tables kept for the next build") < at("parameters and thresholds")
    assert at("pseudonyms") < at("store the heaviest views as tables") \
        < at("verdicts per team-month") < at("process experiments") \
        < at("analysed tables kept for the next build") == len(names) - 1


def test_a_schema_file_that_is_not_listed_stops_the_build(tmp_path, monkeypatch) -> None:
    for name in analytics_db.SCHEMA_FILES:
        (tmp_path / name).write_text((analytics_db.SCHEMA_DIR / name).read_text())
    (tmp_path / "extra.sql").write_text("CREATE TABLE extra(x INTEGER);")
    monkeypatch.setattr(analytics_db, "SCHEMA_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="extra.sql"):
        analytics_db.create_schema(duckdb.connect())


def test_one_parameters_table_and_its_old_names(write_config) -> None:
    config = load_config(write_config(
        "[privacy]\nmin_group_size = 6\n[verdict]\noverhead_rise_pp = 7.5\n"))
    con = duckdb.connect(str(pipeline.build(config)), read_only=True)
    params = {name: (value, threshold) for name, value, threshold in con.execute(
        "SELECT name, value, is_threshold FROM build_params").fetchall()}
    assert params["privacy.min_group_size"] == ("6", True)
    assert params["verdict.overhead_rise_pp"] == ("7.5", True)
    assert params["effort.session_gap_minutes"][1] is False
    thresholds = dict(con.execute("SELECT name, value FROM health_thresholds").fetchall())
    assert thresholds["min_group_size"] == 6 and thresholds["overhead_rise_pp"] == 7.5
    assert len(thresholds) == sum(threshold for _, threshold in params.values())
    settings = dict(con.execute("SELECT name, value FROM analysis_params").fetchall())
    assert settings == {n: v for n, (v, _) in params.items() if not n.startswith("verdict.")}
    comments = dict(con.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE view_name IN"
        " ('analysis_params', 'health_thresholds', 'health_signals', 'health_change_signals')"
    ).fetchall())
    assert len(comments) == 4 and all(c.startswith("Deprecated, use ") for c in comments.values())
    con.close()


def test_an_event_or_item_field_written_twice_stops_the_build(tmp_path) -> None:
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    analytics_db.create_schema(con)
    row = ("github:commit:acme/api@1", "github", "2024-05-01T10:00:00Z", "commit")
    field = ("jira:ATL-1", "customfield_10016", True)
    con.execute("INSERT INTO events(event_id, source, occurred_at, kind) VALUES (?, ?, ?, ?)", row)
    con.execute("INSERT INTO item_fields(item_id, field_id, has_value) VALUES (?, ?, ?)", field)
    con.execute("INSERT INTO item_fields(item_id, field_id, has_value) VALUES (?, ?, ?)",
                ("jira:ATL-1", "priority", True))  # another field of the same item is fine
    pipeline.unique_keys(con)  # once is fine
    con.execute("INSERT INTO events(event_id, source, occurred_at, kind) VALUES (?, ?, ?, ?)", row)
    with pytest.raises(UserError, match=r"events rows .*github:commit:acme/api@1 \(2 times\)"):
        pipeline.unique_keys(con)
    con.execute("DELETE FROM events")
    con.execute("INSERT INTO item_fields(item_id, field_id, has_value) VALUES (?, ?, ?)", field)
    with pytest.raises(UserError,
                       match=r"item_fields rows .*jira:ATL-1 / customfield_10016 \(2 times\)"):
        pipeline.unique_keys(con)

def test_two_event_ids_that_share_a_hash_are_not_taken_for_one_written_twice(tmp_path) -> None:
    """unique_keys groups by the keys' 64-bit hash first; distinct ids with the same hash (two
    such pairs were among the 10M scale organization's event ids) must pass, and a real
    duplicate among them must still be found."""
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    analytics_db.create_schema(con)
    pair = ("github:pr_opened:acme/borealis10-app#1009",
            "github:pr_opened:acme/borealis19-app#1059")
    [(h1, h2)] = con.execute("SELECT hash(?::VARCHAR), hash(?::VARCHAR)", list(pair)).fetchall()
    assert h1 == h2  # DuckDB's string hash gives these two the same value
    for event_id in pair:
        con.execute("INSERT INTO events(event_id, source, occurred_at, kind)"
                    " VALUES (?, 'github', '2024-05-01T10:00:00Z', 'pr_opened')", [event_id])
    pipeline.unique_keys(con)
    con.execute("INSERT INTO events(event_id, source, occurred_at, kind)"
                " VALUES (?, 'github', '2024-05-01T10:00:00Z', 'pr_opened')", [pair[1]])
    with pytest.raises(UserError, match=r"borealis19-app#1059 \(2 times\)") as raised:
        pipeline.unique_keys(con)
    assert "borealis10-app#1009" not in str(raised.value)


def test_a_normalization_file_drops_the_temp_tables_it_made(tmp_path) -> None:
    """Its working tables would hold memory for the rest of the build (at 10M events Jira's
    held most of the 3 GB memory_limit); what existed before it is left alone."""
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE _before AS SELECT 1 AS x")
    sql = tmp_path / "99_jira_test.sql"
    sql.write_text("CREATE TEMP TABLE _work AS SELECT 42 AS x;\n"
                   "CREATE TABLE out AS SELECT x FROM _work;\n")
    pipeline._normalize_step(sql, incremental.Plan(full=True))(con, None)
    assert pipeline.temp_tables(con) == ["_before"]
    assert con.execute("SELECT x FROM out").fetchall() == [(42,)]


def test_no_temp_table_outlives_normalization(tmp_path) -> None:
    """On the simulated organization's raw store: once normalization is done and its tables
    saved in the build state, the connection holds no TEMP table (views and macros may stay;
    the refs the state keeps, such as who each Slack message names, are tables of the file)."""
    config = simulated_config()
    con = duckdb_files.open_duckdb(tmp_path / "a.duckdb")
    analytics_db.create_schema(con)
    analytics_db._attach_raw(con, config.storage.raw_path)
    analytics_db.attach_refs(con, None)
    plan = incremental.Plan(full=True, state=tmp_path / "state.duckdb")
    ran = []
    for step in pipeline.build_steps(plan):
        step(con, config)
        ran.append(step.name)
        if step.name == "normalized tables kept for the next build":
            break
    assert any(name.endswith("20_jira.sql") for name in ran)
    assert con.execute("SELECT count(*) FROM events WHERE source = 'jira'").fetchone()[0] > 0
    assert pipeline.temp_tables(con) == []


def test_events_are_numbered_once_and_a_row_added_later_draws_a_new_number(tmp_path) -> None:
    """Normalization writes event_seq 0 (the column's default, nextval, made DuckDB insert one
    thread at a time); classification numbers the events in time order (ties by event_id), by
    their second (analysis/event_seq.py, SEQ_PER_SECOND), and gives the column its default back,
    past every number given."""
    config = simulated_config()
    con = duckdb_files.open_duckdb(tmp_path / "a.duckdb")
    analytics_db.create_schema(con)
    analytics_db._attach_raw(con, config.storage.raw_path)
    analytics_db.attach_refs(con, None)
    plan = incremental.Plan(full=True, state=tmp_path / "state.duckdb")
    for step in pipeline.build_steps(plan):
        step(con, config)
        if step.name == "keys unique":
            assert con.execute("SELECT count(*) > 0 AND bool_and(event_seq = 0)"
                               " FROM events").fetchone() == (True,)
        if step.name == "classification":
            break
    n, seqs, ordered, by_second = con.execute(
        "SELECT count(*), count(DISTINCT event_seq), bool_and(rn = rs),"
        " bool_and(event_seq // 1000000 = epoch_us(occurred_at) // 1000000) FROM"
        " (SELECT event_seq, occurred_at, row_number() OVER (ORDER BY occurred_at, event_id) AS rn,"
        " row_number() OVER (ORDER BY event_seq) AS rs FROM events)").fetchone()
    assert n == seqs and ordered and by_second
    top = con.execute("SELECT max(event_seq) FROM events").fetchone()[0]
    con.execute("INSERT INTO events(event_id, source, occurred_at, kind)"
                " VALUES ('test:added', 'github', now(), 'commit')")
    assert con.execute("SELECT event_seq FROM events WHERE event_id = 'test:added'"
                       ).fetchone()[0] > top
    default = con.execute("SELECT column_default FROM duckdb_columns() WHERE table_name = 'events'"
                          " AND column_name = 'event_seq'").fetchone()[0]
    assert "nextval" in default


def test_a_connection_keeps_the_memory_it_frees_for_reuse(tmp_path) -> None:
    """open_duckdb lets DuckDB keep freed buffer blocks up to the memory cap, and up to 1 GB of
    its other freed memory, instead of handing them back to the system after each task (page
    faults were most of a 10M-event build's system time; duckdb_files._keep_freed_memory)."""
    con = duckdb_files.open_duckdb(tmp_path / "a.duckdb", memory_limit="1GB")
    settings = dict(con.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN ('memory_limit',"
        " 'block_allocator_memory', 'allocator_flush_threshold')").fetchall())
    assert settings["block_allocator_memory"] == settings["memory_limit"]
    assert settings["allocator_flush_threshold"] == "1GB"
    con.execute("CREATE TABLE t AS SELECT range AS i, range::VARCHAR AS s FROM range(300000)")
    assert con.execute("SELECT count(DISTINCT s) FROM t").fetchone()[0] == 300000


def test_duckdb_threads_come_from_the_environment(tmp_path, monkeypatch) -> None:
    """PROCESSHEALTH_DUCKDB_THREADS caps each connection's threads (processes sharing the cores:
    the suite's workers, a shared cron host); a value that is not a whole number of at least 1
    is a clear error, not DuckDB's."""
    monkeypatch.setenv(duckdb_files.THREADS_VAR, "1")
    with duckdb_files.open_duckdb(tmp_path / "a.duckdb") as con:
        assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
    monkeypatch.delenv(duckdb_files.THREADS_VAR)
    with duckdb_files.open_duckdb(tmp_path / "a.duckdb") as con:
        assert con.execute("SELECT current_setting('threads')").fetchone()[0] == duckdb.connect(
        ).execute("SELECT current_setting('threads')").fetchone()[0]
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(duckdb_files.THREADS_VAR, bad)
        with pytest.raises(UserError, match="whole number of threads"):
            duckdb_files.open_duckdb(tmp_path / "b.duckdb")


def test_build_params_hold_every_setting_but_who_is_who(write_config) -> None:
    """The figures' settings beyond the thresholds (SQL-user review: the channel rules and
    waiting patterns that classified the demo were nowhere in the database), and the version
    that built it; team members and people mappings name people and stay out."""
    config = load_config(write_config(
        '[jira]\nwaiting_patterns = ["on hold"]\n'
        '[classification]\nteam_channels = "process"\n'
        '[[teams]]\nname = "payments"\nmembers = ["ana.lima@acme.example"]\n'
        'channels = ["pay-*"]\n'
        '[people]\nbots = ["jo.build@acme.example"]\n'
        '[[people.mappings]]\nperson = "Ana Lima"\ngithub = "ana-l"\n'))
    con = duckdb.connect(str(pipeline.build(config)), read_only=True)
    params = dict(con.execute("SELECT name, value FROM build_params").fetchall())
    con.close()
    settings = json.loads(params["config"])
    assert settings["jira"]["waiting_patterns"] == ["on hold"]
    assert settings["classification"]["team_channels"] == "process"
    assert settings["teams"] == [{**settings["teams"][0], "name": "payments",
                                  "channels": ["pay-*"]}]
    assert settings["slack"]["reminder_patterns"]  # the defaults, as used
    assert "storage" not in settings and "token" not in settings["jira"]
    assert not [who for who in ("ana.lima", "Ana Lima", '"ana-l"', "jo.build")
                if who in params["config"]]
    assert re.fullmatch(r"\d+\.\d+\S*|unknown", params["processhealth.version"])


def test_every_build_starts_with_the_metric_views_from_one_template_a_process(config,
                                                                             tmp_path) -> None:
    """analytics_db.Prelude: the views its steps create are in the new file before the first
    build step; its steps run once per process (a template copied by each build), again only
    when a file they come from changed."""
    source = tmp_path / "view.sql"
    source.write_text("one")
    made = []

    def create(con, cfg) -> None:
        made.append(source.read_text())
        con.execute(f"CREATE VIEW probe_view AS SELECT '{source.read_text()}' AS x")

    seen = []
    probe = analytics_db.BuildStep("probe", lambda con, cfg: seen.append(con.execute(
        "SELECT x FROM probe_view").fetchall() + con.execute(
        "SELECT count(*) FROM events").fetchall()))
    prelude = analytics_db.Prelude([analytics_db.BuildStep("view", create)], [source])
    for _ in range(2):
        target = analytics_db.build_analytics(config, [probe], prelude=prelude)
    assert made == ["one"] and seen == [[("one",), (0,)]] * 2
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT x FROM probe_view").fetchall() == [("one",)]
    source.write_text("two")
    analytics_db.build_analytics(config, [probe], prelude=prelude)
    assert made == ["one", "two"] and seen[-1] == [("two",), (0,)]


def test_one_commit_nested_commits_once_and_a_failure_takes_back_the_whole_block() -> None:
    """duckdb_files.one_commit: an inner block (materialize inside the report's as-of
    recompute) joins the outer transaction, where a BEGIN would abort it; an error anywhere
    rolls back everything since the outer BEGIN."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t(x INTEGER)")
    with duckdb_files.one_commit(con):
        con.execute("INSERT INTO t VALUES (1)")
        with duckdb_files.one_commit(con):
            con.execute("INSERT INTO t VALUES (2)")
        con.execute("INSERT INTO t VALUES (3)")
    with pytest.raises(duckdb.Error), duckdb_files.one_commit(con):
        con.execute("INSERT INTO t VALUES (4)")
        with duckdb_files.one_commit(con):
            con.execute("INSERT INTO t VALUES ('not a number')")
    assert con.execute("SELECT list(x ORDER BY x) FROM t").fetchone()[0] == [1, 2, 3]
    with duckdb_files.one_commit(con):  # usable again after the rollback
        con.execute("INSERT INTO t VALUES (5)")
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 4


def test_a_template_left_by_a_killed_process_is_removed_by_the_next_one(config, tmp_path,
                                                                     monkeypatch) -> None:
    """The template folder is removed when its process exits; one whose process was killed
    (no exit handler ran) is removed by the next process that makes a template."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"processhealth-template-{temp_names.owner_tag(dead.pid)}-abc"
    alive = tmp_path / f"processhealth-template-{temp_names.owner_tag()}-def"
    for folder in (stale, alive):
        folder.mkdir()
        (folder / "analytics.duckdb").write_bytes(b"x")
    source = tmp_path / "view.sql"
    source.write_text(str(tmp_path))  # a key no other test made in this process
    prelude = analytics_db.Prelude([], [source])
    analytics_db.build_analytics(config, [], prelude=prelude)
    assert not stale.exists() and alive.exists()
    assert len(list(tmp_path.glob(f"processhealth-template-{temp_names.owner_tag()}-*"))) == 2


def test_what_another_host_left_stays_a_day(tmp_path) -> None:
    """In a folder two hosts share (NFS), a process id says nothing about another host's
    process: its entries stay, whatever their id, until they are a day old (a cron in fresh
    containers, each a new host name, still cleans up). This host's, and those of versions
    before the host tag (no tag), go when their process is gone; a name of any other shape
    stays."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        tag = temp_names.owner_tag
        assert tag(dead.pid, host="host-b") != tag(dead.pid)
        prefix = "x.duckdb.building-"
        kept = [tag(dead.pid, host="host-b"),  # running on host B for all we know
                tag(alive.pid), f"{dead.pid}@b0b", f"{dead.pid}x", "notes"]
        gone = [tag(dead.pid, host="host-c"), tag(alive.pid, host="host-d"),  # a day old
                f"{dead.pid}", f"{dead.pid}-abc", tag(dead.pid), f"{tag(dead.pid)}.wal"]
        for name in kept + gone:
            (tmp_path / f"{prefix}{name}").mkdir()
            (tmp_path / f"{prefix}{name}" / "part").write_bytes(b"x")
        day_ago = time.time() - 25 * 3600
        for name in gone[:2]:
            os.utime(tmp_path / f"{prefix}{name}", (day_ago, day_ago))
        temp_names.remove_left_by_dead(tmp_path, prefix)
        assert sorted(p.name[len(prefix):] for p in tmp_path.iterdir()) == sorted(kept)
    finally:
        alive.kill()
        alive.wait()


def test_an_earlier_version_s_name_with_this_process_s_id_is_a_killed_run_s(tmp_path) -> None:
    """This process names its files with its host: one named with its id alone was left by an
    earlier version's run that had the same id (in a container every run can be pid 1), killed
    before it cleaned up. It goes, as that version's `_remove(temp)` removed it; kept, a
    database-sized `.building-1` stayed for good."""
    prefix = "x.duckdb.building-"
    left = [f"{os.getpid()}", f"{os.getpid()}.wal", f"{os.getpid()}-abc"]
    mine = [temp_names.owner_tag(), f"{temp_names.owner_tag()}.wal"]
    for name in left + mine:
        (tmp_path / f"{prefix}{name}").write_bytes(b"x")
    temp_names.remove_left_by_dead(tmp_path, prefix)
    assert sorted(p.name[len(prefix):] for p in tmp_path.iterdir()) == sorted(mine)
    # with `ours` (as-of copies), this process's own names stay, the earlier version's go
    (tmp_path / f"{prefix}{os.getpid()}").write_bytes(b"x")
    temp_names.remove_left_by_dead(tmp_path, prefix, ours={f"{prefix}{mine[0]}"})
    assert [p.name[len(prefix):] for p in tmp_path.iterdir()] == [mine[0]]


def test_a_process_s_temporary_names_stay_when_the_host_is_renamed(tmp_path, monkeypatch
                                                                   ) -> None:
    """The host part of a process's names is read once: a build state's temporary name
    (Plan.temp, made again at each use) that changed with the host's name mid-build (a laptop
    that joins another network) had the state's normalized tables copied into one file and the
    state committed from another, new and empty, while the first stayed behind as another
    host's for a day; the next build was full."""
    tag = temp_names.owner_tag()
    names = iter(f"host-{n}" for n in range(100))
    monkeypatch.setattr(temp_names.socket, "gethostname", lambda: next(names))
    plan = incremental.Plan(state=tmp_path / "state.duckdb")
    assert plan.temp == plan.temp == tmp_path / f"state.duckdb.building-{tag}"
    assert temp_names.owner_tag() == tag
    # what this process made is still its own: not left for a day as another host's
    (tmp_path / f"x.building-{tag}").write_bytes(b"x")
    temp_names.remove_left_by_dead(tmp_path, "x.building-", ours=set())
    assert not (tmp_path / f"x.building-{tag}").exists()


def test_without_a_usable_temporary_folder_the_file_is_made_in_place(config, tmp_path,
                                                                     monkeypatch) -> None:
    """A temporary folder that cannot hold the template (here: a file in its place) costs the
    template, not the build: the schema and the views are created in the new file itself."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    monkeypatch.setattr(tempfile, "tempdir", str(blocked))
    source = tmp_path / "view.sql"
    source.write_text(f"in place {tmp_path}")  # a key no other test made in this process
    step = analytics_db.BuildStep("view", lambda con, cfg: con.execute(
        "CREATE VIEW probe_view AS SELECT 1 AS x"))
    target = analytics_db.build_analytics(config, [], prelude=analytics_db.Prelude([step],
                                                                                   [source]))
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT x FROM probe_view").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)
    assert not list(target.parent.glob("*.building-*"))


def test_one_commit_reports_the_error_of_the_block_not_of_its_rollback() -> None:
    """A block that fails after closing its connection raises its own error (the ROLLBACK's,
    on a closed connection, would hide it)."""
    con = duckdb.connect()
    with pytest.raises(ValueError, match="the block's own"), duckdb_files.one_commit(con):
        con.close()
        raise ValueError("the block's own error")


def test_the_views_a_build_stores_as_tables_become_views_again_with_their_comments() -> None:
    """What the as-of report runs (reports/asof.py): the statements of view_statements() turn
    each stored building block back into its view, in an order each one binds in, comments
    included, and touch no other view."""
    from analysis import materialize

    built = duckdb.connect()
    pipeline.create_empty(built)
    # (not the views' `sql`: DuckDB renders a copied view's joins without parentheses)
    describe = ("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"
                " AND view_name LIKE 'metric_%' ORDER BY 1")
    columns = ("SELECT table_name, column_name, column_index, data_type, comment"
               " FROM duckdb_columns() WHERE table_name LIKE 'metric_%' ORDER BY 1, 3")
    views, comments = built.execute(describe).fetchall(), built.execute(columns).fetchall()
    stored = list(materialize.BUILDING_BLOCKS)
    assert set(stored) <= {name for name, _ in views}

    statements = pipeline.view_statements(stored)
    for name in stored:
        built.execute(f"DROP VIEW {name}")
    for statement in statements:
        built.execute(statement)
    assert built.execute(describe).fetchall() == views
    assert built.execute(columns).fetchall() == comments
    assert pipeline.view_statements(["metric_no_such_view"]) == []
