"""Process experiments (docs/metrics.md section 8): windows, estimates, criteria outcomes."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pytest
from test_metric_db import REPO, TinyDB
from test_verdicts import org

from analysis import criteria, experiments
from analysis.bootstrap import Interval
from analysis.verdicts import ProcessChange
from processhealth.config import Config


def test_windows_skip_a_two_week_ramp() -> None:
    w = experiments.Windows.around(date(2026, 3, 1))  # a Sunday
    assert len(w.before) == len(w.after) == 12
    assert w.before[-1] == date(2026, 2, 16)  # the last week that ends before the start
    assert w.before[0] == date(2026, 2, 16) - timedelta(weeks=11)
    assert w.after[0] == date(2026, 3, 16)  # the first Monday at least 14 days after
    monday = experiments.Windows.around(date(2026, 3, 2))
    assert (monday.before[-1], monday.after[0]) == (date(2026, 2, 23), date(2026, 3, 16))


def test_criterion_names_and_measures() -> None:
    assert criteria.metric_name("overhead_ratio_change") == ("overhead_ratio", True)
    assert criteria.metric_name("coupling") == ("process_coupling", False)
    assert criteria.measure_of("pp", False) == "change_pp"
    assert criteria.measure_of("%", True) == "change_pct"
    assert criteria.measure_of("", True) == "change"
    assert criteria.measure_of("", False) == "level"


@pytest.mark.parametrize(("interval", "op", "threshold", "expected"), [
    (Interval(2, 1, 2.5), "<=", 3, "met"),
    (Interval(5, 4, 6), "<=", 3, "not_met"),
    (Interval(3, 2, 4), "<=", 3, "inconclusive"),
    (Interval(3, 3, 4), "<", 3, "not_met"),
    (Interval(-5, -8, -2), ">=", -10, "met"),
    (Interval(-15, -20, -12), ">=", -10, "not_met"),
    (Interval(0.6, 0.4, 0.7), ">", 0.5, "inconclusive"),
    (Interval(None, None, None), "<=", 3, "insufficient_data"),
])
def test_outcome_compares_the_whole_interval(interval: Interval, op: str, threshold: float,
                                             expected: str) -> None:
    assert experiments.outcome(interval, op, threshold) == expected


def test_difference_in_differences_recovers_a_known_effect() -> None:
    rng = np.random.default_rng(3)
    noise = lambda: rng.normal(0, 0.01, 12)  # noqa: E731
    before = np.column_stack([0.10 + noise(), 0.10 + noise()])  # team, controls
    after = np.column_stack([0.30 + noise(), 0.15 + noise()])
    got = experiments.estimate("change_pp", before, after)
    assert got.low < 15 < got.high and got.high - got.low < 3
    plain = experiments.estimate("change_pp", before[:, :1], after[:, :1])
    assert plain.low < 20 < plain.high
    rel = experiments.estimate("change_pct", before, after)
    assert rel.low < 150 < rel.high  # +200% for the team minus +50% for the controls


def experiment_db() -> TinyDB:
    db = TinyDB()
    months = ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
    org(db, "a", 5, {m: (10 if m < "2026-01" else 40) for m in months})
    org(db, "b", 5, dict.fromkeys(months, 10))
    org(db, "c", 5, dict.fromkeys(months, 10))
    db.change("pm-tool", "2026-01-05", "a", {"field": ["Business Value"]})
    db.change("quiet", "2026-01-05", "c", {"label": ["experiment"]})
    db.change("late", "2026-04-13", "b", {})
    for name, idx, metric, op, threshold, unit in [
        ("pm-tool", 1, "overhead_ratio", "<=", 3, "pp"),
        ("pm-tool", 2, "overhead_ratio_change", "<=", 0.5, ""),
        ("pm-tool", 3, "customer_throughput", ">=", -10, "%"),
        ("pm-tool", 4, "happiness", ">=", 1, ""),
        ("quiet", 1, "overhead_ratio", "<=", 3, "pp"),
        ("late", 1, "overhead_ratio", "<=", 3, "pp"),
    ]:
        db.con.execute("INSERT INTO experiment_criteria VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [name, idx, metric, op, threshold, unit, f"{metric} {op} {threshold}{unit}"])
    return db


def test_criteria_outcomes_on_a_hand_built_organization() -> None:
    db = experiment_db()
    con = db.views()
    experiments.build(con, Config())
    rows = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT change, idx, method, estimate, outcome, note, before_weeks, after_weeks"
        " FROM health_experiment_results").fetchall()}
    method, est, result, _, before, after = rows[("pm-tool", 1)]
    # team a went from 10/70 to 40/100 process minutes a day, control b stayed. The last before
    # week (Dec 29 - Jan 4) already has 2 days of January: (150 + 400) / (1050 + 1000).
    assert (method, result, before, after) == ("did", "not_met", 12, 12)
    before_mean = (11 / 7 + 550 / 2050) / 12
    assert est == pytest.approx(100 * (0.4 - before_mean))
    assert rows[("pm-tool", 2)][2] == "met"  # the same change in ratio units, <= 0.5
    assert rows[("pm-tool", 3)][2] == "insufficient_data"  # no customer items: 0 -> 0
    assert rows[("pm-tool", 4)][2] == "insufficient_data"
    assert "no weekly series named 'happiness'" in rows[("pm-tool", 4)][3]
    quiet = rows[("quiet", 1)]
    assert quiet[0] == "did" and quiet[2] == "met"  # against b only: a changed too
    late = rows[("late", 1)]
    assert late[2] == "insufficient_data" and late[5] < experiments.MIN_POINTS
    verdicts = dict(con.execute("SELECT change, verdict FROM health_change_verdicts").fetchall())
    # overhead rose, but nothing shows work about work: coupling was 0 before and after (a
    # level only says how well the team links its work, issue 17), no reminders, no items
    assert verdicts["pm-tool"] == "neutral"
    assert verdicts["late"] == "insufficient_data"
    controls = dict(con.execute("SELECT change, control_teams FROM health_change_verdicts")
                    .fetchall())
    # late (b, 2026-04-13): a and c are under their own changes of 2026-01-05 until 2026-04-12,
    # in late's before window (2026-01-19 .. 2026-04-12): no controls (issue 17 h)
    assert controls == {"pm-tool": ["b"], "quiet": ["b"], "late": []}
    signals = con.execute("SELECT change, team, rule, signal, met FROM health_verdict_signals"
                          " WHERE scope = 'change' ORDER BY ALL").fetchall()
    assert ("pm-tool", "a", "process_is_product", "overhead_rise_pp", True) in signals
    assert not any(change == "late" for change, *_ in signals)  # insufficient: no signals
    assert signals == con.execute("SELECT change, team, rule, signal, met"  # the old name
                                  " FROM health_change_signals ORDER BY ALL").fetchall()


def test_known_metrics_and_scope_keys_match_the_sql() -> None:
    weekly = (REPO / "analysis" / "sql" / "metric_weekly.sql").read_text()
    listed = re.search(r"UNPIVOT wide\s+ON (.*?)INTO NAME", weekly, re.S).group(1)
    assert sorted(m.strip() for m in listed.split(",")) == sorted(criteria.WEEKLY_METRICS)
    text = (REPO / "analysis" / "sql" / "blocks" / "scope.sql").read_text()
    assert all(f"'{key}'" in text for key in criteria.SCOPE_KEYS)


def test_experiment_add_refuses_unknown_scope_keys_and_metrics(write_config, run_cli) -> None:
    path = write_config("")
    bad_key = run_cli(path, "experiment", "add", "x", "--start", "2026-03-01",
                      "--scope", "feild=Business Value")
    assert bad_key.exit_code == 1 and "'feild'" in bad_key.output
    bad_metric = run_cli(path, "experiment", "add", "x", "--start", "2026-03-01",
                         "--criterion", "happiness >= 1")
    assert bad_metric.exit_code == 1 and "'happiness'" in bad_metric.output
    good = run_cli(path, "experiment", "add", "x", "--start", "2026-03-01",
                   "--scope", "field=Business Value", "--criterion", "coupling_change >= 0",
                   "--criterion", "overhead_ratio <= +3pp")
    assert good.exit_code == 0, good.output


def test_a_window_touching_a_month_without_data_counts_the_months_with_data() -> None:
    # Issue 17 (b). Data from November 2025; the change starts 2026-01-05, so the before window
    # (12 weeks: Mon 2025-10-13 .. Sun 2026-01-04) touches October, where the team has no row.
    # The weeks with values (Nov 3 .. Dec 29: 9 weeks; Nov 1-2 is a weekend) and every month
    # with data have 5 people, so the change is judged on 5 people, not "only 0 people".
    db = TinyDB()
    months = ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
    org(db, "a", 5, {m: (10 if m < "2026-01" else 40) for m in months})
    org(db, "b", 5, dict.fromkeys(months, 10))
    db.change("pm-tool", "2026-01-05", "a", {})
    db.con.execute("INSERT INTO experiment_criteria VALUES ('pm-tool', 1, 'overhead_ratio',"
                   " '<=', 3, 'pp', 'overhead_ratio <= +3pp')")
    con = db.views()
    experiments.build(con, Config())
    people, outcome, note, before = con.execute(
        "SELECT people_count, outcome, note, before_weeks FROM health_experiment_results"
    ).fetchone()
    assert (people, before) == (5, 9)
    assert outcome == "not_met" and note is None  # 10/70 -> 40/100: +25.7 pp, far above +3
    verdict = con.execute("SELECT people_count, reason FROM health_change_verdicts").fetchone()
    assert verdict[0] == 5 and "only 0 people" not in verdict[1]


def test_control_teams_leave_out_teams_still_under_their_own_change() -> None:
    # Issue 17 (h). Change "x" of team a starts Mon 2026-04-13: windows Mon 2026-01-19 .. Sun
    # 2026-07-19 (before 2026-01-19 .. 2026-04-12, after 2026-04-27 .. 2026-07-19).
    # b's change of Mon 2026-01-05 started before them, but b is under it until the end of its
    # after window (2026-01-19 + 11 weeks = Mon 2026-04-06, to Sun 2026-04-12): not a control.
    # c's change of Mon 2025-06-02 was over on Sun 2025-09-07 (after window from Mon 2025-06-16,
    # the first Monday 14 days on, + 11 weeks + 6 days): a control. d has no change: a control.
    w = experiments.Windows.around(date(2026, 4, 13))
    assert (w.before[0], w.after[-1]) == (date(2026, 1, 19), date(2026, 7, 13))
    assert experiments.under_change(ProcessChange("y", "b", date(2026, 1, 5))) == \
        (date(2026, 1, 5), date(2026, 4, 12))
    assert experiments.under_change(ProcessChange("z", "c", date(2025, 6, 2)))[1] == \
        date(2025, 9, 7)
    changes = [ProcessChange("x", "a", date(2026, 4, 13)),
               ProcessChange("y", "b", date(2026, 1, 5)),
               ProcessChange("z", "c", date(2025, 6, 2))]
    data = experiments.Data({}, dict.fromkeys("abcd", {}), changes, {}, {})
    assert experiments.control_teams(data, "a", "a", w) == ["c", "d"]
    # b's change on Mon 2025-10-13 instead: after window Mon 2025-10-27 .. Sun 2026-01-18, over
    # the day before x's windows open, so b is a control again
    data.changes[1] = ProcessChange("y", "b", date(2025, 10, 13))
    assert experiments.under_change(data.changes[1])[1] == date(2026, 1, 18)
    assert experiments.control_teams(data, "a", "a", w) == ["b", "c", "d"]
    # a team with fewer than min_group_size people in every month of the windows is no
    # control, and of the others only the weeks of months with enough people count: the
    # estimate would otherwise rest on a few people (privacy review)
    data.people.update(c={date(2026, 3, 1): 6, date(2026, 5, 1): 6},
                       d={date(2026, 3, 1): 6, date(2026, 5, 1): 3},
                       b={date(2026, 2, 1): 4, date(2026, 6, 1): 3})
    assert experiments.control_teams(data, "a", "a", w, min_people=5) == ["c", "d"]
    data.weekly.update({("d", "overhead_ratio"): {date(2026, 3, 2): 0.1, date(2026, 5, 4): 0.2},
                        ("a", "overhead_ratio"): {date(2026, 5, 4): 0.3}})
    data.people["a"] = {date(2026, 5, 1): 2}
    seen = experiments.enough_people(data, 5)
    assert seen.weekly[("d", "overhead_ratio")] == {date(2026, 3, 2): 0.1}
    assert seen.weekly[("a", "overhead_ratio")] == {}  # its own small month too


def test_a_stray_month_of_one_person_does_not_make_a_team_of_six_too_small() -> None:
    # Cron review: one person's event in the month before the data really starts (inside the
    # 12-week before window) made the whole change "only 1 people", printing a count under 5.
    # The team's own weeks of months under min_group_size are left out, as its controls' are,
    # and the change is judged on the months with enough people.
    db = TinyDB()
    months = ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]
    org(db, "a", 6, {m: (10 if m < "2026-01" else 40) for m in months})
    org(db, "b", 6, dict.fromkeys(months, 10))
    db.con.execute("INSERT INTO person_months VALUES ('a1', '2025-10-01', 'a', true)")
    db.event("a1-stray", "2025-10-20 10:00", "a1", "commit", minutes=60)
    db.change("pm-tool", "2026-01-05", "a", {})
    db.con.execute("INSERT INTO experiment_criteria VALUES ('pm-tool', 1, 'overhead_ratio',"
                   " '<=', 3, 'pp', 'overhead_ratio <= +3pp')")
    con = db.views()
    assert con.execute("SELECT people_count FROM metric_team_months WHERE team = 'a'"
                       " AND month = '2025-10-01'").fetchone() == (1,)
    experiments.build(con, Config())
    people, outcome, before = con.execute(
        "SELECT people_count, outcome, before_weeks FROM health_experiment_results").fetchone()
    assert (people, outcome) == (6, "not_met") and before == 9  # the October week left out
    verdict = con.execute("SELECT verdict, people_count FROM health_change_verdicts").fetchone()
    assert verdict[0] != "insufficient_data" and verdict[1] == 6
    # a team too small in every month: insufficient, and no count under 5 is printed
    db2 = TinyDB()
    org(db2, "a", 3, dict.fromkeys(months, 10))
    org(db2, "b", 6, dict.fromkeys(months, 10))
    db2.change("pm-tool", "2026-01-05", "a", {})
    con2 = db2.views()
    experiments.build(con2, Config())
    verdict, reason = con2.execute(
        "SELECT verdict, reason FROM health_change_verdicts").fetchone()
    assert verdict == "insufficient_data" and "fewer than 5 people" in reason
    assert "3" not in reason
