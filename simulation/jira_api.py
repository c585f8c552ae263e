"""The simulated organization's Jira as REST API JSON: pure functions, no HTTP.

The emulator serves these dicts, `processhealth.simload.jira` saves them without HTTP, and
`jira_export.write_search_json` writes them as saved search responses. Shapes follow Jira REST
v2 (v3 differs only in rich-text bodies, given as Atlassian Document Format) in two flavours:

- cloud: users by `accountId` (some emails hidden), `parent` for epics, Sprint as objects,
  changelog ids on items (`fieldId`);
- datacenter: users by `key`/`name`, "Epic Link" custom field, Sprint as Greenhopper strings.

Truncation (what a search inlines) is the emulator's business: `issue_json` takes the caps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .model import JiraComment, JiraHistory, JiraIssue, JiraSprint, JiraWorklog, Org

CLOUD, DATACENTER = "cloud", "datacenter"
FLAVOURS = (CLOUD, DATACENTER)
CATEGORIES = {  # status category key -> (id, name, colour), as Jira ships them
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
# System fields the simulation's field list lacks but every Jira has.
EXTRA_SYSTEM_FIELDS = [
    ("project", "Project", "project"), ("description", "Description", "string"),
    ("resolution", "Resolution", "resolution"), ("creator", "Creator", "user"),
    ("comment", "Comment", "comments-page"), ("worklog", "Log Work", "array"),
    ("issuelinks", "Linked Issues", "array"), ("fixVersions", "Fix Version/s", "array"),
    ("duedate", "Due Date", "date"),
]
CUSTOM_TYPES = {  # simulation field type -> (schema type, Jira custom field type key)
    "number": ("number", "com.atlassian.jira.plugin.system.customfieldtypes:float"),
    "string": ("string", "com.atlassian.jira.plugin.system.customfieldtypes:textfield"),
    "option": ("option", "com.atlassian.jira.plugin.system.customfieldtypes:select"),
    "any": ("any", "com.pyxis.greenhopper.jira:gh-epic-link"),
    "array": ("array", "com.pyxis.greenhopper.jira:gh-sprint"),
}


def jira_time(at: datetime) -> str:
    """Jira's timestamp format: 2026-02-03T09:15:00.000+0000."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document (REST v3 rich-text fields)."""
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


@dataclass
class Site:
    """What every payload needs: the organization, the URL base, the flavour, the API version."""

    org: Org
    base_url: str
    flavour: str = CLOUD
    api: str = "2"
    _users: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {FLAVOURS}, not {self.flavour!r}")
        self.base_url = self.base_url.rstrip("/")
        self.status_by_name = {s.name: s for s in self.org.jira.statuses}
        self.sprints = {s.id: s for s in self.org.jira.sprints}
        self.sprint_by_name = {s.name: s for s in self.org.jira.sprints}
        self.boards = {b.id: b for b in self.org.jira.boards}
        self.project_ids = {k: str(10_000 + i) for i, k in enumerate(self.org.jira.projects)}
        self.field_types = {f.id: f.type for f in self.org.jira.fields}
        self.issues = {i.key: i for i in self.org.jira.issues}

    @property
    def cloud(self) -> bool:
        return self.flavour == CLOUD

    def rest(self, path: str) -> str:
        return f"{self.base_url}/rest/api/{self.api}/{path}"

    def body(self, text: str) -> Any:
        return adf(text) if self.api == "3" else text

    def user(self, pid: str | None) -> dict[str, Any] | None:
        """A user as Jira embeds it; people who left before the org's end are inactive."""
        if pid is None:
            return None
        cached = self._users.get(pid)
        if cached is not None:
            return cached
        p = self.org.person(pid)
        active = p.left_on is None or p.left_on > self.org.end
        initials = "".join(w[:1] for w in p.name.split()[:2]).upper() or "U"
        avatar = f"https://avatar.example/initials/{initials}.png"
        out: dict[str, Any]
        if self.cloud:
            out = {"self": self.rest(f"user?accountId={p.jira_account_id}"),
                   "accountId": p.jira_account_id, "accountType": "atlassian"}
            if p.jira_email:
                out["emailAddress"] = p.jira_email
        else:
            login = p.email.split("@")[0] if p.email else p.pid
            out = {"self": self.rest(f"user?username={login}"), "name": login,
                   "key": p.jira_account_id, "emailAddress": p.email}
        out.update({"avatarUrls": {"48x48": avatar, "24x24": avatar, "16x16": avatar,
                                   "32x32": avatar},
                    "displayName": p.jira_name or p.name, "active": active, "timeZone": "UTC"})
        self._users[pid] = out
        return out


