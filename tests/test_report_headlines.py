"""Three headline numbers of the report, recomputed from the documented views of a database
built from the simulated organization, must match what the report prints."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from chart_data import charts_in, rows_of, team_part
from simulated import simulated_config

from processhealth.duckdb_files import open_duckdb
from reports.render import render_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str]:
    config = simulated_config(7, "small")
    out = render_report(config, tmp_path_factory.mktemp("headlines") / "report.html",
                        month="2026-03")
    return config, out.read_text(encoding="utf-8")


def team_text(page: str, team: str) -> str:
    part = page.split(f'data-team="{team}"')[1].split("</section>\n</section>")[0]
    part = re.sub(r"<svg.*?</svg>", " ", part, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", part)))


def query(config: object, sql: str, *params: object) -> list[tuple]:
    con = open_duckdb(config.storage.analytics_path, read_only=True)  # type: ignore[attr-defined]
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


VERDICT_LABELS = {"amplifier": "Amplifier", "neutral": "Neutral",
                  "process_is_product": "The process has become the product",
                  "insufficient_data": "Insufficient data"}


def test_headline_numbers_match_the_views(built: tuple[object, str]) -> None:
    config, page = built
    rows = query(config, """
        SELECT o.team, o.overhead_ratio, o.change_pp, a.hours, a.share, v.verdict
        FROM metric_overhead AS o
        JOIN metric_effort_allocation AS a ON a.team = o.team AND a.month = o.month
             AND a.category = 'customer'
        JOIN health_verdicts AS v ON v.team = o.team AND v.month = o.month
        WHERE o.month = DATE '2026-03-01' AND NOT o.suppressed ORDER BY o.team""")
    assert len(rows) == 3
    for team, ratio, change, hours, share, verdict in rows:
        text = team_text(page, team)
        # 1. the overhead ratio and its change against the baseline
        assert (f"Overhead ratio in March 2026: {100 * ratio:.0f}% of credited effort"
                in text), team
        assert f"change: {change:+.1f} pp" in text, team
        # 2. customer effort in hours and as a share
        hours_text = f"{hours:,.0f} h" if hours >= 10 else f"{hours:,.1f} h"
        assert re.search(rf"customer {re.escape(hours_text)} [\d.]+ FTE {100 * share:.0f}%",
                         text), team
        # 3. the verdict
        assert f"Verdict for March 2026 {VERDICT_LABELS[verdict]}" in text, team


def test_process_changes_found_in_the_simulated_organization(built: tuple[object, str]
                                                              ) -> None:
    # The PM tool arrives for borealis on 2026-03-01 (recorded with its fields and pmtool-*
    # channels as scope); it also brings the issue type Initiative, which the recorded scope
    # does not name. The steady team and the experiments team start nothing new in the window.
    config, page = built
    onsets = query(config, "SELECT kind, team, scope_value, recorded FROM metric_change_onsets"
                           " ORDER BY ALL")
    assert {team for _, team, _, _ in onsets} <= {"borealis", None}
    recorded = {(kind, value) for kind, _, value, done in onsets if done}
    assert {("new_field", f) for f in ("Business Value", "Initiative", "Confidence",
                                       "Progress")} <= recorded
    assert ("new_channel", "pmtool-updates") in recorded
    proposed = [(kind, value) for kind, _, value, done in onsets if not done]
    assert proposed == [("new_issue_type", "Initiative")]
    text = team_text(page, "borealis")
    assert ("processhealth experiment add new-issue-type-initiative-borealis-2026-03"
            " --start 2026-03-02 --team borealis --scope issue_type=Initiative") in text
    assert "new-field-" not in text  # recorded: nothing to propose
    for team in ("atlas", "cobalt"):
        assert "Process changes found in the data, not recorded None in" in team_text(page, team)


def test_charts_draw_the_views_figures_for_every_team(built: tuple[object, str]) -> None:
    """Each team's allocation and overhead charts, read back from the page (their marks'
    data-row), hold the views' figures for the report's months: every shown team-month, and
    nothing of a team-month with fewer than min_group_size people."""
    config, page = built
    min_group = config.privacy.min_group_size  # type: ignore[attr-defined]
    months = config.report.months  # type: ignore[attr-defined]
    [(first,)] = query(config, "SELECT min(month)::DATE FROM metric_team_months"
                               " WHERE people_count >= ?", min_group)
    start = max(first, _months_back(months - 1))
    teams = [t for (t,) in query(config, "SELECT team FROM teams ORDER BY team")]
    assert len(teams) >= 3
    for team in teams:
        found = {c.title: c for c in charts_in(team_part(page, team))}
        allocation = [{"month": f"{m:%b %Y}", "category": c, "share": s} for m, c, s in query(
            config, "SELECT month::DATE, category, coalesce(share, 0)"
            " FROM metric_effort_allocation WHERE team = ? AND month::DATE BETWEEN ?"
            " AND DATE '2026-03-01' AND NOT suppressed AND people_count >= ?",
            team, start, min_group)]
        overhead = [{"month": f"{m:%b %Y}", "series": "overhead ratio", "value": v}
                    for m, v in query(
                        config, "SELECT month::DATE, overhead_ratio FROM metric_overhead"
                        " WHERE team = ? AND month::DATE BETWEEN ? AND DATE '2026-03-01'"
                        " AND NOT suppressed AND people_count >= ?"
                        " AND overhead_ratio IS NOT NULL", team, start, min_group)]
        chart = found.get(f"Where {team}'s effort went, month by month")
        assert rows_of(chart.rows if chart else []) == rows_of(allocation), team
        chart = found.get(f"{team}: process overhead against its own baseline")
        drawn = [r for r in (chart.rows if chart else []) if r["series"] == "overhead ratio"]
        assert rows_of(drawn) == rows_of(overhead), team


def _months_back(n: int) -> date:
    """The first of the month `n` months before March 2026."""
    index = 2026 * 12 + 2 - n
    return date(index // 12, index % 12 + 1, 1)
