"""The GitHub collector's dealings with whole repositories (collectors/github.py): the
organization's repositories, members and teams, the repositories `[github] repos` lists (a
renamed one under its new name), and the answers that concern a repository or one of its
lists rather than its items: a list it lacks (404/410), no commits yet (409), a repository
GitHub has blocked (451/403), items gone after a full pass (under its earlier names too)."""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Iterator
from typing import TYPE_CHECKING

from github.GithubException import (
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)

from collectors import github_client as gc
from collectors.github_rows import org_rows, team_slug
from processhealth import ui
from processhealth.errors import UserError

if TYPE_CHECKING:
    from collectors.github import Run

SOURCE = "github"


# --- organization ------------------------------------------------------------------------------


def collect_org(run: Run) -> list[str]:
    """Save the org's repositories, members and teams; return the full names to collect."""
    org = run.config.org
    if not org:
        return [_current_name(run, repo) for repo in _listed_repos(run.config.repos)]
    size = run.config.per_page
    repos: list[str] = []
    run.doing = f"the repositories of {org}"
    url = f"/orgs/{org}/repos"
    listed: dict[str, str] = {}  # repository id -> its name now
    for batch in gc.pages(run.requester, url, {"type": "all", "sort": "full_name"}, size):
        run.save("repos", org_rows(batch, lambda r: r["full_name"], run.at(url)), scope=org)
        repos += [r["full_name"] for r in batch]
        listed.update({str(r["id"]): r["full_name"] for r in batch})
    run.doing = f"the members of {org}"
    url = f"/orgs/{org}/members"
    for batch in gc.pages(run.requester, url, {}, size):
        run.save("members", org_rows(batch, lambda u: u["login"], run.at(url)), scope=org)
    run.doing = f"the teams of {org}"
    teams: list[str] = []
    url = f"/orgs/{org}/teams"
    for batch in gc.pages(run.requester, url, {}, size):
        run.save("teams", org_rows(batch, lambda t: f"{org}/{team_slug(t)}", run.at(url)),
                 scope=org)
        teams += [team_slug(t) for t in batch]
    for slug in teams:
        run.doing = f"the members of team {org}/{slug}"
        url = f"/orgs/{org}/teams/{slug}/members"
        for batch in gc.pages(run.requester, url, {}, size):
            rows = org_rows(batch, lambda u, s=slug: f"{s}:{u['login']}", run.at(url))
            run.save("team_members", rows, scope=f"{org}/{slug}")
    return _select(org, repos, _renamed(run, listed), run.config.repos)


def _listed_repos(wanted: list[str]) -> list[str]:
    bad = [w for w in wanted if w.count("/") != 1 or any(c in w for c in "*?[")]
    if bad or not wanted:
        raise UserError(
            f"[github] repos must list repositories as owner/name when [github] org is not set; "
            f"found {bad or 'an empty list'}. Set org to read every repository of an "
            f"organization, or name each repository in full."
        )
    return list(wanted)


def _current_name(run: Run, repo: str) -> str:
    """A listed repository renamed or transferred since answers its old name with 301 to
    /repositories/{id}/... (docs.github.com, "HTTP redirects"), which PyGithub follows without
    the query (state, sort, since, per_page): its lists would come back cut to open items.
    Ask once for its current name and read its lists there; its rows keep the configured name,
    so what was stored before the rename goes on under one name."""
    run.doing = f"the repository {repo}"
    try:
        current = str(gc.get(run.requester, f"/repos/{repo}").get("full_name") or repo)
    except GithubException as exc:
        if blocked(exc):  # skipped when its lists are read (skipped_if_blocked)
            return repo
        raise
    if current.lower() != repo.lower():
        run.moved[repo] = current
        ui.warn(f"GitHub: {repo} is now {current} (renamed or transferred); it is read there, "
                f"and its rows stay stored under {repo}, the name [github] repos gives it.")
    return repo


def _renamed(run: Run, now: dict[str, str]) -> dict[str, str]:
    """Names stored before (raw_github_repos) -> the name the same repository id is listed
    under now, where they differ: a repository renamed or transferred within the org."""
    if not run.store.table_exists("raw_github_repos"):
        return {}
    rows = run.store.con.execute("SELECT natural_key, payload->>'id' FROM raw_github_repos"
                                 ).fetchall()
    return {name: now[i] for name, i in rows if i in now and now[i] != name}


