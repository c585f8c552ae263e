"""Adoption of a process change and the weekly series (docs/metrics.md sections 7 and 8)."""

from __future__ import annotations

from datetime import date

import pytest
from test_metric_db import TinyDB

WEEKS = {  # Monday -> who edited the tool's field that week
    "2026-01-05": ["t1", "t2", "t3", "t4"],
    "2026-01-12": ["t1", "t2", "t3", "t4", "t5"],  # the peak: 5/5
    "2026-01-19": ["t2", "t3", "t4", "t5"],
    "2026-01-26": ["t3", "t4"],  # 2/5 < half the peak: half-life 2 weeks
    "2026-02-02": ["t5"],
}
BEFORE = {"t1": 600, "t2": 500, "t3": 100, "t4": 50, "t5": 10}  # customer minutes, Q4 2025


@pytest.fixture(name="db")
def adoption_db() -> TinyDB:
    db = TinyDB()
    for n in range(1, 6):
        db.person(f"t{n}", "t", ["2026-01", "2026-02"], slack_id=f"U{n}")
    db.person("bot", None, bot=True)
    db.item("jira:T-1", created="2025-12-01", assignee="t1")
    for person, minutes in BEFORE.items():
        db.event(f"c-{person}", "2025-11-10 10:00", person, "commit", minutes=minutes)
    for monday, people in WEEKS.items():
        for person in people:
            db.event(f"{monday}-{person}", f"{monday} 10:00", person, "jira_field_edit",
                     item="jira:T-1", detail={"field": "Business Value"})
    db.event("other", "2026-01-13 10:00", "t1", "jira_field_edit", item="jira:T-1",
             detail={"field": "Story Points"})
    db.event("nag", "2026-01-26 09:00", "bot", "slack_message", subkind="reminder",
             category="process", detail={"mentions": ["U3"]})
    db.event("end", "2026-02-28 10:00", "t1", "slack_message", category="enabling")
    db.change("pm-tool", "2026-01-05", "t", {"field": ["Business Value"]})
    return db


def test_weekly_active_share_from_the_start(db: TinyDB) -> None:
    db.views()
    shares = db.con.execute("SELECT week, active_users, active_share FROM metric_adoption_weekly"
                            " ORDER BY week").fetchall()
    assert [(w.isoformat(), n) for w, n, _ in shares] == [
        ("2026-01-05", 4), ("2026-01-12", 5), ("2026-01-19", 4), ("2026-01-26", 2),
        ("2026-02-02", 1), ("2026-02-09", 0), ("2026-02-16", 0)]  # last complete week
    assert shares[1][2] == pytest.approx(1.0)


def test_adoption_half_life_organic_share_and_best_performer_engagement(db: TinyDB) -> None:
    db.views()
    row = db.one("SELECT peak_share, peak_week, half_life_weeks, organic_share,"
                 " top_quartile_rate, rest_rate, best_performer_engagement, top_people,"
                 " people_count FROM metric_adoption WHERE change = 'pm-tool' AND team = 't'")
    peak, peak_week, half_life, organic, top, rest, engagement, top_people, people = row
    assert (peak, peak_week, half_life) == (pytest.approx(1.0), date(2026, 1, 12), 2)
    assert organic == pytest.approx(15 / 16)  # t3's edit an hour after the reminder
    # The top quartile would be t1 and t2, two people: a figure about them alone. The top
    # group is at least 5 people, so all five are in it and no rest is left to compare with.
    assert (top, rest, engagement) == (None, None, None)
    assert (top_people, people) == (5, 5)
    assert db.one("SELECT engagement_suppressed, suppressed FROM metric_adoption") == (True, False)


@pytest.mark.parametrize(("size", "top_group"), [(9, None), (10, 5), (19, 5), (21, 6), (24, 6)])
def test_best_performer_groups_each_hold_at_least_the_minimum_group(size: int,
                                                                    top_group: int | None) -> None:
    """The top group is the top quartile (ceil(n / 4) people) or 5 people when that is fewer;
    the rest must be 5 too. Top-group people adopt in 1 of the 5 after-window weeks and the rest
    in 2: another split moves a person between the groups and changes a rate."""
    db = TinyDB()
    people = db.team("t", size, ["2026-01", "2026-02"])
    db.item("jira:T-1", created="2025-12-01", assignee=people[0])
    expected_top = top_group or 0
    for place, person in enumerate(people):  # customer minutes before: t1 most
        db.event(f"c-{person}", "2025-11-10 10:00", person, "commit", minutes=1000 - place)
        weeks = ["2026-01-19"] if place < expected_top else ["2026-01-19", "2026-01-26"]
        for monday in weeks:
            db.event(f"{monday}-{person}", f"{monday} 10:00", person, "jira_field_edit",
                     item="jira:T-1", detail={"field": "Business Value"})
    db.event("end", "2026-02-28 10:00", people[0], "slack_message", category="enabling")
    db.change("pm-tool", "2026-01-05", "t", {"field": ["Business Value"]})
    db.views()
    top, rest, engagement, top_people, suppressed = db.one(
        "SELECT top_quartile_rate, rest_rate, best_performer_engagement, top_people,"
        " engagement_suppressed FROM metric_adoption")
    if top_group is None:
        assert (top, rest, engagement, suppressed) == (None, None, None, True)
        return
    assert (top_people, suppressed) == (top_group, False)
    assert (top, rest) == (pytest.approx(0.2), pytest.approx(0.4))
    assert engagement == pytest.approx(0.5)


