"""Parsing and the emulator checked against real GitHub payloads (see tests/realdata.py).

github-perceval (GPL-3.0, ../shared/realdata only): issues, pull requests, reviews (one with a null
user), comments, commits, a profile, the "ghost" requested reviewer, rate-limit bodies.
github-octokit (MIT, vendored): Link headers of a paginated issues list and an error body.
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from github import Auth, Github
from github.PaginatedList import PaginatedList
from github.Requester import Requester
from realdata import needs, realdata
from test_github_support import TOKEN, normalize, served, tiny_org

from collectors.github_client import RawItem
from collectors.github_rows import ENTITY, REVIEWS, repo_rows, user_row
from processhealth.store import RawStore
from simulation import github_api as api

PERCEVAL = realdata("github-perceval/tests/data/github")
OCTOKIT = realdata("github-octokit/scenarios/api.github.com")
REPO = "zhquan_example/repo"
perceval = needs(PERCEVAL)


def real(name: str):
    return json.loads((PERCEVAL / name).read_text())


@pytest.fixture(scope="module")
def normalized(tmp_path_factory):
    """Real payloads saved through the collector's row code, then normalized."""
    folder = tmp_path_factory.mktemp("real")
    pull = real("github_request_pull_request_1")
    pull["requested_reviewers"] = real("github_request_requested_reviewers_ghost")["users"]
    commits = real("github_request_pull_request_1_commits")
    unlinked = copy.deepcopy(commits[0])  # GitHub ties the email to no account: author null
    unlinked.update(sha="0" * 40, author=None, committer=None)
    lists = {
        "issues": real("github_request") + real("github_issue_2"),
        "pulls": [pull],
        "review_comments": real("github_request_pull_request_1_comments"),
        "issue_comments": real("github_issue_comments_1") + real("github_issue_comments_2"),
        "commits": [*commits, unlinked],
    }
    with RawStore(folder / "raw.duckdb") as store:
        for entity, items in lists.items():
            store.save("github", entity, repo_rows(ENTITY[entity], REPO, items, "u"), scope=REPO)
        store.save("github", "reviews", repo_rows(
            REVIEWS, REPO, real("github_request_pull_request_1_reviews"), "u"), scope=REPO)
        profile = real("github_login")
        store.save("github", "users", [user_row(profile["login"], profile, "u")], scope="x")
    con = normalize(folder / "raw.duckdb", folder / "analytics.duckdb")
    yield con
    con.close()


@perceval
def test_real_issues_and_pull_requests_become_work_items(normalized):
    rows = normalized.execute(
        "SELECT item_id, kind, status, status_category, resolved_at IS NOT NULL, merged_at,"
        " fields->>'head_ref', author_account FROM work_items ORDER BY item_id").fetchall()
    assert rows == [
        (f"github:{REPO}#1", "pr", "closed", "done", True, None, "docs", "github:1"),
        (f"github:{REPO}#2", "issue", "closed", "done", True, None, None, "github:1"),
    ]


@perceval
def test_real_events_tolerate_null_users_and_take_author_dates(normalized):
    kinds = dict(normalized.execute("SELECT kind, count(*) FROM events GROUP BY 1").fetchall())
    assert kinds == {"pr_opened": 1, "issue_opened": 1, "pr_review": 2, "pr_comment": 3,
                     "issue_comment": 1, "commit": 2}
    actors = normalized.execute(
        "SELECT actor_account FROM events WHERE kind = 'pr_review' ORDER BY event_id").fetchall()
    assert actors == [(None,), ("github:1",)]  # review 205729156 has "user": null
    commits = dict(normalized.execute(
        "SELECT detail->>'sha', strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') || ' ' ||"
        " actor_account FROM events WHERE kind = 'commit'").fetchall())
    assert commits["0" * 40] == "2015-12-31T18:16:25Z github:email:jgb@gsyc.es"
    assert commits["53b970ee04bbc435842c14a2cbfdd623faf74a65"].endswith("github:1039693")


@perceval
def test_real_accounts_become_identities(normalized):
    ids = {r[1]: r for r in normalized.execute("SELECT * FROM identities").fetchall()}
    assert ids["1"][2:5] == ("zhquan_example", "zhquan_example@zhquan_example.com",
                             "zhquan_example")  # from the profile
    assert ids["1039693"][2:4] == ("jgbarah", "jgb@gsyc.es")  # email from its commits
    assert ids["email:jgb@gsyc.es"][4] == "Jesus M. Gonzalez-Barahona"
    assert len(ids) == 3  # the empty "ghost" reviewer object {} is no account


