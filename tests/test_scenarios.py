"""The planted stories of the simulated organization come out of the whole pipeline.

For each seed: `generate_org(seed)` (the 12-month demo organization), the fast loaders into a raw
store, the two process changes recorded with `processhealth experiment add` as a user would, then
`processhealth build`. One build per seed, cached for the session (about 40 s each: most of it
generating and loading). The default suite runs seed 1; the acceptance run takes all five:

    PROCESSHEALTH_SCENARIO_SEEDS=1,2,3,4,5 .venv/bin/pytest tests/test_scenarios.py
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from shared_cache import shared_org
from test_audit import words

from processhealth import pipeline, state
from processhealth.cli import cli
from processhealth.config import load_config
from processhealth.store import RawStore
from reports import format as fmt

pytestmark = pytest.mark.slow  # builds whole organizations (see tests/conftest.py)

SEEDS = [int(s) for s in os.environ.get("PROCESSHEALTH_SCENARIO_SEEDS", "1").split(",") if s]
TOOL = [
    "pm-tool", "--team", "borealis", "--start", "2026-03-01", "--tool", "PMTool",
    "--scope", "field=Business Value", "--scope", "field=Initiative",
    "--scope", "field=Confidence", "--scope", "field=Progress",
    "--scope", "status=Needs Business Value", "--scope", "status=Ready for Estimation",
    "--scope", "status=Awaiting PM Review", "--scope", "channel=pmtool-*",
    "--scope", "kind=jira_worklog",
    "--criterion", "overhead_ratio <= +3pp", "--criterion", "customer_throughput >= -10%",
]
EXPERIMENTS = [
    "tech-experiments", "--team", "cobalt", "--start", "2026-03-01",
    "--scope", "issue_type=Experiment", "--scope", "field=Hypothesis",
    "--scope", "label=experiment",
    "--criterion", "overhead_ratio <= +3pp", "--criterion", "customer_throughput >= -10%",
]
@dataclass
class Built:
    seed: int
    path: Path
    expected: dict[tuple[str, str], str | None]
    seconds: float  # wall time of generate + load + build
    config_path: Path | None = None

    def rows(self, sql: str, *params: object) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, list(params)).fetchall()
        finally:
            con.close()

    def verdicts(self, team: str) -> dict[str, str]:
        return dict(self.rows("SELECT strftime(month, '%Y-%m'), verdict FROM health_verdicts"
                              " WHERE team = ?", team))


def build(seed: int, folder: Path) -> Built:
    from processhealth.demo_config import demo_config_toml
    from simulation import OrgSpec

    started = time.perf_counter()
    org = shared_org(seed, OrgSpec.demo())
    urls = {s: f"http://127.0.0.1:1/{s}" for s in ("github", "jira", "slack")}
    config_path = folder / "processhealth.toml"
    config_path.write_text(demo_config_toml(org, urls), encoding="utf-8")
    config = load_config(config_path)
    with RawStore(config.storage.raw_path) as store, store.bulk():
        for source in ("github", "jira", "slack"):
            importlib.import_module(f"processhealth.simload.{source}").load(org, store)
    for args in (TOOL, EXPERIMENTS):
        result = CliRunner().invoke(cli, ["--config", str(config_path), "experiment", "add",
                                          *args])
        assert result.exit_code == 0, result.output
    pipeline.build(config)
    expected = {(team, month): verdict for team, month, verdict in org.expected_verdicts}
    return Built(seed, config.storage.analytics_path, expected, time.perf_counter() - started,
                 config_path)


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Built]:
    cache: dict[int, Built] = {}

    def get(seed: int) -> Built:
        if seed not in cache:
            cache[seed] = build(seed, tmp_path_factory.mktemp(f"scenario-{seed}"))
        return cache[seed]

    return get


def months_expecting(built: Built, team: str, verdict: str) -> list[str]:
    return sorted(m for (t, m), v in built.expected.items() if t == team and v == verdict)


@pytest.mark.parametrize("seed", SEEDS)
def test_steady_teams_are_neutral_in_at_least_90_percent_of_months(scenario, seed: int) -> None:
    built = scenario(seed)
    for team in ("atlas", "delta"):
        got = built.verdicts(team)
        months = months_expecting(built, team, "neutral")
        neutral = [m for m in months if got.get(m) == "neutral"]
        assert len(neutral) >= 0.9 * len(months), (team, {m: got.get(m) for m in months})


@pytest.mark.parametrize("seed", SEEDS)
def test_experiments_that_work_is_amplifier_after_its_change(scenario, seed: int) -> None:
    built = scenario(seed)
    got = built.verdicts("cobalt")
    months = months_expecting(built, "cobalt", "amplifier")
    assert months and {m: got.get(m) for m in months} == dict.fromkeys(months, "amplifier")


@pytest.mark.parametrize("seed", SEEDS)
def test_tool_nobody_wanted_is_process_is_product_until_the_champion_leaves(
        scenario, seed: int) -> None:
    built = scenario(seed)
    got = built.verdicts("borealis")
    months = months_expecting(built, "borealis", "process_is_product")
    assert months and {m: got.get(m) for m in months} == dict.fromkeys(
        months, "process_is_product")


@pytest.mark.parametrize("seed", SEEDS)
def test_the_tool_raises_overhead_surely_in_every_month_until_the_champion_leaves(
        scenario, seed: int) -> None:
    built = scenario(seed)
    months = months_expecting(built, "borealis", "process_is_product")
    rows = built.rows(
        "SELECT strftime(month, '%Y-%m'), met FROM health_signals WHERE team = 'borealis'"
        " AND rule = 'process_is_product' AND signal = 'overhead_rise_pp'")
    assert {m: met for m, met in rows if m in months} == dict.fromkeys(months, True)


@pytest.mark.parametrize("seed", SEEDS)
def test_planted_criteria(scenario, seed: int) -> None:
    got = {(c, text): outcome for c, text, outcome in scenario(seed).rows(
        "SELECT change, criterion, outcome FROM health_experiment_results")}
    assert got[("tech-experiments", "overhead_ratio <= +3pp")] == "met"
    assert got[("tech-experiments", "customer_throughput >= -10%")] == "met"
    assert got[("pm-tool", "overhead_ratio <= +3pp")] == "not_met"


@pytest.mark.parametrize("seed", SEEDS)
def test_the_tool_misses_its_throughput_criterion(scenario, seed: int) -> None:
    got = dict(scenario(seed).rows(
        "SELECT criterion, outcome FROM health_experiment_results WHERE change = 'pm-tool'"))
    assert got["customer_throughput >= -10%"] == "not_met"


@pytest.mark.parametrize("seed", SEEDS)
def test_change_verdict_of_the_experiments(scenario, seed: int) -> None:
    got = dict(scenario(seed).rows("SELECT change, verdict FROM health_change_verdicts"))
    assert got["tech-experiments"] == "amplifier"


@pytest.mark.parametrize("seed", SEEDS)
def test_change_verdict_of_the_tool(scenario, seed: int) -> None:
    got = dict(scenario(seed).rows("SELECT change, verdict FROM health_change_verdicts"))
    assert got["pm-tool"] == "process_is_product"


@pytest.mark.parametrize("seed", SEEDS)
def test_no_verdict_rests_on_fewer_than_five_people(scenario, seed: int) -> None:
    built = scenario(seed)
    small = built.rows("SELECT team, month, verdict FROM health_verdicts WHERE people_count < 5")
    assert small and {v for _, _, v in small} == {"insufficient_data"}  # the PMs' first month
    assert built.rows("SELECT count(*) FROM health_signals JOIN health_verdicts"
                      " USING (team, month) WHERE people_count < 5") == [(0,)]


def test_audit_as_of_the_change_start_covers_the_quarter_before_it(scenario,
                                                                   tmp_path: Path) -> None:
    """`audit --as-of` the recorded PM tool's start (seed SEEDS[0]'s build, shared with the
    tests above): the quarter before the change, with the views' figures."""
    config = load_config(scenario(SEEDS[0]).config_path)
    with RawStore(config.storage.raw_path, read_only=True) as store:
        change = next(c for c in state.list_process_changes(store) if c["name"] == "pm-tool")
    team, start = change["team"], change["started_on"]
    out = tmp_path / "audit.html"
    result = CliRunner().invoke(cli, ["--config", str(config.path), "audit", "--tool", "PM tool",
                                      "--team", team, "--out", str(out),
                                      "--as-of", f"{start:%Y-%m-%d}"])
    assert result.exit_code == 0, result.output
    text = words(out.read_text(encoding="utf-8"))

    # the three whole months before the change's month, none of them after its start
    last = (start.replace(day=1) - timedelta(days=1)).replace(day=1)
    months = [_shift(last, -2), _shift(last, -1), last]
    assert (f"Period: {fmt.month_label(months[0])} to {fmt.month_label(months[-1])} "
            f"(the whole months before {fmt.day_label(start)};") in text

    # the figures are the views' values for exactly those months
    con = duckdb.connect(str(config.storage.analytics_path), read_only=True)
    try:
        shares = dict(con.execute(
            "SELECT source, sum(hours) / sum(sum(hours)) OVER () FROM metric_work_sources"
            " WHERE team = ? AND month BETWEEN ? AND ? AND NOT suppressed GROUP BY source",
            [team, months[0], months[-1]]).fetchall())
        process_hours, n_months = con.execute(
            "SELECT sum(hours) FILTER (WHERE category = 'process'), count(DISTINCT month)"
            " FROM metric_effort_allocation WHERE team = ? AND month BETWEEN ? AND ?"
            " AND NOT suppressed", [team, months[0], months[-1]]).fetchone()
        later = con.execute(
            "SELECT sum(hours) FILTER (WHERE category = 'process') / count(DISTINCT month)"
            " FROM metric_effort_allocation WHERE team = ? AND month BETWEEN ? AND ?",
            [team, _shift(months[0], 3), _shift(months[-1], 3)]).fetchone()[0]
    finally:
        con.close()
    assert n_months == 3
    cells = " ".join(fmt.pct(shares.get(s, 0.0)) for s in ("github", "jira", "slack"))
    assert f"{team} {cells}" in text
    assert f"{team} {fmt.hours(process_hours / 3)} per month" in text
    # and not those of the quarter after the change (the tool nobody wanted raised them)
    assert fmt.hours(later) != fmt.hours(process_hours / 3)


def _shift(month: date, by: int) -> date:
    index = month.year * 12 + month.month - 1 + by
    return date(index // 12, index % 12 + 1, 1)
