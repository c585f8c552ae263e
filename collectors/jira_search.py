"""The Jira collector's issue search (collectors/jira.py): one loop over a project's search
pages, Cloud's nextPageToken or Data Center's startAt/total, with the checks that keep a page
that was not read whole from being saved, and that notice when Data Center's result moved
under startAt while it was paged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from collectors import jira_rows as rows
from collectors.jira_client import errors, host_of
from processhealth import ui
from processhealth.errors import SourceError

if TYPE_CHECKING:
    from collectors.jira import Run

CLOUD_PAGE, DC_PAGE = 100, 1000  # largest pages each flavour serves with fields requested
SHORT_RETRIES = 2  # an empty or shapeless search page is asked for again this many times


def search_pages(run: Run, jql: str, project: str, shifted: list[datetime] | None = None
                 ) -> Iterator[list[dict[str, Any]]]:
    """The one pagination loop: Cloud follows nextPageToken, Data Center startAt/total.

    A page that lacks its issues list, or is empty where the API promised more (a total not
    reached, a next token), is asked for again (SHORT_RETRIES times), then stops the run; a
    next token already followed (a pagination loop) stops it too. Nothing is saved for a page
    that was not read whole, so the checkpoint never moves past missing issues.

    Data Center's startAt counts positions in a result that can change between pages: an issue
    already read that is edited (it moves to the end) or deleted makes every later one move up,
    and the one at the next page's start is never served (Atlassian KB "Inconsistent paginated
    API search result while using JQL"; JRASERVER-69860). Such a shift shows as an issue served
    twice or a total that fell; `shifted` gets the time from which a search must be run again."""
    token: str | None = None
    start = 0
    tokens: set[str] = set()
    first_read: dict[str, str | None] = {}  # key -> `updated` when first served (Data Center)
    last_total: int | None = None
    previous: list[dict[str, Any]] = []
    while True:
        for attempt in range(SHORT_RETRIES + 1):
            body = _search_page(run, jql, project, token, start)
            if not isinstance(body, dict):
                body = {}
            issues = body.get("issues")
            more = (bool(body.get("nextPageToken")) and not body.get("isLast") if run.cloud
                    else start < int(body.get("total") or 0))
            if isinstance(issues, list) and (issues or not more):
                break
            if attempt == SHORT_RETRIES:
                what = ("no issues list" if not isinstance(issues, list)
                        else "no issues although it promised more")
                raise SourceError(
                    f"Jira at {host_of(run.config)} answered the search of project {project} "
                    f"with {what}, {SHORT_RETRIES + 1} times (at "
                    f"{'token ' + str(token) if run.cloud else 'startAt ' + str(start)}). "
                    f"Everything before it is saved; run `processhealth collect` again to resume.")
            ui.warn(f"Jira at {host_of(run.config)} sent a short search page for project "
                    f"{project}; asking again.")
        if issues:
            yield issues
        if run.cloud:
            token = body.get("nextPageToken")
            if body.get("isLast") or not token:
                return
            if token in tokens:
                raise SourceError(
                    f"Jira at {host_of(run.config)} sent a nextPageToken for project {project} "
                    f"it had sent before: the search loops. Everything before it is saved; run "
                    f"`processhealth collect` again later.")
            tokens.add(token)
        else:
            total = int(body.get("total") or 0)
            if shifted is not None:
                _note_shift(issues, total, last_total, previous, first_read, shifted)
            last_total, previous = total, issues or previous
            start += len(issues)
            if not issues or start >= total:
                return


def _note_shift(issues: list[dict[str, Any]], total: int, last_total: int | None,
                previous: list[dict[str, Any]], first_read: dict[str, str | None],
                shifted: list[datetime]) -> None:
    """A Data Center page that shows the result moved under startAt: an issue served before
    (edited since: whatever followed its old place may have been skipped), or a smaller total
    (one read before is gone: the page boundary may have skipped one)."""
    def updated(issue: dict[str, Any] | None) -> str | None:
        return ((issue or {}).get("fields") or {}).get("updated")

    for issue in issues:
        key = issue.get("key")
        if key in first_read:
            at = rows.parse_time(first_read[key])
            if at is not None:
                shifted.append(at)
        else:
            first_read[key] = updated(issue)
    if last_total is not None and total < last_total and previous:
        at = rows.parse_time(updated(previous[-1]))
        if at is not None:
            shifted.append(at)


def _search_page(run: Run, jql: str, project: str, token: str | None, start: int) -> Any:
    with errors(run.config, f"the issues of project {project} ({jql})", project):
        if run.cloud:
            return run.client.enhanced_search_issues(
                jql, nextPageToken=token, maxResults=CLOUD_PAGE, fields=list(run.fields),
                expand="changelog", json_result=True)
        return run.client.search_issues(
            jql, startAt=start, maxResults=DC_PAGE, fields=list(run.fields),
            expand="changelog", json_result=True)