# --- site-wide resources -------------------------------------------------------------------


def server_info(site: Site, now: datetime | None = None) -> dict[str, Any]:
    version, numbers, deployment = (("1001.0.0-SNAPSHOT", [1001, 0, 0], "Cloud") if site.cloud
                                    else ("9.12.4", [9, 12, 4], "Server"))
    return {"baseUrl": site.base_url, "version": version, "versionNumbers": numbers,
            "deploymentType": deployment, "buildNumber": numbers[0] * 100 + numbers[1],
            "buildDate": "2026-01-12T00:00:00.000+0000",
            "serverTime": jira_time(now or datetime.now(UTC)), "scmInfo": "4f7b0c1f0c1a9b6e",
            "serverTitle": "Jira", "serverTimeZone": "Etc/UTC"}


def myself(site: Site, email: str | None, time_zone: str) -> dict[str, Any]:
    """The API account: a service user that is not one of the simulated people."""
    me: dict[str, Any] = {"displayName": "processhealth service", "active": True,
                          "timeZone": time_zone, "locale": "en_US"}
    if site.cloud:
        me.update({"self": site.rest("user?accountId=5fservice0000"), "accountId": "5fservice0000",
                   "accountType": "atlassian", "emailAddress": email or "ops@acme.example"})
    else:
        me.update({"self": site.rest("user?username=svc-processhealth"),
                   "name": "svc-processhealth", "key": "JIRAUSER10999",
                   "emailAddress": email or "ops@acme.example"})
    return me


def fields(site: Site) -> list[dict[str, Any]]:
    out = []
    entries = [(f.id, f.name, f.custom, f.type) for f in site.org.jira.fields]
    entries += [(fid, name, False, ftype) for fid, name, ftype in EXTRA_SYSTEM_FIELDS]
    for fid, name, custom, ftype in entries:
        item: dict[str, Any] = {"id": fid, "name": name, "custom": custom, "orderable": True,
                                "navigable": True, "searchable": True}
        if custom:
            number = int(fid.split("_")[1])
            kind, plugin = CUSTOM_TYPES[ftype]
            item["clauseNames"] = [f"cf[{number}]", name]
            item["schema"] = {"type": kind, "custom": plugin, "customId": number}
            if kind == "array":
                item["schema"]["items"] = "json"
        else:
            item["clauseNames"] = [fid]
            item["schema"] = {"type": ftype, "system": fid}
        if site.cloud:
            item["key"] = fid
            item["untranslatedName"] = name
        out.append(item)
    return out


def status_category(site: Site, key: str) -> dict[str, Any]:
    cid, name, colour = CATEGORIES[key]
    return {"self": site.rest(f"statuscategory/{cid}"), "id": cid, "key": key,
            "colorName": colour, "name": name}


def status(site: Site, name: str) -> dict[str, Any]:
    s = site.status_by_name[name]
    out = {"self": site.rest(f"status/{s.id}"), "description": "", "name": s.name, "id": s.id,
           "iconUrl": f"{site.base_url}/images/icons/statuses/generic.png",
           "statusCategory": status_category(site, s.category)}
    if site.cloud:
        out["untranslatedName"] = s.name
    return out


def statuses(site: Site) -> list[dict[str, Any]]:
    return [status(site, s.name) for s in site.org.jira.statuses]


def project(site: Site, key: str) -> dict[str, Any]:
    pid = site.project_ids[key]
    out = {"self": site.rest(f"project/{pid}"), "id": pid, "key": key,
           "name": site.org.jira.projects[key], "projectTypeKey": "software",
           "simplified": False, "style": "classic", "isPrivate": False}
    lead = site.org.jira.project_leads.get(key)
    if lead and not site.cloud:
        out["lead"] = site.user(lead)
    return out


def projects(site: Site) -> list[dict[str, Any]]:
    return [project(site, key) for key in site.org.jira.projects]


def agile(site: Site, path: str) -> str:
    return f"{site.base_url}/rest/agile/1.0/{path}"


