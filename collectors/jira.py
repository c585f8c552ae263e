"""Jira collector: issues with complete changelogs, comments and worklogs, plus fields, statuses,
boards and sprints, through the `jira` library (Cloud or Server/Data Center).

Per project, one JQL search `project = KEY AND updated >= "<cursor>" ORDER BY updated ASC, key
ASC` pages through what changed (Cloud: /search/jql with nextPageToken; Data Center: /search with
startAt). JQL dates have minute precision in the API user's time zone, so each run overlaps the
last by up to a minute (on Cloud, whose search index lags, by CLOUD_INDEX_LAG more); the
upsert by issue key makes that harmless. A search inlines at most
100 histories (Cloud) and 20 comments or worklogs; only an issue whose inline `total` exceeds
what arrived costs extra calls, and not even then if the stored copy has the same `updated`.
Each page is saved in one transaction, on Cloud with the project's checkpoint; on Data Center,
whose pages can shift under startAt, the checkpoint moves once the project's search is complete.

Raw tables: raw_jira_issues (scope = project), raw_jira_fields, raw_jira_statuses,
raw_jira_boards and raw_jira_sprints (scope = project).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jira import JIRA, JIRAError

from collectors import jira_rows as rows
from collectors import privacy
from collectors.clock import Clock
from collectors.jira_client import connect, count_requests, errors, host_of, is_cloud, retry_notes
from collectors.jira_search import search_pages
from collectors.slack_rows import Rules
from processhealth import ui
from processhealth.config_models import JiraConfig
from processhealth.store import RawStore

SOURCE = rows.SOURCE
SYSTEM_FIELDS = [
    "summary", "issuetype", "project", "status", "priority", "labels", "components", "reporter",
    "creator", "assignee", "created", "updated", "resolutiondate", "resolution", "parent",
    "issuelinks", "fixVersions", "duedate", "comment", "worklog",
]
MAX_LISTED_CUSTOM_FIELDS = 300  # beyond this the field list would not fit a URL; ask for *all
CHILD_PAGE = {"histories": 100, "comments": 5000, "worklogs": 5000}
# Cloud's /search/jql is eventually consistent: an edit is searchable seconds to minutes later,
# a bulk edit later still (developer.atlassian.com/cloud/jira/platform/search-and-reconcile), so
# an issue edited before the newest one seen may not have been found yet. Each run reaches back
# this far before its cursor; issues found again are unchanged rows, their children reused.
CLOUD_INDEX_LAG = timedelta(minutes=15)
DRIFT_PASSES = 3  # searches of a project when Data Center's paging shifted under the last one


@dataclass
class Run:
    """One collection: the client and what every project needs."""

    client: JIRA
    config: JiraConfig
    store: RawStore
    cloud: bool
    full: bool
    zone: ZoneInfo
    margin: timedelta  # extra overlap when JQL's time zone is unknown
    fields: list[str] = field(default_factory=list)
    requests: Any = None
    extra_calls: int = 0
    text_ids: set[str] = field(default_factory=set)  # free-text fields ([privacy])
    store_text: bool = False
    flag_rules: Rules | None = None  # comment flags when bodies are reduced ([slack] patterns)


def collect(config: JiraConfig, store: RawStore, *, full: bool = False,
            store_text_fields: bool = False, flag_rules: Rules | None = None,
            clock: Clock | None = None) -> None:
    """Collect every configured project (all visible ones if none are listed) incrementally;
    free text is reduced to its length (comments' also to their flags, by `flag_rules`) unless
    `store_text_fields` (collectors/privacy.py). Rate-limit waits sleep on `clock`."""
    client = connect(config, clock)
    requests = count_requests(client)
    with retry_notes(), ui.progress("jira", unit="issues") as bar:
        run = start(client, config, store, full, requests)
        run.store_text = store_text_fields
        run.flag_rules = flag_rules
        for project in projects(run):
            for saved in collect_project(run, project):
                bar.advance(saved)
                bar.note(f"{project}; {run.requests()} requests")
        collect_sprints(run)
        bar.note(f"{run.requests()} requests, {run.extra_calls} for truncated changelogs, "
                 f"comments or worklogs")


def check(config: JiraConfig) -> str:
    """One authenticated call, for `processhealth doctor --online`."""
    client = connect(config)
    with errors(config, "the API account (myself)"):
        me = client.myself()
    kind = "Cloud" if is_cloud(client, config) else "Data Center"
    return f"Jira {kind} at {host_of(config)}, authenticated as {me.get('displayName')}"


def start(client: JIRA, config: JiraConfig, store: RawStore, full: bool,
          requests: Callable[[], int]) -> Run:
    """Fields, statuses and the account's time zone (JQL dates are read in it)."""
    with errors(config, "the API account (myself)"):
        me = client.myself()
    margin = timedelta(0)
    try:
        zone = ZoneInfo(me.get("timeZone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        ui.warn(f"Jira at {host_of(config)} reports the time zone {me.get('timeZone')!r} for the "
                f"API account, which this system does not know; searches overlap by 14 hours.")
        zone, margin = ZoneInfo("UTC"), timedelta(hours=14)
    run = Run(client, config, store, is_cloud(client, config), full, zone, margin,
              requests=requests)
    with errors(config, "the field list (/field)"):
        listed = client.fields()
    # The library would GET /field again to translate field names in searches; give it ours.
    client._fields_cache_value = {n: f["id"] for f in listed for n in f.get("clauseNames", [])}
    with errors(config, "the status list (/status)"):
        statuses = [s.raw for s in client.statuses()]
    site = config.base_url or ""
    store.save(SOURCE, "fields", rows.field_rows(listed, f"{site}/rest/api/2/field"), scope="site")
    store.save(SOURCE, "statuses", rows.status_rows(statuses, f"{site}/rest/api/2/status"),
               scope="site")
    run.fields = requested_fields(listed, config)
    run.text_ids = privacy.text_field_ids(listed)
    return run


def requested_fields(listed: list[dict[str, Any]], config: JiraConfig) -> list[str]:
    """The system fields analysis reads plus every custom field (field fill rate needs them all).
    Configured custom fields are resolved by name; a name the site lacks is only a warning."""
    by_name = {str(f.get("name", "")).casefold(): f["id"] for f in listed}
    for logical, name in config.custom_fields.items():
        if name.casefold() not in by_name:
            ui.warn(f"Jira at {host_of(config)} has no field named {name!r} "
                    f"(jira.custom_fields.{logical}); it stays empty.")
    custom = [f["id"] for f in listed if f.get("custom")]
    if len(custom) > MAX_LISTED_CUSTOM_FIELDS:
        return ["*all"]
    return SYSTEM_FIELDS + custom


def projects(run: Run) -> list[str]:
    if run.config.projects:
        return list(run.config.projects)
    with errors(run.config, "the project list (/project)"):
        return [p.raw["key"] for p in run.client.projects()]


def jql_for(project: str, since: datetime | date | None, zone: ZoneInfo) -> str:
    """JQL with the cursor floored to the minute in the account's time zone (JQL's precision)."""
    jql = f'project = "{project}"'
    if isinstance(since, datetime):
        jql += f' AND updated >= "{jql_time(since, zone)}"'
    elif isinstance(since, date):
        jql += f' AND updated >= "{since.isoformat()}"'
    return jql + " ORDER BY updated ASC, key ASC"


def jql_time(since: datetime, zone: ZoneInfo) -> str:
    """`since` as a JQL wall time that Jira cannot read as a later instant.

    Where clocks fall back an hour occurs twice (America/New_York 2026-11-01 01:00-01:59, first
    EDT, then EST), and Jira reads such a time as the second one (JqlDateSupportImpl parses with
    java.text.SimpleDateFormat, whose calendar takes standard time in the overlap). A cursor in
    the first of the two hours would skip whatever was updated between it and the same wall time
    an hour later; this steps back before the repeated hour instead. What that reads again are
    unchanged rows, once a year."""
    target = since.astimezone(UTC)
    at = target
    while True:
        wall = at.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)
        read = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)  # the later of two readings
        if read <= target:
            return wall.strftime("%Y-%m-%d %H:%M")
        at -= read - target  # back by the excess (a second round if still in the first pass)


