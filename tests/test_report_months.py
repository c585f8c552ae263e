"""The report's months start where a team first has enough people, not at the first stray event
(three issues by a deleted user a year before everything else once stretched a report back six
months). Hand-made rows on the organization of tests/report_org.py (data from November 2025)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import duckdb
import pytest
from report_org import report_database
from test_audit import words

from analysis import effort
from processhealth.config import load_config
from reports.render import render_report


def _config(tmp_path: Path, stray_month: str | None = None) -> Path:
    db = report_database(tmp_path / "analytics.duckdb")
    if stray_month:  # a deleted user of atlas, alone that month, files three issues
        con = duckdb.connect(str(db))
        con.execute("INSERT INTO people VALUES ('ghost', 'Ghost', NULL, 'atlas', false)")
        con.execute("INSERT INTO person_months VALUES ('ghost', ?, 'atlas', true)",
                    [f"{stray_month}-01"])
        for n in range(3):
            con.execute("INSERT INTO events(event_id, source, occurred_at, person_id, item_id,"
                        " kind, category, detail) VALUES (?, 'jira', ?, 'ghost', ?,"
                        " 'jira_issue_created', 'customer', '{}')",
                        [f"ghost-{n}", f"{stray_month}-{12 + n} 10:00:00+00", f"jira:OLD-{n}"])
            effort.insert_named(con, "SELECT 'ghost' AS person_id, event_id, 'g' AS session_id,"
                                " 15 AS minutes FROM events WHERE event_id = ?", [f"ghost-{n}"])
        con.close()
    path = tmp_path / "processhealth.toml"
    path.write_text(f'[storage]\nanalytics_path = "{db}"\nraw_path = "raw.duckdb"\n',
                    encoding="utf-8")
    return path


def test_stray_early_events_do_not_move_the_first_month(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "2025-05"))
    con = duckdb.connect(str(config.storage.analytics_path), read_only=True)
    first_event = con.execute("SELECT min(month)::DATE FROM metric_effort_allocation").fetchone()
    con.close()
    assert f"{first_event[0]:%Y-%m}" == "2025-05"  # the strays are in the figures
    text = words(render_report(config, tmp_path / "r.html", month="2026-03").read_text("utf-8"))
    # the 12 months to March 2026 would reach back to April 2025; the data to May 2025
    assert "trends over 5 months (November 2025 to March 2026)" in text


def test_without_strays_the_window_is_the_same(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    text = words(render_report(config, tmp_path / "r.html", month="2026-03").read_text("utf-8"))
    assert "trends over 5 months (November 2025 to March 2026)" in text


def _overhead_points(page: str) -> list[dict]:
    """The points the atlas overhead chart draws: each point's figures (its data-row)."""
    at = page.index("atlas: process overhead against its own baseline")
    svg = page[page.rfind("<svg", 0, at):page.index("</svg>", at)]
    return [json.loads(html.unescape(row)) for row in re.findall(r' data-row="([^"]*)"', svg)]


def test_a_month_without_baseline_draws_no_baseline_point(tmp_path: Path) -> None:
    # the stray person's October is a month of one person: no baseline for November
    config = load_config(_config(tmp_path, "2025-10"))
    con = duckdb.connect(str(config.storage.analytics_path), read_only=True)
    rows = con.execute("SELECT month::VARCHAR, baseline_months, baseline_ratio FROM"
                       " metric_overhead WHERE team = 'atlas' AND month < '2026-01-01'"
                       " ORDER BY month").fetchall()
    con.close()
    assert rows == [("2025-10-01", 0, None), ("2025-11-01", 0, None),
                    ("2025-12-01", 1, pytest.approx(10 / 70))]
    page = render_report(config, tmp_path / "r.html", month="2026-01").read_text("utf-8")
    points = _overhead_points(page)
    baseline = [p for p in points if p["series"] == "baseline (the verdict's)"]
    assert baseline and "Nov 2025" not in [p["month"] for p in baseline]
    assert {"month": "Dec 2025", "series": "baseline (the verdict's)",
            "value": pytest.approx(10 / 70)} in baseline
    assert any(p["month"] == "Nov 2025" and p["series"] == "overhead ratio" for p in points)
    assert all(p["value"] > 0 for p in points)


def test_the_first_month_says_no_baseline_yet(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    con = duckdb.connect(str(config.storage.analytics_path), read_only=True)
    verdict, reason, base = con.execute(
        "SELECT verdict, reason, baseline_months FROM health_verdicts"
        " WHERE team = 'atlas' AND month = '2025-11-01'").fetchone()
    con.close()
    # the database keeps the verdict neutral (queries rely on its four values); the reason says
    assert (verdict, base) == ("neutral", []) and reason.startswith("no baseline yet: ")
    first = words(render_report(config, tmp_path / "a.html", month="2025-11").read_text("utf-8"))
    assert "Team atlas: No baseline yet" in first and "Team atlas: Neutral" not in first
    later = words(render_report(config, tmp_path / "b.html", month="2025-12").read_text("utf-8"))
    assert "Team atlas: Neutral" in later and "No baseline yet" not in later
