"""`audit --as-of` on the demo-like simulated organization: asked as of the recorded process
change's start, the audit covers the quarter before the change, with the views' figures."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from simulated import simulated_config
from test_audit import words

from processhealth import state
from processhealth.cli import cli
from processhealth.store import RawStore
from reports import format as fmt

pytestmark = pytest.mark.slow  # builds whole organizations (see tests/conftest.py)


def test_as_of_the_change_start_audits_the_quarter_before_it(tmp_path: Path) -> None:
    config = simulated_config(7, "demo")
    with RawStore(config.storage.raw_path, read_only=True) as store:
        change = next(c for c in state.list_process_changes(store)
                      if c["name"].startswith("pm-tool-"))
    team, start = change["team"], change["started_on"]
    out = tmp_path / "audit.html"
    result = CliRunner().invoke(cli, ["--config", str(config.path), "audit", "--tool", "PM tool",
                                      "--team", team, "--out", str(out),
                                      "--as-of", f"{start:%Y-%m-%d}"])
    assert result.exit_code == 0, result.output
    text = words(out.read_text(encoding="utf-8"))

    # the three whole months before the change's month, none of them after its start
    last = (start.replace(day=1) - timedelta(days=1)).replace(day=1)
    months = [_shift(last, -2), _shift(last, -1), last]
    assert (f"Period: {fmt.month_label(months[0])} to {fmt.month_label(months[-1])} "
            f"(the whole months before {fmt.day_label(start)};") in text

    # the figures are the views' values for exactly those months
    con = duckdb.connect(str(config.storage.analytics_path), read_only=True)
    try:
        shares = dict(con.execute(
            "SELECT source, sum(hours) / sum(sum(hours)) OVER () FROM metric_work_sources"
            " WHERE team = ? AND month BETWEEN ? AND ? AND NOT suppressed GROUP BY source",
            [team, months[0], months[-1]]).fetchall())
        process_hours, n_months = con.execute(
            "SELECT sum(hours) FILTER (WHERE category = 'process'), count(DISTINCT month)"
            " FROM metric_effort_allocation WHERE team = ? AND month BETWEEN ? AND ?"
            " AND NOT suppressed", [team, months[0], months[-1]]).fetchone()
        later = con.execute(
            "SELECT sum(hours) FILTER (WHERE category = 'process') / count(DISTINCT month)"
            " FROM metric_effort_allocation WHERE team = ? AND month BETWEEN ? AND ?",
            [team, _shift(months[0], 3), _shift(months[-1], 3)]).fetchone()[0]
    finally:
        con.close()
    assert n_months == 3
    cells = " ".join(fmt.pct(shares.get(s, 0.0)) for s in ("github", "jira", "slack"))
    assert f"{team} {cells}" in text
    assert f"{team} {fmt.hours(process_hours / 3)} per month" in text
    # and not those of the quarter after the change (the tool nobody wanted raised them)
    assert fmt.hours(later) != fmt.hours(process_hours / 3)


def _shift(month: date, by: int) -> date:
    index = month.year * 12 + month.month - 1 + by
    return date(index // 12, index % 12 + 1, 1)
