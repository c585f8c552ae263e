"""Incremental builds when the raw store or the build state are not what the last build left:
a raw store restored from a copy, a source's tables dropped and refilled, a build state damaged
inside (docs/build.md; findings of independent reviews). Apart from tests/test_incremental.py so
that the two files' builds run on different test workers."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import orjson
import pytest
from test_incremental import build, compare, make_org_store, one_row, quarantined

from processhealth import incremental
from processhealth.store import RawStore


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch, months=1)  # a month is enough here


def same_as_full(folder: Path, config) -> list[str]:
    """The tables and views that differ between the analytics database and a --full build of
    the same raw store into another file."""
    full = config.model_copy(deep=True)
    full.storage.analytics_path = folder / "full.duckdb"
    build(full, full=True)
    return compare(Path(config.storage.analytics_path), folder / "full.duckdb")


def slack_message(raw: Path, name: str, ts: str) -> tuple[dict, str]:
    """A new Slack message (a copy of a stored one under another key and time), and its scope."""
    _, scope, found = one_row(raw, "raw_slack_messages", "payload ->> 'features' IS NOT NULL")
    return ({"natural_key": f"{scope}/{name}", "updated_at": None,
             "payload": {**found["payload"], "ts": ts}}, scope)


@pytest.mark.slow  # four builds
@pytest.mark.extended  # CI runs it after the suite (6 s); restored copies are rare
def test_a_raw_store_restored_from_a_copy_then_collected_into_is_built_again(org_store):
    """Rows the last build read are lost (the copy predates them) and as many are saved after:
    were their seqs the lost rows' numbers, the counts and the top seq would be as recorded, the
    build would say "up to date" and keep the lost rows, and the unreadable one among the new
    would escape the quarantine check, which reads the rows above the last build's seq only
    (both happened before seqs started at the clock)."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    shutil.copyfile(raw, folder / "backup.duckdb")
    bad, scope = slack_message(raw, "bad", "soon")  # not a time
    lost = [slack_message(raw, f"lost{i}", f"17672256{i:02d}.000100")[0] for i in range(3)]
    later = [slack_message(raw, f"later{i}", f"17672257{i:02d}.000100")[0] for i in range(2)]
    with RawStore(raw) as store:
        store.save("slack", "messages", lost, scope=scope)
    assert build(config).mode == "incremental"
    shutil.copyfile(folder / "backup.duckdb", raw)  # restored
    with RawStore(raw) as store:
        store.save("slack", "messages", [bad, *later], scope=scope)
    plan = build(config)
    assert plan.mode == "incremental" and plan.changed == {"slack": 3}
    target = Path(config.storage.analytics_path)
    assert quarantined(target) == [f"{scope}/bad"]
    with duckdb.connect(str(target), read_only=True) as con:
        ids = {r[0].rsplit("/", 1)[-1] for r in con.execute(
            "SELECT event_id FROM events WHERE source = 'slack'").fetchall()}
    assert {"later0", "later1"} <= ids and not ids & {"lost0", "lost1", "lost2"}
    assert same_as_full(folder, config) == []


