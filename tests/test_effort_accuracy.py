"""End to end on a small simulated organization: raw rows from the collectors' own row code
(processhealth/simload), `build`, then estimated category shares against the simulation's truth.
The acceptance figures (the scenario family, default config) come from
benchmarks/effort_accuracy.py; this keeps the whole chain honest in the test suite with a small,
quick organization."""

from __future__ import annotations

import importlib
import importlib.util
import tomllib

import duckdb
import pytest

from processhealth import pipeline
from processhealth.config import parse_config
from processhealth.demo_config import demo_config_toml
from processhealth.store import RawStore
from simulation import OrgSpec, generate_org, truth

SOURCES = ("github", "jira", "slack")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(f"processhealth.simload.{s}") is None for s in SOURCES),
        reason="a source's fast loader is not there yet"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    org = generate_org(2, OrgSpec.small(months=2))
    folder = tmp_path_factory.mktemp("sim")
    text = demo_config_toml(org, {s: "http://127.0.0.1:1" for s in SOURCES})
    config = parse_config(tomllib.loads(text), origin="test", base_dir=folder)
    with RawStore(config.storage.raw_path) as store, store.bulk():
        for source in SOURCES:
            importlib.import_module(f"processhealth.simload.{source}").load(org, store)
    pipeline.build(config)
    con = duckdb.connect(str(config.storage.analytics_path), read_only=True)
    yield org, con
    con.close()


def test_shares_are_close_to_the_truth(built):
    org, con = built
    est = con.execute("SELECT team, strftime(month, '%Y-%m') AS month, category, share"
                      " FROM metric_effort_allocation").df()
    true = truth.team_month_shares(org)[["team", "month", "category", "share"]]
    both = true.merge(est, on=["team", "month", "category"], how="outer",
                      suffixes=("_true", "_est")).fillna(0.0)
    errors = 100 * (both["share_est"] - both["share_true"]).abs()
    per_team_month = errors.groupby([both["team"], both["month"]]).max()
    assert errors.mean() < 2.5
    assert (per_team_month <= 5).mean() >= 0.75


def test_every_person_and_account_is_resolved(built):
    org, con = built
    humans = sum(not p.is_bot for p in org.people)
    people = con.execute("SELECT count(*) FROM people WHERE NOT is_bot").fetchone()[0]
    assert people <= humans + 1  # at most GitHub's "ghost" on its own
    assert con.execute("SELECT count(*) FROM identities WHERE person_id IS NULL").fetchone() == (0,)
    teams = {t.name for t in org.teams}
    got = {r[0] for r in con.execute("SELECT DISTINCT team FROM person_months").fetchall()}
    assert got == teams


def test_unclassified_share_is_small_with_the_default_rules(built):
    _, con = built
    share = con.execute("SELECT sum(hours) FILTER (WHERE category = 'unclassified') / sum(hours)"
                        " FROM metric_effort_allocation").fetchone()[0]
    assert share < 0.10


def test_effort_credits_each_event_once_and_the_event_table_carries_it(built):
    """effort has one row per credited event (metric_event_team joins it as such, without
    grouping), and every event of metric_event_team carries exactly its effort minutes and the
    per-event tests of its own event only."""
    _, con = built
    rows, seqs = con.execute("SELECT count(*), count(DISTINCT event_seq) FROM effort").fetchone()
    assert rows == seqs > 1000
    events, team_rows, distinct = con.execute(
        "SELECT (SELECT count(*) FROM events), count(*), count(DISTINCT event_seq)"
        " FROM metric_event_team").fetchone()
    assert events == team_rows == distinct
    mismatched = con.execute("""
        SELECT count(*) FROM metric_event_team AS t LEFT JOIN effort AS f USING (event_seq)
        WHERE t.minutes IS DISTINCT FROM coalesce(f.minutes, 0)
    """).fetchone()[0]
    assert mismatched == 0
    tested = con.execute("SELECT count(*) FILTER (WHERE paperwork IS NOT NULL),"
                         " count(*) FILTER (WHERE coupled IS NOT NULL)"
                         " FROM metric_event_team WHERE NOT is_bot").fetchone()
    assert min(tested) > 0
    assert con.execute("SELECT count(*) FROM metric_event_team WHERE is_bot"
                       " AND (minutes > 0 OR paperwork IS NOT NULL)").fetchone()[0] == 0
