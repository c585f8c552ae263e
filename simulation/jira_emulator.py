"""A loopback Jira REST API serving the simulated organization, as Cloud or Data Center.

    emulator = JiraEmulator(org, token="t", flavour="cloud")   # or "datacenter"
    with serve(emulator) as served:
        JIRA(served.url, basic_auth=("me@acme.example", "t"))

Both flavours: serverInfo, myself, field, status, project, issue (+ comment, worklog), agile boards
and sprints, Jira's error bodies, 401, 429 with an integer Retry-After. Cloud searches on
/rest/api/{2,3}/search/jql (nextPageToken/isLast, no total), answers the retired /search with 410,
inlines at most `changelog_cap` histories per issue (the most recent) and serves the whole history
at /issue/{key}/changelog. Data Center searches on /rest/api/2/search (startAt/maxResults/total)
with the full changelog inline. Both inline at most `child_cap` worklogs; Cloud also caps comments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import jira_api as japi
from .jira_errors import GONE, JiraResponses
from .jira_jql import JqlError, compare, parse_jql, sort_key
from .model import JiraIssue, Org
from .server import Emulator

CLOUD_PAGE_CAP = 100  # issues per search page when fields are requested (5000 for id/key only)
DC_PAGE_CAP = 1000  # jira.search.views.default.max
CHANGELOG_PAGE_CAP = 100
AGILE_PAGE_CAP = 50
CHILD_PAGE_CAP = 5000  # comments and worklogs per page
API = "<any('2','3','latest'):api>"


def _rules() -> Map:
    r = [
        ("serverInfo", "server_info"), ("myself", "myself"), ("field", "fields"),
        ("status", "statuses"), ("project", "projects"), ("project/<key>", "project"),
        ("search", "search"), ("search/jql", "search_jql"), ("issue/<key>", "issue"),
        ("issue/<key>/changelog", "changelog"), ("issue/<key>/comment", "comments"),
        ("issue/<key>/worklog", "worklogs"),
    ]
    rules = [Rule(f"/rest/api/{API}/{path}", endpoint=name, methods=["GET", "POST"])
             for path, name in r]
    rules += [Rule("/rest/agile/1.0/board", endpoint="boards"),
              Rule("/rest/agile/1.0/board/<int:board_id>/sprint", endpoint="sprints")]
    return Map(rules)


class JiraEmulator(JiraResponses, Emulator):
    url_map = _rules()

    def __init__(self, org: Org, token: str, *, flavour: str = japi.CLOUD,
                 email: str | None = None, time_zone: str = "UTC",
                 page_cap: int | None = None, changelog_cap: int = 100, child_cap: int = 20,
                 time_scale: float = 1.0):
        super().__init__()
        if flavour not in japi.FLAVOURS:
            raise ValueError(f"flavour must be one of {japi.FLAVOURS}, not {flavour!r}")
        self.org, self.token, self.flavour, self.email = org, token, flavour, email
        self.time_zone = time_zone
        self.page_cap = page_cap or (CLOUD_PAGE_CAP if flavour == japi.CLOUD else DC_PAGE_CAP)
        self.changelog_cap, self.child_cap = changelog_cap, child_cap
        self.time_scale = time_scale  # Retry-After in seconds of a clock this much faster
        self._sites: dict[str, japi.Site] = {}
        # Boards of team-managed projects with the sprints feature off (planted by tests; no
        # generated organization has one): listed as type "simple", and their sprint list
        # answers 400 "The board does not support sprints", as Jira Cloud does.
        self.sprintless_boards: set[int] = set()
        # Issues Cloud's search index has not caught up with yet (planted by tests): /search/jql
        # leaves them out, /issue/{key} serves them. Jira Cloud's search is eventually
        # consistent: "from a few seconds to minutes", more after a bulk edit
        # (developer.atlassian.com/cloud/jira/platform/search-and-reconcile).
        self.unindexed: set[str] = set()

    def reload(self) -> None:
        """Re-read the organization (tests change it between collections)."""
        self._sites = {}

    def move_issue(self, key: str, project: str, name: str | None = None) -> str:
        """What Jira does when an issue is moved to another project: the next key there, the
        same id, `updated` now. The project is created if the site lacks it. Returns the key."""
        from datetime import UTC, datetime

        issue = self.find(key)
        if issue is None:
            raise KeyError(key)
        self.org.jira.projects.setdefault(project, name or project)
        taken = [int(i.key.rsplit("-", 1)[1]) for i in self.org.jira.issues
                 if i.project == project]
        issue.key, issue.project = f"{project}-{max(taken, default=0) + 1}", project
        issue.updated = datetime.now(UTC).replace(microsecond=0)
        self.reload()
        return issue.key

    def delete_issue(self, key: str) -> None:
        """An issue deleted on the site: gone from searches and from /issue/{key}."""
        self.org.jira.issues = [i for i in self.org.jira.issues if i.key != key]
        self.reload()

    @property
    def cloud(self) -> bool:
        return self.flavour == japi.CLOUD

    def site(self, version: str) -> japi.Site:
        version = "2" if version == "latest" else version
        if version not in self._sites:
            self._sites[version] = japi.Site(self.org, self.base_url, self.flavour, version)
        return self._sites[version]

    # --- site-wide ----------------------------------------------------------------------------

    def on_server_info(self, request: Request, api: str) -> Response:
        return self.ok(japi.server_info(self.site(api)))

    def on_myself(self, request: Request, api: str) -> Response:
        return self.ok(japi.myself(self.site(api), self.email, self.time_zone))

    def on_fields(self, request: Request, api: str) -> Response:
        return self.ok(japi.fields(self.site(api)))

    def on_statuses(self, request: Request, api: str) -> Response:
        return self.ok(japi.statuses(self.site(api)))

    def on_projects(self, request: Request, api: str) -> Response:
        return self.ok(japi.projects(self.site(api)))

    def on_project(self, request: Request, api: str, key: str) -> Response:
        if key not in self.org.jira.projects:
            return self.error(404, f"No project could be found with key '{key}'.")
        return self.ok(japi.project(self.site(api), key))

    # --- search ---------------------------------------------------------------------------------

    def on_search(self, request: Request, api: str) -> Response:
        if self.cloud:
            return self.error(410, GONE)
        if api == "3":
            return self.not_found(request, None)
        params = _params(request)
        try:
            found = self.query(params.get("jql", ""))
        except JqlError as exc:
            return self.error(400, str(exc))
        start = int(params.get("startAt") or 0)
        size = min(int(params.get("maxResults") or 50), self.page_cap)
        page = found[start:start + size]
        body = {"expand": "schema,names", "startAt": start, "maxResults": size,
                "total": len(found), "issues": self.render(api, page, params)}
        return self.ok(self.with_names(api, body, params))

    def on_search_jql(self, request: Request, api: str) -> Response:
        if not self.cloud:
            return self.not_found(request, None)
        params = _params(request)
        jql = params.get("jql", "")
        try:
            found = self.query(jql, bounded=True)
        except JqlError as exc:
            return self.error(400, str(exc))
        start = 0
        if params.get("nextPageToken"):
            start = _read_token(params["nextPageToken"], jql)
            if start is None:
                return self.error(400, "The provided next page token is invalid or expired.")
        wanted = _field_list(params)
        cap = 5000 if wanted and set(wanted) <= {"id", "key"} else self.page_cap
        size = min(int(params.get("maxResults") or 50), cap)
        page = found[start:start + size]
        body: dict[str, Any] = {"issues": self.render(api, page, params)}
        if start + size < len(found):
            body["nextPageToken"] = _make_token(start + size, jql)
        body["isLast"] = start + size >= len(found)
        return self.ok(self.with_names(api, body, params))

    def query(self, jql: str, bounded: bool = False) -> list[JiraIssue]:
        q = parse_jql(jql, ZoneInfo(self.time_zone))
        if bounded and not q["projects"] and not q["since"]:
            raise JqlError("Unbounded JQL queries are not allowed here. Please add a search "
                           "restriction to your query.")
        unknown = [p for p in q["projects"] if p not in self.org.jira.projects]
        if unknown:
            raise JqlError(f"The value '{unknown[0]}' does not exist for the field 'project'.")
        out = [i for i in self.org.jira.issues
               if (not q["projects"] or i.project in q["projects"])
               and not (self.cloud and i.key in self.unindexed)
               and all(compare(getattr(i, f), op, at) for f, op, at in q["since"])]
        for field, descending in reversed(q["order"]):
            out.sort(key=sort_key(field), reverse=descending)
        return out

    def render(self, version: str, issues: list[JiraIssue], params: dict[str, Any]
               ) -> list[dict[str, Any]]:
        site = self.site(version)
        expand = {e.strip() for e in str(params.get("expand") or "").split(",")}
        wanted = _field_list(params)
        out = []
        for issue in issues:
            doc = japi.issue_json(
                site, issue, changelog="changelog" in expand,
                changelog_cap=self.changelog_cap if self.cloud else None,
                comment_cap=self.child_cap if self.cloud else None, worklog_cap=self.child_cap)
            out.append(japi.select_fields(doc, wanted))
        return out

    def with_names(self, version: str, body: dict[str, Any], params: dict[str, Any]
                   ) -> dict[str, Any]:
        if "names" in str(params.get("expand") or ""):
            body["names"] = {f["id"]: f["name"] for f in japi.fields(self.site(version))}
        return body

    # --- one issue and its children -------------------------------------------------------------

    def find(self, key: str) -> JiraIssue | None:
        return next((i for i in self.org.jira.issues if i.key == key or str(i.id) == key), None)

    def missing(self) -> Response:
        return self.error(404, "Issue does not exist or you do not have permission to see it.")

    def on_issue(self, request: Request, api: str, key: str) -> Response:
        issue = self.find(key)
        if issue is None:
            return self.missing()
        params = _params(request)
        return self.ok(self.render(api, [issue], params)[0])

    def on_changelog(self, request: Request, api: str, key: str) -> Response:
        issue = self.find(key)
        if not self.cloud:
            return self.not_found(request, None)
        if issue is None:
            return self.missing()
        site = self.site(api)
        start, size = _paging(request, CHANGELOG_PAGE_CAP, 100)
        items = [japi.history(site, h) for h in japi.oldest_first(issue.histories)]
        page = japi.child_page(items, start, size, "values", is_last_key=True)
        path = f"issue/{issue.key}/changelog"
        out = {"self": site.rest(f"{path}?startAt={start}&maxResults={size}"), **page}
        if not page["isLast"]:
            out["nextPage"] = site.rest(f"{path}?startAt={start + size}&maxResults={size}")
        return self.ok(out)

    def on_comments(self, request: Request, api: str, key: str) -> Response:
        return self.children(request, api, key, "comments", japi.comment)

    def on_worklogs(self, request: Request, api: str, key: str) -> Response:
        return self.children(request, api, key, "worklogs", japi.worklog)

    def children(self, request: Request, api: str, key: str, kind: str, render) -> Response:
        """A page of an issue's comments or worklogs (both paged startAt/maxResults/total)."""
        issue = self.find(key)
        if issue is None:
            return self.missing()
        site = self.site(api)
        items = [render(site, issue, r) for r in japi.oldest_first(getattr(issue, kind))]
        start, size = _paging(request, CHILD_PAGE_CAP, CHILD_PAGE_CAP)
        return self.ok(japi.child_page(items, start, size, kind))

    # --- agile ------------------------------------------------------------------------------------

    def on_boards(self, request: Request) -> Response:
        site = self.site("2")
        project = request.args.get("projectKeyOrId")
        boards = [b for b in self.org.jira.boards
                  if not project or project in (b.project, site.project_ids[b.project])]
        start, size = _paging(request, AGILE_PAGE_CAP, AGILE_PAGE_CAP)
        page = boards[start:start + size]
        return self.ok({"maxResults": size, "startAt": start, "total": len(boards),
                        "isLast": start + size >= len(boards),
                        "values": [self.board(site, b.id) for b in page]})

    def board(self, site: japi.Site, board_id: int) -> dict[str, Any]:
        out = japi.board(site, board_id)
        if board_id in self.sprintless_boards:
            out["type"] = "simple"
        return out

    def on_sprints(self, request: Request, board_id: int) -> Response:
        if not any(b.id == board_id for b in self.org.jira.boards):
            return self.error(404, "The requested board cannot be viewed because it either does "
                                   "not exist or you do not have permission to view it.")
        if board_id in self.sprintless_boards:
            return self.error(400, "The board does not support sprints")
        site = self.site("2")
        states = set(filter(None, request.args.get("state", "").split(",")))
        sprints = [s for s in self.org.jira.sprints
                   if s.board_id == board_id and (not states or s.state in states)]
        start, size = _paging(request, AGILE_PAGE_CAP, AGILE_PAGE_CAP)
        page = sprints[start:start + size]
        return self.ok({"maxResults": size, "startAt": start,
                        "isLast": start + size >= len(sprints),
                        "values": [japi.sprint(site, s) for s in page]})


