"""Process experiments (docs/metrics.md section 8): windows, estimates, criteria outcomes."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from test_metric_db import REPO, TinyDB
from test_verdicts import org

from analysis import experiments
from analysis.bootstrap import Interval
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
    assert experiments.metric_name("overhead_ratio_change") == ("overhead_ratio", True)
    assert experiments.metric_name("coupling") == ("process_coupling", False)
    assert experiments.measure_of("pp", False) == "change_pp"
    assert experiments.measure_of("%", True) == "change_pct"
    assert experiments.measure_of("", True) == "change"
    assert experiments.measure_of("", False) == "level"


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
    assert controls == {"pm-tool": ["b"], "quiet": ["b"], "late": ["a", "c"]}
    signals = con.execute("SELECT change, team, rule, signal, met FROM health_verdict_signals"
                          " WHERE scope = 'change' ORDER BY ALL").fetchall()
    assert ("pm-tool", "a", "process_is_product", "overhead_rise_pp", True) in signals
    assert not any(change == "late" for change, *_ in signals)  # insufficient: no signals
    assert signals == con.execute("SELECT change, team, rule, signal, met"  # the old name
                                  " FROM health_change_signals ORDER BY ALL").fetchall()


def test_known_metrics_and_scope_keys_match_the_sql() -> None:
    weekly = (REPO / "analysis" / "sql" / "metric_weekly.sql").read_text()
    listed = weekly.split("UNPIVOT wide\nON ")[1].split("INTO NAME")[0]
    assert sorted(m.strip() for m in listed.split(",")) == sorted(experiments.WEEKLY_METRICS)
    text = (REPO / "analysis" / "sql" / "blocks" / "scope.sql").read_text()
    assert all(f"'{key}'" in text for key in experiments.SCOPE_KEYS)


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
