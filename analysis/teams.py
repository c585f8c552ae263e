"""Teams and person-months: which team each person worked in, month by month.

A person's candidate teams, from [[teams]] in config, in this order of trust:
1. `members` (emails, logins, account ids, person ids or names), `github_team` and `slack_usergroup`
   (members read from `group_members`, which normalization fills);
2. otherwise the team whose scope (`jira_projects`, `repos`, `channels`) holds most of the
   person's events that month.
With several explicit teams, the month's activity decides between them. A month without activity
in any scope keeps the nearest month's team; a person with no evidence at all is in UNASSIGNED, so
every person-month has a team.
"""

from __future__ import annotations

import fnmatch
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import duckdb

from analysis import insert_rows
from processhealth import ui

UNASSIGNED = "(unassigned)"


def scope_teams(scope: str, teams: Iterable[Any], aliases: Iterable[str] = ()) -> list[str]:
    """Teams whose configured scope covers `scope` ("jira:PAY", "github:acme/api", "slack:eng")
    or one of its `aliases`, other names of the same scope (a renamed repository's earlier
    names, `repo_aliases`)."""
    source, _, name = scope.partition(":")
    names = [n.lower() for n in (name, *aliases)]
    candidates = [*names, *(n.rsplit("/", 1)[-1] for n in names)]
    found = []
    for team in teams:
        if source == "jira":
            patterns = team.jira_projects
        elif source == "github":
            patterns = team.repos
        else:
            patterns = team.channels
        if any(fnmatch.fnmatchcase(c, p.lower()) for p in patterns for c in candidates):
            found.append(team.name)
    return found


