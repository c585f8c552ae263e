"""Incremental builds (docs/build.md) give the same analytics database as `build --full`.

A small simulated organization goes into a raw store through the bulk loader (the loaders' own
rows, the store's own write path); its last month is held out and built, then the store grows
step by step as collections would change it: the last month appended, a changed Slack message
(a new payload hash), a Jira issue moved to another project (a new key and scope, the old one
marked deleted), a deleted GitHub issue. After each step `build` runs incrementally; at the end
every table and view of the result equals, row by row, a `build --full` of the same raw store.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import orjson
import pytest
import shared_cache

from processhealth import build_inputs, event_base_delta, incremental, pipeline, state, state_start
from processhealth.config import load_config
from processhealth.demo_config import demo_config_toml
from processhealth.simload import bulk, replay
from processhealth.store import RawStore
from processhealth.temp_names import owner_tag
from simulation import OrgSpec, generate_org

TOKENS = {f"PROCESSHEALTH_DEMO_{s}_TOKEN": "unused" for s in ("GITHUB", "JIRA", "SLACK")}


def _canonical(value):
    """Rows as hashable tuples (JSON objects and lists too)."""
    if isinstance(value, list | tuple):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    return value


def _close(a, b) -> bool:
    """Equal, floats to 1e-9 (relative or absolute): DuckDB's parallel sums add in any order, so
    two builds of the same data differ in the last bits (a difference of two equal sums is then
    1e-15 instead of 0)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(map(_close, a, b))
    return a == b


def _exact_part(value):
    """What must be equal exactly: the row with its floats left out."""
    if isinstance(value, float):
        return None
    if isinstance(value, tuple):
        return tuple(_exact_part(v) for v in value)
    return value


def contents(path: Path, only: tuple[str, ...] = ()) -> dict[str, Counter]:
    """Every table and view of the main schema (or those named), as a multiset of its rows."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = only or [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            " AND schema_name = 'main' UNION ALL SELECT view_name FROM duckdb_views()"
            " WHERE database_name = current_database() AND schema_name = 'main'"
            " AND NOT internal").fetchall()]
        return {n: Counter(_canonical(row) for row in con.execute(f'SELECT * FROM "{n}"')
                           .fetchall()) for n in names}
    finally:
        con.close()


def differences(got: dict[str, Counter], want: dict[str, Counter]) -> list[str]:
    """Tables and views whose rows differ (floats compared to 1e-9), order-insensitive."""
    out = []
    for name in sorted(set(got) | set(want)):
        a, b = got.get(name), want.get(name)
        if a is None or b is None:
            out.append(f"{name}: only in {'the full build' if a is None else 'incremental'}")
            continue
        extra = sorted((a - b).elements(), key=lambda r: (repr(_exact_part(r)), repr(r)))
        missing = sorted((b - a).elements(), key=lambda r: (repr(_exact_part(r)), repr(r)))
        if len(extra) == len(missing) and all(map(_close, extra, missing)):
            continue
        out.append(f"{name}: {len(extra)} rows only incremental, {len(missing)} only full, "
                   f"e.g. {extra[:2]!r:.600} / {missing[:2]!r:.600}")
    return out


def compare(got: Path, want: Path, only: tuple[str, ...] = ()) -> list[str]:
    """differences(contents(got), contents(want)), with the rows compared by DuckDB: only the
    rows one side lacks (EXCEPT ALL, both ways) come to Python, where floats are paired to 1e-9
    as `differences` does (reading every row into Python took 10 of the 31 s of the longest
    test here)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("ATTACH ? AS got (READ_ONLY)", [str(got)])
        con.execute("ATTACH ? AS want (READ_ONLY)", [str(want)])
        named = {db: {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name ="
            " 'main' UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = ?"
            " AND schema_name = 'main' AND NOT internal", [db, db]).fetchall()}
            for db in ("got", "want")}
        out = []
        for name in sorted(set(only) or named["got"] | named["want"]):
            if name not in named["got"] or name not in named["want"]:
                side = "the full build" if name in named["want"] else "incremental"
                out.append(f"{name}: only in {side}")
                continue
            # each side read once: a view's parallel sums differ in the last bits between
            # two reads, so the two directions must compare the same rows
            for db in ("got", "want"):
                con.execute(f'CREATE OR REPLACE TEMP TABLE _{db} AS SELECT * FROM {db}."{name}"')
            extra, missing = (Counter(_canonical(row) for row in con.execute(
                f"SELECT * FROM _{a} EXCEPT ALL SELECT * FROM _{b}").fetchall())
                for a, b in (("got", "want"), ("want", "got")))
            out += differences({name: extra}, {name: missing})
        return out
    finally:
        con.close()


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch)


