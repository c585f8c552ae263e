"""Verdicts per team-month (docs/metrics.md section 9): amplifier, neutral, process_is_product or
insufficient_data, with every signal beside its threshold and direction.

A team-month is compared with baseline months: the `[verdict] baseline_months` months before the
team's latest recorded process change when one started by then (so a change keeps being judged
against how the team worked before it), else the trailing months that were not themselves a rise
(so a lasting rise is not absorbed into its own baseline). Changes get 95% circular block-bootstrap
intervals over the days of the month and of the baseline.

Rules (thresholds from `[verdict]`):
- process_is_product: overhead ratio up >= overhead_rise_pp points (interval above 0), and one
  of: customer throughput down >= throughput_drop, paperwork ratio >= paperwork_ratio, process
  coupling < coupling_low, best-performer engagement < best_performer_engagement;
- amplifier: overhead ratio up < amplifier_max_rise_pp points, coupling >= coupling_high, and one
  of: customer throughput up >= improvement (interval above 0), customer lead time down >=
  improvement (interval below 0): an improvement must be sure, or steady teams would be called
  amplifiers half the time by chance;
- neutral otherwise, including months without a baseline (the first month of data: no change
  can be shown; the reason then starts with "no baseline yet" and baseline_months is
  empty); insufficient_data under privacy.min_group_size people. Baseline months need
  privacy.min_group_size people too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np

from analysis import insert_rows
from analysis.bootstrap import Interval, PooledMedian, sums, weighted_bootstrap
from analysis.teams import UNASSIGNED  # people of no team; not a team, so never judged
from processhealth import ui

PIP, AMPLIFIER, NEUTRAL, INSUFFICIENT = (
    "process_is_product", "amplifier", "neutral", "insufficient_data",
)
# The start of the reason of a neutral month that has no baseline months (health_verdicts keeps
# the verdict neutral, a value readers' queries rely on; baseline_months is empty too).
NO_BASELINE = "no baseline yet"
NO_INTERVAL = Interval(None, None, None)


@dataclass(frozen=True)
class Signal:
    rule: str
    name: str
    value: float | None
    low: float | None
    high: float | None
    threshold: float
    direction: str  # >=, <=, <, >
    required: bool
    met: bool


@dataclass(frozen=True)
class Evidence:
    """What a verdict weighs: changes against the baseline (with intervals) and levels."""

    overhead_rise_pp: Interval = NO_INTERVAL
    throughput_change: Interval = NO_INTERVAL
    lead_time_change: Interval = NO_INTERVAL
    paperwork_ratio: float | None = None
    process_coupling: float | None = None
    best_performer_engagement: float | None = None


def passes(value: float | None, direction: str, threshold: float) -> bool:
    if value is None or value != value:  # NaN
        return False
    return {">=": value >= threshold, "<=": value <= threshold,
            ">": value > threshold, "<": value < threshold}[direction]


def _level(rule: str, name: str, value: float | None, direction: str, threshold: float,
           required: bool = False) -> Signal:
    return Signal(rule, name, value, None, None, threshold, direction, required,
                  passes(value, direction, threshold))


def _change(rule: str, name: str, interval: Interval, direction: str, threshold: float,
            required: bool = False, sure: bool = True) -> Signal:
    """A change signal: its value passes the threshold and (when `sure`) its interval excludes 0
    on the same side."""
    met = passes(interval.estimate, direction, threshold)
    if sure:
        away = (interval.low is not None and interval.low > 0) if direction in (">=", ">") else \
            (interval.high is not None and interval.high < 0)
        met = met and away
    return Signal(rule, name, interval.estimate, interval.low, interval.high, threshold,
                  direction, required, met)


def signals(ev: Evidence, cfg: Any) -> list[Signal]:
    """Every signal of both rules, thresholds from a VerdictConfig."""
    return [
        _change(PIP, "overhead_rise_pp", ev.overhead_rise_pp, ">=", cfg.overhead_rise_pp,
                required=True),
        _change(PIP, "customer_throughput_change", ev.throughput_change, "<=",
                -cfg.throughput_drop, sure=False),
        _level(PIP, "paperwork_ratio", ev.paperwork_ratio, ">=", cfg.paperwork_ratio),
        _level(PIP, "process_coupling", ev.process_coupling, "<", cfg.coupling_low),
        _level(PIP, "best_performer_engagement", ev.best_performer_engagement, "<",
               cfg.best_performer_engagement),
        _change(AMPLIFIER, "overhead_rise_pp", ev.overhead_rise_pp, "<",
                cfg.amplifier_max_rise_pp, required=True, sure=False),
        _level(AMPLIFIER, "process_coupling", ev.process_coupling, ">=", cfg.coupling_high,
               required=True),
        _change(AMPLIFIER, "customer_throughput_change", ev.throughput_change, ">=",
                cfg.improvement),
        _change(AMPLIFIER, "customer_lead_time_change", ev.lead_time_change, "<=",
                -cfg.improvement),
    ]


def judge(sigs: Sequence[Signal]) -> tuple[str, str]:
    """(verdict, reason): a rule holds when all its required signals and one other are met."""
    for rule in (PIP, AMPLIFIER):
        mine = [s for s in sigs if s.rule == rule]
        required = [s for s in mine if s.required]
        others = [s for s in mine if not s.required]
        if all(s.met for s in required) and any(s.met for s in others):
            met = [s for s in mine if s.met]
            return rule, "; ".join(_describe(s) for s in met) + "."
    return NEUTRAL, "neither rule holds: " + "; ".join(
        _describe(s) for s in sigs if s.required and s.rule == PIP) + "."


def _describe(s: Signal) -> str:
    value = "n/a" if s.value is None else f"{s.value:.3g}"
    text = f"{s.name} {value} {s.direction} {s.threshold:g}"
    if s.low is not None and s.high is not None:
        text += f" (95% interval {s.low:.3g} to {s.high:.3g})"
    return text


# --- rows of health_verdict_signals ------------------------------------------------------------

SIGNAL_COLUMNS = ("scope", "team", "month", "change", "rule", "signal", "value", "low", "high",
                  "threshold", "direction", "required", "met")


def signal_rows(sigs: Sequence[Signal], scope: str, team: str, month: date | None = None,
                change: str | None = None) -> list[tuple]:
    """health_verdict_signals rows of one verdict: scope team_month (with month) or change."""
    return [(scope, team, month, change, s.rule, s.name, s.value, s.low, s.high, s.threshold,
             s.direction, s.required, s.met) for s in sigs]


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


# --- the team-month verdicts --------------------------------------------------------------------


@dataclass
class TeamDays:
    """One team's daily series: (process, productive) minutes, customer items, their lead times."""

    minutes: dict[date, tuple[float, float]] = field(default_factory=dict)
    customer_items: dict[date, list[float]] = field(default_factory=lambda: defaultdict(list))