def board(site: Site, board_id: int) -> dict[str, Any]:
    b = site.boards[board_id]
    return {"id": b.id, "self": agile(site, f"board/{b.id}"), "name": b.name, "type": "scrum",
            "location": {"projectId": int(site.project_ids[b.project]), "projectKey": b.project,
                         "projectName": site.org.jira.projects[b.project],
                         "displayName": f"{site.org.jira.projects[b.project]} ({b.project})",
                         "projectTypeKey": "software"}}


def sprint(site: Site, s: JiraSprint) -> dict[str, Any]:
    out = {"id": s.id, "self": agile(site, f"sprint/{s.id}"), "state": s.state, "name": s.name,
           "startDate": _iso(s.start), "endDate": _iso(s.end), "originBoardId": s.board_id,
           "goal": ""}
    if s.state == "closed":
        out["completeDate"] = _iso(s.end)
    return out


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def greenhopper_sprint(s: JiraSprint) -> str:
    """Jira Server/Data Center's string form of a sprint in the Sprint field."""
    complete = _iso(s.end) if s.state == "closed" else "<null>"
    return (f"com.atlassian.greenhopper.service.sprint.Sprint@{s.id:x}[id={s.id},"
            f"rapidViewId={s.board_id},state={s.state.upper()},name={s.name},"
            f"startDate={_iso(s.start)},endDate={_iso(s.end)},completeDate={complete},"
            f"activatedDate={_iso(s.start)},sequence={s.id},goal=,synced=false,autoStartStop=false]")


# --- issues --------------------------------------------------------------------------------


def history(site: Site, h: JiraHistory) -> dict[str, Any]:
    items = []
    for it in h.items:
        item: dict[str, Any] = {"field": it.field, "fieldtype": it.field_type}
        if site.cloud:
            item["fieldId"] = it.field_id
        item.update({"from": it.from_id, "fromString": it.from_string, "to": it.to_id,
                     "toString": it.to_string})
        items.append(item)
    return {"id": str(h.id), "author": site.user(h.author_pid), "created": jira_time(h.created),
            "items": items}


def comment(site: Site, issue: JiraIssue, c: JiraComment) -> dict[str, Any]:
    out = {"self": site.rest(f"issue/{issue.id}/comment/{c.id}"), "id": str(c.id),
           "author": site.user(c.author_pid), "body": site.body(c.body),
           "updateAuthor": site.user(c.author_pid), "created": jira_time(c.created),
           "updated": jira_time(c.created)}
    if site.cloud:
        out["jsdPublic"] = True
    return out


def worklog(site: Site, issue: JiraIssue, w: JiraWorklog) -> dict[str, Any]:
    hours, rest = divmod(w.seconds, 3600)
    spent = f"{hours}h" + (f" {rest // 60}m" if rest else "") if hours else f"{rest // 60}m"
    return {"self": site.rest(f"issue/{issue.id}/worklog/{w.id}"),
            "author": site.user(w.author_pid), "updateAuthor": site.user(w.author_pid),
            "comment": site.body("") if site.api == "3" else "", "created": jira_time(w.created),
            "updated": jira_time(w.created), "started": jira_time(w.started),
            "timeSpent": spent, "timeSpentSeconds": w.seconds, "id": str(w.id),
            "issueId": str(issue.id)}


def oldest_first(records: list[Any]) -> list[Any]:
    """Histories, comments or worklogs in the order Jira pages them."""
    return sorted(records, key=lambda r: (r.created, r.id))


def custom_value(site: Site, issue: JiraIssue, fid: str) -> Any:
    value = issue.custom.get(fid)
    ftype = site.field_types.get(fid)
    if fid == "customfield_10020":  # Sprint
        chosen = [site.sprints[i] for i in issue.sprint_ids if i in site.sprints]
        if not chosen and isinstance(value, str) and value in site.sprint_by_name:
            chosen = [site.sprint_by_name[value]]
        if not chosen:
            return None
        if site.cloud:
            return [{"id": s.id, "name": s.name, "state": s.state, "boardId": s.board_id,
                     "goal": "", "startDate": _iso(s.start), "endDate": _iso(s.end)}
                    for s in chosen]
        return [greenhopper_sprint(s) for s in chosen]
    if value is None or value == "":
        return None
    if ftype == "option":
        option_id = str(10_100 + sum(map(ord, str(value))) % 900)
        return {"self": site.rest(f"customFieldOption/{option_id}"), "value": str(value),
                "id": option_id}
    if ftype == "number":
        return float(value)
    return str(value)


