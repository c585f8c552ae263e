"""The truth tables every scenario-family member carries, in the same shape for every member.

- truth_person_day: true minutes per person, team, UTC day, category and visibility;
- truth_verdict_margin: per team-month the expected verdict (None inside a transition margin),
  every acceptable verdict, the planted kind in force, and the placebo (a steady team's organic
  change, which must not change the verdict) in force, so false alarms on it count apart;
- truth_effects: per team the planted kind, variant, sizes, onset and end (steady teams too);
- truth_nuisances: per team the nuisance settings it was generated with;
- truth_identities: every account in every tool, and every commit identity (name + e-mail), with
  the true person behind it; bots, service accounts and deleted users marked;
- truth_entity_counts: what each source holds, as the emulators serve it, for self-checks.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from .github_events import event_records
from .model import Org
from .verdict_truth import acceptable_verdicts


def family_frames(org: Org) -> dict[str, pd.DataFrame]:
    return {
        "truth_person_day": person_day_categories(org),
        "truth_verdict_margin": verdict_margins(org),
        "truth_effects": effects_frame(org),
        "truth_nuisances": nuisances_frame(org),
        "truth_identities": identities_frame(org),
        "truth_entity_counts": entity_counts(org),
    }


def person_day_categories(org: Org) -> pd.DataFrame:
    team = {p.pid: p.team for p in org.people}
    rows: dict[tuple, float] = {}
    for a in org.activities:
        key = (a.pid, team.get(a.pid), a.start.date(), a.category, a.visible)
        rows[key] = rows.get(key, 0.0) + a.minutes
    return pd.DataFrame([(*k, round(v, 2)) for k, v in sorted(rows.items(), key=str)],
                        columns=["person_id", "team", "day", "category", "visible", "minutes"])


def months(org: Org) -> list[tuple[date, date]]:
    out, m = [], date(org.start.year, org.start.month, 1)
    while m <= org.end:
        nxt = date(m.year + m.month // 12, m.month % 12 + 1, 1)
        out.append((m, nxt - timedelta(days=1)))
        m = nxt
    return out


def verdict_margins(org: Org) -> pd.DataFrame:
    rows = []
    for team in org.teams:
        eff = team.knobs.effect
        for start, end in months(org):
            ok = acceptable_verdicts(team, start, end)
            in_force = eff is not None and start <= (eff.end or org.end) and end >= eff.onset
            pl = team.knobs.placebo
            rows.append((team.name, start.strftime("%Y-%m"), ok[0] if len(ok) == 1 else None,
                         "|".join(ok), len(ok) > 1, eff.kind if in_force else "steady",
                         _phase(team, start, end, len(ok) > 1),
                         pl.variant if pl is not None and end >= pl.onset else None,
                         _reminder_bot(team, start, end, org.start)))
    return pd.DataFrame(rows, columns=["team", "month", "expected_verdict", "acceptable",
                                       "in_margin", "planted_kind", "phase", "placebo",
                                       "reminder_bot"])


def _reminder_bot(team, start: date, end: date, window_start: date) -> str | None:
    """A steady team's daily Slack /remind that month: "since the start" (before the window),
    "new" (its first 3 months) or "settled" (later); None without one."""
    since = team.knobs.reminder_bot
    if since is None or end < since:
        return None
    if since <= window_start:
        return "since the start"
    first = date(since.year, since.month, 1)
    return "new" if (start.year - first.year) * 12 + start.month - first.month < 3 else "settled"


def _phase(team, start: date, end: date, in_margin: bool) -> str:
    """never (a steady team), before, onset_margin, during, end_margin or after its effect."""
    eff = team.knobs.effect
    if eff is None:
        return "never"
    if end < eff.onset:
        return "before"
    if eff.end is None or start < eff.end:
        return "onset_margin" if in_margin else "during"
    return "end_margin" if in_margin else "after"


def effects_frame(org: Org) -> pd.DataFrame:
    rows = []
    for team in org.teams:
        e, pl = team.knobs.effect, team.knobs.placebo
        placebo = (pl.variant, pl.onset, pl.adoption) if pl is not None else (None, None, None)
        if e is None:
            rows.append((team.name, "steady", None, None, None, None, 1.0, None, None, 0.0, 0.0,
                         None, None, None, None, False, *placebo))
            continue
        tool = e.tool if e.kind == "process_as_product" else None
        declares = e.experiments or e.variant in ("experiments", "both")
        rows.append((team.name, e.kind, e.variant, tool, e.onset, e.end, e.slowdown,
                     e.adoption_peak, e.adoption_floor, e.throughput_gain, e.wait_cut,
                     e.screen_fields, e.reminders, e.nag_comments, e.status_thread, declares,
                     *placebo))
    return pd.DataFrame(rows, columns=[
        "team", "kind", "variant", "tool", "onset", "end", "slowdown", "adoption_peak",
        "adoption_floor", "throughput_gain", "wait_cut", "screen_fields", "reminders",
        "nag_comments", "status_thread", "declares_experiments", "placebo", "placebo_onset",
        "placebo_adoption"])


def nuisances_frame(org: Org) -> pd.DataFrame:
    rows = []
    repos = {r.name: r for r in org.github.repos}
    for team in org.teams:
        k = team.knobs
        people = [org.person(p) for p in team.members]
        loads = [v for _, v in k.monthly_load]
        rows.append((
            team.name, len(people), sum(p.joined_on > org.start for p in people),
            sum(p.left_on is not None for p in people), k.absence, k.holiday_away,
            ",".join(map(str, k.planning_months)), len(k.crunch_weeks),
            float(pd.Series(loads).std(ddof=0) / pd.Series(loads).mean()) if loads else 0.0,
            k.key_in_commit, k.key_in_pr, repos[team.repo].merge_style, team.repo,
            k.channels.get("eng"), k.channels.get("support"), k.labels.get("customer"),
            len({p.tz_offset_min for p in people}),
            ",".join(str(z) for z in sorted({p.tz_offset_min for p in people})), k.grooming,
            k.pm_change, sum(len(p.vacation) for p in people),
            ",".join(str(p.ramp_days) for p in people if p.ramp_days)))
    return pd.DataFrame(rows, columns=[
        "team", "people", "hires", "leavers", "absence", "holiday_away", "planning_months",
        "crunch_weeks", "load_cv", "key_in_commit", "key_in_pr", "merge_style", "repo",
        "eng_channel", "support_channel", "customer_label", "zones", "zone_offsets",
        "grooming_weight", "pm_change", "vacation_days", "ramp_days"])


def identities_frame(org: Org) -> pd.DataFrame:
    rows = []
    for p in org.people:
        service = p.is_bot and p.jira_account_id is not None  # Jira's automation account
        if p.github_login:
            login = "ghost" if p.github_deleted else p.github_login
            name = p.github_name or p.name
            rows.append((p.pid, p.team, "github", str(p.github_id), login, name, p.github_email,
                         p.is_bot, service, p.github_deleted))
        if p.jira_account_id:
            rows.append((p.pid, p.team, "jira", p.jira_account_id, p.jira_name, p.jira_name,
                         p.jira_email, p.is_bot, service, False))
        if p.slack_id:
            rows.append((p.pid, p.team, "slack", p.slack_id, p.slack_name, p.slack_real_name,
                         p.slack_email, p.is_bot, service, False))
    seen = set()
    for c in org.github.commits:
        p = org.person(c.author_pid)
        ident = (p.commit_name or p.name, p.commit_email or p.email)
        if ident not in seen:
            seen.add(ident)
            rows.append((p.pid, p.team, "git", ident[1], None, ident[0], ident[1], p.is_bot,
                         False, p.github_deleted))
    return pd.DataFrame(rows, columns=["person_id", "team", "source", "source_user_id", "login",
                                       "display_name", "email", "is_bot", "is_service",
                                       "deleted"])


def entity_counts(org: Org) -> pd.DataFrame:
    """What the emulators serve, counted from the records (collected channels: public ones)."""
    g, j = org.github, org.jira
    public = [c for c in org.slack.channels if not c.is_private and not c.is_im]
    counts = {
        ("github", "repos"): len(g.repos),
        ("github", "issues"): sum(not i.is_pr for i in g.issues),
        ("github", "pulls"): sum(i.is_pr for i in g.issues),
        ("github", "commits"): sum(c.listed for c in g.commits),
        ("github", "pr_commits"): sum(len(i.commit_shas) for i in g.issues if i.is_pr),
        ("github", "squashed_commits"): sum(not c.listed for c in g.commits),
        ("github", "reviews"): len(g.reviews),
        ("github", "issue_comments"): len(g.issue_comments),
        ("github", "review_comments"): len(g.review_comments),
        ("github", "releases"): len(g.releases),
        ("github", "issue_events"): len(event_records(org)),
        ("jira", "issues"): len(j.issues),
        ("jira", "histories"): sum(len(i.histories) for i in j.issues),
        ("jira", "history_items"): sum(len(h.items) for i in j.issues for h in i.histories),
        ("jira", "comments"): sum(len(i.comments) for i in j.issues),
        ("jira", "worklogs"): sum(len(i.worklogs) for i in j.issues),
        ("jira", "projects"): len(j.projects),
        ("jira", "sprints"): len(j.sprints),
        ("slack", "public_channels"): len(public),
        ("slack", "messages"): sum(len(c.messages) for c in public),
        ("slack", "replies"): sum(len(m.replies) for c in public for m in c.messages),
        ("slack", "bot_messages"): sum(m.bot_id is not None or m.slackbot
                                       for c in public for m in c.messages),
    }
    return pd.DataFrame([(s, e, n) for (s, e), n in counts.items()],
                        columns=["source", "entity", "count"])
