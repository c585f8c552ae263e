"""The acts of product managers and of the PM tool: grooming, closing, reminders, status updates."""

from __future__ import annotations

from .acts import (
    GROOM_FIELDS,
    SHEETS,
    TOOL_FIELDS,
    _own_or_backlog,
    _title,
    chat,
    create_ticket,
    ready,
)
from .engine import Day, Engine, TeamState, lognorm

# --- the tool's acts ----------------------------------------------------------------------------


def answer_reminder(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    rng = e.rng
    st.reminded.pop(d.pid, None)
    t = _own_or_backlog(st, d)
    if t is None:
        return
    for f in rng.sample(TOOL_FIELDS, 2):
        at = e.act(d, min(budget, rng.uniform(1.5, 3.5)), "reminder_answer", "process")
        e.emit.field_edit(t.issue, d.pid, at, f, rng.choice(["High", "Medium", "Low", "Q3 goal"]))
    at = e.act(d, rng.uniform(1, 3), "reminder_answer", "process")
    recent = [m for m in e.emit.channels[st.team.channel("tool")].messages[-3:]
              if m.bot_id and m.at <= at]
    if recent:
        e.emit.reply(recent[-1], d.pid, at, "updated")


def timesheet(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    st.done_today[d.pid].add("timesheet")
    t = _own_or_backlog(st, d)
    if t is None:
        return
    at = e.act(d, min(budget, e.rng.uniform(2, 4)), "timesheet", "process")
    e.emit.worklog(t.issue, d.pid, at, 6 * 3600)


def tool_status(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    """The daily status update the tool asks for: fields on one's items and a post."""
    rng = e.rng
    avail = ready(st.backlog, d)
    t = rng.choice(avail) if avail and rng.random() < 0.6 else _own_or_backlog(st, d)
    if t is None:
        return
    if rng.random() < 0.12:
        st.done_today[d.pid].add("tool_status")
    for f in ("customfield_10400", "customfield_10102", "customfield_10101"):
        at = e.act(d, min(budget, rng.uniform(1.5, 3.5)), "status_update", "process")
        e.emit.field_edit(
            t.issue,
            d.pid,
            at,
            f,
            rng.choice([10, 50, 80])
            if f.endswith("400")
            else rng.choice(["High", "Medium", "Low"]),
        )
    initiatives = [i for i in st.initiatives if i.created <= d.t]
    if initiatives:  # the tool rolls each update up into an initiative, by hand
        issue = rng.choice(initiatives)
        at = e.act(d, rng.uniform(1, 2.5), "status_update", "process")
        progress = min(100, int(issue.custom.get("customfield_10400", 0) or 0) + 1)
        e.emit.field_edit(issue, d.pid, at, "customfield_10400", progress)
    at = e.act(d, rng.uniform(3, 6), "chat", "process")
    e.emit.post(st.team.channel("tool"), d.pid, at, f"Status for {t.issue.key}: on track")


def share_sheet(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    # tracking status in a spreadsheet is work about work (issue 16); the demo keeps its label
    category = "enabling" if st.team.knobs is None else "process"
    at = e.act(d, min(budget, e.rng.uniform(2, 4)), "chat", category)
    link = e.rng.choice(SHEETS).format(n=e.rng.randrange(10_000))
    e.emit.post(st.team.channel("eng"), d.pid, at, f"I'm tracking our real status here: {link}")


# --- the PM's acts ------------------------------------------------------------------------------


def groom(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    avail = ready(st.backlog, d)
    if not avail:
        return create_ticket(e, st, d, budget)
    rng = e.rng
    next_up = rng.random() < e.reg.groom_next_up
    pool = avail[:4] if next_up else avail
    t = rng.choice(pool)
    at = e.act(d, min(budget, rng.uniform(1.5, 3.5)), "grooming", "process")
    f = rng.choice(GROOM_FIELDS)
    if f == "customfield_10016":
        e.emit.field_edit(t.issue, d.pid, at, f, rng.choice([1, 2, 3, 5, 8]))
    elif f == "priority":
        e.emit.field_edit(t.issue, d.pid, at, f, rng.choice(["High", "Medium", "Low"]))
    elif f == "labels":
        e.emit.field_edit(t.issue, d.pid, at, f, rng.choice(["q3", "frontend", "backend"]))
    else:
        e.emit.field_edit(
            t.issue, d.pid, at, f, f"{st.team.name.title()} Sprint {e.day.isocalendar()[1] // 2}"
        )
    if rng.random() < 0.03:  # barely used fields
        e.emit.field_edit(t.issue, d.pid, at, "customfield_10300", "Medium")
    needs = e.emit.names.get("Needs Business Value", "Needs Business Value")
    if t.issue.status in ("Backlog", needs) and rng.random() < 0.3:
        to = (
            "Ready for Estimation" if e.reg.tool_active and t.issue.status == "Backlog" else "To Do"
        )
        e.emit.transition(t.issue, d.pid, at, to)


def pm_comment(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    pool = list(st.doing.values()) or ready(st.backlog, d)
    if not pool:
        return chat(e, st, d, budget)
    t = e.rng.choice(pool)
    at = e.act(d, min(budget, lognorm(e.rng, 7, 3, 15)), "ticket_work", t.category)
    e.emit.jira_comment(t.issue, d.pid, at, "The customer confirmed this is the priority.")


def report_bug(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    at = e.act(d, min(budget, lognorm(e.rng, 9, 4, 15)), "ticket_work", "customer")
    issue = e.emit.issue(
        st.team.repo,
        d.pid,
        at,
        f"Customer report: {_title(e, 'customer')}",
        "Reported by a customer via support.",
        ["bug", "customer"],
        False,
    )
    st.gh_bugs.append(issue)


def pm_close(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    t = ready(st.awaiting_pm, d)[0]
    st.awaiting_pm.remove(t)
    at = e.act(d, min(budget, e.rng.uniform(1, 3)), "status_update", "process")
    e.emit.transition(t.issue, d.pid, at, "Done")
    if e.rng.random() < 0.03:  # reopened: not quite done after all
        at = e.act(d, e.rng.uniform(1, 3), "status_update", "process")
        e.emit.transition(t.issue, d.pid, at, "To Do")
        t.pr, t.pending_reviewers, t.approved_by = None, [], set()
        t.ready_at = at
        st.backlog.insert(0, t)


def tend_initiatives(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    """The champion keeps the tool's initiative trackers current, every day."""
    rng = e.rng
    if not st.initiatives:
        for n in range(3):
            at = e.act(d, min(budget, rng.uniform(5, 10)), "ticket_work", "process")
            st.initiatives.append(
                e.emit.jira_issue(
                    st.team.jira_project,
                    "Initiative",
                    f"Initiative {n + 1}: FY goals",
                    d.pid,
                    at,
                    "In Progress",
                    [st.team.label("pmtool")],
                )
            )
        return
    issue = rng.choice(st.initiatives)
    at = e.act(d, min(budget, rng.uniform(1.5, 3.5)), "grooming", "process")
    progress = min(100, int(issue.custom.get("customfield_10400", 0) or 0) + 1)
    e.emit.field_edit(issue, d.pid, at, "customfield_10400", progress)
    if rng.random() < 0.3:
        at = e.act(d, rng.uniform(2, 4), "chat", "process")
        e.emit.post(st.team.channel("tool"), d.pid, at,
                    f"{issue.key} is at {progress}% — please update your items")
