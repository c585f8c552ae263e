"""Verdicts per team-month (docs/metrics.md section 9): amplifier, neutral, process_is_product or
insufficient_data, with every signal beside its threshold and direction.

The unit of variation is the month. Each team-month's figures are compared with the same figures
of the team's own baseline months, and how far a month may stray by chance is measured on the
team's own month-to-month spread, shrunk towards a prior spread measured on the scenario family
(so two or three months of history never give a spread of zero):

    estimate = mean(x over the window's months) - mean(x over the baseline months)
    spread^2 = (PRIOR_MONTHS * prior_sd^2 + (k - 1) * sd(x_baseline)^2) / (PRIOR_MONTHS + k - 1)
    interval = estimate -/+ t(0.975, PRIOR_MONTHS + k - 1) * spread * sqrt(1/n + 1/k)

for n window months and k baseline months (a prediction interval for the window's mean).
Throughput, lead time and pickup are compared on the log scale and reported as relative changes.
A change is *sure* when its interval excludes 0.

Figures per team-month: overhead ratio (points); customer items resolved per person and observed
day; median customer lead time; geometric-mean pull-request pickup (5 pull requests or more);
the share of process events that followed a reminder (20 process events or more); process
coupling, and the share of all credited minutes that went to process work on items not
delivered within 30 days, both left out while that look-ahead is not all observed; and a
recorded change's best-performer engagement.

Rules, tested first on each month's estimates alone, then on the window's pooled change:
- process_is_product: overhead rose >= overhead_rise_pp points (on its estimate: a month's
  overhead is the noisiest figure, and a tool adopted by choice raises it too) and at least one
  sure sign of work about work: process work on undelivered items up >= uncoupled_rise_pp points,
  reminded process work up >= prompted_rise_pp points, coupling down >= coupling_drop_pp points,
  customer items per person down >= throughput_drop; or best-performer engagement below
  best_performer_engagement;
- amplifier: overhead rose < amplifier_max_rise_pp points, and customer items per person up and
  pull-request pickup down, pooled into one statistic (their z-scores summed over sqrt(2)), at
  least amplifier_gain_z standard errors from no change (a bar lowered by
  declared_experiment_credit when the team closed declared experiments with a result in those
  months); the single changes are shown beside it. An amplifier run pools up to
  amplifier_pool_months months: its gains are small against the monthly spread. (Process-change
  verdicts, analysis/experiments.py, have no pooled statistic: for them customer items per
  person up, or customer lead time or pickup down, by >= improvement, surely.)

Persistence against repeated looks: a month whose estimates pass a rule starts (or continues) a
run, compared with the baseline of its first month. The verdict is given once the last
`persistence_months` months of the run, pooled, pass the rule with their changes sure; it then
holds while each month's estimates still pass. A run that is not sure slides on a month. After
`restate_months` months of process_is_product (`amplifier_restate_months` of amplifier, whose
throughput rises are as often slow drift) the level is restated as the team's new normal, with a
reason, and the months since become its baseline. Otherwise the baseline is the last
`baseline_months` earlier months within a year not under a verdict, each with enough people, or
the months before the team's latest recorded process change.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import duckdb

from analysis import insert_rows
from analysis.bootstrap import Interval
from analysis.teams import UNASSIGNED  # people of no team; not a team, so never judged
from processhealth import ui

PIP, AMPLIFIER, NEUTRAL, INSUFFICIENT = (
    "process_is_product", "amplifier", "neutral", "insufficient_data",
)
# The start of the reason of a neutral month that has no baseline months (health_verdicts keeps
# the verdict neutral, a value readers' queries rely on; baseline_months is empty too).
NO_BASELINE = "no baseline yet"
NO_INTERVAL = Interval(None, None, None)

# Prior month-to-month spread of each figure within a steady team (one standard deviation),
# measured on the steady team-months of scenario family seed 1 (benchmarks/verdict_calibration.py,
# docs/metrics.md section 9): the median over teams of the team's own spread. Log figures are
# natural logs of the ratio. PRIOR_MONTHS: how many months of history the prior is worth.
PRIOR_SD = {"overhead": 2.9, "throughput": 0.28, "lead_time": 0.44, "pickup": 0.40,
            "coupling": 9.3, "uncoupled": 1.7,
            "prompted": 2.0}  # steady teams get no reminders (spread 0): chosen, not measured
PRIOR_MONTHS = 3
LOG_FIGURES = ("throughput", "lead_time", "pickup")
# Student t 97.5% quantiles by degrees of freedom (1..30; beyond, 1.96 is close enough).
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(df: int) -> float:
    return _T975[df - 1] if 1 <= df <= len(_T975) else 1.96


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
    decides: bool = True  # False: shown beside the rule's figures, but not one of its tests


@dataclass(frozen=True)
class Evidence:
    """What a verdict weighs: changes against the baseline, with intervals, and one level."""

    overhead_rise_pp: Interval = NO_INTERVAL
    throughput_change: Interval = NO_INTERVAL  # customer items per person (day), relative
    lead_time_change: Interval = NO_INTERVAL  # median customer lead time, relative
    pickup_change: Interval = NO_INTERVAL  # median pull-request pickup, relative
    prompted_rise_pp: Interval = NO_INTERVAL  # share of process events after a reminder, points
    coupling_change_pp: Interval = NO_INTERVAL  # process coupling, points
    uncoupled_rise_pp: Interval = NO_INTERVAL  # process minutes that preceded no delivery, points
    best_performer_engagement: float | None = None
    # customer items per person up and pull-request pickup down, pooled: standard errors
    gain_z: float | None = None
    declared: int = 0  # declared experiments closed with a result in the window's months
    # team-months: amplifier on gain_z alone (one test, not three ORed); process-change
    # verdicts (weekly windows, no gain_z): on the three changes, each sure
    pooled_gain: bool = False
    notes: tuple[str, ...] = ()  # figures left out, and why


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
            required: bool = False, sure: bool = True, decides: bool = True) -> Signal:
    """A change signal: its value passes the threshold and (when `sure`) its interval excludes 0
    on the same side."""
    met = passes(interval.estimate, direction, threshold)
    if sure:
        away = (interval.low is not None and interval.low > 0) if direction in (">=", ">") else \
            (interval.high is not None and interval.high < 0)
        met = met and away
    return Signal(rule, name, interval.estimate, interval.low, interval.high, threshold,
                  direction, required, met, decides)


def signals(ev: Evidence, cfg: Any, sure: bool = True) -> list[Signal]:
    """Every signal of both rules, thresholds from a VerdictConfig. With sure=False the changes
    are judged on their estimates only (how a verdict already given is held)."""
    return [
        _change(PIP, "overhead_rise_pp", ev.overhead_rise_pp, ">=", cfg.overhead_rise_pp,
                required=True, sure=False),
        _change(PIP, "customer_throughput_change", ev.throughput_change, "<=",
                -cfg.throughput_drop, sure=sure),
        _change(PIP, "prompted_share_rise_pp", ev.prompted_rise_pp, ">=", cfg.prompted_rise_pp,
                sure=sure),
        _change(PIP, "process_coupling_change_pp", ev.coupling_change_pp, "<=",
                -cfg.coupling_drop_pp, sure=sure),
        _change(PIP, "uncoupled_overhead_rise_pp", ev.uncoupled_rise_pp, ">=",
                cfg.uncoupled_rise_pp, sure=sure),
        _level(PIP, "best_performer_engagement", ev.best_performer_engagement, "<",
               cfg.best_performer_engagement),
        _change(AMPLIFIER, "overhead_rise_pp", ev.overhead_rise_pp, "<",
                cfg.amplifier_max_rise_pp, required=True, sure=False),
        _change(AMPLIFIER, "customer_throughput_change", ev.throughput_change, ">=",
                cfg.improvement, sure=sure, decides=not ev.pooled_gain),
        _change(AMPLIFIER, "customer_lead_time_change", ev.lead_time_change, "<=",
                -cfg.improvement, sure=sure, decides=not ev.pooled_gain),
        _change(AMPLIFIER, "pr_pickup_change", ev.pickup_change, "<=", -cfg.improvement,
                sure=sure, decides=not ev.pooled_gain),
        replace(_level(AMPLIFIER, "delivery_gain_z", ev.gain_z, ">=",
                       gain_bar(cfg, ev.declared) if sure else 0.0), decides=ev.pooled_gain),
    ]


def gain_bar(cfg: Any, declared: int) -> float:
    """The pooled delivery gain an amplifier needs, in standard errors: amplifier_gain_z, less
    declared_experiment_credit when the team closed declared experiments with a result in the
    months judged (support for a measured gain, never a gain by itself: teams declare
    experiments that change nothing too)."""
    return cfg.amplifier_gain_z - (cfg.declared_experiment_credit if declared > 0 else 0.0)


def holds(sigs: Sequence[Signal], rule: str) -> bool:
    """All the rule's required signals and at least one of its others are met."""
    mine = [s for s in sigs if s.rule == rule]
    return all(s.met for s in mine if s.required) and any(
        s.met for s in mine if not s.required and s.decides)