@pytest.mark.extended  # in CI after the suite (12 s): a refilled store is rare
def test_an_unreadable_row_saved_into_a_refilled_store_is_set_aside(org_store):
    """A source's tables dropped and refilled, an unreadable row first: its seq must not be one
    the last build read, or the incremental quarantine check passes it over (it did)."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    bad, scope = slack_message(raw, "bad", "soon")
    with duckdb.connect(str(raw), read_only=True) as con:
        tables = {t: con.execute(f"SELECT natural_key, scope, payload::VARCHAR FROM {t}"
                                 " ORDER BY seq").fetchall()
                  for (t,) in con.execute("SELECT table_name FROM duckdb_tables()"
                                          " WHERE table_name LIKE 'raw_slack_%'").fetchall()}
    with RawStore(raw) as store:
        store.reset("slack", drop_rows=True)
        store.save("slack", "messages", [bad], scope=scope)
        for table, saved in tables.items():
            store.ensure_raw_table("slack", table.removeprefix("raw_slack_"))  # empty ones too
            for where in dict.fromkeys(w for _, w, _ in saved):  # a save per scope, in order
                store.save("slack", table.removeprefix("raw_slack_"), [
                    {"natural_key": key, "updated_at": None, "payload": orjson.loads(payload)}
                    for key, w, payload in saved if w == where], scope=where)
    assert build(config).mode == "incremental"
    assert quarantined(Path(config.storage.analytics_path)) == [f"{scope}/bad"]
    assert same_as_full(folder, config) == []


@pytest.mark.slow  # six builds
@pytest.mark.extended  # CI runs it after the suite (12 s); restored copies are rare
def test_a_restored_copy_brings_back_an_older_version_the_quarantine_judged_otherwise(org_store):
    """The quarantine check of an incremental build passes over the rows the last build read.
    A restored copy brings back an older version of a message under a seq the last build saw
    with another version: (1) the unreadable version of a message the last build read as
    readable must be set aside, not break normalization; (2) the readable version of a message
    the last build set aside must be read, not kept aside. (The first version took "seq at or
    below the last build's" to mean "the row it checked".)"""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    target = Path(config.storage.analytics_path)
    bad, scope = slack_message(raw, "flips", "soon")  # not a time
    good = {**bad, "payload": {**bad["payload"], "ts": "1767225800.000100"}}
    key = bad["natural_key"]
    for first, then in ((bad, good), (good, bad)):
        with RawStore(raw) as store:
            store.save("slack", "messages", [first], scope=scope)
        build(config)
        assert (quarantined(target) == [key]) == (first is bad)
        shutil.copyfile(raw, folder / "backup.duckdb")
        with RawStore(raw) as store:
            store.save("slack", "messages", [then], scope=scope)
        assert build(config).mode == "incremental"
        assert (quarantined(target) == [key]) == (then is bad)
        shutil.copyfile(folder / "backup.duckdb", raw)  # restored: `first` is back
        later, _ = slack_message(raw, f"later-{first['payload']['ts']}", "1767225900.000100")
        with RawStore(raw) as store:  # collected into: the table does not go back
            store.save("slack", "messages", [later], scope=scope)
        plan = build(config)
        assert plan.mode == "incremental", plan.reason
        assert (quarantined(target) == [key]) == (first is bad), first["payload"]["ts"]
        assert same_as_full(folder, config) == []


def damage(db: Path, table: str) -> None:
    """Overwrite bytes inside every storage block of `table` (its checksums then fail)."""
    with duckdb.connect(str(db), read_only=True) as con:
        blocks = sorted({b for (b,) in con.execute(
            f"SELECT block_id FROM pragma_storage_info('{table}') WHERE block_id >= 0"
        ).fetchall()})
        [(size,)] = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()
    assert blocks
    data = bytearray(db.read_bytes())
    for block in blocks:  # after the file's three 4 KiB headers
        at = 3 * 4096 + block * size + 64
        data[at:at + 32] = b"\xff" * 32
    db.write_bytes(bytes(data))


@pytest.mark.extended  # in CI after the suite (12 s): a damaged state is rare
def test_a_build_state_damaged_inside_makes_a_full_build_not_an_error(org_store):
    """A state whose tables open but whose rows do not read (a damaged block): the build is
    full, says why, and does not blame the raw store (it did, with advice to restore it). The
    deleted marks are read to find the changes; the normalized rows, to keep a source."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    key, scope, found = one_row(raw, "raw_slack_messages", "payload ->> 'features' IS NOT NULL")
    marked = [("github", *one_row(raw, "raw_github_issues")[1:]),
              ("jira", *one_row(raw, "raw_jira_issues")[1:])]
    with RawStore(raw) as store:  # two sources: the state's deleted marks are not constants
        for source, where, rows in marked:
            store.mark_deleted(source, "issues", where, rows["scope_keys"][1:])
    build(config)
    kept = incremental.state_path(config)
    for table in ("deleted", "work_items"):
        found["payload"]["features"] |= {"length": len(table)}  # Slack changes, the rest is kept
        with RawStore(raw) as store:
            store.save("slack", "messages", [{"natural_key": key, "updated_at": None,
                                              "payload": found["payload"]}], scope=scope)
        damage(kept, table)
        plan = build(config)
        assert plan.mode == "full" and plan.reason.startswith("the build state cannot be read")
    assert same_as_full(folder, config) == []
    assert build(config).mode == "current"  # and the state it wrote serves the next build
