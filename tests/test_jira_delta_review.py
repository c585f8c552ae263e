"""Review of the Jira by-issue incremental build (processhealth/jira_delta.py): after each kind
of raw-store change, an incremental build must equal a `build --full` of the same store (every
table and view, and the build state's jira_refs), and the state it writes must keep the next
build exact. tests/test_jira_delta.py covers the design's own cases; each test here guards a
rule none of those would miss if it were broken (named in its docstring, and checked: the test
fails with the rule taken out).

Issues are saved as the collector saves them (`updated_at` from `fields.updated`,
collectors/jira_rows.issue_row): a moved copy saved with `updated_at` NULL, as
tests/test_jira_delta.py does, loses the move to the old key (NULLS LAST), so there the old
copy stays the issue."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import duckdb
import orjson
import pytest
from test_incremental import build, compare, make_org_store, one_row
from test_incremental_recovery import damage

from collectors import jira_rows
from processhealth import incremental
from processhealth.store import RawStore

# The extended tier (CI runs it after the suite).
pytestmark = [pytest.mark.slow, pytest.mark.extended]

WITH_HISTORY = ("json_array_length(payload -> '$.changelog.histories') > 2"
                " AND json_array_length(payload -> '$.fields.comment.comments') > 0")


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch, months=1)


def _sql(db: Path, statement: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db)) as con:
        return con.execute(statement, params or []).fetchall()


def _issue(raw: Path, where: str = "true") -> tuple[str, str, dict]:
    key, scope, found = one_row(raw, "raw_jira_issues", where)
    return key, scope, found["payload"]


def _put(raw: Path, payload: dict, updated: str | None = None) -> None:
    """Save an issue as the collector does (its project is its scope)."""
    if updated is not None:
        payload["fields"]["updated"] = updated
    with RawStore(raw) as store:
        store.save("jira", "issues", [jira_rows.issue_row(payload)],
                   scope=jira_rows.project_of(payload))


def _moved(payload: dict, key: str, updated: str) -> dict:
    """The issue moved to another project: a new key, the same id."""
    issue = copy.deepcopy(payload)
    issue["key"], issue["fields"]["project"] = key, {"key": key.rsplit("-", 1)[0]}
    issue["fields"]["updated"] = updated
    return issue


def _other_scope(raw: Path, scope: str) -> str:
    return _sql(raw, "SELECT min(scope) FROM raw_jira_issues WHERE scope <> ?", [scope])[0][0]


def _refs(config) -> list[tuple]:
    return _sql(incremental.refs_path(incremental.state_path(config)),
                "SELECT natural_key, seq, issue_id, list_sort(statuses), list_sort(carried),"
                " list_sort(users) FROM jira_refs ORDER BY ALL")


def _same_as_full(folder: Path, config) -> None:
    full = config.model_copy(deep=True)
    full.storage.analytics_path = folder / "full.duckdb"
    assert build(full, full=True).mode == "full"
    assert compare(Path(config.storage.analytics_path), folder / "full.duckdb") == []
    assert _refs(config) == _refs(full)


def _by_issue(config) -> incremental.Plan:
    plan = build(config)
    assert plan.mode == "incremental" and "jira" in plan.delta, plan.summary()
    return plan


def _slack_changed(raw: Path, length: int) -> None:
    key, scope, found = one_row(raw, "raw_slack_messages", "payload ->> 'features' IS NOT NULL")
    found["payload"]["features"] |= {"length": length}
    with RawStore(raw) as store:
        store.save("slack", "messages", [{"natural_key": key, "updated_at": None,
                                          "payload": found["payload"]}], scope=scope)


def test_a_raw_store_restored_from_a_copy_brings_back_the_issue_a_move_replaced(org_store):
    """After the copy was made, issue A moved (its new copy B, newer, is the issue) and issue K
    changed; the copy restored (B gone, K's older version back under a seq the build read
    before), then collected into. A must be the issue again and K its older version. Guards:
    the rows the last build read that are gone (`jira_refs` EXCEPT the raw pairs; it also finds
    K, whose pair the last build read is gone); the ids of the changed keys as the last build
    read them (B's id is in no raw row now: A is found by it alone)."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    shutil.copyfile(raw, folder / "backup.duckdb")
    a, scope, issue = _issue(raw, WITH_HISTORY)
    moved = f"{_other_scope(raw, scope)}-9001"
    _put(raw, _moved(issue, moved, "2030-01-01T00:00:00.000+0000"))
    k, _, changed = _issue(raw, f"natural_key > '{a}'")
    changed["fields"]["summary"] = "changed after the copy"
    _put(raw, changed, "2030-01-01T00:00:00.000+0000")
    _by_issue(config)
    assert _sql(Path(config.storage.analytics_path), "SELECT key FROM work_items"
                " WHERE item_id IN (?, ?)", [f"jira:{a}", f"jira:{moved}"]) == [(moved,)]

    shutil.copyfile(folder / "backup.duckdb", raw)  # restored
    later, _, other = _issue(raw, f"natural_key > '{k}'")
    other["fields"]["summary"] = "collected after the restore"
    _put(raw, other, "2030-01-02T00:00:00.000+0000")  # the table does not go back
    plan = _by_issue(config)
    assert _sql(Path(config.storage.analytics_path), "SELECT key FROM work_items"
                " WHERE item_id IN (?, ?)", [f"jira:{a}", f"jira:{moved}"]) == [(a,)]
    _same_as_full(folder, config)
    assert plan.touched == {"jira": 4}  # B gone, A by B's id, K's older version, the later one


def test_a_row_without_seq_edited_in_place_is_normalized_again(org_store):
    """A row written by another tool or by hand has no seq: its (key, NULL) pair is the same
    before and after an edit in place, so only the rule "no seq: touched" finds it. Here a
    moved copy (newer than its old key, so the issue) written so, then edited."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    key, scope, issue = _issue(raw, WITH_HISTORY)
    moved = f"{_other_scope(raw, scope)}-9002"
    copied = _moved(issue, moved, "2030-01-01T00:00:00.000+0000")
    with duckdb.connect(str(raw)) as con:
        con.execute("INSERT INTO raw_jira_issues(natural_key, scope, updated_at, payload)"
                    " VALUES (?, ?, '2030-01-01 00:00:00+00', ?)",
                    [moved, moved.rsplit("-", 1)[0], orjson.dumps(copied).decode()])
    _by_issue(config)
    _same_as_full(folder, config)

    copied["fields"]["summary"] = "edited in place"
    with duckdb.connect(str(raw)) as con:
        con.execute("UPDATE raw_jira_issues SET payload = ? WHERE natural_key = ?",
                    [orjson.dumps(copied).decode(), moved])
    _by_issue(config)
    assert _sql(Path(config.storage.analytics_path), "SELECT title FROM work_items"
                " WHERE item_id = ?", [f"jira:{moved}"]) == [("edited in place",)]
    _same_as_full(folder, config)


def test_the_echo_rules_and_comment_results_read_kept_and_touched_issues(org_store):
    """The echo rules read across issues (a link's two sides, one actor's bulk change); the
    build state keeps the events before them and every build runs them over every Jira event.
    Then only one side of the link changes (the other side is now the first written) and only
    one issue of the bulk change (nine left in the minute: no bulk change): the kept issues'
    events must lose their echo marks. Also an issue whose comment carries a result
    (work_items.has_result, read from this build's comment events), then kept."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    keys = [r[0] for r in _sql(raw, f"SELECT natural_key FROM raw_jira_issues"
                                    f" WHERE {WITH_HISTORY} ORDER BY natural_key LIMIT 13")]
    issues = {k: _issue(raw, f"natural_key = '{k}'")[2] for k in keys}
    actor = issues[keys[0]]["changelog"]["histories"][0]["author"]

    def history(key: str, history_id: int, at: str, items: list[dict]) -> None:
        issues[key]["changelog"]["histories"].append(
            {"author": actor, "created": at, "id": str(history_id), "items": items})

    def link(other: str) -> list[dict]:
        return [{"field": "Link", "fieldtype": "jira", "from": None, "fromString": None,
                 "to": other, "toString": f"This issue relates to {other}"}]

    p, q, result, *bulk = keys
    history(p, 880001, "2026-03-05T10:00:00.000+0000", link(q))
    history(q, 880002, "2026-03-05T10:00:10.000+0000", link(p))
    for n, key in enumerate(bulk[:10]):
        history(key, 770000 + n, f"2026-03-06T11:00:{n * 5:02d}.000+0000",
                [{"field": "labels", "fieldtype": "jira", "from": None, "fromString": "",
                  "to": None, "toString": "bulk"}])
    issues[result]["fields"]["comment"]["comments"][0]["bodyFlags"]["has_result"] = True
    for key in keys:
        _put(raw, issues[key], "2030-01-01T00:00:00.000+0000")
    _by_issue(config)
    target = Path(config.storage.analytics_path)
    assert _sql(target, "SELECT detail ->> 'echo', count(*) FROM events WHERE source = 'jira'"
                        " AND weight = 0 GROUP BY ALL ORDER BY ALL") == [
        ("bulk_change", 9), ("link_other_side", 1)]
    assert _sql(target, "SELECT has_result FROM work_items WHERE item_id = ?",
                [f"jira:{result}"]) == [(True,)]
    _same_as_full(folder, config)

    issues[p]["changelog"]["histories"][-1]["id"] = "880003"  # now written after q's side
    issues[bulk[3]]["changelog"]["histories"][-1]["created"] = "2026-03-06T11:05:00.000+0000"
    for key in (p, bulk[3]):
        _put(raw, issues[key], "2030-01-02T00:00:00.000+0000")
    assert _by_issue(config).touched == {"jira": 2}
    assert _sql(target, "SELECT item_id FROM events WHERE source = 'jira' AND weight = 0") \
        == [(f"jira:{p}",)]
    _same_as_full(folder, config)


