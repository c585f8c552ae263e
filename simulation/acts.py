"""What a person does next, and the records each act leaves behind."""

from __future__ import annotations

from datetime import timedelta

from .engine import Day, Engine, TeamState, Ticket, lognorm

CUSTOMER_TYPES = [("Story", 0.6), ("Bug", 0.4)]
ENABLING_TYPES = [("Task", 0.4), ("Tech Debt", 0.4), ("Spike", 0.2)]
TOPICS = [
    "checkout",
    "search",
    "billing",
    "onboarding",
    "export",
    "notifications",
    "login",
    "dashboard",
    "API rate limits",
    "mobile sync",
    "invoices",
    "SSO",
    "audit log",
]
VERBS = ["Add", "Fix", "Improve", "Refactor", "Speed up", "Support", "Remove", "Migrate"]
SHEETS = [
    "https://docs.google.com/spreadsheets/d/1xQ{n}/edit",
    "https://airtable.com/app{n}",
    "https://www.notion.so/acme/Tracker-{n}",
    "tracking-{n}.xlsx",
]
BACKLOG_BASE, BACKLOG_PER_ENGINEER = 30, 8  # tickets a PM keeps in the backlog
TOOL_FIELDS = ["customfield_10100", "customfield_10101", "customfield_10102"]
GROOM_FIELDS = ["customfield_10016", "priority", "labels", "customfield_10020"]


def _title(e: Engine, category: str) -> str:
    rng = e.rng
    t = f"{rng.choice(VERBS)} {rng.choice(TOPICS)}"
    r = rng.random()
    if r < 0.02:
        t += " <script>alert('x')</script>"  # hostile content must stay inert downstream
    elif r < 0.04:
        t += " 🚀 ünïcode — تحديث"
    elif r < 0.05:
        t += "'; DROP TABLE events; --"
    return t


def st_knob(e: Engine, t: Ticket, name: str, default: float) -> float:
    """A knob of the team that owns the ticket's project (the demo's fixed value without)."""
    team = e.team_of_project.get(t.issue.project)
    return default if team is None or team.knobs is None else getattr(team.knobs, name)


def tool_fields(e: Engine, d: Day, t: Ticket, fields: list[str], kind: str,
                values: list[str]) -> object:
    """Fill the tool's fields on a ticket: one save per field, or one save of an edit screen
    that sets them all (`screen_fields` > 1; one history with one item per field)."""
    rng = e.rng
    if e.reg.screen_fields <= 1:
        for f in fields:
            at = e.act(d, rng.uniform(1.5, 3.5), kind, "process")
            e.emit.field_edit(t.issue, d.pid, at, f, rng.choice(values))
        return at
    chosen = fields[: e.reg.screen_fields]
    minutes = sum(rng.uniform(1.0, 2.5) for _ in chosen)  # one screen: less than separate saves
    at = e.act(d, minutes, kind, "process")
    e.emit.screen_edit(t.issue, d.pid, at, {f: rng.choice(values) for f in chosen})
    return at


def ready(tickets: list[Ticket], d: Day) -> list[Ticket]:
    """The tickets that have reached this person by their clock."""
    return [t for t in tickets if t.ready_at <= d.t]


def _own_or_backlog(st: TeamState, d: Day) -> Ticket | None:
    avail = ready(st.backlog, d)
    return st.doing.get(d.pid) or (avail[0] if avail else None)


# --- engineers' acts ----------------------------------------------------------------------------


