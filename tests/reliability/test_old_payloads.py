"""Older and odder payloads (shapes recorded from real, older APIs) collect and build:
user objects without `type`, teams without `slug`, issue comments whose issue_url ends in
the issue's id, issues with a `pull_request` stub whose links
are null, a saved Jira search without `names`, empty placeholders in custom fields, and Slack
`file_comment` messages (the author is the comment's); a status only changelogs name maps by
Jira's default names."""

from __future__ import annotations

import json

import duckdb

from collectors.slack_rows import Rules, message_row
from processhealth.config_models import SlackConfig
from tests.realdata import needs, realdata

from .support import SECRETS_ENV, copy_db, invoke, write_config

SLACK_PERCEVAL = realdata("slack-perceval/tests/data/slack")


def _strip_types(value):
    if isinstance(value, dict):
        return {k: _strip_types(v) for k, v in value.items() if not (k == "type" and "login"
                                                                      in value)}
    if isinstance(value, list):
        return [_strip_types(v) for v in value]
    return value


def test_old_github_payloads_collect_and_build(fresh_apis, tmp_path):
    stubbed: set[int] = set()
    by_id: dict[int, int] = {}  # comment id -> the issue number its issue_url hid
    numbers = fresh_apis.apps["github"].numbers

    def older(endpoint, body):
        body = _strip_types(body)
        if endpoint == "issue_comments" and isinstance(body, list) and not by_id and body:
            comment = body[0]
            repo, number = comment["issue_url"].split("/repos/acme/")[1].split("/issues/")
            issue_id = numbers[(repo, int(number))].id
            comment["issue_url"] = comment["issue_url"].rsplit("/", 1)[0] + f"/{issue_id}"
            by_id[comment["id"]] = int(number)
        if endpoint == "teams" and isinstance(body, list):
            body = [{k: v for k, v in t.items() if k != "slug"} for t in body]
        if endpoint == "issues" and isinstance(body, list):
            for item in body:
                if "pull_request" not in item and not stubbed:
                    item["pull_request"] = {"url": None, "html_url": None, "diff_url": None,
                                            "patch_url": None}
                    stubbed.add(item["number"])
        return body
    fresh_apis.apps["github"].faults.mangle = older
    config = write_config(tmp_path, fresh_apis.urls)
    result = invoke(config, "collect", "--source", "github", environ=SECRETS_ENV)
    assert result.exit_code == 0, result.output
    built = invoke(config, "build", environ=SECRETS_ENV)
    assert built.exit_code == 0, built.output
    con = duckdb.connect(str(tmp_path / "processhealth.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM identities WHERE source = 'github'"
                           " AND is_bot IS NULL").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM group_members WHERE source = 'github'"
                           ).fetchone()[0] > 0
        (number,) = stubbed
        kind = con.execute("SELECT kind FROM work_items WHERE item_id = ?",
                           [f"github:acme/atlas-app#{number}"]).fetchall()
        assert kind == [("issue",)]
        ((comment, number),) = by_id.items()
        item = con.execute("SELECT item_id FROM events WHERE event_id = ?",
                           [f"github:issue_comment:{comment}"]).fetchone()[0]
        assert item.endswith(f"#{number}")
    finally:
        con.close()


def _issue(key, **fields):
    return {"id": str(10_000 + int(key.split("-")[1])), "key": key, "fields": {
        "summary": key, "project": {"key": "OLD"}, "issuetype": {"name": "Task"},
        "status": {"name": "Open", "statusCategory": {"key": "new"}},
        "created": "2026-02-02T09:00:00.000+0000", "updated": "2026-02-03T09:00:00.000+0000",
        **fields}}


def test_a_jira_search_without_names_keeps_custom_fields_and_placeholders_are_not_filled(
        built, tmp_path):
    raw, _, _ = built
    copy_db(raw, tmp_path / "raw.duckdb")
    config = write_config(tmp_path, {s: "http://127.0.0.1:1" for s in ("github", "jira",
                                                                        "slack")})
    unlicensed = {"hasEpicLinkFieldDependency": False, "showField": False,
                  "nonEditableReason": {"reason": "PLUGIN_LICENSE_ERROR",
                                        "message": "The Parent Link is only available to Jira "
                                                   "Premium users."}}
    retired = {"histories": [{"id": "1", "created": "2026-02-03T08:00:00.000+0000",
                              "items": [{"field": "status", "fieldtype": "jira", "from": "90",
                                         "fromString": "Triage", "to": "91",
                                         "toString": "Closed"}]}]}
    issues = [{**_issue("OLD-1", customfield_20001="filled", customfield_20002="{}",
                        customfield_20003=unlicensed), "changelog": retired},
              _issue("OLD-2", customfield_20001=None, customfield_20002={},
                     customfield_20003=None)]
    (tmp_path / "search.json").write_text(json.dumps({"issues": issues}))
    result = invoke(config, "import", "jira-json", str(tmp_path / "search.json"),
                    environ=SECRETS_ENV)
    assert result.exit_code == 0, result.output
    assert "no field names" in result.output
    assert invoke(config, "build", environ=SECRETS_ENV).exit_code == 0
    con = duckdb.connect(str(tmp_path / "processhealth.duckdb"), read_only=True)
    try:
        # statuses only the changelog names: Jira's default "Closed" is done, others active
        mapped = set(con.execute("SELECT name, status_category, mapped_by FROM jira_statuses"
                                 " WHERE name IN ('Closed', 'Triage')").fetchall())
        assert mapped == {("Closed", "done", "status_name"), ("Triage", "active", "jira_category")}
        found = dict(con.execute(
            "SELECT item_id || ' ' || field_id, has_value FROM item_fields"
            " WHERE item_id LIKE 'jira:OLD-%' AND field_id LIKE 'customfield_2000%'").fetchall())
    finally:
        con.close()
    assert found == {"jira:OLD-1 customfield_20001": True, "jira:OLD-1 customfield_20002": False,
                     "jira:OLD-1 customfield_20003": False,
                     "jira:OLD-2 customfield_20001": False, "jira:OLD-2 customfield_20002": False,
                     "jira:OLD-2 customfield_20003": False}


@needs(SLACK_PERCEVAL)
def test_a_real_file_comment_keeps_its_author():
    history = json.loads((SLACK_PERCEVAL / "slack_history.json").read_text())
    comment = next(m for m in history["messages"] if m.get("subtype") == "file_comment")
    assert "user" not in comment  # the recorded shape: the author is inside `comment`
    row = message_row("C0001", comment, Rules.from_config(SlackConfig()), "file://x")
    assert row["payload"]["user"] == comment["comment"]["user"]
    assert "comment" not in row["payload"]  # its words stay out, as every message's
