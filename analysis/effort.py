"""The effort model (METRICS.md section 2): minutes credited to each human event.

Per person (bots and unmatched-to-anyone events excluded), all events from all sources in time
order (ties broken by event_id); g = minutes since that person's previous event.
- g > G (effort.session_gap_minutes) starts a new session;
- an event is credited min(g, cap(kind)), or min(P, cap(kind)) when it opens a session
  (P = effort.lead_in_minutes); kinds without a cap in [effort.caps] get UNKNOWN_KIND_CAP;
- a person-day (UTC calendar day) over effort.day_cap_hours is scaled down to it.
Time not credited is unobserved, never assigned to a category. One SQL statement of window
functions per run, so 10M events take seconds; sensitivity re-runs it for each gap in
effort.sensitivity_gaps and keeps only team-month totals (effort_sensitivity).
"""

from __future__ import annotations

from typing import Any

import duckdb

from analysis import insert_rows

UNKNOWN_KIND_CAP = 15.0  # minutes; like a comment, for event kinds [effort.caps] does not name


def credits_sql(gap: float, lead_in: float, day_cap_minutes: float) -> str:
    """SELECT person_id, event_id, session_id, minutes (after the day cap) for session gap `gap`.

    Needs the temp table _caps(kind, cap)."""
    return f"""
    WITH ev AS (
        SELECT e.person_id, e.event_id, e.occurred_at,
               coalesce(k.cap, {float(UNKNOWN_KIND_CAP)}) AS cap,
               epoch(e.occurred_at - lag(e.occurred_at) OVER w) / 60.0 AS g
        FROM events e
        JOIN people p ON p.person_id = e.person_id AND NOT p.is_bot
        LEFT JOIN _caps k ON k.kind = e.kind
        WINDOW w AS (PARTITION BY e.person_id ORDER BY e.occurred_at, e.event_id)
    ), credited AS (
        SELECT person_id, event_id, occurred_at,
               CASE WHEN g IS NULL OR g > {float(gap)} THEN least({float(lead_in)}, cap)
                    ELSE least(g, cap) END AS minutes,
               sum(CASE WHEN g IS NULL OR g > {float(gap)} THEN 1 ELSE 0 END) OVER (
                   PARTITION BY person_id ORDER BY occurred_at, event_id
                   ROWS UNBOUNDED PRECEDING) AS session_no
        FROM ev
    ), daily AS (
        SELECT *, sum(minutes) OVER (
                   PARTITION BY person_id, (occurred_at AT TIME ZONE 'UTC')::DATE) AS day_total,
               min(occurred_at) OVER (PARTITION BY person_id, session_no) AS session_start
        FROM credited
    )
    SELECT person_id, event_id,
           person_id || '@' || strftime(session_start, '%Y-%m-%dT%H:%M:%SZ') AS session_id,
           CASE WHEN day_total > {float(day_cap_minutes)}
                THEN minutes * {float(day_cap_minutes)} / day_total ELSE minutes END AS minutes
    FROM daily
    """


def _caps(con: duckdb.DuckDBPyConnection, caps: dict[str, float]) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _caps(kind VARCHAR PRIMARY KEY, cap DOUBLE)")
    insert_rows(con, "_caps", ("kind", "cap"), sorted(caps.items()))


_TEAM_MONTH = """
    WITH c AS (
        SELECT c.person_id, c.minutes, pm.team, pm.month,
               coalesce(e.category, 'unclassified') AS category
        FROM {table} c
        JOIN events e USING (event_id)
        JOIN person_months pm
          ON pm.person_id = c.person_id
         AND pm.month = date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')::DATE
    ), n AS (
        SELECT team, month, count(DISTINCT person_id) FILTER (WHERE minutes > 0) AS people
        FROM c GROUP BY ALL
    )
    SELECT ?, team, month, category, sum(minutes), any_value(people)
    FROM c JOIN n USING (team, month)
    GROUP BY ALL
"""


def build(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Fill `effort` with the configured gap and `effort_sensitivity` for every gap."""
    eff = config.effort
    day_cap = eff.day_cap_hours * 60
    _caps(con, eff.caps)
    con.execute("INSERT INTO effort " + credits_sql(eff.session_gap_minutes, eff.lead_in_minutes,
                                                    day_cap))
    gaps = sorted({float(g) for g in eff.sensitivity_gaps} | {float(eff.session_gap_minutes)})
    for gap in gaps:
        table = "effort"
        if gap != eff.session_gap_minutes:
            table = "_credits"
            con.execute("CREATE OR REPLACE TEMP TABLE _credits AS "
                        + credits_sql(gap, eff.lead_in_minutes, day_cap))
        con.execute("INSERT INTO effort_sensitivity " + _TEAM_MONTH.format(table=table), [gap])
    con.execute("DROP TABLE IF EXISTS _credits")
    con.execute("DROP TABLE _caps")


def method_text(config: Any) -> str:
    """The method in one line, for reports."""
    eff = config.effort
    return (
        f"Effort is estimated from activity timestamps: each person's events from all tools in "
        f"time order, a gap over {eff.session_gap_minutes:g} min starts a session, each act is "
        f"credited the time since the previous one up to a per-kind cap (commit "
        f"{eff.caps.get('commit', UNKNOWN_KIND_CAP):g} min, message "
        f"{eff.caps.get('slack_message', UNKNOWN_KIND_CAP):g} min), a session's first act "
        f"{eff.lead_in_minutes:g} min, at most {eff.day_cap_hours:g} h a day; time not seen is "
        f"left out."
    )