def standup(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    st.done_today[d.pid].add("standup")
    at = e.act(d, min(budget, e.rng.uniform(3, 6)), "chat", "process")
    e.emit.post(st.team.channel("standup"), d.pid, at,
                "Yesterday: reviews. Today: coding. No blockers")


def pick_ticket(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    avail = ready(st.backlog, d)
    if not avail:
        return create_ticket(e, st, d, budget)
    rng = e.rng
    t = avail[0] if rng.random() < 0.7 else rng.choice(avail)
    st.backlog.remove(t)
    t.owner = d.pid
    lo, hi = e.reg.sessions_per_ticket
    t.sessions_left = rng.randint(lo, hi)
    at = e.act(d, min(budget, rng.uniform(1, 3)), "status_update", "process")
    if t.issue.assignee_pid != d.pid:
        e.emit.field_edit(t.issue, d.pid, at, "assignee", d.pid)
    if (e.reg.tool_active or e.reg.tool_fields) and rng.random() < e.reg.adoption:
        at = tool_fields(e, d, t, TOOL_FIELDS, "status_update", ["High", "Medium", "Low"])
    if rng.random() < 0.07:
        e.emit.transition(t.issue, d.pid, at, "Blocked")
        st.blocked.append((t, e.day + timedelta(days=rng.randint(1, 4))))
        return
    e.emit.transition(t.issue, d.pid, at, "In Progress")
    st.doing[d.pid] = t


def coding(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    t = st.doing[d.pid]
    _code(e, t, d, budget)
    t.sessions_left -= 1
    if t.needs_ready and t.sessions_left <= 0:  # a draft PR becomes ready for review
        t.pr.draft, t.pr.ready_at, t.needs_ready = False, d.t, False
        _request_review(e, st, t, d)


def rework(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    t = ready(st.rework[d.pid], d)[0]
    st.rework[d.pid].remove(t)
    _code(e, t, d, budget)
    _request_review(e, st, t, d)


def _code(e: Engine, t: Ticket, d: Day, budget: float) -> None:
    rng = e.rng
    minutes = min(budget, lognorm(rng, 55, 15, 115))
    keyed = st_knob(e, t, "key_in_commit", 0.85)
    msg_key = f"{t.issue.key}: " if rng.random() < keyed else ""
    if rng.random() < 0.3 and minutes > 40:  # two commits in one stretch
        first = minutes * rng.uniform(0.3, 0.7)
        at = e.act(d, first, "coding", t.category)
        c = e.emit.commit(t.repo, d.pid, at, f"{msg_key}{t.issue.summary} (wip)", t.pr)
        if t.pr is None:
            t.branch_commits.append(c)
        minutes -= first
    at = e.act(d, minutes, "coding", t.category)
    c = e.emit.commit(t.repo, d.pid, at, f"{msg_key}{t.issue.summary}", t.pr)
    if t.pr is None:
        t.branch_commits.append(c)


def _request_review(e: Engine, st: TeamState, t: Ticket, d: Day) -> None:
    author = d.pid
    st.doing.pop(author, None) if st.doing.get(author) is t else None
    if not t.pending_reviewers:
        t.pending_reviewers = _pick_reviewers(e, st, author)
    t.ready_at = d.t
    if t not in st.in_review:
        st.in_review.append(t)


def _pick_reviewers(e: Engine, st: TeamState, author: str) -> list[str]:
    pool = [p for p in st.engineers if p != author and e.org.person(p).active_on(e.day)]
    return e.rng.sample(pool, min(len(pool), 1 if e.rng.random() < 0.7 else 2))


def open_pr(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    t, rng = st.doing[d.pid], e.rng
    at = e.act(d, min(budget, lognorm(rng, 12, 5, 30)), "coding", t.category)
    key = t.issue.key
    keyed = rng.random() < st_knob(e, t, "key_in_pr", 0.95)
    title = f"{key} {t.issue.summary}" if keyed else t.issue.summary
    labels = [st.team.label("customer")] if t.category == "customer" and rng.random() < 0.3 else []
    draft = rng.random() < 0.15
    slug = "-".join(t.issue.summary.lower().split()[:3])
    # the demo always names the key in the body and branch; a family team only when it names
    # it in the title (teams that rarely link leave it out everywhere)
    linked = keyed or st.team.knobs is None
    pr = e.emit.issue(
        t.repo,
        d.pid,
        at,
        title,
        f"Implements {key}." if linked else "Implements the change described in the ticket.",
        labels,
        True,
        head_ref=f"feature/{key}-{slug}" if linked else f"feature/{slug}",
        draft=draft,
    )
    t.pr = pr
    # The ticket's earlier commits were pushed to the branch before the PR was opened.
    for c in t.branch_commits:
        c.pr_number = pr.number
        pr.commit_shas.append(c.sha)
    t.branch_commits = []
    e.emit.issue_comment(pr, "bot-ci", at + timedelta(minutes=4), "CI: all checks passed ✅")
    if draft:
        t.needs_ready, t.sessions_left = True, 1
    else:
        pr.ready_at = at
        _request_review(e, st, t, d)
    at = e.act(d, rng.uniform(1, 2.5), "status_update", "process")
    if t.issue.status not in ("In Review", "Ready for Review"):
        e.emit.transition(t.issue, d.pid, at, "Ready for Review")
    t.ready_at = at


def review(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    rng = e.rng
    t = next(t for t in ready(st.in_review, d) if d.pid in t.pending_reviewers)
    if t.issue.status == "Ready for Review":  # the reviewer picks it up on the board
        at = e.act(d, min(budget, rng.uniform(0.5, 1.5)), "status_update", "process")
        e.emit.transition(t.issue, d.pid, at, "In Review")
        budget = max(1.0, budget - 1.5)
    minutes = min(budget, lognorm(rng, 25, 8, 60))
    n_comments = rng.choices([0, 1, 2, 3], [0.4, 0.3, 0.2, 0.1])[0]
    for _ in range(n_comments):
        at = e.act(d, minutes / (n_comments + 1), "reviewing", t.category)
        e.emit.review_comment(t.pr, d.pid, at, "Could we simplify this?", "src/app.py")
    at = e.act(d, minutes / (n_comments + 1), "reviewing", t.category)
    approve = rng.random() < 0.8
    e.emit.review(
        t.pr,
        d.pid,
        at,
        "APPROVED" if approve else "CHANGES_REQUESTED",
        "LGTM" if approve else "A few changes please",
    )
    t.pending_reviewers.remove(d.pid)
    t.ready_at = at
    if approve:
        t.approved_by.add(d.pid)
    else:
        t.pending_reviewers = [d.pid]
        st.in_review.remove(t)
        st.rework.setdefault(t.owner, []).append(t)
        return
    if not t.pending_reviewers:
        st.in_review.remove(t)
        st.to_merge.setdefault(t.owner, []).append(t)


def merge(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    t = ready(st.to_merge[d.pid], d)[0]
    st.to_merge[d.pid].remove(t)
    rng = e.rng
    at = e.act(d, min(budget, rng.uniform(2, 5)), "coding", t.category)
    t.pr.merged_at, t.pr.closed_at, t.pr.merged_by_pid = at, at, d.pid
    t.pr.updated_at = at
    if st.team.knobs is not None:
        from .family_acts import close_experiment, land

        land(e, t.pr, d.pid, at)
        if t.issue.issue_type == "Experiment":
            at = close_experiment(e, t, d, at)
    at = e.act(d, rng.uniform(1, 2.5), "status_update", "process")
    if e.reg.tool_active:
        e.emit.transition(t.issue, d.pid, at, "Awaiting PM Review")
        t.ready_at = at
        st.awaiting_pm.append(t)
    elif rng.random() < 0.25:
        e.emit.transition(t.issue, d.pid, at, "Waiting for QA")
        t.ready_at = at
        st.awaiting_pm.append(t)
    else:
        e.emit.transition(t.issue, d.pid, at, "Done")


def chat(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    rng = e.rng
    if st.incident is not None and st.incident_left > 0 and rng.random() < 0.5:
        at = e.act(d, min(budget, rng.uniform(2, 5)), "chat", "customer")
        e.emit.reply(st.incident, d.pid, at, "Looking into the logs now")
        st.incident_left -= 1
        return
    channels = [
        (st.team.channel("eng"), "enabling", 0.45),
        (st.team.channel("support"), "customer", 0.3),
        ("random", "unclassified", 0.12),
        ("general", "unclassified", 0.03),
        (st.team.channel("standup"), "process", 0.1),
    ]
    if d.pid == st.pm:
        channels[1] = (st.team.channel("support"), "customer", 0.8)
    name, category, _ = rng.choices(channels, [c[2] for c in channels])[0]
    at = e.act(d, min(budget, rng.uniform(2, 5)), "chat", category)
    recent = st.threads.setdefault(name, [])
    if recent and rng.random() < 0.3:  # replies gather in threads that already have some
        threaded = [m for m in recent if m.replies]
        parent = rng.choice(threaded) if threaded and rng.random() < 0.7 else recent[-1]
        e.emit.reply(parent, d.pid, at, "Agreed, let's do that 👍")
        return
    text = (
        "Customer asks about export limits, see https://support.acme.example/t/42"
        if category == "customer"
        else "Thoughts on the new cache layer? https://github.com/acme/x/pull/1"
    )
    m = e.emit.post(name, d.pid, at, text)
    recent.append(m)
    del recent[:-8]
    if category == "customer" and st.incident_left <= 0 and rng.random() < 0.01:
        st.incident, st.incident_left = m, rng.randint(40, 90)  # a long incident thread


def jira_comment(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    t = st.doing[d.pid]
    at = e.act(d, min(budget, lognorm(e.rng, 8, 3, 15)), "ticket_work", t.category)
    e.emit.jira_comment(t.issue, d.pid, at, "Pushed a first version; edge cases next.")


def gh_comment(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    issue = e.rng.choice(st.gh_bugs)
    at = e.act(d, min(budget, lognorm(e.rng, 8, 3, 15)), "ticket_work", "customer")
    e.emit.issue_comment(issue, d.pid, at, "Reproduced; the fix is tracked in Jira.")
    if e.rng.random() < 0.3:
        issue.closed_at = at
        st.gh_bugs.remove(issue)


def propose_experiment(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    st.done_today[d.pid].add("experiment")
    rng = e.rng
    at = e.act(d, min(budget, lognorm(rng, 10, 5, 15)), "ticket_work", "enabling")
    issue = e.emit.jira_issue(
        st.team.jira_project,
        "Experiment",
        f"Experiment: {rng.choice(TOPICS)} latency",
        d.pid,
        at,
        "To Do",
        ["experiment"],
    )
    issue.custom["customfield_10200"] = "If we cache X, p95 latency drops by 20%"
    issue.custom["customfield_10201"] = "p95 < 300 ms for 2 weeks"
    st.backlog.insert(0, Ticket(issue, "enabling", st.team.repo, 0, ready_at=at))


def release(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    st.done_today[d.pid].add("release")
    for p in st.done_today:
        st.done_today[p].add("release")
    st.release_no += 1
    at = e.act(d, min(budget, e.rng.uniform(8, 15)), "release", "customer")
    e.emit.release(st.team.repo, d.pid, at, f"v1.{st.release_no}.0")
    if st.team.knobs is not None:  # the deploy bot announces it
        e.emit.post(st.team.channel("eng"), None, at + timedelta(minutes=3),
                    f"Deployed {st.team.repo} v1.{st.release_no}.0 to production",
                    bot_id="B0DEPLOY01")


# --- tickets ------------------------------------------------------------------------------


def create_ticket(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    rng = e.rng
    category = "customer" if rng.random() < 0.65 else "enabling"
    types = CUSTOMER_TYPES if category == "customer" else ENABLING_TYPES
    itype = rng.choices([t for t, _ in types], [w for _, w in types])[0]
    labels = []
    if category == "customer" and rng.random() < 0.4:
        labels.append(st.team.label("customer"))
    if category == "enabling" and rng.random() < 0.5:
        labels.append(st.team.label(rng.choice(["tech-debt", "infra"])))
    at = e.act(d, min(budget, lognorm(rng, 10, 4, 15)), "ticket_work", category)
    parent = rng.choice(st.epics) if category == "customer" and rng.random() < 0.7 else None
    issue = e.emit.jira_issue(
        st.team.jira_project, itype, _title(e, category), d.pid, at, "Backlog", labels, parent
    )
    repo = st.team.repo if category == "customer" or rng.random() < 0.5 else "platform-infra"
    ticket = Ticket(issue, category, repo, 0, ready_at=at)
    st.backlog.append(ticket)
    if e.reg.tool_active and d.pid == st.pm:  # the tool's mandatory fields, filled at once
        at = tool_fields(e, d, ticket, TOOL_FIELDS, "grooming", ["High", "Medium", "Low"])
        at = e.act(d, rng.uniform(1, 2.5), "grooming", "process")
        e.emit.transition(issue, d.pid, at, "Needs Business Value")
        ticket.ready_at = at