def make_org_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, months: int = 2):
    """A small simulated organization in a raw store (the bulk loader), with its config. The
    organization is generated and loaded once per test run (tests/shared_cache.py) and its raw
    store copied for each test."""
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)

    def make(folder: Path) -> tuple[str, Path]:
        org = generate_org(5, OrgSpec.small(months=months))
        bulk.load_fresh(org, folder / "raw.duckdb")
        return demo_config_toml(org, {s: f"http://127.0.0.1:1/{s}" for s in (
            "github", "jira", "slack")}), folder / "raw.duckdb"

    toml, raw = shared_cache.shared(f"incremental-org-5-{months}", make)
    shutil.copyfile(raw, tmp_path / "raw.duckdb")
    (tmp_path / "processhealth.toml").write_text(toml + (
        f'\n[storage]\nraw_path = "{tmp_path / "raw.duckdb"}"\n'
        f'analytics_path = "{tmp_path / "processhealth.duckdb"}"\n'))
    return tmp_path, load_config(tmp_path / "processhealth.toml")


def build(config, full: bool = False):
    whole = len(event_base_delta.WHOLE)
    pipeline.build(config, full=full)
    # an incremental build's metric_event_base was patched, not computed whole because the
    # patch's rows did not match the events (compare() then checks the patch)
    assert event_base_delta.WHOLE[whole:] == []
    return pipeline.last_plan


def one_row(raw: Path, table: str, where: str = "true") -> tuple[str, str, dict]:
    con = duckdb.connect(str(raw), read_only=True)
    try:
        key, scope, payload = con.execute(
            f"SELECT natural_key, scope, payload::VARCHAR FROM {table} WHERE {where}"
            f" ORDER BY natural_key LIMIT 1").fetchone()
        keys = [r[0] for r in con.execute(f"SELECT natural_key FROM {table} WHERE scope = ?",
                                          [scope]).fetchall()]
    finally:
        con.close()
    return key, scope, {"payload": orjson.loads(payload), "scope_keys": keys}


