"""Collect GitHub activity into the raw store through PyGithub, incrementally and resumably.

    collect(config.github, store, full=False)

Per organization: repositories, members, teams and their members. Per repository, one paged list
per entity (collectors/github_rows.py: issues with PRs, pulls, issue comments, review comments,
commits, releases, issue events), then the reviews and the commits of every pull request touched
since the last run, then a profile (GET /users/{login}) for each account not seen before.

Requests: one per page of 100 items of each list, one reviews call and one commits call per
touched pull request, one call per new account (and, without [github] org, one GET /repos/{o}/{r}
per listed repository, for its current name); nothing is completed lazily. Issue events
(repo-wide, one list) give ready-for-review and merged-by; a pull request's own commits list
(GET /pulls/{n}/commits) ties each commit to it and keeps a squash-merged pull request's commits,
which the default branch no longer lists (collectors/sql/10_github.sql). An incremental run
reads the commits list back to `commits_lookback_days` before its checkpoint: the list goes by
committer date, and a commit pushed after a run may be older than that run's newest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from github.GithubException import (
    GithubException,
    UnknownObjectException,
)
from github.Requester import Requester

from collectors import github_client as gc
from collectors import privacy
from collectors.github_repos import (
    DELETABLE,
    SOURCE,
    collect_org,
    mark_gone,
    skipped_if_absent,
    skipped_if_blocked,
)
from collectors.github_rows import (
    PULL_COMMITS,
    REPO_ENTITIES,
    REVIEWS,
    Entity,
    advanced,
    is_older,
    newest,
    pull_commit_rows,
    repo_rows,
    review_cursor,
    split_review_cursor,
    user_row,
)
from collectors.slack_rows import Rules
from processhealth import ui
from processhealth.config_models import GitHubConfig
from processhealth.store import RawStore

REVIEW_BATCH = 100  # pull requests per saved batch of reviews (and per reviews checkpoint)
# Pages are saved (with their checkpoint) in transactions of at least this many rows: a save
# costs about the same for 100 rows as for 1,000, so fewer, larger ones keep collection fast.
# A run killed in between re-reads at most this many rows.
SAVE_ROWS = 1000
PULL_COMMITS_CAP = 250  # GET /pulls/{n}/commits lists no more (docs.github.com)
# Where accounts appear in raw payloads; each gets one GET /users/{login} the first time.
LOGIN_PATHS = {
    "issues": "$.user.login", "pulls": "$.user.login", "issue_comments": "$.user.login",
    "review_comments": "$.user.login", "reviews": "$.user.login",
    "commits": "$.author.login", "pull_commits": "$.author.login",
    "releases": "$.author.login", "issue_events": "$.actor.login",
    "members": "$.login", "team_members": "$.login",
}


@dataclass
class Run:
    config: GitHubConfig
    store: RawStore
    requester: Requester
    bar: ui.Step
    full: bool
    doing: str = "the organization"
    changed: int = 0
    seen: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # full pass: keys read
    store_text: bool = False  # [privacy] store_text_fields
    flag_rules: Rules | None = None  # comment flags when bodies are reduced ([slack] patterns)
    moved: dict[str, str] = field(default_factory=dict)  # configured name -> current name

    def repo_path(self, repo: str) -> str:
        """API path of a repository, under its current name (see `_current_name`)."""
        return f"/repos/{self.moved.get(repo, repo)}"

    def at(self, path: str) -> str:
        """Absolute API URL of a path (provenance of rows whose payload has no `url`)."""
        return self.config.base_url.rstrip("/") + path

    def save(self, entity: str, rows: list[dict], scope: str, cursor: str | None = None) -> None:
        if not self.store_text:
            rows = privacy.reduce_github(entity, rows, self.flag_rules)
        self.changed += self.store.save(SOURCE, entity, rows, scope=scope, cursor=cursor)
        if self.full:
            self.seen.setdefault((entity, scope), set()).update(r["natural_key"] for r in rows)
        self.bar.advance(len(rows))


def collect(config: GitHubConfig, store: RawStore, full: bool = False,
            store_text_fields: bool = False, flag_rules: Rules | None = None) -> None:
    """Fetch new GitHub activity into `store` (everything again when `full`); bodies are
    reduced to their length (comments' also to their flags, by `flag_rules`) unless
    `store_text_fields` (collectors/privacy.py)."""
    gh = gc.client(config)
    with ui.progress(f"github {gc.host_of(config)}", unit="items") as bar:
        run = Run(config, store, gh.requester, bar, full, store_text=store_text_fields,
                  flag_rules=flag_rules)
        with gc.source_errors(config, lambda: run.doing):
            repos = collect_org(run)
            for repo in repos:
                with skipped_if_blocked(run, repo):
                    collect_repo(run, repo)
            run.doing = "user profiles"
            bar.note(run.doing)
            collect_users(run)
        bar.note(f"{len(repos)} repositories, {run.changed} rows new or changed")


def collect_repo(run: Run, repo: str) -> None:
    """Every list of one repository, then the reviews and commits of its touched pulls."""
    for entity in REPO_ENTITIES:
        run.doing = f"{repo} {entity.name}"
        run.bar.note(run.doing)
        with skipped_if_absent(run, repo, entity.name):
            collect_list(run, repo, entity)
            if run.full and entity.name in DELETABLE:
                mark_gone(run, repo, entity.name)
    run.doing = f"{repo} reviews"
    run.bar.note(run.doing)
    collect_reviews(run, repo)
    run.doing = f"{repo} pull request commits"
    run.bar.note(run.doing)
    collect_pull_commits(run, repo)


def check(config: GitHubConfig) -> str:
    """For `processhealth doctor --online`: who the collector reads as (GET /user, or GET /app
    for an App, after its token exchange) and the quota left (GET /rate_limit costs none)."""
    gh = gc.client(config)
    with gc.source_errors(config, lambda: "/rate_limit"):
        core = gc.get(gh.requester, "/rate_limit")["resources"]["core"]
        who = gc.identity(config, gh.requester)
    return (f"reads as {who}, accepted by {gc.host_of(config)}; "
            f"{core['remaining']}/{core['limit']} requests left this hour")


# --- repository lists --------------------------------------------------------------------------


def _floor(run: Run, entity: str, scope: str) -> str | None:
    """Where a list resumes: its checkpoint, else [github] since, else the beginning."""
    cursor = run.store.get_cursor(SOURCE, entity, scope)
    if cursor is None and run.config.since is not None:
        return f"{run.config.since.isoformat()}T00:00:00Z"
    return cursor


def collect_list(run: Run, repo: str, entity: Entity) -> None:
    """One paged list of one repository, checkpointed as described in github_rows."""
    cursor = run.store.get_cursor(SOURCE, entity.name, repo)
    floor = _floor(run, entity.name, repo)
    if entity.name == "commits" and cursor and floor and run.config.commits_lookback_days:
        floor = _days_before(floor, run.config.commits_lookback_days)
    params = dict(entity.params)
    if entity.since and floor:
        params["since"] = floor
    url = f"{run.repo_path(repo)}/{entity.path}"
    if entity.order == "asc":
        _read_ascending(run, repo, entity, url, params, cursor)
        return
    pages = gc.pages(run.requester, url, params, run.config.per_page)
    pending: list[dict] | None = None
    top: str | None = None
    for batch in _chunks(_until_older(entity, pages, floor)):
        top = max(top or "", newest(entity, batch) or "") or None
        if pending is not None:
            run.save(entity.name, repo_rows(entity, repo, pending, run.at(url)), repo)
        pending = batch
    if pending is not None:  # the last page carries the checkpoint
        run.save(entity.name, repo_rows(entity, repo, pending, run.at(url)), repo,
                 advanced(cursor, top))


def _read_ascending(run: Run, repo: str, entity: Entity, url: str, params: dict[str, str],
                    cursor: str | None) -> None:
    """An oldest-first list, saved in chunks of SAVE_ROWS rows, each with its checkpoint.

    GitHub stops a long list with 422 "pagination is limited for this resource" (a repository's
    issue comments past about 40,000, following the Link header: singer-io/tap-github#61): what
    was read is saved, and the list is asked again from there (`since`, which is inclusive), so
    the run reads it whole instead of stopping GitHub at each 40,000. Only if a new pass gets no
    further (that many items changed in the same second) is the rest a `capped` gap."""
    while True:
        chunk: list[dict] = []
        try:
            for page in gc.pages(run.requester, url, params, run.config.per_page):
                chunk += page
                if len(chunk) >= SAVE_ROWS:
                    cursor, chunk = _save_ascending(run, repo, entity, url, chunk, cursor), []
            if chunk:
                _save_ascending(run, repo, entity, url, chunk, cursor)
            return
        except GithubException as exc:
            if not gc.paging_limited(exc):
                raise
            said = gc.message_of(exc)
            if chunk:
                cursor = _save_ascending(run, repo, entity, url, chunk, cursor)
        if cursor is None or cursor == params.get("since"):
            ui.warn(f"GitHub {repo}: its {entity.name.replace('_', ' ')} list stops with "
                    f"\"{said}\" before any item newer than {cursor}; the rest of it is not "
                    f"read.")
            run.store.note_gap(SOURCE, entity.name, repo, "capped", f"HTTP 422: {said}")
            return
        params["since"] = cursor  # asked again from the newest item read


def _save_ascending(run: Run, repo: str, entity: Entity, url: str, chunk: list[dict],
                    cursor: str | None) -> str | None:
    """Save a chunk of an oldest-first list with its checkpoint; the checkpoint now."""
    top = newest(entity, chunk)
    run.save(entity.name, repo_rows(entity, repo, chunk, run.at(url)), repo,
             advanced(cursor, top))
    return max(cursor or "", top or "") or None


def _chunks(pages: Iterator[list[dict]]) -> Iterator[list[dict]]:
    """Consecutive pages joined into chunks of at least SAVE_ROWS rows."""
    chunk: list[dict] = []
    for page in pages:
        chunk += page
        if len(chunk) >= SAVE_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _days_before(stamp: str, days: int) -> str:
    """A checkpoint (GitHub's `YYYY-MM-DDTHH:MM:SSZ`) moved back `days` days, in that form."""
    moved = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(days=days)
    return moved.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _until_older(entity: Entity, batches: Iterator[list[dict]], floor: str | None
                 ) -> Iterator[list[dict]]:
    """Newest-first pages, cut where items get older than the checkpoint."""
    for batch in batches:
        keep = [item for item in batch if not is_older(entity, item, floor)]
        if keep:
            yield keep
        if len(keep) < len(batch):
            return


# --- reviews -----------------------------------------------------------------------------------


def touched_pulls(store: RawStore, repo: str, after: str, after_key: str) -> list[tuple]:
    """(natural_key, number, updated_at) of stored pulls updated after the reviews checkpoint."""
    if not store.table_exists("raw_github_pulls"):
        return []
    return store.con.execute(
        "SELECT natural_key, (payload->>'$.number')::INTEGER, payload->>'$.updated_at' AS u"
        " FROM raw_github_pulls WHERE scope = ? AND (u > ? OR (u = ? AND natural_key > ?))"
        " ORDER BY u, natural_key", [repo, after, after, after_key]).fetchall()


def collect_reviews(run: Run, repo: str) -> None:
    """Reviews of each pull request touched since the reviews checkpoint, oldest change first;
    every REVIEW_BATCH pulls are saved with the checkpoint of the last one."""
    _per_pull(run, repo, "reviews", REVIEWS.path,
              lambda number, batch, url: repo_rows(REVIEWS, repo, batch, url))


def collect_pull_commits(run: Run, repo: str) -> None:
    """The commits of each pull request touched since its own checkpoint (as reviews): a commit
    belongs to its pull request without needing an issue key, and a squash-merged pull request
    keeps the commits the default branch no longer shows."""
    _per_pull(run, repo, "pull_commits", PULL_COMMITS.path,
              lambda number, batch, url: pull_commit_rows(repo, number, batch, url))


def _per_pull(run: Run, repo: str, entity: str, path: str,
              to_rows: Callable[[int, list[dict], str], list[dict]]) -> None:
    """Read `path` (with {number}) for each pull request touched since the entity's checkpoint,
    oldest change first; every REVIEW_BATCH pulls are saved with the checkpoint of the last."""
    after, after_key = split_review_cursor(run.store.get_cursor(SOURCE, entity, repo))
    if not after and run.config.since is not None:
        after = f"{run.config.since.isoformat()}T00:00:00Z"
    rows: list[dict] = []
    todo = touched_pulls(run.store, repo, after, after_key)
    for n, (key, number, updated) in enumerate(todo, 1):
        url = f"{run.repo_path(repo)}/{path.format(number=number)}"
        got = 0
        try:
            for batch in gc.pages(run.requester, url, {}, run.config.per_page):
                rows += to_rows(number, batch, run.at(url))
                got += len(batch)
        except UnknownObjectException:
            ui.warn(f"{repo}#{number} is gone from GitHub (404); its "
                    f"{entity.replace('pull_', '')} are skipped.")
        if entity == "pull_commits" and got >= PULL_COMMITS_CAP:
            ui.warn(f"{repo}#{number} lists {got} commits, GitHub's most for a pull request: "
                    f"its later commits are not read (a squash-merged one loses them).")
            run.store.note_gap(SOURCE, entity, f"{repo}#{number}", "capped",
                               f"GitHub lists at most {PULL_COMMITS_CAP} commits of a pull request")
        if n % REVIEW_BATCH == 0 or n == len(todo):
            run.save(entity, rows, repo, review_cursor({"updated_at": updated}, key))
            rows = []


# --- accounts ----------------------------------------------------------------------------------


def unknown_logins(store: RawStore, everyone: bool) -> list[str]:
    """Logins in stored payloads without a stored profile (all of them when `everyone`)."""
    parts = [f"SELECT payload->>'{path}' AS login FROM raw_github_{entity}"
             for entity, path in LOGIN_PATHS.items()
             if store.table_exists(f"raw_github_{entity}")]
    if not parts:
        return []
    known = ("" if everyone or not store.table_exists("raw_github_users")
             else " AND login NOT IN (SELECT natural_key FROM raw_github_users)")
    rows = store.con.execute(
        f"SELECT DISTINCT login FROM ({' UNION ALL '.join(parts)}) WHERE login IS NOT NULL"
        f"{known} ORDER BY login").fetchall()
    return [r[0] for r in rows]


def collect_users(run: Run) -> None:
    """One GET /users/{login} per account not seen before; the profile gives name and email."""
    rows: list[dict] = []
    scope = run.config.org or "users"
    for login in unknown_logins(run.store, run.full):
        url = f"/users/{quote(login, safe='')}"
        try:
            rows.append(user_row(login, gc.get(run.requester, url), run.at(url)))
        except UnknownObjectException:  # renamed since: keep a marker so it is not asked again
            rows.append(user_row(login, {"login": login, "message": "Not Found"}, run.at(url)))
        if len(rows) >= run.config.per_page:
            run.save("users", rows, scope)
            rows = []
    if rows:
        run.save("users", rows, scope)
