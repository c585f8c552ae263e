"""collectors/privacy.py: which Jira values are free text, and what is kept of them."""

from __future__ import annotations

from collectors.privacy import reduce_github, reduce_jira_issue, text_field_ids

TEXTAREA = "com.atlassian.jira.plugin.system.customfieldtypes:textarea"
SELECT = "com.atlassian.jira.plugin.system.customfieldtypes:select"
LISTED = [
    {"id": "customfield_1", "name": "Labels", "custom": True, "schema": {"custom": TEXTAREA}},
    {"id": "customfield_2", "name": "Team", "custom": True, "schema": {"custom": SELECT}},
    {"id": "labels", "name": "Labels", "custom": False, "schema": {"system": "labels"}},
]


def issue(fields, histories=()):
    return {"key": "PAY-1", "fields": fields, "changelog": {"histories": list(histories)}}


def test_text_fields_by_the_field_list_and_nothing_else():
    ids = text_field_ids(LISTED)
    out = reduce_jira_issue(issue({
        "customfield_1": "secret words", "customfield_2": {"value": "Core"},
        "labels": ["ops"], "description": "more secret words", "environment": "",
    }), ids)["fields"]
    assert out == {"customfield_1": {"length": 12}, "customfield_2": {"value": "Core"},
                   "labels": ["ops"], "description": {"length": 17}, "environment": ""}


def test_data_center_changelogs_name_the_field_and_lose_only_its_text():
    ids = text_field_ids(LISTED)
    history = {"id": "1", "items": [
        {"field": "Labels", "fieldtype": "custom", "from": None, "to": None,
         "fromString": "old words", "toString": "new words!"},
        {"field": "labels", "fieldtype": "jira", "from": None, "to": None,
         "fromString": "", "toString": "ops"},
        {"field": "status", "fieldtype": "jira", "from": "1", "to": "3",
         "fromString": "To Do", "toString": "In Progress"}]}
    items = reduce_jira_issue(issue({}, [history]), ids)["changelog"]["histories"][0]["items"]
    assert items[0]["fromString"] is None and items[0]["toLength"] == 10
    assert items[1]["toString"] == "ops" and items[2]["toString"] == "In Progress"


def test_without_a_field_list_prose_and_rich_text_go_but_dates_keys_and_sprints_stay():
    sprint = "com.atlassian.greenhopper.service.sprint.Sprint@1f[id=1,name=Sprint 4]"
    adf = {"type": "doc", "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "hash $2b$12$abc"}]}]}
    out = reduce_jira_issue(issue({
        "customfield_1": "Given a user, when they log in", "customfield_2": "2026-02-03",
        "customfield_3": "PAY-12", "customfield_4": [sprint], "customfield_5": adf,
        "customfield_6": 5.0, "customfield_7": "{}",
        "comment": {"comments": [{"id": "9", "body": "looks good"},
                                 {"id": "10", "body": "any update on this?"}], "total": 2},
    }), None)["fields"]
    assert out["customfield_1"] == {"length": 30}
    assert out["customfield_5"] == {"length": 15}
    assert (out["customfield_2"], out["customfield_3"], out["customfield_4"],
            out["customfield_6"]) == ("2026-02-03", "PAY-12", [sprint], 5.0)
    none = {"is_reminder": False, "is_status_request": False, "shadow_tool": None, **NO_DECLARED}
    assert out["comment"]["comments"] == [
        {"id": "9", "body": None, "bodyLength": 10, "bodyFlags": none},
        {"id": "10", "body": None, "bodyLength": 19, "bodyFlags": {**none, "is_reminder": True}}]
    assert out["customfield_7"] == {"length": 2}  # filled-looking text is still not kept


def test_github_bodies_keep_their_length_only():
    rows = [{"natural_key": "1", "payload": {"title": "Fix", "body": "secret"}},
            {"natural_key": "2", "payload": {"title": "Fix", "body": None}}]
    assert [r["payload"] for r in reduce_github("issues", rows)] == [
        {"title": "Fix", "body": None, "body_length": 6, "body_flags": NO_DECLARED},
        {"title": "Fix", "body": None}]
    assert reduce_github("commits", rows) is rows
    comment = [{"natural_key": "3", "payload": {"body": "see notion.so/x, any update on it?"}}]
    assert reduce_github("issue_comments", comment)[0]["payload"] == {
        "body": None, "body_length": 34, "body_flags": {
            "is_reminder": True, "is_status_request": False, "shadow_tool": "notion.so",
            **NO_DECLARED}}


NO_DECLARED = {"has_hypothesis": False, "has_success_criteria": False, "has_result": False}


def test_declared_experiment_flags_are_set_at_ingest_and_the_words_go():
    out = reduce_jira_issue(issue({
        "description": "We believe caching the lookups cuts p95.\nSuccess criteria: p95 < 300 ms",
        "comment": {"comments": [{"id": "1", "body": "Result: hypothesis confirmed, p95 -20%"},
                                 {"id": "2", "body": "the results look odd"}], "total": 2},
    }), None)
    assert out["fields"]["description"] == {"length": 71}
    assert out["textFlags"] == {"has_hypothesis": True, "has_success_criteria": True,
                                "has_result": False}
    flags = [c["bodyFlags"]["has_result"] for c in out["fields"]["comment"]["comments"]]
    assert flags == [True, False]  # "Result:" opens the text; "results" in passing is none
    plain = reduce_jira_issue(issue({"description": "Fix the login page"}), None)
    assert plain["textFlags"] == NO_DECLARED
    pr = [{"natural_key": "4", "payload": {"body": "Hypothesis: if we batch, queue time drops"}}]
    assert reduce_github("pulls", pr)[0]["payload"]["body_flags"] == {
        **NO_DECLARED, "has_hypothesis": True}
