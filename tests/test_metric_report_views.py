"""The views behind the report's item list, per-person table and coverage section, on a
hand-built database: process effort per item, hours per person, sources and identities."""

from __future__ import annotations

from datetime import date

import pytest
from test_metric_db import TinyDB

JAN = date(2026, 1, 1)


@pytest.fixture(name="db")
def report_db() -> TinyDB:
    db = TinyDB()
    db.team("a", 5, ["2026-01"])
    db.person("bot", None, bot=True)
    db.con.execute("INSERT INTO identities VALUES ('slack', 'U9', 'stranger', NULL, 'Stranger',"
                   " false, NULL, 'unmatched')")
    for n in range(1, 8):
        db.item(f"jira:A-{n}", created="2025-12-01", assignee="a1")
    db.con.execute("UPDATE work_items SET title = 'Item ' || key, url = 'https://x/' || key")
    # process minutes on A-1..A-7 in January: A-3 most, A-1 and A-2 tie on minutes (A-2 has
    # more events), A-6 and A-7 tie on both (key decides)
    edits = {"A-1": [30], "A-2": [10, 20], "A-3": [50], "A-4": [5], "A-5": [4], "A-6": [3],
             "A-7": [3]}
    n = 0
    for key, minutes in edits.items():
        for m in minutes:
            n += 1
            db.event(f"e{n}", f"2026-01-{n + 4:02d} 10:00", "a1", "jira_field_edit",
                     item=f"jira:{key}", minutes=m)
    db.event("c1", "2026-01-05 11:00", "a2", "commit", item="jira:A-1", minutes=60)  # customer
    db.event("s1", "2026-01-06 12:00", "a2", "slack_message", category="customer", minutes=6)
    return db


def test_process_items_ranked_within_the_team_month(db: TinyDB) -> None:
    db.views()
    rows = db.con.execute(
        "SELECT key, title, url, source, events, hours, rank FROM metric_process_items"
        " WHERE team = 'a' AND month = ? ORDER BY rank", [JAN]).fetchall()
    assert rows == [
        ("A-3", "Item A-3", "https://x/A-3", "jira", 1, pytest.approx(50 / 60), 1),
        ("A-2", "Item A-2", "https://x/A-2", "jira", 2, pytest.approx(30 / 60), 2),
        ("A-1", "Item A-1", "https://x/A-1", "jira", 1, pytest.approx(30 / 60), 3),
        ("A-4", "Item A-4", "https://x/A-4", "jira", 1, pytest.approx(5 / 60), 4),
        ("A-5", "Item A-5", "https://x/A-5", "jira", 1, pytest.approx(4 / 60), 5),
        ("A-6", "Item A-6", "https://x/A-6", "jira", 1, pytest.approx(3 / 60), 6),
        ("A-7", "Item A-7", "https://x/A-7", "jira", 1, pytest.approx(3 / 60), 7),
    ]  # the commit on A-1 is customer work: not counted
    assert db.con.execute("SELECT DISTINCT people_count, suppressed FROM metric_process_items"
                          ).fetchall() == [(5, False)]


def test_process_items_of_a_small_team_month_are_flagged(db: TinyDB) -> None:
    """Like every team-month view, the item list says when it rests on too few people (SQL-user
    review: it had no suppressed flag)."""
    db.team("b", 2, ["2026-01"])
    db.event("b-edit", "2026-01-07 10:00", "b1", "jira_field_edit", item="jira:A-4", minutes=9)
    db.views()
    assert db.con.execute("SELECT team, people_count, suppressed FROM metric_process_items"
                          " WHERE team = 'b'").fetchall() == [("b", 2, True)]


def test_person_hours_per_category(db: TinyDB) -> None:
    db.views()
    rows = db.con.execute(
        "SELECT person_id, display_name, category, hours FROM metric_person_hours"
        " WHERE team = 'a' AND month = ? ORDER BY ALL", [JAN]).fetchall()
    assert rows == [("a1", "A1", "process", pytest.approx(125 / 60)),
                    ("a2", "A2", "customer", pytest.approx(66 / 60))]


def test_coverage_sources_and_identities(db: TinyDB) -> None:
    db.views()
    sources = db.con.execute(
        "SELECT source, events, work_items, timezone('UTC', first_at)::VARCHAR,"
        " timezone('UTC', last_at)::VARCHAR FROM metric_coverage_sources ORDER BY source"
    ).fetchall()
    assert sources == [
        ("github", 1, None, "2026-01-05 11:00:00", "2026-01-05 11:00:00"),
        ("jira", 8, 7, "2026-01-05 10:00:00", "2026-01-12 10:00:00"),
        ("slack", 1, None, "2026-01-06 12:00:00", "2026-01-06 12:00:00"),
    ]
    identities = db.con.execute(
        "SELECT source, accounts, unmatched FROM metric_coverage_identities ORDER BY source"
    ).fetchall()
    assert identities == [("jira", 5, 0), ("slack", 1, 1)]  # the bot is no human account


def test_process_items_tie_on_hours_whatever_order_they_were_added_in() -> None:
    """Minutes are summed in whole millionths: 0.1 + 0.2 + 0.3 as doubles is
    0.6000000000000001 in one order of addition and 0.6 in another, and DuckDB's threads add in
    no fixed order. Items whose minutes agree to a millionth tie (then events, then key decide),
    so ranks do not swap between two reads of the same database."""
    db = TinyDB()
    db.team("a", 5, ["2026-01"])
    for key in ("A-1", "A-2"):
        db.item(f"jira:{key}", created="2025-12-01", assignee="a1")
    db.event("e1", "2026-01-05 10:00", "a1", "jira_field_edit", item="jira:A-2",
             minutes=0.1 + 0.2 + 0.3)
    db.event("e2", "2026-01-06 10:00", "a1", "jira_field_edit", item="jira:A-1", minutes=0.6)
    db.views()
    rows = db.con.execute(
        "SELECT key, events, hours, rank FROM metric_process_items"
        " WHERE team = 'a' AND month = ? ORDER BY rank", [JAN]).fetchall()
    assert [(key, events, rank) for key, events, _, rank in rows] == [("A-1", 1, 1),
                                                                      ("A-2", 1, 2)]
    assert rows[0][2] == rows[1][2] == 0.6 / 60