def test_scope_matches_only_the_changes_team(db: TinyDB) -> None:
    db.person("o1", "other", ["2026-01"])
    db.event("o1-edit", "2026-01-12 11:00", "o1", "jira_field_edit", item="jira:T-1",
             detail={"field": "Business Value"})
    db.views()
    assert db.one("SELECT count(*) FROM metric_scope_events WHERE person_id = 'o1'") == 0


def test_weekly_series_fill_counts_and_skip_empty_ratios() -> None:
    db = TinyDB()
    db.team("t", 5, ["2026-01"])
    db.event("a", "2026-01-05 10:00", "t1", "commit", minutes=80)
    db.event("b", "2026-01-06 10:00", "t2", "jira_field_edit", item="jira:T-1", minutes=20)
    db.item("jira:T-1", created="2026-01-01", resolved="2026-01-07 12:00", assignee="t1")
    db.event("end", "2026-01-31 10:00", "t1", "slack_message", category="unclassified")
    db.views()
    rows = {(r[0].isoformat(), r[1]): r[2] for r in db.con.execute(
        "SELECT week, metric, value FROM metric_weekly WHERE team = 't'").fetchall()}
    weeks = sorted({w for w, _ in rows})
    assert weeks == ["2026-01-05", "2026-01-12", "2026-01-19"]  # the 26th's week ends in Feb
    assert rows[("2026-01-05", "overhead_ratio")] == pytest.approx(0.2)
    assert rows[("2026-01-05", "customer_throughput")] == 1
    assert rows[("2026-01-12", "customer_throughput")] == 0
    assert ("2026-01-12", "overhead_ratio") not in rows
    assert rows[("2026-01-05", "customer_lead_time_days")] == pytest.approx(6.5)


def test_each_scope_key_matches_its_footprint() -> None:
    db = TinyDB()
    db.team("t", 5, ["2026-01"])
    db.channel("C1", "pmtool-updates")
    db.channel("C2", "eng-t")
    db.item("jira:P-1", created="2026-01-01", assignee="t1", type="Experiment",
            labels=["experiment"])
    db.item("jira:X-1", created="2026-01-01", assignee="t1", container="X")
    db.item("github:acme/t-app#1", created="2026-01-02", author="t1", container="acme/t-app")
    at = "2026-01-05 10:00"
    db.event("field", at, "t1", "jira_field_edit", item="jira:X-1",
             detail={"field": "Business Value", "field_id": "customfield_10100"})
    db.event("status", at, "t1", "jira_transition", item="jira:X-1",
             detail={"to_status": "Awaiting PM Review"})
    db.event("chan", at, "t1", "slack_message", channel="C1", category="process")
    db.event("other-chan", at, "t1", "slack_message", channel="C2", category="enabling")
    db.event("on-p1", at, "t1", "jira_comment", item="jira:P-1", source="jira")
    db.event("commit", at, "t1", "commit", item="github:acme/t-app#1")
    db.event("worklog", at, "t1", "jira_worklog", item="jira:X-1")
    scopes = {
        "field": {"field": ["business value"]}, "field_id": {"fields": ["customfield_10100"]},
        "status": {"status": ["Awaiting PM Review"]}, "channel": {"channel": ["pmtool-*"]},
        "label": {"label": ["experiment"]}, "type": {"issue_type": ["Experiment"]},
        "project": {"jira_project": ["P"]}, "repo": {"repo": ["*-app"]},
        "kind": {"kind": "jira_worklog"},
    }
    for name, scope in scopes.items():
        db.change(name, "2026-01-05", "t", scope)
    db.views()
    got: dict[str, set[str]] = {}
    for change, event in db.con.execute("SELECT change, event_id FROM metric_scope_events"
                                        ).fetchall():
        got.setdefault(change, set()).add(event)
    assert got == {
        "field": {"field"}, "field_id": {"field"}, "status": {"status"}, "channel": {"chan"},
        "label": {"on-p1"}, "type": {"on-p1"}, "project": {"on-p1"}, "repo": {"commit"},
        "kind": {"worklog"},
    }


def test_weekly_series_start_with_the_first_week_the_data_covers() -> None:
    """A week that began before the first event is not a week without work: it is left out,
    as the weeks after the data ends are (SQL-user review: the demo's series began with two
    weeks of zeros before its first event, which an experiment's before window would read
    as no throughput)."""
    db = TinyDB()
    db.team("t", 5, ["2026-01"])
    db.event("a", "2026-01-07 10:00", "t1", "commit", minutes=80)  # a Wednesday
    db.event("end", "2026-01-31 10:00", "t1", "slack_message", category="enabling")
    db.views()
    weeks = [w.isoformat() for (w,) in db.con.execute(
        "SELECT DISTINCT week FROM metric_weekly WHERE team = 't' ORDER BY 1").fetchall()]
    assert weeks == ["2026-01-12", "2026-01-19"]


def test_weekly_series_of_a_small_team_month_are_flagged() -> None:
    """Like every team-month view, the weekly series say when they rest on too few people
    (SQL-user review: metric_weekly had no suppressed column)."""
    db = TinyDB()
    db.team("t", 5, ["2026-01"])
    db.team("s", 2, ["2026-01"])
    db.event("a", "2026-01-05 10:00", "t1", "commit", minutes=80)
    db.event("b", "2026-01-05 11:00", "s1", "commit", minutes=80)
    db.event("end", "2026-01-31 10:00", "t1", "slack_message", category="enabling")
    db.views()
    flags = dict(db.con.execute("SELECT DISTINCT team, suppressed FROM metric_weekly").fetchall())
    assert flags == {"t": False, "s": True}