def _select(org: str, found: list[str], renamed: dict[str, str], wanted: list[str]
            ) -> list[str]:
    """The listed repositories `wanted` names; a name the organization listed before a rename
    names the repository under its new one."""
    if not wanted:
        return found
    renamed = {**{name.split("/", 1)[1]: to for name, to in renamed.items()}, **renamed}
    missing = [w for w in wanted if not any(c in w for c in "*?[") and not any(
        f == w or f.split("/", 1)[1] == w for f in found)]
    for w in [w for w in missing if w in renamed]:
        ui.warn(f"GitHub: [github] repos names {w}, which is now {renamed[w]} (renamed or "
                f"transferred); it is read under its new name, as one repository with what was "
                f"stored before. Name it {renamed[w]} in the config.")
        wanted, missing = [*wanted, renamed[w]], [m for m in missing if m != w]
    chosen = [f for f in found if any(
        fnmatch.fnmatchcase(f, w) or fnmatch.fnmatchcase(f.split("/", 1)[1], w) for w in wanted)]
    if missing:
        raise UserError(
            f"[github] repos lists {', '.join(missing)}, but the organization {org} has no such "
            f"repository that the token can see. Found: {', '.join(found) or 'none'}."
        )
    return chosen


# --- answers about a whole repository or list -------------------------------------------------


def _repo_exists(run: Run, repo: str) -> bool:
    try:
        gc.get(run.requester, run.repo_path(repo))
    except UnknownObjectException:
        return False
    return True


DELETABLE = ("issues", "issue_comments")  # what GitHub lets a user delete (PRs stay)


def mark_gone(run: Run, repo: str, entity: str) -> None:
    """After a full pass of a list: stored items it no longer has are marked deleted, also
    those stored under an earlier name of the repository (`former_names`), which no later pass
    reads: an issue deleted between the last run before a rename and the first after it."""
    since = f"{run.config.since.isoformat()}T00:00:00Z" if run.config.since else None
    seen = run.seen.get((entity, repo), set())
    gone = run.store.mark_deleted(SOURCE, entity, repo, seen, since=since)
    for former in former_names(run, repo):  # issue keys "<repo>#<n>"; comment keys are ids
        gone += run.store.mark_deleted(
            SOURCE, entity, former, {former + k[len(repo):] if k.startswith(repo + "#") else k
                                     for k in seen}, since=since)
    if gone:
        ui.warn(f"GitHub {repo}: {gone} stored {entity.replace('_', ' ')} no longer found "
                f"(deleted); they are left out of analytics.")


def former_names(run: Run, repo: str) -> list[str]:
    """Earlier names the organization listed `repo` under (raw_github_repos rows of its id):
    GitHub keeps a renamed or transferred repository's id (collectors/sql/10_github.sql reads
    its rows under all its names as one repository)."""
    if not run.store.table_exists("raw_github_repos"):
        return []
    return [r[0] for r in run.store.con.execute(
        "SELECT natural_key FROM raw_github_repos WHERE natural_key <> ? AND payload->>'id' ="
        " (SELECT payload->>'id' FROM raw_github_repos WHERE natural_key = ?)"
        " ORDER BY natural_key", [repo, repo]).fetchall()]


@contextlib.contextmanager
def skipped_if_absent(run: Run, repo: str, entity: str) -> Iterator[None]:
    """A list one repository does not have (404, or 410 "Issues are disabled for this repo") is
    partial coverage: one warning, a sync_coverage row, and the run goes on. What was saved of
    the list before stays; its checkpoint does not move past it. The commits of a repository
    without a first commit (409 "Git Repository is empty.", github/rest-api-description#385)
    are no gap: there are none, and the next run asks again."""
    try:
        yield
    except GithubException as exc:
        said = gc.message_of(exc)
        if exc.status == 409 and entity == "commits" and "is empty" in said:
            return
        if exc.status not in (404, 410) or isinstance(exc, RateLimitExceededException):
            raise
        if exc.status == 404 and not _repo_exists(run, repo):
            raise  # the repository itself is missing: a config error, not a lacking list
        ui.warn(f"GitHub answered {exc.status} ({said}) for the {entity} of {repo}; they are "
                f"skipped, the rest of the collection goes on.")
        run.store.note_gap(SOURCE, entity, repo, "gone" if exc.status == 410 else "missing",
                           f"HTTP {exc.status}: {said}")


@contextlib.contextmanager
def skipped_if_blocked(run: Run, repo: str) -> Iterator[None]:
    """A repository GitHub has blocked stays in the org's list, but each of its routes answers
    "Repository access blocked": 451 for a legal takedown (github/rest-api-description#3314),
    403 for other blocks (PyGithub/PyGithub#1015). That repository is a coverage gap; the
    other repositories are collected."""
    try:
        yield
    except GithubException as exc:
        if not blocked(exc):
            raise
        said = gc.message_of(exc)
        block = exc.data.get("block") if isinstance(exc.data, dict) else None
        reason = block.get("reason") if isinstance(block, dict) else None
        said += f" ({reason})" if reason else ""
        ui.warn(f"GitHub answered {exc.status} ({said}) for {repo}: it is skipped, the rest of "
                f"the collection goes on.")
        run.store.note_gap(SOURCE, "repository", repo, "forbidden", f"HTTP {exc.status}: {said}")




def blocked(exc: GithubException) -> bool:
    """GitHub's answer for a repository it has blocked (see skipped_if_blocked)."""
    return exc.status in (403, 451) and gc.message_of(exc) == "Repository access blocked"
