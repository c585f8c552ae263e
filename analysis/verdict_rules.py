"""The rules of a verdict (docs/metrics.md section 9): the signals each rule tests, thresholds from
[verdict], the month-level comparison that gives each change its interval, and the plain words of
a verdict's reason. analysis/verdicts.py applies them month by month (persistence, baselines,
restating); analysis/experiments.py to recorded process changes.

The comparison: the mean of the window's monthly values against the mean of the baseline
months, a prediction interval whose spread is the team's own month-to-month spread shrunk
towards PRIOR_SD (see analysis/verdicts.py for the formula).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from analysis.bootstrap import Interval

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
PRIOR_SD = {"overhead": 1.6, "throughput": 0.36, "lead_time": 0.44, "pickup": 0.48,
            "coupling": 11.2, "uncoupled": 0.84,
            "prompted": 2.0}  # no steady team is named in reminders (spread 0): chosen
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
    note: str = ""  # words said after the figure (never stored)
    what: str = ""  # the figure's words when they differ from _WORDS (never stored)


@dataclass(frozen=True)
class Evidence:
    """What a verdict weighs: changes against the baseline, with intervals, and one level."""

    overhead_rise_pp: Interval = NO_INTERVAL
    throughput_change: Interval = NO_INTERVAL  # customer items per person (day), relative
    lead_time_change: Interval = NO_INTERVAL  # median customer lead time, relative
    pickup_change: Interval = NO_INTERVAL  # median pull-request pickup, relative
    # share of process events within 24 h after a reminder naming their actor, points
    prompted_rise_pp: Interval = NO_INTERVAL
    coupling_change_pp: Interval = NO_INTERVAL  # process coupling, points
    uncoupled_rise_pp: Interval = NO_INTERVAL  # process minutes that preceded no delivery, points
    best_performer_engagement: float | None = None
    # customer items per person up and pull-request pickup down, pooled: standard errors
    gain_z: float | None = None
    declared: int = 0  # declared experiments closed with a result in the window's months
    # team-months: amplifier on gain_z alone (one test, not three ORed); process-change
    # verdicts (weekly windows, no gain_z): on the three changes, each sure
    pooled_gain: bool = False
    # team-months: prompted_rise_pp counts process events after reminders that asked for an
    # update and named their actor, and may stand in for the overhead bar (reminded_rise_pp);
    # process-change verdicts: the weekly organic share (reminders reaching a channel too)
    nagged: bool = False
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
        _overhead_bar(ev, cfg, sure),
        _change(PIP, "customer_throughput_change", ev.throughput_change, "<=",
                -cfg.throughput_drop, sure=sure),
        replace(_change(PIP, "prompted_share_rise_pp", ev.prompted_rise_pp, ">=",
                        cfg.prompted_rise_pp, sure=sure), what=_NAGGED if ev.nagged else ""),
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
        # on its estimates alone a month needs a gain at all (above 0), then the bar
        replace(_level(AMPLIFIER, "delivery_gain_z", ev.gain_z, ">=" if sure else ">",
                       gain_bar(cfg, ev.declared) if sure else 0.0), decides=ev.pooled_gain),
    ]


def _overhead_bar(ev: Evidence, cfg: Any, sure: bool) -> Signal:
    """process_is_product's required overhead signal: a rise of overhead_rise_pp points on its
    estimate, or, when the share of process work that followed a reminder naming its author
    rose by reminded_rise_pp points (sure, when `sure`), an overhead that did not fall
    (estimate >= 0): adoption that follows nagging is the essay's tell, and a mandated tool's
    overhead often lags its reminders (its fields replace some earlier tracking at first)."""
    reminded = _change(PIP, "prompted_share_rise_pp", ev.prompted_rise_pp, ">=",
                       cfg.reminded_rise_pp, sure=sure)
    if ev.nagged and reminded.met and not passes(ev.overhead_rise_pp.estimate, ">=",
                                                 cfg.overhead_rise_pp):
        low = _change(PIP, "overhead_rise_pp", ev.overhead_rise_pp, ">=", 0.0, required=True,
                      sure=False)
        # judged as said: a rise that prints as "did not change" (under 0.05) is not down
        low = replace(low, met=low.value is not None and round(low.value, 1) >= 0.0)
        return replace(low, note=(
            f"under the {cfg.overhead_rise_pp:g} pp bar, enough with reminded process work up "
            f"{cfg.reminded_rise_pp:g} pp or more" if low.met else
            f"so reminded process work does not stand in for the {cfg.overhead_rise_pp:g} pp "
            f"bar"))
    return _change(PIP, "overhead_rise_pp", ev.overhead_rise_pp, ">=", cfg.overhead_rise_pp,
                   required=True, sure=False)


_NAGGED = "the share of process work that followed a reminder naming its author"


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
    what = s.what or what
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
    return text + (f", {s.note}" if s.note else "")


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


def relative(iv: Interval) -> Interval:
    """A log-scale interval as relative changes (exp(x) - 1)."""
    if iv.estimate is None:
        return iv
    return Interval(*(None if v is None else math.expm1(v)
                      for v in (iv.estimate, iv.low, iv.high)))
