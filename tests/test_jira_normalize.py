"""Jira normalization (collectors/sql/20_jira.sql) on raw rows from the simulation's fast loader:
work items, transitions with mapped statuses, events with their subkinds, identities, sprints,
field fill rate; Cloud and Data Center payloads alike."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from shared_cache import shared_org

from processhealth import pipeline
from processhealth.analytics_db import attach_refs, create_schema
from processhealth.config import Config, parse_config
from processhealth.config_models import DEFAULT_WAITING_PATTERNS
from processhealth.simload import jira as simload
from processhealth.store import RawStore
from simulation import OrgSpec

SQL = Path(__file__).resolve().parent.parent / "collectors" / "sql" / "20_jira.sql"


def normalize(raw: Path, config: Config | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory analytics database with the Jira normalization run on `raw`."""
    config = config or parse_config({}, origin="test", base_dir=raw.parent)
    RawStore(raw).close()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_schema(con)
    with RawStore(raw) as store:  # the tables a fresh install has, as pipeline.build ensures
        for entity in ("issues", "fields", "statuses", "boards", "sprints"):
            store.ensure_raw_table("jira", entity)
    con.execute("ATTACH ? AS raw (READ_ONLY)", [str(raw)])
    attach_refs(con, None)  # the refs normalization writes (search_path main,raw,refs)
    pipeline.config_variable(con, config)
    pipeline.sql_file_step(SQL.with_name("05_text_flags.sql"))(con, config)  # comment flags
    pipeline.sql_file_step(SQL)(con, config)
    con.execute("SET search_path = 'main'")
    con.execute("DETACH raw")  # as the build does: the raw file stays free for writers
    return con


@pytest.fixture(scope="module")
def org():
    return shared_org(7, OrgSpec.small())


@pytest.fixture(scope="module")
def cloud_raw(org, tmp_path_factory):
    raw = tmp_path_factory.mktemp("cloud") / "raw.duckdb"
    with RawStore(raw) as store:
        simload.load(org, store, "https://acme.atlassian.net")
    return raw


@pytest.fixture(scope="module")
def cloud(cloud_raw):
    return normalize(cloud_raw)


@pytest.fixture(scope="module")
def dc(org, tmp_path_factory):
    raw = tmp_path_factory.mktemp("dc") / "raw.duckdb"
    with RawStore(raw) as store:
        simload.load(org, store, "https://jira.acme.example", flavour="datacenter")
    return normalize(raw)


def one(con, sql, *params):
    return con.execute(sql, list(params)).fetchone()


def test_every_issue_becomes_a_work_item(cloud, org):
    assert one(cloud, "SELECT count(*) FROM work_items")[0] == len(org.jira.issues)
    issue = next(i for i in org.jira.issues if i.parent_key and i.labels)
    row = one(cloud, "SELECT item_id, kind, title, url, container, type, labels, status, "
                     "parent_key, author_account, created_at FROM work_items WHERE key = ?",
              issue.key)
    reporter = org.person(issue.reporter_pid).jira_account_id
    assert row[:9] == (f"jira:{issue.key}", "jira_issue", issue.summary,
                       f"https://acme.atlassian.net/browse/{issue.key}", issue.project,
                       issue.issue_type, sorted(issue.labels), issue.status, issue.parent_key)
    assert row[9] == f"jira:{reporter}" and row[10] == issue.created


def test_transitions_follow_the_changelog_with_mapped_statuses(cloud, org):
    moves = sum(1 for i in org.jira.issues for h in i.histories for it in h.items
                if it.field == "status")
    assert one(cloud, "SELECT count(*) FROM transitions")[0] == moves
    mapped = dict(cloud.execute("SELECT name, status_category FROM jira_statuses").fetchall())
    waiting = DEFAULT_WAITING_PATTERNS

    def expected(status):
        if status.category != "indeterminate":
            return {"new": "todo", "done": "done"}[status.category]
        return "waiting" if any(p in status.name.lower() for p in waiting) else "active"

    assert mapped == {s.name: expected(s) for s in org.jira.statuses}
    assert (mapped["Blocked"], mapped["In Review"], mapped["Ready for Estimation"]) == (
        "waiting", "active", "todo")  # a "new" status stays todo whatever its name says
    assert one(cloud, "SELECT count(*) FROM transitions WHERE to_status_category IS NULL "
                      "OR actor_account NOT LIKE 'jira:%'")[0] == 0


