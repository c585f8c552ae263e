"""Review of the Slack by-message incremental build (processhealth/slack_delta.py): after each
kind of raw-store change, an incremental build must equal a `build --full` of the same store."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import orjson
import pytest
from test_incremental import build, compare, make_org_store, one_row, quarantined
from test_incremental_recovery import damage

from processhealth import incremental
from processhealth.store import RawStore

# The extended tier (CI runs it after the suite), as tests/test_slack_delta.py, which covers each
# rule; these are the review's further cases (about 70 s).
pytestmark = [pytest.mark.slow, pytest.mark.extended]

PLAIN = ("payload ->> 'subtype' IS NULL AND payload ->> 'thread_ts' IS NULL"
         " AND payload ->> 'user' IS NOT NULL")


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch, months=1)


def same_as_full(folder: Path, config) -> list[str]:
    full = config.model_copy(deep=True)
    full.storage.analytics_path = folder / "full.duckdb"
    build(full, full=True)
    return compare(Path(config.storage.analytics_path), folder / "full.duckdb")


def save(raw: Path, entity: str, key: str, scope: str, payload: dict) -> None:
    with RawStore(raw) as store:
        store.save("slack", entity, [{"natural_key": key, "updated_at": None,
                                      "payload": payload}], scope=scope)


def sql(raw: Path, statement: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(raw)) as con:
        return con.execute(statement, params or []).fetchall()


def event_ids(target: Path, key: str) -> list[str]:
    with duckdb.connect(str(target), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT event_id FROM events WHERE event_id LIKE ?",
                                          [f"slack:%:{key}"]).fetchall()]


def new_message(raw: Path, name: str, ts: str) -> tuple[str, str, dict]:
    """A new message: a copy of a plain one under another key and time."""
    _, scope, found = one_row(raw, "raw_slack_messages", PLAIN)
    return f"{scope}/{name}", scope, {**found["payload"], "ts": ts}


BOT = "B0TEST0001"


def add_bot(raw: Path, name: str = "Test Bot") -> str:
    """A bot row, and a message that names the bot by its id only (no username, no
    bot_profile: its name comes from raw_slack_bots), not a reminder by its features; returns
    the message's key."""
    save(raw, "bots", BOT, "T0ACME0001", {"id": BOT, "name": name, "deleted": False})
    key, scope, payload = new_message(raw, "by-bot", "1767225600.000300")
    payload = {k: v for k, v in payload.items() if k != "user"}
    payload |= {"bot_id": BOT, "subtype": "bot_message",
                "features": {**payload["features"], "is_reminder": False}}
    save(raw, "messages", key, scope, payload)
    return key


# --- defects the review found in the first version -----------------------------------------


def test_a_restored_copy_brings_back_an_older_version_of_a_message(org_store):
    """docs/build.md: a copy of the raw store restored over it keeps its identity and is safe.
    The copy holds a message at its older version, under a seq the last build saw with the
    newer one: the by-message build must touch it (its (key, seq) pair is not the state's).
    The first version compared the seq with the last build's highest and kept the newer
    version's event."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    shutil.copyfile(raw, folder / "backup.duckdb")
    key, scope, found = one_row(raw, "raw_slack_messages", PLAIN)
    save(raw, "messages", key, scope, {**found["payload"], "thread_ts": "1700000000.000100"})
    assert build(config).mode == "incremental"
    assert event_ids(target, key) == [f"slack:reply:{key}"]
    shutil.copyfile(folder / "backup.duckdb", raw)  # restored: the message is a message again
    save(raw, "messages", *new_message(raw, "later", "1767225700.000100"))  # collected into
    plan = build(config)
    assert plan.mode == "incremental", plan.reason
    assert event_ids(target, key) == [f"slack:message:{key}"]
    assert same_as_full(folder, config) == []


def test_a_restored_copy_brings_back_an_older_version_of_a_user(org_store):
    """As above, for a user: the restored row says is_bot false again, under an old seq."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    [(account,)] = sql(raw, "SELECT payload ->> 'user' FROM raw_slack_messages WHERE"
                            " payload ->> 'user' IN (SELECT natural_key FROM raw_slack_users"
                            " WHERE payload ->> 'is_bot' = 'false') GROUP BY 1"
                            " ORDER BY count(*), 1 LIMIT 1")
    assert build(config).mode == "full"
    shutil.copyfile(raw, folder / "backup.duckdb")
    _, scope, user = one_row(raw, "raw_slack_users", f"natural_key = '{account}'")
    save(raw, "users", account, scope, {**user["payload"], "is_bot": True})
    assert build(config).mode == "incremental"
    shutil.copyfile(folder / "backup.duckdb", raw)
    # collected into: another user saved (the users table does not go back)
    other, scope, later = one_row(raw, "raw_slack_users", f"natural_key <> '{account}'")
    save(raw, "users", other, scope, {**later["payload"], "tz_label": "Elsewhere"})
    plan = build(config)
    assert plan.mode == "incremental", plan.reason
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events WHERE actor_account = ?"
                           " AND (detail ->> 'is_bot')::BOOLEAN",
                           [f"slack:{account}"]).fetchone()[0] == 0
    assert same_as_full(folder, config) == []


