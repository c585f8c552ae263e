"""A report for a past month uses only the data dated up to that month's end, so regenerating it
after later data arrived gives the same figures; and it proposes the process changes found in
the data but not recorded, with the team events (issue 17). Hand-made rows of
tests/report_org.py: pm-tool starts for atlas on Mon 2026-06-01; data from November 2025 to
October 2026."""

from __future__ import annotations

import html
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from report_org import collected_until, report_database

from analysis import fill_typed_columns
from processhealth.config import Config, load_config
from processhealth.temp_names import owner_tag
from reports.asof import as_of_database
from reports.db import AnalyticsDB
from reports.render import as_of_context, render_report, report_context


def _config(tmp_path: Path, db: Path) -> Config:
    path = tmp_path / f"{db.stem}.toml"
    path.write_text(f'[storage]\nanalytics_path = "{db}"\nraw_path = "raw.duckdb"\n',
                    encoding="utf-8")
    return load_config(path)


def _figures(context: dict) -> dict:
    """Everything the report shows but the day it was made and what the cut left out, with
    each chart as its SVG."""
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.__html__() if hasattr(value, "__html__") else value

    return plain({k: v for k, v in context.items() if k not in ("generated_on", "as_of")})


def _weeks(context: dict) -> str:
    return context["teams"][0]["changes"][0]["criteria"][0]["weeks"]


def test_a_past_month_gives_the_same_figures_after_later_data_arrived(tmp_path: Path) -> None:
    # report --month 2026-07 on 2026-09-01 (data to the end of August), then again after
    # September and October arrived
    early = _config(tmp_path, collected_until(tmp_path / "early.duckdb", date(2026, 9, 1)))
    late = _config(tmp_path, report_database(tmp_path / "late.duckdb"))
    first = as_of_context(early, "2026-07", "atlas")
    again = as_of_context(late, "2026-07", "atlas")
    assert first["as_of"]["events"] > 0 and again["as_of"]["events"] > first["as_of"]["events"]
    assert _figures(first) == _figures(again)
    # As of the end of July, pm-tool's after window (from Mon 2026-06-15, the first Monday 14
    # days after the start) holds the complete weeks to Sun 2026-07-26: Jun 15, 22, 29, Jul 6,
    # 13, 20 = 6 weeks; the 12 before are Mar 9 .. May 25.
    assert _weeks(first) == "12 before, 6 after"
    # The test has teeth: read straight from the database, July's change figures come from
    # the whole after window (to Sun 2026-09-06, in October's data: 12 weeks).
    with AnalyticsDB.open(late.storage.analytics_path) as db:
        assert _weeks(report_context(db, late, "2026-07", "atlas")) == "12 before, 12 after"


@pytest.mark.extended  # in CI after the suite (6 s): the suite checks a past month
def test_the_page_says_what_was_left_out_and_the_latest_month_is_not_cut(tmp_path: Path
                                                                          ) -> None:
    config = _config(tmp_path, report_database(tmp_path / "late.duckdb"))
    page = render_report(config, tmp_path / "r.html", month="2026-07", team="atlas"
                         ).read_text("utf-8")
    assert 'data-section="as-of"' in page and "12 before, 6 after" in page
    # what the cut left out, as numbers (`as_of.items` once printed the dict's items method)
    left_out = as_of_context(config, "2026-07", "atlas")["as_of"]
    assert left_out["items"] > 0
    assert (f'{left_out["events"]} events and {left_out["items"]} work items dated after it'
            in page)
    latest = as_of_context(config, "2026-10", "atlas")
    assert latest["as_of"] is None and _weeks(latest) == "12 before, 12 after"