@pytest.mark.slow  # seven builds
def test_incremental_builds_equal_a_full_build(org_store):
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert replay.split_last_month(raw, folder / "held.duckdb") > 0
    plan = build(config)
    assert (plan.mode, plan.reason) == ("full", "there is no previous database")
    shutil.copyfile(target, folder / "first.duckdb")

    # the last month, appended as a collection writes it, with a message the build cannot
    # read (quarantined: checked now, carried by the next builds that normalize Slack again)
    assert replay.append(raw, folder / "held.duckdb") > 0
    key, scope, found = one_row(raw, "raw_slack_messages", "payload ->> 'features' IS NOT NULL")
    with RawStore(raw) as store:
        bad = f"{key}-bad"
        store.save("slack", "messages", [{"natural_key": bad, "updated_at": None,
                                          "payload": {**found["payload"], "ts": "soon"}}],
                   scope=scope)
    plan = build(config)
    assert plan.mode == "incremental" and set(plan.changed) == {"github", "jira", "slack"}
    assert plan.start  # the file started as a copy of the state (its own tables dropped: compare)
    # the state's own tables are in the state, the refs in its refs file, and neither in the
    # analytics database
    own, refs = set(state_start.STATE_ONLY), {*state_start.IN_REFS, "refs_build"}
    state = incremental.state_path(config)
    tables = {}
    for path in (target, state, incremental.refs_path(state)):
        with duckdb.connect(str(path), read_only=True) as con:
            tables[path] = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()")
                            .fetchall()}
    assert not (own | refs) & tables[target]
    assert own <= tables[state] and not refs & tables[state]
    assert refs == tables[incremental.refs_path(state)]
    assert "raw rows since the last build" in plan.summary()
    assert quarantined(target) == [bad]

    # a changed Slack message (a new payload hash), and a Jira issue moved to another project
    # (a new key and scope; the old key marked deleted by the next full pass of its project)
    key, scope, found = one_row(raw, "raw_slack_messages", "payload ->> 'features' IS NOT NULL")
    message = found["payload"]
    message["features"] |= {"is_status_request": True, "length": 4321}
    with RawStore(raw) as store:
        assert store.save("slack", "messages", [{"natural_key": key, "payload": message,
                                                 "updated_at": None}], scope=scope) == 1
    key, scope, found = one_row(raw, "raw_jira_issues")
    with duckdb.connect(str(raw), read_only=True) as con:
        other = con.execute("SELECT min(scope) FROM raw_jira_issues WHERE scope <> ?",
                            [scope]).fetchone()[0]
    assert other is not None
    issue = found["payload"]
    moved = f"{other}-9{key.rsplit('-', 1)[1]}"
    issue["key"] = moved
    issue["fields"]["project"] = {**issue["fields"].get("project", {}), "key": other}
    with RawStore(raw) as store:
        store.save("jira", "issues", [{"natural_key": moved, "payload": issue,
                                       "updated_at": None}], scope=other)
        assert store.mark_deleted("jira", "issues", scope,
                                  [k for k in found["scope_keys"] if k != key]) == 1
    plan = build(config)
    assert plan.mode == "incremental" and plan.kept == ("github",)
    assert plan.changed == {"jira": 1, "slack": 1}
    assert quarantined(target) == [bad]

    # a GitHub issue deleted upstream (a full pass of its repository no longer saw it)
    gone, scope, found = one_row(raw, "raw_github_issues")
    with RawStore(raw) as store:
        assert store.mark_deleted("github", "issues", scope,
                                  [k for k in found["scope_keys"] if k != gone]) == 1
    plan = build(config)
    assert plan.mode == "incremental" and plan.changed == {"github": 0}
    assert plan.kept == ("jira", "slack")
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM work_items WHERE item_id = ?",
                           [f"github:{gone}"]).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM work_items WHERE item_id IN (?, ?)",
                           [f"jira:{moved}", f"jira:{key}"]).fetchone()[0] == 1

    # every table and view equals a full build of the same raw store
    full_config = config.model_copy(deep=True)
    full_config.storage.analytics_path = folder / "full.duckdb"
    assert build(full_config, full=True).reason == "--full was given"
    [(relations, rows)] = query(folder / "full.duckdb", (
        "SELECT (SELECT count(*) FROM duckdb_views() WHERE schema_name = 'main' AND NOT"
        " internal) + count(*), sum(estimated_size) FROM duckdb_tables() WHERE schema_name ="
        " 'main'"))
    assert relations > 50 and rows > 10_000
    assert compare(target, folder / "full.duckdb") == []
    assert compare(folder / "first.duckdb", folder / "full.duckdb", only=("events",))  # can fail

    # a killed incremental build leaves the old database as it was
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    key, scope, found = one_row(raw, "raw_slack_messages", "payload ->> 'features' IS NOT NULL")
    found["payload"]["features"] |= {"length": 1234}
    with RawStore(raw) as store:
        store.save("slack", "messages", [{"natural_key": key, "payload": found["payload"],
                                          "updated_at": None}], scope=scope)
    # the CLI in a fresh process (a fork of this one would inherit DuckDB's threads)
    child = subprocess.Popen(
        [sys.executable, "-c", "from processhealth.cli import main; main()", "--config",
         str(folder / "processhealth.toml"), "build"], env={**os.environ, **TOKENS},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    temp = target.with_name(f"{target.name}.building-{owner_tag(child.pid)}")
    deadline = time.monotonic() + 60
    while not temp.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.3)  # into the build
    assert child.poll() is None, "the build finished before it could be killed"
    child.send_signal(signal.SIGKILL)
    assert child.wait(30) == -signal.SIGKILL
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before

    # another file in the analytics database's place: full, and it says why; the killed
    # build's temporary files are gone
    shutil.copyfile(folder / "full.duckdb", target)
    plan = build(config)
    assert plan.mode == "full" and "is not the database the last build wrote" in plan.reason
    assert not list(folder.rglob("*.building-*"))

    # a changed config: full, and it says why
    changed = config.model_copy(deep=True)
    changed.slack.reminder_patterns = [*changed.slack.reminder_patterns, "ping me"]
    plan = build(changed)
    assert plan.mode == "full" and "config changed" in plan.reason

    # the build state (normalized rows before pseudonymization, parsed payloads) lives beside
    # the raw store, never in the analytics database
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall() \
            == [("main",)]
    assert [p.parent for p in folder.rglob("*.duckdb") if "norm" in p.name or
            p.parent.name == "build-state"] == [folder / "build-state"] * 2


def quarantined(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT item FROM source_coverage"
                                          " WHERE status = 'quarantined' ORDER BY 1").fetchall()]


