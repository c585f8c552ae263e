"""Flow views on hand-built data with hand-computed values (docs/metrics.md section 4)."""

from __future__ import annotations

import pytest
from test_metric_db import TinyDB, month

JAN = month("2026-01")


@pytest.fixture(name="db")
def tiny_db() -> TinyDB:
    return TinyDB()


def two_items(db: TinyDB) -> None:
    """T-1: in progress 2 days, blocked 2, in progress 1 -> flow 5 days, 3 active (0.6).
    T-2: in progress 2 days -> flow 2 days, efficiency 1.0."""
    db.team("t", 5, ["2026-01"])
    db.item("jira:T-1", created="2026-01-01", resolved="2026-01-07", assignee="t1")
    db.move("jira:T-1", "2026-01-02", "To Do", "In Progress")
    db.move("jira:T-1", "2026-01-04", "In Progress", "Blocked")
    db.move("jira:T-1", "2026-01-06", "Blocked", "In Progress")
    db.move("jira:T-1", "2026-01-07", "In Progress", "Done")
    db.item("jira:T-2", created="2026-01-01", resolved="2026-01-05", assignee="t2")
    db.move("jira:T-2", "2026-01-03", "To Do", "In Progress")
    db.move("jira:T-2", "2026-01-05", "In Progress", "Done")
    db.event("last", "2026-01-31 12:00", "t1", "slack_message", source="slack")


def test_flow_efficiency_lead_and_flow_time(db: TinyDB) -> None:
    two_items(db)
    db.views()
    items = dict(db.con.execute(
        "SELECT item_id, flow_efficiency FROM metric_flow_items").fetchall())
    assert items == {"jira:T-1": pytest.approx(0.6), "jira:T-2": pytest.approx(1.0)}
    row = db.one("SELECT items_resolved, median_lead_time_days, median_flow_time_days,"
                 " median_flow_efficiency, suppressed FROM metric_flow"
                 " WHERE team = 't' AND month = ?", [JAN])
    assert row == (2, pytest.approx(5.0), pytest.approx(3.5), pytest.approx(0.8), False)


def test_time_in_status(db: TinyDB) -> None:
    two_items(db)
    db.views()
    rows = {r[0]: r[1:] for r in db.con.execute(
        "SELECT status, stays, median_hours, total_hours FROM metric_time_in_status"
        " WHERE team = 't' AND month = ?", [JAN]).fetchall()}
    assert rows["In Progress"] == (3, pytest.approx(48), pytest.approx(120))
    assert rows["Blocked"] == (1, pytest.approx(48), pytest.approx(48))
    assert rows["To Do"] == (2, pytest.approx(36), pytest.approx(72))


def test_wip_and_littles_law(db: TinyDB) -> None:
    two_items(db)
    db.views()
    wip, per_day, mean_flow, ratio = db.one(
        "SELECT mean_wip, throughput_per_day, mean_flow_time_days, littles_law_ratio"
        " FROM metric_wip WHERE team = 't' AND month = ?", [JAN])
    assert wip == pytest.approx(7 / 31)  # 5 + 2 item-days in active or waiting statuses
    assert per_day == pytest.approx(2 / 31) and mean_flow == pytest.approx(3.5)
    assert ratio == pytest.approx(1.0)


def test_pr_cycle_pickup_ignores_author_and_bots(db: TinyDB) -> None:
    db.team("t", 5, ["2026-01"])
    db.person("ci", None, bot=True)
    db.item("github:acme/app#1", created="2026-01-10 09:00", merged="2026-01-11 09:00",
            author="t1")
    db.event("c1", "2026-01-09 15:00", "t1", "commit", item="github:acme/app#1")
    db.event("bot", "2026-01-10 09:04", "ci", "pr_comment", item="github:acme/app#1")
    db.event("own", "2026-01-10 10:00", "t1", "pr_comment", item="github:acme/app#1")
    db.event("rev", "2026-01-10 13:00", "t2", "pr_review", item="github:acme/app#1")
    db.item("github:acme/app#2", created="2026-01-10 09:00", merged="2026-01-10 18:00",
            author="t3")
    db.event("ready", "2026-01-10 11:00", "t3", "pr_ready", item="github:acme/app#2")
    db.event("com", "2026-01-10 12:30", "t4", "pr_comment", item="github:acme/app#2")
    db.event("rel", "2026-01-12 09:00", "t5", "release", detail={"repo": "acme/app"})
    db.views()
    first = db.one("SELECT coding_hours, pickup_hours, review_hours, deploy_hours, cycle_hours,"
                   " self_merged FROM metric_pr_items WHERE item_id = 'github:acme/app#1'")
    assert first == (pytest.approx(18), pytest.approx(4), pytest.approx(20), pytest.approx(24),
                     pytest.approx(24), False)
    draft = db.one("SELECT pickup_hours, review_hours, self_merged FROM metric_pr_items"
                   " WHERE item_id = 'github:acme/app#2'")
    assert draft == (pytest.approx(1.5), None, True)
    team = db.one("SELECT prs_merged, median_pickup_hours, median_deploy_hours,"
                  " self_merged_share FROM metric_pr_cycle WHERE team = 't' AND month = ?", [JAN])
    assert team == (2, pytest.approx(2.75), pytest.approx(31.5), pytest.approx(0.5))


