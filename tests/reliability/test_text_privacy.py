"""Free text stays out by default ([privacy] store_text_fields = false): Jira free-text custom
fields, descriptions and their changelog texts, Jira comment bodies and GitHub bodies are
reduced at collection to their length, so neither database holds their words, while the
figures that need them (filled or not, comment length) are unchanged. With the switch on they
are kept verbatim. Either way a comment keeps its reminder and shadow-tool flags: reduced
comments carry the flags set at ingest (collectors/privacy.py).
Through the real clients against the emulators; the words are planted by the
emulators' `mangle` fault, as a real site would send them."""

from __future__ import annotations

import duckdb
import pytest

from .support import SECRETS_ENV, invoke, write_config
from .test_secrets import found_in_columns

WORDS = {
    "field": "Acceptance: the password hash is $2b$12$SECRETfieldTEXT",
    "description": "Steps to reproduce SECRETdescriptionTEXT",
    "jira_comment": "Any update on this? SECRETjiraCOMMENT docs.google.com/spreadsheets/d/1",
    "gh_comment": "Friendly reminder: ship it SECRETgithubCOMMENT",
    "history": "old criteria SECREThistoryTEXT",
}
TEXT_FIELD = "customfield_10200"  # "Hypothesis", a text field in the emulators' field list


def plant(endpoint, body):
    if endpoint == "search_jql":
        for issue in body.get("issues") or []:
            fields = issue["fields"]
            fields[TEXT_FIELD] = WORDS["field"]
            fields["description"] = WORDS["description"]
            for comment in (fields.get("comment") or {}).get("comments") or []:
                comment["body"] = WORDS["jira_comment"]
            for history in (issue.get("changelog") or {}).get("histories") or []:
                history["items"].append({"field": "Hypothesis", "fieldtype": "custom",
                                         "fieldId": TEXT_FIELD, "from": None, "to": None,
                                         "fromString": WORDS["history"], "toString": "x"})
    if endpoint == "issue_comments" and isinstance(body, list):
        for comment in body:
            comment["body"] = WORDS["gh_comment"]
    return body


@pytest.mark.parametrize("keep", [False, True], ids=["default", "store_text_fields"])
def test_free_text_is_reduced_to_its_length_unless_asked(keep, fresh_apis, tmp_path):
    for source in ("jira", "github"):
        fresh_apis.apps[source].faults.mangle = plant
    config = write_config(tmp_path, fresh_apis.urls,
                          extra=f"[privacy]\nstore_text_fields = {str(keep).lower()}\n")
    for args in (("collect", "--source", "jira"), ("collect", "--source", "github"),
                 ("build",)):
        result = invoke(config, *args, environ=SECRETS_ENV)
        assert result.exit_code == 0, f"{args}: {result.output}"
    words = list(WORDS.values())
    raw_hits = found_in_columns(tmp_path / "raw.duckdb", words)
    if keep:
        assert {"raw_jira_issues.payload", "raw_github_issue_comments.payload"} <= set(raw_hits)
    else:
        assert raw_hits == []
        assert found_in_columns(tmp_path / "processhealth.duckdb", words) == []
    con = duckdb.connect(str(tmp_path / "processhealth.duckdb"), read_only=True)
    try:
        flags = con.execute(
            "SELECT kind, subkind, (detail->>'is_reminder')::BOOLEAN, detail->>'shadow_tool',"
            " count(*) FROM events WHERE kind IN ('jira_comment', 'issue_comment')"
            " GROUP BY ALL ORDER BY ALL").fetchall()
        assert [f[:4] for f in flags] == [
            ("issue_comment", "reminder", True, None),
            ("jira_comment", "reminder", True, "docs.google.com/spreadsheets")], flags
        filled = con.execute("SELECT bool_and(has_value), count(*) FROM item_fields"
                             " WHERE field_id = ?", [TEXT_FIELD]).fetchone()
        assert filled[0] is True and filled[1] > 0
        lengths = {r[0] for r in con.execute(
            "SELECT DISTINCT (detail->>'length')::INTEGER FROM events"
            " WHERE kind IN ('jira_comment', 'issue_comment', 'pr_comment')"
            " AND event_id NOT LIKE 'github:review_comment:%'").fetchall()}
        assert lengths == {len(WORDS["jira_comment"]), len(WORDS["gh_comment"])}
    finally:
        con.close()