@pytest.mark.extended  # in CI after the suite (9 s): three builds
def test_the_analysis_of_its_own_output_equals_a_full_build(org_store):
    """The build state is taken after the analysis (docs/build.md, "What a build keeps for the
    next one"): a build whose only change is one the analysis reads (a recorded process
    change) keeps every source, so it analyses the last build's events, person ids, categories,
    event numbers and echo marks again. Every table and view equals a full build's: the
    analysis's writes are total."""
    folder, config = org_store
    assert build(config).mode == "full"
    with RawStore(folder / "raw.duckdb") as store:
        state.add_process_change(store, "new-board", started_on=date(2026, 1, 5), tool="jira")
    plan = build(config)
    assert plan.mode == "incremental" and plan.kept == ("github", "jira", "slack")
    full_config = config.model_copy(deep=True)
    full_config.storage.analytics_path = folder / "full.duckdb"
    build(full_config, full=True)
    assert compare(Path(config.storage.analytics_path), folder / "full.duckdb") == []


@pytest.mark.extended  # in CI after the suite (6 s): three builds
def test_a_build_forgets_the_states_of_databases_that_are_gone(org_store):
    folder, config = org_store
    other = config.model_copy(deep=True)
    other.storage.analytics_path = folder / "other.duckdb"
    build(config)
    build(other)
    kept = folder / "build-state"
    assert len(list(kept.glob("*.duckdb"))) == 2
    # a state written before states named their database is left alone
    legacy = kept / "older.duckdb"
    with duckdb.connect(str(legacy)) as con:
        con.execute("CREATE TABLE state AS SELECT 'format' AS key, '2' AS value")
    (folder / "other.duckdb").unlink()
    assert build(config).mode == "current"  # nothing new: not rebuilt, but the states go
    state = incremental.state_path(config)  # (and the refs file of the one that went)
    assert sorted(kept.iterdir()) == sorted([state, incremental.refs_path(state), legacy])


def test_a_build_with_nothing_new_leaves_the_database_as_it_is(org_store, monkeypatch):
    folder, config = org_store
    target = Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    built = build_inputs.file_identity(target)

    # nothing new: the file the last build wrote stays (same inode, size and time)
    plan = build(config)
    assert plan.mode == "current" and "up to date" in plan.summary()
    assert build_inputs.file_identity(target) == built
    # the CLI, outside UTC, with the temp files of a killed build about (they go, as a build
    # would remove them)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    kept = incremental.state_path(config)
    leftovers = [path.with_name(f"{path.name}.building-{owner_tag(dead.pid)}")
                 for path in (target, kept, incremental.refs_path(kept))]
    for path in leftovers:
        path.write_bytes(b"left by a killed build")
    out = cli_build(folder, TZ="Europe/Berlin")
    assert "is up to date" in out and build_inputs.file_identity(target) == built
    assert not any(path.exists() for path in leftovers)

    # the people file the config names is read by the analysis: an edit builds again
    people = folder / "people.csv"
    people.write_text("person,github,jira,slack,email\n")
    with_people = config.model_copy(deep=True)
    with_people.people.csv = people
    assert build(with_people).mode == "full"  # the config changed
    assert build(with_people).mode == "current"
    [(login,)] = query(target, "SELECT min(login) FROM identities WHERE source = 'github'"
                               " AND NOT is_bot")
    people.write_text(f"person,github,jira,slack,email\nfrom-the-csv,{login},,,\n")
    assert build(with_people).mode == "incremental"
    assert query(target, "SELECT count(*) FROM identities WHERE matched_by = 'csv'") == [(1,)]
    assert build(with_people).mode == "current"

    # someone wrote to the database (a write-ahead log beside it): built again, as it was
    subprocess.run([sys.executable, "-c", WRITE_AND_DIE, str(target)], check=True)
    assert target.with_name(target.name + ".wal").exists()
    assert build(with_people).mode == "incremental"
    assert query(target, "SELECT count(*) > 0 FROM events") == [(True,)]
    built = build_inputs.file_identity(target)

    # a recorded process change is read by the analysis, not by normalization: built again,
    # every source kept, and the change is in the database
    with RawStore(folder / "raw.duckdb") as store:
        state.add_process_change(store, "new-board", started_on=date(2026, 1, 5), tool="jira")
    plan = build(with_people)
    assert plan.mode == "incremental" and plan.kept == ("github", "jira", "slack")
    assert build_inputs.file_identity(target) != built
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT name FROM process_changes").fetchall() == [("new-board",)]
    assert build(with_people).mode == "current"

    # with pseudonyms, another salt changes every pseudonym: built again
    pseudonymized = with_people.model_copy(deep=True)
    pseudonymized.privacy.pseudonymize = True
    monkeypatch.setenv("PROCESSHEALTH_SALT", "first salt")
    assert build(pseudonymized).mode == "full"  # the config changed
    assert build(pseudonymized).mode == "current"
    before = person_ids(target)
    monkeypatch.setenv("PROCESSHEALTH_SALT", "second salt")
    assert build(pseudonymized).mode == "incremental"
    after = person_ids(target)
    assert before and after and not before & after

    # a new raw row: built again
    key, scope, found = one_row(folder / "raw.duckdb", "raw_slack_messages")
    found["payload"]["ts"] = "1767225600.000100"
    with RawStore(folder / "raw.duckdb") as store:
        store.save("slack", "messages", [{"natural_key": f"{key}-new", "updated_at": None,
                                          "payload": found["payload"]}], scope=scope)
    assert build(pseudonymized).changed == {"slack": 1}


