"""Team-month verdicts (docs/metrics.md section 9): rules, baselines and a hand-built
organization."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_metric_db import TinyDB

from analysis import params, verdict_figures, verdicts
from analysis import verdict_rules as rules
from analysis.bootstrap import Interval
from processhealth.config import Config

CFG = Config().verdict


def sigs(**kw: object) -> list[rules.Signal]:
    return rules.signals(rules.Evidence(**kw), CFG)  # type: ignore[arg-type]


def test_process_is_product_needs_a_rise_and_a_sure_sign_of_work_about_work() -> None:
    rise = Interval(8.0, 5.5, 10.0)
    assert rules.judge(sigs(overhead_rise_pp=rise))[0] == "neutral"  # a tool by choice
    reminded = Interval(12.0, 4.0, 20.0)
    assert rules.judge(sigs(overhead_rise_pp=rise, prompted_rise_pp=reminded))[0] == \
        "process_is_product"
    small = Interval(2.0, -3.0, 7.0)  # under overhead_rise_pp (3)
    assert rules.judge(sigs(overhead_rise_pp=small, prompted_rise_pp=reminded))[0] == \
        "neutral"
    unsure_reminded = Interval(12.0, -1.0, 25.0)
    assert rules.judge(sigs(overhead_rise_pp=rise, prompted_rise_pp=unsure_reminded))[0] == \
        "neutral"
    drop = Interval(-0.2, -0.35, -0.05)
    verdict, reason = rules.judge(sigs(overhead_rise_pp=rise, throughput_change=drop))
    assert verdict == "process_is_product"
    assert reason == ("overhead rose 8.0 pp above its baseline (5.5 pp to 10.0 pp); customer "
                      "items per person fell 20% (-35% to -5%).")
    unsure_drop = Interval(-0.2, -0.4, 0.1)  # a drop now needs its interval too (issue 17)
    assert rules.judge(sigs(overhead_rise_pp=rise, throughput_change=unsure_drop))[0] == \
        "neutral"
    uncoupled = Interval(-30.0, -45.0, -15.0)
    assert rules.judge(sigs(overhead_rise_pp=rise, coupling_change_pp=uncoupled))[0] == \
        "process_is_product"


def test_amplifier_needs_overhead_under_the_process_bar_and_a_sure_gain_no_coupling_level(
) -> None:
    flat, up = Interval(-0.5, -3.0, 2.0), Interval(0.3, 0.1, 0.5)
    assert rules.judge(sigs(overhead_rise_pp=flat, throughput_change=up))[0] == "amplifier"
    unsure = Interval(0.3, -0.05, 0.6)
    assert rules.judge(sigs(overhead_rise_pp=flat, throughput_change=unsure))[0] == "neutral"
    faster = Interval(-0.3, -0.5, -0.1)
    assert rules.judge(sigs(overhead_rise_pp=flat, lead_time_change=faster))[0] == \
        "amplifier"
    assert rules.judge(sigs(overhead_rise_pp=flat, pickup_change=faster))[0] == "amplifier"
    # more items moved a person bring their own process acts: a rise under the
    # process-as-product bar (overhead_rise_pp, 3.5 points) still allows amplifier
    assert CFG.amplifier_max_rise_pp == CFG.overhead_rise_pp == 3.5
    below = Interval(3.0, 1.0, 5.0)
    assert rules.judge(sigs(overhead_rise_pp=below, throughput_change=up))[0] == "amplifier"
    risen = Interval(3.5, 1.0, 6.0)
    assert rules.judge(sigs(overhead_rise_pp=risen, throughput_change=up))[0] == "neutral"
    assert not any(s.name in ("process_coupling", "paperwork_ratio") for s in sigs())


def test_pooled_gain_adds_items_per_person_and_pickup_in_standard_errors() -> None:
    """Each figure's change over its standard error (compare's spread x sqrt(1/n + 1/k)),
    pickup's sign turned, summed over sqrt(2): two changes of 1.5 standard errors each are
    2.1 together, neither sure alone."""
    base = [verdicts.MonthFigures("t", date(2026, m, 1), 6, 30, throughput=0.0, pickup=0.0)
            for m in range(1, 7)]
    # a flat baseline: the spread is the prior's, worth 3 of the 3 + 5 months: sqrt(3 / 8)
    se_t = rules.PRIOR_SD["throughput"] * (3 / 8) ** 0.5 * (1 / 1 + 1 / 6) ** 0.5
    se_p = rules.PRIOR_SD["pickup"] * (3 / 8) ** 0.5 * (1 / 1 + 1 / 6) ** 0.5
    month = verdicts.MonthFigures("t", date(2026, 7, 1), 6, 31, throughput=1.5 * se_t,
                                  pickup=-1.5 * se_p)
    assert verdict_figures.gain_z(base, [month]) == pytest.approx(3.0 / 2 ** 0.5)
    alone = verdicts.MonthFigures("t", date(2026, 7, 1), 6, 31, throughput=1.5 * se_t)
    assert verdict_figures.gain_z(base, [alone]) == pytest.approx(1.5)  # pickup missing: one figure
    flat = Interval(-0.5, -3.0, 2.0)
    ev = verdicts.evidence(base, [month])
    assert ev.throughput_change.low < 0 and ev.pickup_change.high > 0  # neither sure alone
    cfg = CFG.model_copy(update={"amplifier_gain_z": 2.0})
    assert ev.pooled_gain and ev.gain_z == verdict_figures.gain_z(base, [month])
    pooled = rules.signals(rules.Evidence(overhead_rise_pp=flat, gain_z=ev.gain_z,
                                                pooled_gain=True), cfg)
    verdict, reason = rules.judge(pooled)
    assert verdict == "amplifier"
    assert "2.1 standard errors from no change (needs 2.0)" in reason, reason
    assert rules.judge(rules.signals(rules.Evidence(
        overhead_rise_pp=Interval(3.6, 1.0, 6.2), gain_z=ev.gain_z, pooled_gain=True),
        cfg))[0] == "neutral"
    # team-months: one sure figure alone no longer decides (one test, not three ORed); the
    # process-change verdicts (no pooled gain) still decide on it
    up = Interval(0.3, 0.1, 0.5)
    assert rules.judge(rules.signals(rules.Evidence(
        overhead_rise_pp=flat, throughput_change=up, gain_z=1.0, pooled_gain=True),
        cfg))[0] == "neutral"
    assert rules.judge(rules.signals(rules.Evidence(
        overhead_rise_pp=flat, throughput_change=up), cfg))[0] == "amplifier"


def test_declared_experiments_only_lower_the_bar_for_a_measured_gain() -> None:
    cfg = CFG.model_copy(update={"amplifier_gain_z": 2.5, "declared_experiment_credit": 0.5})
    flat = Interval(-0.5, -3.0, 2.0)

    def verdict(z: float | None, declared: int) -> str:
        return rules.judge(rules.signals(rules.Evidence(
            overhead_rise_pp=flat, gain_z=z, declared=declared, pooled_gain=True), cfg))[0]

    assert verdict(2.2, 0) == "neutral" and verdict(2.2, 3) == "amplifier"
    assert verdict(1.5, 3) == "neutral"  # support, not a gain
    assert verdict(None, 5) == "neutral" and verdict(-1.0, 5) == "neutral"


def test_missing_signals_are_never_met() -> None:
    rows = sigs()
    assert len(rows) == 11 and not any(s.met for s in rows)
    assert rules.judge(rows)[0] == "neutral"


def test_a_month_is_compared_on_the_spread_of_the_teams_own_months() -> None:
    # baseline 10, 12, 14: mean 12, own variance 4; prior sd 2 worth 3 months: spread^2 =
    # (3 * 4 + 2 * 4) / 5 = 4; df 5, t = 2.571; half-width 2.571 * 2 * sqrt(1 + 1/3) = 5.937
    got = rules.compare([10, 12, 14], [20], prior_sd=2.0)
    assert got.estimate == pytest.approx(8.0)
    assert (got.low, got.high) == (pytest.approx(8 - 5.9375, abs=1e-3),
                                   pytest.approx(8 + 5.9375, abs=1e-3))
    # two months pooled: sqrt(1/2 + 1/3) instead of sqrt(1 + 1/3)
    pooled = rules.compare([10, 12, 14], [20, 18], prior_sd=2.0)
    assert pooled.estimate == pytest.approx(7.0)
    assert pooled.high - pooled.estimate == pytest.approx(2.571 * 2 * (5 / 6) ** 0.5, abs=1e-3)
    # one baseline month: the prior alone (df 3, t 3.182)
    one = rules.compare([10], [13], prior_sd=2.0)
    assert one.low == pytest.approx(3 - 3.182 * 2 * 2 ** 0.5, abs=1e-3)
    assert rules.compare([], [13], 2.0).estimate is None


def test_reasons_are_plain_words_with_the_interval() -> None:
    s = rules.Signal("process_is_product", "overhead_rise_pp", 6.3, 1.9, 11.4, 3, ">=", True,
                        True)
    assert rules.say(s) == "overhead rose 6.3 pp above its baseline (1.9 pp to 11.4 pp)"
    t = rules.Signal("process_is_product", "customer_throughput_change", -0.14, -0.25,
                        -0.02, -0.1, "<=", False, True)
    assert rules.say(t) == "customer items per person fell 14% (-25% to -2%)"


def month(m: str, overhead: float, prompted: float | None = 10.0, people: int = 6
          ) -> verdicts.MonthFigures:
    return verdicts.MonthFigures("t", date.fromisoformat(m + "-01"), people, 30,
                                 overhead=overhead, prompted=prompted)


def run(series: list[verdicts.MonthFigures]) -> dict[str, tuple[str, str]]:
    ctx = verdicts.Context([], {}, CFG, 5)
    rows, _ = verdicts.team_verdicts(series, ctx)
    return {r[1].strftime("%Y-%m"): (r[2], r[3]) for r in rows}


CALM = [("2025-01", 10.0), ("2025-02", 11.0), ("2025-03", 9.0), ("2025-04", 10.5),
        ("2025-05", 9.5), ("2025-06", 10.0)]


def test_one_month_spike_is_never_a_verdict_a_lasting_rise_is() -> None:
    # a planning month: overhead and reminded work jump for one month, then back
    spike = [month(m, o) for m, o in CALM] + [month("2025-07", 25.0, 40.0),
                                              month("2025-08", 10.0), month("2025-09", 10.5)]
    got = run(spike)
    assert {v for v, _ in got.values()} == {"neutral"}
    assert got["2025-07"][1].startswith("a first month that would be 'process has become the "
                                        "product'")
    # a lasting rise: judged from its second month, on the two months pooled
    lasting = [month(m, o) for m, o in CALM] + [month(m, 22.0, 35.0) for m in (
        "2025-07", "2025-08", "2025-09", "2025-10")]
    got = run(lasting)
    assert [got[m][0] for m in ("2025-06", "2025-07", "2025-08", "2025-09", "2025-10")] == [
        "neutral", "neutral", "process_is_product", "process_is_product", "process_is_product"]
    # baseline mean 10.0, the two months 22: +12.0 pp
    assert "the last 2 months pooled: overhead rose 12.0 pp above its baseline" in \
        got["2025-08"][1]
    assert got["2025-10"][1].startswith("4 months running since July 2025")


def test_one_weak_month_inside_a_given_verdict_holds_on_the_pooled_window_two_end_it() -> None:
    # baseline overhead mean 10.0, reminded share 10; the tool's months 22 / 25 (reminded work
    # up 15 pp: a sign, under reminded_rise_pp), then a month
    # whose own overhead rose only 2 pp (under the 3.5 bar on its estimate)
    head = [month(m, o) for m, o in CALM] + [month("2025-07", 22.0, 25.0),
                                             month("2025-08", 22.0, 25.0)]
    got = run(head + [month("2025-09", 12.0, 25.0), month("2025-10", 22.0, 25.0)])
    assert [got[m][0] for m in ("2025-07", "2025-08", "2025-09", "2025-10")] == [
        "neutral", "process_is_product", "process_is_product", "process_is_product"]
    # August and September pooled: (22 + 12) / 2 - 10 = +7.0 pp; September alone +2.0 pp
    assert "3 months running since July 2025" in got["2025-09"][1]
    assert "the last 2 months pooled: overhead rose 7.0 pp above its baseline" in \
        got["2025-09"][1]
    assert "this month: overhead rose 2.0 pp above its baseline" in got["2025-09"][1]
    assert got["2025-10"][1].startswith("4 months running since July 2025")
    # two weak months in a row: September holds, October pooled with it is +1.25 pp and ends it
    got = run(head + [month("2025-09", 12.0, 25.0), month("2025-10", 10.5, 25.0)])
    assert [got[m][0] for m in ("2025-08", "2025-09", "2025-10")] == [
        "process_is_product", "process_is_product", "neutral"]
    # unless the reminded work that names people stays up by reminded_rise_pp (20): then an
    # overhead that did not fall is enough, and October holds
    nagged = [month(m, o) for m, o in CALM] + [month(m, o, 35.0) for m, o in (
        ("2025-07", 22.0), ("2025-08", 22.0), ("2025-09", 12.0), ("2025-10", 10.5))]
    got = run(nagged)
    assert got["2025-10"][0] == "process_is_product"
    assert "under the 3.5 pp bar, enough with reminded process work up 20 pp or more" in \
        got["2025-10"][1]
    # process_is_product is tried first: its run holds through a weak month even when that
    # month's own estimates would pass as an amplifier (overhead under the bar, items up)
    flat = [verdicts.MonthFigures("t", f.month, 6, 30, overhead=f.overhead,
                                  prompted=f.prompted, throughput=0.0) for f in head]
    rows, _ = verdicts.team_verdicts(flat + [verdicts.MonthFigures(
        "t", date(2025, 9, 1), 6, 30, overhead=12.0, prompted=25.0, throughput=0.5)],
        verdicts.Context([], {}, CFG, 5))
    assert rows[-1][2] == "process_is_product", rows[-1][3]


def test_a_second_month_under_the_bar_with_its_sign_still_gives_the_verdict_pooled() -> None:
    # July passes on its own estimates; August's overhead rose only 2 pp, but its reminded
    # work is still up 25 pp: the two months pooled, +7.0 pp and +25 pp, both sure
    got = run([month(m, o) for m, o in CALM] + [month("2025-07", 22.0, 35.0),
                                                month("2025-08", 12.0, 35.0)])
    assert got["2025-08"][0] == "process_is_product"
    assert got["2025-08"][1].startswith("2 months running since July 2025"), got["2025-08"][1]
    assert "the last 2 months pooled: overhead rose 7.0 pp above its baseline" in \
        got["2025-08"][1]
    assert "this month: overhead rose 2.0 pp above its baseline" in got["2025-08"][1]
    # without a sign of its own (reminded work back at 10) the month ends the run instead,
    # however high the first month was: a one-month spike is never a verdict
    got = run([month(m, o) for m, o in CALM] + [month("2025-07", 40.0, 60.0),
                                                month("2025-08", 12.0, 10.0)])
    assert got["2025-08"][0] == "neutral"


def test_a_lasting_level_is_restated_as_the_new_normal() -> None:
    cfg = CFG.model_copy(update={"restate_months": 3})
    series = [month(m, o) for m, o in CALM] + [month(f"2025-{m:02d}", 22.0, 35.0)
                                               for m in range(7, 13)]
    rows, _ = verdicts.team_verdicts(series, verdicts.Context([], {}, cfg, 5))
    got = {r[1].strftime("%Y-%m"): (r[2], r[3], r[5]) for r in rows}
    assert [got[f"2025-{m:02d}"][0] for m in range(7, 13)] == [
        "neutral", "process_is_product", "process_is_product", "neutral", "neutral", "neutral"]
    assert got["2025-10"][1].startswith("new normal: the level reached in July 2025 has lasted "
                                        "3 months")
    assert got["2025-12"][2][0] >= date(2025, 7, 1)  # compared with the new level now


def test_baseline_is_before_the_latest_change_else_calm_trailing_months() -> None:
    months = [date(2025, m, 1) for m in (9, 10, 11, 12)] + [date(2026, m, 1) for m in (1, 2, 3)]
    # anchored on a change that started 2026-01-15: the 3 months before January
    assert verdicts.choose_baseline(date(2026, 3, 1), months[:6], set(), date(2026, 1, 15), 3) \
        == ([date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)], True)
    # no change: the trailing months, skipping months that were under a verdict
    elevated = {date(2026, 1, 1), date(2026, 2, 1)}
    assert verdicts.choose_baseline(date(2026, 3, 1), months[:6], elevated, None, 3) \
        == ([date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)], False)
    assert verdicts.choose_baseline(date(2025, 9, 1), [], set(), None, 3) == ([], False)


def weekdays(month: date) -> list[date]:
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    days = [month + timedelta(days=i) for i in range((nxt - month).days)]
    return [d for d in days if d.weekday() < 5]


def org(db: TinyDB, team: str, people: int, process_minutes: dict[str, int]) -> None:
    """Every weekday each person: 60 customer minutes on a commit and, by month, N process
    minutes of field edits on a backlog item that never ships."""
    months = list(process_minutes)
    pids = db.team(team, people, months)
    db.item(f"jira:{team.upper()}-1", created="2025-01-01", assignee=pids[0], category="customer")
    for text, minutes in process_minutes.items():
        for day in weekdays(date.fromisoformat(f"{text}-01")):
            for pid in pids:
                db.event(f"{pid}-c-{day}", f"{day} 10:00", pid, "commit", minutes=60)
                db.event(f"{pid}-p-{day}", f"{day} 11:00", pid, "jira_field_edit",
                         item=f"jira:{team.upper()}-1", minutes=minutes)


def test_verdicts_on_a_hand_built_organization() -> None:
    db = TinyDB()
    rise = {"2025-10": 10, "2025-11": 10, "2025-12": 40, "2026-01": 40}
    org(db, "busy", 5, rise)
    org(db, "calm", 5, {"2025-10": 10, "2025-11": 10, "2025-12": 10, "2026-01": 10})
    org(db, "tiny", 4, rise)
    # busy resolves 20 customer items in October and November, 5 in December and January
    n = 0
    for text, count in (("2025-10", 20), ("2025-11", 20), ("2025-12", 5), ("2026-01", 5)):
        for i in range(count):
            n += 1
            db.item(f"jira:BUSY-{100 + n}", created="2025-09-01",
                    resolved=f"{text}-{i % 20 + 5:02d} 12:00", assignee="busy1",
                    category="customer")
    con = db.views()
    params.write(con, Config())  # as the build does, before the metric views are read
    verdicts.build(con, Config())
    got = {(t, m.strftime("%Y-%m")): (v, r) for t, m, v, r in con.execute(
        "SELECT team, month, verdict, reason FROM health_verdicts").fetchall()}
    assert got[("busy", "2025-10")][0] == "neutral"  # nothing to compare with: no rise shown
    assert got[("busy", "2025-11")][0] == "neutral"
    # December is a first month of a rise: one month is not enough
    assert got[("busy", "2025-12")][0] == "neutral"
    assert got[("busy", "2025-12")][1].startswith("a first month that would be")
    assert got[("busy", "2026-01")][0] == "process_is_product"
    assert got[("calm", "2026-01")][0] == "neutral"
    # November's estimates (items per day up 3%, overhead flat) start an amplifier run compared
    # with October alone; December ends it and is compared with its own baseline, October and
    # November, not with the ended run's
    assert got[("busy", "2025-11")][1].startswith("a first month that would be 'amplifier'")
    assert db.one("SELECT baseline_months FROM health_verdicts WHERE team = 'busy'"
                  " AND month = '2025-12-01'") == [date(2025, 10, 1), date(2025, 11, 1)]
    assert {v for (t, _), (v, _) in got.items() if t == "tiny"} == {"insufficient_data"}
    # January's signals: December and January pooled against October and November
    value, low, high, met = db.one(
        "SELECT value, low, high, met FROM health_signals WHERE team = 'busy'"
        " AND month = '2026-01-01' AND signal = 'overhead_rise_pp'"
        " AND rule = 'process_is_product'")
    assert value == pytest.approx(100 * (40 / 100 - 10 / 70))
    # two equal baseline months: spread^2 = (3 * prior^2 + 1 * 0) / 4, t(4) = 2.776,
    # sqrt(1/2 + 1/2) = 1
    prior = rules.PRIOR_SD["overhead"]
    assert value - low == pytest.approx(2.776 * (3 * prior ** 2 / 4) ** 0.5, abs=1e-3)
    assert met is True
    drop = db.one("SELECT value FROM health_signals WHERE team = 'busy' AND month = '2026-01-01'"
                  " AND signal = 'customer_throughput_change' AND rule = 'process_is_product'")
    import math
    per_day = [math.log(20.5 / (5 * 31)), math.log(20.5 / (5 * 30)),
               math.log(5.5 / (5 * 31)), math.log(5.5 / (5 * 30))]  # data end on January 30
    assert drop == pytest.approx(math.expm1((per_day[2] + per_day[3]) / 2
                                            - (per_day[0] + per_day[1]) / 2))
    assert "customer items per person fell" in got[("busy", "2026-01")][1]
    # (f) the overhead view shows the verdict's baseline: the mean of its baseline months
    base, change = db.one("SELECT baseline_ratio, change_pp FROM metric_overhead"
                          " WHERE team = 'busy' AND month = '2025-12-01'")
    assert base == pytest.approx(10 / 70) and change == pytest.approx(100 * (0.4 - 10 / 70))
    assert db.one("SELECT baseline_ratio FROM metric_overhead WHERE team = 'busy'"
                  " AND month = '2026-01-01'") == pytest.approx(10 / 70)  # the run's baseline
    assert db.one("SELECT count(*) FROM health_signals WHERE team = 'tiny'") == 0
    assert db.one("SELECT count(*) FROM health_verdict_signals WHERE scope = 'team_month'"
                  " AND team = 'busy'") == db.one("SELECT count(*) FROM health_signals"
                                                  " WHERE team = 'busy'") > 0
    assert db.one("SELECT value FROM health_thresholds WHERE name = 'min_group_size'") == 5


def test_the_latest_months_coupling_is_left_out_while_censored() -> None:
    """(a) coupling looks 30 days past its month: until those days are observed it may still
    rise, so the verdict leaves it out and says so."""
    db = TinyDB()
    org(db, "busy", 5, {"2025-10": 10, "2025-11": 10, "2025-12": 10, "2026-01": 10})
    con = db.views()
    months, _, last = verdicts.load(con)
    assert last == date(2026, 1, 30)  # the last weekday with events
    got = {f.month.strftime("%Y-%m"): (f.coupling, f.coupling_censored) for f in months}
    # the field edits never ship: 0% coupled where the 30 days after the month are observed;
    # December's window ends on 2026-01-31, after the data
    assert got == {"2025-10": (0.0, False), "2025-11": (0.0, False), "2025-12": (None, True),
                   "2026-01": (None, True)}
    verdicts.build(con, Config())
    reason = db.one("SELECT reason FROM health_verdicts WHERE month = '2026-01-01'")
    assert reason.endswith("coupling not yet known: the 30 days after the month are not all "
                           "observed.")
    assert db.one("SELECT value FROM health_signals WHERE month = '2026-01-01'"
                  " AND signal = 'process_coupling_change_pp'") is None


def test_change_verdicts_compare_a_change_of_weekly_coupling_with_a_change_threshold() -> None:
    """(g) a change verdict's coupling is the after-minus-before change of the weekly series,
    held against coupling_drop_pp, never a weekly mean against a monthly level."""
    from analysis import experiments

    windows = experiments.Windows.around(date(2026, 3, 2))
    weekly = {("t", "process_coupling"): {**dict.fromkeys(windows.before, 0.8),
                                          **dict.fromkeys(windows.after, 0.55)},
              ("t", "overhead_ratio"): {**dict.fromkeys(windows.before, 0.10),
                                        **dict.fromkeys(windows.after, 0.20)}}
    data = experiments.Data(weekly, {}, [], {}, {})
    ev = experiments.change_evidence(data, "x", "t", [], windows)
    assert ev.coupling_change_pp == Interval(pytest.approx(-25.0), pytest.approx(-25.0),
                                             pytest.approx(-25.0))
    found = {(s.rule, s.name): s for s in rules.signals(ev, CFG)}
    coupling = found[("process_is_product", "process_coupling_change_pp")]
    assert (coupling.threshold, coupling.direction, coupling.met) == (-10, "<=", True)
    assert rules.judge(rules.signals(ev, CFG))[0] == "process_is_product"


def test_a_month_with_too_few_people_is_no_baseline() -> None:
    db = TinyDB()
    org(db, "new", 5, {"2025-11": 10, "2025-12": 10})
    db.person("pm", "new", ["2025-10"])  # alone in October, writing the first tickets
    db.event("pm-oct", "2025-10-20 10:00", "pm", "jira_field_edit", item="jira:NEW-1", minutes=30)
    con = db.views()
    verdicts.build(con, Config())
    got = dict(con.execute("SELECT strftime(month, '%Y-%m'), verdict FROM health_verdicts")
               .fetchall())
    assert got == {"2025-10": "insufficient_data", "2025-11": "neutral", "2025-12": "neutral"}
    reason = db.one("SELECT reason FROM health_verdicts WHERE month = '2025-11-01'")
    assert reason.startswith("no baseline yet: no earlier month with enough people")


def test_retired_level_thresholds_are_ignored_other_unknown_keys_refused() -> None:
    cfg = Config(verdict={"coupling_low": 0.5, "coupling_high": 0.7, "paperwork_ratio": 0.5})
    assert cfg.verdict == Config().verdict
    with pytest.raises(ValueError):
        Config(verdict={"coupling_lowest": 0.5})


def test_reminded_adoption_stands_in_for_the_overhead_bar() -> None:
    """Process work that follows reminders naming its authors, up reminded_rise_pp (20) points
    and sure, stands in for the 3.5 pp overhead bar: the overhead then only must not fall."""
    small, fell = Interval(1.5, -2.0, 5.0), Interval(-1.0, -4.0, 2.0)
    nagged = Interval(45.0, 30.0, 60.0)
    # a process-change verdict's reminded work is the weekly organic share, which counts
    # reminders merely posted to a channel: it never stands in for the bar
    assert rules.judge(sigs(overhead_rise_pp=small, prompted_rise_pp=nagged))[0] == "neutral"

    def named(**kw: object) -> list[rules.Signal]:  # team-months: reminders that name people
        return rules.signals(rules.Evidence(nagged=True, **kw), CFG)  # type: ignore[arg-type]

    verdict, reason = rules.judge(named(overhead_rise_pp=small, prompted_rise_pp=nagged))
    assert verdict == "process_is_product"
    assert reason == ("overhead rose 1.5 pp above its baseline (-2.0 pp to 5.0 pp), under the "
                      "3.5 pp bar, enough with reminded process work up 20 pp or more; the share "
                      "of process work that followed a reminder naming its author rose 45.0 pp "
                      "(30.0 pp to 60.0 pp).")
    assert rules.judge(named(overhead_rise_pp=fell, prompted_rise_pp=nagged))[0] == "neutral"
    flat = Interval(-0.04, -3.0, 3.0)  # prints "did not change": judged as printed, not down
    verdict, reason = rules.judge(named(overhead_rise_pp=flat, prompted_rise_pp=nagged))
    assert verdict == "process_is_product"
    assert reason.startswith("overhead did not change (-3.0 pp to 3.0 pp), under the 3.5 pp bar")
    _, reason = rules.judge(named(overhead_rise_pp=fell, prompted_rise_pp=nagged))
    assert reason == ("neither rule holds: overhead fell 1.0 pp (-4.0 pp to 2.0 pp), so reminded "
                      "process work does not stand in for the 3.5 pp bar; the share of process "
                      "work that followed a reminder naming its author rose 45.0 pp (30.0 pp to "
                      "60.0 pp).")
    under = Interval(15.0, 6.0, 24.0)  # a sure sign, but under the stand-in's 20 points
    assert rules.judge(named(overhead_rise_pp=small, prompted_rise_pp=under))[0] == "neutral"
    unsure = Interval(45.0, -5.0, 95.0)  # on its estimate it starts a run; pooled it must be sure
    assert rules.judge(named(overhead_rise_pp=small, prompted_rise_pp=unsure))[0] == "neutral"
    loose = rules.signals(rules.Evidence(overhead_rise_pp=small, prompted_rise_pp=unsure,
                                         nagged=True), CFG, sure=False)
    assert rules.holds(loose, "process_is_product")
    off = Config.model_validate({"verdict": {"reminded_rise_pp": 101}}).verdict
    assert not rules.holds(rules.signals(rules.Evidence(overhead_rise_pp=small,
                                                        prompted_rise_pp=nagged, nagged=True),
                                         off), "process_is_product")
    assert not rules.holds(rules.signals(rules.Evidence(prompted_rise_pp=nagged, nagged=True),
                                         CFG), "process_is_product")  # no overhead figure


def test_the_verdicts_reminded_work_counts_reminders_that_name_the_person() -> None:
    """A daily /remind posted to a channel reaches everyone who writes there (the organic-share
    metric counts it), but names nobody: the verdict's figure counts only process events within
    24 h after a reminder that asks for an update and names their actor."""
    db = TinyDB()
    jan = [d for d in weekdays(date(2026, 1, 1))]
    for n in range(1, 6):
        db.person(f"t{n}", "t", ["2026-01"], slack_id=f"U{n}")
    db.person("slackbot", None, bot=True)
    db.channel("C1", "team-standup")
    db.item("jira:T-1", created="2025-12-01", assignee="t1")
    for n in range(1, 6):  # everyone writes in the channel: its live members
        db.event(f"hello{n}", "2026-01-01 09:00", f"t{n}", "slack_message", channel="C1",
                 category="enabling")
    for day in jan:
        db.event(f"remind-{day}", f"{day} 09:55", "slackbot", "slack_message", channel="C1",
                 category="process", subkind="reminder")  # names nobody
        for n in range(1, 6):
            db.event(f"edit{n}-{day}", f"{day} 11:00", f"t{n}", "jira_field_edit",
                     item="jira:T-1", minutes=5)
    db.event("nag", "2026-01-12 10:00", "slackbot", "slack_message", channel="C1",
             category="process", subkind="reminder",
             detail={"mentions": ["U2"], "asks_update": True})
    # a listed bot's notification names t3 but asks for nothing (a reminder by its sender only)
    db.event("notice", "2026-01-12 10:00", "slackbot", "slack_message", channel="C1",
             category="process", subkind="reminder",
             detail={"mentions": ["U3"], "asks_update": False})
    con = db.views()
    edits = 5 * len(jan)
    reached = db.one("SELECT process_events, prompted_events FROM metric_organic_share"
                     " WHERE team = 't' AND month = '2026-01-01'")
    assert reached == (edits, edits)  # every edit is within 24 h of the channel's reminder
    months, _, _ = verdict_figures.load(con)
    (f,) = [m for m in months if m.team == "t"]
    # named: t2's edit at 11:00 on the 12th; the next one, 25 h after the nag, is not
    assert f.prompted == pytest.approx(100 * 1 / edits)
