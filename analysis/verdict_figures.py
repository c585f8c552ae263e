"""The figures a team-month verdict compares (docs/metrics.md section 9): each team-month's
overhead, customer items per person, lead time, pickup, process work that followed a reminder
naming its actor, uncoupled process work,
coupling and declared experiments (`load`), and a window of months against baseline months on
the team's own month-to-month spread (`evidence`, `gain_z`). The rules and the runs that use
them are in analysis/verdict_rules.py and analysis/verdicts.py."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from analysis.bootstrap import Interval
from analysis.teams import UNASSIGNED  # people of no team; not a team, so never judged
from analysis.verdict_rules import LOG_FIGURES, PRIOR_SD, Evidence, compare, relative, zscore


@dataclass(frozen=True)
class ProcessChange:
    """A recorded process change (process_changes); team None means every team."""

    name: str
    team: str | None
    started_on: date


def process_changes(con: duckdb.DuckDBPyConnection) -> list[ProcessChange]:
    """Every recorded process change, by start date (then name)."""
    return [ProcessChange(*row) for row in con.execute(
        "SELECT name, team, started_on FROM process_changes ORDER BY started_on, name"
    ).fetchall()]


def engagement(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], float | None]:
    """(change, team) -> best-performer engagement (metric_adoption)."""
    return {(change, team): value for change, team, value in con.execute(
        "SELECT change, team, best_performer_engagement FROM metric_adoption").fetchall()}


def gain_z(base: Sequence[MonthFigures], window: Sequence[MonthFigures]) -> float | None:
    """Customer items per person up and pull-request pickup down, pooled: the sum of their
    z-scores (pickup's sign turned) over the square root of how many there are (Stouffer),
    each measured against its own month-to-month spread."""
    parts = []
    for name, sign in (("throughput", 1.0), ("pickup", -1.0)):
        z = zscore([b.get(name) for b in base if b.get(name) is not None],
                   [w.get(name) for w in window if w.get(name) is not None], PRIOR_SD[name])
        if z is not None:
            parts.append(sign * z)
    return sum(parts) / math.sqrt(len(parts)) if parts else None


@dataclass
class MonthFigures:
    """One team-month's figures as the verdict compares them (None: no figure that month)."""

    team: str
    month: date
    people: int
    days: int = 0  # observed days of the month
    overhead: float | None = None  # percent
    throughput: float | None = None  # log(customer items per person and day)
    lead_time: float | None = None  # log(median lead time, days)
    pickup: float | None = None  # log(median pickup, hours)
    prompted: float | None = None  # percent of process events after a reminder naming the actor
    coupling: float | None = None  # percent; None while its window is incomplete
    uncoupled: float | None = None  # percent of minutes: process that preceded no delivery
    coupling_censored: bool = False
    declared: int = 0  # declared experiments closed with a result (metric_declared_experiments)

    def get(self, name: str) -> float | None:
        return getattr(self, name)


def month_days(month: date, first: date, last: date) -> list[date]:
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start, end = max(month, first), min(nxt - timedelta(days=1), last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def evidence(base: Sequence[MonthFigures], window: Sequence[MonthFigures],
             best_performer: float | None = None) -> Evidence:
    """The window's months (one, or a run's pooled months) against the baseline months."""
    out: dict[str, Interval] = {}
    for name in PRIOR_SD:
        iv = compare([b.get(name) for b in base if b.get(name) is not None],
                     [w.get(name) for w in window if w.get(name) is not None], PRIOR_SD[name])
        out[name] = relative(iv) if name in LOG_FIGURES else iv
    notes = ()
    if window and window[-1].coupling_censored:
        notes = ("coupling not yet known: the 30 days after the month are not all observed",)
    return Evidence(overhead_rise_pp=out["overhead"], throughput_change=out["throughput"],
                    lead_time_change=out["lead_time"], pickup_change=out["pickup"],
                    prompted_rise_pp=out["prompted"], coupling_change_pp=out["coupling"],
                    uncoupled_rise_pp=out["uncoupled"],
                    best_performer_engagement=best_performer,
                    gain_z=gain_z(base, window), declared=sum(w.declared for w in window),
                    pooled_gain=True, nagged=True, notes=notes)



# --- loading -----------------------------------------------------------------------------------


def load(con: duckdb.DuckDBPyConnection) -> tuple[list[MonthFigures], date | None, date | None]:
    """Every team-month's figures (teams other than unassigned), and the span of observed days."""
    first, last = con.execute("SELECT min(day), max(day) FROM metric_event_base").fetchone()
    if first is None:
        return [], None, None
    effort = {(t, m): row for t, m, *row in con.execute("""
        SELECT team, month,
               coalesce(sum(minutes) FILTER (WHERE category = 'process'), 0),
               coalesce(sum(minutes) FILTER (
                   WHERE category IN ('customer', 'enabling', 'process')), 0),
               count(*) FILTER (WHERE is_process),
               coalesce(sum(minutes) FILTER (
                   WHERE category = 'process' AND coupled IS NOT TRUE), 0)
        FROM metric_event_human WHERE team IS NOT NULL GROUP BY team, month
    """).fetchall()}
    items = {(t, m): (n, lead) for t, m, n, lead in con.execute("""
        SELECT team, resolved_month, count(*), median(lead_time_days)
        FROM metric_flow_items
        WHERE category = 'customer' AND resolved_day IS NOT NULL AND team IS NOT NULL
        GROUP BY team, resolved_month
    """).fetchall()}
    pickup = {(t, m): h for t, m, h in con.execute("""
        SELECT team, merged_month, exp(avg(ln(greatest(pickup_hours, 0.1))))
        FROM metric_pr_items
        WHERE merged_month IS NOT NULL AND team IS NOT NULL AND pickup_hours IS NOT NULL
        GROUP BY team, merged_month
        HAVING count(*) >= 5
    """).fetchall()}
    # process events within 24 h after a nag: a reminder whose words ask for an update or a
    # status (detail.asks_update) and that names their actor. A reminder only posted to a
    # channel (a daily /remind) reaches everyone who writes there, so "followed a reminder" would
    # hold for nearly every event; a listed bot's notifications that name people ask nothing.
    named = {(t, m): n for t, m, n in con.execute("""
        SELECT e.team, e.month,
               count(*) FILTER (WHERE epoch(e.occurred_at) - epoch(r.reminded_at) <= 86400)
        FROM (SELECT team, month, person_id, occurred_at FROM metric_event_human
              WHERE is_process AND team IS NOT NULL) AS e
        ASOF LEFT JOIN (
            SELECT m.person_id, m.reminded_at
            FROM metric_reminder_mentions AS m
            JOIN events AS r ON r.event_id = m.reminder_event_id
            -- the subkind spares probing every event's id (at 10M events 1.2 -> 1.0 s)
            WHERE r.subkind = 'reminder'
              AND coalesce(TRY_CAST(r.detail ->> 'asks_update' AS BOOLEAN), false)
        ) AS r ON r.person_id = e.person_id AND e.occurred_at > r.reminded_at
        GROUP BY e.team, e.month
    """).fetchall()}
    coupling = {(t, m): (c, complete) for t, m, c, complete in con.execute(
        "SELECT team, month, process_coupling, window_complete FROM metric_coupling").fetchall()}
    declared = dict(((t, m), n) for t, m, n in con.execute(
        "SELECT team, month, closed_with_result FROM metric_declared_experiments").fetchall())
    out = []
    for team, month, people in con.execute(
            "SELECT team, month, people_count FROM metric_team_months ORDER BY team, month"
    ).fetchall():
        if team == UNASSIGNED:
            continue
        f = MonthFigures(team, month, people, len(month_days(month, first, last)))
        process, total, process_events, uncoupled = effort.get((team, month), (0, 0, 0, 0))
        if total:
            f.overhead = 100 * process / total
        if process_events >= 20:  # a share of fewer events says little
            f.prompted = 100 * named.get((team, month), 0) / process_events
        n, lead = items.get((team, month), (0, None))
        if people and f.days:
            f.throughput = math.log((n + 0.5) / (people * f.days))
        if lead is not None and lead > 0:
            f.lead_time = math.log(lead)
        hours = pickup.get((team, month))
        if hours is not None and hours > 0:
            f.pickup = math.log(hours)
        c, complete = coupling.get((team, month), (None, None))
        if c is not None and complete:
            f.coupling = 100 * c
        if complete and total:  # like coupling, it looks 30 days past the month
            f.uncoupled = 100 * uncoupled / total
        f.coupling_censored = c is not None and not complete
        f.declared = declared.get((team, month), 0)
        out.append(f)
    return out, first, last
