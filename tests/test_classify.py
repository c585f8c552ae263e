"""Classification (docs/metrics.md section 1): ordered rules, inheritance, event-level rules,
explain."""

from __future__ import annotations

import importlib.util
import tomllib

import duckdb
import pytest
from shared_cache import shared_org
from test_effort_fixtures import (
    at,
    channel,
    domain_db,
    event,
    identity,
    item,
    make_config,
    rows,
    run_analysis,
)

from analysis.classify import NO_RULE
from processhealth import pipeline
from processhealth.cli_analysis import suggest
from processhealth.config import parse_config
from processhealth.demo_config import demo_config_toml
from processhealth.incremental import NORMALIZED
from processhealth.store import RawStore
from simulation import OrgSpec

TEAM = {"name": "atlas", "jira_projects": ["ATL"], "repos": ["atlas-*"], "channels": ["*-atlas"]}


@pytest.fixture
def con():
    con = domain_db()
    identity(con, "jira", "a1", None, "ana@acme.example", "Ana Lima")
    identity(con, "github", "7", "alima", "ana@acme.example")
    identity(con, "slack", "U1", "ana", "ana@acme.example", "Ana Lima")
    identity(con, "slack", "USLACKBOT", "slackbot", None, "Slackbot", is_bot=True)
    return con


def categories(con, table, key):
    return {r[0]: (r[1], r[2]) for r in rows(con, f"SELECT {key}, category, category_rule "
                                                  f"FROM {table}")}


def test_item_rules_first_match_wins(con, tmp_path):
    item(con, "jira:ATL-1", "jira", "ATL-1", "ATL", type="Story")
    item(con, "jira:ATL-2", "jira", "ATL-2", "ATL", type="Story", labels=("Tech-Debt",))
    item(con, "jira:ATL-3", "jira", "ATL-3", "ATL", type="Initiative", labels=("customer",))
    item(con, "jira:ATL-4", "jira", "ATL-4", "ATL", type="Sub-task", parent="ATL-2")
    item(con, "jira:ATL-5", "jira", "ATL-5", "ATL", type="Whatever")
    run_analysis(con, make_config(tmp_path, teams=[TEAM]))
    got = categories(con, "work_items", "key")
    assert got["ATL-1"] == ("customer", "customer-issue-types")
    assert got["ATL-2"] == ("enabling", "enabling-labels")  # labels come before issue types
    assert got["ATL-3"] == ("process", "process-issue-types")
    assert got["ATL-4"] == ("enabling", "enabling-labels via parent ATL-2")
    assert got["ATL-5"] == ("unclassified", NO_RULE)


def test_pull_requests_inherit_jira_key_then_labels_then_repo(con, tmp_path):
    item(con, "jira:ATL-1", "jira", "ATL-1", "ATL", type="Task")
    item(con, "jira:ATL-9", "jira", "ATL-9", "ATL", type="Mystery")  # unclassified: skipped
    pr = "github:acme/atlas-app#{}"
    item(con, pr.format(1), "github", "acme/atlas-app#1", "acme/atlas-app", kind="pr",
         labels=("customer",), linked=("ATL-9", "ATL-1"))
    item(con, pr.format(2), "github", "acme/atlas-app#2", "acme/atlas-app", kind="pr",
         labels=("tech-debt",))
    item(con, pr.format(3), "github", "acme/atlas-app#3", "acme/atlas-app", kind="pr")
    item(con, "github:acme/tools#4", "github", "acme/tools#4", "acme/tools", kind="pr")
    run_analysis(con, make_config(tmp_path, teams=[TEAM]))
    got = categories(con, "work_items", "key")
    assert got["acme/atlas-app#1"] == ("enabling", "enabling-issue-types via ATL-1")
    assert got["acme/atlas-app#2"] == ("enabling", "enabling-labels")
    assert got["acme/atlas-app#3"] == ("customer", "repos:*-app")
    assert got["acme/tools#4"] == ("unclassified", NO_RULE)