def repo_aliases(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """A renamed repository's earlier names, by the name its rows carry (repo_names): a team
    that names either gets its work."""
    return dict(con.execute("SELECT repo, list(name ORDER BY name) FROM repo_names"
                            " WHERE name <> repo GROUP BY repo").fetchall())


def explicit_members(con: duckdb.DuckDBPyConnection, teams: list[Any]) -> dict[str, list[str]]:
    """person_id -> explicit teams in config order; warns about members that match nobody."""
    lookup: dict[str, set[str]] = defaultdict(set)
    for row in con.execute("""
        SELECT i.person_id, i.source, i.source_user_id, i.login, i.email, p.display_name, p.email
        FROM identities i JOIN people p USING (person_id) WHERE NOT p.is_bot
    """).fetchall():
        person = row[0]
        for value in (person, f"{row[1]}:{row[2]}", row[2], *row[3:]):
            if value:
                lookup[str(value).strip().lower()].add(person)
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for source, group, person in con.execute("""
        SELECT g.source, lower(g.group_name), i.person_id FROM group_members g
        JOIN identities i ON i.source = g.source AND i.source_user_id = g.source_user_id
    """).fetchall():
        groups[(source, group)].add(person)
    result: dict[str, list[str]] = defaultdict(list)
    for team in teams:
        members: set[str] = set()
        for member in team.members:
            found = lookup.get(member.strip().lower(), set())
            if len(found) != 1:
                why = "matches no account" if not found else "matches several people"
                ui.warn(f"team {team.name}: member {member!r} {why}; it was skipped.")
            members |= found if len(found) == 1 else set()
        for source, group in (("github", team.github_team), ("slack", team.slack_usergroup)):
            if group:
                found = groups.get((source, group.lower().lstrip("@")), set())
                if not found:
                    ui.warn(f"team {team.name}: {source} group {group!r} has no known members"
                            + ("." if any(s == source for s, _ in groups) else NO_GROUPS[source]))
                members |= found
        for person in sorted(members):
            result[person].append(team.name)
    return result


# Why a team's group can have no members when the raw store holds no group of that tool at all.
NO_GROUPS = {
    "github": ": no GitHub team was collected (teams are read for [github] org, with a token "
              "that may read the organization). List the team's members under [[teams]] "
              "members instead.",
    "slack": ": no Slack user group was collected (a Slack export carries none, and "
             "usergroups.list needs the usergroups:read scope). List the team's members under "
             "[[teams]] members, or collect Slack through the API.",
}


def _activity(con: duckdb.DuckDBPyConnection, teams: list[Any]) -> dict[tuple[str, date], Counter]:
    """(person, month) -> events per team scope; all active months appear (maybe empty)."""
    rows = con.execute("""
        SELECT e.person_id,
               date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')::DATE AS month,
               CASE WHEN e.source = 'slack' THEN 'slack:' || coalesce(c.name, e.channel_id, '')
                    ELSE e.source || ':' || coalesce(w.container, e.repo, '') END,
               count(*)
        FROM events e
        JOIN people p ON p.person_id = e.person_id AND NOT p.is_bot
        LEFT JOIN work_items w ON w.item_id = e.item_id
        LEFT JOIN channels c ON c.channel_id = e.channel_id
        GROUP BY ALL
    """).fetchall()
    cache: dict[str, list[str]] = {}
    aliases = repo_aliases(con)
    activity: dict[tuple[str, date], Counter] = defaultdict(Counter)
    for person, month, scope, n in rows:
        if scope not in cache:
            cache[scope] = scope_teams(scope, teams, aliases.get(scope.removeprefix("github:"), ())
                                       if scope.startswith("github:") else ())
        counter = activity[(person, month)]
        for team in cache[scope]:
            counter[team] += n
    return activity


def _months(first: date, last: date) -> list[date]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = date(m.year + m.month // 12, m.month % 12 + 1, 1)
    return out


def assign(explicit: dict[str, list[str]], activity: dict[tuple[str, date], Counter],
           ) -> list[tuple[str, date, str, bool]]:
    """(person, month, team, active) for every month from a person's first to last activity."""
    by_person: dict[str, dict[date, Counter]] = defaultdict(dict)
    for (person, month), counter in activity.items():
        by_person[person][month] = counter
    rows = []
    for person, months in sorted(by_person.items()):
        allowed = explicit.get(person)
        span = _months(min(months), max(months))
        chosen: dict[date, str | None] = {}
        for month in span:
            counts = months.get(month, Counter())
            if allowed:
                chosen[month] = max(allowed, key=lambda t: (counts[t], -allowed.index(t)))
            else:
                best = counts.most_common(1)
                chosen[month] = best[0][0] if best and best[0][1] > 0 else None
        known = [m for m in span if chosen[m]]
        for month in span:
            team = chosen[month]
            if team is None and known:  # the nearest month with evidence, earlier on a tie
                near = min(known, key=lambda m: (abs((m - month).days), m > month))
                team = chosen[near]
            rows.append((person, month, team or UNASSIGNED, month in months))
    return rows


def build(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Fill person_months, people.team and teams."""
    teams = list(config.teams)
    explicit = explicit_members(con, teams)
    rows = assign(explicit, _activity(con, teams))
    insert_rows(con, "person_months", ("person_id", "month", "team", "active"), rows)
    con.execute("""
        UPDATE people SET team = t.team FROM (
            SELECT person_id, arg_max(team, month) AS team FROM person_months GROUP BY person_id
        ) t WHERE people.person_id = t.person_id
    """)
    # Members with no activity yet: their first listed team (one statement, not one per person).
    con.execute("CREATE OR REPLACE TEMP TABLE _listed(person_id VARCHAR, team VARCHAR)")
    insert_rows(con, "_listed", ("person_id", "team"),
                [(person, names[0]) for person, names in explicit.items()])
    con.execute("""
        UPDATE people SET team = l.team FROM _listed AS l
        WHERE people.person_id = l.person_id AND people.team IS NULL
    """)
    con.execute("DROP TABLE _listed")
    sources = {t.name: "+".join(name for name, used in (
        ("config", t.members), ("github_team", t.github_team),
        ("slack_usergroup", t.slack_usergroup)) if used) or "activity" for t in teams}
    used = {r[2] for r in rows}
    if UNASSIGNED in used:
        sources[UNASSIGNED] = "none"
    for name, source in sources.items():
        con.execute("INSERT INTO teams SELECT ?, count(*) FILTER (WHERE team = ?), ? FROM people",
                    [name, name, source])