def judge(sigs: Sequence[Signal]) -> tuple[str, str]:
    """(verdict, reason) of one comparison (process-change verdicts: no persistence)."""
    for rule in (PIP, AMPLIFIER):
        if holds(sigs, rule):
            return rule, describe(sigs, rule) + "."
    return NEUTRAL, neither(sigs)


def neither(sigs: Sequence[Signal]) -> str:
    """The reason of a month where neither rule holds, saying what was missing."""
    text = "neither rule holds: " + describe(sigs, None)
    rise = next((x for x in sigs if x.rule == PIP and x.required), None)
    if rise is not None and rise.met:
        text += "; no sure sign of work about work came with the rise"
    return text + "."


# --- plain words -------------------------------------------------------------------------------

_POOLED = ("customer_throughput_change", "pr_pickup_change", "delivery_gain_z")
_WORDS = {  # signal -> (what, unit): pp = points, % = relative change, "" = a level
    "overhead_rise_pp": ("overhead", "pp"),
    "customer_throughput_change": ("customer items per person", "%"),
    "customer_lead_time_change": ("customer lead time", "%"),
    "pr_pickup_change": ("pull-request pickup time", "%"),
    "prompted_share_rise_pp": ("the share of process work that followed a reminder", "pp"),
    "process_coupling_change_pp": ("process coupling", "pp"),
    "uncoupled_overhead_rise_pp": ("process work on items not delivered within 30 days", "pp"),
    "best_performer_engagement": ("best-performer engagement", ""),
    "delivery_gain_z": ("customer items per person up and pull-request pickup down, pooled,", "z"),
}


