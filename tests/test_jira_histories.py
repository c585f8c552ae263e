"""Jira histories as acts (docs/metrics.md section 2, "Jira histories"): one save of a screen is one
act credited for its N items; echo and system entries stay facts with no effort. Hand-built
payloads in the shapes Jira Server / Data Center and Cloud send (changelog items with field,
fieldtype, from, fromString, to, toString), normalized by collectors/sql, then the effort step."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from test_effort_fixtures import rows

from processhealth import pipeline
from processhealth.analytics_db import attach_refs, create_schema
from processhealth.config import parse_config
from processhealth.store import RawStore

SQL = Path(__file__).resolve().parent.parent / "collectors" / "sql"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = {"key": "ana", "name": "ana", "displayName": "Ana Lima", "emailAddress": "ana@acme.example"}
BO = {"key": "bo", "name": "bo", "displayName": "Bo Berg", "emailAddress": "bo@acme.example"}
ADMIN = {"key": "admin", "name": "admin", "displayName": "Jira Admin"}


def ts(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def issue(key: str, created: float, histories: list[dict], creator=ANA, **fields) -> dict:
    return {"id": str(zlib.crc32(key.encode())), "key": key,
            "self": f"https://jira.acme.example/rest/api/2/issue/{key}",
            "fields": {"summary": key, "issuetype": {"name": fields.get("type", "Story")},
                       "project": {"key": key.split("-")[0]}, "created": ts(created),
                       "creator": creator, "reporter": creator,
                       "status": {"id": "1", "name": "Open", "statusCategory": {"key": "new"}},
                       "labels": [], "comment": {"comments": fields.get("comments", []),
                                                 "total": len(fields.get("comments", []))}},
            "changelog": {"startAt": 0, "total": len(histories), "histories": histories}}


def history(hid: int, minutes: float, author: dict, *items: dict) -> dict:
    return {"id": str(hid), "created": ts(minutes), "author": author, "items": list(items)}


def item(field: str, to: str | None = None, to_string: str | None = None, *, fieldtype="custom",
         frm: str | None = None, from_string: str | None = None) -> dict:
    return {"field": field, "fieldtype": fieldtype, "from": frm, "fromString": from_string,
            "to": to, "toString": to_string}


def build(tmp_path: Path, issues: list[dict], github: dict | None = None,
          **config) -> duckdb.DuckDBPyConnection:
    """Normalize the issues (every collectors/sql file, as the build does), then identities,
    teams, classification and effort."""
    raw = tmp_path / "raw.duckdb"
    cfg = parse_config({"teams": [{"name": "atlas", "jira_projects": ["ATL", "OPS"]}], **config},
                       origin="test", base_dir=tmp_path)
    with RawStore(raw) as store:
        for entity in ("fields", "statuses", "boards", "sprints"):
            store.ensure_raw_table("jira", entity)
        for source, entities in (("github", pipeline_raw("github")), ("slack",
                                                                      pipeline_raw("slack"))):
            for entity in entities:
                store.ensure_raw_table(source, entity)
        store.save("jira", "issues", [{"natural_key": i["key"], "updated_at": None,
                                       "source_url": i["self"], "payload": i} for i in issues],
                   scope="ATL")
        for entity, items in (github or {}).items():
            store.save("github", entity, items, scope="acme/atlas-app")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_schema(con)
    con.execute("ATTACH ? AS raw (READ_ONLY)", [str(raw)])
    attach_refs(con, None)  # the refs normalization writes (search_path main,raw,refs)
    pipeline.config_variable(con, cfg)
    for path in [*pipeline.sql_files(SQL), pipeline.ECHO_SQL]:
        pipeline.sql_file_step(path)(con, cfg)
    con.execute("SET search_path = 'main'")
    con.execute("DETACH raw")
    for step in pipeline.analysis_steps():
        step(con, cfg)
    return con


def pipeline_raw(source: str) -> list[str]:
    text = (SQL / {"github": "10_github.sql", "slack": "30_slack.sql"}[source]).read_text()
    return sorted(set(re.findall(rf"\braw_{source}_([a-z0-9_]+)\b", text)))


def credits(con) -> dict[str, float]:
    return dict(rows(con, "SELECT e.event_id, coalesce(f.minutes, 0) FROM events e "
                          "LEFT JOIN effort f USING (event_id) WHERE e.kind <> 'jira_created'"))


def echo(con) -> dict[str, str | None]:
    return dict(rows(con, "SELECT event_id, detail->>'echo' FROM events "
                          "WHERE kind IN ('jira_field_edit', 'jira_transition')"))


def test_an_edit_screen_of_n_fields_is_one_act_credited_for_n_items(tmp_path):
    # Ana comments at 0, then saves a screen setting three fields at 7 minutes: one history,
    # three items with one timestamp. It is one act of 7 minutes (under 3 + 2 x 1.5), shared.
    screen = history(1, 7, ANA, item("Business Value", "1", "High"),
                     item("Value Score", "2", "Medium"), item("WSJF Score", "3", "Low"))
    comments = [{"id": "900", "created": ts(0), "author": ANA, "body": "looking at it"}]
    con = build(tmp_path, [issue("ATL-1", -600, [screen], comments=comments)])
    got = credits(con)
    screen_events = {k: v for k, v in got.items() if k.startswith("jira:changelog:1:")}
    assert len(screen_events) == 3 and not any(echo(con).values())
    assert sum(screen_events.values()) == pytest.approx(6.0)  # cap 3 + 2 x 1.5, g = 7
    assert len(set(screen_events.values())) == 1  # shared equally
    # the same three fields saved one by one at 7, 8 and 9 minutes: three acts
    one_by_one = [history(1, 7, ANA, item("Business Value", "1", "High")),
                  history(2, 8, ANA, item("Value Score", "2", "Medium")),
                  history(3, 9, ANA, item("WSJF Score", "3", "Low"))]
    con = build(tmp_path / "b", [issue("ATL-1", -600, one_by_one, comments=comments)])
    assert sum(v for k, v in credits(con).items() if "changelog" in k) == pytest.approx(3 + 1 + 1)
    # a longer history credit is configurable
    con = build(tmp_path / "c", [issue("ATL-1", -600, [screen], comments=comments)],
                effort={"history_item_minutes": 0})
    assert sum(v for k, v in credits(con).items() if "changelog" in k) == pytest.approx(3.0)


def test_epic_child_is_the_echo_of_the_childs_epic_link(tmp_path):
    child = issue("ATL-2", -600, [history(20, 5, ANA, item("Epic Link", "10001", "ATL-1"))])
    epic = issue("ATL-1", -900, [history(21, 5, ANA, item("Epic Child", "10002", "ATL-2"))],
                 type="Epic")
    con = build(tmp_path, [epic, child])
    assert echo(con) == {"jira:changelog:20:1": None, "jira:changelog:21:1": "epic_child"}
    got = credits(con)
    assert got["jira:changelog:21:1"] == 0 and got["jira:changelog:20:1"] > 0
    assert rows(con, "SELECT weight FROM events WHERE event_id = 'jira:changelog:21:1'") == [(0,)]


def test_a_link_is_credited_on_one_side_only(tmp_path):
    a = issue("ATL-1", -900, [history(30, 5, ANA, item("Link", "ATL-2", "This issue blocks ATL-2",
                                                       fieldtype="jira"))])
    b = issue("ATL-2", -900, [history(31, 5, ANA, item("Link", "ATL-1",
                                                       "This issue is blocked by ATL-1",
                                                       fieldtype="jira"))])
    # a link to an issue outside the collected projects has no other side here: it is the act
    c = issue("ATL-3", -900, [history(32, 50, BO, item("Link", "EXT-9", "This issue relates to "
                                                       "EXT-9", fieldtype="jira"))])
    con = build(tmp_path, [a, b, c])
    assert echo(con) == {"jira:changelog:30:1": None, "jira:changelog:31:1": "link_other_side",
                         "jira:changelog:32:1": None}
    got = credits(con)
    assert got["jira:changelog:31:1"] == 0 and got["jira:changelog:30:1"] > 0
    assert got["jira:changelog:32:1"] > 0


def test_create_screen_values_belong_to_the_create_act(tmp_path):
    created = issue("ATL-1", 0, [history(40, 2 / 60, ANA, item("Sprint", "5", "Sprint 5"),
                                         item("Rank", None, "Ranked higher", fieldtype="custom")),
                                 history(41, 20, ANA, item("priority", "2", "High",
                                                           fieldtype="jira"))])
    con = build(tmp_path, [created])
    assert echo(con) == {"jira:changelog:40:1": "create_screen",
                         "jira:changelog:40:2": "create_screen", "jira:changelog:41:1": None}
    got = credits(con)
    assert got["jira:changelog:40:1"] == got["jira:changelog:40:2"] == 0
    assert got["jira:changelog:41:1"] == pytest.approx(3.0)


def test_workflow_migration_and_bulk_changes_carry_no_effort(tmp_path):
    issues = [issue(f"OPS-{n}", -5000, [history(
        100 + n, 60 + n / 30, ADMIN,
        item("Workflow", "20", "Software Simplified Workflow", fieldtype="jira", frm="10",
             from_string="classic default workflow"),
        item("status", "3", "In Progress", fieldtype="jira", frm="1", from_string="Open"))],
        creator=BO) for n in range(1, 4)]
    bulk = [issue(f"ATL-{n}", -5000, [history(200 + n, 120 + n / 60, BO,
                                              item("labels", None, "q3", fieldtype="jira"))])
            for n in range(1, 13)]
    con = build(tmp_path, issues + bulk)
    found = echo(con)
    assert {v for k, v in found.items() if k.startswith("jira:changelog:10")} == \
        {"workflow_migration"}
    bulk_rules = [found[f"jira:changelog:{200 + n}:1"] for n in range(1, 13)]
    assert bulk_rules == [None] + ["bulk_change"] * 11  # the first history is the act
    got = credits(con)
    assert sum(v for k, v in got.items() if k.startswith("jira:changelog:10")) == 0
    assert sum(1 for n in range(1, 13) if got[f"jira:changelog:{200 + n}:1"] > 0) == 1
    # still facts: the migration's status change is a transition
    assert rows(con, "SELECT count(*) FROM transitions")[0][0] == 3


def test_an_entry_that_is_no_echo_any_more_gets_its_weight_and_detail_back(tmp_path):
    """An incremental build runs the echo rules over the last build's Jira events, echo marks
    and all (docs/build.md, "Cost"). Twelve issues edited by one actor in a minute (a bulk
    change: 11 echo entries), then three of those issues gone: the nine left are no bulk
    change, and their events are what a build of those nine alone writes (weight 1, the
    detail without `echo`), the rule having run twice; run a third time, nothing changes."""
    def bulk(count: int) -> list[dict]:
        return [issue(f"ATL-{n}", -5000, [history(200 + n, 120 + n / 60, BO,
                                                  item("labels", None, "q3", fieldtype="jira"))])
                for n in range(1, count + 1)]

    query = ("SELECT event_id, weight, detail FROM events WHERE kind = 'jira_field_edit'"
             " ORDER BY event_id")
    for name in ("nine", "twelve"):
        (tmp_path / name).mkdir()
    alone = rows(build(tmp_path / "nine", bulk(9)), query)
    assert [w for _, w, _ in alone] == [1] * 9
    con = build(tmp_path / "twelve", bulk(12))
    assert sorted(w for _, w, _ in rows(con, query)) == [0] * 11 + [1]
    con.execute("DELETE FROM events WHERE item_id IN ('jira:ATL-10', 'jira:ATL-11',"
                " 'jira:ATL-12')")
    echo_rules = pipeline.sql_file_step(pipeline.ECHO_SQL)
    for _ in range(2):
        echo_rules(con, None)
        assert rows(con, query) == alone


def test_a_nag_comment_in_jira_is_process_and_its_words_are_not_kept(tmp_path):
    comments = [
        {"id": "901", "created": ts(10), "author": BO, "body": "Any update on this?"},
        {"id": "902", "created": ts(20), "author": ANA, "body": "Fixed the rounding in the total."},
        {"id": "903", "created": ts(30), "author": BO,  # Cloud (REST v3): a document body
         "body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
             {"type": "text", "text": "What's the status? I track it in "},
             {"type": "text", "text": "https://docs.google.com/spreadsheets/d/1x"}]}]}},
    ]
    con = build(tmp_path, [issue("ATL-1", -600, [], comments=comments)])
    got = {e: (c, s, r) for e, c, s, r in rows(
        con, "SELECT event_id, category, subkind, detail->>'is_reminder' FROM events "
             "WHERE kind = 'jira_comment' ORDER BY event_id")}
    assert got == {"jira:comment:901": ("process", "reminder", "true"),
                   "jira:comment:902": ("customer", None, "false"),
                   "jira:comment:903": ("process", "reminder", "false")}
    assert rows(con, "SELECT detail->>'is_status_request', detail->>'shadow_tool' FROM events "
                     "WHERE event_id = 'jira:comment:903'") == [
        ("true", "docs.google.com/spreadsheets")]
    for table in ("events", "work_items"):
        text = rows(con, f"SELECT string_agg({table}::VARCHAR, ' ') FROM {table}")[0][0]
        assert "update on" not in text.lower() and "rounding" not in text


def test_a_nag_comment_on_a_pull_request_is_process(tmp_path):
    user = {"id": 5, "login": "bo", "type": "User"}
    pr = {"number": 1, "title": "Fix rounding", "state": "open", "labels": [], "user": user,
          "html_url": "https://github.com/acme/atlas-app/pull/1", "created_at": ts(0),
          "pull_request": {"url": "https://api.github.com/repos/acme/atlas-app/pulls/1"}}
    url = "https://api.github.com/repos/acme/atlas-app/issues/1"
    comments = [{"id": 77, "created_at": ts(5), "user": user, "issue_url": url,
                 "body": "Friendly reminder: please update the ticket"},
                {"id": 78, "created_at": ts(9), "user": user, "issue_url": url,
                 "body": "Rebased on main"}]
    github = {"issues": [{"natural_key": "acme/atlas-app#1", "updated_at": None,
                          "source_url": url, "payload": pr}],
              "issue_comments": [{"natural_key": str(c["id"]), "updated_at": None,
                                  "source_url": url, "payload": c} for c in comments]}
    con = build(tmp_path, [], github=github)
    got = rows(con, "SELECT event_id, category, subkind FROM events WHERE kind = 'pr_comment' "
                    "ORDER BY event_id")
    assert got[0] == ("github:issue_comment:77", "process", "reminder")
    assert got[1][0] == "github:issue_comment:78" and got[1][1:] != ("process", "reminder")


@pytest.mark.extended  # in CI after the suite (4 s): a rare payload order
def test_a_renamed_user_gets_the_same_names_whichever_payload_comes_first(tmp_path) -> None:
    """Issues name a user with the object of their time: renamed in one, the e-mail hidden in
    another. Each field is the greatest value given (never a NULL over a value), in every
    build, whatever order the payloads are read in."""
    renamed = {**ANA, "displayName": "Ana Lima-Souza"}
    no_mail = {k: v for k, v in ANA.items() if k != "emailAddress"}
    got = []
    for n, order in enumerate(([ANA, renamed, no_mail], [no_mail, renamed, ANA],
                               [renamed, no_mail, ANA])):
        folder = tmp_path / str(n)
        folder.mkdir()
        con = build(folder, [issue(f"ATL-{i + 1}", i, [], creator=user)
                             for i, user in enumerate(order)])
        got.append(con.execute("SELECT login, email, display_name FROM identities"
                               " WHERE source = 'jira' AND source_user_id = 'ana'").fetchall())
    assert got == [[("ana", "ana@acme.example", "Ana Lima-Souza")]] * 3


@pytest.mark.extended  # in CI after the suite (3 s): a rare payload order
def test_an_account_committing_with_two_emails_equally_often_gets_one_in_every_order(tmp_path):
    """The account's e-mail is the one it commits with most; of a tie the first in order. mode()
    took whichever its hash table met first, and identity matching reads this e-mail."""
    author = {"id": 7, "login": "cy", "type": "User"}

    def commit(n: int, email: str) -> dict:
        sha = f"{n:040x}"
        return {"natural_key": sha, "updated_at": None,
                "source_url": f"https://api.github.com/repos/acme/atlas-app/commits/{sha}",
                "payload": {"sha": sha, "author": author, "parents": [],
                            "commit": {"message": f"change {n}", "author": {
                                "name": "Cy", "email": email, "date": ts(n)}}}}

    got = set()
    for n, emails in enumerate((["cy@home.example", "cy@acme.example"] * 2,
                                ["cy@acme.example", "cy@home.example"] * 2,
                                ["cy@home.example"] * 2 + ["cy@acme.example"] * 2)):
        folder = tmp_path / str(n)
        folder.mkdir()
        con = build(folder, [], github={"commits": [commit(i, e) for i, e in
                                                    enumerate(emails)]})
        got.add(con.execute("SELECT email FROM identities WHERE source = 'github'"
                            " AND source_user_id = '7'").fetchone())
    assert got == {("cy@acme.example",)}