def issue_json(site: Site, issue: JiraIssue, *, changelog: bool = True,
               changelog_cap: int | None = None, comment_cap: int | None = None,
               worklog_cap: int | None = None) -> dict[str, Any]:
    """One issue as a search returns it with fields=*all; caps truncate what is inlined.

    A capped changelog holds the most recent `changelog_cap` histories, as Jira Cloud's search
    does; comments and worklogs keep the oldest ones, with `total` telling what exists."""
    fields_: dict[str, Any] = {
        "summary": issue.summary,
        "issuetype": {"self": site.rest(f"issuetype/{_type_id(issue.issue_type)}"),
                      "id": _type_id(issue.issue_type), "name": issue.issue_type,
                      "subtask": False, "hierarchyLevel": 1 if issue.issue_type == "Epic" else 0},
        "project": project(site, issue.project),
        "status": status(site, issue.status),
        "priority": {"self": site.rest(f"priority/{PRIORITIES.get(issue.priority, '3')}"),
                     "id": PRIORITIES.get(issue.priority, "3"), "name": issue.priority},
        "labels": list(issue.labels),
        "components": [{"self": site.rest(f"component/{10_500 + i}"), "id": str(10_500 + i),
                        "name": name} for i, name in enumerate(issue.components)],
        "reporter": site.user(issue.reporter_pid),
        "creator": site.user(issue.reporter_pid),
        "assignee": site.user(issue.assignee_pid),
        "created": jira_time(issue.created),
        "updated": jira_time(issue.updated),
        "resolutiondate": jira_time(issue.resolution_date) if issue.resolution_date else None,
        "resolution": ({"self": site.rest("resolution/10000"), "id": "10000", "name": "Done"}
                       if issue.resolution_date else None),
        "description": None, "duedate": None, "fixVersions": [], "issuelinks": [],
        "subtasks": [],
    }
    for f in site.org.jira.fields:
        if f.custom:
            fields_[f.id] = custom_value(site, issue, f.id)
    if issue.parent_key:
        if site.cloud:
            parent = site.issues.get(issue.parent_key)
            fields_["parent"] = {"id": str(parent.id) if parent else None,
                                 "key": issue.parent_key,
                                 "self": site.rest(f"issue/{parent.id if parent else 0}"),
                                 "fields": {"summary": parent.summary if parent else ""}}
        else:
            fields_["customfield_10014"] = issue.parent_key
    fields_["comment"] = _capped([comment(site, issue, c) for c in oldest_first(issue.comments)],
                                 comment_cap, "comments", oldest=True)
    fields_["worklog"] = _capped([worklog(site, issue, w) for w in oldest_first(issue.worklogs)],
                                 worklog_cap, "worklogs", oldest=True)
    out: dict[str, Any] = {"expand": "operations,versionedRepresentations,editmeta,changelog,"
                                     "renderedFields", "id": str(issue.id),
                           "self": site.rest(f"issue/{issue.id}"), "key": issue.key,
                           "fields": fields_}
    if changelog:
        hist = [history(site, h) for h in oldest_first(issue.histories)]
        out["changelog"] = _capped(hist, changelog_cap, "histories", oldest=False)
    return out


def select_fields(doc: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    """The issue with only the requested fields, as a search with `fields=...` returns it."""
    if not wanted or {"*all", "*navigable"} & set(wanted):
        return doc
    return {**doc, "fields": {k: v for k, v in doc["fields"].items() if k in wanted}}


def _capped(items: list[Any], cap: int | None, key: str, *, oldest: bool) -> dict[str, Any]:
    total = len(items)
    if cap is not None and total > cap:
        items = items[:cap] if oldest else items[-cap:]
    return {"startAt": 0, "maxResults": cap if cap is not None and total > cap else total,
            "total": total, key: items}


def _type_id(name: str) -> str:
    return str(10_000 + sum(map(ord, name)) % 100)


def child_page(items: list[Any], start: int, max_results: int, key: str,
               is_last_key: bool = False) -> dict[str, Any]:
    """A page of comments, worklogs or changelog histories (startAt/maxResults/total)."""
    chunk = items[start:start + max_results]
    out: dict[str, Any] = {"startAt": start, "maxResults": max_results, "total": len(items),
                           key: chunk}
    if is_last_key:
        out["isLast"] = start + len(chunk) >= len(items)
    return out
