"""The day engine: every person's working day as a sequence of activities with true durations.

Within a team the day runs as a discrete-event simulation: whoever is free earliest picks their
next activity, so a pull request opened at 14:00 can be reviewed at 14:30 by a teammate. Each
activity has a duration drawn from a distribution and emits its records at the moments a real tool
would record them (a commit when the coding stretch ends, a review when the reviewing ends, ...).
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from .emit import Emitter
from .heap import few_collections
from .model import Activity, GhIssue, JiraIssue, Org, SlackMessage, Team
from .scenarios import Regime, regime


@dataclass
class Ticket:
    issue: JiraIssue
    category: str  # customer | enabling
    repo: str
    sessions_left: int
    owner: str | None = None
    pr: GhIssue | None = None
    pending_reviewers: list[str] = field(default_factory=list)
    approved_by: set[str] = field(default_factory=set)
    needs_ready: bool = False
    branch_commits: list = field(default_factory=list)  # pushed before the PR was opened
    # When it was handed to the next person (queued): each person keeps their own clock, so
    # nobody may act on a ticket before the moment it reached them.
    ready_at: datetime = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class TeamState:
    team: Team
    pm: str | None
    engineers: list[str]
    best: set[str]  # best performers (top quartile by skill)
    backlog: list[Ticket] = field(default_factory=list)
    doing: dict[str, Ticket] = field(default_factory=dict)  # being coded, PR not yet in review
    in_review: list[Ticket] = field(default_factory=list)  # PRs waiting for reviewers
    rework: dict[str, list[Ticket]] = field(default_factory=dict)  # changes requested
    blocked: list[tuple[Ticket, date]] = field(default_factory=list)
    to_merge: dict[str, list[Ticket]] = field(default_factory=dict)
    awaiting_pm: list[Ticket] = field(default_factory=list)  # Waiting for QA / PM review
    gh_bugs: list[GhIssue] = field(default_factory=list)
    threads: dict[str, list[SlackMessage]] = field(default_factory=dict)  # channel -> recent
    incident: SlackMessage | None = None
    incident_left: int = 0
    reminded: dict[str, datetime] = field(default_factory=dict)
    adopting: dict[tuple, bool] = field(default_factory=dict)  # (pid, iso week) -> plays along
    next_pm: str | None = None  # the PM who takes over when the current one leaves
    initiatives: list[JiraIssue] = field(default_factory=list)
    epics: list[str] = field(default_factory=list)
    release_no: int = 0
    done_today: dict[str, set[str]] = field(default_factory=dict)


class Day:
    """One person-day: clock, meetings and the activity log."""

    def __init__(self, pid: str, start: datetime, end: datetime, meetings: list[tuple],
                 offset: timedelta = timedelta(0)):
        self.pid, self.t, self.end, self.meetings = pid, start, end, meetings
        self.offset = offset  # the person's time zone: local = UTC + offset

    @property
    def hour(self) -> int:
        """The hour of the day on the person's own clock."""
        return (self.t + self.offset).hour


def lognorm(rng: random.Random, median: float, lo: float, hi: float, sigma: float = 0.5) -> float:
    return min(hi, max(lo, median * rng.lognormvariate(0, sigma)))


def at_time(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=UTC)


