"""Repository issue events as GitHub REST API JSON (a part of github_api.py: pure functions, no
HTTP): `ready_for_review`, `closed` and `merged`, numbered in time order, so their ids are stable
while the organization grows."""

from __future__ import annotations

from datetime import datetime

from .github_api import Json, iso, issue, node_id, user
from .model import GhIssue, Org


def event_records(org: Org) -> list[tuple[datetime, str, GhIssue, str]]:
    """(at, event, issue, actor pid) for every issue event, in time order."""
    closers = {(c.repo, c.number, c.created_at): c.user_pid for c in org.github.issue_comments}
    found: list[tuple[datetime, str, GhIssue, str]] = []
    for i in org.github.issues:
        if i.is_pr and i.ready_at is not None and i.ready_at > i.created_at:
            found.append((i.ready_at, "ready_for_review", i, i.user_pid))
        if i.merged_at is not None:
            found.append((i.merged_at, "merged", i, i.merged_by_pid or i.user_pid))
        if i.closed_at is not None:
            actor = (i.merged_by_pid if i.merged_at else
                     closers.get((i.repo, i.number, i.closed_at), i.user_pid))
            found.append((i.closed_at, "closed", i, actor or i.user_pid))
    order = {"ready_for_review": 0, "merged": 1, "closed": 2}
    found.sort(key=lambda e: (e[0], e[2].id, order[e[1]]))
    return found


def issue_event(org: Org, event_id: int, record: tuple[datetime, str, GhIssue, str],
                base: str) -> Json:
    at, kind, i, actor = record
    full = f"{org.github.org}/{i.repo}"
    commit_id = f"{i.id + 1:040x}" if kind in ("merged", "closed") and i.merged_at else None
    return {"id": event_id, "node_id": node_id("E", event_id),
            "url": f"{base}/repos/{full}/issues/events/{event_id}",
            "actor": user(org.person(actor), base), "event": kind, "commit_id": commit_id,
            "commit_url": f"{base}/repos/{full}/commits/{commit_id}" if commit_id else None,
            "created_at": iso(at), "performed_via_github_app": None,
            "issue": issue(org, i, base)}
