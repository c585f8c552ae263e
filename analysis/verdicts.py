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
the share of process events within 24 h after a reminder that asked their actor by name for an
update (20 process events or more; a reminder only posted to a channel names nobody); process
coupling, and the share of all credited minutes that went to process work on items not
delivered within 30 days, both left out while that look-ahead is not all observed; and a
recorded change's best-performer engagement.

Rules, tested first on each month's estimates alone, then on the window's pooled change:
- process_is_product: overhead rose >= overhead_rise_pp points (on its estimate: a month's
  overhead is the noisiest figure, and a tool adopted by choice raises it too), or did not fall
  while process work following reminders that named its authors rose >= reminded_rise_pp
  points (sure, when pooled: adoption that follows nagging stands in for the bar), and at least one
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
holds while each month's estimates still pass. A month under the bar still continues the run
when the window it is judged on, that month included, passes with its changes sure (before the
verdict is given, only if the month itself still shows a sign of the rule beside the overhead:
the month after a one-month spike never continues it). A run that is not sure slides on a
month. After
`restate_months` months of process_is_product (`amplifier_restate_months` of amplifier, whose
throughput rises are as often slow drift) the level is restated as the team's new normal, with a
reason, and the months since become its baseline. Otherwise the baseline is the last
`baseline_months` earlier months within a year not under a verdict, each with enough people, or
the months before the team's latest recorded process change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from analysis import insert_rows
from analysis.verdict_figures import (
    MonthFigures,
    ProcessChange,
    engagement,
    evidence,
    load,
    month_days,
    process_changes,
)
from analysis.verdict_rules import (
    AMPLIFIER,
    INSUFFICIENT,
    NEUTRAL,
    NO_BASELINE,
    PIP,
    SIGNAL_COLUMNS,
    Evidence,
    Signal,
    describe,
    holds,
    neither,
    say,
    signal_rows,
    signals,
)
from processhealth import ui
from processhealth.analytics_db import raw_state_present


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
        verdict, reason, shown, base = _step(st, f, base, base_figs, figures, ev, bpe, cfg,
                                             anchored)
        sig_rows += signal_rows(shown, "team_month", team, month=month)
        if ev.notes:
            reason = reason.rstrip(".") + "; " + "; ".join(ev.notes) + "."
        verdict_rows.append((team, month, verdict, reason, f.people, base, anchored))
    return verdict_rows, sig_rows


def _step(st: TeamState, f: MonthFigures, base: list[date], base_figs: list[MonthFigures],
          figures: dict[date, MonthFigures], ev: Evidence, bpe: float | None, cfg: Any,
          anchor: str | None = None) -> tuple[str, str, list[Signal], list[date]]:
    """Advance the team's run by one month: (verdict, reason, the signals shown for it, the
    baseline months it was compared with).

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
    if run is not None and run.rule not in passing and (
            (run.given and _censored_hold(loose, run)) or _may_pool(loose, run, passing) and (
                _pooled_hold(run, f, base_figs, figures, bpe, cfg, anchored))):
        passing.insert(0, run.rule)  # not observed yet, or sure over the window: it holds
    if run is not None and run.rule not in passing:
        st.run = run = None
        own = st.bases[month]
        if own != base:  # the run's baseline ends with it: the month is judged on its own
            base, base_figs = own, [figures[m] for m in own]
            ev = evidence(base_figs, [f], bpe)
            loose = signals(ev, cfg, sure=False)
            passing = [rule for rule in (PIP, AMPLIFIER) if holds(loose, rule)]
    if run is None and passing:
        st.run = run = Run(passing[0], list(base), anchor=anchor)
    if run is None:
        return NEUTRAL, neither(signals(ev, cfg)), signals(ev, cfg), base
    run.months.append(month)
    rule = run.rule
    restate = cfg.restate_months if rule == PIP or anchored else cfg.amplifier_restate_months
    if run.given and len(run.months) > restate:
        st.run = None
        st.restated = run.months[0]
        st.elevated = {m for m in st.elevated if m < run.months[0]}
        return NEUTRAL, (f"new normal: the level reached in {run.months[0]:%B %Y} has lasted "
                         f"{len(run.months) - 1} months, so it is the baseline from now on; "
                         + describe(signals(ev, cfg), None) + "."), signals(ev, cfg), base
    need = 1 if anchored else cfg.persistence_months
    if len(run.months) < need:
        return NEUTRAL, (f"a first month that would be {_RULE_WORDS[rule]} on its estimates "
                         f"({describe(loose, rule)}); a verdict needs {need} months running "
                         f"with the pooled change sure."), signals(ev, cfg), base
    pooled_months = _window(run.months, rule, anchored, cfg)
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
            pool = _pool(rule, cfg)
            # the run slides on, its oldest month re-based like any other month; after a
            # recorded change the months since it keep being pooled
            run.months = run.months[-(pool - 1):] if pool > 1 else []
            run.base = st.bases.get(run.months[0], run.base) if run.months else list(base)
        return NEUTRAL, what + "; ".join(say(x) for x in unsure) + ".", pooled, base
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
    return rule, text + ".", pooled, base


def _pool(rule: str, cfg: Any) -> int:
    """How many of a run's last months are judged pooled (no recorded change): an amplifier's
    amplifier_pool_months (its gain is small against the month-to-month spread), a
    process-as-product run's persistence_months."""
    need = cfg.persistence_months
    return max(need, cfg.amplifier_pool_months if rule == AMPLIFIER else need)