def collect_project(run: Run, project: str) -> Iterator[int]:
    """Save each search page (completed); yield rows per page. On Cloud each page moves the
    project's cursor with it. On Data Center the cursor moves once the search is complete: an
    issue edited while the search is paged hides one at a later page's start, which shows only
    when the edited issue comes again at the end; pages saved before had moved the cursor past
    the hidden issue, so a run stopped or killed before the project was searched again never
    read it. A stopped run's next one searches again from where this one began."""
    cursor = None if run.full else run.store.get_cursor(SOURCE, "issues", project)
    since: datetime | date | None = rows.parse_time(cursor) if cursor else run.config.since
    if isinstance(since, datetime):
        since -= run.margin + (CLOUD_INDEX_LAG if run.cloud and cursor else timedelta(0))
    high = cursor
    hold = not run.cloud  # Data Center: the cursor stays until every pass is read
    seen: set[str] = set()
    for _ in range(DRIFT_PASSES):
        shifted: list[datetime] = []
        for page in search_pages(run, jql_for(project, since, run.zone), project, shifted):
            known = {} if run.full else stored_issues(run.store, [i["key"] for i in page
                                                                  if rows.truncated(i)])
            complete = [completed(run, issue, known.get(issue["key"])) for issue in page]
            if not run.store_text:
                complete = [privacy.reduce_jira_issue(issue, run.text_ids, run.flag_rules)
                            for issue in complete]
            batch = [rows.issue_row(issue) for issue in complete]
            for row in batch:
                if row["updated_at"] and (high is None or rows.parse_time(row["updated_at"])
                                          > rows.parse_time(high)):
                    high = row["updated_at"]
            run.store.save(SOURCE, "issues", batch, scope=project,
                           cursor=None if hold else high)
            seen.update(row["natural_key"] for row in batch)
            yield len(batch)
        if not shifted:
            break
        since = min(shifted)  # what the shift may have hidden was updated at or after this
    else:
        ui.warn(f"Jira project {project}: its issues kept changing while the search was paged "
                f"({DRIFT_PASSES} passes); an issue edited meanwhile may be missed until it "
                f"changes again or `processhealth collect --full` runs.")
    if hold and high is not None:
        run.store.set_cursor(SOURCE, "issues", project, high)
    if run.full:  # a full pass saw every issue the project has: the others are gone or moved
        gone = run.store.mark_deleted(SOURCE, "issues", project, seen,
                                      since=run.config.since.isoformat()
                                      if run.config.since else None)
        if gone:
            ui.warn(f"Jira project {project}: {gone} stored issue(s) no longer found (deleted "
                    f"or moved to another project); they are left out of analytics.")