def test_a_damaged_slack_refs_in_the_state_makes_a_full_build_not_an_error(org_store):
    """docs/build.md: a state whose rows fail to read makes the build full ("the build state
    cannot be read"), never an error blaming the raw store (the first version read
    prev.slack_refs together with the raw store, outside incremental._from_state)."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    key, scope, found = one_row(raw, "raw_slack_messages", PLAIN)
    save(raw, "messages", key, scope, {**found["payload"], "reply_count": 1})
    damage(incremental.refs_path(incremental.state_path(config)), "slack_refs")
    plan = build(config)
    assert plan.mode == "full" and plan.reason.startswith("the build state cannot be read")
    assert same_as_full(folder, config) == []


# --- cases that hold (kept: each covers a rule or path the by-message build relies on) ----


def test_a_message_quarantined_then_fixed_or_removed(org_store):
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    (k1, s1, p1), (k2, s2, p2) = (one_row(raw, "raw_slack_messages", f"{PLAIN} AND {w}")
                                  for w in ("true", "natural_key > (SELECT min(natural_key)"
                                            " FROM raw_slack_messages WHERE " + PLAIN + ")"))
    for key, scope, found in ((k1, s1, p1), (k2, s2, p2)):
        save(raw, "messages", key, scope, {**found["payload"], "ts": "soon"})
    plan = build(config)
    assert plan.mode == "incremental" and plan.delta == ("slack",)
    assert quarantined(target) == sorted([k1, k2]) and event_ids(target, k1) == []
    save(raw, "messages", k1, s1, {**p1["payload"], "ts": "1767225600.000200"})  # fixed
    sql(raw, "DELETE FROM raw_slack_messages WHERE natural_key = ?", [k2])  # gone
    plan = build(config)
    assert plan.mode == "incremental" and plan.delta == ("slack",)
    assert quarantined(target) == [] and event_ids(target, k1) == [f"slack:message:{k1}"]
    assert same_as_full(folder, config) == []


def test_a_message_becomes_a_reply_and_a_reply_a_message(org_store):
    """The event id changes with thread_ts (slack:message: <-> slack:reply:)."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    key, scope, found = one_row(raw, "raw_slack_messages", PLAIN)
    reply, rscope, rfound = one_row(raw, "raw_slack_messages",
                                    "payload ->> 'thread_ts' <> payload ->> 'ts'")
    save(raw, "messages", key, scope, {**found["payload"], "thread_ts": "1700000000.000100"})
    payload = dict(rfound["payload"])
    del payload["thread_ts"]
    save(raw, "messages", reply, rscope, payload)
    assert build(config).delta == ("slack",)
    assert event_ids(target, key) == [f"slack:reply:{key}"]
    assert event_ids(target, reply) == [f"slack:message:{reply}"]
    assert same_as_full(folder, config) == []


