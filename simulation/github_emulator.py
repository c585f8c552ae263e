"""A loopback GitHub REST API serving a simulated organization, for the real PyGithub client.

    app = GitHubEmulator(org, token="t0k3n")
    with serve(app) as served:            # served.url = "http://127.0.0.1:<port>"
        Github(auth=Auth.Token("t0k3n"), base_url=served.url, per_page=100)...

With `prefix="/api/v3"` the routes and every URL in payloads and Link headers carry that prefix,
as GitHub Enterprise Server's do (configure PyGithub with base_url = served.url + "/api/v3").

What it serves: org repositories, members and teams; users; per repository the issues list (PRs
included, `state`, `sort`, `direction`, `since`), pulls (`state`, `sort`, `direction`), one pull,
reviews and commits of a pull, repo-wide issue comments and review comments (`since`), issue
events, commits (`since`, `until`, `sha`), releases; `rate_limit`; GitHub App sign-in and
`GET /user` (github_app.py). Pagination is GitHub's:
`per_page` (default 30, at most 100) and `page`, with a `Link` header (first/prev/next/last) whose
URLs use the `/repositories/{id}/...` form and this server's own host:port, exactly as GitHub
writes them and PyGithub splits them. Every response carries `x-ratelimit-*` headers.

Tests may plant a blocked repository (`blocked`), a renamed one (`renamed`) and lists that stop
with 422 past some items (`paging_limit`, by list path such as "issues/comments"), and a
repository without commits answers its commits list with 409 (github_responses.py says how
GitHub answers).

Errors are GitHub's bodies: 401 Bad credentials, 404 Not Found, 403 primary rate limit
(`x-ratelimit-remaining: 0` and `x-ratelimit-reset`) or, with `rate_limit_kind = "secondary"`,
403 secondary rate limit with `Retry-After` (github_responses.py). Faults (simulation/server.py)
apply to every route.
Call `reload()` after changing the organization so the indexes see the change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import github_api as api
from . import github_events
from .github_app import APP_RULES, GitHubAppSignIn
from .github_minimum import PULL_COMMITS_CAP, minimum_requests
from .github_responses import Blocked, GitHubResponses, Moved, by_pr, since_param, state_ok
from .model import GhIssue, Org, Person, Repo
from .server import Emulator

__all__ = ["GitHubEmulator", "URL_MAP", "minimum_requests"]


def _repo_rules(path: str, endpoint: str) -> list[Rule]:
    return [Rule(f"/repos/<owner>/<name>{path}", endpoint=endpoint),
            Rule(f"/repositories/<int:repo_id>{path}", endpoint=endpoint)]


URL_MAP = Map([
    Rule("/rate_limit", endpoint="rate_limit"),
    Rule("/orgs/<org>/repos", endpoint="org_repos"),
    Rule("/organizations/<int:org_id>/repos", endpoint="org_repos"),
    Rule("/orgs/<org>/members", endpoint="org_members"),
    Rule("/organizations/<int:org_id>/members", endpoint="org_members"),
    Rule("/orgs/<org>/teams", endpoint="org_teams"),
    Rule("/organizations/<int:org_id>/teams", endpoint="org_teams"),
    Rule("/orgs/<org>/teams/<slug>/members", endpoint="team_members"),
    Rule("/organizations/<int:org_id>/team/<int:team_id>/members", endpoint="team_members"),
    Rule("/users/<login>", endpoint="user"),
    *_repo_rules("", "repo"),
    *_repo_rules("/issues", "issues"),
    *_repo_rules("/issues/comments", "issue_comments"),
    *_repo_rules("/issues/events", "issue_events"),
    *_repo_rules("/issues/<int:number>", "issue"),
    *_repo_rules("/pulls", "pulls"),
    *_repo_rules("/pulls/comments", "review_comments"),
    *_repo_rules("/pulls/<int:number>", "pull"),
    *_repo_rules("/pulls/<int:number>/reviews", "reviews"),
    *_repo_rules("/pulls/<int:number>/commits", "pull_commits"),
    *_repo_rules("/commits", "commits"),
    *_repo_rules("/releases", "releases"),
    *APP_RULES,  # GitHub App sign-in and GET /user (github_app.py)
])


class GitHubEmulator(GitHubAppSignIn, GitHubResponses, Emulator):
    """The GitHub REST API over one simulated organization, accepting one token (and, once
    `install_app()` was called, the installation tokens the app obtains)."""

    url_map = URL_MAP

    def __init__(self, org: Org, token: str, rate_limit: int = 15000, prefix: str = "") -> None:
        super().__init__()
        self.org = org
        self.token = token
        self.prefix = prefix.rstrip("/")  # "/api/v3" serves like GitHub Enterprise Server
        if self.prefix:
            self.url_map = Map([Rule(self.prefix + r.rule, endpoint=r.endpoint)
                                for r in URL_MAP.iter_rules()])
        self.limit = rate_limit
        self.rate_limit_kind = "primary"  # or "secondary"
        self.window_start = time.time()
        self.blocked: dict[str, str] = {}  # repository name -> block reason (tests plant it)
        self.renamed: dict[str, str] = {}  # old repository name -> current one (tests plant it)
        self.paging_limit: dict[str, int] = {}  # list path -> items served (tests plant it)
        self.reload()

    @property
    def api(self) -> str:
        """Where the API lives: this server's scheme://host:port, plus the prefix if any."""
        return self.base_url + self.prefix

    # --- indexes -------------------------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild the per-repository indexes from the organization."""
        g = self.org.github
        self.repos = {r.name: r for r in g.repos}
        self.repo_ids = {r.id: r for r in g.repos}
        names = [r.name for r in g.repos]
        self.issues: dict[str, list[Any]] = {n: [] for n in names}
        self.comments: dict[str, list[Any]] = {n: [] for n in names}
        self.rcomments: dict[str, list[Any]] = {n: [] for n in names}
        self.commits: dict[str, list[Any]] = {n: [] for n in names}
        self.releases: dict[str, list[Any]] = {n: [] for n in names}
        self.events: dict[str, list[Any]] = {n: [] for n in names}
        self.numbers: dict[tuple[str, int], GhIssue] = {}
        for i in g.issues:
            self.issues[i.repo].append(i)
            self.numbers[(i.repo, i.number)] = i
        for i_list in self.issues.values():
            i_list.sort(key=lambda i: i.number)
        for c in g.issue_comments:
            self.comments[c.repo].append(c)
        self.reviews: dict[tuple[str, int], list[Any]] = {}
        for rv in sorted(g.reviews, key=lambda rv: rv.id):
            self.reviews.setdefault((rv.repo, rv.pr_number), []).append(rv)
        for c in g.review_comments:
            self.rcomments[c.repo].append(c)
        self.unlisted: dict[str, list[Any]] = {n: [] for n in names}  # squash-merged away
        for c in sorted(g.commits, key=lambda c: (c.date, c.sha)):
            (self.commits if c.listed else self.unlisted)[c.repo].append(c)
        self.parents: dict[str, str | None] = {}
        for c_list in self.commits.values():
            self.parents.update(api.commit_parents(c_list))
        for c_list in self.unlisted.values():  # a squashed PR's commits chain on its branch
            for pr_commits in by_pr(c_list).values():
                self.parents.update(api.commit_parents(pr_commits))
        for rl in g.releases:
            self.releases[rl.repo].append(rl)
        for n, record in enumerate(github_events.event_records(self.org)):
            self.events[record[2].repo].append((api.EVENT_ID_BASE + n, record))
        self.logins: dict[str, Person] = {
            p.github_login.lower(): p for p in self.org.people
            if p.github_login and not p.github_deleted}
        self._lists: dict[tuple, list[Any]] = {}

    def _cached(self, key: tuple, build: Callable[[], list[Any]]) -> list[Any]:
        found = self._lists.get(key)
        if found is None:
            found = self._lists[key] = build()
        return found

    def _repo(self, owner: str | None = None, name: str | None = None,
              repo_id: int | None = None) -> Repo:
        if repo_id is None and owner == self.org.github.org and name in self.renamed:
            raise Moved(self.repos[self.renamed[name]].id)
        r = self.repo_ids.get(repo_id) if repo_id is not None else (
            self.repos.get(name or "") if owner == self.org.github.org else None)
        if r is None:
            raise NotFound()
        if r.name in self.blocked:
            raise Blocked(self.blocked[r.name])
        return r

    def _check_org(self, org: str | None, org_id: int | None) -> None:
        if org != self.org.github.org and org_id != api.ORG_ID:
            raise NotFound()

    # --- responses -----------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        try:
            return super().__call__(environ, start_response)
        except NotFound as exc:  # raised by a handler: unknown org, repository, user, number
            return self.not_found(Request(environ), exc)(environ, start_response)
        except Moved as exc:
            return self.moved(Request(environ), exc.repo_id)(environ, start_response)
        except Blocked as exc:
            return self.blocked_answer(exc.reason)(environ, start_response)

    # --- org, users ----------------------------------------------------------------------------

    def on_rate_limit(self, request: Request) -> Response:
        used = min(self.stats.total, self.limit)
        return self._json(api.rate_limit(self.limit, self.limit - used,
                                         int(self.window_start) + 3600, used))

    def on_org_repos(self, request: Request, org: str | None = None, org_id: int | None = None
                     ) -> Response:
        self._check_org(org, org_id)
        repos = sorted(self.org.github.repos, key=lambda r: r.id)
        if request.args.get("sort") == "full_name":
            repos.sort(key=lambda r: r.name)
        base = self.api
        return self._page(request, f"/organizations/{api.ORG_ID}/repos", repos,
                          lambda r: api.repo(self.org, r, base))

    def on_org_members(self, request: Request, org: str | None = None,
                       org_id: int | None = None) -> Response:
        self._check_org(org, org_id)
        base = self.api
        return self._page(request, f"/organizations/{api.ORG_ID}/members",
                          api.org_members(self.org), lambda p: api.user(p, base))

    def on_org_teams(self, request: Request, org: str | None = None, org_id: int | None = None
                     ) -> Response:
        self._check_org(org, org_id)
        base = self.api
        slugs = list(enumerate(self.org.github.teams))
        return self._page(request, f"/organizations/{api.ORG_ID}/teams", slugs,
                          lambda t: api.team(self.org, t[1], t[0], base))

    def on_team_members(self, request: Request, org: str | None = None, slug: str | None = None,
                        org_id: int | None = None, team_id: int | None = None) -> Response:
        self._check_org(org, org_id)
        slugs = list(self.org.github.teams)
        index = slugs.index(slug) if slug in slugs else (team_id or 0) - 7_000_000
        if not 0 <= index < len(slugs):
            raise NotFound()
        base = self.api
        return self._page(request, f"/organizations/{api.ORG_ID}/team/{7_000_000 + index}/members",
                          api.team_members(self.org, slugs[index]), lambda p: api.user(p, base))

    def on_user(self, request: Request, login: str) -> Response:
        if login.lower() == "ghost":
            return self._json(api.profile(None, self.api))
        person = self.logins.get(login.lower())
        if person is None:
            raise NotFound()
        return self._json(api.profile(person, self.api))

    # --- repositories --------------------------------------------------------------------------

    def on_repo(self, request: Request, **where: Any) -> Response:
        return self._json(api.repo(self.org, self._repo(**where), self.api))

    def on_issues(self, request: Request, **where: Any) -> Response:
        r = self._repo(**where)
        a = request.args
        state, since = a.get("state", "open"), since_param(a.get("since"))
        sort, direction = a.get("sort", "created"), a.get("direction", "desc")

        def build() -> list[GhIssue]:
            found = [i for i in self.issues[r.name] if state_ok(i, state)
                     and (since is None or api.iso(api.issue_updated(i)) >= since)]
            key = {"updated": lambda i: (api.iso(api.issue_updated(i)), i.id),
                   "comments": lambda i: (i.comment_count, i.id)}.get(
                       sort, lambda i: (api.iso(i.created_at), i.id))
            return sorted(found, key=key, reverse=direction == "desc")

        items = self._cached(("issues", r.name, state, since, sort, direction), build)
        base = self.api
        return self._page(request, f"/repositories/{r.id}/issues", items,
                          lambda i: api.issue(self.org, i, base))

    def on_issue(self, request: Request, number: int, **where: Any) -> Response:
        r = self._repo(**where)
        i = self.numbers.get((r.name, number))
        if i is None:
            raise NotFound()
        return self._json(api.issue(self.org, i, self.api))

    def on_pulls(self, request: Request, **where: Any) -> Response:
        r = self._repo(**where)
        a = request.args
        state, sort = a.get("state", "open"), a.get("sort", "created")
        direction = a.get("direction", "desc" if sort == "created" else "asc")

        def build() -> list[GhIssue]:
            found = [i for i in self.issues[r.name] if i.is_pr and state_ok(i, state)]
            key = ((lambda i: (api.iso(api.issue_updated(i)), i.id)) if sort == "updated"
                   else (lambda i: (api.iso(i.created_at), i.id)))
            return sorted(found, key=key, reverse=direction == "desc")

        items = self._cached(("pulls", r.name, state, sort, direction), build)
        base = self.api
        return self._page(request, f"/repositories/{r.id}/pulls", items,
                          lambda i: api.pull(self.org, r, i, base))

    def _pr(self, r: Repo, number: int) -> GhIssue:
        i = self.numbers.get((r.name, number))
        if i is None or not i.is_pr:
            raise NotFound()
        return i

    def on_pull(self, request: Request, number: int, **where: Any) -> Response:
        r = self._repo(**where)
        return self._json(api.pull_full(self.org, r, self._pr(r, number), self.api))

    def on_reviews(self, request: Request, number: int, **where: Any) -> Response:
        r = self._repo(**where)
        self._pr(r, number)
        base = self.api
        return self._page(request, f"/repositories/{r.id}/pulls/{number}/reviews",
                          self.reviews.get((r.name, number), []),
                          lambda rv: api.review(self.org, rv, base))

    def on_pull_commits(self, request: Request, number: int, **where: Any) -> Response:
        r = self._repo(**where)
        shas = set(self._pr(r, number).commit_shas)
        items = [c for c in self.commits[r.name] if c.sha in shas]
        if self.unlisted[r.name]:
            items = sorted(items + [c for c in self.unlisted[r.name] if c.sha in shas],
                           key=lambda c: (c.date, c.sha))
        items = items[:PULL_COMMITS_CAP]  # GitHub lists at most 250 (docs: "List commits on a
        base = self.api                    # pull request"); no generated PR has more than 40
        return self._page(request, f"/repositories/{r.id}/pulls/{number}/commits", items,
                          lambda c: api.commit(self.org, c, self.parents[c.sha], base))

    def _comment_list(self, kind: str, r: Repo, request: Request) -> list[Any]:
        a = request.args
        since = since_param(a.get("since"))
        sort = a.get("sort", "created")
        direction = a.get("direction", "asc") if "sort" in a else "asc"

        def build() -> list[Any]:
            source = self.comments if kind == "issue" else self.rcomments
            found = [c for c in source[r.name]
                     if since is None or api.iso(c.created_at) >= since]  # updated == created
            return sorted(found, key=lambda c: (api.iso(c.created_at), c.id),
                          reverse=direction == "desc")

        return self._cached((kind, r.name, since, sort, direction), build)

    def on_issue_comments(self, request: Request, **where: Any) -> Response:
        r = self._repo(**where)
        base = self.api
        return self._page(request, f"/repositories/{r.id}/issues/comments",
                          self._comment_list("issue", r, request),
                          lambda c: api.issue_comment(self.org, c, base))

    def on_review_comments(self, request: Request, **where: Any) -> Response:
        r = self._repo(**where)
        reviews = self.reviews
        base = self.api

        def build(c: Any) -> dict:
            return api.review_comment(
                self.org, c, api.review_of(c, reviews.get((c.repo, c.number), [])), base)

        return self._page(request, f"/repositories/{r.id}/pulls/comments",
                          self._comment_list("review", r, request), build)

    def on_issue_events(self, request: Request, **where: Any) -> Response:
        r = self._repo(**where)
        items = self._cached(("events", r.name), lambda: self.events[r.name][::-1])
        base = self.api
        return self._page(request, f"/repositories/{r.id}/issues/events", items,
                          lambda e: github_events.issue_event(self.org, e[0], e[1], base))

    def on_commits(self, request: Request, **where: Any) -> Response:
        r = self._repo(**where)
        if not self.commits[r.name] and not self.unlisted[r.name]:
            # a repository created without a first commit: 409, whatever the filters
            # (github/rest-api-description#385; docs.github.com, "Git database" guide)
            return self.empty_repository()
        a = request.args
        since, until, sha = since_param(a.get("since")), since_param(a.get("until")), a.get("sha")

        def build() -> list[Any]:
            branch = None
            if sha and sha != "main":
                prs = [i for i in self.issues[r.name] if i.head_ref == sha]
                branch = {s for i in prs for s in i.commit_shas}
            found = [c for c in self.commits[r.name]
                     if (since is None or api.iso(c.date) >= since)
                     and (until is None or api.iso(c.date) <= until)
                     and (branch is None or c.sha in branch)]
            return found[::-1]  # newest first, as git log

        items = self._cached(("commits", r.name, since, until, sha), build)
        base = self.api
        return self._page(request, f"/repositories/{r.id}/commits", items,
                          lambda c: api.commit(self.org, c, self.parents[c.sha], base))

    def on_releases(self, request: Request, **where: Any) -> Response:
        r = self._repo(**where)
        items = self._cached(("releases", r.name), lambda: sorted(
            self.releases[r.name], key=lambda rl: (rl.created_at, rl.id), reverse=True))
        base = self.api
        return self._page(request, f"/repositories/{r.id}/releases", items,
                          lambda rl: api.release(self.org, rl, base))
