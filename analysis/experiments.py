"""Process experiments (docs/metrics.md section 8): each recorded process change judged before
and after.

Windows, in whole weeks (Monday to Sunday, UTC): up to 12 weeks before the start date, then a
2-week ramp, then up to 12 weeks. The estimate is a difference of weekly means, as the
difference-in-differences against teams without a change in those windows where there are any,
with a 95% circular block-bootstrap interval (analysis.bootstrap). A criterion
(`processhealth experiment add ... --criterion "overhead_ratio <= +3pp"`) is then

- met: the whole interval is on the right side of the threshold;
- not_met: the whole interval is on the wrong side;
- inconclusive: the interval straddles the threshold;
- insufficient_data: fewer than 6 weekly points on either side, or fewer than
  privacy.min_group_size people.

Criterion units: `pp` = change of a ratio in percentage points, `%` = relative change in percent,
none = the after-window level (or, for a metric named `<metric>_change`, the plain change). The
metric is a `metric_weekly.metric` (a `_change` suffix and a few aliases are accepted).
The same windows give each change a verdict (health_change_verdicts) by the rules of
analysis.verdicts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np

from analysis import insert_rows, verdict_rules, verdicts
from analysis.bootstrap import Interval, bootstrap
from analysis.criteria import measure_of, metric_name
from analysis.teams import UNASSIGNED
from analysis.verdicts import ProcessChange

BEFORE_WEEKS, RAMP_DAYS, AFTER_WEEKS, MIN_POINTS = 12, 14, 12, 6
Series = dict[date, float]  # week (Monday) -> value


@dataclass(frozen=True)
class Windows:
    before: list[date]  # Mondays
    after: list[date]

    def months(self) -> set[date]:
        """The first days of the months the windows' weeks start in."""
        return {_month(w) for w in self.before + self.after}

    @classmethod
    def around(cls, start: date) -> Windows:
        last_before = _monday(start - timedelta(days=7))
        first_after = _monday(start + timedelta(days=RAMP_DAYS + 6))
        return cls([last_before - timedelta(weeks=n) for n in reversed(range(BEFORE_WEEKS))],
                   [first_after + timedelta(weeks=n) for n in range(AFTER_WEEKS)])


def _month(day: date) -> date:
    return day.replace(day=1)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --- estimates ----------------------------------------------------------------------------------


def _means(x: np.ndarray) -> np.ndarray:
    return np.nanmean(x, axis=1)  # (resamples, columns)


