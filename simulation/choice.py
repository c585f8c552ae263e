"""What a person does next: the day's fixed points and the weighted choice of the next act."""

from __future__ import annotations

from datetime import timedelta

from .acts import (
    BACKLOG_BASE,
    BACKLOG_PER_ENGINEER,
    chat,
    coding,
    create_ticket,
    gh_comment,
    jira_comment,
    merge,
    open_pr,
    pick_ticket,
    propose_experiment,
    ready,
    release,
    review,
    rework,
    standup,
)
from .acts_pm import (
    answer_reminder,
    groom,
    pm_close,
    pm_comment,
    report_bug,
    share_sheet,
    tend_initiatives,
    timesheet,
    tool_status,
)
from .engine import Day, Engine, TeamState, at_time

# --- the day's fixed points ---------------------------------------------------------------------


def morning(e: Engine, st: TeamState) -> None:
    """Things that happen to a team at set times: bot reminders, releases, unblocking."""
    team, reg, day = st.team, e.reg, e.day
    if team.knobs is not None:
        from .family_acts import family_morning

        family_morning(e, st)
    elif reg.tool_active:
        stale = [pid for pid in st.engineers if pid in st.doing]
        if stale:
            at = at_time(day, 10) + timedelta(seconds=e.rng.randrange(0, 300))
            mentions = " ".join(f"<@{e.org.person(p).slack_id}>" for p in stale)
            e.emit.post(
                "pmtool-updates",
                None,
                at,
                f"Reminder: please update the status of your PMTool items {mentions}",
                bot_id="B0REMIND01",
            )
            for p in stale:
                st.reminded[p] = at
        if day.weekday() == 4:
            at = at_time(day, 15) + timedelta(seconds=e.rng.randrange(0, 60))
            e.emit.post(
                team.channel("standup"),
                None,
                at,
                "Reminder: submit your timesheet in PMTool.",
                slackbot=True,
            )
            for p in st.engineers:
                st.reminded.setdefault(p, at)
    for ticket, until in list(st.blocked):
        if until <= day:
            st.blocked.remove((ticket, until))
            st.backlog.insert(0, ticket)


# --- choosing -----------------------------------------------------------------------------------


def choose(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    if d.pid == st.pm:
        return _choose_pm(e, st, d, budget)
    rng, reg, pid = e.rng, e.reg, d.pid
    me = e.org.person(pid)
    adopts = _adopts(e, st, pid)
    options: list[tuple[float, object]] = []
    done = st.done_today.setdefault(pid, set())
    if "standup" not in done and d.hour < 11:
        options.append((4.0, standup))
    if pid in st.reminded and st.reminded[pid] <= d.t and reg.tool_active:
        options.append((6.0 if adopts else 0.0, answer_reminder))
        if not adopts and rng.random() < 0.5:
            st.reminded.pop(pid, None)  # ignored
    if reg.tool_active and adopts and "timesheet" not in done and d.hour >= 14:
        options.append((3.0, timesheet))
    if any(pid in t.pending_reviewers for t in ready(st.in_review, d)):
        options.append((reg.review_weight, review))
    if ready(st.to_merge.get(pid, []), d):
        options.append((6.0, merge))
    ticket = st.doing.get(pid)
    skill = me.skill if not me.ramp_days else me.skill * _ramp(e, me)  # family: new hires
    if ready(st.rework.get(pid, []), d):
        options.append((8.0, rework))
    elif ticket is None:
        options.append((6.0 * skill, pick_ticket))
    elif ticket.sessions_left > 0:
        options.append((6.0 * skill, coding))
    else:
        options.append((6.0, open_pr))
    options.append((0.9, chat))
    if ticket is not None:
        options.append((0.15, jira_comment))
    if st.gh_bugs:
        options.append((0.25, gh_comment))
    if reg.tool_active and reg.sheet and not adopts and _weeks_in(e, st) > 3:
        options.append((0.15, share_sheet))
    if reg.tool_active and reg.status_thread and adopts and "tool_status" not in done:
        options.append((7.0, tool_status))
    if reg.experiments and "experiment" not in done and rng.random() < 0.004:
        options.append((1.0, propose_experiment))
    if _release_due(e, st) and "release" not in done:
        options.append((3.0, release))
    if st.team.knobs is not None:
        from .family_acts import family_options

        options = family_options(e, st, d, options)
    weights = [w for w, _ in options]
    fn = rng.choices([f for _, f in options], weights)[0]
    fn(e, st, d, budget)


def _ramp(e: Engine, me) -> float:
    """A new hire's share of full output: RAMP_START on the first day, 1 after ramp_days."""
    from .family import ranges as R

    done = (e.day - me.joined_on).days / me.ramp_days
    return 1.0 if done >= 1 else R.RAMP_START + (1 - R.RAMP_START) * max(0.0, done)


def _weeks_in(e: Engine, st: TeamState) -> float:
    """Weeks since the team's change started (the tool's onset)."""
    eff = getattr(st.team.knobs, "effect", None)
    onset = eff.onset if eff is not None else st.team.change_on
    return (e.day - onset).days / 7


def _adopts(e: Engine, st: TeamState, pid: str) -> bool:
    """Whether this person plays along with the tool this week (one draw per person-week)."""
    if not e.reg.tool_active:
        return False
    week = (pid, e.day.isocalendar()[:2])
    if week not in st.adopting:
        st.adopting[week] = e.rng.random() < e.reg.adoption * (0.2 if pid in st.best else 1.0)
    return st.adopting[week]


def _choose_pm(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    reg, rng = e.reg, e.rng
    options = [(1.5, chat), (0.6, pm_comment), (reg.grooming_weight, groom), (0.3, report_bug)]
    if len(st.backlog) < BACKLOG_BASE + BACKLOG_PER_ENGINEER * len(st.engineers):
        options.append((3.0, create_ticket))
    if ready(st.awaiting_pm, d):
        options.append((2.0, pm_close))
    if "standup" not in st.done_today.setdefault(d.pid, set()) and d.hour < 11:
        options.append((4.0, standup))
    if reg.tool_active:
        options.append((2.0, tend_initiatives))
    if st.team.knobs is not None:
        from .family_acts import family_pm_options

        options = family_pm_options(e, st, d, options)
    fn = rng.choices([f for _, f in options], [w for w, _ in options])[0]
    fn(e, st, d, budget)


def _release_due(e: Engine, st: TeamState) -> bool:
    return e.day.weekday() == 4 and e.day.isocalendar()[1] % 2 == 0