def _num(value: float, unit: str) -> str:
    if unit == "%":
        text = f"{100 * value:.0f}%"
    else:
        text = f"{value:.1f} pp" if unit == "pp" else f"{value:.2f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.% p") else text  # no -0.0


def say(s: Signal) -> str:
    """One signal in plain words, true as written: 'overhead rose 6.3 pp above its baseline
    (1.9 to 11.4)', 'customer items per person fell 14% (-25% to -2%)'."""
    what, unit = _WORDS.get(s.name, (s.name.replace("_", " "), ""))
    if s.value is None:
        return f"{what}: no figure"
    if unit == "":
        return f"{what} {s.value:.2f} (a warning below {s.threshold:g})"
    if unit == "z":  # a month's own estimate is held to its direction only (threshold 0)
        needs = f" (needs {s.threshold:.1f})" if s.threshold > 0 else ""
        return f"{what} {s.value:.1f} standard errors from no change{needs}"
    shown = _num(abs(s.value), unit)
    if shown.lstrip("0.").rstrip("% p") == "":  # rounds to 0
        verb, amount = "did not change", ""
    else:
        verb, amount = ("rose" if s.value > 0 else "fell"), f" {shown}"
    text = f"{what} {verb}{amount}" + (" above its baseline" if s.name == "overhead_rise_pp"
                                       and verb == "rose" else "")
    if s.low is not None and s.high is not None:
        text += f" ({_num(s.low, unit)} to {_num(s.high, unit)})"
    return text


def describe(sigs: Sequence[Signal], rule: str | None) -> str:
    """The rule's required signals and those that were met; for rule None, both rules'
    required signals and any change that is sure."""
    if rule is not None:  # an amplifier's pooled gain also shows the figures pooled
        pooled = any(s.rule == rule and s.name == "delivery_gain_z" and s.decides for s in sigs)
        shown = [s for s in sigs if s.rule == rule and s.value is not None and (
            s.required or (s.met and s.decides) or (pooled and s.name in _POOLED))]
    else:
        seen: set[str] = set()
        shown = []
        for s in sigs:
            if s.name in seen or s.value is None:
                continue
            if s.required or (s.low is not None and (s.low > 0 or (s.high or 0) < 0)):
                seen.add(s.name)
                shown.append(s)
    return "; ".join(say(s) for s in shown) or "no figure to compare"


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


