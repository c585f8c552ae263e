"""GitHub's responses as the emulator sends them: headers, pages, errors and rate limits.

One idea kept apart from the routes: the `x-ratelimit-*` headers every response carries, a page
of a list with GitHub's `Link` header (first/prev/next/last, `/repositories/{id}/...` URLs on
this server's own host:port), GitHub's error body (`message`, `documentation_url`, `status`), 401
for a missing or wrong token, 404, and the two 403s of a rate limit (primary:
`x-ratelimit-remaining: 0` with `x-ratelimit-reset`; secondary: `Retry-After`); and what GitHub
answers about a whole repository: 409 for the commits of an empty one, 301 for an old name,
451/403 for a blocked one; and 422 past the items a list serves (`paging_limit`).
`GitHubResponses` is mixed into the emulator, which supplies `token`, `limit`, `window_start`,
`rate_limit_kind`, `api`, `prefix`, `stats`, `faults` and `paging_limit`. The routes' parameter
helpers (`since_param`, `state_ok`, `by_pr`) are at the end.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .github_api import Json, iso
from .model import GhIssue

DOCS = "https://docs.github.com/rest"
RATE_DOCS = ("https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
             "#about-secondary-rate-limits")


def error_body(message: str, status: int, docs: str = DOCS) -> Json:
    return {"message": message, "documentation_url": docs, "status": str(status)}


class GitHubResponses:
    """Headers, JSON bodies, pages and error responses of the GitHub emulator."""

    token: str
    limit: int
    window_start: float
    rate_limit_kind: str
    api: str

    def _headers(self) -> dict[str, str]:
        used = min(self.stats.total, self.limit)
        return {"x-ratelimit-limit": str(self.limit),
                "x-ratelimit-remaining": str(self.limit - used),
                "x-ratelimit-reset": str(int(self.window_start) + 3600),
                "x-ratelimit-used": str(used), "x-ratelimit-resource": "core",
                "x-github-api-version-selected": "2022-11-28",
                "x-github-media-type": "github.v3; format=json"}

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None
              ) -> Response:
        return Response(json.dumps(body), status=status,
                        headers={**self._headers(), **(headers or {})},
                        content_type="application/json; charset=utf-8")
    def _page(self, request: Request, path: str, items: Sequence[Any],
              build: Callable[[Any], dict]) -> Response:
        """One page of `items` with GitHub's Link header; `path` is the canonical list path."""
        try:
            per_page = min(max(int(request.args.get("per_page", 30)), 1), 100)
            page = max(int(request.args.get("page", 1)), 1)
        except ValueError:
            per_page, page = 30, 1
        limit = next((n for list_path, n in self.paging_limit.items()
                      if path.endswith("/" + list_path)), None)
        if limit is not None and page * per_page > limit:
            return self.paging_limited()
        last = max(1, math.ceil(len(items) / per_page))
        body = [build(x) for x in items[(page - 1) * per_page: page * per_page]]
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]

        def link(n: int, rel: str) -> str:
            return f'<{self.api}{path}?{urlencode([*args, ("page", n)])}>; rel="{rel}"'

        links = []
        if page > 1:
            links += [link(page - 1, "prev")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first")]
        return self._json(body, headers={"link": ", ".join(links)} if links else None)

    # --- errors --------------------------------------------------------------------------------

    def check_auth(self, request: Request) -> Response | None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() in ("token", "bearer") and given == self.token:
            return None
        if not scheme:
            return self._json(error_body("Requires authentication", 401), 401)
        return self._json(error_body("Bad credentials", 401), 401)

    def not_found(self, request: Request, error: HTTPException) -> Response:
        return self._json(error_body("Not Found", 404), 404)

    def absent(self, request: Request, status: int) -> Response:
        """Faults.absent: GitHub's words for a list a repository does not have."""
        message = {410: "Issues are disabled for this repo", 404: "Not Found",
                   403: "Resource not accessible by integration"}.get(status, "Error")
        return self._json(error_body(message, status), status)

    def rate_limited(self, request: Request) -> Response:
        wait = max(0.0, self.faults.limited_until - time.monotonic())
        rid = f"0000:{self.stats.total:05d}:0000000:0000000:00000000"
        if self.rate_limit_kind == "secondary":
            body = error_body(
                "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                "try again. If you reach out to GitHub Support for help, please include the "
                f"request ID {rid}.", 403, RATE_DOCS)
            return self._json(body, 403, {"retry-after": str(math.ceil(wait))})
        body = error_body(
            "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
            f"please include the request ID {rid} and timestamp {iso(datetime.now())}.",
            403, RATE_DOCS.split("#")[0] + "#about-the-primary-rate-limit")
        return self._json(body, 403, {
            "x-ratelimit-remaining": "0", "x-ratelimit-used": str(self.limit),
            "x-ratelimit-reset": str(math.ceil(time.time() + wait))})

    def moved(self, request: Request, repo_id: int) -> Response:
        """An old name of a renamed or transferred repository (`renamed`): 301 Moved Permanently
        to the same route and query under /repositories/{id} (docs.github.com, "HTTP redirects";
        the Location keeps the query: node-gh/gh#579)."""
        depth = 4 + self.prefix.count("/")
        rest = request.path.split("/", depth)[depth:]
        query = request.query_string.decode()
        location = (f"{self.api}/repositories/{repo_id}{'/' + rest[0] if rest else ''}"
                    f"{'?' + query if query else ''}")
        body = {"message": "Moved Permanently", "url": location,
                "documentation_url": DOCS + "/guides/best-practices-for-using-the-rest-api"}
        return self._json(body, 301, {"location": location})

    def paging_limited(self) -> Response:
        """A page past what a list serves (`paging_limit`: list path -> items): 422, though the
        page before names it in its Link header, as GitHub answers a repository's issue
        comments past about 40,000 (singer-io/tap-github#61, page 1334 of 30; the page x
        per_page <= 40,000 rule of apache/incubator-devlake#8842); no generated organization
        is limited."""
        return self._json(error_body(
            "In order to keep the API fast for everyone, pagination is limited for this "
            "resource.", 422, "https://docs.github.com/v3/#pagination"), 422)

    def empty_repository(self) -> Response:
        """The commits list of a repository without a first commit: 409, whatever the filters
        (github/rest-api-description#385; docs.github.com, "Git database" guide)."""
        return self._json(error_body("Git Repository is empty.", 409,
                                     DOCS + "/commits/commits#list-commits"), 409)

    def blocked_answer(self, reason: str) -> Response:
        """A repository GitHub has blocked (`blocked`) stays in the org's list, but each of its
        routes answers "Repository access blocked" with the block: 451 for a legal takedown
        ("dmca"), 403 for others ("tos", "unavailable") (github/rest-api-description#3314,
        PyGithub/PyGithub#1015); no generated organization has one."""
        body = {"message": "Repository access blocked", "block": {
            "reason": reason, "created_at": "2026-01-15T17:53:56Z",
            "html_url": "https://github.com/tos"}}
        return self._json(body, 451 if reason == "dmca" else 403)


class Moved(Exception):
    """An old name of a renamed repository (`GitHubEmulator.renamed`): its id."""

    def __init__(self, repo_id: int) -> None:
        super().__init__(repo_id)
        self.repo_id = repo_id


class Blocked(Exception):
    """A repository GitHub has blocked (`GitHubEmulator.blocked`), with the block's reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- request parameters and indexes, shared by the emulator's routes -----------------------


def by_pr(commits: list[Any]) -> dict[int | None, list[Any]]:
    out: dict[int | None, list[Any]] = {}
    for c in commits:
        out.setdefault(c.pr_number, []).append(c)
    return out


def state_ok(i: GhIssue, state: str) -> bool:  # an issue list's `state` filter
    return state == "all" or (state == "closed") == (i.closed_at is not None)


def since_param(value: str | None) -> str | None:
    """A `since`/`until` parameter (ISO 8601) in GitHub's own format, so that string
    comparison orders it."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso(at.replace(tzinfo=at.tzinfo or UTC).astimezone(UTC))
