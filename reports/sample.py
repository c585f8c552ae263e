"""Sample analytics databases for report tests and template work.

    sample_database(path)                             # tiny, hand-built, known figures
    config = simulated_config(seed=7, spec="small")   # built from the simulated organization

It has the real domain schema (processhealth/schema/analytics) and the analysis views' names and
columns as plain tables filled with round numbers, so a test can assert exact figures and an edit
to a template can be looked at without running the whole pipeline. Two teams: `atlas` (6 people,
every figure shown) and `tiny` (3 people, every figure suppressed). Some titles are hostile, the
way real ticket titles can be.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import json
import shutil
import tempfile
import warnings
from datetime import date, timedelta
from pathlib import Path

import duckdb

from processhealth import pipeline
from processhealth.config import Config, load_config
from processhealth.store import RawStore

HOSTILE_TITLE = "<script>alert('x')</script> fix login"
HOSTILE_IMG = '<img src=x onerror="alert(1)"> export'
HOSTILE_FIELD = "<svg onload=alert(2)> Business Value"
WEEK = timedelta(days=7)
SAMPLE_MONTHS = [date(2025, m, 1) for m in range(11, 13)] + [date(2026, m, 1) for m in range(1, 11)]
SHARES = {"customer": 0.5, "enabling": 0.2, "process": 0.2, "unclassified": 0.1}


_SAMPLE_FILE: list[Path] = []


def sample_database(path: Path) -> Path:
    """Write the sample database to `path` (a copy of one built once per process)."""
    if not _SAMPLE_FILE:
        folder = Path(tempfile.mkdtemp(prefix="processhealth-sample-"))
        atexit.register(shutil.rmtree, folder, True)
        con = duckdb.connect(str(folder / "sample.duckdb"))
        write_sample(con)
        con.close()
        _SAMPLE_FILE.append(folder / "sample.duckdb")
    shutil.copyfile(_SAMPLE_FILE[0], path)
    return Path(path)


def write_sample(con: duckdb.DuckDBPyConnection) -> None:
    pipeline.create_empty(con)
    _domain(con)
    _allocation(con)
    _team_month_views(con)
    _audit_views(con)
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
                    " created_at, author_id, url) VALUES (?, ?, ?, ?, ?, 'customer',"
                    " '2026-10-02', 'p0', ?)",
                    [item_id, source, kind, key, title,
                     "javascript:alert(3)" if key == "ATL-2" else f"https://x.example/{key}"])
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


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: str) -> None:
    """A plain table standing in for an analysis view (which needs the domain rows behind it)."""
    con.execute(f"DROP VIEW IF EXISTS {name}")
    con.execute(f"CREATE TABLE {name}({columns})")


def _insert(con: duckdb.DuckDBPyConnection, name: str, **values: object) -> None:
    names = ", ".join(f'"{k}"' for k in values)
    marks = ", ".join("?" for _ in values)
    con.execute(f"INSERT INTO {name} ({names}) VALUES ({marks})", list(values.values()))


TEAM_MONTH = "team VARCHAR, month DATE, people_count BIGINT, suppressed BOOLEAN"


def _allocation(con: duckdb.DuckDBPyConnection) -> None:
    _table(con, "metric_effort_allocation", f"{TEAM_MONTH}, category VARCHAR, hours DOUBLE,"
           " fte DOUBLE, share DOUBLE")
    for team, people in (("atlas", 6), ("tiny", 3)):
        for i, month in enumerate(SAMPLE_MONTHS):
            shift = 0.01 * i if team == "atlas" else 0
            shares = dict(SHARES, customer=SHARES["customer"] - shift,
                          process=SHARES["process"] + shift)
            for category, share in shares.items():
                _insert(con, "metric_effort_allocation", team=team, month=month,
                        category=category, hours=100.0 * people * share, fte=people * share,
                        share=share, people_count=people, suppressed=people < 5)
    _table(con, "metric_effort_sensitivity", f"{TEAM_MONTH}, gap_minutes DOUBLE,"
           " category VARCHAR, hours DOUBLE, share DOUBLE, share_change_pp DOUBLE")
    for gap, shift in ((30, -0.02), (45, 0.0), (60, 0.01), (120, 0.03)):
        for category, share in SHARES.items():
            share += shift if category == "customer" else -shift if category == "process" else 0
            _insert(con, "metric_effort_sensitivity", team="atlas", month=SAMPLE_MONTHS[-1],
                    gap_minutes=gap, category=category, hours=600 * share, share=share,
                    share_change_pp=100 * shift, people_count=6, suppressed=False)
    _table(con, "metric_effort_unclassified", "bucket_kind VARCHAR, bucket VARCHAR,"
           " hours DOUBLE, events BIGINT, share_of_effort DOUBLE, people_count BIGINT,"
           " suppressed BOOLEAN")
    _insert(con, "metric_effort_unclassified", bucket_kind="channel", bucket="random",
            hours=120.0, events=900, share_of_effort=0.04, people_count=9, suppressed=False)


def _team_month_views(con: duckdb.DuckDBPyConnection) -> None:
    _table(con, "metric_overhead", f"{TEAM_MONTH}, overhead_ratio DOUBLE, baseline_ratio DOUBLE,"
           " baseline_months BIGINT, change_pp DOUBLE")
    _table(con, "metric_flow", f"{TEAM_MONTH}, items_resolved BIGINT,"
           " customer_items_resolved BIGINT, median_lead_time_days DOUBLE,"
           " median_flow_time_days DOUBLE, p75_flow_time_days DOUBLE,"
           " median_flow_efficiency DOUBLE")
    _table(con, "metric_customer_delivery", f"{TEAM_MONTH}, customer_items_resolved BIGINT,"
           " customer_prs_merged BIGINT, prs_merged BIGINT, releases BIGINT,"
           " median_customer_lead_time_days DOUBLE, traceable_share DOUBLE")
    stages = ", ".join(f"{q}_{s}_hours DOUBLE" for s in ("coding", "pickup", "review", "deploy",
                                                           "cycle") for q in ("median", "p75"))
    _table(con, "metric_pr_cycle", f"{TEAM_MONTH}, prs_merged BIGINT, {stages},"
           " self_merged_share DOUBLE")
    simple = {  # view -> {column: value}
        "metric_paperwork": {"jira_events": 100, "paperwork_events": 30, "paperwork_ratio": 0.3},
        "metric_coupling": {"items_touched": 10, "items_coupled": 8, "process_coupling": 0.8},
        "metric_nag_load": {"reminders": 5, "items_done": 10, "nag_load": 0.5},
        "metric_organic_share": {"process_events": 50, "organic_share": 0.9},
        "metric_shadow_tools": {"shadow_tool_messages": 4, "people_sharing": 2},
        "metric_process_touches": {"items_shipped": 10, "touches_per_item": 2.5},
        "metric_status_churn": {"items_done": 10, "reopen_rate": 0.1},
        "metric_ping_pong": {"items_moved": 20, "ping_pong_share": 0.05},
    }
    for view, values in simple.items():
        _table(con, view, TEAM_MONTH + "".join(
            f", {c} {'BIGINT' if isinstance(v, int) else 'DOUBLE'}" for c, v in values.items()))
    for team, people in (("atlas", 6), ("tiny", 3)):
        small = people < 5
        for i, month in enumerate(SAMPLE_MONTHS):
            base = {"team": team, "month": month, "people_count": people, "suppressed": small}
            ratio = 0.2 / 0.9 + 0.01 * i
            _insert(con, "metric_overhead", **base, overhead_ratio=ratio,
                    baseline_ratio=ratio - 0.03, baseline_months=3, change_pp=3.0)
            _insert(con, "metric_flow", **base, items_resolved=12, customer_items_resolved=8,
                    median_lead_time_days=9.5, median_flow_time_days=4.0,
                    p75_flow_time_days=7.0, median_flow_efficiency=0.35)
            _insert(con, "metric_customer_delivery", **base, customer_items_resolved=8,
                    customer_prs_merged=15, prs_merged=20, releases=2,
                    median_customer_lead_time_days=8.0, traceable_share=0.75)
            hours = {"coding": 6.0, "pickup": 3.0, "review": 10.0, "deploy": 30.0,
                     "cycle": 19.0}
            _insert(con, "metric_pr_cycle", **base, prs_merged=20, self_merged_share=0.1,
                    **{f"median_{k}_hours": v for k, v in hours.items()},
                    **{f"p75_{k}_hours": 2 * v for k, v in hours.items()})
            for view, values in simple.items():
                _insert(con, view, **base, **values)


def _audit_views(con: duckdb.DuckDBPyConnection) -> None:
    _table(con, "metric_work_sources", f"{TEAM_MONTH}, source VARCHAR, hours DOUBLE,"
           " share DOUBLE")
    _table(con, "metric_weekly", "team VARCHAR, week DATE, people_count BIGINT,"
           " metric VARCHAR, value DOUBLE")
    for team, people in (("atlas", 6), ("tiny", 3)):
        for month in SAMPLE_MONTHS:
            for source, share in (("github", 0.5), ("jira", 0.3), ("slack", 0.2)):
                _insert(con, "metric_work_sources", team=team, month=month, source=source,
                        hours=100.0 * people * share, share=share, people_count=people,
                        suppressed=people < 5)
        for week in range(12):
            _insert(con, "metric_weekly", team=team, week=date(2026, 8, 3) + week * WEEK,
                    people_count=people, metric="overhead_ratio", value=0.25)
    # Field fill: ATL-1 has a value in Story Points, neither has one in the hostile field.
    for item, has_points in (("jira:ATL-1", True), ("jira:ATL-2", False)):
        for field_id, name, value in (("customfield_10016", "Story Points", has_points),
                                      ("customfield_666", HOSTILE_FIELD, False)):
            _insert(con, "item_fields", item_id=item, field_id=field_id, field_name=name,
                    custom=True, has_value=value)


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
                con.execute("INSERT INTO health_verdict_signals (scope, team, month, rule, signal,"
                            " value, low, high, threshold, direction, required, met)"
                            " VALUES ('team_month', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [team, month, *row])


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
    con.execute("INSERT INTO health_verdict_signals (scope, change, team, rule, signal, value,"
                " low, high, threshold, direction, required, met) VALUES ('change', 'pm-tool',"
                " 'atlas', 'process_is_product', 'overhead_rise_pp', 6.0, 4.0, 8.0, 5.0, '>=',"
                " true, true), ('change', 'pm-tool', 'atlas', 'process_is_product',"
                " 'best_performer_engagement', 0.4, NULL, NULL, 0.5, '<', false, true)")
    _table(con, "metric_adoption", '"change" VARCHAR, team VARCHAR, started_on DATE,'
           " weeks_observed BIGINT, peak_share DOUBLE, peak_week DATE, half_life_weeks BIGINT,"
           " latest_share DOUBLE, organic_share DOUBLE, top_quartile_rate DOUBLE,"
           " rest_rate DOUBLE, best_performer_engagement DOUBLE, top_people BIGINT,"
           " people_count BIGINT, suppressed BOOLEAN")
    _insert(con, "metric_adoption", change="pm-tool", team="atlas", started_on=date(2026, 3, 1),
            weeks_observed=20, peak_share=0.83, peak_week=date(2026, 3, 2), half_life_weeks=9,
            latest_share=0.17, organic_share=0.35, top_quartile_rate=0.2, rest_rate=0.5,
            best_performer_engagement=0.4, top_people=2, people_count=6, suppressed=False)
    _table(con, "metric_adoption_weekly", '"change" VARCHAR, team VARCHAR, week DATE,'
           " weeks_since_start INTEGER, active_users INTEGER, headcount INTEGER,"
           " active_share DOUBLE, scope_events INTEGER, prompted_events INTEGER,"
           " suppressed BOOLEAN")
    for week in range(20):
        active = max(0, 5 - week // 4)
        con.execute("INSERT INTO metric_adoption_weekly VALUES ('pm-tool', 'atlas',"
                    " DATE '2026-03-02' + 7 * ?, ?, ?, 6, ?, ?, 0, false)",
                    [week, week, active, active / 6, active * 3])


# --- a database built from the simulated organization, the way a user would get one ----------

# Process changes recorded the way a user would (`processhealth experiment add`), for the two
# scenario teams whose story has one. Names, scopes and criteria only; nothing measured.
SCENARIO_CHANGES = {
    "tool_nobody_wanted": {
        "name": "pm-tool", "tool": "PM tool",
        "scope": {"field": ["Business Value", "Initiative", "Confidence", "Progress"],
                  "status": ["Needs Business Value", "Ready for Estimation",
                             "Awaiting PM Review"],
                  "channel": ["pmtool-*"]},
        "criteria": ["overhead_ratio <= +3pp", "customer_throughput >= -10%"],
    },
    "experiments_that_work": {
        "name": "tech-experiments", "tool": None,
        "scope": {"issue_type": ["Experiment"]},
        "criteria": ["overhead_ratio <= +3pp", "customer_throughput >= -10%"],
    },
}
_BUILT: dict[tuple[int, str], Path] = {}


def simulated_config(seed: int = 7, spec: str = "small") -> Config:
    """Config of an analytics database built from `generate_org(seed, OrgSpec.<spec>())` through
    the fast loaders and `processhealth build`, with the scenario teams' process changes recorded.
    Built once per process and kept in a temporary folder (removed at exit)."""
    key = (seed, spec)
    if key not in _BUILT:
        folder = Path(tempfile.mkdtemp(prefix=f"processhealth-sim-{spec}-{seed}-"))
        atexit.register(shutil.rmtree, folder, True)
        _build_simulated(folder, seed, spec)
        _BUILT[key] = folder / "processhealth.toml"
    return load_config(_BUILT[key])


def _build_simulated(folder: Path, seed: int, spec: str) -> None:
    from processhealth import pipeline, state
    from processhealth.demo_config import demo_config_toml
    from simulation import OrgSpec, generate_org

    org = generate_org(seed, getattr(OrgSpec, spec)())
    urls = {s: f"http://127.0.0.1:1/{s}" for s in ("github", "jira", "slack")}
    (folder / "processhealth.toml").write_text(demo_config_toml(org, urls), encoding="utf-8")
    config = load_config(folder / "processhealth.toml")
    with RawStore(config.storage.raw_path) as store:
        for source in ("github", "jira", "slack"):
            name = f"processhealth.simload.{source}"
            if importlib.util.find_spec(name) is None:  # a loader not written yet
                warnings.warn(f"{name} is missing: the database has no {source} data",
                              stacklevel=2)
                continue
            importlib.import_module(name).load(org, store)
        for team in org.teams:
            change = SCENARIO_CHANGES.get(team.scenario)
            if change is None or team.change_on is None:
                continue
            state.add_process_change(
                store, f"{change['name']}-{team.name}", started_on=team.change_on,
                team=team.name, tool=change["tool"], scope=change["scope"],
                criteria=[state.parse_criterion(c) for c in change["criteria"]])
    pipeline.build(config)