# --- month-level comparison --------------------------------------------------------------------


def compare(baseline: Sequence[float], values: Sequence[float], prior_sd: float) -> Interval:
    """The mean of the window's monthly values against the mean of its baseline months, with
    the prediction interval of the module docstring (sqrt(1/n + 1/k) for n window months and k
    baseline months); no interval without a value on either side."""
    if not values or not baseline:
        return NO_INTERVAL
    k, n = len(baseline), len(values)
    mean = sum(baseline) / k
    own = sum((x - mean) ** 2 for x in baseline) / (k - 1) if k > 1 else 0.0
    df = PRIOR_MONTHS + k - 1
    spread = math.sqrt((PRIOR_MONTHS * prior_sd ** 2 + (k - 1) * own) / df)
    half = t975(df) * spread * math.sqrt(1 / n + 1 / k)
    est = sum(values) / n - mean
    return Interval(est, est - half, est + half)


def zscore(baseline: Sequence[float], values: Sequence[float], prior_sd: float) -> float | None:
    """The window's change in standard errors (compare's estimate over its spread x
    sqrt(1/n + 1/k)); None without a value on either side."""
    iv = compare(baseline, values, prior_sd)
    if iv.estimate is None:
        return None
    half = (iv.high - iv.low) / 2
    df = PRIOR_MONTHS + len(baseline) - 1
    return iv.estimate / (half / t975(df)) if half > 0 else None


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


def relative(iv: Interval) -> Interval:
    """A log-scale interval as relative changes (exp(x) - 1)."""
    if iv.estimate is None:
        return iv
    return Interval(*(None if v is None else math.expm1(v)
                      for v in (iv.estimate, iv.low, iv.high)))


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
    prompted: float | None = None  # percent of process events after a reminder
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
                    pooled_gain=True, notes=notes)


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


# --- loading -----------------------------------------------------------------------------------


