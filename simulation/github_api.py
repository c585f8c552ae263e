"""The simulated organization as GitHub REST API JSON: pure functions, no HTTP.

The emulator (github_emulator.py) serves these payloads and the fast loader
(processhealth/simload/github.py) saves the very same dicts, so both produce identical raw rows.
Shapes follow the REST API (api version 2022-11-28): list endpoints return the "simple" objects
(a pull request in a list has no merged_by or comment counts; an issue event embeds its issue).
Every URL points at `base`, the server's own scheme://host:port.

Choices where the simulation is thinner than GitHub, written down once:
- the repository history is linear: every simulated commit is listed by the commits endpoint;
- a deleted account shows as GitHub's "ghost" user on issues, comments and reviews, and as a null
  `author` (email and name kept in `commit.author`) on commits, as GitHub does;
- repository issue events are `ready_for_review`, `closed` and `merged` (no label or reference
  events); their ids are numbered in time order, so they are stable while the organization grows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from .model import GhComment, GhCommit, GhIssue, GhRelease, GhReview, Org, Person, Repo

GHOST_ID = 10137
ORG_ID = 9_000_001
EVENT_ID_BASE = 3_000_000_000
Json = dict[str, Any]


def iso(at: datetime | None) -> str | None:
    """GitHub's timestamp format: UTC, whole seconds, trailing Z."""
    if at is None:
        return None
    if at.utcoffset():
        at = at.astimezone(UTC)
    return at.isoformat(timespec="seconds")[:19] + "Z"  # several times faster than strftime


def node_id(kind: str, number: int) -> str:
    return f"{kind}_kwDO{number:08d}"


# --- accounts ----------------------------------------------------------------------------------


def _user_links(base: str, login: str, uid: int, kind: str) -> Json:
    u = f"{base}/users/{quote(login)}"
    return {
        "login": login, "id": uid, "node_id": node_id("U" if kind == "User" else "BOT", uid),
        "avatar_url": f"{base}/avatars/u/{uid}?v=4", "gravatar_id": "", "url": u,
        "html_url": f"{base}/{login}" if kind != "Bot" else f"{base}/apps/{login[:-5]}",
        "followers_url": f"{u}/followers", "following_url": f"{u}/following{{/other_user}}",
        "gists_url": f"{u}/gists{{/gist_id}}", "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{u}/subscriptions", "organizations_url": f"{u}/orgs",
        "repos_url": f"{u}/repos", "events_url": f"{u}/events{{/privacy}}",
        "received_events_url": f"{u}/received_events", "type": kind, "user_view_type": "public",
        "site_admin": False,
    }


def ghost(base: str) -> Json:
    return _user_links(base, "ghost", GHOST_ID, "User")


_USERS: dict[tuple, Json] = {}


def user(p: Person, base: str) -> Json:
    """The simple user object lists embed (`user`, `author`, `actor`).

    Built once per account and base, and shared: payloads are serialized, never modified."""
    key = (p.pid, p.github_login, p.github_id, p.github_deleted, p.is_bot, base)
    found = _USERS.get(key)
    if found is None:
        found = _USERS[key] = ghost(base) if p.github_deleted else _user_links(
            base, p.github_login or "", p.github_id or 0, "Bot" if p.is_bot else "User")
    return found


def profile(p: Person | None, base: str) -> Json:
    """GET /users/{login}: the simple object plus the public profile."""
    if p is None or p.github_deleted:
        return {**ghost(base), "name": "Deleted user", "company": None, "blog": "",
                "location": "Nothing to see here, move along.", "email": None, "hireable": None,
                "bio": "Hi, I'm @ghost! I take the place of user accounts that have been deleted.\n"
                       ":ghost:\n", "twitter_username": None, "public_repos": 0,
                "public_gists": 0, "followers": 0, "following": 0,
                "created_at": "2008-05-13T06:14:25Z", "updated_at": "2018-04-10T17:22:33Z"}
    joined = iso(datetime(p.joined_on.year, p.joined_on.month, p.joined_on.day))
    name = None if p.is_bot else (p.github_name or p.name)
    return {**user(p, base), "name": name, "company": None, "blog": "",
            "location": None, "email": p.github_email, "hireable": None, "bio": None,
            "twitter_username": None, "public_repos": 0, "public_gists": 0, "followers": 0,
            "following": 0, "created_at": joined, "updated_at": joined}


