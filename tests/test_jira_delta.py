"""An incremental build normalizes Jira again only for the issues touched since the last build
(processhealth/jira_delta.py) and gives what a full build gives: new and changed issues, an
issue moved to another project (a new key under the same id), issues marked deleted and
unmarked, an unreadable issue set aside and then fixed, a status seen for the first time, a
user whose name changed in one issue; and, where kept issues' rows would be stale (a status
now in another category, a field carried for the first time), Jira is normalized again from
every issue and the build says why.

In the extended tier (CI runs it after the suite): the suite's
tests/test_incremental.py::test_incremental_builds_equal_a_full_build builds Jira by issue
(a month appended, a moved issue) and compares it with a full build."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from test_incremental import build, compare, make_org_store, one_row

from collectors import jira_rows
from processhealth import incremental
from processhealth.simload import replay
from processhealth.store import RawStore


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch)


def _sql(db: Path, statement: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db)) as con:
        return con.execute(statement, params or []).fetchall()


def _save(raw: Path, entity: str, key: str, payload: dict, scope: str) -> None:
    """Save a row as the collector does: an issue by jira_rows.issue_row (its `updated` is the
    row's updated_at, which decides which copy of a moved issue is the issue)."""
    row = (jira_rows.issue_row(payload) if entity == "issues"
           else {"natural_key": key, "payload": payload, "updated_at": None})
    assert row["natural_key"] == key
    with RawStore(raw) as store:
        assert store.save("jira", entity, [row], scope=scope) == 1


def _refs(config) -> list[tuple]:
    """The build state's jira_refs, lists sorted (their order is the aggregate's)."""
    return _sql(incremental.refs_path(incremental.state_path(config)),
                "SELECT natural_key, seq, issue_id, list_sort(statuses), list_sort(carried),"
                " list_sort(users) FROM jira_refs ORDER BY ALL")


def _same_as_full(folder: Path, config, target: Path) -> None:
    """The analytics database and the build state's Jira part equal those of a full build of
    the same raw store."""
    full_config = config.model_copy(deep=True)
    full_config.storage.analytics_path = folder / "full.duckdb"
    assert build(full_config, full=True).mode == "full"
    assert compare(target, folder / "full.duckdb") == []
    assert _refs(config) == _refs(full_config)


def _issue_count(raw: Path) -> int:
    return _sql(raw, "SELECT count(*) FROM raw_jira_issues")[0][0]


@pytest.mark.slow  # seven builds
@pytest.mark.extended  # 12-14 s; CI runs it after the suite
def test_jira_is_normalized_again_only_for_the_issues_touched(org_store):
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert replay.split_last_month(raw, folder / "held.duckdb") > 0
    assert build(config).mode == "full"
    [(top,)] = _sql(raw, "SELECT max(seq) FROM raw_jira_issues")

    # a month of new rows; an older issue moved to another project (a new key, the same id;
    # the old key not marked yet); one now in a status no issue had; one whose assignee's name
    # changed (the identity is the greatest name over every issue); one that cannot be read;
    # one a full collection no longer found upstream
    assert replay.append(raw, folder / "held.duckdb") > 0
    old = f"seq <= {top}"
    key, scope, found = one_row(raw, "raw_jira_issues", old)
    other = _sql(raw, "SELECT min(scope) FROM raw_jira_issues WHERE scope <> ?", [scope])[0][0]
    moved = f"{other}-9{key.rsplit('-', 1)[1]}"
    issue = found["payload"]
    issue["key"], issue["fields"]["project"] = moved, {"key": other}
    issue["fields"]["updated"] = "2030-01-01T00:00:00.000+0000"
    _save(raw, "issues", moved, issue, other)
    parked, parked_scope, found = one_row(raw, "raw_jira_issues",
                                          f"{old} AND natural_key > '{key}'")
    found["payload"]["fields"]["status"] = {"id": "19999", "name": "Parked",
                                            "statusCategory": {"key": "indeterminate"}}
    _save(raw, "issues", parked, found["payload"], parked_scope)
    renamed, renamed_scope, found = one_row(
        raw, "raw_jira_issues", f"{old} AND natural_key > '{parked}'"
        " AND (payload -> '$.fields.assignee.accountId') IS NOT NULL")
    assignee = found["payload"]["fields"]["assignee"]
    assignee["displayName"] = "zz " + str(assignee.get("displayName"))
    _save(raw, "issues", renamed, found["payload"], renamed_scope)
    bad, bad_scope, found = one_row(raw, "raw_jira_issues", f"{old} AND natural_key > '{renamed}'")
    good_payload = found["payload"]
    _save(raw, "issues", bad, {**good_payload, "fields": {**good_payload["fields"],
                                                          "created": "soon"}}, bad_scope)
    gone, gone_scope, found = one_row(raw, "raw_jira_issues", f"{old} AND natural_key > '{bad}'")
    with RawStore(raw) as store:
        assert store.mark_deleted("jira", "issues", gone_scope,
                                  [k for k in found["scope_keys"] if k != gone]) == 1
    plan = build(config)
    assert plan.mode == "incremental" and "jira" in plan.delta and not plan.widened
    new = _sql(raw, "SELECT count(*) FROM raw_jira_issues WHERE seq > ?", [top])[0][0]
    assert new + 2 <= plan.touched["jira"] < _issue_count(raw)  # the new rows, moved's old key
    assert f"jira only for the {plan.touched['jira']:,} issues touched" in plan.summary()
    # the moved copy, newer, is the issue; the old key is not
    assert _sql(target, "SELECT item_id FROM work_items WHERE item_id IN (?, ?, ?)",
                [f"jira:{key}", f"jira:{moved}", f"jira:{gone}"]) == [(f"jira:{moved}",)]
    assert _sql(target, "SELECT status_category FROM jira_statuses WHERE name = 'Parked'") \
        == [("active",)]
    assert _sql(target, "SELECT item FROM source_coverage WHERE status = 'quarantined'"
                        " AND source = 'jira'") == [(bad,)]
    _same_as_full(folder, config, target)

    # the issue found again (unmarked), the unreadable one fixed: only those two and the keys
    # they share an id with
    with RawStore(raw) as store:
        assert store.mark_deleted("jira", "issues", gone_scope, found["scope_keys"]) == 0
    _save(raw, "issues", bad, good_payload, bad_scope)
    plan = build(config)
    assert (plan.mode, plan.delta, plan.kept) == ("incremental", ("jira",), ("github", "slack"))
    assert plan.touched == {"jira": 2} and not plan.widened
    assert _sql(target, "SELECT count(*) FROM source_coverage WHERE status = 'quarantined'"
                        " AND source = 'jira'") == [(0,)]
    _same_as_full(folder, config, target)


@pytest.mark.slow  # six builds
@pytest.mark.extended  # 12 s; CI runs it after the suite
def test_jira_is_normalized_from_every_issue_when_kept_rows_would_be_stale(org_store):
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert build(config).mode == "full"

    # "In Progress" is now a done status on the site: every issue that was or is in it has
    # another status category, kept ones too
    key, scope, status = one_row(raw, "raw_jira_statuses", "payload ->> 'name' = 'In Progress'")
    status["payload"]["statusCategory"] = {"key": "done", "name": "Done"}
    _save(raw, "statuses", key, status["payload"], scope)
    touched, touched_scope, found = one_row(raw, "raw_jira_issues")
    found["payload"]["fields"]["summary"] = "changed"
    _save(raw, "issues", touched, found["payload"], touched_scope)
    plan = build(config)
    assert plan.mode == "incremental" and plan.delta == ("jira",)
    assert plan.widened == {"jira": "a Jira status is now in another category"}
    assert "jira for every issue: a Jira status is now in another category" in plan.summary()
    _same_as_full(folder, config, target)

    # a field no issue carried before (the description): every issue gets an item_fields row
    # for it, kept ones too
    assert _sql(target, "SELECT count(*) FROM item_fields WHERE field_id = 'description'") \
        == [(0,)]
    found["payload"]["fields"]["description"] = "Why this matters."
    _save(raw, "issues", touched, found["payload"], touched_scope)
    plan = build(config)
    assert plan.widened == {"jira": "the Jira fields that issues carry changed"}
    assert _sql(target, "SELECT count(*) FROM item_fields WHERE field_id = 'description'") \
        == [(_issue_count(raw),)]
    _same_as_full(folder, config, target)