def test_event_rules_and_inheritance(con, tmp_path):
    item(con, "jira:ATL-1", "jira", "ATL-1", "ATL", type="Story")
    item(con, "jira:ATL-2", "jira", "ATL-2", "ATL", type="Task")
    pr = item(con, "github:acme/atlas-app#3", "github", "acme/atlas-app#3", "acme/atlas-app",
              kind="pr", linked=("ATL-2",))
    channel(con, "C1", "support-atlas")
    channel(con, "C2", "random")
    channel(con, "C3", "eng-atlas")
    ana_j, ana_g, ana_s, bot = "jira:a1", "github:7", "slack:U1", "slack:USLACKBOT"
    event(con, "j1", "jira", at(0), ana_j, "jira_transition", item_id="jira:ATL-1")
    event(con, "j2", "jira", at(1), ana_j, "jira_field_edit", item_id="jira:ATL-1",
          field="Story Points")
    event(con, "j3", "jira", at(2), ana_j, "jira_field_edit", item_id="jira:ATL-1",
          field="summary")
    event(con, "j4", "jira", at(3), ana_j, "jira_worklog", item_id="jira:ATL-1")
    event(con, "j5", "jira", at(4), ana_j, "jira_comment", item_id="jira:ATL-1")
    event(con, "g1", "github", at(5), ana_g, "commit", item_id=pr, linked_keys=["ATL-1"])
    event(con, "g2", "github", at(6), ana_g, "commit", item_id=pr)
    event(con, "g3", "github", at(7), ana_g, "pr_review", item_id=pr)
    event(con, "g4", "github", at(8), ana_g, "release", repo="acme/atlas-app")
    event(con, "g5", "github", at(9), ana_g, "commit", repo="acme/elsewhere")
    event(con, "s1", "slack", at(10), ana_s, "slack_message", channel_id="C1")
    event(con, "s2", "slack", at(11), ana_s, "slack_message", channel_id="C2")
    event(con, "s3", "slack", at(12), ana_s, "slack_message", channel_id="C1",
          subkind="reminder")
    event(con, "s4", "slack", at(13), bot, "slack_message", channel_id="C3")
    event(con, "s5", "slack", at(14), ana_s, "slack_reply", channel_id="C3")
    run_analysis(con, make_config(tmp_path, teams=[TEAM]))
    got = {r[0]: r[1:] for r in rows(con, "SELECT event_id, category, category_rule, subkind"
                                          " FROM events")}
    assert got["j1"] == ("process", "event:status_change", "status_change")
    assert got["j2"] == ("process", "event:metadata_edit", "metadata_edit")
    assert got["j3"] == ("customer", "customer-issue-types", None)
    assert got["j4"] == ("process", "event:timesheet", "timesheet")
    assert got["j5"] == ("customer", "customer-issue-types", None)
    assert got["g1"] == ("customer", "customer-issue-types via ATL-1", None)  # its own key
    assert got["g2"] == ("enabling", "enabling-issue-types via ATL-2", None)  # from its PR
    assert got["g3"] == ("enabling", "enabling-issue-types via ATL-2", None)
    assert got["g4"] == ("customer", "repos:*-app", None)
    assert got["g5"] == ("unclassified", NO_RULE, None)
    assert got["s1"] == ("customer", "customer-channels", None)
    assert got["s2"] == ("unclassified", NO_RULE, None)  # random stays unclassified
    assert got["s3"] == ("process", "event:reminder", "reminder")
    assert got["s4"] == ("process", "event:reminder", "reminder")  # Slackbot
    assert got["s5"] == ("enabling", "channels:eng-*", None)
    assert categories(con, "channels", "name")["random"] == ("unclassified", NO_RULE)


def test_rule_conditions_all_must_hold(con, tmp_path):
    item(con, "jira:ATL-1", "jira", "ATL-1", "ATL", type="Bug", title="Outage in checkout")
    item(con, "jira:OPS-1", "jira", "OPS-1", "OPS", type="Bug", title="Outage in billing")
    rules = [
        {"name": "ops-outages", "category": "process",
         "match": {"project": ["ops"], "title_regex": "^Outage"}},
        {"name": "bugs", "category": "customer", "match": {"issue_type": ["bug"]}},
    ]
    run_analysis(con, make_config(tmp_path, teams=[TEAM], classification={"rules": rules}))
    got = categories(con, "work_items", "key")
    assert got["OPS-1"] == ("process", "ops-outages")
    assert got["ATL-1"] == ("customer", "bugs")


