"""The Jira emulator through the real `jira` library and plain HTTP: both flavours' search
pagination, Cloud's caps and changelog pager, error bodies, 401, 429 and the request counter."""

from __future__ import annotations

import math
from datetime import date
from zoneinfo import ZoneInfo

import pytest
import requests
from jira import JIRA, JIRAError
from shared_cache import shared_org

from simulation import OrgSpec, TeamSpec
from simulation import jira_api as japi
from simulation.jira_emulator import JiraEmulator, minimum_requests
from simulation.model import JiraComment, JiraWorklog
from simulation.server import serve

TOKEN = "jira-test-token"
EMAIL = "ops@acme.example"
# A month with the tool arriving at once: the Initiative issues everyone updates daily get more
# than 100 histories (past Cloud's inline cap), yet the org stays small (about 120 issues).
LONG_SPEC = OrgSpec(teams=(TeamSpec("atlas", "steady", 3),
                           TeamSpec("borealis", "tool_nobody_wanted", 3)),
                    start=date(2026, 2, 1), months=1, change_on=date(2026, 2, 2),
                    champion_leaves_on=date(2026, 3, 25))


@pytest.fixture(scope="module")
def org():
    return shared_org(7, LONG_SPEC)


@pytest.fixture(scope="module")
def cloud(org):
    with serve(JiraEmulator(org, TOKEN, flavour="cloud")) as served:
        yield served


@pytest.fixture(scope="module")
def dc(org):
    with serve(JiraEmulator(org, TOKEN, flavour="datacenter")) as served:
        yield served


def client(served) -> JIRA:
    return JIRA(served.url, basic_auth=(EMAIL, TOKEN))


def get(served, path, **params):
    return requests.get(served.url + path, params=params, auth=(EMAIL, TOKEN), timeout=10)


def test_long_spec_has_issues_past_the_inline_cap(org):
    assert sum(len(i.histories) > 100 for i in org.jira.issues) >= 3


def test_server_info_tells_the_flavour(cloud, dc):
    assert client(cloud).deploymentType == "Cloud"
    dc_client = client(dc)
    assert dc_client.deploymentType == "Server" and dc_client._version >= (9, 0, 0)


def test_cloud_search_pages_by_token_without_total(cloud, org):
    jql = 'project = "BOR" ORDER BY updated ASC, key ASC'
    seen, token, pages = [], None, 0
    while True:
        body = client(cloud).enhanced_search_issues(jql, nextPageToken=token, maxResults=20,
                                                    fields=["updated"], json_result=True)
        assert "total" not in body and "startAt" not in body
        seen += [i["key"] for i in body["issues"]]
        pages += 1
        token = body.get("nextPageToken")
        if body["isLast"]:
            assert token is None
            break
    count = sum(i.project == "BOR" for i in org.jira.issues)
    assert count > 40 and pages == math.ceil(count / 20)
    assert sorted(seen) == sorted(i.key for i in org.jira.issues if i.project == "BOR")
    updated = [i.updated for i in org.jira.issues if i.project == "BOR"]
    assert [i.key for i in sorted(org.jira.issues, key=lambda i: i.updated)
            if i.project == "BOR"] == seen and len(updated) == len(seen)


def test_cloud_retired_search_answers_410(cloud):
    answer = get(cloud, "/rest/api/2/search", jql="project = BOR")
    assert answer.status_code == 410
    assert "search/jql" in answer.json()["errorMessages"][0]


def test_cloud_caps_inline_changelog_and_pages_the_rest(cloud, org):
    longest = max(org.jira.issues, key=lambda i: len(i.histories))
    total = len(longest.histories)
    body = get(cloud, "/rest/api/2/search/jql", jql=f'project = "{longest.project}"',
               maxResults=100, expand="changelog", fields="updated").json()
    issue = next(i for i in body["issues"] if i["key"] == longest.key)
    inline = issue["changelog"]
    assert inline["total"] == total and len(inline["histories"]) == 100
    ordered = [str(h.id) for h in japi.oldest_first(longest.histories)]
    assert [h["id"] for h in inline["histories"]] == ordered[-100:]  # the most recent ones
    paged, start = [], 0
    while True:
        page = get(cloud, f"/rest/api/2/issue/{longest.key}/changelog", startAt=start,
                   maxResults=1000).json()
        assert page["maxResults"] == 100 and page["total"] == total
        paged += [h["id"] for h in page["values"]]
        start += len(page["values"])
        if page["isLast"]:
            break
        assert page["nextPage"].startswith(cloud.url)
    assert paged == ordered


