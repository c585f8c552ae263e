"""The effort model (docs/metrics.md section 2): minutes credited to each human event.

Per person (bots excluded), all acts from all sources in time order (ties broken by event_id);
an act is one event, or one Jira history (a screen save) with all its items; echo entries
(events.weight = 0) are no act. g = minutes since that person's previous act.
- g > max(G, cap) starts a new session (G = effort.session_gap_minutes; a kind whose cap is
  longer than G, such as a commit, continues a session over gaps up to its cap);
- an act is credited min(g, cap), or min(P, cap) when it opens a session (P =
  effort.lead_in_minutes); cap = cap(kind) ([effort.caps], UNKNOWN_KIND_CAP for kinds it does
  not name), for a history of N items the largest of its items' caps + (N - 1) x
  effort.history_item_minutes; the act's events share its credit equally;
- a person-day (UTC calendar day) over effort.day_cap_hours is scaled down to it.
Time not credited is unobserved, never assigned to a category. One SQL statement of window
functions per run, so 10M events take seconds; sensitivity credits every gap of
effort.sensitivity_gaps in one more pass and keeps only team-month totals (effort_sensitivity).
"""

from __future__ import annotations

from typing import Any

import duckdb

from analysis import insert_rows
from processhealth import ui

UNKNOWN_KIND_CAP = 15.0  # minutes; like a comment, for event kinds [effort.caps] does not name


def _opens(gap: float) -> str:
    """An act opens a session when it is the person's first or g exceeds both the session gap
    and its own cap: an act whose cap is longer than the gap (a commit, 120 min) closes a stretch
    of work that left no trace before it, as git-hours counts commits up to two hours apart."""
    return f"(g IS NULL OR g > greatest({float(gap)}, cap))"


def _minutes(gap: float, lead_in: float) -> str:
    return (f"CASE WHEN {_opens(gap)} THEN least({float(lead_in)}, cap) "
            f"ELSE least(g, cap) END")


# Acts: what one person did at once. A Jira history (one save of a screen) is one act however many
# items it has; every other event is an act of its own. Echo entries (events.weight = 0, see
# collectors/sql/echo/jira_echo.sql) are no act: no credit, and they do not split a session.
# The passes below join on integers: the person's number (_person_no), the act's number (act_no:
# the event's events.event_seq, or for a history the lowest event_seq of its items), never on
# the long event and person ids.
ACTS_SQL = f"""
    CREATE OR REPLACE TEMP TABLE _person_no AS
    SELECT person_id, row_number() OVER (ORDER BY person_id) AS person_no
    FROM people WHERE NOT is_bot;
    CREATE OR REPLACE TEMP TABLE _act_events AS
    WITH e AS (
        SELECT e.event_seq, p.person_no, e.occurred_at,
               coalesce(e.category, 'unclassified') AS category,
               coalesce(k.cap, {float(UNKNOWN_KIND_CAP)}) AS cap,
               CASE WHEN e.source = 'jira' AND e.kind IN ('jira_transition', 'jira_field_edit')
                    THEN e.history_id END AS history_id
        FROM events e
        JOIN _person_no p ON p.person_id = e.person_id
        LEFT JOIN _caps k ON k.kind = e.kind
        WHERE coalesce(e.weight, 1) > 0
    )
    SELECT * EXCLUDE (history_id), event_seq AS act_no, 1 AS act_events
    FROM e WHERE history_id IS NULL
    UNION ALL
    SELECT * EXCLUDE (history_id),
           min(event_seq) OVER (PARTITION BY person_no, history_id) AS act_no,
           -- an act's events share its credit (as the history's act id, counted over persons)
           count(*) OVER (PARTITION BY history_id) AS act_events
    FROM e WHERE history_id IS NOT NULL
"""