def test_suggested_rules_name_the_bucket():
    assert 'channel = ["support-emea"]' in suggest("channel", "support-emea")
    assert 'category = "customer"' in suggest("channel", "support-emea")
    assert "choose one" in suggest("label", "q3")
    assert "unclassified is fine" in suggest("channel", "random")
    assert suggest("event_kind", "slack_message") is None
    text = suggest("repo", "acme/platform-api")
    assert 'repo = ["platform-api"]' in text
    tomllib.loads(text.replace("   # choose one", ""))


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("processhealth.simload.slack") is None,
                    reason="the Slack fast loader is not there yet")
@pytest.mark.extended  # in CI after the suite (7 s): two builds through the command line
def test_changing_a_rule_and_rebuilding_changes_categories(tmp_path, run_cli):
    """Acceptance: edit a rule in config, run `build` again (no collection), categories follow."""
    from processhealth.simload import slack as simload_slack

    org = shared_org(3, OrgSpec.small(months=1))
    base = demo_config_toml(org, {s: "http://127.0.0.1:1" for s in ("github", "jira", "slack")})
    config_path = tmp_path / "processhealth.toml"
    config_path.write_text(base)
    config = parse_config(tomllib.loads(base), origin="test", base_dir=tmp_path)
    with RawStore(config.storage.raw_path) as store:
        simload_slack.load(org, store)
    env = {var: "x" for var in ("PROCESSHEALTH_DEMO_GITHUB_TOKEN",
                                "PROCESSHEALTH_DEMO_JIRA_TOKEN", "PROCESSHEALTH_DEMO_SLACK_TOKEN")}

    def random_channel() -> set[tuple[str, str]]:
        result = run_cli(config_path, "build", env=env)
        assert result.exit_code == 0, result.output
        db = duckdb.connect(str(config.storage.analytics_path), read_only=True)
        try:
            return set(db.execute("""
                SELECT DISTINCT e.category, e.category_rule FROM events e
                JOIN channels c USING (channel_id)
                WHERE c.name = 'random' AND e.subkind IS DISTINCT FROM 'reminder'
            """).fetchall())
        finally:
            db.close()

    assert random_channel() == {("unclassified", NO_RULE)}
    config_path.write_text(base + """
[classification.channels]
"random" = "process"
""")
    assert random_channel() == {("process", "channels:random")}


def test_classify_cli_reports_rules_and_explains_unclassified(con, tmp_path, write_config,
                                                              run_cli):
    path = write_config('[storage]\nanalytics_path = "a.duckdb"\n')
    channel(con, "C1", "support-atlas")
    channel(con, "C2", "customer-emea-escalations-x")
    channel(con, "C9", "ops-war-room")
    for n, ch in enumerate(["C1", "C9", "C9", "C9"]):
        event(con, f"s{n}", "slack", at(3 * n), "slack:U1", "slack_message", channel_id=ch)
    run_analysis(con, make_config(tmp_path, storage={"analytics_path": "a.duckdb"}))
    con.execute(f"ATTACH '{tmp_path / 'a.duckdb'}' AS out")
    con.execute("COPY FROM DATABASE memory TO out")
    con.execute("DETACH out")
    result = run_cli(path, "classify")
    assert result.exit_code == 0, result.output
    assert "unclassified: 64.3%" in result.output  # 3 + 3 + 3 of 5 + 3 + 3 + 3 minutes
    result = run_cli(path, "classify", "--explain")
    assert result.exit_code == 0, result.output
    assert "ops-war-room" in result.output
    assert 'match = { source = "slack", channel = ["ops-war-room"] }' in result.output
    # a database built before effort was stored as effort_credit: a message, not a traceback
    con.execute(f"ATTACH '{tmp_path / 'a.duckdb'}' AS out")
    con.execute("DROP VIEW out.effort; DROP TABLE out.effort_credit")
    con.execute("DETACH out")
    result = run_cli(path, "classify")
    assert result.exit_code != 0
    assert "built by an older processhealth" in result.output
    assert "Traceback" not in result.output


