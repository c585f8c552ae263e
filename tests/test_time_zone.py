"""Every metric view answers the same whatever the reader's session time zone (issue 17 e: a BI
tool or notebook sets its own). Days, weeks and months are UTC (docs/metrics.md section 0)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from test_metric_found import add_onsets, found_org


def _rows(con: Any, view: str) -> list[str]:
    def utc(value: Any) -> Any:  # the same instant prints with the session's zone
        return value.astimezone(dt.UTC) if isinstance(value, dt.datetime) and value.tzinfo \
            else value

    return sorted(repr(tuple(utc(v) for v in row))
                  for row in con.execute(f'SELECT * FROM "{view}"').fetchall())


def test_every_metric_view_is_the_same_in_every_session_time_zone() -> None:
    db = found_org()
    add_onsets(db)
    # an item in progress across the month boundary, an edit half an hour before April (UTC)
    db.item("jira:T-9", created="2026-01-31 20:00", resolved="2026-02-01 12:00", assignee="a1")
    db.move("jira:T-9", "2026-01-31 22:00", "To Do", "In Progress")
    db.move("jira:T-9", "2026-02-01 12:00", "In Progress", "Done")
    db.event("late", "2026-03-31 23:30", "a2", "jira_field_edit", item="jira:T-9", minutes=5)
    con = db.views()
    views = [v for (v,) in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND view_name LIKE 'metric%'"
        " ORDER BY 1").fetchall()]
    assert "metric_wip" in views and len(views) > 30
    answers = {}
    for zone in ("UTC", "Pacific/Kiritimati", "America/Los_Angeles"):  # +14 h, -7/-8 h
        con.execute(f"SET TimeZone = '{zone}'")
        answers[zone] = {v: _rows(con, v) for v in views}
    differing = [v for v in views
                 if not answers["UTC"][v] == answers["Pacific/Kiritimati"][v]
                 == answers["America/Los_Angeles"][v]]
    assert differing == []
    assert any(answers["UTC"]["metric_wip"])  # rows, not an empty view compared with itself