@perceval
def test_emulator_payloads_have_every_field_real_ones_have():
    org = tiny_org()
    g = org.github
    pr = next(i for i in g.issues if i.is_pr and i.merged_at)
    ours = {
        "github_request": api.issue(org, pr, "http://h"),
        "github_issue_2": api.issue(org, next(i for i in g.issues if not i.is_pr), "http://h"),
        "github_request_pull_request_1": api.pull_full(org, g.repos[0], pr, "http://h"),
        "github_request_pull_request_1_reviews": api.review(org, g.reviews[0], "http://h"),
        "github_request_pull_request_1_comments": api.review_comment(
            org, g.review_comments[0], 1, "http://h"),
        "github_issue_comments_1": api.issue_comment(org, g.issue_comments[0], "http://h"),
        "github_request_pull_request_1_commits": api.commit(org, g.commits[0], None, "http://h"),
        "github_login": api.profile(org.person(org.teams[0].members[1]), "http://h"),
    }
    for name, payload in ours.items():
        sample = real(name)
        sample = sample[0] if isinstance(sample, list) else sample
        assert set(sample) <= set(payload), (name, set(sample) - set(payload))
        for part in ("user", "commit", "head", "base"):
            if isinstance(sample.get(part), dict):
                assert set(sample[part]) - {"repo"} <= set(payload[part]), (name, part)
    simple = {k for k in real("github_request_pull_request_1")
              if k not in ("merged", "mergeable", "mergeable_state", "merged_by", "comments",
                           "review_comments", "commits", "additions", "deletions",
                           "changed_files", "rebaseable", "maintainer_can_modify")}
    assert simple <= set(api.pull(org, g.repos[0], pr, "http://h"))  # the list shape


@perceval
def test_rate_limit_bodies_are_recognised_like_githubs():
    abuse = real("abuse_rate_limit")["message"]
    assert Requester.isSecondaryRateLimitError(abuse)
    ours = real("rate_limit")
    body = api.rate_limit(5000, 10, 1511195459, 4990)
    for section in ("core", "graphql", "search"):
        assert set(ours["resources"][section]) <= set(body["resources"][section])
    assert set(ours["rate"]) <= set(body["rate"])


def test_emulator_error_and_rate_limit_responses(monkeypatch):
    with served(tiny_org(), monkeypatch) as s:
        gh = Github(auth=Auth.Token(TOKEN), base_url=s.url, seconds_between_requests=None,
                    retry=None)
        s.app.faults.rate_limit_after = 0
        status, headers, body = gh.requester.requestJson("GET", "/repos/acme/atlas-app/issues")
        assert status == 403 and headers["x-ratelimit-remaining"] == "0"
        assert Requester.isPrimaryRateLimitError(json.loads(body)["message"])
        s.app.faults.limited_until, s.app.faults.rate_limit_after = 0.0, None
        s.app.rate_limit_kind = "secondary"
        s.app.faults.rate_limit_after = s.app.stats.total
        status, headers, body = gh.requester.requestJson("GET", "/repos/acme/atlas-app/issues")
        assert status == 403 and int(headers["retry-after"]) >= 1
        assert Requester.isSecondaryRateLimitError(json.loads(body)["message"])
        s.app.faults.limited_until, s.app.faults.rate_limit_after = 0.0, None
        status, _, body = gh.requester.requestJson("GET", "/repos/acme/nope")
    octokit = json.loads((OCTOKIT / "errors" / "normalized-fixture.json").read_text())[0]
    assert status == 404
    assert set(octokit["response"]) - {"errors"} <= set(json.loads(body))


def test_link_headers_are_written_like_githubs(monkeypatch):
    fixture = json.loads((OCTOKIT / "paginate-issues" / "normalized-fixture.json").read_text())
    real_links = [x["headers"]["link"] for x in fixture]
    shape = re.compile(r'^<([^>]+)>; rel="(\w+)"(?:, <([^>]+)>; rel="(\w+)")*$')
    assert all(shape.match(link) for link in real_links)
    org = tiny_org()
    repo = org.github.repos[0]
    n = sum(i.repo == repo.name for i in org.github.issues)
    with served(org, monkeypatch) as s:
        gh = Github(auth=Auth.Token(TOKEN), base_url=s.url, per_page=3,
                    seconds_between_requests=None)
        got = [item.raw_data["number"] for item in PaginatedList(
            RawItem, gh.requester, f"/repos/acme/{repo.name}/issues", {"state": "all"})]
        ours = [gh.requester.requestJson("GET", f"/repos/acme/{repo.name}/issues",
                                         {"state": "all", "per_page": 3, "page": p})[1]["link"]
                for p in (1, 2, -(-n // 3))]
    assert sorted(got) == sorted(i.number for i in org.github.issues if i.repo == repo.name)
    assert all(shape.match(link) for link in ours)

    def rels(link: str) -> list[str]:
        return re.findall(r'rel="(\w+)"', link)

    assert rels(ours[0]) == rels(real_links[0]) == ["next", "last"]
    assert rels(ours[1]) == rels(real_links[1]) == ["prev", "next", "last", "first"]
    assert rels(ours[2]) == rels(real_links[-1]) == ["prev", "first"]
    assert all(url.startswith(f"{s.url}/repositories/{repo.id}/issues?")
               for url in re.findall(r"<([^>]+)>", " ".join(ours)))