def org_account(org: Org, base: str) -> Json:
    login = org.github.org
    return {**_user_links(base, login, ORG_ID, "Organization"),
            "url": f"{base}/orgs/{login}", "html_url": f"{base}/{login}"}


def org_members(org: Org) -> list[Person]:
    """People GET /orgs/{org}/members lists: current human accounts (leavers were removed)."""
    return sorted((p for p in org.people if p.github_login and not p.is_bot
                   and not p.github_deleted and p.left_on is None),
                  key=lambda p: p.github_id or 0)


def team_members(org: Org, slug: str) -> list[Person]:
    return [p for p in map(org.person, org.github.teams[slug]) if not p.github_deleted]


def association(p: Person) -> str:
    return "NONE" if p.is_bot or p.github_deleted else "MEMBER"


# --- repositories and teams --------------------------------------------------------------------


def repo(org: Org, r: Repo, base: str) -> Json:
    full = f"{org.github.org}/{r.name}"
    u = f"{base}/repos/{full}"
    host = base.split("://", 1)[-1]
    return {
        "id": r.id, "node_id": node_id("R", r.id), "name": r.name, "full_name": full,
        "private": True, "owner": org_account(org, base), "html_url": f"{base}/{full}",
        "description": f"{r.team or 'shared'} repository", "fork": False, "url": u,
        "issues_url": f"{u}/issues{{/number}}", "pulls_url": f"{u}/pulls{{/number}}",
        "commits_url": f"{u}/commits{{/sha}}", "releases_url": f"{u}/releases{{/id}}",
        "created_at": iso(r.created_at), "updated_at": iso(r.created_at),
        "pushed_at": iso(r.created_at), "git_url": f"git://{host}/{full}.git",
        "ssh_url": f"git@{host}:{full}.git", "clone_url": f"{base}/{full}.git", "homepage": None,
        "size": 0, "stargazers_count": 0, "watchers_count": 0, "language": "Python",
        "forks_count": 0, "open_issues_count": 0, "license": None, "mirror_url": None,
        "forks": 0, "open_issues": 0, "watchers": 0, "has_projects": False, "has_wiki": False,
        "has_pages": False, "has_downloads": True, "default_branch": "main",
        "visibility": "private",
        "archived": False, "disabled": False, "has_issues": True,
        "permissions": {"admin": False, "maintain": False, "push": True, "triage": True,
                        "pull": True},
    }


def team(org: Org, slug: str, index: int, base: str) -> Json:
    tid = 7_000_000 + index
    u = f"{base}/organizations/{ORG_ID}/team/{tid}"
    return {"id": tid, "node_id": node_id("T", tid), "url": u,
            "html_url": f"{base}/orgs/{org.github.org}/teams/{slug}", "name": slug.title(),
            "slug": slug, "description": f"The {slug} team", "privacy": "closed",
            "notification_setting": "notifications_enabled", "permission": "pull",
            "members_url": f"{u}/members{{/member}}", "repositories_url": f"{u}/repos",
            "parent": None}


# --- issues and pull requests ------------------------------------------------------------------