def load(con: duckdb.DuckDBPyConnection) -> tuple[list[MonthFigures], date | None, date | None]:
    """Every team-month's figures (teams other than unassigned), and the span of observed days."""
    first, last = con.execute("SELECT min(day), max(day) FROM metric_event_team").fetchone()
    if first is None:
        return [], None, None
    effort = {(t, m): row for t, m, *row in con.execute("""
        SELECT team, month,
               coalesce(sum(minutes) FILTER (WHERE category = 'process'), 0),
               coalesce(sum(minutes) FILTER (
                   WHERE category IN ('customer', 'enabling', 'process')), 0),
               count(*) FILTER (WHERE is_process AND prompted),
               count(*) FILTER (WHERE is_process),
               coalesce(sum(minutes) FILTER (
                   WHERE category = 'process' AND coupled IS NOT TRUE), 0)
        FROM metric_event_facts WHERE team IS NOT NULL GROUP BY team, month
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
        process, total, prompted, process_events, uncoupled = effort.get(
            (team, month), (0, 0, 0, 0, 0))
        if total:
            f.overhead = 100 * process / total
        if process_events >= 20:  # a share of fewer events says little
            f.prompted = 100 * prompted / process_events
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


# --- the team-month verdicts --------------------------------------------------------------------


@dataclass
class Context:
    """What every team's verdicts need: recorded changes, engagement and thresholds."""

    changes: list[ProcessChange]  # by start
    engagement: dict[tuple[str, str], float | None]  # (change, team) -> best-performer engagement
    cfg: Any  # VerdictConfig
    min_people: int


@dataclass
class Run:
    """A rule's months in a row whose estimates pass its thresholds, with the baseline they are
    compared with (fixed when the run began) and whether the verdict was given."""

    rule: str
    base: list[date]
    months: list[date] = field(default_factory=list)
    given: bool = False
    carried: set[str] = field(default_factory=set)  # the signals the verdict was given on
    anchor: str | None = None  # the recorded change whose baseline it is compared with


@dataclass
class TeamState:
    seen: list[date] = field(default_factory=list)  # earlier months with enough people
    elevated: set[date] = field(default_factory=set)  # months under a verdict: never a baseline
    run: Run | None = None
    bases: dict[date, list[date]] = field(default_factory=dict)  # each month's own baseline
    restated: date | None = None  # the first month of a level restated as the new normal


def team_verdicts(months: list[MonthFigures], ctx: Context
                  ) -> tuple[list[tuple], list[tuple]]:
    """(health_verdicts rows, health_verdict_signals rows) of one team, month by month in order."""
    cfg = ctx.cfg
    verdict_rows: list[tuple] = []
    sig_rows: list[tuple] = []
    st = TeamState()
    figures = {f.month: f for f in months}
    for f in months:
        team, month = f.team, f.month
        month_end = month_days(month, month, month + timedelta(days=31))[-1]
        change = next((c for c in reversed(ctx.changes)
                       if c.team in (None, team) and c.started_on <= month_end), None)
        base, is_anchored = choose_baseline(month, st.seen, st.elevated,
                                            change.started_on if change else None,
                                            cfg.baseline_months)
        if st.restated is not None and not is_anchored:
            base = [m for m in base if m >= st.restated] or base
        st.bases[month] = list(base)
        if st.run is not None and not is_anchored:
            base = st.run.base  # a run is compared with the months before it began
        anchored = change.name if change and is_anchored else None
        if f.people < ctx.min_people:
            verdict_rows.append((team, month, INSUFFICIENT, f"only {f.people} people; "
                                 f"privacy.min_group_size is {ctx.min_people}", f.people, base,
                                 anchored))
            st.run = None
            continue
        st.seen.append(month)
        bpe = ctx.engagement.get((change.name, team)) if change else None
        base_figs = [figures[m] for m in base]
        ev = evidence(base_figs, [f], bpe)
        if not base:
            sig_rows += signal_rows(signals(ev, cfg), "team_month", team, month=month)
            verdict_rows.append((team, month, NEUTRAL,
                                 f"{NO_BASELINE}: no earlier month with enough people to compare "
                                 f"with, so no rise or improvement can be shown", f.people, base,
                                 anchored))
            continue
        verdict, reason, shown = _step(st, f, base, base_figs, figures, ev, bpe, cfg,
                                       anchored)
        sig_rows += signal_rows(shown, "team_month", team, month=month)
        if ev.notes:
            reason = reason.rstrip(".") + "; " + "; ".join(ev.notes) + "."
        verdict_rows.append((team, month, verdict, reason, f.people, base, anchored))
    return verdict_rows, sig_rows


def _step(st: TeamState, f: MonthFigures, base: list[date], base_figs: list[MonthFigures],
          figures: dict[date, MonthFigures], ev: Evidence, bpe: float | None, cfg: Any,
          anchor: str | None = None) -> tuple[str, str, list[Signal]]:
    """Advance the team's run by one month: (verdict, reason, the signals shown for it).

    After a recorded process change (`anchored`: the baseline is the months before it) the
    change is one comparison declared in advance, not a scan of every month for an onset: its
    months are pooled from the run's first (up to baseline_months of them) and judged from the
    first, and a level is restated only after restate_months."""
    month = f.month
    loose = signals(ev, cfg, sure=False)
    anchored = anchor is not None
    passing = [rule for rule in (PIP, AMPLIFIER) if holds(loose, rule)]
    if st.run is not None and st.run.anchor != anchor:
        st.run = None  # a run belongs to one baseline: a recorded change starts a new one
    run = st.run
    if run is not None and run.given and run.rule not in passing and _censored_hold(
            loose, run):
        passing.insert(0, run.rule)  # what it was given on is not observed yet: it holds
    if run is not None and run.rule not in passing:
        st.run = run = None
    if run is None and passing:
        st.run = run = Run(passing[0], list(base), anchor=anchor)
    if run is None:
        return NEUTRAL, neither(signals(ev, cfg)), signals(ev, cfg)
    run.months.append(month)
    rule = run.rule
    restate = cfg.restate_months if rule == PIP or anchored else cfg.amplifier_restate_months
    if run.given and len(run.months) > restate:
        st.run = None
        st.restated = run.months[0]
        st.elevated = {m for m in st.elevated if m < run.months[0]}
        return NEUTRAL, (f"new normal: the level reached in {run.months[0]:%B %Y} has lasted "
                         f"{len(run.months) - 1} months, so it is the baseline from now on; "
                         + describe(signals(ev, cfg), None) + "."), signals(ev, cfg)
    need = 1 if anchored else cfg.persistence_months
    if len(run.months) < need:
        return NEUTRAL, (f"a first month that would be {_RULE_WORDS[rule]} on its estimates "
                         f"({describe(loose, rule)}); a verdict needs {need} months running "
                         f"with the pooled change sure."), signals(ev, cfg)
    # an amplifier's run pools up to amplifier_pool_months (its gain is small against the
    # month-to-month spread); a process-as-product run its last persistence_months
    pool = max(need, cfg.amplifier_pool_months if rule == AMPLIFIER else need)
    pooled_months = run.months[-cfg.baseline_months:] if anchored else run.months[-pool:]
    window = [figures[m] for m in pooled_months]
    pooled_ev = evidence(base_figs, window, bpe)
    pooled = signals(pooled_ev, cfg)
    if holds(pooled, rule):
        run.given = True
        run.carried = {x.name for x in pooled if x.rule == rule and x.met and not x.required}
    if not run.given:
        n = len(pooled_months)
        what = (f"{n} months running would be {_RULE_WORDS[rule]} on their estimates, but "
                f"their pooled change is not sure: " if n > 1 else
                f"this month would be {_RULE_WORDS[rule]} on its estimates, but its change is "
                f"not sure: ")
        passed = {x.name for x in loose if x.rule == rule and x.met}
        unsure = [x for x in pooled if x.rule == rule and (x.required or x.name in passed)]
        if not anchored:
            # the run slides on, its oldest month re-based like any other month; after a
            # recorded change the months since it keep being pooled
            run.months = run.months[-(pool - 1):] if pool > 1 else []
            run.base = st.bases.get(run.months[0], run.base) if run.months else list(base)
        return NEUTRAL, what + "; ".join(say(x) for x in unsure) + ".", pooled
    st.elevated.update(run.months)
    since = run.months[0]
    how = (f"{len(run.months)} months running since {since:%B %Y}" if len(run.months) > 1
           else f"since {since:%B %Y}")
    before = "the recorded change" if anchored else "it"
    pooled_words = (f"the last {len(pooled_months)} months pooled" if len(pooled_months) > 1
                    else "this month")
    text = f"{how} against the baseline before {before}; {pooled_words}: " + describe(pooled, rule)
    if len(pooled_months) > 1:
        text += "; this month: " + describe(loose, rule)
    if rule == AMPLIFIER and pooled_ev.declared:
        text += (f"; the team closed {pooled_ev.declared} declared experiment"
                 f"{'s' if pooled_ev.declared > 1 else ''} with a result in these months")
    return rule, text + ".", pooled


def _censored_hold(loose: list[Signal], run: Run) -> bool:
    """A given verdict's required signals still pass, and every signal it was given on has no
    figure this month because its 30-day look-ahead is not observed yet (coupling and work on
    undelivered items, in the latest months)."""
    mine = [x for x in loose if x.rule == run.rule]
    return (all(x.met for x in mine if x.required) and bool(run.carried)
            and run.carried <= _LOOK_AHEAD
            and all(x.value is None for x in mine if x.name in run.carried))


_LOOK_AHEAD = {"process_coupling_change_pp", "uncoupled_overhead_rise_pp"}
_RULE_WORDS = {PIP: "'process has become the product'", AMPLIFIER: "'amplifier'"}


def verdict_rows_of(months: list[MonthFigures], ctx: Context) -> tuple[list[tuple], list[tuple]]:
    by_team: dict[str, list[MonthFigures]] = defaultdict(list)
    for f in months:
        by_team[f.team].append(f)
    verdict_rows: list[tuple] = []
    sig_rows: list[tuple] = []
    for team_months in by_team.values():
        v, s = team_verdicts(team_months, ctx)
        verdict_rows += v
        sig_rows += s
    return verdict_rows, sig_rows


def build(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Fill health_verdicts and the team-month rows of health_verdict_signals."""
    with ui.profiled("load team months", indent="  "):
        months, first, _ = load(con)
    if first is None:
        return
    ctx = Context(process_changes(con), engagement(con), config.verdict,
                  config.privacy.min_group_size)
    verdict_rows, sig_rows = verdict_rows_of(months, ctx)
    insert_rows(con, "health_verdicts", ("team", "month", "verdict", "reason", "people_count",
                                         "baseline_months", "baseline_change"), verdict_rows)
    insert_rows(con, "health_verdict_signals", SIGNAL_COLUMNS, sig_rows)
