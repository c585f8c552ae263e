"""GitHub entities as data, and the pure functions that turn API payloads into raw rows.

Shared by the collector (collectors/github.py) and the fast loader
(processhealth/simload/github.py), so a simulated load writes exactly the rows a real collection
would.

Each repository entity is one paged list. How it is read decides how it is checkpointed:
- `asc` lists take `since` and come oldest change first (issues, issue and review comments):
  each page is saved with the cursor of its last item, in one transaction. GitHub's `since` is
  inclusive, so a resumed or repeated run re-reads only the boundary items, never skips one.
- `desc` lists come newest first (pulls sorted by update, commits, releases, issue events): read
  until an item is older than the cursor; the pages are saved as they come and the cursor (the
  newest item seen) goes with the last one. A run killed half way re-reads from the top; rows
  are upserted by natural key, so nothing is duplicated.
Reviews are a child of pulls: see `review_cursor`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


def _get(path: str) -> Callable[[Json], Any]:
    keys = path.split(".")

    def read(item: Json) -> Any:
        value: Any = item
        for k in keys:
            value = value.get(k) if isinstance(value, dict) else None
        return value

    return read


@dataclass(frozen=True)
class Entity:
    name: str  # raw table raw_github_<name>
    path: str  # under /repos/{owner}/{repo}/
    params: dict[str, str] = field(default_factory=dict)
    order: str = "asc"  # "asc": since-filtered, oldest first; "desc": newest first
    since: bool = True  # the endpoint filters on a `since` parameter
    cursor: Callable[[Json], Any] = _get("updated_at")  # ISO time the list is ordered by
    key: Callable[[str, Json], str] = lambda repo, item: str(item["id"])
    updated: Callable[[Json], Any] = _get("updated_at")


def _number_key(repo: str, item: Json) -> str:
    return f"{repo}#{item['number']}"


REPO_ENTITIES = (
    Entity("issues", "issues", {"state": "all", "sort": "updated", "direction": "asc"},
           key=_number_key),
    Entity("pulls", "pulls", {"state": "all", "sort": "updated", "direction": "desc"},
           order="desc", since=False, key=_number_key),
    Entity("issue_comments", "issues/comments", {"sort": "updated", "direction": "asc"}),
    Entity("review_comments", "pulls/comments", {"sort": "updated", "direction": "asc"}),
    Entity("commits", "commits", order="desc", cursor=_get("commit.committer.date"),
           key=lambda repo, item: f"{repo}@{item['sha']}", updated=_get("commit.committer.date")),
    Entity("releases", "releases", order="desc", since=False, cursor=_get("created_at"),
           updated=lambda item: item.get("published_at") or item.get("created_at")),
    Entity("issue_events", "issues/events", order="desc", since=False,
           cursor=_get("created_at"), updated=_get("created_at")),
)
ENTITY = {e.name: e for e in REPO_ENTITIES}

# Reviews: one list per pull request; natural key = review id.
REVIEWS = Entity("reviews", "pulls/{number}/reviews", order="asc", since=False,
                 cursor=_get("submitted_at"), updated=_get("submitted_at"))


# Commits of one pull request (GET /pulls/{number}/commits, at most 250 by GitHub's limit): its own
# commits, also those a squash merge left off the default branch. Natural key
# "<owner>/<repo>#<number>@<sha>", since one commit can be in two pull requests.
PULL_COMMITS = Entity("pull_commits", "pulls/{number}/commits", order="asc", since=False,
                      cursor=_get("commit.committer.date"), updated=_get("commit.committer.date"))


def pull_commit_rows(repo: str, number: int, items: Iterable[Json], url: str) -> list[Json]:
    return [{"natural_key": f"{repo}#{number}@{item['sha']}",
             "updated_at": PULL_COMMITS.updated(item), "source_url": item.get("url") or url,
             "payload": item} for item in items]


def repo_rows(entity: Entity, repo: str, items: Iterable[Json], url: str) -> list[Json]:
    """Raw rows for list items of one repository; `url` is the list's API URL (provenance
    for items that carry no `url` of their own, like reviews)."""
    return [{"natural_key": entity.key(repo, item), "updated_at": entity.updated(item),
             "source_url": item.get("url") or url, "payload": item} for item in items]


def org_rows(items: Iterable[Json], key: Callable[[Json], str], url: str) -> list[Json]:
    """Raw rows for org-level lists (repos, members, teams, team members, users)."""
    return [{"natural_key": key(item), "updated_at": item.get("updated_at"),
             "source_url": item.get("url") or url, "payload": item} for item in items]


def newest(entity: Entity, items: Iterable[Json]) -> str | None:
    values = [v for v in map(entity.cursor, items) if v]
    return max(values) if values else None


def is_older(entity: Entity, item: Json, cursor: str | None) -> bool:
    """True once a newest-first list has gone past the checkpoint."""
    value = entity.cursor(item)
    return cursor is not None and value is not None and value < cursor


def advanced(old: str | None, new: str | None) -> str | None:
    """The cursor to write with a page: None when it would not move (so an unchanged run
    writes nothing at all)."""
    if new is None or (old is not None and new <= old):
        return None
    return new


def review_cursor(pull: Json, natural_key: str) -> str:
    """Reviews of a repository are fetched for pulls in (updated_at, key) order; the cursor is
    the last pull done, so a re-run fetches reviews only of pulls touched since."""
    return f"{pull.get('updated_at') or ''}|{natural_key}"


def split_review_cursor(cursor: str | None) -> tuple[str, str]:
    if not cursor:
        return "", ""
    at, _, key = cursor.partition("|")
    return at, key


def user_row(login: str, profile: Json, url: str) -> Json:
    """A GET /users/{login} answer, keyed by the login it was asked for (the cache key)."""
    return {"natural_key": login, "updated_at": profile.get("updated_at"),
            "source_url": profile.get("url") or url, "payload": profile}


def team_slug(team: Json) -> str:
    """A team's slug; older GitHub Enterprise payloads lack it, and GitHub derives it from the
    name (lower case, runs of other characters as one "-")."""
    if team.get("slug"):
        return str(team["slug"])
    name = re.sub(r"[^a-z0-9]+", "-", str(team.get("name") or "").lower()).strip("-")
    return name or str(team.get("id"))