def test_events_have_kinds_subkinds_and_stable_unique_ids(cloud, org):
    counts = dict(cloud.execute(
        "SELECT kind || '/' || coalesce(subkind, '-'), count(*) FROM events GROUP BY 1"
    ).fetchall())
    issues = org.jira.issues
    items = [it for i in issues for h in i.histories for it in h.items]
    resolutions = sum(1 for i in issues for h in i.histories
                      if {"status", "resolution"} <= {it.field for it in h.items})
    assert counts == {
        "jira_created/-": len(issues),
        "jira_transition/status_change": sum(it.field == "status" for it in items),
        "jira_field_edit/metadata_edit": sum(it.field != "status" for it in items) - resolutions,
        "jira_comment/-": sum(len(i.comments) for i in issues),
        "jira_worklog/timesheet": sum(len(i.worklogs) for i in issues),
    }
    history = next(h for i in issues for h in i.histories if h.items[0].field == "status")
    assert one(cloud, "SELECT kind FROM events WHERE event_id = ?",
               f"jira:changelog:{history.id}:1")[0] == "jira_transition"
    edit = one(cloud, "SELECT detail FROM events WHERE kind = 'jira_field_edit' "
                      "AND detail ->> 'field' = 'Story Points' LIMIT 1")[0]
    assert '"field_id":"customfield_10016"' in edit and '"logical_name":"story_points"' in edit


def test_identities_are_every_account_once(cloud, org):
    ids = {r[0] for r in cloud.execute(
        "SELECT source_user_id FROM identities WHERE source = 'jira'").fetchall()}
    actors = {org.person(h.author_pid).jira_account_id for i in org.jira.issues
              for h in i.histories} | {org.person(i.reporter_pid).jira_account_id
                                       for i in org.jira.issues}
    assert actors <= ids
    assert one(cloud, "SELECT count(*) FROM identities WHERE person_id IS NOT NULL")[0] == 0


def test_work_item_fields_and_fill_rate(cloud, org):
    with_points = sum("customfield_10016" in i.custom for i in org.jira.issues)
    fill = dict(cloud.execute(
        "SELECT field_name, sum(has_value::INT) FROM item_fields GROUP BY 1").fetchall())
    assert fill["Story Points"] == with_points and fill["Team"] == 0
    assert one(cloud, "SELECT count(DISTINCT item_id) FROM item_fields")[0] == len(
        org.jira.issues)
    issue = next(i for i in org.jira.issues if "customfield_10016" in i.custom)
    fields = one(cloud, "SELECT fields FROM work_items WHERE key = ?", issue.key)[0]
    assert f'"story_points":{float(issue.custom["customfield_10016"])}' in fields


def test_data_center_payloads_normalize_alike(cloud, dc):
    query = "SELECT kind, count(*) FROM events GROUP BY 1 ORDER BY 1"
    assert cloud.execute(query).fetchall() == dc.execute(query).fetchall()
    query = ("SELECT key, parent_key, status_category, fields ->> 'sprint' FROM work_items "
             "ORDER BY 1")
    assert cloud.execute(query).fetchall() == dc.execute(query).fetchall()
    assert one(dc, "SELECT count(*) FROM jira_sprints")[0] > 0


def test_status_map_and_waiting_patterns_come_from_config(cloud_raw, tmp_path):
    config = parse_config({"jira": {"status_map": {"in review": "waiting"},
                                    "waiting_patterns": ["qa"]}},
                          origin="test", base_dir=tmp_path)
    con = normalize(cloud_raw, config)
    mapped = dict(con.execute("SELECT name, status_category || ' ' || mapped_by "
                              "FROM jira_statuses").fetchall())
    assert mapped["In Review"] == "waiting status_map"
    assert mapped["Waiting for QA"] == "waiting waiting_pattern"
    assert mapped["Blocked"] == "active jira_category"
    assert mapped["Ready for Estimation"] == "todo jira_category"


def test_resolution_is_kept(cloud, org):
    # the emulator resolves every finished issue as "Done" and leaves open ones without one
    got = dict(cloud.execute("SELECT key, resolution FROM work_items").fetchall())
    assert got == {i.key: ("Done" if i.resolution_date else None) for i in org.jira.issues}


def test_typed_columns_repeat_detail(cloud):
    """events' typed columns (history_id, shadow_tool, ...) hold what detail holds."""
    from analysis import TYPED_DETAIL

    for column, expr in TYPED_DETAIL.items():
        assert one(cloud, f"SELECT count(*) FROM events WHERE {column} IS DISTINCT FROM"
                          f" ({expr})") == (0,), column
    # every changelog event names its history, the act the effort model credits once
    assert one(cloud, "SELECT count(*) FILTER (WHERE history_id IS NULL), count(*) FROM events"
                      " WHERE kind IN ('jira_transition', 'jira_field_edit')")[0] == 0