def test_status_churn_backward_moves_and_reopen_rate(db: TinyDB) -> None:
    db.team("t", 5, ["2026-01"])
    db.item("jira:T-3", created="2026-01-01", resolved="2026-01-05", assignee="t1")
    db.move("jira:T-3", "2026-01-02", "To Do", "In Progress")
    db.move("jira:T-3", "2026-01-03", "In Progress", "Done")
    db.move("jira:T-3", "2026-01-04", "Done", "In Progress")
    db.move("jira:T-3", "2026-01-05", "In Progress", "Done")
    db.item("jira:T-4", created="2026-01-01", resolved="2026-01-06", assignee="t2")
    db.move("jira:T-4", "2026-01-02", "To Do", "In Progress")
    db.move("jira:T-4", "2026-01-06", "In Progress", "Done")
    db.views()
    row = db.one("SELECT items_done, transitions_per_done_item, backward_moves, reopens,"
                 " reopen_rate FROM metric_status_churn WHERE team = 't' AND month = ?", [JAN])
    assert row == (2, pytest.approx(3.0), 1, 1, pytest.approx(0.5))


def test_ping_pong_in_status_and_assignee_within_7_days(db: TinyDB) -> None:
    db.team("t", 5, ["2026-01"])
    db.item("jira:T-5", created="2026-01-01", assignee="t1")
    db.move("jira:T-5", "2026-01-03", "To Do", "In Progress")
    db.move("jira:T-5", "2026-01-05", "In Progress", "To Do")  # back within 2 days
    db.move("jira:T-5", "2026-01-20", "To Do", "In Progress")  # 15 days later: not ping-pong
    for n, (day, frm, to) in enumerate([("10", "t1", "t2"), ("12", "t2", "t1"),
                                        ("25", "t1", "t3")]):
        db.event(f"a{n}", f"2026-01-{day} 10:00", "t4", "jira_field_edit", item="jira:T-5",
                 detail={"field": "assignee", "from": frm, "to": to})
    db.item("jira:T-6", created="2026-01-01", assignee="t2")
    db.move("jira:T-6", "2026-01-03", "To Do", "In Progress")
    db.views()
    row = db.one("SELECT items_moved, status_ping_pongs, assignee_ping_pongs, items_ping_ponged,"
                 " ping_pong_share FROM metric_ping_pong WHERE team = 't' AND month = ?", [JAN])
    assert row == (2, 1, 1, 1, pytest.approx(0.5))


