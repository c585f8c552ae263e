"""Load the simulated GitHub organization straight into the raw store, without HTTP.

The rows are the ones `collectors.github.collect` writes on a first run against the emulator at
`base_url` with [github] org set and no repos filter: the same payloads (simulation/github_api.py),
the same row code (collectors/github_rows.py), the same source URLs and checkpoints, so a later
real collection continues incrementally from them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from collectors import privacy
from collectors.github import SOURCE, unknown_logins
from collectors.github_rows import (
    ENTITY,
    PULL_COMMITS,
    REVIEWS,
    newest,
    org_rows,
    pull_commit_rows,
    repo_rows,
    review_cursor,
    user_row,
)
from processhealth.store import RawStore
from simulation import github_api as api
from simulation import github_events
from simulation.heap import few_collections
from simulation.model import Org


def load(org: Org, store: RawStore, base_url: str = "http://127.0.0.1:1") -> int:
    """Save the organization's GitHub data as a first collection would; returns rows saved."""
    return load_repos(org, store, base_url) + save_users(org, store, base_url)


@few_collections()
def load_repos(org: Org, store: Any, base_url: str = "http://127.0.0.1:1") -> int:
    """Everything but the user profiles (which read what this saved): the organization's
    repositories, members and teams, then each repository's entities. `store` is a RawStore or
    anything with its `save` (simload/bulk.py)."""
    base = base_url.rstrip("/")
    g, name = org.github, org.github.org
    saved = store.save(SOURCE, "repos", org_rows(
        [api.repo(org, r, base) for r in sorted(g.repos, key=lambda r: r.name)],
        lambda r: r["full_name"], f"{base}/orgs/{name}/repos"), scope=name)
    saved += store.save(SOURCE, "members", org_rows(
        [api.user(p, base) for p in api.org_members(org)], lambda u: u["login"],
        f"{base}/orgs/{name}/members"), scope=name)
    saved += store.save(SOURCE, "teams", org_rows(
        [api.team(org, slug, n, base) for n, slug in enumerate(g.teams)],
        lambda t: f"{name}/{t['slug']}", f"{base}/orgs/{name}/teams"), scope=name)
    for slug in g.teams:
        saved += store.save(SOURCE, "team_members", org_rows(
            [api.user(p, base) for p in api.team_members(org, slug)],
            lambda u, s=slug: f"{s}:{u['login']}", f"{base}/orgs/{name}/teams/{slug}/members"),
            scope=f"{name}/{slug}")
    for repo, lists in _repo_payloads(org, base):
        full = f"{name}/{repo}"
        for entity, items in lists.items():
            if entity in ("reviews", "pull_commits"):
                continue
            url = f"{base}/repos/{full}/{ENTITY[entity].path}"
            found = privacy.reduce_github(entity, repo_rows(ENTITY[entity], full, items, url))
            saved += store.save(SOURCE, entity, found, scope=full,
                                cursor=newest(ENTITY[entity], items))
        saved += _save_reviews(store, full, lists["pulls"], lists["reviews"], base)
        saved += _save_pull_commits(store, full, lists["pulls"], lists["pull_commits"], base)
    return saved


