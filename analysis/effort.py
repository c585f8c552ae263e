"""The effort model (docs/metrics.md section 2): minutes credited to each human event.

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


def _minutes(gap: float, lead_in: float) -> str:
    return (f"CASE WHEN g IS NULL OR g > {float(gap)} THEN least({float(lead_in)}, cap) "
            f"ELSE least(g, cap) END")


# One pass of window functions: each human event with its cap and the gap g (minutes) since the
# same person's previous event. Every gap's credits derive from it without sorting again.
GAPS_SQL = f"""
    CREATE OR REPLACE TEMP TABLE _gaps AS
    SELECT e.person_id, e.event_id, e.occurred_at,
           (e.occurred_at AT TIME ZONE 'UTC')::DATE AS day,
           date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')::DATE AS month,
           coalesce(e.category, 'unclassified') AS category,
           coalesce(k.cap, {float(UNKNOWN_KIND_CAP)}) AS cap,
           epoch(e.occurred_at - lag(e.occurred_at) OVER w) / 60.0 AS g,
           row_number() OVER w AS seq
    FROM events e
    JOIN people p ON p.person_id = e.person_id AND NOT p.is_bot
    LEFT JOIN _caps k ON k.kind = e.kind
    WINDOW w AS (PARTITION BY e.person_id ORDER BY e.occurred_at, e.event_id)
"""


def effort_sql(gap: float, lead_in: float, day_cap_minutes: float) -> str:
    """SELECT person_id, event_id, session_id, minutes (after the day cap), from _gaps.

    A session is named after the person and its first event's time; each event finds the latest
    session opener at or before it with an ASOF join (cheaper than a second ordered window)."""
    cap = float(day_cap_minutes)
    return f"""
    WITH c AS (
        SELECT person_id, event_id, seq, day, occurred_at, {_minutes(gap, lead_in)} AS minutes,
               g IS NULL OR g > {float(gap)} AS opens
        FROM _gaps
    ), openers AS (
        SELECT person_id, seq, occurred_at AS session_start FROM c WHERE opens
    ), days AS (
        SELECT person_id, day, sum(minutes) AS day_total FROM c GROUP BY ALL
    )
    SELECT c.person_id, c.event_id,
           c.person_id || '@' || strftime(o.session_start, '%Y-%m-%dT%H:%M:%SZ') AS session_id,
           CASE WHEN d.day_total > {cap} THEN c.minutes * {cap} / d.day_total
                ELSE c.minutes END AS minutes
    FROM c
    ASOF JOIN openers o ON o.person_id = c.person_id AND c.seq >= o.seq
    JOIN days d ON d.person_id = c.person_id AND d.day = c.day
    """


def team_month_sql(gap: float, lead_in: float, day_cap_minutes: float) -> str:
    """Credited minutes per (team, month, category) and people per team-month, for one gap;
    the same credits as effort_sql without session ids (no sort needed)."""
    cap = float(day_cap_minutes)
    return f"""
    WITH m AS (
        SELECT person_id, day, month, category, {_minutes(gap, lead_in)} AS minutes FROM _gaps
    ), d AS (
        SELECT person_id, day, sum(minutes) AS total FROM m GROUP BY ALL
    ), pmc AS (
        SELECT m.person_id, m.month, m.category,
               sum(CASE WHEN d.total > {cap} THEN m.minutes * {cap} / d.total
                        ELSE m.minutes END) AS minutes
        FROM m JOIN d USING (person_id, day) GROUP BY ALL
    ), t AS (
        SELECT pm.team, x.month, x.category, x.person_id, x.minutes
        FROM pmc x JOIN person_months pm ON pm.person_id = x.person_id AND pm.month = x.month
    ), n AS (
        SELECT team, month, count(DISTINCT person_id) FILTER (WHERE minutes > 0) AS people
        FROM t GROUP BY ALL
    )
    SELECT {float(gap)}, team, month, category, sum(minutes), any_value(people)
    FROM t JOIN n USING (team, month)
    GROUP BY ALL
    """


def _caps(con: duckdb.DuckDBPyConnection, caps: dict[str, float]) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _caps(kind VARCHAR PRIMARY KEY, cap DOUBLE)")
    insert_rows(con, "_caps", ("kind", "cap"), sorted(caps.items()))


def build(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Fill `effort` with the configured gap and `effort_sensitivity` for every gap."""
    eff = config.effort
    day_cap = eff.day_cap_hours * 60
    _caps(con, eff.caps)
    con.execute(GAPS_SQL)
    con.execute("INSERT INTO effort " + effort_sql(eff.session_gap_minutes, eff.lead_in_minutes,
                                                   day_cap))
    for gap in sorted({float(g) for g in eff.sensitivity_gaps} | {eff.session_gap_minutes}):
        con.execute("INSERT INTO effort_sensitivity "
                    + team_month_sql(gap, eff.lead_in_minutes, day_cap))
    con.execute("DROP TABLE _gaps")
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
