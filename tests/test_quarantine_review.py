"""Review of the quarantine check of an incremental build (processhealth/quarantine.py `build`
with `read`, incremental.quarantine_step): a Slack message is checked unless the last build read
its very (key, seq) pair as readable (the state's slack_refs). After each sequence of raw-store
changes an incremental build must equal a `build --full` of the same store, and leave the same
slack_refs in its build state (the next build's check trusts them)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from test_incremental import build, compare, make_org_store, one_row, quarantined
from test_slack_delta_review import PLAIN, event_ids, import_export, new_message, save, sql

from processhealth import incremental
from processhealth.store import RawStore

pytestmark = [pytest.mark.slow, pytest.mark.extended]


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch, months=1)


def refs(state: Path) -> Counter:
    with duckdb.connect(str(state), read_only=True) as con:
        return Counter(con.execute("SELECT natural_key, seq FROM slack_refs").fetchall())


def same_as_full(folder: Path, config) -> list[str]:
    """The tables and views that differ from a --full build of the same raw store, and whether
    the two build states hold different slack_refs."""
    full = config.model_copy(deep=True)
    full.storage.analytics_path = folder / "full.duckdb"
    build(full, full=True)
    out = compare(Path(config.storage.analytics_path), folder / "full.duckdb")
    got, want = (refs(incremental.refs_path(incremental.state_path(c))) for c in (config, full))
    if got != want:
        out.append(f"state slack_refs: {sorted((got - want).elements())[:3]} only incremental,"
                   f" {sorted((want - got).elements())[:3]} only full")
    return out


def unreadable(raw: Path, name: str) -> tuple[str, str, dict]:
    """A new message whose ts is not a Slack timestamp (the quarantine sets it aside)."""
    key, scope, payload = new_message(raw, name, "1767225600.000100")
    return key, scope, {**payload, "ts": "soon"}


def test_an_unreadable_message_marked_deleted_then_unmarked_then_fixed(org_store):
    """Both unreadable and marked deleted: set aside (as a full build does), in each build."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    key, scope, bad = unreadable(raw, "bad-deleted")
    save(raw, "messages", key, scope, bad)
    [(others,)] = sql(raw, "SELECT list(natural_key) FROM raw_slack_messages"
                           " WHERE scope = ? AND natural_key <> ?", [scope, key])
    with RawStore(raw) as store:
        assert store.mark_deleted("slack", "messages", scope, others) == 1
    plan = build(config)
    assert plan.mode == "incremental" and plan.delta == ("slack",), plan.reason
    assert quarantined(target) == [key]
    assert same_as_full(folder, config) == []
    save(raw, "messages", key, scope, bad)  # seen again: unmarked, no new seq
    plan = build(config)
    assert plan.delta == ("slack",) and plan.changed == {"slack": 0}
    assert quarantined(target) == [key] and event_ids(target, key) == []
    save(raw, "messages", key, scope, {**bad, "ts": "1767225600.000200"})  # fixed
    assert build(config).delta == ("slack",)
    assert quarantined(target) == [] and event_ids(target, key) == [f"slack:message:{key}"]
    assert same_as_full(folder, config) == []


def test_a_quarantined_message_through_a_build_that_keeps_slack(org_store):
    """The state of a build that kept Slack (its slack_refs and quarantined rows copied) serves
    the next by-message build: the unreadable message is checked again, still set aside."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    key, scope, bad = unreadable(raw, "bad-kept")
    save(raw, "messages", key, scope, bad)
    assert build(config).mode == "full" and quarantined(target) == [key]
    _, gscope, issues = one_row(raw, "raw_github_issues")
    with RawStore(raw) as store:
        store.mark_deleted("github", "issues", gscope, issues["scope_keys"][1:])
    plan = build(config)
    assert plan.mode == "incremental" and "slack" in plan.kept
    assert quarantined(target) == [key]
    save(raw, "messages", *new_message(raw, "later", "1767225700.000100"))
    plan = build(config)
    assert plan.delta == ("slack",), plan.reason
    assert quarantined(target) == [key]
    assert same_as_full(folder, config) == []


def test_a_quarantined_message_removed_then_brought_back_by_a_restored_copy(org_store):
    """Set aside, its raw row deleted (nothing set aside), then a copy restored brings the row
    back under its old seq (the table collected into after, so it does not go back): no
    build read that pair as readable, so it is checked and set aside again."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    key, scope, bad = unreadable(raw, "bad-back")
    save(raw, "messages", key, scope, bad)
    save(raw, "messages", *new_message(raw, "after", "1767225650.000100"))  # the top seq
    assert build(config).mode == "incremental" and quarantined(target) == [key]
    shutil.copyfile(raw, folder / "backup.duckdb")
    sql(raw, "DELETE FROM raw_slack_messages WHERE natural_key = ?", [key])
    assert build(config).delta == ("slack",) and quarantined(target) == []
    shutil.copyfile(folder / "backup.duckdb", raw)  # restored
    save(raw, "messages", *new_message(raw, "later", "1767225700.000100"))  # collected into
    plan = build(config)
    assert plan.mode == "incremental" and plan.delta == ("slack",), plan.reason
    assert quarantined(target) == [key] and event_ids(target, key) == []
    assert same_as_full(folder, config) == []


def test_messages_without_a_seq_are_checked_in_every_build(org_store):
    """Rows written by other means, without a seq: their pair (key, NULL) matches nothing, so
    each by-message build checks them again (the unreadable one is set aside each time)."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    build(config)
    key, scope, _ = one_row(raw, "raw_slack_messages", PLAIN)
    for name, patch in (("noseq-bad", '{"ts": "soon"}'), ("noseq-good", '{"reply_count": 1}')):
        sql(raw, "INSERT INTO raw_slack_messages SELECT * REPLACE (natural_key || ? AS"
                 " natural_key, json_merge_patch(payload, ?)::JSON AS payload, NULL AS seq)"
                 " FROM raw_slack_messages WHERE natural_key = ?", [f"-{name}", patch, key])
    for _ in range(2):
        plan = build(config)
        assert plan.mode == "incremental" and plan.delta == ("slack",), plan.reason
        assert quarantined(target) == [f"{key}-noseq-bad"]
        assert event_ids(target, f"{key}-noseq-good") == [f"slack:message:{key}-noseq-good"]
    assert same_as_full(folder, config) == []


def test_a_slack_export_imported_over_a_store_with_a_quarantined_message(tmp_path, monkeypatch):
    """An export import (keep_newer, one transaction) rewrites many messages under new seqs;
    the message set aside before stays set aside, the others are read."""
    from processhealth.simload import replay

    folder, config = make_org_store(tmp_path, monkeypatch, months=1)
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert replay.split_last_month(raw, folder / "held.duckdb") > 0
    key, scope, bad = unreadable(raw, "bad-export")
    save(raw, "messages", key, scope, bad)
    build(config)
    assert quarantined(target) == [key]
    import_export(folder)
    plan = build(config)
    assert plan.mode == "incremental" and plan.delta == ("slack",), plan.reason
    assert quarantined(target) == [key]
    assert same_as_full(folder, config) == []
