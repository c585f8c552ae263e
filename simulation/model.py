"""The simulated organization as plain records.

These records are what the three emulators serve (each turns them into its API's JSON) and what
the ground truth is computed from. They are tool-shaped on purpose: a record holds what GitHub,
Jira or Slack would store, at the moment they would store it. Nothing here knows how processhealth
analyses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

# --- people -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Person:
    """A human (or bot) who exists in one or more tools. `pid` is the simulation's own id."""

    pid: str
    name: str
    team: str | None
    role: str  # engineer | pm | bot
    email: str
    skill: float  # productivity multiplier; the top quartile are the "best performers"
    joined_on: date
    left_on: date | None = None
    is_bot: bool = False
    # GitHub
    github_login: str | None = None
    github_id: int | None = None
    github_email: str | None = None  # public profile email (often missing or personal)
    commit_email: str | None = None  # email on commits
    github_deleted: bool = False  # shows up as the "ghost" user after leaving
    # Jira
    jira_account_id: str | None = None
    jira_email: str | None = None  # Cloud hides many emails
    jira_name: str | None = None
    # Slack
    slack_id: str | None = None
    slack_email: str | None = None
    slack_name: str | None = None  # handle
    slack_real_name: str | None = None
    # Set only by the scenario family (kept out of repr, so the demo's fingerprint is unchanged):
    tz_offset_min: int = field(default=0, repr=False)  # working hours shifted from UTC
    tz_name: str | None = field(default=None, repr=False)  # IANA zone the tools show
    github_name: str | None = field(default=None, repr=False)  # profile name if not `name`
    commit_name: str | None = field(default=None, repr=False)  # author name on commits
    vacation: frozenset = field(default=frozenset(), repr=False)  # days away in leave blocks
    ramp_days: int = field(default=0, repr=False)  # a new hire's days to full productivity

    def active_on(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)


@dataclass(slots=True)
class Team:
    name: str  # e.g. "atlas"
    scenario: str  # steady | tool_nobody_wanted | experiments_that_work
    jira_project: str  # e.g. "ATL"
    repo: str  # the team's product repository
    members: list[str] = field(default_factory=list)  # pids
    change_on: date | None = None  # when the scenario's process change starts
    champion_leaves_on: date | None = None
    # The scenario family's knobs (simulation/knobs.py); None is the demo's fixed behaviour.
    knobs: object = field(default=None, repr=False)

    def channel(self, role: str) -> str:
        """The team's Slack channel for `role` (eng, support, standup, tool) under its naming."""
        names = getattr(self.knobs, "channels", None)
        if names:
            return names[role]
        return "pmtool-updates" if role == "tool" else f"{role}-{self.name}"

    def label(self, label: str) -> str:
        """The team's own spelling of a standard label (customer, tech-debt, infra, pmtool)."""
        names = getattr(self.knobs, "labels", None)
        return names.get(label, label) if names else label


# --- GitHub -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Repo:
    name: str
    id: int
    created_at: datetime
    team: str | None  # None = shared repository
    # rebase (linear: every PR commit lands on the default branch) | squash | merge
    merge_style: str = field(default="rebase", repr=False)


@dataclass(slots=True)
class GhCommit:
    repo: str
    sha: str
    author_pid: str
    date: datetime
    message: str
    pr_number: int | None
    # False for a squash-merged PR's own commits: listed by the PR, not on the default branch
    listed: bool = field(default=True, repr=False)


@dataclass(slots=True)
class GhReview:
    id: int
    repo: str
    pr_number: int
    user_pid: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED
    submitted_at: datetime
    body: str


@dataclass(slots=True)
class GhComment:
    """An issue comment (on an issue or a PR conversation) or a review comment (on a PR diff)."""

    id: int
    repo: str
    number: int
    user_pid: str
    created_at: datetime
    body: str
    review_id: int | None = None  # set for review comments
    path: str | None = None


@dataclass(slots=True)
class GhIssue:
    """A GitHub issue or pull request (GitHub numbers them in one sequence per repository)."""

    repo: str
    number: int
    id: int
    title: str
    body: str
    user_pid: str
    created_at: datetime
    updated_at: datetime
    labels: list[str]
    is_pr: bool
    closed_at: datetime | None = None
    # pull request only
    head_ref: str | None = None
    draft: bool = False
    ready_at: datetime | None = None  # when a draft was marked ready for review
    merged_at: datetime | None = None
    merged_by_pid: str | None = None
    commit_shas: list[str] = field(default_factory=list)
    reviewer_pids: list[str] = field(default_factory=list)  # requested reviewers
    comment_count: int = 0
    review_comment_count: int = 0


@dataclass(slots=True)
class GhRelease:
    id: int
    repo: str
    tag: str
    name: str
    author_pid: str
    created_at: datetime
    published_at: datetime


@dataclass(slots=True)
class GitHubData:
    org: str
    repos: list[Repo] = field(default_factory=list)
    issues: list[GhIssue] = field(default_factory=list)  # issues and PRs
    commits: list[GhCommit] = field(default_factory=list)
    reviews: list[GhReview] = field(default_factory=list)
    issue_comments: list[GhComment] = field(default_factory=list)
    review_comments: list[GhComment] = field(default_factory=list)
    releases: list[GhRelease] = field(default_factory=list)
    teams: dict[str, list[str]] = field(default_factory=dict)  # org team slug -> pids


