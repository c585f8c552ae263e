"""A tiny hand-built analytics database with known figures, for report tests and template work.

    con = duckdb.connect(path); write_sample(con)

It has the real domain schema (the analytics migrations) and the analysis views' names and
columns as plain tables filled with round numbers, so a test can assert exact figures and an edit
to a template can be looked at without running the whole pipeline. Two teams: `atlas` (6 people,
every figure shown) and `tiny` (3 people, every figure suppressed). Some titles are hostile, the
way real ticket titles can be.
"""

from __future__ import annotations

import json
from datetime import date

import duckdb

from processhealth import migrations

HOSTILE_TITLE = "<script>alert('x')</script> fix login"
HOSTILE_IMG = '<img src=x onerror="alert(1)"> export'
SAMPLE_MONTHS = [date(2025, m, 1) for m in range(11, 13)] + [date(2026, m, 1) for m in range(1, 11)]
SHARES = {"customer": 0.5, "enabling": 0.2, "process": 0.2, "unclassified": 0.1}


def write_sample(con: duckdb.DuckDBPyConnection) -> None:
    migrations.apply(con, "analytics")
    _domain(con)
    _allocation(con)
    _team_month_views(con)
    _verdicts(con)
    _changes(con)


def _domain(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO teams VALUES ('atlas', 6, 'config'), ('tiny', 3, 'config')")
    for i in range(9):
        team = "atlas" if i < 6 else "tiny"
        pid = f"p{i}"
        con.execute("INSERT INTO people VALUES (?, ?, ?, ?, false)",
                    [pid, f"Person {i}", f"p{i}@example.com", team])
        for source, uid in (("github", str(1000 + i)), ("jira", f"acc{i}"), ("slack", f"U{i}")):
            con.execute("INSERT INTO identities VALUES (?, ?, ?, NULL, ?, false, ?, 'email')",
                        [source, uid, f"p{i}", f"Person {i}", pid])
        for month in SAMPLE_MONTHS:
            con.execute("INSERT INTO person_months VALUES (?, ?, ?, true)", [pid, month, team])
    con.execute("INSERT INTO identities VALUES ('slack', 'U999', 'stranger', NULL, 'Stranger',"
                " false, 'slack:U999', 'unmatched')")
    items = [("jira:ATL-1", "jira", "jira_issue", "ATL-1", HOSTILE_TITLE),
             ("jira:ATL-2", "jira", "jira_issue", "ATL-2", HOSTILE_IMG),
             ("github:acme/atlas-app#7", "github", "pr", "acme/atlas-app#7",
              "'; DROP TABLE events; --")]
    for item_id, source, kind, key, title in items:
        con.execute("INSERT INTO work_items (item_id, source, kind, key, title, category,"
                    " created_at) VALUES (?, ?, ?, ?, ?, 'customer', '2026-10-02')",
                    [item_id, source, kind, key, title])
    n = 0
    for month in SAMPLE_MONTHS:
        for source, kind, item in (("jira", "jira_transition", "jira:ATL-1"),
                                   ("github", "commit", "github:acme/atlas-app#7"),
                                   ("slack", "slack_message", None)):
            n += 1
            category = "process" if source == "jira" else "customer"
            con.execute(
                "INSERT INTO events (event_id, source, occurred_at, person_id, item_id, kind,"
                " category) VALUES (?, ?, ?, 'p0', ?, ?, ?)",
                [f"{source}:x:{n}", source, month.replace(day=3), item, kind, category])
            con.execute("INSERT INTO effort VALUES ('p0', ?, 's1', 30)", [f"{source}:x:{n}"])


def _allocation(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE TABLE metric_effort_allocation(team VARCHAR, month DATE, category VARCHAR,
            hours DOUBLE, fte DOUBLE, share DOUBLE, people_count INTEGER, suppressed BOOLEAN)""")
    for team, people in (("atlas", 6), ("tiny", 3)):
        for i, month in enumerate(SAMPLE_MONTHS):
            shift = 0.01 * i if team == "atlas" else 0
            shares = dict(SHARES, customer=SHARES["customer"] - shift,
                          process=SHARES["process"] + shift)
            for category, share in shares.items():
                total = 100.0 * people
                con.execute(
                    "INSERT INTO metric_effort_allocation VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [team, month, category, total * share, people * share, share, people,
                     people < 5])
    con.execute("""
        CREATE TABLE IF NOT EXISTS effort_sensitivity(gap_minutes DOUBLE, team VARCHAR, month DATE,
            category VARCHAR, minutes DOUBLE, people_count INTEGER)""")
    for gap in (30, 45, 60, 120):
        for category, share in SHARES.items():
            con.execute("INSERT INTO effort_sensitivity (gap_minutes, team, month, category,"
                        " minutes, people_count) VALUES (?, 'atlas', ?, ?, ?, 6)",
                        [gap, SAMPLE_MONTHS[-1], category, 60000 * share])


def _team_month_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE TABLE metric_overhead_ratio(team VARCHAR, month DATE,
        overhead_ratio DOUBLE, baseline DOUBLE, change DOUBLE, people_count INTEGER,
        suppressed BOOLEAN)""")
    con.execute("""CREATE TABLE metric_flow_efficiency(team VARCHAR, month DATE,
        median_flow_efficiency DOUBLE, items INTEGER, people_count INTEGER, suppressed BOOLEAN)""")
    con.execute("""CREATE TABLE metric_pr_cycle(team VARCHAR, month DATE, stage VARCHAR,
        median_hours DOUBLE, p75_hours DOUBLE, prs INTEGER, people_count INTEGER,
        suppressed BOOLEAN)""")
    con.execute("""CREATE TABLE metric_paperwork_ratio(team VARCHAR, month DATE,
        paperwork_ratio DOUBLE, people_count INTEGER, suppressed BOOLEAN)""")
    con.execute("""CREATE TABLE metric_process_coupling(team VARCHAR, month DATE,
        coupling DOUBLE, people_count INTEGER, suppressed BOOLEAN)""")
    con.execute("""CREATE TABLE metric_nag_load(team VARCHAR, month DATE,
        reminders_per_done_item DOUBLE, organic_share DOUBLE, people_count INTEGER,
        suppressed BOOLEAN)""")
    con.execute("""CREATE TABLE metric_shadow_tools(team VARCHAR, month DATE, messages INTEGER,
        people_count INTEGER, suppressed BOOLEAN)""")
    con.execute("""CREATE TABLE metric_process_touches(team VARCHAR, month DATE,
        touches_per_item DOUBLE, people_count INTEGER, suppressed BOOLEAN)""")
    for team, people in (("atlas", 6), ("tiny", 3)):
        small = people < 5
        for i, month in enumerate(SAMPLE_MONTHS):
            ratio = 0.2 / 0.9 + 0.01 * i
            con.execute("INSERT INTO metric_overhead_ratio VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [team, month, ratio, ratio - 0.03, 0.03, people, small])
            con.execute("INSERT INTO metric_flow_efficiency VALUES (?, ?, 0.35, 12, ?, ?)",
                        [team, month, people, small])
            for stage, median in (("coding", 6.0), ("pickup", 3.0), ("review", 10.0),
                                  ("deploy", 30.0)):
                con.execute("INSERT INTO metric_pr_cycle VALUES (?, ?, ?, ?, ?, 20, ?, ?)",
                            [team, month, stage, median, median * 2, people, small])
            con.execute("INSERT INTO metric_paperwork_ratio VALUES (?, ?, 0.3, ?, ?)",
                        [team, month, people, small])
            con.execute("INSERT INTO metric_process_coupling VALUES (?, ?, 0.8, ?, ?)",
                        [team, month, people, small])
            con.execute("INSERT INTO metric_nag_load VALUES (?, ?, 0.5, 0.9, ?, ?)",
                        [team, month, people, small])
            con.execute("INSERT INTO metric_shadow_tools VALUES (?, ?, 4, ?, ?)",
                        [team, month, people, small])
            con.execute("INSERT INTO metric_process_touches VALUES (?, ?, 2.5, ?, ?)",
                        [team, month, people, small])


def _verdicts(con: duckdb.DuckDBPyConnection) -> None:
    signals = (  # rule, signal, value, low, high, threshold, direction, required, met
        ("process_is_product", "overhead_rise_pp", 7.0, 5.5, 8.5, 5.0, ">=", True, True),
        ("process_is_product", "customer_throughput_change", -0.15, -0.25, -0.05, -0.10, "<=",
         False, True),
        ("process_is_product", "paperwork_ratio", 0.3, None, None, 0.5, ">=", False, False),
        ("process_is_product", "process_coupling", 0.8, None, None, 0.5, "<", False, False),
        ("amplifier", "overhead_rise_pp", 7.0, 5.5, 8.5, 2.0, "<", True, False),
        ("amplifier", "process_coupling", 0.8, None, None, 0.7, ">=", True, True),
    )
    for team, people, verdict in (("atlas", 6, "process_is_product"), ("tiny", 3, "neutral")):
        for month in SAMPLE_MONTHS:
            con.execute("INSERT INTO health_verdicts (team, month, verdict, reason, people_count)"
                        " VALUES (?, ?, ?, ?, ?)",
                        [team, month, verdict, "Overhead rose 7.0 pp and customer throughput "
                         "fell 15%.", people])
            for row in signals:
                con.execute("INSERT INTO health_signals (team, month, rule, signal, value, low,"
                            " high, threshold, direction, required, met)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [team, month, *row])


def _changes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO process_changes VALUES ('pm-tool', ?, 'atlas', '2026-03-01', ?,"
                " '2026-02-20')", [HOSTILE_IMG, json.dumps({"channel": ["pmtool-*"]})])
    con.execute("INSERT INTO experiment_criteria VALUES ('pm-tool', 1, 'overhead_ratio', '<=',"
                " 3, 'pp', 'overhead_ratio <= +3pp'), ('pm-tool', 2, 'paperwork_ratio', '<=', 5,"
                " 'pp', 'paperwork_ratio <= +5pp')")
    for idx, criterion, estimate, low, high, threshold, outcome in (
        (1, "overhead_ratio <= +3pp", 6.0, 4.0, 8.0, 3.0, "not_met"),
        (2, "paperwork_ratio <= +5pp", 2.0, -1.0, 7.0, 5.0, "inconclusive"),
    ):
        con.execute(
            "INSERT INTO health_experiment_results (change, team, idx, criterion, metric,"
            " measure, estimate, low, high, op, threshold, unit, method, before_weeks,"
            " after_weeks, people_count, outcome) VALUES ('pm-tool', 'atlas', ?, ?, ?,"
            " 'change_pp', ?, ?, ?, '<=', ?, 'pp', 'did', 12, 12, 6, ?)",
            [idx, criterion, criterion.split()[0], estimate, low, high, threshold, outcome])
    con.execute("INSERT INTO health_change_verdicts (change, team, verdict, reason,"
                " people_count) VALUES ('pm-tool', 'atlas', 'process_is_product',"
                " 'Overhead rose 6.0 pp against teams without the change.', 6)")
    con.execute("INSERT INTO health_change_signals (change, team, rule, signal, value, low, high,"
                " threshold, direction, required, met) VALUES ('pm-tool', 'atlas',"
                " 'process_is_product', 'overhead_rise_pp', 6.0, 4.0, 8.0, 5.0, '>=', true,"
                " true), ('pm-tool', 'atlas', 'process_is_product', 'best_performer_engagement',"
                " 0.4, NULL, NULL, 0.5, '<', false, true)")
    con.execute("""CREATE TABLE metric_adoption("change" VARCHAR, team VARCHAR, peak_share DOUBLE,
        half_life_weeks DOUBLE, best_performer_engagement DOUBLE, organic_share DOUBLE,
        people_count INTEGER, suppressed BOOLEAN)""")
    con.execute("INSERT INTO metric_adoption VALUES"
                " ('pm-tool', 'atlas', 0.83, 9, 0.4, 0.35, 6, false)")
    # The real view needs the domain rows behind it; a table with its columns stands in.
    con.execute("DROP VIEW IF EXISTS metric_adoption_weekly")
    con.execute("""CREATE TABLE metric_adoption_weekly("change" VARCHAR, team VARCHAR, week DATE,
        weeks_since_start INTEGER, active_users INTEGER, headcount INTEGER, active_share DOUBLE,
        scope_events INTEGER, prompted_events INTEGER, suppressed BOOLEAN)""")
    for week in range(20):
        active = max(0, 5 - week // 4)
        con.execute("INSERT INTO metric_adoption_weekly VALUES ('pm-tool', 'atlas',"
                    " DATE '2026-03-02' + 7 * ?, ?, ?, 6, ?, ?, 0, false)",
                    [week, week, active, active / 6, active * 3])