def test_the_report_proposes_unrecorded_changes_and_shows_team_events(tmp_path: Path) -> None:
    db = report_database(tmp_path / "org.duckdb")
    con = duckdb.connect(str(db))
    try:
        # atlas1-atlas6 start editing "Sprint Goal" on Mon 2026-08-03: 6 edits, none before;
        # atlas7 joins atlas in September; tiny's three start filling "Risk" on 2026-09-01
        for n in range(1, 7):
            con.execute("INSERT INTO events(event_id, source, occurred_at, person_id, item_id,"
                        " kind, category, detail) VALUES (?, 'jira', '2026-08-03 16:00:00+00',"
                        " ?, 'jira:ATL-1', 'jira_field_edit', 'process', ?)",
                        [f"sg-{n}", f"atlas{n}", '{"field_name": "Sprint Goal"}'])
        for n in range(1, 4):
            for day in (1, 2):
                con.execute("INSERT INTO events(event_id, source, occurred_at, person_id,"
                            " item_id, kind, category, detail) VALUES (?, 'jira', ?, ?,"
                            " 'jira:TIN-1', 'jira_field_edit', 'process', ?)",
                            [f"risk-{n}-{day}", f"2026-09-0{day} 16:00:00+00", f"tiny{n}",
                             '{"field_name": "Risk"}'])
        # nagbot (two reminders in October so far) posts five in #pm-nags from Mon 2026-09-07
        for n in range(5):
            con.execute("INSERT INTO events(event_id, source, occurred_at, actor_account,"
                        " person_id, channel_id, kind, subkind, category, detail) VALUES (?,"
                        " 'slack', ?, 'jira:nagbot', 'nagbot', 'C-nag', 'slack_message',"
                        " 'reminder', 'process', '{}')",
                        [f"sep-nag-{n}", f"2026-09-{7 + n:02d} 09:00:00+00"])
        fill_typed_columns(con)  # as normalization writes them beside detail
        con.execute("INSERT INTO people VALUES ('atlas7', 'Atlas7', NULL, 'atlas', false)")
        for month in ("2026-09-01", "2026-10-01"):
            con.execute("INSERT INTO person_months VALUES ('atlas7', ?, 'atlas', true)", [month])
    finally:
        con.close()
    config = _config(tmp_path, db)
    page = html.unescape(render_report(config, tmp_path / "r.html", month="2026-10"
                                       ).read_text("utf-8"))
    atlas = page.split('data-team="atlas"')[1].split('data-team="tiny"')[0]
    assert ("<code>processhealth experiment add new-field-sprint-goal-atlas-2026-08 --start"
            " 2026-08-03 --team atlas --scope 'field=Sprint Goal'</code>") in atlas
    assert "6 edits in August 2026" in atlas
    # pm-tool's Business Value is recorded for atlas: not proposed
    assert "business-value" not in atlas
    events = atlas.split('data-section="team-events"')[1].split("</table>")[0]
    assert "<td>September 2026</td><td>people joined</td><td class=\"num\">1</td>" in events
    # the bot, for every team: in the organization's part, with the month it was added
    org = page.split('id="coverage"')[1]
    assert ("<code>processhealth experiment add new-bot-pm-nags-2026-09 --start 2026-09-07"
            " --scope channel=pm-nags</code>") in org
    assert "5 bot events in September 2026" in org
    assert "<td>September 2026</td><td>bots added</td><td class=\"num\">1</td>" in org
    # tiny (3 people): the line, but not its 6 edits
    tiny = page.split('data-team="tiny"')[1]
    assert "new-field-risk-tiny-2026-09 --start 2026-09-01 --team tiny" in tiny
    assert "6 edits" not in tiny and "too few people" in tiny.split("found-changes")[1][:2000]


def test_a_database_built_by_an_older_version_is_cut_with_this_versions_views(
        tmp_path: Path) -> None:
    """The as-of copy reuses the database's metric views only when this version's SQL made
    them (build_params processhealth.metric_sql); otherwise it makes them all again."""
    db = report_database(tmp_path / "late.duckdb")
    con = duckdb.connect(str(db))
    # built before metric_coupling existed, and by other SQL: the copy gets it (the verdicts
    # read it), as when every metric view was made again (the copy once failed: no table
    # metric_coupling); and metric_wip as this version defines it
    con.execute("DROP VIEW metric_coupling")
    con.execute("CREATE OR REPLACE VIEW metric_wip AS SELECT 'older' AS team")
    con.execute("UPDATE build_params SET value = 'older' WHERE name = 'processhealth.metric_sql'")
    con.close()
    config = _config(tmp_path, db)
    with as_of_database(config, date(2026, 7, 1)) as (copy, left_out):
        assert left_out is not None
        assert copy.con.execute("SELECT count(*) FROM metric_coupling").fetchone()[0] > 0
        assert "older" not in {t for (t,) in copy.con.execute(
            "SELECT DISTINCT team FROM metric_wip").fetchall()}


def test_the_copy_a_killed_report_left_is_removed_by_the_next(tmp_path: Path) -> None:
    """A report killed while it read its as-of copy leaves the copy (as big as the database)
    beside the database; the next report removes it, not a running report's copy, also when
    it got the killed report's process id again (a container's pid 1)."""
    db = report_database(tmp_path / "late.duckdb")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        killed = tmp_path / f".asof-{owner_tag(dead.pid)}-x1"
        running = tmp_path / f".asof-{owner_tag(alive.pid)}-x2"
        same_pid = tmp_path / f".asof-{owner_tag()}-x3"  # a killed run with this pid
        for folder in (killed, running, same_pid):
            folder.mkdir()
            (folder / db.name).write_bytes(b"a copy")
        with as_of_database(_config(tmp_path, db), date(2026, 7, 1)) as (_, left_out):
            assert left_out is not None
            [mine] = [p for p in tmp_path.glob(".asof-*") if p not in (killed, running)]
            assert mine.name.startswith(f".asof-{owner_tag()}-")
            # a second as-of copy in this process leaves the first, which is in use
            with as_of_database(_config(tmp_path, db), date(2026, 6, 1)) as (_, other):
                assert other is not None and mine.exists()
        assert not killed.exists() and running.exists() and not mine.exists()
        assert not same_pid.exists()
    finally:
        alive.kill()
        alive.wait()
