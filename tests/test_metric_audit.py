"""The audit's views (docs/metrics.md section 5): field edits by month of creation and of the edit,
channel noise, and who writes in which channel, on a hand-built database."""

from __future__ import annotations

from datetime import date

import pytest
from test_metric_db import TinyDB


@pytest.fixture(name="db")
def audit_db() -> TinyDB:
    db = TinyDB()
    db.team("a", 5, ["2026-01", "2026-02"])
    db.team("b", 5, ["2026-01", "2026-02"])
    db.person("bot", None, bot=True)
    db.item("jira:A-1", created="2026-01-10", assignee="a1")
    db.item("jira:A-2", created="2026-02-03", assignee="a2")
    db.item("jira:B-1", created="2026-01-20", assignee="b1")
    db.item("github:acme/x#1", created="2026-01-10", author="a1", kind="pr")
    for n, (at, person, item, field) in enumerate([
        ("2026-01-11 10:00", "a1", "jira:A-1", "customfield_1"),
        ("2026-02-02 10:00", "b1", "jira:A-1", "customfield_1"),  # a's item, b's edit
        ("2026-02-02 11:00", "bot", "jira:A-1", "customfield_1"),  # automation counts too
        ("2026-02-04 10:00", "a2", "jira:A-2", "customfield_1"),
        ("2026-02-05 10:00", "a2", "jira:A-2", "customfield_2"),
        ("2026-01-21 10:00", "b1", "jira:B-1", "customfield_1"),
    ]):
        db.event(f"edit-{n}", at, person, "jira_field_edit", item=item,
                 detail={"field_id": field})
    db.event("review", "2026-01-12 10:00", "a2", "pr_review", item="github:acme/x#1",
             detail={"field_id": "customfield_1"})  # not an edit
    db.channel("C1", "team-a")
    db.channel("C2", "nags")
    for n, (at, person, channel, subkind) in enumerate([
        ("2026-01-05 10:00", "a1", "C1", None),
        ("2026-01-06 10:00", "a1", "C1", None),
        ("2026-01-07 10:00", "a2", "C1", None),
        ("2026-01-08 10:00", "a3", "C1", "reminder"),  # a person's reminder is no human talk
        ("2026-01-09 10:00", "bot", "C1", None),
        ("2026-02-02 10:00", "b1", "C1", None),
        ("2026-01-05 09:00", "bot", "C2", "reminder"),
        ("2026-01-12 09:00", "bot", "C2", "reminder"),
        ("2026-01-13 09:00", None, "C2", None),  # an account tied to nobody
    ]):
        db.event(f"msg-{n}", at, person, "slack_message", channel=channel, subkind=subkind,
                 category="process" if subkind else "customer")
    db.event("no-channel", "2026-01-05 11:00", "a1", "slack_message")
    return db


def test_field_edits_by_month_created_and_month_edited(db: TinyDB) -> None:
    db.views()
    rows = db.con.execute(
        "SELECT team, created_month, month, field_id, edits FROM metric_audit_field_edits"
        " ORDER BY ALL").fetchall()
    jan, feb = date(2026, 1, 1), date(2026, 2, 1)
    assert rows == [
        ("a", jan, jan, "customfield_1", 1),
        ("a", jan, feb, "customfield_1", 2),  # b1's and the bot's edits of a's item
        ("a", feb, feb, "customfield_1", 1),
        ("a", feb, feb, "customfield_2", 1),
        ("b", jan, jan, "customfield_1", 1),
    ]


def test_channel_noise_per_channel_and_month(db: TinyDB) -> None:
    db.views()
    rows = db.con.execute(
        "SELECT name, month, messages, human_messages, reminders_and_bots, noise_share"
        " FROM metric_audit_channel_noise ORDER BY name, month").fetchall()
    jan, feb = date(2026, 1, 1), date(2026, 2, 1)
    assert rows == [
        ("nags", jan, 3, 1, 2, pytest.approx(2 / 3)),
        ("team-a", jan, 5, 3, 2, pytest.approx(2 / 5)),
        ("team-a", feb, 1, 1, 0, 0.0),
    ]


def test_channel_writers_per_author(db: TinyDB) -> None:
    db.views()
    rows = db.con.execute(
        "SELECT channel_id, month, person_id, team, is_bot, messages"
        " FROM metric_audit_channel_writers ORDER BY ALL").fetchall()
    jan, feb = date(2026, 1, 1), date(2026, 2, 1)
    assert rows == [
        ("C1", jan, "a1", "a", False, 2),
        ("C1", jan, "a2", "a", False, 1),
        ("C1", jan, "a3", "a", False, 1),
        ("C1", jan, "bot", None, True, 1),
        ("C1", feb, "b1", "b", False, 1),
        ("C2", jan, "bot", None, True, 2),
        ("C2", jan, None, None, False, 1),
    ]