def test_cloud_inlines_twenty_comments_and_worklogs():
    busy = shared_org(7, LONG_SPEC)
    issue = busy_issue = busy.jira.issues[0]
    for n in range(25):
        busy_issue.comments.append(JiraComment(9_000_000 + n, busy_issue.reporter_pid,
                                               busy_issue.created, f"comment {n}"))
        busy_issue.worklogs.append(JiraWorklog(9_100_000 + n, busy_issue.reporter_pid,
                                               busy_issue.created, busy_issue.created, 600))
    with serve(JiraEmulator(busy, TOKEN)) as served:
        doc = get(served, f"/rest/api/2/issue/{issue.key}", expand="changelog").json()
        comments = get(served, f"/rest/api/2/issue/{issue.key}/comment").json()
        worklogs = get(served, f"/rest/api/2/issue/{issue.key}/worklog").json()
    assert doc["fields"]["comment"]["total"] == len(busy_issue.comments)
    assert len(doc["fields"]["comment"]["comments"]) == 20
    assert len(doc["fields"]["worklog"]["worklogs"]) == 20
    assert comments["total"] == len(comments["comments"]) == len(busy_issue.comments)
    assert worklogs["total"] == len(worklogs["worklogs"]) == 25


def test_dc_search_pages_with_start_and_total_and_full_changelog(dc, org):
    body = client(dc).search_issues('project = "BOR"', startAt=0, maxResults=50,
                                    expand="changelog", json_result=True)
    n = sum(i.project == "BOR" for i in org.jira.issues)
    assert (body["startAt"], body["maxResults"], body["total"]) == (0, 50, n)
    assert len(body["issues"]) == 50
    longest = max(org.jira.issues, key=lambda i: len(i.histories))
    doc = get(dc, f"/rest/api/2/issue/{longest.key}", expand="changelog").json()
    assert len(doc["changelog"]["histories"]) == doc["changelog"]["total"] > 100
    assert "accountId" not in doc["fields"]["reporter"] and doc["fields"]["reporter"]["key"]
    assert get(dc, "/rest/api/2/search/jql", jql="project = BOR").status_code == 404
    assert get(dc, f"/rest/api/2/issue/{longest.key}/changelog").status_code == 404


def test_fields_statuses_boards_and_sprints(cloud, org):
    jira = client(cloud)
    fields = {f["name"]: f for f in jira.fields()}
    assert fields["Story Points"]["custom"] and fields["Story Points"]["id"].startswith(
        "customfield_")
    assert fields["Story Points"]["clauseNames"] == ["cf[10016]", "Story Points"]
    categories = {s.raw["name"]: s.raw["statusCategory"]["key"] for s in jira.statuses()}
    assert categories["Blocked"] == "indeterminate" and categories["Backlog"] == "new"
    boards = jira.boards(maxResults=False)
    assert len(boards) == len(org.jira.boards)
    sprints = jira.sprints(boards[0].id, maxResults=False)
    assert len(sprints) == sum(s.board_id == boards[0].id for s in org.jira.sprints)


def test_unknown_project_and_bad_jql_answer_400_with_error_messages(cloud):
    with pytest.raises(JIRAError) as caught:
        client(cloud).enhanced_search_issues('project = "NOPE"', json_result=True)
    assert caught.value.status_code == 400
    assert caught.value.text == "The value 'NOPE' does not exist for the field 'project'."
    answer = get(cloud, "/rest/api/2/search/jql", jql="assignee = currentUser()")
    assert answer.status_code == 400 and answer.json()["errorMessages"]
    assert get(cloud, "/rest/api/2/search/jql", jql="ORDER BY key").status_code == 400