# A reader that writes to the analytics database and dies before DuckDB checkpoints it: the
# change stays in processhealth.duckdb.wal, the file itself keeps its size and time.
WRITE_AND_DIE = """
import os, sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET checkpoint_threshold = '1GB'")
con.execute("DELETE FROM events")
os._exit(0)
"""


def cli_build(folder: Path, **env: str) -> str:
    """`processhealth build` in a fresh process; what it said."""
    out = subprocess.run(
        [sys.executable, "-c", "from processhealth.cli import main; main()", "--config",
         str(folder / "processhealth.toml"), "build"], env={**os.environ, **TOKENS, **env},
        capture_output=True, text=True, check=True)
    return out.stdout + out.stderr


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def person_ids(db: Path) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {r[0] for r in con.execute(
            "SELECT DISTINCT person_id FROM people WHERE person_id IS NOT NULL").fetchall()}


def test_months_a_collection_saw_whole_are_marked_complete(org_store):
    """health_verdicts.month_complete: a month is whole once every enabled source was last
    collected after it ended (raw store sync_runs, written by `collect`). A cron run on the
    1st catches the new month's first hours; its verdict row says so (new-user review)."""
    folder, config = org_store  # to March 2026, loaded: no collection ran
    target = Path(config.storage.analytics_path)
    build(config)

    def complete() -> dict[str, bool | None]:
        return dict(query(target, "SELECT DISTINCT strftime(month, '%Y-%m'), month_complete"
                                  " FROM health_verdicts WHERE month >= '2026-02-01'"))

    def collected(when: datetime, *sources: str) -> None:
        with RawStore(folder / "raw.duckdb") as store:
            for source in sources:
                store.record_run(source, when, False)

    assert complete() == {"2026-02": None, "2026-03": None}
    # Slack's first run failed (or its data was imported): unknown, not complete
    collected(datetime(2026, 4, 1, 2, tzinfo=UTC), "github", "jira")
    assert build(config).mode == "incremental"  # only the runs changed
    assert complete() == {"2026-02": None, "2026-03": None}
    collected(datetime(2026, 3, 1, 2, tzinfo=UTC), "github", "jira", "slack")
    build(config)
    assert complete() == {"2026-02": True, "2026-03": False}  # Slack's run was on March 1
    # a source the config no longer enables does not hold the months back
    without = config.model_copy(deep=True)
    without.slack.enabled = False
    build(without)
    assert complete() == {"2026-02": True, "2026-03": True}
    collected(datetime(2026, 4, 2, tzinfo=UTC), "slack")
    build(config)
    assert complete() == {"2026-02": True, "2026-03": True}


@pytest.mark.extended  # in CI after the suite (5 s): three builds
def test_a_new_address_for_a_source_needs_no_rebuild(org_store):
    """How a source is reached (its URL, paging, retries) changes none of its rows: the
    database stays current, where a changed setting the analysis reads builds again (cron
    review: an emulator's new port made every build full)."""
    folder, config = org_store
    assert build(config).mode == "full"
    moved = config.model_copy(deep=True)
    moved.jira.base_url = "https://jira.elsewhere.example"
    moved.github.per_page = 50
    moved.github.commits_lookback_days = 7  # how far back a collection reads again
    moved.slack.thread_lookback_days = 7
    assert build(moved).mode == "current"
    reread = moved.model_copy(deep=True)
    reread.jira.waiting_patterns = ["parked"]
    assert build(reread).mode == "full"