# --- Jira ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class JiraField:
    id: str  # "summary" or "customfield_10016"
    name: str
    custom: bool
    type: str  # string | number | array | option | user | date | any


@dataclass(slots=True)
class JiraStatus:
    id: str
    name: str
    category: str  # new | indeterminate | done (Jira's status category keys)


@dataclass(slots=True)
class JiraChangeItem:
    field: str  # display name, as Jira puts it in the changelog ("status", "Story Points")
    field_id: str
    field_type: str  # jira | custom
    from_id: str | None
    from_string: str | None
    to_id: str | None
    to_string: str | None


@dataclass(slots=True)
class JiraHistory:
    id: int
    author_pid: str
    created: datetime
    items: list[JiraChangeItem]


@dataclass(slots=True)
class JiraComment:
    id: int
    author_pid: str
    created: datetime
    body: str


@dataclass(slots=True)
class JiraWorklog:
    id: int
    author_pid: str
    started: datetime
    created: datetime
    seconds: int


@dataclass(slots=True)
class JiraIssue:
    key: str
    id: int
    project: str
    issue_type: str
    summary: str
    status: str  # current status name
    created: datetime
    updated: datetime
    reporter_pid: str
    assignee_pid: str | None
    priority: str = "Medium"
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    parent_key: str | None = None
    resolution_date: datetime | None = None
    custom: dict[str, object] = field(default_factory=dict)  # field id -> current value
    histories: list[JiraHistory] = field(default_factory=list)
    comments: list[JiraComment] = field(default_factory=list)
    worklogs: list[JiraWorklog] = field(default_factory=list)
    sprint_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class JiraSprint:
    id: int
    board_id: int
    name: str
    state: str  # closed | active | future
    start: datetime
    end: datetime


@dataclass(slots=True)
class JiraBoard:
    id: int
    name: str
    project: str


@dataclass(slots=True)
class JiraData:
    projects: dict[str, str] = field(default_factory=dict)  # key -> name
    project_leads: dict[str, str] = field(default_factory=dict)  # key -> pid
    fields: list[JiraField] = field(default_factory=list)
    statuses: list[JiraStatus] = field(default_factory=list)
    issues: list[JiraIssue] = field(default_factory=list)
    boards: list[JiraBoard] = field(default_factory=list)
    sprints: list[JiraSprint] = field(default_factory=list)


# --- Slack --------------------------------------------------------------------------------------


@dataclass(slots=True)
class SlackMessage:
    channel_id: str
    ts: str  # "1700000000.000100": seconds.microseconds, unique per channel
    user_pid: str | None  # None for bot messages and Slackbot
    text: str
    thread_ts: str | None = None  # set on replies (and on a parent that has replies)
    subtype: str | None = None  # bot_message | channel_join | None
    bot_id: str | None = None
    slackbot: bool = False  # a Slackbot reminder ("Reminder: ...")
    replies: list[SlackMessage] = field(default_factory=list)

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(float(self.ts), UTC)


@dataclass(slots=True)
class SlackChannel:
    id: str
    name: str
    is_private: bool
    purpose: str
    created: datetime
    creator_pid: str
    members: list[str] = field(default_factory=list)  # pids
    is_im: bool = False
    messages: list[SlackMessage] = field(default_factory=list)  # top-level, in ts order


@dataclass(slots=True)
class SlackBot:
    id: str  # "B..."
    name: str
    user_id: str  # "U..." of the bot user
    app_id: str


@dataclass(slots=True)
class SlackUserGroup:
    id: str
    handle: str
    name: str
    member_pids: list[str]


@dataclass(slots=True)
class SlackData:
    team_id: str
    team_name: str
    domain: str
    channels: list[SlackChannel] = field(default_factory=list)
    bots: list[SlackBot] = field(default_factory=list)
    usergroups: list[SlackUserGroup] = field(default_factory=list)


# --- ground truth -------------------------------------------------------------------------------


@dataclass(slots=True)
class Activity:
    """One stretch of a person's working day, with its true duration and category.

    `visible` is false for work that leaves no trace in any tool (meetings)."""

    pid: str
    start: datetime
    minutes: float
    # coding | reviewing | ticket_work | chat | status_update | grooming | reminder_answer
    # | meeting | release | timesheet
    kind: str
    category: str  # customer | enabling | process | unclassified
    visible: bool


@dataclass
class Org:
    seed: int
    start: date
    end: date  # inclusive
    people: list[Person]
    teams: list[Team]
    github: GitHubData
    jira: JiraData
    slack: SlackData
    activities: list[Activity]
    expected_verdicts: list[tuple[str, str, str | None]]  # (team, "YYYY-MM", verdict or None)
    # family: the org's names for the tool's fields, statuses and issue type (canonical -> own)
    footprint: dict[str, str] = field(default_factory=dict, repr=False)

    def person(self, pid: str) -> Person:
        return self._by_pid()[pid]

    def _by_pid(self) -> dict[str, Person]:
        cache = self.__dict__.get("_pid_cache")
        if cache is None:
            cache = {p.pid: p for p in self.people}
            self.__dict__["_pid_cache"] = cache
        return cache