def test_wrong_credentials_get_the_real_401s(cloud, dc):
    with pytest.raises(JIRAError) as caught:
        JIRA(cloud.url, basic_auth=(EMAIL, "wrong"))
    assert caught.value.status_code == 401 and "Basic authentication" in caught.value.text
    with pytest.raises(JIRAError) as caught:
        JIRA(dc.url, token_auth="wrong")
    assert caught.value.status_code == 401
    assert caught.value.text == "Client must be authenticated to access this resource."
    assert requests.get(cloud.url + "/rest/api/2/serverInfo", timeout=5).ok  # anonymous
    assert JIRA(dc.url, token_auth=TOKEN).myself()["name"]


def test_rate_limit_answers_429_with_integer_retry_after(org):
    emulator = JiraEmulator(org, TOKEN)
    emulator.faults.rate_limit_after = 1
    emulator.faults.rate_limit_reset = 2.5
    with serve(emulator) as served:
        assert get(served, "/rest/api/2/myself").ok
        answer = get(served, "/rest/api/2/myself")
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] in ("2", "3")
    assert answer.json()["errorMessages"] == ["Rate limit exceeded."]
    assert emulator.stats.total == 2 and emulator.stats.by_route["myself"] == 2


def test_jql_dates_are_read_in_the_account_time_zone(org):
    newest = max(i.updated for i in org.jira.issues if i.project == "ATL")
    local = newest.astimezone(ZoneInfo("America/New_York"))
    jql = f'project = ATL AND updated >= "{local.strftime("%Y-%m-%d %H:%M")}"'
    with serve(JiraEmulator(org, TOKEN, time_zone="America/New_York")) as served:
        body = get(served, "/rest/api/2/search/jql", jql=jql, fields="updated").json()
    assert [i["key"] for i in body["issues"]] == [
        i.key for i in org.jira.issues if i.project == "ATL"
        and i.updated >= newest.replace(second=0, microsecond=0)]


def test_a_jql_time_of_the_repeated_dst_hour_is_read_as_the_second():
    """America/New_York falls back on 2026-11-01: 01:00-01:59 occurs as EDT (05:00-05:59Z),
    then as EST (06:00-06:59Z). Jira parses JQL dates with java.text.SimpleDateFormat in the
    account's zone, and Java's calendar takes standard time in the overlap: "01:30" is 06:30Z,
    so an issue updated at 01:50 EDT (05:50Z) is not found, one at 01:40 EST (06:40Z) is."""
    from datetime import UTC, datetime

    fresh = shared_org(7, LONG_SPEC)  # this test edits it
    first, between, second = [i for i in fresh.jira.issues if i.project == "ATL"][:3]
    first.updated = datetime(2026, 11, 1, 5, 20, tzinfo=UTC)  # 01:20 EDT
    between.updated = datetime(2026, 11, 1, 5, 50, tzinfo=UTC)  # 01:50 EDT
    second.updated = datetime(2026, 11, 1, 6, 40, tzinfo=UTC)  # 01:40 EST
    jql = 'project = ATL AND updated >= "2026-11-01 01:30"'
    with serve(JiraEmulator(fresh, TOKEN, time_zone="America/New_York")) as served:
        body = get(served, "/rest/api/2/search/jql", jql=jql, fields="updated").json()
    assert [i["key"] for i in body["issues"]] == [second.key]


def test_minimum_requests_counts_truncation(org):
    cloud = minimum_requests(org, "cloud")
    dc = minimum_requests(org, "datacenter")
    over = [i for i in org.jira.issues if len(i.histories) > 100]
    assert cloud["changelog"] >= len(over) and dc["changelog"] == 0
    per_project = [sum(i.project == p for i in org.jira.issues) for p in org.jira.projects]
    assert cloud["search"] == dc["search"] == len(per_project)  # each under 100 issues
    assert minimum_requests(org, "cloud", page_cap=20)["search"] == sum(
        math.ceil(n / 20) for n in per_project)