def reactions(url: str) -> Json:
    return {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
            "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0}


def issue_updated(i: GhIssue) -> datetime:
    """GitHub moves updated_at on every change; the simulation records some changes elsewhere."""
    at = i.updated_at
    for t in (i.closed_at, i.merged_at, i.ready_at):
        if t is not None and t > at:
            at = t
    return at


def _labels(full: str, names: list[str], base: str) -> list[Json]:
    return [{"id": 4_000_000 + sum(map(ord, n)), "node_id": node_id("LA", sum(map(ord, n))),
             "url": f"{base}/repos/{full}/labels/{quote(n)}", "name": n,
             "color": "d73a4a" if n == "bug" else "0e8a16", "default": n == "bug",
             "description": None} for n in names]


def issue(org: Org, i: GhIssue, base: str) -> Json:
    """An issue or pull request as the issues endpoints list it."""
    full = f"{org.github.org}/{i.repo}"
    u = f"{base}/repos/{full}/issues/{i.number}"
    author = org.person(i.user_pid)
    body: Json = {
        "url": u, "repository_url": f"{base}/repos/{full}", "labels_url": f"{u}/labels{{/name}}",
        "comments_url": f"{u}/comments", "events_url": f"{u}/events",
        "html_url": f"{base}/{full}/{'pull' if i.is_pr else 'issues'}/{i.number}",
        "id": i.id, "node_id": node_id("I", i.id), "number": i.number, "title": i.title,
        "user": user(author, base), "labels": _labels(full, i.labels, base),
        "state": "closed" if i.closed_at else "open", "locked": False, "assignee": None,
        "assignees": [], "milestone": None, "comments": i.comment_count,
        "created_at": iso(i.created_at), "updated_at": iso(issue_updated(i)),
        "closed_at": iso(i.closed_at), "author_association": association(author),
        "active_lock_reason": None, "body": i.body, "reactions": reactions(u),
        "timeline_url": f"{u}/timeline",
        "performed_via_github_app": None,
        "state_reason": ("completed" if i.closed_at and not i.is_pr else None),
    }
    if i.is_pr:
        p = f"{base}/repos/{full}/pulls/{i.number}"
        body["draft"] = _draft_now(i)
        body["pull_request"] = {"url": p, "html_url": body["html_url"],
                                "diff_url": f"{body['html_url']}.diff",
                                "patch_url": f"{body['html_url']}.patch",
                                "merged_at": iso(i.merged_at)}
    return body


def _draft_now(i: GhIssue) -> bool:
    return i.ready_at is None and not i.closed_at


def _head_sha(i: GhIssue) -> str:
    return i.commit_shas[-1] if i.commit_shas else f"{i.id:040x}"


def pull(org: Org, r: Repo, i: GhIssue, base: str) -> Json:
    """A pull request as GET /repos/{o}/{r}/pulls lists it (the "simple" shape)."""
    full = f"{org.github.org}/{i.repo}"
    u = f"{base}/repos/{full}/pulls/{i.number}"
    html = f"{base}/{full}/pull/{i.number}"
    author = org.person(i.user_pid)
    repo_json = repo(org, r, base)
    reviewers = [user(org.person(pid), base) for pid in i.reviewer_pids]
    return {
        "url": u, "id": i.id + 50_000_000, "node_id": node_id("PR", i.id), "html_url": html,
        "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
        "issue_url": f"{base}/repos/{full}/issues/{i.number}", "number": i.number,
        "state": "closed" if i.closed_at else "open", "locked": False, "title": i.title,
        "user": user(author, base), "body": i.body, "created_at": iso(i.created_at),
        "updated_at": iso(issue_updated(i)), "closed_at": iso(i.closed_at),
        "merged_at": iso(i.merged_at),
        "merge_commit_sha": f"{i.id + 1:040x}" if i.merged_at else None,
        "assignee": None, "assignees": [], "requested_reviewers": reviewers,
        "requested_teams": [], "labels": _labels(full, i.labels, base), "milestone": None,
        "draft": _draft_now(i), "commits_url": f"{u}/commits",
        "review_comments_url": f"{u}/comments",
        "review_comment_url": f"{base}/repos/{full}/pulls/comments{{/number}}",
        "comments_url": f"{base}/repos/{full}/issues/{i.number}/comments",
        "statuses_url": f"{base}/repos/{full}/statuses/{_head_sha(i)}",
        "head": {"label": f"{org.github.org}:{i.head_ref}", "ref": i.head_ref,
                 "sha": _head_sha(i), "user": org_account(org, base), "repo": repo_json},
        "base": {"label": f"{org.github.org}:main", "ref": "main", "sha": f"{r.id:040x}",
                 "user": org_account(org, base), "repo": repo_json},
        "_links": {"self": {"href": u}, "html": {"href": html},
                   "issue": {"href": f"{base}/repos/{full}/issues/{i.number}"},
                   "comments": {"href": f"{base}/repos/{full}/issues/{i.number}/comments"},
                   "review_comments": {"href": f"{u}/comments"},
                   "commits": {"href": f"{u}/commits"}},
        "author_association": association(author), "auto_merge": None,
        "active_lock_reason": None,
    }


def pull_full(org: Org, r: Repo, i: GhIssue, base: str) -> Json:
    """GET /repos/{o}/{r}/pulls/{n}: the simple shape plus merge facts and counts."""
    merged_by = org.person(i.merged_by_pid) if i.merged_by_pid else None
    return {**pull(org, r, i, base), "merged": i.merged_at is not None,
            "mergeable": None if i.closed_at else True, "mergeable_state": "unknown",
            "merged_by": user(merged_by, base) if merged_by else None,
            "comments": i.comment_count, "review_comments": i.review_comment_count,
            "commits": len(i.commit_shas), "additions": 0, "deletions": 0, "changed_files": 0,
            "rebaseable": None if i.closed_at else True, "maintainer_can_modify": False}


# --- reviews and comments ----------------------------------------------------------------------


def review(org: Org, rv: GhReview, base: str) -> Json:
    full = f"{org.github.org}/{rv.repo}"
    html = f"{base}/{full}/pull/{rv.pr_number}#pullrequestreview-{rv.id}"
    pr_url = f"{base}/repos/{full}/pulls/{rv.pr_number}"
    who = org.person(rv.user_pid)
    return {"id": rv.id, "node_id": node_id("PRR", rv.id), "user": user(who, base),
            "body": rv.body, "state": rv.state, "html_url": html, "pull_request_url": pr_url,
            "author_association": association(who),
            "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
            "submitted_at": iso(rv.submitted_at), "commit_id": f"{rv.id:040x}"}


def issue_comment(org: Org, c: GhComment, base: str) -> Json:
    full = f"{org.github.org}/{c.repo}"
    who = org.person(c.user_pid)
    return {"url": f"{base}/repos/{full}/issues/comments/{c.id}",
            "html_url": f"{base}/{full}/issues/{c.number}#issuecomment-{c.id}",
            "issue_url": f"{base}/repos/{full}/issues/{c.number}", "id": c.id,
            "node_id": node_id("IC", c.id), "user": user(who, base),
            "created_at": iso(c.created_at), "updated_at": iso(c.created_at),
            "author_association": association(who), "body": c.body,
            "reactions": reactions(f"{base}/repos/{full}/issues/comments/{c.id}"),
            "performed_via_github_app": None}


def review_of(c: GhComment, reviews: list[GhReview]) -> int | None:
    """GitHub files every review comment under a review: the author's next one on that PR."""
    later = [rv.id for rv in reviews if rv.user_pid == c.user_pid
             and rv.submitted_at >= c.created_at]
    return later[0] if later else None


def review_comment(org: Org, c: GhComment, review_id: int | None, base: str) -> Json:
    full = f"{org.github.org}/{c.repo}"
    u = f"{base}/repos/{full}/pulls/comments/{c.id}"
    html = f"{base}/{full}/pull/{c.number}#discussion_r{c.id}"
    pr_url = f"{base}/repos/{full}/pulls/{c.number}"
    who = org.person(c.user_pid)
    return {"url": u, "pull_request_review_id": review_id, "id": c.id,
            "node_id": node_id("PRRC", c.id), "diff_hunk": "@@ -1,3 +1,4 @@", "path": c.path,
            "position": 1, "original_position": 1, "commit_id": f"{c.id:040x}",
            "original_commit_id": f"{c.id:040x}", "user": user(who, base), "body": c.body,
            "created_at": iso(c.created_at), "updated_at": iso(c.created_at), "html_url": html,
            "pull_request_url": pr_url, "author_association": association(who),
            "_links": {"self": {"href": u}, "html": {"href": html},
                       "pull_request": {"href": pr_url}},
            "start_line": None, "original_start_line": None, "start_side": None, "line": 1,
            "original_line": 1, "side": "RIGHT", "subject_type": "line", "reactions": reactions(u)}


# --- commits and releases ----------------------------------------------------------------------


def commit_parents(commits: list[GhCommit]) -> dict[str, str | None]:
    """sha -> parent sha, for one repository's commits in time order (a linear history)."""
    return {c.sha: (before.sha if before else None)
            for before, c in zip([None, *commits], commits, strict=False)}


def commit(org: Org, c: GhCommit, parent: str | None, base: str) -> Json:
    full = f"{org.github.org}/{c.repo}"
    u = f"{base}/repos/{full}/commits/{c.sha}"
    who = org.person(c.author_pid)
    account = None if who.github_deleted else user(who, base)
    sig = {"name": who.commit_name or who.name, "email": who.commit_email or who.email,
           "date": iso(c.date)}
    tree = c.sha[::-1]
    return {
        "sha": c.sha, "node_id": node_id("C", int(c.sha[:8], 16)),
        "commit": {"author": sig, "committer": dict(sig), "message": c.message,
                   "tree": {"sha": tree, "url": f"{base}/repos/{full}/git/trees/{tree}"},
                   "url": f"{base}/repos/{full}/git/commits/{c.sha}", "comment_count": 0,
                   "verification": {"verified": False, "reason": "unsigned", "signature": None,
                                    "payload": None, "verified_at": None}},
        "url": u, "html_url": f"{base}/{full}/commit/{c.sha}", "comments_url": f"{u}/comments",
        "author": account, "committer": account,
        "parents": [] if parent is None else [
            {"sha": parent, "url": f"{base}/repos/{full}/commits/{parent}",
             "html_url": f"{base}/{full}/commit/{parent}"}],
    }


def release(org: Org, rl: GhRelease, base: str) -> Json:
    full = f"{org.github.org}/{rl.repo}"
    u = f"{base}/repos/{full}/releases/{rl.id}"
    return {"url": u, "assets_url": f"{u}/assets",
            "upload_url": f"{base}/repos/{full}/releases/{rl.id}/assets{{?name,label}}",
            "html_url": f"{base}/{full}/releases/tag/{rl.tag}", "id": rl.id,
            "author": user(org.person(rl.author_pid), base), "node_id": node_id("RE", rl.id),
            "tag_name": rl.tag, "target_commitish": "main", "name": rl.name, "draft": False,
            "prerelease": False, "created_at": iso(rl.created_at),
            "published_at": iso(rl.published_at), "assets": [],
            "tarball_url": f"{base}/repos/{full}/tarball/{rl.tag}",
            "zipball_url": f"{base}/repos/{full}/zipball/{rl.tag}", "body": f"Changes in {rl.tag}"}


# --- the rate_limit endpoint ----------------------------------------------------------------


def rate_limit(limit: int, remaining: int, reset: int, used: int) -> Json:
    core = {"limit": limit, "used": used, "remaining": remaining, "reset": reset}
    other = {"limit": 5000, "used": 0, "remaining": 5000, "reset": reset}
    return {"resources": {"core": core, "graphql": other,
                          "search": {**other, "limit": 30, "remaining": 30}},
            "rate": core}
