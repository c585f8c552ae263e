"""Pure functions from Jira REST payloads to raw-store rows, shared by the collector, the JSON
import and the simulation's fast loader, so all three write identical rows.

A raw issue row holds the issue as the search returned it, except that its changelog, comments
and worklogs are complete: what a search truncated was fetched separately and merged here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

SOURCE = "jira"
# Children a search may truncate: (where in the issue, list key, endpoint under /issue/{key}/).
CHILDREN = {
    "histories": (("changelog",), "histories", "changelog"),
    "comments": (("fields", "comment"), "comments", "comment"),
    "worklogs": (("fields", "worklog"), "worklogs", "worklog"),
}


def parse_time(text: str | None) -> datetime | None:
    """Jira timestamps: 2026-02-03T09:15:00.000+0000 (also +01:00, Z, or no fraction)."""
    if not text:
        return None
    value = text.strip().replace("Z", "+00:00")
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        value = f"{value[:-2]}:{value[-2:]}"
    return datetime.fromisoformat(value).astimezone(UTC)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def block(issue: dict[str, Any], child: str) -> dict[str, Any] | None:
    """The inline page object of a child collection ({total, <list>: [...]}), if present."""
    path, _, _ = CHILDREN[child]
    node: Any = issue
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def missing(issue: dict[str, Any], child: str) -> int:
    """How many items of a child collection the issue's inline block says it lacks."""
    found = block(issue, child)
    if found is None:
        return 0
    items = found.get(CHILDREN[child][1]) or []
    total = found.get("total")
    return max(0, int(total) - len(items)) if isinstance(total, int) else 0


def truncated(issue: dict[str, Any]) -> list[str]:
    return [child for child in CHILDREN if missing(issue, child)]


def merged(issue: dict[str, Any], child: str, items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The issue with one child collection replaced by `items` (deduplicated by id, oldest
    first), as a complete page: {startAt: 0, maxResults: n, total: n, <list>: items}."""
    path, key, _ = CHILDREN[child]
    by_id: dict[str, dict[str, Any]] = {}
    for item in items:
        by_id.setdefault(str(item.get("id")), item)
    ordered = sorted(by_id.values(), key=_chronological)
    out = dict(issue)
    parent = out
    for part in path[:-1]:
        parent[part] = dict(parent.get(part) or {})
        parent = parent[part]
    n = len(ordered)
    parent[path[-1]] = {"startAt": 0, "maxResults": n, "total": n, key: ordered}
    return out


def _chronological(item: dict[str, Any]) -> tuple[datetime, int]:
    at = parse_time(item.get("created") or item.get("started")) or datetime.min.replace(tzinfo=UTC)
    ident = str(item.get("id") or "0")
    return at, int(ident) if ident.isdigit() else 0


def issue_row(issue: dict[str, Any], source_url: str | None = None) -> dict[str, Any]:
    fields = issue.get("fields") or {}
    updated = parse_time(fields.get("updated"))
    return {"natural_key": issue["key"], "updated_at": iso(updated) if updated else None,
            "source_url": source_url or issue.get("self"), "payload": issue}


def project_of(issue: dict[str, Any]) -> str:
    project = (issue.get("fields") or {}).get("project") or {}
    return project.get("key") or str(issue["key"]).rsplit("-", 1)[0]


def field_rows(fields: list[dict[str, Any]], source_url: str) -> list[dict[str, Any]]:
    return [{"natural_key": f["id"], "updated_at": None, "source_url": source_url, "payload": f}
            for f in fields]


def status_rows(statuses: list[dict[str, Any]], source_url: str) -> list[dict[str, Any]]:
    return [{"natural_key": str(s["id"]), "updated_at": None,
             "source_url": s.get("self") or source_url, "payload": s} for s in statuses]


def board_rows(boards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"natural_key": str(b["id"]), "updated_at": None, "source_url": b.get("self"),
             "payload": b} for b in boards]


def sprint_rows(sprints: list[dict[str, Any]], board_id: int) -> list[dict[str, Any]]:
    """Sprints as the agile API lists them, with the board they were listed under."""
    return [{"natural_key": str(s["id"]), "updated_at": None, "source_url": s.get("self"),
             "payload": {**s, "boardId": s.get("originBoardId", board_id)}} for s in sprints]


def names_as_fields(names: dict[str, str]) -> list[dict[str, Any]]:
    """A search response's `names` (expand=names) as minimal /field entries."""
    return [{"id": fid, "name": name, "custom": fid.startswith("customfield_")}
            for fid, name in names.items()]
