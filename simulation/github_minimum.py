"""The fewest requests a first collection of a simulated organization needs from the GitHub
emulator, per route: the yardstick the collection benchmarks and tests compare against."""

from __future__ import annotations

import math

from . import github_api as api
from . import github_events
from .model import Org

PULL_COMMITS_CAP = 250  # GitHub lists at most this many commits of a pull request


def _pages(n: int, per_page: int) -> int:
    return max(1, math.ceil(n / per_page))


def minimum_requests(org: Org, per_page: int = 100) -> dict[str, int]:
    """The fewest requests a first collection of the whole organization can make, per route:
    one per page of each list (an empty list still costs its one request), one reviews list and
    one commits list per pull request, one profile per account seen."""
    g = org.github
    need = {"org_repos": _pages(len(g.repos), per_page),
            "org_members": _pages(len(api.org_members(org)), per_page),
            "org_teams": _pages(len(g.teams), per_page),
            "team_members": sum(_pages(len(api.team_members(org, s)), per_page)
                                for s in g.teams)}
    events = github_events.event_records(org)
    for r in g.repos:
        def count(items: list, repo: str = r.name) -> int:
            return _pages(sum(1 for x in items if x.repo == repo), per_page)
        prs = [i for i in g.issues if i.repo == r.name and i.is_pr]
        per_pr = {i.number: 0 for i in prs}
        for rv in g.reviews:
            if rv.repo == r.name:
                per_pr[rv.pr_number] += 1
        for route, n in (("issues", count(g.issues)), ("pulls", _pages(len(prs), per_page)),
                         ("issue_comments", count(g.issue_comments)),
                         ("review_comments", count(g.review_comments)),
                         ("commits", count([c for c in g.commits if c.listed])),
                         ("releases", count(g.releases)),
                         ("issue_events", _pages(sum(e[2].repo == r.name for e in events),
                                                 per_page)),
                         ("reviews", sum(_pages(n, per_page) for n in per_pr.values())),
                         ("pull_commits", sum(
                             _pages(min(len(i.commit_shas), PULL_COMMITS_CAP), per_page)
                             for i in prs))):
            need[route] = need.get(route, 0) + n
    pids = ({i.user_pid for i in g.issues} | {rv.user_pid for rv in g.reviews}
            | {c.user_pid for c in g.issue_comments} | {c.user_pid for c in g.review_comments}
            | {rl.author_pid for rl in g.releases} | {e[3] for e in events}
            | {c.author_pid for c in g.commits if not org.person(c.author_pid).github_deleted}
            | {p.pid for p in api.org_members(org)}
            | {p.pid for s in g.teams for p in api.team_members(org, s)})
    need["user"] = len({api.user(org.person(pid), "")["login"] for pid in pids})
    return need
