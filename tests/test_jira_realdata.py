"""Parsing checked against real Jira payloads (jira-perceval, recorded by
chaoss/grimoirelab-perceval from real Server and Cloud sites): the row code, the import and the
normalization read them, and the emulator's shapes carry every key the real ones do. GPL-3.0, so
read from ../shared/realdata and skipped without it (tests/realdata.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from realdata import needs, realdata
from shared_cache import shared_org
from test_jira_normalize import normalize

from collectors import jira_rows as rows
from collectors.jira_import import read_search_file, save_search_files
from processhealth.store import RawStore
from simulation import OrgSpec
from simulation import jira_api as japi

REAL = realdata("jira-perceval/tests/data/jira")
pytestmark = needs(REAL)


def real(name: str):
    return json.loads((REAL / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    raw = tmp_path_factory.mktemp("real") / "raw.duckdb"
    files = [read_search_file(REAL / f"jira_issues_page_{n}.json") for n in (1, 2)]
    with RawStore(raw) as store:
        store.save("jira", "fields", rows.field_rows(real("jira_fields.json"), "file://fields"),
                   scope="site")
        counts = save_search_files(files, store)
    assert counts == {"issues": 3, "changed": 3, "incomplete": 0}
    return normalize(raw)


def test_timestamps_with_any_offset_parse():
    assert rows.parse_time("2016-03-03T13:40:01.000+0000") == datetime(2016, 3, 3, 13, 40, 1,
                                                                      tzinfo=UTC)
    assert rows.parse_time("2018-05-24T23:35:30.742+0200") == datetime(2018, 5, 24, 21, 35, 30,
                                                                      742000, tzinfo=UTC)
    assert rows.parse_time("2026-02-03T09:15:00Z").hour == 9
    assert rows.parse_time(None) is None


def test_server_issues_become_work_items(con):
    got = con.execute("SELECT key, title, type, status, status_category, container, components, "
                      "author_account, assignee_account, url FROM work_items ORDER BY key"
                      ).fetchall()
    assert [g[0] for g in got] == ["HELP-6041", "HELP-6042", "HELP-6043"]
    assert got[2][1:] == ("[Fiware-lab-help] FIWARE Lab Assistance", "extRequest", "Open",
                          "todo", "HELP", ["FIWARE-LAB-HELP"], "jira:user2", "jira:user1",
                          "https://jira.fiware.org/browse/HELP-6043")
    created = con.execute("SELECT created_at FROM work_items WHERE key = 'HELP-6041'").fetchone()
    assert created[0] == datetime(2016, 3, 3, 11, 57, 1, tzinfo=UTC)
    closed = con.execute("SELECT status_category, resolved_at IS NOT NULL FROM work_items "
                         "WHERE key = 'HELP-6042'").fetchone()
    assert closed[0] == "done"


def test_server_users_become_identities_by_key(con):
    found = con.execute("SELECT source_user_id, login, display_name FROM identities "
                        "ORDER BY 1").fetchall()
    assert ("user1", "user1", "User1") in found and ("user2", "user2", "User2") in found
    assert con.execute("SELECT count(*) FROM events WHERE kind = 'jira_created'").fetchone()[0] \
        == 3


def test_real_custom_fields_are_counted_for_fill_rate(con):
    fields = con.execute("SELECT DISTINCT field_id FROM item_fields WHERE custom").fetchall()
    assert {"customfield_10301", "customfield_10400"} <= {f[0] for f in fields}
    assert con.execute("SELECT count(*) FROM item_fields WHERE custom AND has_value"
                       ).fetchone()[0] == 0  # every custom field is null in these issues


def test_comment_pages_merge_by_id():
    pages = [real("jira_comments_issue_page_1.json"), real("jira_comments_issue_page_2.json")]
    issue = {"key": "X-1", "fields": {"comment": {"total": 3, "comments": pages[0]["comments"]}}}
    assert rows.missing(issue, "comments") == 1 and rows.truncated(issue) == ["comments"]
    merged = rows.merged(issue, "comments", pages[0]["comments"] + pages[1]["comments"])
    block = merged["fields"]["comment"]
    assert [c["id"] for c in block["comments"]] == ["10022", "10024"]  # page 2 repeats them
    assert block["total"] == 2 and issue["fields"]["comment"]["total"] == 3  # input untouched
    empty = real("jira_comments_issue_empty.json")
    assert rows.missing({"fields": {"comment": empty}}, "comments") == 0


def test_emulator_shapes_carry_every_real_key():
    site = japi.Site(shared_org(7, OrgSpec.small(months=1)), "http://x", japi.DATACENTER)
    cloud = japi.Site(site.org, "http://x", japi.CLOUD)
    issue = japi.issue_json(site, site.org.jira.issues[0])
    page = real("jira_issues_page_1.json")
    sample = page["issues"][0]
    assert set(sample) <= set(issue)
    assert {"startAt", "maxResults", "total", "issues"} <= set(page)
    assert set(sample["fields"]["reporter"]) <= set(issue["fields"]["reporter"])
    assert set(sample["fields"]["status"]) <= set(issue["fields"]["status"])
    assert set(sample["fields"]["status"]["statusCategory"]) <= set(
        issue["fields"]["status"]["statusCategory"])
    assert set(sample["fields"]["priority"]) - {"iconUrl"} <= set(issue["fields"]["priority"])
    real_field = next(f for f in real("jira_fields.json") if f["custom"])
    ours = next(f for f in japi.fields(site) if f["custom"])
    assert set(real_field) <= set(ours) and set(real_field["schema"]) <= set(ours["schema"])
    comment = real("jira_comments_issue_page_1.json")["comments"][0]
    with_comment = next(i for i in cloud.org.jira.issues if i.comments)
    ours_comment = japi.comment(cloud, with_comment, with_comment.comments[0])
    assert set(comment) == set(ours_comment)
    assert set(comment["author"]) - {"key", "name"} <= set(ours_comment["author"])