def _repo_payloads(org: Org, base: str) -> Iterator[tuple[str, dict[str, list[dict]]]]:
    """(repo, entity -> payloads), one repository at a time: a large organization's payloads
    would not fit in memory all at once (1,300 people: over 20 GB as Python objects)."""
    g = org.github
    by_repo = {r.name: r for r in g.repos}
    records: dict[str, dict[str, list]] = {r.name: defaultdict(list) for r in g.repos}
    reviews: dict[tuple[str, int], list] = defaultdict(list)
    for rv in sorted(g.reviews, key=lambda rv: rv.id):
        reviews[(rv.repo, rv.pr_number)].append(rv)
    for i in g.issues:
        records[i.repo]["issues"].append(i)
    for c in g.issue_comments:
        records[c.repo]["issue_comments"].append(c)
    for c in g.review_comments:
        records[c.repo]["review_comments"].append(c)
    for c in sorted(g.commits, key=lambda c: (c.date, c.sha)):
        if c.listed:  # a squash-merged PR's own commits are not on the default branch
            records[c.repo]["commits"].append(c)
        else:
            records[c.repo]["unlisted"].append(c)
    for rl in g.releases:
        records[rl.repo]["releases"].append(rl)
    for n, record in enumerate(github_events.event_records(org)):  # event ids number the whole org
        records[record[2].repo]["issue_events"].append((api.EVENT_ID_BASE + n, record))
    for repo in by_repo:  # the order of g.repos, as a collection saves them
        mine = records.pop(repo)
        out: dict[str, list] = {e: [] for e in (
            "issues", "pulls", "issue_comments", "review_comments", "commits", "releases",
            "issue_events", "reviews", "pull_commits")}
        parents = api.commit_parents(mine["commits"])  # as the emulator chains them
        by_pr: dict = defaultdict(list)
        for c in mine["unlisted"]:
            by_pr[c.pr_number].append(c)
        for chain in by_pr.values():  # a squashed PR's commits chain on its branch
            parents.update(api.commit_parents(chain))
        commit_of = {c.sha: c for c in mine["commits"] + mine["unlisted"]}
        for i in mine["issues"]:
            out["issues"].append(api.issue(org, i, base))
            if i.is_pr:
                out["pulls"].append(api.pull(org, by_repo[repo], i, base))
                out["reviews"].append(
                    [api.review(org, rv, base) for rv in reviews[(repo, i.number)]])
                own = sorted((commit_of[sha] for sha in i.commit_shas if sha in commit_of),
                             key=lambda c: (c.date, c.sha))
                out["pull_commits"].append(
                    [api.commit(org, c, parents[c.sha], base) for c in own])
        out["issue_comments"] = [api.issue_comment(org, c, base) for c in mine["issue_comments"]]
        for c in mine["review_comments"]:
            review_id = api.review_of(c, reviews[(c.repo, c.number)])
            out["review_comments"].append(api.review_comment(org, c, review_id, base))
        if mine["commits"]:
            out["commits"] = [api.commit(org, c, parents[c.sha], base) for c in mine["commits"]]
        out["releases"] = [api.release(org, rl, base) for rl in mine["releases"]]
        out["issue_events"] = [github_events.issue_event(org, n, record, base)
                               for n, record in mine["issue_events"]]
        yield repo, out


def _save_reviews(store: Any, full: str, pulls: list[dict], reviews: list[list[dict]],
                  base: str) -> int:
    rows = []
    for pull, found in zip(pulls, reviews, strict=True):
        url = f"{base}/repos/{full}/{REVIEWS.path.format(number=pull['number'])}"
        rows += repo_rows(REVIEWS, full, found, url)
    if not pulls:
        return 0
    last = max(pulls, key=lambda p: (p["updated_at"], f"{full}#{p['number']}"))
    return store.save(SOURCE, "reviews", privacy.reduce_github("reviews", rows), scope=full,
                      cursor=review_cursor(last, f"{full}#{last['number']}"))


def _save_pull_commits(store: Any, full: str, pulls: list[dict],
                       commits: list[list[dict]], base: str) -> int:
    rows = []
    for pull, found in zip(pulls, commits, strict=True):
        url = f"{base}/repos/{full}/{PULL_COMMITS.path.format(number=pull['number'])}"
        rows += pull_commit_rows(full, pull["number"], found, url)
    if not pulls:
        return 0
    last = max(pulls, key=lambda p: (p["updated_at"], f"{full}#{p['number']}"))
    return store.save(SOURCE, "pull_commits", rows, scope=full,
                      cursor=review_cursor(last, f"{full}#{last['number']}"))


@few_collections()
def save_users(org: Org, store: RawStore, base_url: str = "http://127.0.0.1:1") -> int:
    """The profile of every login the stored GitHub rows name (as a first collection asks)."""
    base = base_url.rstrip("/")
    by_login = {p.github_login.lower(): p for p in org.people
                if p.github_login and not p.github_deleted}
    rows = []
    for login in unknown_logins(store, everyone=False):
        person = None if login == "ghost" else by_login.get(login.lower())
        url = f"{base}/users/{quote(login, safe='')}"
        rows.append(user_row(login, api.profile(person, base), url))
    return store.save(SOURCE, "users", rows, scope=org.github.org) if rows else 0