def test_defaults_cover_common_naming_and_a_teams_own_scope(con, tmp_path):
    team = {"name": "orbit", "repos": ["gateway-web", "orbit"], "channels": ["team-orbit",
                                                                           "orbit-*"]}
    for cid, name in (("C1", "orbit-help"), ("C2", "orbit-dev"), ("C3", "orbit-daily"),
                      ("C4", "team-orbit"), ("C5", "random"), ("C6", "acme-support"),
                      ("C7", "scorecard-updates")):
        channel(con, cid, name)
    item(con, "github:acme/gateway-web#1", "github", "acme/gateway-web#1", "acme/gateway-web",
         kind="pr", title="Add invoice export")
    item(con, "github:acme/gateway-web#2", "github", "acme/gateway-web#2", "acme/gateway-web",
         kind="pr", title="Bump lodash from 4.17.20 to 4.17.21", labels=("dependencies",))
    item(con, "github:acme/gateway-web#3", "github", "acme/gateway-web#3", "acme/gateway-web",
         kind="pr", title="chore(deps): update dependency react to v19")
    item(con, "github:acme/billing#1", "github", "acme/billing#1", "acme/billing", kind="pr",
         title="Add invoice export")
    run_analysis(con, make_config(tmp_path, teams=[team]))
    ch = categories(con, "channels", "name")
    assert ch["orbit-help"] == ("customer", "customer-channels")
    assert ch["acme-support"] == ("customer", "customer-channels")
    assert ch["orbit-daily"] == ("process", "process-channels")
    assert ch["scorecard-updates"] == ("process", "process-channels")
    assert ch["orbit-dev"] == ("enabling", "channels:*-dev")
    assert ch["team-orbit"] == ("enabling", "team_channels:orbit")  # the team's own chat
    assert ch["random"] == ("unclassified", NO_RULE)  # not in any team's scope
    got = categories(con, "work_items", "key")
    assert got["acme/gateway-web#1"] == ("customer", "team_repos:orbit")  # the team's product
    assert got["acme/gateway-web#2"][0] == "enabling"
    assert got["acme/gateway-web#3"] == ("enabling", "dependency-updates")
    assert got["acme/billing#1"] == ("unclassified", NO_RULE)  # in nobody's scope
    con2 = domain_db()
    channel(con2, "C4", "team-orbit")
    item(con2, "github:acme/gateway-web#1", "github", "acme/gateway-web#1", "acme/gateway-web",
         kind="pr")
    run_analysis(con2, make_config(tmp_path, teams=[team], classification={
        "team_repos": "unclassified", "team_channels": "unclassified"}))
    assert categories(con2, "channels", "name")["team-orbit"][0] == "unclassified"
    assert categories(con2, "work_items", "key")["acme/gateway-web#1"][0] == "unclassified"


def test_a_bot_named_in_config_is_followed_when_the_events_are_analysed_again(con, tmp_path):
    """[people] bots names an account by its login; its messages that normalization did not flag
    are reminders for their sender alone (`event:bot_reminder`). An incremental build analyses
    the last build's events again (docs/build.md, "Cost"): after the account's login changed,
    the fill is gone and the message classified as a build from empty tables classifies it;
    a message flagged at ingest stays a reminder."""
    notifier = identity(con, "slack", "U9", "deploy-notifier", None, "Deploy Notifier")
    channel(con, "C1", "eng-atlas")
    event(con, "m1", "slack", at(0), notifier, "slack_message", channel_id="C1")
    event(con, "m2", "slack", at(1), notifier, "slack_message", channel_id="C1",
          subkind="reminder")
    config = make_config(tmp_path, teams=[TEAM], people={"bots": ["deploy-notifier"]},
                         classification={"channels": {"eng-*": "enabling"}})
    run_analysis(con, config)
    query = "SELECT event_id, category, category_rule, subkind FROM events ORDER BY 1"
    once = rows(con, query)
    assert once == [("m1", "process", "event:bot_reminder", "reminder"),
                    ("m2", "process", "event:reminder", "reminder")]
    assert _analysed_again(con, config) == once  # analysed twice: as once
    con.execute("UPDATE identities SET login = 'deployer', display_name = 'Deployer'"
                " WHERE source_user_id = 'U9'")
    assert _analysed_again(con, config) == [
        ("m1", "enabling", "channels:eng-*", None),
        ("m2", "process", "event:reminder", "reminder")]


def _analysed_again(con, config) -> list[tuple]:
    """The analysis run again over its own output, as an incremental build runs it over the
    copy of the last state (state_start.clean: every table but the normalized ones emptied)."""
    tables = [t for (t,) in rows(con, "SELECT table_name FROM duckdb_tables()"
                                      " WHERE NOT temporary")]
    for table in tables:
        if table not in NORMALIZED:
            con.execute(f'DELETE FROM "{table}"')
    for step in pipeline.analysis_steps():
        step(con, config)
    return rows(con, "SELECT event_id, category, category_rule, subkind FROM events ORDER BY 1")
