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
    "gh_event_issue": "Customer report SECRETeventISSUE",  # the issue an issue event embeds
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
    if endpoint == "issue_events" and isinstance(body, list):  # privacy review: it was stored
        for event in body:
            if isinstance(event.get("issue"), dict):
                event["issue"]["body"] = WORDS["gh_event_issue"]
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
        assert {"raw_jira_issues.payload", "raw_github_issue_comments.payload",
                "raw_github_issue_events.payload"} <= set(raw_hits)
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


DECLARED = {  # what a declared experiment's words look like; the secrets must not be stored
    "description": "We believe SECRETbeliefTEXT caching cuts p95.\nSuccess criteria: p95 < 300 ms",
    "result": "Result: hypothesis confirmed SECRETresultTEXT",
    "body": "Hypothesis: batching SECRETbodyTEXT halves queue time. Success metric: queue < 1 h",
}


def plant_declared(endpoint, body):
    """Every third Jira issue and GitHub issue or pull request declares an experiment in its
    text, and every fifth comment carries a result; the rest keep the emulators' words."""
    if endpoint == "search_jql":
        for issue in body.get("issues") or []:
            number = int(issue["key"].rsplit("-", 1)[1])
            if number % 3 == 0:
                issue["fields"]["description"] = DECLARED["description"]
            for comment in (issue["fields"].get("comment") or {}).get("comments") or []:
                if int(comment["id"]) % 5 == 0:
                    comment["body"] = DECLARED["result"]
    if endpoint in ("issues", "pulls") and isinstance(body, list):
        for item in body:
            if item["number"] % 3 == 0:
                item["body"] = DECLARED["body"]
    if endpoint == "issue_comments" and isinstance(body, list):
        for comment in body:
            if comment["id"] % 5 == 0:
                comment["body"] = DECLARED["result"]
    return body


@pytest.mark.extended  # in CI after the suite (6 s): two collections and builds
def test_declared_experiment_flags_are_the_same_whether_the_words_are_kept(fresh_apis,
                                                                         tmp_path):
    """Hypothesis, success criteria and result flags per work item, from the words at ingest
    when they are reduced and from the stored words otherwise: the same items either way, and
    no word of them stored by default."""
    flags = {}
    for keep in (False, True):
        fresh_apis.reset()
        for source in ("jira", "github"):
            fresh_apis.apps[source].faults.mangle = plant_declared
        folder = tmp_path / f"keep-{keep}"
        folder.mkdir()
        config = write_config(folder, fresh_apis.urls,
                              extra=f"[privacy]\nstore_text_fields = {str(keep).lower()}\n")
        for args in (("collect", "--source", "jira"), ("collect", "--source", "github"),
                     ("build",)):
            result = invoke(config, *args, environ=SECRETS_ENV)
            assert result.exit_code == 0, f"{args}: {result.output}"
        if not keep:
            assert found_in_columns(folder / "raw.duckdb", list(DECLARED.values())) == []
        con = duckdb.connect(str(folder / "processhealth.duckdb"), read_only=True)
        try:
            flags[keep] = con.execute(
                "SELECT item_id, has_hypothesis, has_success_criteria, has_result"
                " FROM work_items WHERE has_hypothesis OR has_success_criteria OR has_result"
                " ORDER BY item_id").fetchall()
            flags[keep, "metric"] = con.execute(
                "SELECT team, month, declared_closed, closed_with_result"
                " FROM metric_declared_experiments WHERE declared_closed > 0"
                " ORDER BY ALL").fetchall()
        finally:
            con.close()
    assert flags[False] == flags[True]
    assert flags[False, "metric"] == flags[True, "metric"]
    assert sum(r[3] for r in flags[False, "metric"]) > 0  # closed with a result, per team-month
    found = flags[False]
    for source in ("jira:", "github:"):  # planted in both tools, each flag set somewhere
        mine = [f for f in found if f[0].startswith(source)]
        assert all(any(f[k] for f in mine) for k in (1, 2, 3)), (source, mine[:5])
