"""The plain form of Jira field values in work_items.fields (collectors/sql/20_jira.sql,
`_jira_text`): a cascading select keeps its child. Hand-built payloads in the shapes real sites
send (the recorded sets in ../shared/realdata have no such field): sources beside each shape."""

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


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    raw = tmp_path_factory.mktemp("values") / "raw.duckdb"
    issues = [
        # Server (bugs.indeed.com in indeedeng/imhotep-builder-jira's tests) and Cloud
        # (pycontribs/jira discussion #1818) send the child option inside the parent's
        issue("OPS-1", {"customfield_10100": option(20664, "Escaped bug",
                                                    child=option(20681, "Latent code issue")),
                        "customfield_10101": option(300, "Core")}),
        # a parent chosen without a child: no `child` key
        issue("OPS-2", {"customfield_10100": option(20661, "Misconfiguration")}),
        issue("OPS-3", {}),
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
    assert filled == {"jira:OPS-1": True, "jira:OPS-2": True, "jira:OPS-3": False}
