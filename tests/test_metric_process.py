"""Allocation, overhead and delivery views on hand-built data (docs/metrics.md sections 3, 5, 6)."""

from __future__ import annotations

import pytest
from test_metric_db import TinyDB, month

DEC, JAN = month("2025-12"), month("2026-01")


@pytest.fixture(name="db")
def tiny_db() -> TinyDB:
    return TinyDB()


def test_overhead_ratio_and_change_against_the_verdicts_baseline(db: TinyDB) -> None:
    db.team("t", 5, ["2025-12", "2026-01"])
    for n, (day, person, kind, category, minutes) in enumerate([
        ("2025-12-03", "t1", "commit", "customer", 60),
        ("2025-12-03", "t2", "slack_message", "enabling", 30),
        ("2025-12-04", "t3", "jira_field_edit", "process", 10),
        ("2025-12-04", "t4", "slack_message", "unclassified", 20),
        ("2026-01-05", "t1", "commit", "customer", 60),
        ("2026-01-05", "t2", "slack_message", "enabling", 20),
        ("2026-01-06", "t3", "jira_field_edit", "process", 20),
    ]):
        db.event(f"e{n}", f"{day} 10:00", person, kind, category=category, minutes=minutes)
    db.views()
    # the baseline is the months the month's verdict was compared with (issue 17 (f))
    db.con.execute("INSERT INTO health_verdicts(team, month, verdict, reason, people_count,"
                   " baseline_months, baseline_change) VALUES"
                   " ('t', ?, 'neutral', 'x', 5, [], NULL), ('t', ?, 'neutral', 'x', 5, [?], NULL)",
                   [DEC, JAN, DEC])
    dec = db.one("SELECT overhead_ratio, baseline_ratio, unclassified_hours FROM metric_overhead"
                 " WHERE team = 't' AND month = ?", [DEC])
    assert dec == (pytest.approx(0.1), None, pytest.approx(20 / 60))
    jan = db.one("SELECT overhead_ratio, baseline_ratio, baseline_months, change_pp"
                 " FROM metric_overhead WHERE team = 't' AND month = ?", [JAN])
    assert jan == (pytest.approx(0.2), pytest.approx(0.1), 1, pytest.approx(10.0))
    shares = dict(db.con.execute("SELECT source, share FROM metric_work_sources"
                                 " WHERE team = 't' AND month = ?", [JAN]).fetchall())
    assert shares == {"github": pytest.approx(0.6), "slack": pytest.approx(0.2),
                      "jira": pytest.approx(0.2)}


def paperwork_org(db: TinyDB) -> None:
    db.team("t", 5, ["2026-01"])
    db.item("jira:T-1", created="2026-01-01", resolved="2026-01-20", assignee="t1")
    db.item("github:acme/app#1", created="2026-01-05 09:00", merged="2026-01-18 10:00",
            author="t1", linked=["T-1"])
    db.item("jira:T-3", created="2026-01-01", assignee="t3", category="enabling")
    db.item("jira:T-4", created="2026-01-01", assignee="t3")
    db.event("e1", "2026-01-05 10:00", "t1", "jira_transition", item="jira:T-1")
    db.event("c1", "2026-01-05 12:00", "t1", "commit", item="github:acme/app#1")
    db.event("e2", "2026-01-10 10:00", "t3", "jira_field_edit", item="jira:T-3")
    db.event("e3", "2026-01-11 10:00", "t3", "jira_field_edit", item="jira:T-4")
    db.event("e4", "2026-01-11 20:00", "t2", "jira_comment", item="jira:T-4", source="jira")
    db.event("m1", "2026-01-18 10:00", "t1", "pr_merged", item="github:acme/app#1")
    db.event("e5", "2026-01-20 10:00", "t1", "jira_transition", item="jira:T-1")
    db.event("r1", "2026-01-21 10:00", "t5", "release", detail={"repo": "acme/app"})


def test_paperwork_ratio_needs_no_activity_within_24h(db: TinyDB) -> None:
    paperwork_org(db)
    db.views()
    flags = dict(db.con.execute(
        "SELECT event_id, paperwork FROM metric_event_facts WHERE source = 'jira'").fetchall())
    assert flags == {"e1": False, "e2": True, "e3": False, "e4": None, "e5": True}
    row = db.one("SELECT jira_events, paperwork_events, paperwork_ratio FROM metric_paperwork"
                 " WHERE team = 't' AND month = ?", [JAN])
    assert row == (5, 2, pytest.approx(0.4))


def test_process_coupling_is_share_of_touched_items_delivered_within_30_days(db: TinyDB) -> None:
    paperwork_org(db)
    db.views()
    row = db.one("SELECT items_touched, items_coupled, process_coupling FROM metric_coupling"
                 " WHERE team = 't' AND month = ?", [JAN])
    assert row == (3, 1, pytest.approx(1 / 3))  # T-1 (its PR merged); not T-3, T-4


def test_coupling_window_is_30_days(db: TinyDB) -> None:
    db.team("t", 5, ["2026-01", "2026-02", "2026-03"])
    db.item("jira:T-1", created="2026-01-01", assignee="t1")
    db.item("github:acme/app#1", created="2026-02-01", merged="2026-02-09 10:00", author="t1",
            linked=["T-1"])
    db.event("near", "2026-01-11 10:00", "t2", "jira_field_edit", item="jira:T-1")  # 29 days
    db.event("far", "2026-01-09 10:00", "t2", "jira_field_edit", item="jira:T-1")  # 31 days
    db.event("after", "2026-03-12 10:00", "t2", "jira_field_edit", item="jira:T-1")  # 31 days
    db.views()
    flags = dict(db.con.execute("SELECT event_id, coupled FROM metric_event_facts").fetchall())
    assert flags == {"near": True, "far": False, "after": False}


