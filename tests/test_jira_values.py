"""The plain form of Jira field values in work_items.fields (collectors/sql/20_jira.sql,
`_jira_text`): a cascading select keeps its child, a Data Center sprint string keeps a name with
commas in it, whatever the order of its keys. Hand-built payloads in the shapes real sites send
(the recorded sets in ../shared/realdata have neither field): sources beside each shape."""

from __future__ import annotations

import json
import zlib

import pytest
from test_jira_normalize import normalize

from collectors import jira_rows as rows
from processhealth.store import RawStore

CASCADE = "com.atlassian.jira.plugin.system.customfieldtypes:cascadingselect"
SELECT = "com.atlassian.jira.plugin.system.customfieldtypes:select"
GH_SPRINT = "com.pyxis.greenhopper.jira:gh-sprint"
FIELDS = [
    {"id": "customfield_10100", "name": "Root Cause", "custom": True,
     "schema": {"type": "option-with-child", "custom": CASCADE, "customId": 10100}},
    {"id": "customfield_10101", "name": "Team", "custom": True,
     "schema": {"type": "option", "custom": SELECT, "customId": 10101}},
    {"id": "customfield_10020", "name": "Sprint", "custom": True,
     "schema": {"type": "array", "items": "string", "custom": GH_SPRINT, "customId": 10020}},
]
SITE = "https://jira.acme.example"
SPRINT = "com.atlassian.greenhopper.service.sprint.Sprint@"


def option(option_id: int, value: str, **more) -> dict:
    """A select option as GET /issue returns it: self, value, id (and `child` for a cascade)."""
    return {"self": f"{SITE}/rest/api/2/customFieldOption/{option_id}", "value": value,
            "id": str(option_id), **more}


def issue(key: str, fields: dict, histories: list[dict] | None = None) -> dict:
    return {"id": str(zlib.crc32(key.encode())), "key": key,
            "self": f"{SITE}/rest/api/2/issue/{key}",
            "fields": {"summary": key, "issuetype": {"name": "Bug"}, "project": {"key": "OPS"},
                       "created": "2026-03-02T09:00:00.000+0000",
                       "creator": {"key": "ana", "name": "ana", "displayName": "Ana Lima"},
                       "status": {"id": "1", "name": "Open", "statusCategory": {"key": "new"}},
                       "labels": [], **fields},
            "changelog": {"startAt": 0, "total": len(histories or []),
                          "histories": histories or []}}


# Data Center's Sprint field: one Greenhopper toString() per sprint. Jira versions order the keys
# differently; the name is read up to the next known key, so commas in it (or in the goal) stay.
SPRINT_STRINGS = {
    # Jira 6/7 order, as in Atlassian's "Deprecation notice - toString representation of sprints
    # in Get issue response" and CognizantOneDevOps/Insights#114 (goal last, with commas)
    "OPS-1": [SPRINT + "77c19629[id=266,rapidViewId=174,state=CLOSED,name=Sprint 4, Team A,"
              "startDate=2018-03-06T09:10:57.810-08:00,endDate=2018-03-19T09:10:00.000-07:00,"
              "completeDate=2018-03-20T07:07:14.478-07:00,sequence=266,goal=Search, then export,]",
              SPRINT + "658a6b7d[id=318,rapidViewId=174,state=ACTIVE,name=Sprint 5,"
              "startDate=2018-05-01T09:24:47.212-07:00,endDate=2018-05-15T09:00:00.000-07:00,"
              "completeDate=<null>,sequence=318,goal=<null>]"],
    # the goal right after the name, commas in it (pycontribs/jira#820)
    "OPS-2": [SPRINT + "38b9df80[id=24,rapidViewId=5,state=CLOSED,name=What, About Bob?,"
              "goal=Scheduled email, segment groups, and 2FA,startDate=2019-07-01T14:30:37.829Z,"
              "endDate=2019-07-12T12:56:00.000Z,completeDate=2019-07-15T14:48:57.952Z,"
              "sequence=24]"],
    # Jira 8: activatedDate, synced, autoStartStop, incompleteIssuesDestinationId added (the
    # order simulation/jira_api.py's greenhopper_sprint writes)
    "OPS-3": [SPRINT + "20be031a[id=1102,rapidViewId=480,state=FUTURE,name=Q3, week 1-2,"
              "startDate=<null>,endDate=<null>,completeDate=<null>,activatedDate=<null>,"
              "sequence=1102,goal=<null>,synced=false,autoStartStop=false,"
              "incompleteIssuesDestinationId=<null>]"],
    # Jira 9+ Data Center: keys in alphabetical order, the name before rapidViewId
    # (ICTU/quality-time#12884); a goal before the name may hold commas too
    "OPS-4": [SPRINT + "715e3c72[activatedDate=2026-06-19T17:35:03.865+02:00,"
              "autoStartStop=false,completeDate=<null>,endDate=2026-10-26T17:35:00.000+01:00,"
              "goal=Ship it, then rest,id=59928,incompleteIssuesDestinationId=<null>,"
              "name=Sprint 36, Platform,rapidViewId=18632,sequence=59928,"
              "startDate=2026-06-19T17:35:00.000+02:00,state=ACTIVE,synced=false]"],
    # a short string ending in the name
    "OPS-5": [SPRINT + "1f[id=1,name=Sprint 4]"],
}
SPRINT_NAMES = {"OPS-1": ["Sprint 4, Team A", "Sprint 5"], "OPS-2": ["What, About Bob?"],
                "OPS-3": ["Q3, week 1-2"], "OPS-4": ["Sprint 36, Platform"], "OPS-5": ["Sprint 4"]}