# --- request parsing --------------------------------------------------------------------------


def _params(request: Request) -> dict[str, Any]:
    """Query string, or the JSON body of a POST search; repeated `fields` kept as a list."""
    if request.method == "POST" and request.data:
        try:
            body = json.loads(request.data)
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {}
    out: dict[str, Any] = dict(request.args.items())
    if "fields" in request.args:
        out["fields"] = request.args.getlist("fields")
    return out


def _field_list(params: dict[str, Any]) -> list[str]:
    raw = params.get("fields") or []
    items = raw if isinstance(raw, list) else [raw]
    return [f.strip() for item in items for f in str(item).split(",") if f.strip()]


def _paging(request: Request, cap: int, default: int) -> tuple[int, int]:
    start = int(request.args.get("startAt") or 0)
    size = min(int(request.args.get("maxResults") or default), cap)
    return start, max(size, 1)


def _make_token(offset: int, jql: str) -> str:
    digest = hashlib.sha1(jql.encode()).hexdigest()[:12]
    return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode()


def _read_token(token: str, jql: str) -> int | None:
    try:
        offset, digest = base64.urlsafe_b64decode(token.encode()).decode().split(":")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return int(offset) if digest == hashlib.sha1(jql.encode()).hexdigest()[:12] else None


def minimum_requests(org: Org, flavour: str, projects: list[str] | None = None,
                     page_cap: int | None = None, changelog_cap: int = 100,
                     child_cap: int = 20) -> dict[str, int]:
    """The fewest requests a complete collection of `projects` needs from this emulator:
    search pages, changelog/comment/worklog calls that truncation forces, and metadata
    (serverInfo, myself, field, status, the project list when no project is named, board pages,
    one sprint page per 50 sprints per board)."""
    cloud = flavour == japi.CLOUD
    cap = page_cap or (CLOUD_PAGE_CAP if cloud else DC_PAGE_CAP)
    keys = projects or list(org.jira.projects)
    issues = [i for i in org.jira.issues if i.project in keys]
    out = {"search": sum(max(1, math.ceil(sum(i.project == k for i in issues) / cap))
                         for k in keys),
           "changelog": sum(math.ceil((len(i.histories) - changelog_cap) / CHANGELOG_PAGE_CAP)
                            for i in issues if cloud and len(i.histories) > changelog_cap),
           "comments": sum(cloud and len(i.comments) > child_cap for i in issues),
           "worklogs": sum(len(i.worklogs) > child_cap for i in issues)}
    boards = [b for b in org.jira.boards if b.project in keys]
    listing = 0 if projects else 1  # GET /project when no project is named
    out["metadata"] = 4 + listing + max(1, math.ceil(len(org.jira.boards) / AGILE_PAGE_CAP)) + sum(
        max(1, math.ceil(sum(s.board_id == b.id for s in org.jira.sprints) / AGILE_PAGE_CAP))
        for b in boards)
    return out