def test_process_touches_and_customer_delivery(db: TinyDB) -> None:
    paperwork_org(db)
    db.views()
    touches = db.one("SELECT items_shipped, process_events, touches_per_item"
                     " FROM metric_process_touches WHERE team = 't' AND month = ?", [JAN])
    assert touches == (1, 2, pytest.approx(2.0))
    delivery = db.one(
        "SELECT customer_items_resolved, customer_prs_merged, prs_merged, releases,"
        " median_customer_lead_time_days, traceable_share FROM metric_customer_delivery"
        " WHERE team = 't' AND month = ?", [JAN])
    assert delivery == (1, 1, 1, 1, pytest.approx(19.0), pytest.approx(1.0))


def reminders_org(db: TinyDB) -> None:
    for n in range(1, 6):
        db.person(f"t{n}", "t", ["2026-01"], slack_id=f"U{n}")
    db.person("bot", None, bot=True)
    db.channel("C1", "pmtool-updates")
    db.item("jira:T-9", created="2026-01-01", resolved="2026-01-25", assignee="t2")
    db.item("jira:T-10", created="2026-01-01", resolved="2026-01-26", assignee="t3")
    db.event("post", "2026-01-05 10:00", "t3", "slack_message", channel="C1", category="process")
    db.event("r1", "2026-01-12 10:00", "bot", "slack_message", channel="C1", category="process",
             subkind="reminder", detail={"mentions": ["U2"]})
    db.event("p1", "2026-01-12 11:00", "t2", "jira_field_edit", item="jira:T-9")  # prompted
    db.event("p2", "2026-01-14 11:00", "t2", "jira_transition", item="jira:T-9")  # 49 h later
    db.event("p3", "2026-01-12 15:00", "t3", "jira_field_edit", item="jira:T-10")  # listener
    db.event("p4", "2026-01-12 12:00", "t4", "jira_field_edit", item="jira:T-10")  # not reached
    db.event("r2", "2026-01-20 10:00", "t1", "slack_message", channel="C1", category="process",
             subkind="reminder")  # a human "please update": reaches t3, not its sender
    db.event("s1", "2026-01-15 10:00", "t4", "slack_message", category="enabling",
             detail={"shadow_tool": "docs.google.com/spreadsheets"})
    db.event("s2", "2026-01-15 11:00", "t5", "slack_message", category="enabling",
             detail={"shadow_tool": False})


def test_reminder_reach_mentions_and_channel_listeners(db: TinyDB) -> None:
    reminders_org(db)
    db.views()
    reach = db.con.execute("SELECT reminder_event_id, person_id FROM metric_reminder_reach"
                           " ORDER BY 1, 2").fetchall()
    assert reach == [("r1", "t2"), ("r1", "t3"), ("r2", "t3")]


def test_organic_share_and_nag_load(db: TinyDB) -> None:
    reminders_org(db)
    db.views()
    organic = db.one("SELECT process_events, prompted_events, organic_share"
                     " FROM metric_organic_share WHERE team = 't' AND month = ?", [JAN])
    assert organic == (6, 2, pytest.approx(4 / 6))  # p1 and p3 prompted
    nag = db.one("SELECT reminders, reminders_received, people_reminded, items_done, nag_load,"
                 " reminders_per_person FROM metric_nag_load WHERE team = 't' AND month = ?",
                 [JAN])
    assert nag == (2, 3, 2, 2, pytest.approx(1.0), pytest.approx(3 / 5))


def test_shadow_tools(db: TinyDB) -> None:
    reminders_org(db)
    db.views()
    row = db.one("SELECT shadow_tool_messages, people_sharing, per_person FROM"
                 " metric_shadow_tools WHERE team = 't' AND month = ?", [JAN])
    assert row == (1, 1, pytest.approx(0.2))


def test_suppressed_under_five_people(db: TinyDB) -> None:
    db.team("small", 4, ["2026-01"])
    db.event("e", "2026-01-05 10:00", "small1", "commit", minutes=30)
    db.views()
    assert db.one("SELECT people_count, suppressed FROM metric_overhead") == (4, True)


def test_field_fill_rate_and_edits(db: TinyDB) -> None:
    db.team("t", 5, ["2026-01"])
    for n in (1, 2, 3):
        db.item(f"jira:T-{n}", created=f"2026-01-0{n}", assignee="t1")
        db.con.execute("INSERT INTO item_fields VALUES (?, 'customfield_10100', 'Business Value',"
                       " NULL, true, ?)", [f"jira:T-{n}", n == 1])
        db.con.execute("INSERT INTO item_fields VALUES (?, 'customfield_10300', 'Customer Impact',"
                       " NULL, true, false)", [f"jira:T-{n}"])
    for n in (1, 2):
        db.event(f"bv{n}", f"2026-01-1{n} 10:00", "t2", "jira_field_edit", item="jira:T-1",
                 detail={"field": "Business Value", "field_id": "customfield_10100"})
    db.views()
    rows = {r[0]: r[1:] for r in db.con.execute(
        "SELECT field_name, items_created, items_with_value, fill_rate, edits, items_edited,"
        " dead_weight FROM metric_field_fill WHERE team = 't' AND month = ?", [JAN]).fetchall()}
    assert rows["Business Value"] == (3, 1, pytest.approx(1 / 3), 2, 1, False)
    assert rows["Customer Impact"] == (3, 0, 0.0, 0, 0, True)