def _window(months: list[date], rule: str, anchored: bool, cfg: Any) -> list[date]:
    """The run's months judged pooled; after a recorded change up to baseline_months of them."""
    return months[-cfg.baseline_months:] if anchored else months[-_pool(rule, cfg):]


def _may_pool(loose: list[Signal], run: Run, passing: list[str]) -> bool:
    """Whether a month that fails the run's rule on its own estimates may still continue the
    run on its pooled window: never when it passes process_is_product while the run is an
    amplifier (that rule is tried first); before the verdict is given, only when its own
    estimates still carry a sign of the rule beside the required one (a month after a
    one-month spike, back to normal, never continues it)."""
    if PIP in passing and run.rule != PIP:
        return False
    return run.given or any(x.met for x in loose if x.rule == run.rule and not x.required)


def _pooled_hold(run: Run, f: MonthFigures, base_figs: list[MonthFigures],
                 figures: dict[date, MonthFigures], bpe: float | None, cfg: Any,
                 anchored: bool) -> bool:
    """The run's window, this month included, passes the rule with its changes sure: one weak
    month inside a lasting effect does not end it (nor, with its sign of the rule, keep it from
    being given); a second in a row usually does (the process-as-product window is 2 months)."""
    window = [figures[m] for m in _window(run.months + [f.month], run.rule, anchored, cfg)]
    return holds(signals(evidence(base_figs, window, bpe), cfg), run.rule)


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
    mark_complete_months(con, config.enabled_sources())


def mark_complete_months(con: duckdb.DuckDBPyConnection, sources: list[str]) -> None:
    """health_verdicts.month_complete: the month ended before the latest `collect` of every
    enabled source (raw store sync_runs; its started_at is how far the source is observed).
    NULL (unknown) while an enabled source has no finished `collect`: its first run failed, or
    its data came from an import or the simulation's loaders (cron review: a failed first
    Slack run left every month "complete")."""
    if not raw_state_present(con, "sync_runs"):
        return  # no raw store (a database built by hand)
    con.execute("""
        UPDATE health_verdicts SET month_complete = CASE
            WHEN (SELECT count(DISTINCT source) FROM sync_runs
                  WHERE list_contains($sources, source)) = len($sources)
            THEN (month + INTERVAL 1 MONTH)::TIMESTAMP
                 <= (SELECT timezone('UTC', min(last)) FROM (
                         SELECT max(started_at) AS last FROM sync_runs
                         WHERE list_contains($sources, source) GROUP BY source))
        END
    """, {"sources": sources})