def month_days(month: date, first: date, last: date) -> list[date]:
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start, end = max(month, first), min(nxt - timedelta(days=1), last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def choose_baseline(month: date, earlier: Sequence[date], elevated: set[date],
                    anchor: date | None, n: int) -> tuple[list[date], bool]:
    """(months `month` is compared with, whether they are the months before `anchor`, the start
    of a recorded change); no months when there are none (see the module docstring)."""
    if anchor is not None:
        before = [m for m in earlier if m < date(anchor.year, anchor.month, 1)]
        if before:
            return list(before[-n:]), True
    horizon = date(month.year - 1, month.month, 1)
    calm = [m for m in earlier if horizon <= m < month and m not in elevated]
    return calm[-n:], False


def evidence(days: TeamDays, base: list[list[date]], current: list[date],
             levels: dict[str, float | None]) -> Evidence:
    """Changes of `current` days against the pooled baseline days, with bootstrap intervals."""
    base_days = [d for month in base for d in month]
    pairs = np.array([days.minutes.get(d, (0.0, 0.0)) for d in base_days]).reshape(-1, 2)
    now = np.array([days.minutes.get(d, (0.0, 0.0)) for d in current]).reshape(-1, 2)
    counts_b = np.array([len(days.customer_items.get(d, [])) for d in base_days], dtype=float)
    counts_n = np.array([len(days.customer_items.get(d, [])) for d in current], dtype=float)
    leads_b = PooledMedian([days.customer_items.get(d, []) for d in base_days])
    leads_n = PooledMedian([days.customer_items.get(d, []) for d in current])
    nb, nn = len(base_days), len(current)

    def overhead(wb: np.ndarray, wa: np.ndarray) -> np.ndarray:
        before, after = sums(wb, pairs), sums(wa, now)
        return 100 * (after[:, 0] / after[:, 1] - before[:, 0] / before[:, 1])

    def throughput(wb: np.ndarray, wa: np.ndarray) -> np.ndarray:
        return (sums(wa, counts_n) / nn) / (sums(wb, counts_b) / nb) - 1

    return Evidence(  # same resamples and values as bootstrap() over the days themselves
        overhead_rise_pp=weighted_bootstrap(overhead, nb, nn),
        throughput_change=weighted_bootstrap(throughput, nb, nn),
        lead_time_change=weighted_bootstrap(
            lambda wb, wa: leads_n.weighted(wa) / leads_b.weighted(wb) - 1, nb, nn),
        **levels,
    )


@dataclass(frozen=True)
class TeamMonth:
    """One row of metric_team_months with the levels a verdict weighs."""

    team: str
    month: date
    people: int
    paperwork_ratio: float | None
    process_coupling: float | None


def _load(con: duckdb.DuckDBPyConnection
          ) -> tuple[dict[str, TeamDays], list[TeamMonth], date, date]:
    days: dict[str, TeamDays] = defaultdict(TeamDays)
    for team, day, process, total in con.execute("""
        SELECT team, day, coalesce(sum(minutes) FILTER (WHERE category = 'process'), 0),
               coalesce(sum(minutes) FILTER (
                   WHERE category IN ('customer', 'enabling', 'process')), 0)
        FROM metric_event_facts WHERE team IS NOT NULL GROUP BY team, day
    """).fetchall():
        days[team].minutes[day] = (process, total)
    for team, day, lead in con.execute("""
        SELECT team, resolved_day, lead_time_days FROM metric_flow_items
        WHERE category = 'customer' AND resolved_day IS NOT NULL AND team IS NOT NULL
    """).fetchall():
        days[team].customer_items[day].append(lead)
    months = [TeamMonth(*row) for row in con.execute("""
        SELECT tm.team, tm.month, tm.people_count, p.paperwork_ratio, c.process_coupling
        FROM metric_team_months AS tm
        LEFT JOIN metric_paperwork AS p USING (team, month)
        LEFT JOIN metric_coupling AS c USING (team, month)
        ORDER BY tm.team, tm.month
    """).fetchall()]
    first, last = con.execute("SELECT min(day), max(day) FROM metric_event_team").fetchone()
    return days, months, first, last


@dataclass
class Context:
    """What every team's verdicts need: the observed days, recorded changes and thresholds."""

    first: date
    last: date
    changes: list[ProcessChange]  # by start
    engagement: dict[tuple[str, str], float | None]  # (change, team) -> best-performer engagement
    cfg: Any  # VerdictConfig
    min_people: int


def team_verdicts(team: str, months: list[TeamMonth], days: TeamDays, ctx: Context
                  ) -> tuple[list[tuple], list[tuple]]:
    """(health_verdicts rows, health_verdict_signals rows) of one team, month by month in order."""
    verdict_rows: list[tuple] = []
    sig_rows: list[tuple] = []
    elevated: set[date] = set()
    seen: list[date] = []  # earlier months with enough people
    for tm in months:
        month, people = tm.month, tm.people
        current = month_days(month, ctx.first, ctx.last)
        month_end = current[-1] if current else month
        change = next((c for c in reversed(ctx.changes)
                       if c.team in (None, team) and c.started_on <= month_end), None)
        base, is_anchored = choose_baseline(month, seen, elevated,
                                            change.started_on if change else None,
                                            ctx.cfg.baseline_months)
        anchored = change.name if change and is_anchored else None
        if people < ctx.min_people:
            verdict_rows.append((team, month, INSUFFICIENT, f"only {people} people; "
                                 f"privacy.min_group_size is {ctx.min_people}", people, base,
                                 anchored))
            continue
        seen.append(month)
        ev = evidence(days, [month_days(m, ctx.first, ctx.last) for m in base], current, {
            "paperwork_ratio": tm.paperwork_ratio, "process_coupling": tm.process_coupling,
            "best_performer_engagement": ctx.engagement.get((change.name, team))
            if change else None,
        })
        sigs = signals(ev, ctx.cfg)
        if sigs[0].met:
            elevated.add(month)
        sig_rows += signal_rows(sigs, "team_month", team, month=month)
        if base:
            verdict, reason = judge(sigs)
        else:  # no change can be shown, so neither rule can hold: neutral, as docs/metrics.md says;
            # the reason starts with NO_BASELINE so a reader is told why (reports say so)
            verdict = NEUTRAL
            reason = (f"{NO_BASELINE}: no earlier month with enough people to compare with, so "
                      f"no rise or improvement can be shown")
        verdict_rows.append((team, month, verdict, reason, people, base, anchored))
    return verdict_rows, sig_rows


def build(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Fill health_verdicts and the team-month rows of health_verdict_signals."""
    with ui.profiled("load team days", indent="  "):
        days, months, first, last = _load(con)
    if first is None:
        return
    ctx = Context(first, last, process_changes(con), engagement(con), config.verdict,
                  config.privacy.min_group_size)
    by_team: dict[str, list[TeamMonth]] = defaultdict(list)
    for tm in months:
        if tm.team != UNASSIGNED:
            by_team[tm.team].append(tm)
    verdict_rows: list[tuple] = []
    sig_rows: list[tuple] = []
    with ui.profiled(f"bootstrap {len(months)} team-months", indent="  "):
        for team, rows in by_team.items():
            v, s = team_verdicts(team, rows, days[team], ctx)
            verdict_rows += v
            sig_rows += s
    insert_rows(con, "health_verdicts", ("team", "month", "verdict", "reason", "people_count",
                                         "baseline_months", "baseline_change"), verdict_rows)
    insert_rows(con, "health_verdict_signals", SIGNAL_COLUMNS, sig_rows)