def test_pickup_starts_when_the_pr_is_ready_for_review(db: TinyDB) -> None:
    # Issue 17 (c): a comment on a draft is no pickup.
    db.team("t", 5, ["2026-01"])
    # #3 opened as a draft at 09:00, t2 comments at 10:00 (draft), ready at 14:00, t4 comments
    # at 16:30: pickup = 16:30 - 14:00 = 2.5 h (it was 0: 10:00 - 14:00 clipped to 0).
    db.item("github:acme/app#3", created="2026-01-12 09:00", merged="2026-01-13 09:00",
            author="t1", fields={"draft": False})
    db.event("d-com", "2026-01-12 10:00", "t2", "pr_comment", item="github:acme/app#3")
    db.event("d-rdy", "2026-01-12 14:00", "t1", "pr_ready", item="github:acme/app#3")
    db.event("d-rev", "2026-01-12 16:30", "t4", "pr_comment", item="github:acme/app#3")
    # #4 is still a draft (no ready event): not ready, so no pickup however many comments.
    db.item("github:acme/app#4", created="2026-01-12 09:00", author="t1", fields={"draft": True})
    db.event("e-com", "2026-01-12 11:00", "t2", "pr_comment", item="github:acme/app#4")
    # #5 was never a draft: ready when opened at 09:00, first response 12:00 -> 3 h.
    db.item("github:acme/app#5", created="2026-01-12 09:00", merged="2026-01-13 09:00",
            author="t1", fields={"draft": False})
    db.event("f-com", "2026-01-12 12:00", "t3", "pr_comment", item="github:acme/app#5")
    db.views()
    got = {r[0]: r[1:] for r in db.con.execute(
        "SELECT item_id, ready_at::VARCHAR, pickup_hours FROM metric_pr_items").fetchall()}
    assert got["github:acme/app#3"] == ("2026-01-12 14:00:00+00", pytest.approx(2.5))
    assert got["github:acme/app#4"] == (None, None)
    assert got["github:acme/app#5"] == ("2026-01-12 09:00:00+00", pytest.approx(3.0))
    median = db.one("SELECT median_pickup_hours FROM metric_pr_cycle WHERE team = 't'"
                    " AND month = ?", [JAN])
    assert median == pytest.approx((2.5 + 3.0) / 2)  # the two merged PRs


def test_closed_as_not_done_is_not_delivered(db: TinyDB) -> None:
    # Issue 17 (d). Six customer items of team t closed in January; two were delivered:
    # T-1 Done (created Jan 1, resolved Jan 11: lead 10 days) and GitHub #10 completed (Jan 2 ->
    # Jan 6: 4 days). Won't Do, Cannot Reproduce, Won’t Fix (curly apostrophe) and not_planned
    # are closed, not delivered. Throughput 2, median lead time (10 + 4) / 2 = 7 days.
    db.team("t", 5, ["2026-01"])
    db.item("jira:T-1", created="2026-01-01", resolved="2026-01-11", assignee="t1",
            resolution="Done")
    db.item("jira:T-2", created="2026-01-01", resolved="2026-01-03", assignee="t1",
            resolution="Won't Do")
    db.item("jira:T-3", created="2026-01-01", resolved="2026-01-04", assignee="t1",
            resolution="Cannot Reproduce")
    db.item("jira:T-4", created="2026-01-01", resolved="2026-01-05", assignee="t1",
            resolution="Won\u2019t Fix")
    db.item("github:acme/app#9", kind="issue", created="2026-01-02", resolved="2026-01-07",
            assignee="t1", resolution="not_planned")
    db.item("github:acme/app#10", kind="issue", created="2026-01-02", resolved="2026-01-06",
            assignee="t1", resolution="completed")
    # the data's first and last events: weekly series cover the weeks between
    db.event("first", "2026-01-01 09:00", "t1", "slack_message", source="slack")
    db.event("last", "2026-01-31 12:00", "t1", "slack_message", source="slack")  # data end
    db.views()
    items = dict(db.con.execute("SELECT item_id, resolved_at IS NOT NULL FROM metric_flow_items"
                                " WHERE closed_at IS NOT NULL").fetchall())
    assert items == {"jira:T-1": True, "jira:T-2": False, "jira:T-3": False, "jira:T-4": False,
                     "github:acme/app#9": False, "github:acme/app#10": True}
    flow = db.one("SELECT items_resolved, customer_items_resolved, median_lead_time_days"
                  " FROM metric_flow WHERE team = 't' AND month = ?", [JAN])
    assert flow == (2, 2, pytest.approx(7.0))
    delivery = db.one("SELECT customer_items_resolved, median_customer_lead_time_days"
                      " FROM metric_customer_delivery WHERE team = 't' AND month = ?", [JAN])
    assert delivery == (2, pytest.approx(7.0))
    weekly = db.one("SELECT sum(value) FROM metric_weekly WHERE team = 't'"
                    " AND metric = 'customer_throughput'")
    # complete weeks with a Monday in January up to the data's end (Jan 31): Jan 5 to Jan 25;
    # T-1 and #10 fall in the week of Jan 5
    assert weekly == 2


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati"])
def test_wip_is_the_same_in_every_session_time_zone(db: TinyDB, zone: str) -> None:
    # Issue 17 (e). T-9 is In Progress from Jan 31 12:00 to Feb 1 12:00 UTC: half a day in each
    # UTC month, so mean WIP is 0.5 / 31 in January and 0.5 / 28 in February, whatever the
    # reader's session time zone (at UTC+14 the months used to start 14 hours early, which put
    # the whole day in February).
    db.team("t", 5, ["2026-01", "2026-02"])
    db.item("jira:T-9", created="2026-01-31 00:00", resolved="2026-02-01 12:00", assignee="t1")
    db.move("jira:T-9", "2026-01-31 12:00", "To Do", "In Progress")
    db.move("jira:T-9", "2026-02-01 12:00", "In Progress", "Done")
    db.views()
    db.con.execute(f"SET TimeZone = '{zone}'")
    got = dict(db.con.execute("SELECT strftime(month, '%Y-%m'), mean_wip FROM metric_wip"
                              " WHERE team = 't'").fetchall())
    assert got == {"2026-01": pytest.approx(0.5 / 31), "2026-02": pytest.approx(0.5 / 28)}