def test_a_damaged_jira_refs_makes_the_build_full_and_a_kept_jira_keeps_its_refs(org_store):
    """A build that keeps Jira writes the last build's jira_refs into its state: the next
    by-issue build then normalizes one changed issue, not every issue (each one's pair missing
    from an empty jira_refs). A damaged block in jira_refs, read to keep Jira or to find the
    issues touched, makes the build full and says why (incremental._from_state), not an
    error."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    _slack_changed(raw, 1001)
    assert "jira" in build(config).kept
    key, _, issue = _issue(raw)
    issue["fields"]["summary"] = "changed"
    _put(raw, issue, "2030-01-01T00:00:00.000+0000")
    assert _by_issue(config).touched == {"jira": 1}

    state = incremental.refs_path(incremental.state_path(config))
    issue["fields"]["summary"] = "changed again"
    _put(raw, issue, "2030-01-02T00:00:00.000+0000")
    damage(state, "jira_refs")
    plan = build(config)
    assert plan.mode == "full" and plan.reason.startswith("the build state cannot be read")
    _slack_changed(raw, 1002)  # Jira kept
    damage(state, "jira_refs")
    plan = build(config)
    assert plan.mode == "full" and plan.reason.startswith("the build state cannot be read")
    _same_as_full(folder, config)


def test_a_renamed_field_makes_jira_normalized_from_every_issue(org_store):
    """The site's field list names every issue's item_fields rows and work_items.fields keys:
    a change to raw_jira_fields alone makes Jira normalized from all its rows, not by issue
    (the rule in incremental.decide)."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    key, scope, field = one_row(raw, "raw_jira_fields", "payload ->> 'name' = 'Progress'")
    field["payload"]["name"] = "Progress made"
    with RawStore(raw) as store:
        store.save("jira", "fields", [{"natural_key": key, "updated_at": None,
                                       "payload": field["payload"]}], scope=scope)
    plan = build(config)
    assert _sql(Path(config.storage.analytics_path), "SELECT DISTINCT field_name"
                " FROM item_fields WHERE field_id = ?", [key]) == [("Progress made",)]
    _same_as_full(folder, config)
    assert plan.mode == "incremental" and plan.delta == () and "jira" in plan.changed


