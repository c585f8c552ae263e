"""reports/db.py: rows grouped by team once, each caller's columns still checked."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from processhealth.errors import UserError
from reports.db import AnalyticsDB


def db_with_rows() -> AnalyticsDB:
    con = duckdb.connect()
    con.execute("CREATE TABLE metric_x(team VARCHAR, month DATE, value INTEGER)")
    con.execute("""INSERT INTO metric_x VALUES ('a', '2026-01-01', 1), ('b', '2026-01-01', 2),
                   (NULL, '2026-01-01', 3), ('a', '2026-02-01', 4), ('a', '2026-05-01', 5)""")
    return AnalyticsDB(con)


def test_team_rows_are_the_team_rows_in_order() -> None:
    db = db_with_rows()
    months = (date(2026, 1, 1), date(2026, 3, 1))
    everything = db.view_rows("metric_x", months, ("team", "value"))
    for team in ("a", "b", None, "nobody"):
        assert db.team_rows("metric_x", team, months, ("value",)) == [
            r for r in everything if r["team"] == team]
    assert [r["value"] for r in db.team_rows("metric_x", "a", months, ("value",))] == [1, 4]
    assert [r["value"] for r in db.team_rows("metric_x", "a", None, ("value",))] == [1, 4, 5]


def test_each_caller_s_columns_are_checked_after_the_rows_are_cached() -> None:
    db = db_with_rows()
    db.team_rows("metric_x", "a", None, ("value",))
    with pytest.raises(UserError, match="metric_x .*has no column share"):
        db.team_rows("metric_x", "b", None, ("value", "share"))