# The Sprint field's changelog: ids and plain names, several sprints joined by ", " (names with
# commas are then ambiguous: solidify/jira-azuredevops-migrator#1051). Kept whole in detail.
SPRINT_EDIT = {"field": "Sprint", "fieldtype": "custom", "from": "266", "to": "266, 318",
               "fromString": "Sprint 4, Team A", "toString": "Sprint 4, Team A, Sprint 5"}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    raw = tmp_path_factory.mktemp("values") / "raw.duckdb"
    issues = [
        # Server (bugs.indeed.com in indeedeng/imhotep-builder-jira's tests) and Cloud
        # (pycontribs/jira discussion #1818) send the child option inside the parent's
        issue("OPS-1", {"customfield_10100": option(20664, "Escaped bug",
                                                    child=option(20681, "Latent code issue")),
                        "customfield_10101": option(300, "Core"),
                        "customfield_10020": SPRINT_STRINGS["OPS-1"]},
              [{"id": "501", "created": "2026-03-03T09:00:00.000+0000",
                "author": {"key": "ana", "name": "ana"}, "items": [SPRINT_EDIT]}]),
        # a parent chosen without a child: no `child` key
        issue("OPS-2", {"customfield_10100": option(20661, "Misconfiguration"),
                        "customfield_10020": SPRINT_STRINGS["OPS-2"]}),
        *(issue(key, {"customfield_10020": SPRINT_STRINGS[key]})
          for key in ("OPS-3", "OPS-4", "OPS-5")),
    ]
    with RawStore(raw) as store:
        store.save("jira", "fields", rows.field_rows(FIELDS, f"{SITE}/rest/api/2/field"),
                   scope="site")
        store.save("jira", "issues", [{"natural_key": i["key"], "updated_at": None,
                                       "source_url": i["self"], "payload": i} for i in issues],
                   scope="OPS")
    return normalize(raw)


def fields(con) -> dict[str, dict]:
    return {key: json.loads(f) for key, f in con.execute(
        "SELECT key, fields::VARCHAR FROM work_items ORDER BY key").fetchall()}


def test_a_cascading_select_reads_parent_dash_child(con):
    got = fields(con)
    assert got["OPS-1"]["Root Cause"] == "Escaped bug - Latent code issue"
    assert got["OPS-2"]["Root Cause"] == "Misconfiguration"  # no child chosen
    assert got["OPS-1"]["Team"] == "Core"  # a plain select: its value, as before
    filled = dict(con.execute("SELECT item_id, has_value FROM item_fields "
                              "WHERE field_id = 'customfield_10100'").fetchall())
    assert filled == {"jira:OPS-1": True, "jira:OPS-2": True, "jira:OPS-3": False,
                      "jira:OPS-4": False, "jira:OPS-5": False}


def test_data_center_sprint_names_keep_their_commas_in_any_key_order(con):
    got = {key: f.get("sprint") for key, f in fields(con).items()}
    assert got == SPRINT_NAMES


def test_sprint_changelog_names_are_kept_whole(con):
    row = con.execute("SELECT detail ->> 'from', detail ->> 'to', detail ->> 'to_id' FROM events "
                      "WHERE kind = 'jira_field_edit' AND field = 'Sprint'").fetchall()
    assert row == [("Sprint 4, Team A", "Sprint 4, Team A, Sprint 5", "266, 318")]


def test_a_status_without_a_name_is_left_out_not_a_failed_build(tmp_path):
    """jira_statuses.name is NOT NULL: a status of the site's list without a name (seen in a
    hand-made import by the review of Jira by issue) stopped every build; no issue can name it,
    so it is left out."""
    raw = tmp_path / "raw.duckdb"
    with RawStore(raw) as store:
        store.save("jira", "statuses", [{"natural_key": "10099", "updated_at": None, "payload": {
            "id": "10099", "self": f"{SITE}/rest/api/2/status/10099",
            "statusCategory": {"key": "indeterminate"}}}], scope="site")
        store.save("jira", "issues", [{"natural_key": "OPS-9", "updated_at": None,
                                       "payload": issue("OPS-9", {})}], scope="OPS")
    con = normalize(raw)
    assert con.execute("SELECT status_id, name, status_category FROM jira_statuses").fetchall() \
        == [("1", "Open", "todo")]
    assert con.execute("SELECT count(*) FROM work_items").fetchone()[0] == 1
