"""The report's months start where a team first has enough people, not at the first stray event
(three issues by a deleted user a year before everything else once stretched a report back six
months). Hand-made rows on the organization of tests/report_org.py (data from November 2025)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from report_org import report_database
from test_audit import words

from processhealth.config import load_config
from reports.render import render_report


def _config(tmp_path: Path, strays: bool) -> Path:
    db = report_database(tmp_path / "analytics.duckdb")
    if strays:  # a deleted user of atlas, alone in May 2025, files three issues
        con = duckdb.connect(str(db))
        con.execute("INSERT INTO people VALUES ('ghost', 'Ghost', NULL, 'atlas', false)")
        con.execute("INSERT INTO person_months VALUES ('ghost', DATE '2025-05-01', 'atlas', true)")
        for n in range(3):
            con.execute("INSERT INTO events(event_id, source, occurred_at, person_id, item_id,"
                        " kind, category, detail) VALUES (?, 'jira', ?, 'ghost', ?,"
                        " 'jira_issue_created', 'customer', '{}')",
                        [f"ghost-{n}", f"2025-05-{12 + n} 10:00:00+00", f"jira:OLD-{n}"])
            con.execute("INSERT INTO effort VALUES ('ghost', ?, 'g', 15)", [f"ghost-{n}"])
        con.close()
    path = tmp_path / "processhealth.toml"
    path.write_text(f'[storage]\nanalytics_path = "{db}"\nraw_path = "raw.duckdb"\n',
                    encoding="utf-8")
    return path


def test_stray_early_events_do_not_move_the_first_month(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, strays=True))
    con = duckdb.connect(str(config.storage.analytics_path), read_only=True)
    first_event = con.execute("SELECT min(month)::DATE FROM metric_effort_allocation").fetchone()
    con.close()
    assert f"{first_event[0]:%Y-%m}" == "2025-05"  # the strays are in the figures
    text = words(render_report(config, tmp_path / "r.html", month="2026-03").read_text("utf-8"))
    # the 12 months to March 2026 would reach back to April 2025; the data to May 2025
    assert "trends over 5 months (November 2025 to March 2026)" in text


def test_without_strays_the_window_is_the_same(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, strays=False))
    text = words(render_report(config, tmp_path / "r.html", month="2026-03").read_text("utf-8"))
    assert "trends over 5 months (November 2025 to March 2026)" in text