@pytest.mark.parametrize("order", [0, 1])
def test_two_moves_at_the_same_time_give_the_same_stays_in_either_order(db: TinyDB,
                                                                       order: int) -> None:
    """Two moves of an item in one second (a save with two status items): which one opens the
    stay that lasts must not depend on the order the rows happen to be read in."""
    db.team("t", 5, ["2026-01"])
    db.item("jira:T-1", created="2026-01-01", resolved="2026-01-09", assignee="t1")
    db.move("jira:T-1", "2026-01-02", "To Do", "In Progress")
    moves = [("In Progress", "Blocked"), ("Blocked", "In Review")]
    for frm, to in (moves if order == 0 else moves[::-1]):
        db.move("jira:T-1", "2026-01-04", frm, to)
    db.move("jira:T-1", "2026-01-09", "In Review", "Done")
    db.event("last", "2026-01-31 12:00", "t1", "slack_message", source="slack")
    db.views()
    stays = db.con.execute(
        "SELECT status, hours FROM metric_status_intervals WHERE left_at IS NOT NULL"
        " ORDER BY entered_at, hours").fetchall()
    # In Progress -> Blocked comes first (Blocked -> In Review starts where it ends): the item
    # was In Review from the 4th to the 9th
    assert stays == [("To Do", 24.0), ("In Progress", 48.0), ("Blocked", 0.0),
                     ("In Review", 120.0)]


@pytest.mark.parametrize("first", ["active", "waiting"])
def test_a_status_name_with_two_categories_gets_the_one_of_most_stays(db: TinyDB,
                                                                     first: str) -> None:
    """Two projects map "Review" to different categories: the team-month's row takes the
    category of most of its stays, of a tie the first in order, whatever the rows' order."""
    db.team("t", 5, ["2026-01"])
    cats = [first, "waiting" if first == "active" else "active"]
    for n, (project, category) in enumerate((("A", cats[0]), ("B", cats[1]))):
        item = f"jira:{project}-1"
        db.item(item, created="2026-01-01", resolved="2026-01-09", assignee=f"t{n + 1}")
        db.con.execute("INSERT INTO transitions VALUES (?, '2026-01-02', NULL, NULL, 'To Do',"
                       " 'Review', 'todo', ?)", [item, category])
        db.con.execute("INSERT INTO transitions VALUES (?, '2026-01-05', NULL, NULL, 'Review',"
                       " 'Done', ?, 'done')", [item, category])
    db.event("last", "2026-01-31 12:00", "t1", "slack_message", source="slack")
    db.views()
    assert db.one("SELECT status_category, stays FROM metric_time_in_status"
                  " WHERE team = 't' AND status = 'Review'") == ("active", 2)
    db.con.execute("INSERT INTO transitions VALUES ('jira:A-1', '2026-01-06', NULL, NULL,"
                   " 'Done', 'Review', 'done', 'waiting'),"
                   " ('jira:A-1', '2026-01-07', NULL, NULL, 'Review', 'Done', 'waiting', 'done')")
    assert db.one("SELECT status_category, stays FROM metric_time_in_status"
                  " WHERE team = 't' AND status = 'Review'") == ("waiting", 3)