def stored_issues(store: RawStore, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Stored (complete) payloads of these issues, to skip re-fetching unchanged children."""
    if not keys or not store.table_exists("raw_jira_issues"):
        return {}
    found = store.con.execute(
        "SELECT natural_key, payload FROM raw_jira_issues WHERE list_contains(?, natural_key)",
        [keys]).fetchall()
    return {key: json.loads(payload) for key, payload in found}


def completed(run: Run, issue: dict[str, Any], stored: dict[str, Any] | None
              ) -> dict[str, Any]:
    """The issue with every truncated child collection fetched (or reused) and merged in."""
    for child in rows.truncated(issue):
        inline = rows.block(issue, child) or {}
        items = list(inline.get(rows.CHILDREN[child][1]) or [])
        total = int(inline.get("total") or 0)
        reused = _reusable(stored, issue, child, total)
        items += reused if reused is not None else fetch_child(run, issue, child, items, total)
        issue = rows.merged(issue, child, items)
    return issue


def _reusable(stored: dict[str, Any] | None, issue: dict[str, Any], child: str, total: int
              ) -> list[dict[str, Any]] | None:
    if stored is None or stored.get("fields", {}).get("updated") != issue["fields"]["updated"]:
        return None
    found = rows.block(stored, child) or {}
    items = found.get(rows.CHILDREN[child][1]) or []
    return list(items) if len(items) == total else None


def fetch_child(run: Run, issue: dict[str, Any], child: str, have: list[dict[str, Any]],
                total: int) -> list[dict[str, Any]]:
    """Page /issue/{key}/<changelog|comment|worklog> until every id of `total` is known.

    Cloud's search inlines the most recent histories, so the missing ones are the oldest: paging
    from the start finds them first. The library has no changelog or worklog pager; its request
    layer (`_get_json`: auth, retries, error parsing) is used directly."""
    _, key_name, endpoint = rows.CHILDREN[child]
    key = issue["key"]
    if child == "histories" and not run.cloud:
        return _dc_changelog(run, key)
    seen = {str(item.get("id")) for item in have}
    found: list[dict[str, Any]] = []
    start = 0
    while len(seen) < total:
        with errors(run.config, f"the {child} of {key}"):
            try:
                page = run.client._get_json(f"issue/{key}/{endpoint}", params={
                    "startAt": start, "maxResults": CHILD_PAGE[child]})
            except JIRAError as exc:
                if exc.status_code != 404:
                    raise
                ui.warn(f"Jira issue {key} is gone since the search (deleted or moved, HTTP "
                        f"404): its {child} are saved as the search returned them.")
                break
        run.extra_calls += 1
        values = page.get("values" if child == "histories" else key_name) or []
        for item in values:
            if str(item.get("id")) not in seen:
                seen.add(str(item.get("id")))
                found.append(item)
        start += len(values)
        if not values or page.get("isLast") or start >= int(page.get("total") or 0):
            break
    if len(seen) < total:
        ui.warn(f"Jira issue {key}: {total} {child} announced, {len(seen)} found.")
    return found


def _dc_changelog(run: Run, key: str) -> list[dict[str, Any]]:
    """Data Center has no changelog pager; the issue endpoint inlines the whole history."""
    with errors(run.config, f"the changelog of {key}"):
        try:
            doc = run.client._get_json(f"issue/{key}", params={"expand": "changelog",
                                                               "fields": "updated"})
        except JIRAError as exc:
            if exc.status_code != 404:
                raise
            ui.warn(f"Jira issue {key} is gone since the search (deleted or moved, HTTP 404): "
                    f"its changelog is saved as the search returned it.")
            return []
    run.extra_calls += 1
    return list((doc.get("changelog") or {}).get("histories") or [])


def collect_sprints(run: Run) -> None:
    """Boards of the collected projects and their sprints (kanban boards have none, nor do
    team-managed boards with sprints off: their sprint list answers 400). A site
    without the agile API (Jira Core / Work Management, or agile locked down: 404 or 403) is
    partial coverage, not a failure: one warning and a sync_coverage row."""
    site = host_of(run.config)
    if not run.config.sprints:
        run.store.note_gap(SOURCE, "sprints", site, "off", "[jira] sprints = false")
        return
    wanted = set(run.config.projects)
    with errors(run.config, "the agile boards (/rest/agile/1.0/board)"):
        try:
            boards = [b.raw for b in run.client.boards(maxResults=False)]
        except JIRAError as exc:
            if exc.status_code not in (403, 404):
                raise
            _skip_agile(run, site, "/rest/agile/1.0/board", exc)
            return
    for board in boards:
        project = (board.get("location") or {}).get("projectKey")
        if not project or (wanted and project not in wanted):
            continue
        run.store.save(SOURCE, "boards", rows.board_rows([board]), scope=project)
        if board.get("type") == "kanban":
            continue
        with errors(run.config, f"the sprints of board {board['id']}"):
            try:
                sprints = [s.raw for s in run.client.sprints(board["id"], maxResults=False)]
            except JIRAError as exc:
                if exc.status_code == 400 and "does not support sprints" in (exc.text or ""):
                    continue  # a team-managed board with sprints off: it has none
                if exc.status_code not in (403, 404):
                    raise
                ui.warn(f"Jira at {site} answered HTTP {exc.status_code} for the sprints of "
                        f"board {board['id']} ({project}); they are skipped.")
                run.store.note_gap(SOURCE, "sprints", project, _gap_status(exc.status_code),
                                   f"HTTP {exc.status_code} for board {board['id']}")
                continue
        run.store.save(SOURCE, "sprints", rows.sprint_rows(sprints, board["id"]), scope=project)


def _gap_status(status: int | None) -> str:
    return {404: "missing", 410: "gone", 403: "forbidden"}.get(status or 0, "missing")


def _skip_agile(run: Run, site: str, path: str, exc: JIRAError) -> None:
    ui.warn(f"Jira at {site} has no agile API the account can read (HTTP {exc.status_code} for "
            f"{path}), as on Jira Work Management or with agile locked down: boards and sprints "
            f"are skipped, everything else is collected. Set [jira] sprints = false to skip "
            f"them without this warning.")
    run.store.note_gap(SOURCE, "sprints", site, _gap_status(exc.status_code),
                       f"HTTP {exc.status_code} for {path}")