def gaps_sql(item_minutes: float) -> str:
    """One pass of window functions over acts: each act with its cap (the largest cap of its
    events, plus `item_minutes` for each item after the first) and the gap g (minutes) since the
    same person's previous act (ties in time broken by act_no, the act's lowest event_seq: its
    first event_id, as classification numbers events of the same time in event_id order).
    Every gap's credits derive from it without sorting again."""
    return f"""
    CREATE OR REPLACE TEMP TABLE _gaps AS
    WITH acts AS (  -- an act of one event is that event: only histories of several are grouped
        -- (at 10M events grouping every act took 0.8-1.0 s more)
        SELECT act_no, any_value(person_no) AS person_no, min(occurred_at) AS occurred_at,
               max(cap) + {float(item_minutes)} * (count(*) - 1) AS cap
        FROM _act_events WHERE act_events > 1 GROUP BY act_no
        UNION ALL
        SELECT act_no, person_no, occurred_at, cap FROM _act_events WHERE act_events = 1
    )
    SELECT person_no, act_no, occurred_at,
           (occurred_at AT TIME ZONE 'UTC')::DATE AS day,
           date_trunc('month', occurred_at AT TIME ZONE 'UTC')::DATE AS month, cap,
           epoch(occurred_at - lag(occurred_at) OVER w) / 60.0 AS g,
           row_number() OVER w AS seq
    FROM acts
    WINDOW w AS (PARTITION BY person_no ORDER BY occurred_at, act_no)
    """


def sessions_sql(gap: float) -> str:
    """SELECT session_no, person_id, session_id from _gaps: one row per work session, numbered
    by its first act (act_no: the event_seq of that act's first event, unique over persons) and
    named after the person and its first act's time."""
    return f"""
    SELECT g.act_no AS session_no, p.person_id,
           p.person_id || '@' || strftime(g.occurred_at, '%Y-%m-%dT%H:%M:%SZ') AS session_id
    FROM _gaps AS g JOIN _person_no AS p USING (person_no)
    WHERE {_opens(gap)}
    """


def credit_sql(gap: float, lead_in: float, day_cap_minutes: float) -> str:
    """SELECT event_seq, session_no, minutes (after the day cap) from _gaps: an act's credit
    shared equally by its events. Each act finds the latest session opener at or before it with
    an ASOF join (cheaper than a second ordered window). Integers and a double only: the event,
    person and session names are joined by the `effort` view when read."""
    cap = float(day_cap_minutes)
    return f"""
    WITH c AS (
        SELECT person_no, act_no, seq, day, {_minutes(gap, lead_in)} AS minutes,
               {_opens(gap)} AS opens
        FROM _gaps
    ), openers AS (
        SELECT person_no, seq, act_no AS session_no FROM c WHERE opens
    ), days AS (
        SELECT person_no, day, sum(minutes) AS day_total FROM c GROUP BY ALL
    ), credit AS (
        SELECT c.act_no, o.session_no,
               CASE WHEN d.day_total > {cap} THEN c.minutes * {cap} / d.day_total
                    ELSE c.minutes END AS minutes
        FROM c
        ASOF JOIN openers o ON o.person_no = c.person_no AND c.seq >= o.seq
        JOIN days d ON d.person_no = c.person_no AND d.day = c.day
    )
    SELECT a.event_seq, x.session_no, x.minutes / a.act_events AS minutes
    FROM credit x JOIN _act_events a USING (act_no)
    """


def sensitivity_sql(gaps: list[float], lead_in: float, day_cap_minutes: float) -> str:
    """Credited minutes per (gap, team, month, category) and people per team-month, for every
    gap in one pass over the acts: the same credits as credit_sql without sessions (no sort
    needed), one column per gap until the end (at 10M events a pass per gap took 1.6-1.9 s,
    7.4 s for four; this one pass 1.5 s)."""
    cap = float(day_cap_minutes)
    each = list(enumerate(float(g) for g in gaps))
    minutes = ", ".join(f"{_minutes(g, lead_in)} AS m{i}" for i, g in each)
    totals = ", ".join(f"sum(m{i}) AS t{i}" for i, _ in each)
    credits = ", ".join(f"sum(CASE WHEN d.t{i} > {cap} THEN m.m{i} * {cap} / d.t{i}"
                        f" ELSE m.m{i} END / a.act_events) AS c{i}" for i, _ in each)
    names = ", ".join(f"c{i}" for i, _ in each)
    gap_of = " ".join(f"WHEN 'c{i}' THEN {g}" for i, g in each)
    return f"""
    WITH m AS (
        SELECT person_no, act_no, day, month, {minutes} FROM _gaps
    ), d AS (
        SELECT person_no, day, {totals} FROM m GROUP BY ALL
    ), pmc AS (
        SELECT m.person_no, m.month, a.category, {credits}
        FROM m JOIN d USING (person_no, day)
        JOIN _act_events a USING (act_no)
        GROUP BY ALL
    ), wide AS (
        SELECT pm.team, x.month, x.category, pm.person_id, {names}
        FROM pmc x JOIN _person_no p USING (person_no)
        JOIN person_months pm ON pm.person_id = p.person_id AND pm.month = x.month
    ), t AS (
        SELECT team, month, category, person_id, CASE name {gap_of} END AS gap, minutes
        FROM wide UNPIVOT INCLUDE NULLS (minutes FOR name IN ({names}))
    ), n2 AS (
        SELECT gap, team, month, count(DISTINCT person_id) FILTER (WHERE minutes > 0) AS people
        FROM t GROUP BY ALL
    )
    SELECT gap, team, month, category, sum(minutes), any_value(people)
    FROM t JOIN n2 USING (gap, team, month)
    GROUP BY ALL
    """