def test_an_unreadable_moved_copy_stays_set_aside_while_other_issues_change(org_store):
    """The newer copy of a moved issue cannot be read: it is set aside and the old copy stays
    the issue. In the next by-issue build neither is touched: the quarantine record comes from
    the build state (jira_delta.restore), with the kept issues' rows."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    key, scope, issue = _issue(raw, WITH_HISTORY)
    moved = _moved(issue, f"{_other_scope(raw, scope)}-9003", "2030-01-01T00:00:00.000+0000")
    moved["fields"]["created"] = "soon"
    _put(raw, moved)
    _by_issue(config)
    _same_as_full(folder, config)

    other, _, changed = _issue(raw, f"natural_key > '{key}' AND scope = '{scope}'")
    changed["fields"]["summary"] = "changed"
    _put(raw, changed, "2030-01-02T00:00:00.000+0000")
    assert _by_issue(config).touched == {"jira": 1}
    target = Path(config.storage.analytics_path)
    assert _sql(target, "SELECT item FROM source_coverage WHERE status = 'quarantined'") \
        == [(moved["key"],)]
    assert _sql(target, "SELECT count(*) FROM work_items WHERE item_id = ?",
                [f"jira:{key}"]) == [(1,)]
    _same_as_full(folder, config)


def test_a_status_no_issue_names_any_more_does_not_renormalize_every_issue(org_store):
    """The only issue in a status outside the site's status list is deleted upstream: the status
    is gone from jira_statuses, and no kept issue names it (each status a kept issue names is in
    jira_refs, so in the status list of this build). Its kept rows cannot be stale: Jira stays
    by issue. (jira_delta.consistent compared every status of the last build with a LEFT JOIN,
    and a status gone counted as one "now in another category": Jira normalized twice, by
    issue then from every issue.)"""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    build(config)
    key, scope, issue = _issue(raw)
    issue["fields"]["status"] = {"id": "19999", "name": "Parked",
                                 "statusCategory": {"key": "indeterminate"}}
    _put(raw, issue, "2030-01-01T00:00:00.000+0000")
    assert not _by_issue(config).widened
    keys = [r[0] for r in _sql(raw, "SELECT natural_key FROM raw_jira_issues WHERE scope = ?",
                               [scope])]
    with RawStore(raw) as store:
        assert store.mark_deleted("jira", "issues", scope, [k for k in keys if k != key]) == 1
    plan = _by_issue(config)
    assert _sql(Path(config.storage.analytics_path),
                "SELECT count(*) FROM jira_statuses WHERE name = 'Parked'") == [(0,)]
    _same_as_full(folder, config)
    assert (plan.touched, plan.widened) == ({"jira": 1}, {})
