"""Acts only family teams have: bots in every tool, estimation in planning months, crunch
weights, "any update?" nags, the tool's reminders under its own name, and how a pull request
lands on the default branch (rebase, squash or merge commit).

Demo teams never come here. Draws use the engine's `aux` stream.
"""

from __future__ import annotations

from datetime import timedelta

from .acts import chat, coding, open_pr, propose_experiment, ready, rework
from .engine import Day, Engine, TeamState, at_time
from .family import ranges as R

DEP_PACKAGES = ["lodash", "requests", "urllib3", "jackson-databind", "axios", "pyyaml", "log4j"]


def _tool(st: TeamState) -> str:
    k = st.team.knobs
    found = k.effect or k.placebo
    return found.tool if found is not None else "PMTool"


def family_morning(e: Engine, st: TeamState) -> None:
    """A family team's fixed points: the tool's bots while it is in force, and the bots every
    organization has (a dependency bot on GitHub, an automation account in Jira)."""
    team, reg, day = st.team, e.reg, e.day
    if reg.tool_active and reg.reminders:
        stale = [pid for pid in st.engineers if pid in st.doing]
        if stale:
            at = at_time(day, 10) + timedelta(seconds=e.aux.randrange(0, 300))
            mentions = " ".join(f"<@{e.org.person(p).slack_id}>" for p in stale)
            e.emit.post(team.channel("tool"), None, at,
                        f"Reminder: please update the status of your {_tool(st)} items "
                        f"{mentions}", bot_id="B0REMIND01")
            for p in stale:
                st.reminded[p] = at
        if day.weekday() == 4:
            at = at_time(day, 15) + timedelta(seconds=e.aux.randrange(0, 60))
            e.emit.post(team.channel("standup"), None, at,
                        f"Reminder: submit your timesheet in {_tool(st)}.", slackbot=True)
            for p in st.engineers:
                st.reminded.setdefault(p, at)
    since = team.knobs.reminder_bot
    if since is not None and day >= since and day.weekday() < 5:
        # Slack's /remind: on time to the minute, from Slackbot, to the channel; it asks for no
        # new work, so nobody is marked reminded (no answer_reminder acts follow)
        e.emit.post(team.channel("standup"), None, at_time(day, 9, 55),
                    "Reminder: standup at 10:00 in the team room.", slackbot=True)
    if reg.tool_digest and day.weekday() == 0:
        at = at_time(day, 8) + timedelta(seconds=e.aux.randrange(0, 300))
        e.emit.post(team.channel("tool"), None, at,
                    f"Weekly digest from {_tool(st)}: {e.aux.randint(3, 40)} items updated, "
                    f"{e.aux.randint(0, 12)} done last week", bot_id="B0REMIND01")
    if day.weekday() == 0:
        _dependency_pr(e, st)
        _stale_sweep(e, st)
    elif day.weekday() == 1:
        _merge_dependency_prs(e, st)


def _dependency_pr(e: Engine, st: TeamState) -> None:
    """Dependabot opens a version bump on the team's repository, with one commit."""
    if e.aux.random() < 0.4:
        return
    at = at_time(e.day, 6) + timedelta(minutes=e.aux.randrange(0, 60))
    pkg = e.aux.choice(DEP_PACKAGES)
    minor = e.aux.randrange(1, 30)
    title = f"Bump {pkg} from 2.{minor}.0 to 2.{minor}.1"
    pr = e.emit.issue(st.team.repo, "bot-deps", at, title, f"Bumps {pkg}.", ["dependencies"],
                      True, head_ref=f"dependabot/npm_and_yarn/{pkg}-2.{minor}.1")
    pr.ready_at = at
    e.emit.commit(st.team.repo, "bot-deps", at, title, pr)
    e.emit.issue_comment(pr, "bot-ci", at + timedelta(minutes=4), "CI: all checks passed ✅")
    e.__dict__.setdefault("bot_prs", {}).setdefault(st.team.name, []).append(pr)


def _merge_dependency_prs(e: Engine, st: TeamState) -> None:
    """Auto-merge: the dependency bot merges its green PRs the next day."""
    for pr in e.__dict__.get("bot_prs", {}).pop(st.team.name, []):
        at = at_time(e.day, 7) + timedelta(minutes=e.aux.randrange(0, 30))
        pr.merged_at, pr.closed_at, pr.merged_by_pid, pr.updated_at = at, at, "bot-deps", at
        land(e, pr, "bot-deps", at)


def _stale_sweep(e: Engine, st: TeamState) -> None:
    """Jira automation labels old untouched backlog tickets `stale` (a service account)."""
    at = at_time(e.day, 5) + timedelta(minutes=e.aux.randrange(0, 30))
    old = [t for t in st.backlog if "stale" not in t.issue.labels
           and t.issue.updated < at - timedelta(days=30)]
    for t in old[:2]:
        e.emit.field_edit(t.issue, "bot-jira", at, "labels", "stale")


