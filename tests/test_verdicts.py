"""Team-month verdicts (docs/metrics.md section 9): rules, baselines and a hand-built
organization."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_metric_db import TinyDB

from analysis import params, verdicts
from analysis.bootstrap import Interval
from processhealth.config import Config

CFG = Config().verdict


def sigs(**kw: object) -> list[verdicts.Signal]:
    return verdicts.signals(verdicts.Evidence(**kw), CFG)  # type: ignore[arg-type]


def test_process_is_product_needs_a_sure_rise_and_one_more_signal() -> None:
    rise = Interval(8.0, 5.5, 10.0)
    assert verdicts.judge(sigs(overhead_rise_pp=rise))[0] == "neutral"
    assert verdicts.judge(sigs(overhead_rise_pp=rise, process_coupling=0.3))[0] == \
        "process_is_product"
    unsure = Interval(8.0, -1.0, 14.0)  # the interval includes 0
    assert verdicts.judge(sigs(overhead_rise_pp=unsure, process_coupling=0.3))[0] == "neutral"
    drop = Interval(-0.2, -0.35, -0.05)
    verdict, reason = verdicts.judge(sigs(overhead_rise_pp=rise, throughput_change=drop))
    assert verdict == "process_is_product"
    assert "customer_throughput_change -0.2 <= -0.1" in reason
    unsure_drop = Interval(-0.2, -0.4, 0.1)  # the rise is sure; the spec asks no more of the drop
    assert verdicts.judge(sigs(overhead_rise_pp=rise, throughput_change=unsure_drop))[0] == \
        "process_is_product"


def test_amplifier_needs_small_rise_high_coupling_and_a_sure_improvement() -> None:
    flat, up = Interval(0.5, -2.0, 3.0), Interval(0.3, 0.1, 0.5)
    assert verdicts.judge(sigs(overhead_rise_pp=flat, process_coupling=0.8,
                               throughput_change=up))[0] == "amplifier"
    assert verdicts.judge(sigs(overhead_rise_pp=flat, process_coupling=0.6,
                               throughput_change=up))[0] == "neutral"
    unsure = Interval(0.3, -0.05, 0.6)
    assert verdicts.judge(sigs(overhead_rise_pp=flat, process_coupling=0.8,
                               throughput_change=unsure))[0] == "neutral"
    faster = Interval(-0.3, -0.5, -0.1)
    assert verdicts.judge(sigs(overhead_rise_pp=flat, process_coupling=0.8,
                               lead_time_change=faster))[0] == "amplifier"


def test_missing_signals_are_never_met() -> None:
    rows = sigs()
    assert len(rows) == 9 and not any(s.met for s in rows)
    assert verdicts.judge(rows)[0] == "neutral"


def test_baseline_is_before_the_latest_change_else_calm_trailing_months() -> None:
    months = [date(2025, m, 1) for m in (9, 10, 11, 12)] + [date(2026, m, 1) for m in (1, 2, 3)]
    # anchored on a change that started 2026-01-15: the 3 months before January
    assert verdicts.choose_baseline(date(2026, 3, 1), months[:6], set(), date(2026, 1, 15), 3) \
        == ([date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)], True)
    # no change: the trailing months, skipping months that were a rise themselves
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
    org(db, "busy", 5, {"2025-10": 10, "2025-11": 10, "2025-12": 10, "2026-01": 40})
    org(db, "calm", 5, {"2025-10": 10, "2025-11": 10, "2025-12": 10, "2026-01": 10})
    org(db, "tiny", 4, {"2025-10": 10, "2025-11": 10, "2025-12": 10, "2026-01": 40})
    con = db.views()
    params.write(con, Config())  # as the build does, before the metric views are read
    verdicts.build(con, Config())
    got = {(t, m.strftime("%Y-%m")): v for t, m, v in con.execute(
        "SELECT team, month, verdict FROM health_verdicts").fetchall()}
    assert got[("busy", "2025-10")] == "neutral"  # nothing to compare with: no rise shown
    assert got[("busy", "2025-12")] == "neutral"
    assert got[("busy", "2026-01")] == "process_is_product"
    assert got[("calm", "2026-01")] == "neutral"
    assert {v for (t, _), v in got.items() if t == "tiny"} == {"insufficient_data"}
    rise = db.one("SELECT value, low, high, met FROM health_signals WHERE team = 'busy'"
                  " AND month = '2026-01-01' AND signal = 'overhead_rise_pp'"
                  " AND rule = 'process_is_product'")
    assert rise[0] == pytest.approx(100 * (40 / 100 - 10 / 70))
    assert rise[1] > 0 and rise[3] is True
    coupling = db.one("SELECT value, threshold, direction, met FROM health_signals"
                      " WHERE team = 'busy' AND month = '2026-01-01'"
                      " AND signal = 'process_coupling' AND rule = 'process_is_product'")
    assert coupling == (0.0, 0.5, "<", True)
    assert db.one("SELECT count(*) FROM health_signals WHERE team = 'tiny'") == 0
    assert db.one("SELECT count(*) FROM health_verdict_signals WHERE scope = 'team_month'"
                  " AND team = 'busy'") == db.one("SELECT count(*) FROM health_signals"
                                                  " WHERE team = 'busy'") > 0
    assert db.one("SELECT value FROM health_thresholds WHERE name = 'min_group_size'") == 5


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