def test_a_message_unmarked_by_a_save_of_the_same_payload(org_store):
    """A save that sees a marked key again unmarks it without writing a row (no new seq)."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    key, scope, found = one_row(raw, "raw_slack_messages", PLAIN)
    with RawStore(raw) as store:
        assert store.mark_deleted("slack", "messages", scope,
                                  [k for k in found["scope_keys"] if k != key]) == 1
    build(config)
    assert event_ids(target, key) == []
    save(raw, "messages", key, scope, found["payload"])
    plan = build(config)
    assert plan.mode == "incremental" and plan.changed == {"slack": 0}
    assert plan.delta == ("slack",) and plan.touched == {"slack": 1}
    assert event_ids(target, key) == [f"slack:message:{key}"]
    assert same_as_full(folder, config) == []


def test_users_and_bots_tables_that_appear_later(org_store):
    """A raw store without raw_slack_users and raw_slack_bots (an export import has no bots):
    the build's empty stand-ins, then the tables saved (every row above seq -1)."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    add_bot(raw)
    tables = {t: sql(raw, f"SELECT natural_key, scope, payload::VARCHAR FROM {t} ORDER BY seq")
              for t in ("raw_slack_users", "raw_slack_bots")}
    sql(raw, "DROP TABLE raw_slack_users; DROP TABLE raw_slack_bots")
    build(config)
    key, scope, found = one_row(raw, "raw_slack_messages", PLAIN)
    save(raw, "messages", key, scope, {**found["payload"], "reply_count": 2})
    assert build(config).delta == ("slack",)
    with RawStore(raw) as store:
        for table, rows in tables.items():
            store.save("slack", table.removeprefix("raw_slack_"), [
                {"natural_key": k, "updated_at": None, "payload": orjson.loads(p)}
                for k, _, p in rows], scope=rows[0][1])
    plan = build(config)
    assert plan.mode == "incremental" and plan.delta == ("slack",), plan.reason
    assert same_as_full(folder, config) == []


def test_a_bot_renamed_to_a_configured_bot(org_store):
    """A message naming its bot by id only takes its name from raw_slack_bots; with the name in
    [people] bots it is a reminder."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    config.people.bots = ["Renamed Bot"]
    key = add_bot(raw)
    build(config)
    save(raw, "bots", BOT, "T0ACME0001", {"id": BOT, "name": "Renamed Bot", "deleted": False})
    assert build(config).delta == ("slack",)
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT subkind FROM events WHERE event_id = ?",
                           [f"slack:message:{key}"]).fetchone() == ("reminder",)
    assert same_as_full(folder, config) == []


def test_slack_kept_in_one_build_then_normalized_by_message(org_store):
    """The state written by a build that kept Slack (its slack_refs copied) serves the next."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    _, gscope, issues = one_row(raw, "raw_github_issues")
    with RawStore(raw) as store:
        store.mark_deleted("github", "issues", gscope, issues["scope_keys"][1:])
    assert "slack" in build(config).kept
    [(account,)] = sql(raw, "SELECT payload ->> 'user' FROM raw_slack_messages WHERE"
                            " payload ->> 'user' IN (SELECT natural_key FROM raw_slack_users"
                            " WHERE payload ->> 'is_bot' = 'false') GROUP BY 1"
                            " ORDER BY count(*), 1 LIMIT 1")
    _, uscope, user = one_row(raw, "raw_slack_users", f"natural_key = '{account}'")
    save(raw, "users", account, uscope, {**user["payload"], "is_bot": True})
    # a later user saved too, so the top row of the users table stays
    other, oscope, later = one_row(raw, "raw_slack_users", f"natural_key <> '{account}'")
    save(raw, "users", other, oscope, {**later["payload"], "tz_label": "Elsewhere"})
    assert build(config).delta == ("slack",)
    assert same_as_full(folder, config) == []


def import_export(folder: Path) -> None:
    """`processhealth import slack-export` of the same workspace (the simulated organization's
    export) into folder's raw store."""
    from collectors.slack_export import read_export, save_export
    from processhealth.config_models import SlackConfig
    from simulation import OrgSpec, generate_org
    from simulation.slack_export import write_export

    archive = write_export(generate_org(5, OrgSpec.small(months=1)), folder / "export.zip",
                           private=True)
    with RawStore(folder / "raw.duckdb") as store:
        assert save_export(read_export(archive, SlackConfig()), store) > 0


def test_a_slack_export_imported_over_a_collected_store(tmp_path, monkeypatch):
    """`processhealth import slack-export` of the same workspace over the store without its
    last month (keep_newer, one all-or-nothing transaction)."""
    from processhealth.simload import replay

    folder, config = make_org_store(tmp_path, monkeypatch, months=1)
    assert replay.split_last_month(folder / "raw.duckdb", folder / "held.duckdb") > 0
    build(config)
    import_export(folder)
    plan = build(config)
    assert plan.mode == "incremental" and plan.delta == ("slack",), plan.reason
    assert same_as_full(folder, config) == []
