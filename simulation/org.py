"""Build a whole simulated organization for a seed: people, tools' set-up, a year of work, truth."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .engine import Engine, TeamState, Ticket
from .family_org import family_members, family_tool_channels, zone_name
from .knobs import Knobs
from .model import (
    Activity,
    GitHubData,
    JiraBoard,
    JiraData,
    JiraField,
    JiraSprint,
    JiraStatus,
    Org,
    Repo,
    SlackBot,
    SlackChannel,
    SlackData,
    SlackUserGroup,
    Team,
)
from .people import family_bots, make_bots, make_people, vary_identities
from .scenarios import expected_verdict

TEAM_NAMES = ["atlas", "borealis", "cobalt", "delta", "ember", "fjord", "garnet", "helios"]


@dataclass(frozen=True)
class TeamSpec:
    name: str
    scenario: str
    engineers: int = 6
    # the scenario family's settings (simulation/knobs.py); the defaults are the demo's
    knobs: Knobs | None = None
    repo: str | None = None  # the product repository (default "<name>-app")
    merge_style: str = "rebase"  # rebase | squash | merge
    hires: tuple[date, ...] = ()  # engineers who join during the window
    leavers: tuple[date, ...] = ()  # engineers who leave during the window
    ghost: bool = False  # the first leaver's GitHub account is deleted
    zone: int = 0  # the team's UTC offset in minutes
    remote_zones: tuple[int, ...] = ()  # other offsets some members work from
    remote_share: float = 0.0


@dataclass(frozen=True)
class OrgSpec:
    teams: tuple[TeamSpec, ...]
    start: date = date(2025, 11, 1)
    months: int = 12
    change_on: date = date(2026, 3, 1)
    champion_leaves_on: date = date(2026, 8, 1)
    org: str = "acme"
    domain: str = "acme.example"
    ghost_leaver: bool = True  # one engineer leaves and their GitHub account is deleted
    family: bool = False  # a scenario-family member: every tool has bots, names differ
    identity_mess: float = 0.0  # share of people whose names differ across tools
    # family: the org's own names for the tool's fields, statuses and issue type, and its bot
    footprint: tuple[tuple[str, str], ...] = ()

    @classmethod
    def demo(cls) -> OrgSpec:
        return cls(
            teams=(
                TeamSpec("atlas", "steady"),
                TeamSpec("borealis", "tool_nobody_wanted"),
                TeamSpec("cobalt", "experiments_that_work"),
                TeamSpec("delta", "steady", 7),
            )
        )

    @classmethod
    def small(cls, months: int = 2) -> OrgSpec:
        """A quick organization for tests: three teams of five, a couple of months."""
        return cls(
            teams=(
                TeamSpec("atlas", "steady", 5),
                TeamSpec("borealis", "tool_nobody_wanted", 5),
                TeamSpec("cobalt", "experiments_that_work", 5),
            ),
            start=date(2026, 2, 1),
            months=months,
            champion_leaves_on=date(2026, 3, 20),
        )

    @classmethod
    def sized(cls, people: int) -> OrgSpec:
        """About `people` people in teams of 7, cycling through the scenarios (for scale runs)."""
        kinds = ["steady", "tool_nobody_wanted", "experiments_that_work", "steady"]
        n = max(3, round(people / 7))
        return cls(
            teams=tuple(
                TeamSpec(
                    f"{TEAM_NAMES[i % len(TEAM_NAMES)]}{'' if i < 8 else i // 8}", kinds[i % 4]
                )
                for i in range(n)
            )
        )

    @property
    def end(self) -> date:
        y, m = divmod(self.start.month - 1 + self.months, 12)
        return date(self.start.year + y, m + 1, 1) - timedelta(days=1)


def dt(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def generate_org(seed: int = 7, spec: OrgSpec | None = None) -> Org:
    """The organization for `seed`: same seed, same organization, byte for byte."""
    spec = spec or OrgSpec.demo()
    org, rng, states = _populate(seed, spec)
    _setup_github(org, spec)
    _setup_jira(org, spec, rng)
    _setup_slack(org, spec)
    engine = Engine(org, rng)
    for st in states:
        engine.states[st.team.name] = st
        _seed_backlog(engine, st)
    engine.run()
    _private_chatter(org, engine, rng)
    _finish(org, spec)
    return org


def generate_people(seed: int = 7, spec: OrgSpec | None = None) -> Org:
    """generate_org's organization before any day is simulated: its people with their accounts
    and messy names and emails, teams and roles (the same as generate_org's:
    tests/test_simulation.py), no records. For tests of identity matching: milliseconds, where
    the demo organization takes seconds."""
    return _populate(seed, spec or OrgSpec.demo())[0]


def _populate(seed: int, spec: OrgSpec) -> tuple[Org, random.Random, list[TeamState]]:
    """The organization's people and teams, the random stream after drawing them, and the
    teams' starting states."""
    rng = random.Random(seed)
    org = Org(seed, spec.start, spec.end, [], [], GitHubData(spec.org), JiraData(),
              SlackData("T0ACME0001", "Acme", spec.org), [], [])
    used: set[str] = set()
    org.people.extend(make_bots(spec.start))
    if spec.family:
        org.people.extend(family_bots(spec.start))
        org.footprint = dict(spec.footprint)
        if "bot" in org.footprint:  # the reminder bot is named after the org's tool
            bot = next(p for p in org.people if p.pid == "bot-reminder")  # (no pid cache yet)
            bot.name = bot.slack_real_name = org.footprint["bot"]
            bot.slack_name = org.footprint["bot"].lower().replace(" ", "-")
    aux = random.Random(f"{seed}:family:org")  # draws the demo never makes
    states = []
    for i, ts in enumerate(spec.teams):
        team = Team(ts.name, ts.scenario, _project_key(ts.name, i), ts.repo or f"{ts.name}-app")
        team.knobs = ts.knobs
        effect = ts.knobs.effect if ts.knobs is not None else None
        if effect is not None:
            team.change_on = effect.onset
            if effect.kind == "process_as_product":
                team.champion_leaves_on = effect.end
        if ts.knobs is not None and ts.knobs.pm_change:  # an ordinary PM change, no effect
            team.champion_leaves_on = ts.knobs.pm_change
        elif ts.scenario != "steady" and ts.knobs is None:
            team.change_on = spec.change_on
        if ts.scenario == "tool_nobody_wanted":
            team.champion_leaves_on = spec.champion_leaves_on
        members = make_people(rng, ts.engineers + 1, spec.domain, spec.start, 100 * (i + 1), used)
        if ts.knobs is not None:
            members += family_members(aux, ts, members, spec, 100 * (i + 1) + 60, used)
        for p in members:
            p.team = ts.name
        pm, engineers = members[0], members[1:]
        pm.role = "pm"
        successor = None
        if team.champion_leaves_on:  # the champion leaves; another PM takes over that day
            pm.left_on = team.champion_leaves_on
            successor = make_people(rng, 1, spec.domain, spec.start, 100 * (i + 1) + 50, used)[0]
            successor.team, successor.role = ts.name, "pm"
            successor.joined_on = team.champion_leaves_on
            if ts.knobs is not None:  # the new PM works where the team does
                successor.tz_offset_min, successor.tz_name = ts.zone, zone_name(ts.zone)
            members.append(successor)
        team.members = [p.pid for p in members]
        org.people.extend(members)
        org.teams.append(team)
        ranked = sorted(engineers, key=lambda p: -p.skill)
        best = {p.pid for p in ranked[: max(1, len(ranked) // 4)]}
        states.append(TeamState(team, pm.pid, [p.pid for p in engineers if p.role == "engineer"],
                                best, next_pm=successor.pid if successor else None))
    if spec.identity_mess:
        vary_identities(org.people, random.Random(f"{seed}:family:identity"), spec.identity_mess)
    if spec.ghost_leaver and len(spec.teams) >= 4:
        leaver = org.person(states[3].engineers[-1])
        leaver.left_on = spec.start + timedelta(days=75)
        leaver.github_deleted = True
    return org, rng, states


def _project_key(name: str, i: int) -> str:
    key = name[:3].upper()
    return key if i < 8 else f"{key}{i}"


def _setup_github(org: Org, spec: OrgSpec) -> None:
    gh = org.github
    created = dt(spec.start - timedelta(days=400))
    for i, (team, ts) in enumerate(zip(org.teams, spec.teams, strict=True)):
        gh.repos.append(Repo(team.repo, 300_000 + i, created, team.name, ts.merge_style))
        gh.teams[team.name] = [p for p in team.members if org.person(p).role != "pm"]
    gh.repos.append(Repo("platform-infra", 399_999, created, None))


STATUSES = [
    ("Backlog", "new"),
    ("To Do", "new"),
    ("In Progress", "indeterminate"),
    ("Ready for Review", "indeterminate"),
    ("In Review", "indeterminate"),
    ("Blocked", "indeterminate"),
    ("Waiting for QA", "indeterminate"),
    ("Done", "done"),
    ("Won't Do", "done"),
    ("Needs Business Value", "new"),
    ("Ready for Estimation", "new"),
    ("Awaiting PM Review", "indeterminate"),
]
FIELDS = [
    ("summary", "Summary", False, "string"),
    ("status", "Status", False, "status"),
    ("issuetype", "Issue Type", False, "issuetype"),
    ("labels", "Labels", False, "array"),
    ("priority", "Priority", False, "priority"),
    ("assignee", "Assignee", False, "user"),
    ("reporter", "Reporter", False, "user"),
    ("components", "Component/s", False, "array"),
    ("parent", "Parent", False, "issuelink"),
    ("created", "Created", False, "datetime"),
    ("updated", "Updated", False, "datetime"),
    ("resolutiondate", "Resolved", False, "datetime"),
    ("customfield_10016", "Story Points", True, "number"),
    ("customfield_10014", "Epic Link", True, "any"),
    ("customfield_10020", "Sprint", True, "array"),
    ("customfield_10001", "Team", True, "option"),
    ("customfield_10100", "Business Value", True, "option"),
    ("customfield_10101", "Initiative", True, "string"),
    ("customfield_10102", "Confidence", True, "option"),
    ("customfield_10200", "Hypothesis", True, "string"),
    ("customfield_10201", "Success Criteria", True, "string"),
    ("customfield_10300", "Customer Impact", True, "option"),
    ("customfield_10400", "Progress", True, "number"),
]


def _setup_jira(org: Org, spec: OrgSpec, rng: random.Random) -> None:
    j = org.jira
    names = dict(spec.footprint)  # family: the tool's names in this org (empty for the demo)
    j.statuses = [JiraStatus(str(10_000 + i), names.get(n, n), c)
                  for i, (n, c) in enumerate(STATUSES)]
    j.fields = [JiraField(f[0], names.get(f[0], f[1]), *f[2:]) for f in FIELDS]
    for i, team in enumerate(org.teams):
        j.projects[team.jira_project] = f"{team.name.title()} product"
        j.project_leads[team.jira_project] = team.members[0]
        board = JiraBoard(100 + i, f"{team.name.title()} board", team.jira_project)
        j.boards.append(board)
        start = dt(spec.start)
        n = 1
        while start.date() <= spec.end:
            end = start + timedelta(days=14)
            state = "closed" if end.date() <= spec.end else "active"
            j.sprints.append(
                JiraSprint(
                    1000 * (i + 1) + n,
                    board.id,
                    f"{team.name.title()} Sprint {n}",
                    state,
                    start,
                    end,
                )
            )
            start, n = end, n + 1


def _setup_slack(org: Org, spec: OrgSpec) -> None:
    s = org.slack
    everyone = [p.pid for p in org.people if not p.is_bot]
    created = dt(spec.start - timedelta(days=300))
    first = everyone[0]
    n = 0

    def channel(name, purpose, members, private=False, when=created, im=False):
        nonlocal n
        n += 1
        s.channels.append(
            SlackChannel(
                f"C{n:04d}ACME", name, private, purpose, when, first, list(members), is_im=im
            )
        )

    channel("general", "Company-wide announcements", everyone)
    channel("random", "Non-work banter", everyone)
    for team in org.teams:
        channel(team.channel("eng"), f"Engineering chat for {team.name}", team.members)
        channel(team.channel("support"), f"Customer escalations for {team.name}", team.members)
        channel(team.channel("standup"), "Async standups", team.members)
        s.usergroups.append(
            SlackUserGroup(
                f"S{len(s.usergroups) + 1:04d}GRP",
                f"{team.name}-team",
                f"{team.name.title()} team",
                list(team.members),
            )
        )
    if spec.family:
        family_tool_channels(org, channel, dt)
    else:
        tool_teams = [t for t in org.teams if t.scenario == "tool_nobody_wanted"]
        channel(
            "pmtool-updates",
            "Updates from PMTool",
            [m for t in tool_teams for m in t.members] + ["bot-reminder"],
            when=dt(spec.change_on),
        )
    channel("leadership", "Private: leads only", [t.members[0] for t in org.teams], private=True)
    channel("", "direct message", everyone[:2], private=True, im=True)
    s.channels[-1].name = f"D{everyone[0]}"
    bot = dict(spec.footprint).get("bot", "PMTool Reminders")  # family: named after its tool
    s.bots.append(SlackBot("B0REMIND01", bot, "U0BOTREM01", "A0PMTOOL01"))
    if spec.family:
        s.bots.append(SlackBot("B0DEPLOY01", "Deploy Bot", "U0BOTDEP01", "A0DEPLOY01"))


def _seed_backlog(e: Engine, st: TeamState) -> None:
    """The backlog a team already has: written by its PM on a day two weeks before the window,
    ten minutes a ticket (recorded in the truth like any other work)."""
    from . import acts

    day = e.org.start - timedelta(days=14)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    clock = dt(day, 9)

    def write(itype: str, summary: str, status: str, category: str, parent: str | None):
        nonlocal clock
        e.org.activities.append(Activity(st.pm, clock, 10.0, "ticket_work", category, True))
        clock += timedelta(minutes=10)
        return e.emit.jira_issue(st.team.jira_project, itype, summary, st.pm, clock, status, [],
                                 parent)

    for n in range(3):
        issue = write("Epic", f"Epic {n + 1}: {acts.TOPICS[n]}", "In Progress", "customer", None)
        st.epics.append(issue.key)
    for n in range(10 + 2 * len(st.engineers)):
        category = "customer" if n % 3 else "enabling"
        issue = write("Story" if category == "customer" else "Task",
                      f"{acts.VERBS[n % 8]} {acts.TOPICS[n % 13]}", "Backlog", category,
                      st.epics[n % 3] if category == "customer" else None)
        st.backlog.append(Ticket(issue, category, st.team.repo, 0))


def _private_chatter(org: Org, e: Engine, rng: random.Random) -> None:
    """Messages in a private channel and a DM: not collected unless listed, so not in the truth."""
    leads = [c for c in org.slack.channels if c.name == "leadership"][0]
    dm = [c for c in org.slack.channels if c.is_im][0]
    day = org.start
    while day <= org.end:
        if day.weekday() == 1:
            e.emit.post("leadership", leads.members[0], dt(day, 18), "Private: hiring plan draft")
            e.emit.channels[dm.name] = dm
            e.emit.post(dm.name, dm.members[0], dt(day, 18), "PRIVATE-DM-TEXT lunch?")
        day += timedelta(days=1)


def _finish(org: Org, spec: OrgSpec) -> None:
    """Settle derived fields and record the expected verdicts."""
    for issue in org.jira.issues:
        sprints = [s.id for s in org.jira.sprints if s.start <= issue.created < s.end]
        if issue.custom.get("customfield_10020") and sprints:
            issue.sprint_ids = sprints[:1]
    for ch in org.slack.channels:
        ch.messages.sort(key=lambda m: float(m.ts))
    org.activities.sort(key=lambda a: (a.pid, a.start))
    for team in org.teams:
        month = date(spec.start.year, spec.start.month, 1)
        while month <= spec.end:
            nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            org.expected_verdicts.append(
                (
                    team.name,
                    month.strftime("%Y-%m"),
                    expected_verdict(team, month, nxt - timedelta(days=1)),
                )
            )
            month = nxt
