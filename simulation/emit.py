"""Record emitters: each turns one act of a person into what GitHub, Jira or Slack would store."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime

from .model import (
    GhComment,
    GhCommit,
    GhIssue,
    GhRelease,
    GhReview,
    JiraChangeItem,
    JiraComment,
    JiraHistory,
    JiraIssue,
    JiraWorklog,
    Org,
    SlackChannel,
    SlackMessage,
)

CUSTOM_FIELD_NAMES = {
    "customfield_10016": "Story Points",
    "customfield_10014": "Epic Link",
    "customfield_10020": "Sprint",
    "customfield_10001": "Team",
    "customfield_10100": "Business Value",
    "customfield_10101": "Initiative",
    "customfield_10102": "Confidence",
    "customfield_10200": "Hypothesis",
    "customfield_10201": "Success Criteria",
    "customfield_10300": "Customer Impact",
    "customfield_10400": "Progress",
}
SYSTEM_FIELD_NAMES = {
    "priority": "priority",
    "labels": "labels",
    "assignee": "assignee",
    "components": "Component",
    "summary": "summary",
    "description": "description",
}


class Emitter:
    """Holds the id counters and appends records to the organization."""

    def __init__(self, org: Org):
        self.org = org
        self._ids = itertools.count(1)
        self._ts_seq = itertools.count(1)
        self._gh_numbers: dict[str, itertools.count] = {}
        self._jira_numbers: dict[str, itertools.count] = {}
        self.status_ids = {s.name: s.id for s in org.jira.statuses}
        self.names = org.footprint  # family: the org's names for the tool's footprint
        self.channels: dict[str, SlackChannel] = {c.name: c for c in org.slack.channels}

    def next_id(self) -> int:
        return next(self._ids)

    # --- GitHub -----------------------------------------------------------------------------

    def gh_number(self, repo: str) -> int:
        return next(self._gh_numbers.setdefault(repo, itertools.count(1)))

    def commit(
        self, repo: str, pid: str, at: datetime, message: str, pr: GhIssue | None
    ) -> GhCommit:
        sha = hashlib.sha1(f"{repo}{pid}{at.isoformat()}{self.next_id()}".encode()).hexdigest()
        c = GhCommit(repo, sha, pid, at, message, pr.number if pr else None)
        self.org.github.commits.append(c)
        if pr is not None:
            pr.commit_shas.append(sha)
            pr.updated_at = max(pr.updated_at, at)
        return c

    def issue(
        self,
        repo: str,
        pid: str,
        at: datetime,
        title: str,
        body: str,
        labels: list[str],
        is_pr: bool,
        head_ref: str | None = None,
        draft: bool = False,
    ) -> GhIssue:
        i = GhIssue(
            repo,
            self.gh_number(repo),
            500_000 + self.next_id(),
            title,
            body,
            pid,
            at,
            at,
            labels,
            is_pr,
            head_ref=head_ref,
            draft=draft,
        )
        self.org.github.issues.append(i)
        return i

    def review(self, pr: GhIssue, pid: str, at: datetime, state: str, body: str = "") -> GhReview:
        r = GhReview(800_000 + self.next_id(), pr.repo, pr.number, pid, state, at, body)
        self.org.github.reviews.append(r)
        pr.updated_at = max(pr.updated_at, at)
        return r

    def issue_comment(self, issue: GhIssue, pid: str, at: datetime, body: str) -> GhComment:
        c = GhComment(900_000 + self.next_id(), issue.repo, issue.number, pid, at, body)
        self.org.github.issue_comments.append(c)
        issue.comment_count += 1
        issue.updated_at = max(issue.updated_at, at)
        return c

    def review_comment(
        self, pr: GhIssue, pid: str, at: datetime, body: str, path: str
    ) -> GhComment:
        c = GhComment(700_000 + self.next_id(), pr.repo, pr.number, pid, at, body, path=path)
        self.org.github.review_comments.append(c)
        pr.review_comment_count += 1
        pr.updated_at = max(pr.updated_at, at)
        return c

    def release(self, repo: str, pid: str, at: datetime, tag: str) -> GhRelease:
        r = GhRelease(600_000 + self.next_id(), repo, tag, f"Release {tag}", pid, at, at)
        self.org.github.releases.append(r)
        return r

    # --- Jira -------------------------------------------------------------------------------

    def jira_issue(
        self,
        project: str,
        issue_type: str,
        summary: str,
        pid: str,
        at: datetime,
        status: str,
        labels: list[str],
        parent: str | None = None,
    ) -> JiraIssue:
        n = next(self._jira_numbers.setdefault(project, itertools.count(1)))
        issue_type = self.names.get(issue_type, issue_type)
        i = JiraIssue(
            f"{project}-{n}",
            10_000 + self.next_id(),
            project,
            issue_type,
            summary,
            status,
            at,
            at,
            pid,
            None,
            labels=list(labels),
            parent_key=parent,
        )
        self.org.jira.issues.append(i)
        return i

    def _history(self, issue: JiraIssue, pid: str, at: datetime, items: list[JiraChangeItem]):
        issue.histories.append(JiraHistory(self.next_id(), pid, at, items))
        issue.updated = max(issue.updated, at)

    def transition(self, issue: JiraIssue, pid: str, at: datetime, to_status: str) -> None:
        to_status = self.names.get(to_status, to_status)
        items = [
            JiraChangeItem(
                "status",
                "status",
                "jira",
                self.status_ids[issue.status],
                issue.status,
                self.status_ids[to_status],
                to_status,
            )
        ]
        done = {"Done", "Won't Do"}
        if to_status in done and issue.status not in done:
            items.append(
                JiraChangeItem("resolution", "resolution", "jira", None, None, "10000", "Done")
            )
            issue.resolution_date = at
        elif issue.status in done and to_status not in done:
            items.append(
                JiraChangeItem("resolution", "resolution", "jira", "10000", "Done", None, None)
            )
            issue.resolution_date = None
        issue.status = to_status
        self._history(issue, pid, at, items)

    def field_edit(self, issue: JiraIssue, pid: str, at: datetime, field_id: str, value) -> None:
        old = issue.custom.get(field_id) if field_id.startswith("customfield_") else None
        if field_id == "labels":
            old, issue.labels = " ".join(issue.labels), sorted(set(issue.labels) | {str(value)})
            new = " ".join(issue.labels)
        elif field_id == "priority":
            old, issue.priority = issue.priority, str(value)
            new = str(value)
        elif field_id == "assignee":
            prev = issue.assignee_pid
            issue.assignee_pid = str(value)
            self._history(
                issue,
                pid,
                at,
                [
                    JiraChangeItem(
                        "assignee",
                        "assignee",
                        "jira",
                        self._acct(prev),
                        self._name(prev),
                        self._acct(issue.assignee_pid),
                        self._name(issue.assignee_pid),
                    )
                ],
            )
            return
        else:
            issue.custom[field_id] = value
            new = str(value)
        name = (self.names.get(field_id) or CUSTOM_FIELD_NAMES.get(field_id)
                or SYSTEM_FIELD_NAMES[field_id])
        ftype = "custom" if field_id.startswith("customfield_") else "jira"
        self._history(
            issue,
            pid,
            at,
            [
                JiraChangeItem(
                    name, field_id, ftype, None, None if old is None else str(old), None, new
                )
            ],
        )

    def screen_edit(self, issue: JiraIssue, pid: str, at: datetime, values: dict) -> None:
        """One save of an edit screen that sets several custom fields: one history, N items."""
        items = []
        for field_id, value in values.items():
            old = issue.custom.get(field_id)
            issue.custom[field_id] = value
            name = self.names.get(field_id) or CUSTOM_FIELD_NAMES[field_id]
            items.append(JiraChangeItem(name, field_id, "custom", None,
                                        None if old is None else str(old), None, str(value)))
        self._history(issue, pid, at, items)

    def _acct(self, pid: str | None) -> str | None:
        return self.org.person(pid).jira_account_id if pid else None

    def _name(self, pid: str | None) -> str | None:
        return self.org.person(pid).jira_name if pid else None

    def jira_comment(self, issue: JiraIssue, pid: str, at: datetime, body: str) -> None:
        issue.comments.append(JiraComment(self.next_id(), pid, at, body))
        issue.updated = max(issue.updated, at)

    def worklog(self, issue: JiraIssue, pid: str, at: datetime, seconds: int) -> None:
        issue.worklogs.append(JiraWorklog(self.next_id(), pid, at, at, seconds))
        issue.updated = max(issue.updated, at)

    # --- Slack ------------------------------------------------------------------------------

    def ts(self, at: datetime) -> str:
        return f"{int(at.timestamp())}.{next(self._ts_seq) % 1_000_000:06d}"

    def post(
        self,
        channel: str,
        pid: str | None,
        at: datetime,
        text: str,
        *,
        bot_id: str | None = None,
        slackbot: bool = False,
    ) -> SlackMessage:
        ch = self.channels[channel]
        m = SlackMessage(
            ch.id,
            self.ts(at),
            pid,
            text,
            subtype="bot_message" if bot_id else None,
            bot_id=bot_id,
            slackbot=slackbot,
        )
        ch.messages.append(m)
        return m

    def reply(self, parent: SlackMessage, pid: str, at: datetime, text: str) -> SlackMessage:
        if at.timestamp() <= float(parent.ts):  # can't answer what isn't posted yet: post instead
            channel = next(c.name for c in self.channels.values() if c.id == parent.channel_id)
            return self.post(channel, pid, at, text)
        m = SlackMessage(parent.channel_id, self.ts(at), pid, text)
        parent.thread_ts = parent.ts
        m.thread_ts = parent.ts
        parent.replies.append(m)
        parent.replies.sort(key=lambda r: float(r.ts))
        return m