class Engine:
    def __init__(self, org: Org, rng: random.Random):
        self.org, self.rng = org, rng
        self.emit = Emitter(org)
        # Draws only family teams make: a stream of their own, so the demo's stream is untouched.
        self.aux = random.Random(f"{org.seed}:family:engine")
        self.states: dict[str, TeamState] = {}
        self.team_of_project = {t.jira_project: t for t in org.teams}
        self.day: date = org.start
        self.reg: Regime = regime(org.teams[0], org.start)

    # --- bookkeeping --------------------------------------------------------------------------

    def act(
        self, d: Day, minutes: float, kind: str, category: str, visible: bool = True
    ) -> datetime:
        """Spend `minutes` on an activity; returns when it ends (when its record is written)."""
        minutes = max(0.5, minutes)
        self.org.activities.append(Activity(d.pid, d.t, round(minutes, 2), kind, category, visible))
        d.t = d.t + timedelta(minutes=minutes)
        return d.t

    def run(self) -> None:
        with few_collections():
            self._run_days()

    def _run_days(self) -> None:
        from . import choice as acts

        day = self.org.start
        while day <= self.org.end:
            if day.weekday() < 5:
                self.day = day
                for team in self.org.teams:
                    self.reg = regime(team, day)
                    st = self.states[team.name]
                    if st.next_pm and self.org.person(st.next_pm).active_on(day):
                        st.pm, st.next_pm = st.next_pm, None
                    if team.knobs is not None:
                        from .family_day import hand_over

                        hand_over(self, st)
                    acts.morning(self, st)
                    self._run_team_day(st)
            day += timedelta(days=1)

    def _run_team_day(self, st: TeamState) -> None:
        from . import choice as acts

        heap = []
        days: dict[str, Day] = {}
        for pid in [st.pm, *st.engineers]:
            if pid is None or not self.org.person(pid).active_on(self.day):
                continue
            knobs = st.team.knobs
            if knobs is not None and self.day in self.org.person(pid).vacation:
                continue
            if self.rng.random() < (0.05 if knobs is None else knobs.absence):  # vacation, sick
                continue
            if knobs is not None and self._on_holiday(knobs):
                continue
            d = self._plan_day(pid)
            days[pid] = d
            heapq.heappush(heap, (d.t, pid))
        st.done_today = {pid: set() for pid in days}
        while heap:
            _, pid = heapq.heappop(heap)
            d = days[pid]
            if self._enter_meetings(d) or d.t >= d.end:
                if d.t < d.end:
                    heapq.heappush(heap, (d.t, pid))
                continue
            budget = (d.end - d.t).total_seconds() / 60
            nxt = self._next_meeting(d)
            if nxt is not None:
                budget = min(budget, (nxt - d.t).total_seconds() / 60)
            if budget < 2:
                d.t = nxt if nxt is not None and nxt < d.end else d.end
            else:
                acts.choose(self, st, d, budget)
            if d.t < d.end:
                heapq.heappush(heap, (d.t, pid))

    def _plan_day(self, pid: str) -> Day:
        rng = self.rng
        start = at_time(self.day, 8, 30) + timedelta(minutes=rng.uniform(0, 60))
        end = start + timedelta(minutes=min(540, max(420, rng.gauss(495, 30))))
        lunch = at_time(self.day, 12, 0) + timedelta(minutes=rng.uniform(-30, 30))
        meetings = [(lunch, timedelta(minutes=rng.choice([45, 50, 60])), False)]
        for _ in range(rng.choices([0, 1, 2], [0.3, 0.45, 0.25])[0]):
            s = at_time(self.day, 10) + timedelta(minutes=30 * rng.randrange(0, 12))
            dur = timedelta(minutes=rng.choice([30, 30, 45, 60]))
            if all(s + dur <= m or s >= m + md for m, md, _ in meetings):
                meetings.append((s, dur, True))
        if self.reg.tool_active and self.day.weekday() in (1, 3):  # the tool's sync meeting
            s = at_time(self.day, 14)
            meetings = [m for m in meetings if m[0] + m[1] <= s or m[0] >= s + timedelta(hours=1)]
            meetings.append((s, timedelta(hours=1), True))
        meetings.sort()
        if self.reg.planning or self.reg.crunch or self.org.person(pid).tz_offset_min:
            from .family_day import adjust_day

            return adjust_day(self, Day(pid, start, end, meetings))
        return Day(pid, start, end, meetings)

    def _on_holiday(self, knobs) -> bool:
        """Away in the holiday season (Dec 20 - Jan 2), when most of a team takes leave."""
        d = self.day
        season = (d.month == 12 and d.day >= 20) or (d.month == 1 and d.day <= 2)
        return season and self.aux.random() < knobs.holiday_away

    def _enter_meetings(self, d: Day) -> bool:
        """If the clock has reached a meeting (or lunch), spend it there; True if it did."""
        for i, (s, dur, is_meeting) in enumerate(d.meetings):
            if s <= d.t < s + dur:
                if is_meeting:
                    minutes = (s + dur - d.t).total_seconds() / 60
                    self.org.activities.append(
                        Activity(d.pid, d.t, round(minutes, 2), "meeting", "meeting", False)
                    )
                d.t = s + dur
                d.meetings = d.meetings[i + 1 :]
                return True
        d.meetings = [m for m in d.meetings if m[0] + m[1] > d.t]
        return False

    def _next_meeting(self, d: Day) -> datetime | None:
        future = [s for s, _, _ in d.meetings if s > d.t]
        return min(future) if future else None