def land(e: Engine, pr, pid: str, at) -> None:
    """Put a merged PR on the default branch as its repository does: rebase keeps its commits
    (the demo's linear history); squash replaces them by one commit authored by the PR's author;
    merge adds a merge commit by whoever merged."""
    style = next(r.merge_style for r in e.org.github.repos if r.name == pr.repo)
    if style == "squash":
        commits = _commits_by_sha(e)
        for sha in pr.commit_shas:
            commits[sha].listed = False
        e.emit.commit(pr.repo, pr.user_pid, at, f"{pr.title} (#{pr.number})", None)
    elif style == "merge":
        e.emit.commit(pr.repo, pid, at,
                      f"Merge pull request #{pr.number} from {e.org.github.org}/{pr.head_ref}",
                      None)


def _commits_by_sha(e: Engine) -> dict:
    """sha -> commit, brought up to date incrementally (scanning every commit at every merge
    made a year-long organization quadratic)."""
    index = e.__dict__.setdefault("_commits_by_sha", {})
    commits = e.org.github.commits
    for c in commits[e.__dict__.get("_commits_indexed", 0):]:
        index[c.sha] = c
    e.__dict__["_commits_indexed"] = len(commits)
    return index


RESULTS = ["Result: hypothesis confirmed, p95 down {n}% (criterion met)",
           "Result: criterion met after {n} days; keeping the change",
           "Result: hypothesis rejected, no measurable change; reverted",
           "Result: partly confirmed, p95 down {n}% but below the target"]


def close_experiment(e: Engine, t, d: Day, at):
    """A declared experiment closes with its result, written on the ticket by its owner."""
    at = e.act(d, e.aux.uniform(3, 8), "ticket_work", "enabling")
    text = e.aux.choice(RESULTS).format(n=e.aux.randint(5, 40))
    e.emit.jira_comment(t.issue, d.pid, at, text)
    e.emit.field_edit(t.issue, d.pid, at, "labels", "experiment-result")
    return at


# --- choices --------------------------------------------------------------------------------


def estimate(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    """Planning: an engineer estimates a backlog ticket (story points)."""
    avail = ready(st.backlog, d)
    if not avail:
        return chat(e, st, d, budget)
    t = e.aux.choice(avail[:10])
    at = e.act(d, min(budget, e.aux.uniform(3, 8)), "grooming", "process")
    e.emit.field_edit(t.issue, d.pid, at, "customfield_10016", e.aux.choice([1, 2, 3, 5, 8, 13]))


def nag_comment(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    """The PM asks for an update in a Jira comment: work about work, written in the ticket."""
    t = e.aux.choice(sorted(st.doing.values(), key=lambda t: t.issue.key))
    at = e.act(d, min(budget, e.aux.uniform(1, 2.5)), "status_update", "process")
    e.emit.jira_comment(t.issue, d.pid, at, e.aux.choice(
        ["Any update on this?", "Can you update the status please?", "Where are we on this?"]))


CRUNCH = {coding: R.CRUNCH_WEIGHTS["coding"], open_pr: R.CRUNCH_WEIGHTS["open_pr"],
          rework: R.CRUNCH_WEIGHTS["rework"], chat: R.CRUNCH_WEIGHTS["chat"]}


def onboard(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    """A buddy pairs with a ramping new hire: onboarding time, in no tool (like a meeting)."""
    st.done_today[d.pid].add("onboard")
    e.act(d, min(budget, e.aux.uniform(30, 60)), "meeting", "enabling", visible=False)


def learn(e: Engine, st: TeamState, d: Day, budget: float) -> None:
    """A new hire reads docs, sets up and pairs: onboarding time that leaves no record."""
    e.act(d, min(budget, e.aux.uniform(30, 90)), "meeting", "enabling", visible=False)


def _ramping_buddy(e: Engine, st: TeamState, pid: str) -> bool:
    """Whether `pid` is the buddy of a teammate still ramping up: the most skilled engineer
    active today other than the hire."""
    for hid in st.engineers:
        hire = e.org.person(hid)
        if hire.ramp_days and hire.active_on(e.day) and (
                e.day - hire.joined_on).days < hire.ramp_days:
            others = [e.org.person(p) for p in st.engineers
                      if p != hid and e.org.person(p).active_on(e.day)]
            if others and max(others, key=lambda p: (p.skill, p.pid)).pid == pid:
                return True
    return False


def family_options(e: Engine, st: TeamState, d: Day, options: list) -> list:
    if e.reg.crunch:
        options = [(w * CRUNCH.get(f, 1.0), f) for w, f in options]
    if e.reg.planning:
        options.append((R.ESTIMATE_WEIGHT, estimate))
    done = st.done_today.get(d.pid, set())
    if "onboard" not in done and _ramping_buddy(e, st, d.pid):
        options.append((R.BUDDY_WEIGHT, onboard))
    me = e.org.person(d.pid)
    if me.ramp_days and (e.day - me.joined_on).days < me.ramp_days:
        left = 1 - (e.day - me.joined_on).days / me.ramp_days
        options.append((R.LEARN_WEIGHT * left, learn))
    if e.reg.experiments and "experiment" not in done and e.aux.random() < R.EXPERIMENT_GATE:
        options.append((1.0, propose_experiment))
    return options


def family_pm_options(e: Engine, st: TeamState, d: Day, options: list) -> list:
    if e.reg.nag_comments and st.doing:
        options.append((1.0, nag_comment))
    return options
