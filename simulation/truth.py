"""Ground truth of a simulated organization, as tables.

Truth comes from the simulated durations only; nothing here looks at timestamps of records the
way an analysis would. `write_truth` stores the tables in a DuckDB file as `truth_*` tables.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .model import Org

CATEGORIES = ("customer", "enabling", "process", "unclassified")


def activities_frame(org: Org) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": [a.pid for a in org.activities],
            "start": [a.start for a in org.activities],
            "minutes": [a.minutes for a in org.activities],
            "kind": [a.kind for a in org.activities],
            "category": [a.category for a in org.activities],
            "visible": [a.visible for a in org.activities],
        }
    )


def person_month_minutes(org: Org) -> pd.DataFrame:
    """True minutes of tool-visible work per (person, team, month, category)."""
    acts = activities_frame(org)
    acts = acts[acts["visible"]]
    team = {p.pid: p.team for p in org.people}
    acts = acts.assign(month=acts["start"].dt.strftime("%Y-%m"), team=acts["person_id"].map(team))
    return (
        acts.groupby(["person_id", "team", "month", "category"], as_index=False)["minutes"]
        .sum()
        .sort_values(["person_id", "month", "category"], ignore_index=True)
    )


def team_month_shares(org: Org) -> pd.DataFrame:
    """True category shares of tool-visible minutes per (team, month)."""
    pm = person_month_minutes(org)
    t = pm.groupby(["team", "month", "category"], as_index=False)["minutes"].sum()
    t["share"] = t["minutes"] / t.groupby(["team", "month"])["minutes"].transform("sum")
    return t


def person_day_minutes(org: Org) -> pd.DataFrame:
    """All working minutes per person-day, meetings included (for consistency checks)."""
    acts = activities_frame(org)
    acts = acts.assign(day=acts["start"].dt.date)
    return acts.groupby(["person_id", "day"], as_index=False)["minutes"].sum()


def accounts_frame(org: Org) -> pd.DataFrame:
    """The true person behind every tool account (GitHub, Jira, Slack)."""
    rows = []
    for p in org.people:
        if p.github_login:
            login = "ghost" if p.github_deleted else p.github_login
            rows.append((p.pid, "github", str(p.github_id), login, p.is_bot, p.github_deleted))
        if p.jira_account_id:
            rows.append((p.pid, "jira", p.jira_account_id, p.jira_name, p.is_bot, False))
        if p.slack_id:
            rows.append((p.pid, "slack", p.slack_id, p.slack_name, p.is_bot, False))
    return pd.DataFrame(
        rows, columns=["person_id", "source", "source_user_id", "login", "is_bot", "deleted"]
    )


def verdicts_frame(org: Org) -> pd.DataFrame:
    return pd.DataFrame(org.expected_verdicts, columns=["team", "month", "expected_verdict"])


def people_frame(org: Org) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (p.pid, p.name, p.team, p.role, p.email, p.skill, p.is_bot, p.joined_on, p.left_on)
            for p in org.people
        ],
        columns=[
            "person_id",
            "name",
            "team",
            "role",
            "email",
            "skill",
            "is_bot",
            "joined_on",
            "left_on",
        ],
    )


def write_truth(org: Org, path: Path | str, *, family: bool = False) -> None:
    """Write truth_* tables into the DuckDB file at `path` (replacing earlier ones).

    `family=True` adds the tables every scenario-family member carries (truth_family.py):
    person-day minutes per category, verdicts with their transition margin, planted effects,
    nuisance settings, identities (commit identities included) and entity counts."""
    import duckdb

    frames = {
        "truth_person_month": person_month_minutes(org),
        "truth_team_month_shares": team_month_shares(org),
        "truth_accounts": accounts_frame(org),
        "truth_verdicts": verdicts_frame(org),
        "truth_people": people_frame(org),
    }
    if family:
        from .truth_family import family_frames

        frames.update(family_frames(org))
    con = duckdb.connect(str(path))
    try:
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    finally:
        con.close()


def fingerprint(org: Org) -> str:
    """A digest of every record and activity: equal for equal organizations."""
    import hashlib

    h = hashlib.sha256()
    parts = [
        org.people,
        org.teams,
        org.github.repos,
        org.github.issues,
        org.github.commits,
        org.github.reviews,
        org.github.issue_comments,
        org.github.review_comments,
        org.github.releases,
        org.jira.issues,
        org.jira.sprints,
        org.slack.channels,
        org.slack.usergroups,
        org.activities,
        org.expected_verdicts,
    ]
    for records in parts:
        for record in records:
            h.update(repr(record).encode())
    if any(t.knobs is not None for t in org.teams):  # a family member: its own fields too
        h.update(repr([t.knobs for t in org.teams]).encode())
        h.update(repr([(p.tz_offset_min, p.github_name, p.commit_name) for p in org.people])
                 .encode())
        h.update(repr([r.merge_style for r in org.github.repos]).encode())
        h.update(repr([c.listed for c in org.github.commits]).encode())
    return h.hexdigest()
