"""Slack row building without HTTP: features, privacy, channel choice; checked against real
payloads (tests/realdata.py). Also the helpers the other test_slack_* modules share."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from realdata import needs, realdata

from collectors.slack_rows import Rules, message_features, message_row, select_channels
from processhealth.analytics_db import BuildStep, build_analytics
from processhealth.config import Config
from processhealth.config_models import PeopleConfig, SlackConfig, StorageConfig
from processhealth.pipeline import config_variable, sql_file_step
from processhealth.store import RawStore

REPO = Path(__file__).resolve().parent.parent
PERCEVAL = realdata("slack-perceval/tests/data/slack")  # GPL-3.0: ../shared/realdata only
HFARAN = realdata("slack-export-hfaran/tests/testarchive")  # MIT: vendored
SLACK_SQL = REPO / "collectors" / "sql" / "30_slack.sql"
TOKEN = "xoxb-test-token"
RULES = Rules.from_config(SlackConfig())


def normalize(raw: Path, out: Path, cfg: SlackConfig | None = None,
              people: PeopleConfig | None = None) -> duckdb.DuckDBPyConnection:
    """Build an analytics database from `raw` with only the Slack normalization; open it.
    Missing raw tables are created empty first, as `processhealth build` does."""
    with RawStore(raw) as store:
        for entity in sorted(set(re.findall(r"\braw_slack_([a-z_]+)", SLACK_SQL.read_text()))):
            store.ensure_raw_table("slack", entity)
    config = Config(storage=StorageConfig(raw_path=raw, analytics_path=out),
                    slack=cfg or SlackConfig(), people=people or PeopleConfig())
    build_analytics(config, [BuildStep("config", config_variable), sql_file_step(SLACK_SQL)])
    return duckdb.connect(str(out), read_only=True)


def test_features_from_text_attachments_blocks_and_files():
    msg = {
        "ts": "1700000000.000100", "user": "U1",
        "text": "Reminder: please update <https://docs.google.com/spreadsheets/d/1/edit|the sheet> "
                "for ATL-12 cc <@U2|bo> <!subteam^S01|@atlas> <!here> see http://Example.org/x",
        "attachments": [{"title_link": "https://www.notion.so/acme/Plan",
                         "text": "any update on it?"}],
        "blocks": [{"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
            {"type": "user", "user_id": "U3"}, {"type": "link", "url": "https://airtable.com/a"}]}]}],
        "files": [{"id": "F1", "name": "Q3 plan.XLSX", "title": "Q3 plan", "preview": "secret"}],
    }
    f = message_features(msg, RULES)
    assert f["length"] == len(msg["text"])
    assert f["link_domains"] == ["airtable.com", "docs.google.com", "example.org", "notion.so"]
    assert f["mentions"] == ["U2", "U3"]
    assert f["group_mentions"] == ["S01"] and f["broadcast"] == ["here"]
    assert f["linked_keys"] == ["ATL-12"] and f["file_types"] == [".xlsx"]
    assert f["is_reminder"] and f["is_status_request"] is False
    assert f["shadow_tool"] == "docs.google.com/spreadsheets"


@pytest.mark.parametrize(("text", "found"), [
    ("see https://docs.google.com/document/d/9/edit", None),  # a doc, not a spreadsheet
    ("numbers in <https://sheets.google.com/x>", "sheets.google.com"),
    ("I'm tracking our real status here: tracking-42.xlsx", ".xlsx"),
    ("export at <https://files.acme.example/q3/report.csv|report>", ".csv"),
    ("what's the status of ATL-3?", None),
])
def test_shadow_tools_by_domain_path_and_extension(text, found):
    assert message_features({"ts": "1.0", "text": text}, RULES)["shadow_tool"] == found


def test_status_requests_and_reminders_follow_the_patterns():
    assert message_features({"text": "What's the status of BOR-9?"}, RULES)["is_status_request"]
    assert not message_features({"text": "reminder: lunch"}, RULES)["is_status_request"]
    assert message_features({"text": "Friendly reminder to log time"}, RULES)["is_reminder"]
    assert not message_features({"text": "I reminded myself"}, RULES)["is_reminder"]


def test_privacy_keeps_structure_and_drops_every_text():
    secret = "SECRET-WORDS"
    msg = {
        "type": "message", "ts": "1700000000.000100", "user": "U1", "text": f"{secret} <@U2>",
        "thread_ts": "1700000000.000100", "reply_count": 2, "latest_reply": "1700000100.000001",
        "edited": {"user": "U1", "ts": "1700000050.000000"},
        "reactions": [{"name": "eyes", "count": 1, "users": ["U2"]}],
        "blocks": [{"type": "rich_text", "elements": [{"type": "text", "text": secret}]}],
        "attachments": [{"text": secret, "fallback": secret}],
        "files": [{"id": "F1", "name": f"{secret}.pdf", "title": secret, "preview": secret,
                   "filetype": "pdf", "url_private": f"https://files.slack.com/{secret}"}],
        "comment": {"comment": secret}, "root": {"text": secret},
        "user_profile": {"real_name": "Bo"},
    }
    row = message_row("C1", msg, RULES, "https://slack.com/api/conversations.history?channel=C1")
    text = json.dumps(row)
    assert secret not in text
    assert row["natural_key"] == "C1/1700000000.000100"
    assert row["updated_at"] == "2023-11-14T22:15:00.000001+00:00"  # the latest reply
    p = row["payload"]
    assert p["reply_count"] == 2 and p["reactions"][0]["name"] == "eyes"
    assert p["files"] == [{"id": "F1", "filetype": "pdf"}]
    assert p["features"]["mentions"] == ["U2"] and p["features"]["file_types"] == [".pdf"]


def test_store_message_text_keeps_the_message():
    rules = Rules.from_config(SlackConfig(), store_text=True)
    row = message_row("C1", {"ts": "1.000001", "text": "hello <@U2>", "user": "U1"}, rules, "u")
    assert row["payload"]["text"] == "hello <@U2>" and row["payload"]["features"]["length"] == 11


def test_channel_selection_public_by_pattern_private_listed_dms_opt_in():
    channels = [
        {"id": "C1", "name": "eng-atlas"}, {"id": "C2", "name": "random"},
        {"id": "G1", "name": "leadership", "is_private": True},
        {"id": "D1", "is_im": True, "user": "U9"},
        {"id": "G2", "name": "mpdm-a--b", "is_mpim": True},
    ]
    ids = lambda cfg: [c["id"] for c in select_channels(channels, cfg)[0]]  # noqa: E731
    assert ids(SlackConfig()) == ["C1", "C2"]
    assert ids(SlackConfig(channels=["eng-*"])) == ["C1"]
    assert ids(SlackConfig(channels=["#random"], private_channels=["leadership"])) == ["C2", "G1"]
    assert ids(SlackConfig(channels=[], include_dms=True)) == ["D1", "G2"]
    assert select_channels(channels, SlackConfig(channels=["eng-*", "nope"]))[1] == ["nope"]



def test_messages_of_bots_listed_in_people_bots_are_reminders(tmp_path):
    messages = [
        {"ts": "1700000000.000100", "bot_id": "B0DEPLOY1", "subtype": "bot_message",
         "username": "deployer", "text": "deployed atlas 1.2"},
        {"ts": "1700000060.000100", "bot_id": "B0OTHER01", "subtype": "bot_message",
         "username": "weather", "text": "sunny"},
        {"ts": "1700000120.000100", "user": "U1", "text": "thanks"},
    ]
    with RawStore(tmp_path / "raw.duckdb") as store:
        store.save("slack", "messages", [message_row("C1", m, RULES, "u") for m in messages],
                   scope="C1")

    def reminders(name: str, people: PeopleConfig) -> list[str]:
        db = normalize(tmp_path / "raw.duckdb", tmp_path / f"{name}.duckdb", people=people)
        return [r[0] for r in db.execute("SELECT actor_account FROM events "
                                         "WHERE subkind = 'reminder' ORDER BY 1").fetchall()]

    assert reminders("none", PeopleConfig()) == []
    assert reminders("by-id", PeopleConfig(bots=["B0DEPLOY1"])) == ["slack:B0DEPLOY1"]
    assert reminders("by-name", PeopleConfig(bots=["Deployer"])) == ["slack:B0DEPLOY1"]

def test_a_bot_seen_under_two_names_gets_the_same_one_in_every_order(tmp_path):
    """A bot renamed between messages: its identity takes the greatest name, login and display
    name alike, whichever message is read first."""
    names = []
    for n, order in enumerate((("deployer", "deploy-bot"), ("deploy-bot", "deployer"))):
        messages = [{"ts": f"17000000{k}0.000100", "bot_id": "B0DEPLOY1",
                     "subtype": "bot_message", "username": name, "text": "deployed"}
                    for k, name in enumerate(order)]
        raw = tmp_path / f"raw{n}.duckdb"
        with RawStore(raw) as store:
            store.save("slack", "messages",
                       [message_row("C1", m, RULES, "u") for m in messages], scope="C1")
        db = normalize(raw, tmp_path / f"out{n}.duckdb")
        names.append(db.execute("SELECT login, display_name FROM identities"
                                " WHERE source_user_id = 'B0DEPLOY1'").fetchall())
    assert names == [[("deployer", "deployer")]] * 2


@needs(PERCEVAL)
def test_real_perceval_history_pages_parse_and_keep_no_text():
    page = json.loads((PERCEVAL / "slack_history.json").read_text())
    rows = [message_row("C011DUKE8", m, RULES, "u") for m in page["messages"]]
    assert len(rows) == len(page["messages"]) and all(r["natural_key"] for r in rows)
    comment = rows[0]["payload"]  # a file_comment: the comment's words live in "comment"
    assert comment["subtype"] == "file_comment" and "comment" not in comment
    assert comment["features"]["mentions"] == ["U0002", "U0003"]
    assert "Thanks" not in json.dumps(rows) and "hey acs" not in json.dumps(rows)
    bots = [r["payload"] for r in rows if r["payload"].get("subtype") == "bot_message"]
    assert bots and all(b.get("bot_id") or b.get("username") for b in bots)


def test_real_export_messages_keep_link_domains_not_file_contents():
    day = json.loads((HFARAN / "traveling-sailor" / "2016-03-27.json").read_text())
    rows = [message_row("C0JL6CGQ2", m, RULES, "u") for m in day]
    text = json.dumps(rows)
    assert "Holmesville" not in text and "xoxe-" not in text  # snippet text, file token URLs
    shared = [r["payload"] for r in rows if r["payload"].get("subtype") == "file_share"]
    assert shared and shared[0]["features"]["file_types"] == [".js"]
    bot = json.loads((HFARAN / "enrique" / "2016-02-07.json").read_text())
    features = [message_row("C0JGLMMNX", m, RULES, "u")["payload"]["features"] for m in bot]
    assert any("github.com" in f["link_domains"] for f in features)