def _caps(con: duckdb.DuckDBPyConnection, caps: dict[str, float]) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _caps(kind VARCHAR PRIMARY KEY, cap DOUBLE)")
    insert_rows(con, "_caps", ("kind", "cap"), sorted(caps.items()))


def build(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Fill `effort_sessions` and `effort_credit` (the `effort` view) with the configured gap,
    and `effort_sensitivity` for every gap."""
    eff = config.effort
    day_cap = eff.day_cap_hours * 60
    _caps(con, eff.caps)
    gaps = sorted({float(g) for g in eff.sensitivity_gaps} | {eff.session_gap_minutes})
    for name, sql in (
            ("acts", ACTS_SQL), ("gaps", gaps_sql(eff.history_item_minutes)),
            ("sessions", "INSERT INTO effort_sessions " + sessions_sql(eff.session_gap_minutes)),
            ("credits", "INSERT INTO effort_credit "
             + credit_sql(eff.session_gap_minutes, eff.lead_in_minutes, day_cap)),
            ("sensitivity", "INSERT INTO effort_sensitivity "
             + sensitivity_sql(gaps, eff.lead_in_minutes, day_cap))):
        with ui.profiled(name, indent="  "):
            con.execute(sql)
    for table in ("_gaps", "_act_events", "_caps", "_person_no"):
        con.execute(f"DROP TABLE {table}")


def method_text(config: Any) -> str:
    """The method in one line, for reports."""
    eff = config.effort
    return (
        f"Effort is estimated from activity timestamps: each person's events from all tools in "
        f"time order (one Jira save is one act; Jira's echo entries none), a gap over "
        f"{eff.session_gap_minutes:g} min (or over the act's cap, when longer) starts a session, "
        f"each act is credited the time since the previous one up to a per-kind cap (commit "
        f"{eff.caps.get('commit', UNKNOWN_KIND_CAP):g} min, message "
        f"{eff.caps.get('slack_message', UNKNOWN_KIND_CAP):g} min), a session's first act "
        f"{eff.lead_in_minutes:g} min, at most {eff.day_cap_hours:g} h a day; time not seen is "
        f"left out."
    )


def insert_named(con: duckdb.DuckDBPyConnection, query: str,
                 params: list[Any] | None = None) -> None:
    """Store credits given by name, as the `effort` view shows them: `query` yields person_id,
    event_id, session_id and minutes, for events already in `events`. For databases written by
    hand (tests, examples); a build writes effort_sessions and effort_credit directly."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _named AS {query}", params or [])
    con.execute("""
        INSERT INTO effort_sessions
        SELECT coalesce((SELECT max(session_no) FROM effort_sessions), 0)
                   + row_number() OVER (ORDER BY person_id, session_id), person_id, session_id
        FROM (SELECT DISTINCT person_id, session_id FROM _named
              EXCEPT SELECT person_id, session_id FROM effort_sessions)
    """)
    con.execute("""
        INSERT INTO effort_credit
        SELECT e.event_seq, s.session_no, n.minutes
        FROM _named AS n JOIN events AS e USING (event_id)
        JOIN effort_sessions AS s ON s.person_id = n.person_id AND s.session_id = n.session_id
    """)
    con.execute("DROP TABLE _named")