def _diff(measure: str, b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Per column: after - before (x 100 for pp), or after / before - 1 (x 100 for pct)."""
    mb, ma = _means(b), _means(a)
    if measure == "change_pct":
        return (ma / mb - 1) * 100
    return (ma - mb) * (100 if measure == "change_pp" else 1)


def estimate(measure: str, before: np.ndarray, after: np.ndarray) -> Interval:
    """Estimate and interval. Arrays: one row per week, column 0 the team, column 1 (optional)
    the mean of the control teams, for difference-in-differences."""
    if measure == "level":
        return bootstrap(lambda a: _means(a)[:, 0], after)

    def stat(b: np.ndarray, a: np.ndarray) -> np.ndarray:
        d = _diff(measure, b, a)
        return d[:, 0] - d[:, 1] if d.shape[1] > 1 else d[:, 0]

    return bootstrap(stat, before, after)


def outcome(interval: Interval, op: str, threshold: float) -> str:
    """met / not_met / inconclusive: where the interval lies against `threshold`."""
    if interval.low is None or interval.high is None:
        return "insufficient_data"
    worst, best = (interval.high, interval.low) if op in ("<=", "<") else \
        (interval.low, interval.high)
    if verdict_rules.passes(worst, op, threshold):
        return "met"
    if not verdict_rules.passes(best, op, threshold):
        return "not_met"
    return "inconclusive"


def paired(team: Series, controls: list[Series], weeks: list[date]) -> np.ndarray:
    """Rows for the weeks where the team (and, with controls, their mean) has a value."""
    rows = []
    for week in weeks:
        value = team.get(week)
        if value is None:
            continue
        if controls:
            others = [c[week] for c in controls if week in c]
            if not others:
                continue
            rows.append((value, float(np.mean(others))))
        else:
            rows.append((value,))
    return np.array(rows, dtype=float).reshape(-1, 2 if controls else 1)


# --- evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    """A success criterion of a process change (experiment_criteria): overhead_ratio <= +3pp."""

    idx: int
    metric: str  # as written: a metric_weekly name, an alias, maybe with _change
    op: str
    threshold: float
    unit: str  # pp, % or empty
    text: str


@dataclass
class Data:
    weekly: dict[tuple[str, str], Series]
    people: dict[str, dict[date, int]]  # team -> month -> people_count
    changes: list[ProcessChange]  # by name
    criteria: dict[str, list[Criterion]]  # change -> its criteria, by idx
    engagement: dict[tuple[str, str], float | None]


def load(con: duckdb.DuckDBPyConnection) -> Data:
    weekly: dict[tuple[str, str], Series] = defaultdict(dict)
    for team, week, metric, value in con.execute(
        "SELECT team, week, metric, value FROM metric_weekly"
    ).fetchall():
        weekly[(team, metric)][week] = value
    people: dict[str, dict[date, int]] = defaultdict(dict)
    for team, month, count in con.execute(
        "SELECT team, month, people_count FROM metric_team_months"
    ).fetchall():
        people[team][month] = count
    criteria: dict[str, list[Criterion]] = defaultdict(list)
    for name, *fields in con.execute(
        "SELECT name, idx, metric, op, threshold, unit, text FROM experiment_criteria"
        " ORDER BY name, idx"
    ).fetchall():
        criteria[name].append(Criterion(*fields))
    changes = sorted(verdicts.process_changes(con), key=lambda c: c.name)
    return Data(weekly, people, changes, criteria, verdicts.engagement(con))


def fewest_people(counts: dict[date, int], windows: Windows, min_people: int = 0) -> int:
    """The fewest people of the team in a month the windows touch whose weeks count: one the
    team has data for (a month without data, before the data starts, after it ends, a gap, adds
    no weekly points, so it is no month of 0 people) and with at least min_people people (the
    weeks of a smaller month are left out, enough_people). With no such month, the most people
    of any month (under min_people: insufficient data), or 0."""
    months = [counts[m] for m in windows.months() if m in counts]
    kept = [n for n in months if n >= min_people]
    return min(kept) if kept else max(months, default=0)


def under_change(change: ProcessChange) -> tuple[date, date]:
    """The days a team is under its own change: from the start to the end of its after window."""
    return change.started_on, Windows.around(change.started_on).after[-1] + timedelta(days=6)


def control_teams(data: Data, team: str, changed_team: str | None, windows: Windows,
                  min_people: int = 0) -> list[str]:
    """Teams not under a recorded change of their own at any time of the windows (a change of
    theirs starting in them, or started before and still in its ramp or after window), when no
    change for every team starts in them; and with at least min_people people in some month of
    the windows (their other months' weeks are left out: `enough_people`)."""
    if changed_team is None:
        return []  # the change applies to every team
    lo, hi = windows.before[0], windows.after[-1] + timedelta(days=6)
    if any(c.team is None and lo <= c.started_on <= hi for c in data.changes):
        return []
    busy = set()
    for c in data.changes:
        start, end = under_change(c)
        if c.team is not None and start <= hi and end >= lo:
            busy.add(c.team)
    months = windows.months()
    return sorted(t for t in data.people if t != team and t not in busy and t != UNASSIGNED
                  and max((n for m, n in data.people[t].items() if m in months),
                          default=0) >= min_people)


def enough_people(data: Data, min_people: int) -> Data:
    """The data with every team's weeks of months under min_people people left out: a week
    enters an estimate only from a month with enough people, or the estimate would rest on a
    few people (privacy review). That holds for the changed team too: a stray month of one
    person before its data really starts (cron review: July's one person inside a before
    window made a team of 6 "only 1 people") no longer decides the whole change."""
    def kept(team: str, series: Series) -> Series:
        counts = data.people.get(team, {})
        return {w: v for w, v in series.items()
                if counts.get(_month(w), 0) >= min_people}

    return replace(data, weekly={(t, m): kept(t, s) for (t, m), s in data.weekly.items()})


def too_few(min_people: int) -> str:
    """Why a change or criterion is insufficient_data for its size: never the count itself,
    which would be a figure about fewer than min_people people."""
    return f"fewer than {min_people} people in every month of the windows"


@dataclass(frozen=True)
class Result:
    estimate: Interval
    before_weeks: int
    after_weeks: int
    method: str


def evaluate(data: Data, team: str, controls: list[str], windows: Windows, metric: str,
             measure: str) -> Result:
    mine = data.weekly.get((team, metric), {})
    others = [data.weekly.get((c, metric), {}) for c in controls] if measure != "level" else []
    others = [o for o in others if o]
    before = paired(mine, others, windows.before)
    after = paired(mine, others, windows.after)
    method = "level" if measure == "level" else ("did" if others else "before_after")
    if len(after) < MIN_POINTS or (measure != "level" and len(before) < MIN_POINTS):
        return Result(Interval(None, None, None), len(before), len(after), method)
    return Result(estimate(measure, before, after), len(before), len(after), method)


def _criterion_rows(data: Data, name: str, team: str, controls: list[str], windows: Windows,
                    people: int, min_people: int) -> list[tuple]:
    rows = []
    known = {metric for _, metric in data.weekly}
    for c in data.criteria.get(name, []):
        metric, change = metric_name(c.metric)
        measure = measure_of(c.unit, change)
        if metric not in known:
            rows.append((name, team, c.idx, c.text, metric, measure, None, None, None, c.op,
                         c.threshold, c.unit, "none", 0, 0, people, "insufficient_data",
                         f"no weekly series named {metric!r}; known: {', '.join(sorted(known))}"))
            continue
        r = evaluate(data, team, controls, windows, metric, measure)
        note = None
        if people < min_people:
            result, note = "insufficient_data", too_few(min_people)
        elif r.estimate.low is None:
            result = "insufficient_data"
            note = (f"{r.before_weeks} weeks before and {r.after_weeks} after with values; "
                    f"{MIN_POINTS} needed on each side")
        else:
            result = outcome(r.estimate, c.op, c.threshold)
        rows.append((name, team, c.idx, c.text, metric, measure, r.estimate.estimate,
                     r.estimate.low, r.estimate.high, c.op, c.threshold, c.unit, r.method,
                     r.before_weeks, r.after_weeks, people, result, note))
    return rows


def change_evidence(data: Data, name: str, team: str, controls: list[str],
                    windows: Windows) -> verdict_rules.Evidence:
    def run(metric: str, measure: str, scale: float = 1.0) -> Interval:
        got = evaluate(data, team, controls, windows, metric, measure).estimate
        est, low, high = (None if v is None else v * scale
                          for v in (got.estimate, got.low, got.high))
        if scale < 0 and low is not None and high is not None:
            low, high = high, low
        return Interval(est, low, high)

    # every signal a change (after minus before, weekly), compared with change thresholds: the
    # weekly coupling is never held against a monthly level (issue 17 (g))
    return verdict_rules.Evidence(
        overhead_rise_pp=run("overhead_ratio", "change_pp"),
        throughput_change=run("customer_throughput", "change_pct", 0.01),
        lead_time_change=run("customer_lead_time_days", "change_pct", 0.01),
        pickup_change=run("pickup_hours", "change_pct", 0.01),
        prompted_rise_pp=run("organic_share", "change_pp", -1.0),
        coupling_change_pp=run("process_coupling", "change_pp"),
        best_performer_engagement=data.engagement.get((name, team)),
    )


def build(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Fill health_experiment_results, health_change_verdicts and the change rows of
    health_verdict_signals."""
    data = load(con)
    min_people = config.privacy.min_group_size
    results, verdict_rows, signal_rows = [], [], []
    for change in data.changes:
        name, changed_team = change.name, change.team
        windows = Windows.around(change.started_on)
        teams = [changed_team] if changed_team else sorted(
            t for t in data.people if t != UNASSIGNED)
        for team in teams:
            controls = control_teams(data, team, changed_team, windows, min_people)
            people = fewest_people(data.people.get(team, {}), windows, min_people)
            seen = enough_people(data, min_people)
            results += _criterion_rows(seen, name, team, controls, windows, people, min_people)
            ev = change_evidence(seen, name, team, controls, windows)
            sigs = verdict_rules.signals(ev, config.verdict)
            if people < min_people:
                verdict, reason = verdict_rules.INSUFFICIENT, too_few(min_people)
            elif ev.overhead_rise_pp.low is None:
                verdict = verdict_rules.INSUFFICIENT
                reason = f"fewer than {MIN_POINTS} weeks of data before or after the change"
            else:
                verdict, reason = verdict_rules.judge(sigs)
                signal_rows += verdict_rules.signal_rows(sigs, "change", team, change=name)
            verdict_rows.append((name, team, verdict, reason, people, controls,
                                 windows.before[0], windows.before[-1], windows.after[0],
                                 windows.after[-1]))
    insert_rows(con, "health_experiment_results", (
        "change", "team", "idx", "criterion", "metric", "measure", "estimate", "low", "high",
        "op", "threshold", "unit", "method", "before_weeks", "after_weeks", "people_count",
        "outcome", "note"), results)
    insert_rows(con, "health_change_verdicts", (
        "change", "team", "verdict", "reason", "people_count", "control_teams", "before_from",
        "before_to", "after_from", "after_to"), verdict_rows)
    insert_rows(con, "health_verdict_signals", verdict_rules.SIGNAL_COLUMNS, signal_rows)
