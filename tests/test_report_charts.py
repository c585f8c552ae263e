"""The report's charts (reports/charts.py): the figures each chart of a rendered report carries are
the database's, marks are drawn where the axes say their figures are, every string from the data
stays text, and a chart costs about a millisecond."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from chart_data import (
    NS,
    Chart,
    axis_scale,
    charts_in,
    marks,
    parse,
    rows_of,
    team_part,
    value_at,
)
from report_org import report_database

from processhealth.config import load_config
from reports import chart_parts, charts, svg
from reports.render import render_report

MONTHS = [date(2025, 11, 1), date(2025, 12, 1)] + [date(2026, m, 1) for m in range(1, 11)]
MIN_GROUP = 5
# The share-valued process signals the signals chart draws: series name -> view, column
SHARE_SIGNALS = {
    "Paperwork ratio": ("metric_paperwork", "paperwork_ratio"),
    "Process coupling": ("metric_coupling", "process_coupling"),
    "Organic share": ("metric_organic_share", "organic_share"),
    "Reopen rate": ("metric_status_churn", "reopen_rate"),
    "Ping-pong": ("metric_ping_pong", "ping_pong_share"),
}
PR_STAGES = {"Coding": "coding", "Pickup": "pickup", "Review": "review", "Deploy": "deploy"}


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("charts")
    db = report_database(folder / "analytics.duckdb", stored_blocks=True)
    (folder / "processhealth.toml").write_text(f'[storage]\nanalytics_path = "{db}"\n',
                                               encoding="utf-8")
    out = render_report(load_config(folder / "processhealth.toml"), folder / "report.html")
    return db, out.read_text(encoding="utf-8")


def query(db: Path, sql: str, *params: Any) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def label(month: date) -> str:
    return f"{month:%b %Y}"


def month_series(db: Path, team: str, view: str, column: str, extra: str = "") -> list[tuple]:
    """(month label, value) of a team over the report's months where the view shows it: not
    suppressed, at least MIN_GROUP people, a value."""
    return [(label(m), v) for m, v in query(
        db, f"SELECT month::DATE, {column} FROM {view} WHERE team = ? AND month::DATE BETWEEN"
        f" ? AND ? AND NOT suppressed AND people_count >= ? AND {column} IS NOT NULL {extra}"
        " ORDER BY month", team, MONTHS[0], MONTHS[-1], MIN_GROUP)]


def by_title(found: list[Chart], ending: str) -> Chart:
    [chart] = [c for c in found if c.title.endswith(ending)]
    return chart


def test_every_chart_of_the_report_holds_the_databases_figures(org: tuple[Path, str]) -> None:
    db, page = org
    atlas = charts_in(team_part(page, "atlas"))
    assert sorted(c.kind for c in atlas) == sorted(
        ["allocation", "line", "line", "stage", "line", "interval", "adoption"])

    allocation = by_title(atlas, "Where atlas's effort went, month by month")
    expected = [{"month": label(m), "category": c, "share": s} for m, c, s in query(
        db, "SELECT month::DATE, category, coalesce(share, 0) FROM metric_effort_allocation"
        " WHERE team = 'atlas' AND month::DATE BETWEEN ? AND ? AND NOT suppressed"
        " AND people_count >= ?", MONTHS[0], MONTHS[-1], MIN_GROUP)]
    assert len(expected) == 12 * 4 and rows_of(allocation.rows) == rows_of(expected)

    overhead = by_title(atlas, "atlas: process overhead against its own baseline")
    expected = [{"month": m, "series": "overhead ratio", "value": v}
                for m, v in month_series(db, "atlas", "metric_overhead", "overhead_ratio")]
    expected += [{"month": m, "series": "baseline (the verdict's)", "value": v}
                 for m, v in month_series(db, "atlas", "metric_overhead", "baseline_ratio",
                                          "AND baseline_months > 0")]
    # no baseline point in November: no earlier month to compare with
    assert len(expected) == 12 + 11 and rows_of(overhead.rows) == rows_of(expected)

    flow = by_title(atlas, "atlas: flow efficiency of items resolved each month")
    expected = [{"month": m, "series": "median flow efficiency", "value": v}
                for m, v in month_series(db, "atlas", "metric_flow", "median_flow_efficiency")]
    assert len(expected) == 12 and rows_of(flow.rows) == rows_of(expected)

    signals = by_title(atlas, "atlas: process signals month by month")
    expected = [{"month": m, "series": name, "value": v}
                for name, (view, column) in SHARE_SIGNALS.items()
                for m, v in month_series(db, "atlas", view, column)]
    assert len(expected) >= 12 * 3 and rows_of(signals.rows) == rows_of(expected)

    stages = by_title(atlas, "atlas: where merged pull requests spend their time")
    [row] = query(db, "SELECT * FROM metric_pr_cycle WHERE team = 'atlas'"
                      " AND month::DATE = DATE '2026-10-01'")
    columns = [c for c, *_ in query(db, "DESCRIBE metric_pr_cycle")]
    pr = dict(zip(columns, row, strict=True))
    assert rows_of(stages.rows) == rows_of([
        {"stage": name, "median_hours": pr[f"median_{key}_hours"],
         "p75_hours": pr[f"p75_{key}_hours"]} for name, key in PR_STAGES.items()])

    criteria = by_title(atlas, "pm-tool, team atlas: estimated change with its 95% interval")
    expected = [{"criterion": text, "estimate": e, "low": lo, "high": hi, "threshold": t}
                for text, e, lo, hi, t in query(
                    db, 'SELECT c.text, r.estimate, r.low, r.high, c.threshold'
                    ' FROM health_experiment_results AS r JOIN experiment_criteria AS c'
                    ' ON c.name = r."change" AND c.idx = r.idx WHERE r."change" = \'pm-tool\''
                    " AND r.team = 'atlas' AND r.people_count >= ? AND r.low IS NOT NULL"
                    " AND r.outcome IN ('met', 'not_met', 'inconclusive')", MIN_GROUP)]
    assert len(expected) == 2 and rows_of(criteria.rows) == rows_of(expected)

    adoption = by_title(atlas, "pm-tool: adoption by atlas, week by week")
    expected = [{"week": w, "value": v} for w, v in query(
        db, "SELECT weeks_since_start, active_share FROM metric_adoption_weekly"
        " WHERE \"change\" = 'pm-tool' AND team = 'atlas' AND NOT suppressed"
        " AND active_share IS NOT NULL")]
    assert len(expected) > 6 and rows_of(adoption.rows) == rows_of(expected)


def test_no_chart_shows_a_group_of_fewer_than_five(org: tuple[Path, str]) -> None:
    db, page = org
    # tiny has 3 people every month: every figure about it is suppressed, so it has no chart
    assert query(db, "SELECT max(people_count) FROM metric_team_months WHERE team = 'tiny'"
                 ) == [(3,)]
    assert charts_in(team_part(page, "tiny")) == []
    # and a chart's marks carry figures only: no person, account or item
    allowed = {"month", "category", "share", "series", "value", "stage", "median_hours",
               "p75_hours", "criterion", "estimate", "low", "high", "threshold", "week"}
    for chart in charts_in(page):
        for row in chart.rows:
            assert set(row) <= allowed, (chart.title, row)
    people = {name for (name,) in query(db, "SELECT display_name FROM people")}
    assert not any(name in page for name in people if len(name) > 3)


def test_each_chart_has_a_title_and_a_description(org: tuple[Path, str]) -> None:
    _, page = org
    found = charts_in(page)
    assert len(found) == 7
    for chart in found:
        first, second = list(chart.root)[:2]
        assert first.tag == f"{NS}title" and first.text == chart.title
        assert second.tag == f"{NS}desc" and len(second.text) > 40
        assert all(m.get("aria-label") for m in marks(chart))


# ---- where the marks are drawn ---------------------------------------------------------------

MONTH_NAMES = [label(m) for m in MONTHS]


def test_line_points_sit_where_the_axis_puts_their_values() -> None:
    rows = [{"month": m, "order": i, "series": s, "value": v}
            for i, m in enumerate(MONTH_NAMES)
            for s, v in (("first", 0.05 + i * 0.03), ("second", 0.3 - i * 0.01))]
    chart = parse(str(charts.line_chart(rows, "t", "s", "Share", y_format="%",
                                        series_title="Line", rule=0.4, rule_label="ref")))
    scale = axis_scale(chart, "Y")
    for mark, row in zip(marks(chart), chart.rows, strict=True):
        assert value_at(scale, float(mark.get("cy"))) == pytest.approx(row["value"], abs=0.001)
    paths = [p for p in chart.root.iter(f"{NS}path")]
    assert [p.get("stroke-dasharray") for p in paths] == [None, "5,3"]  # first solid
    assert [p.get("stroke") for p in paths] == charts.SERIES_COLORS[:2]
    rule = next(g for g in chart.root.iter(f"{NS}g")
                if g.get("aria-roledescription") == "reference line")
    line = rule.find(f"{NS}line")
    assert value_at(scale, float(line.get("y1"))) == pytest.approx(0.4, abs=0.001)
    legend = next(g for g in chart.root.iter(f"{NS}g")
                  if g.get("aria-roledescription") == "legend")
    assert [t.text for t in legend.iter(f"{NS}text")] == ["Line", "first", "second"]


def test_stacked_bars_split_each_month_by_its_shares() -> None:
    shares = {"customer": 0.5, "enabling": 0.1, "process": 0.3, "unclassified": 0.1}
    rows = [{"month": m, "order": i, "category": c, "category_order": j,
             "share": s * (1 + i / 10)}  # not summing to 1: drawn normalized
            for i, m in enumerate(MONTH_NAMES[:3])
            for j, (c, s) in enumerate(shares.items())]
    chart = parse(str(charts.allocation_chart(rows, "t", "s")))
    bars = marks(chart)
    assert len(bars) == 12
    for month in MONTH_NAMES[:3]:
        mine = [b for b in bars if month in b.get("aria-label")]
        heights = [float(b.get("height")) for b in mine]
        assert sum(heights) == pytest.approx(charts.HEIGHT, abs=0.05)
        assert [h / charts.HEIGHT for h in heights] == pytest.approx(
            list(shares.values()), abs=0.001)
        assert [b.get("fill") for b in mine] == charts.CATEGORY_COLORS
        # stacked from the bottom up in category order: customer at the bottom
        assert float(mine[0].get("y")) + heights[0] == pytest.approx(charts.HEIGHT, abs=0.01)
    scale = axis_scale(chart, "Y")
    assert value_at(scale, 0) == pytest.approx(1.0) and value_at(scale, charts.HEIGHT) == 0


def test_horizontal_marks_sit_where_the_axis_puts_their_values() -> None:
    stages = [{"stage": s, "order": i, "median_hours": m, "p75_hours": p}
              for i, (s, m, p) in enumerate((("Coding", 288, 400), ("Pickup", 4, 6),
                                              ("Review", 20, 30), ("Deploy", 24, None)))]
    chart = parse(str(charts.stage_chart(stages, "t", "s")))
    scale = axis_scale(chart, "X")
    for bar, row in zip(marks(chart), stages, strict=True):
        assert value_at(scale, float(bar.get("x")) + float(bar.get("width"))) == \
            pytest.approx(row["median_hours"], abs=0.1)
    ticks = [float(line.get("x1")) for line in chart.root.iter(f"{NS}line")
             if line.get("stroke") == "#222"]
    assert [value_at(scale, x) for x in ticks] == pytest.approx([400, 6, 30], abs=0.1)

    intervals = [{"criterion": "overhead_ratio <= +3pp", "order": 1, "estimate": 15.1,
                  "low": 12.0, "high": 18.2, "threshold": 3},
                 {"criterion": "paperwork_ratio <= +5pp", "order": 2, "estimate": -0.5,
                  "low": -2.5, "high": 1.0, "threshold": 5}]
    chart = parse(str(charts.interval_chart(intervals, "t", "s")))
    scale = axis_scale(chart, "X")
    assert [value_at(scale, float(c.get("cx"))) for c in marks(chart)] == \
        pytest.approx([15.1, -0.5], abs=0.01)
    whiskers = [(float(w.get("x1")), float(w.get("x2"))) for w in chart.root.iter(f"{NS}line")
                if w.get("stroke") == "#333"]
    assert [(value_at(scale, a), value_at(scale, b)) for a, b in whiskers] == [
        (pytest.approx(12.0, abs=0.01), pytest.approx(18.2, abs=0.01)),
        (pytest.approx(-2.5, abs=0.01), pytest.approx(1.0, abs=0.01))]

    tools = [{"team": t, "order": i, "source": s, "source_order": j, "share": sh}
             for i, t in enumerate(("atlas", "borealis"))
             for j, (s, sh) in enumerate(zip(charts.SOURCE_ORDER, (0.6, 0.3, 0.1), strict=True))]
    chart = parse(str(charts.source_chart(tools, "t", "s")))
    scale = axis_scale(chart, "X")
    ends = [value_at(scale, float(b.get("x")) + float(b.get("width"))) for b in marks(chart)]
    assert ends == pytest.approx([0.6, 0.9, 1.0] * 2, abs=0.001)


def test_adoption_points_and_half_peak() -> None:
    rows = [{"week": w, "value": v, "series": "weekly active share"}
            for w, v in enumerate((0.0, 0.5, 0.8, 0.6, 0.3))]
    chart = parse(str(charts.adoption_chart(rows, "t", "s", 0.4)))
    x, y = axis_scale(chart, "X"), axis_scale(chart, "Y")
    for mark, row in zip(marks(chart), rows, strict=True):
        assert value_at(x, float(mark.get("cx"))) == pytest.approx(row["week"], abs=0.01)
        assert value_at(y, float(mark.get("cy"))) == pytest.approx(row["value"], abs=0.001)
    assert "half of the peak" in [t.text for t in chart.root.iter(f"{NS}text")]


# ---- hostile strings -------------------------------------------------------------------------

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "a & b",
           "url(https://evil.example/x)", "' onmouseover='alert(3)", "\N{ROCKET} 支付 ]]>"]


def every_kind(name: str) -> list[str]:
    """One chart of each kind with `name` as its title, subtitle and every label from data."""
    return [str(chart) for chart in (
        charts.allocation_chart([{"month": name, "order": 0, "category": "customer",
                                  "category_order": 0, "share": 1.0}], name, name),
        charts.line_chart([{"month": name, "order": 0, "series": name, "value": 0.5}],
                          name, name, name, y_format="%", series_title=name, rule=0.4,
                          rule_label=name),
        charts.stage_chart([{"stage": name, "order": 0, "median_hours": 2.0,
                             "p75_hours": 3.0}], name, name),
        charts.adoption_chart([{"week": 0, "value": 0.5, "series": name}], name, name, 0.25),
        charts.interval_chart([{"criterion": name, "order": 0, "estimate": 1.0, "low": 0.0,
                                "high": 2.0, "threshold": 3.0}], name, name),
        charts.source_chart([{"team": name, "order": 0, "source": "Jira", "source_order": 1,
                              "share": 1.0}], name, name),
    )]


@pytest.mark.parametrize("name", HOSTILE)
def test_strings_from_the_data_stay_text_in_every_chart(name: str) -> None:
    for drawn in every_kind(name):
        root = ET.fromstring(drawn)  # well-formed
        svg.safe_svg(drawn)  # nothing that runs or fetches
        tags = {e.tag.removeprefix(NS) for e in root.iter()}
        assert tags <= {"svg", "g", "title", "desc", "rect", "text", "line", "path", "circle"}
        assert not any(k.lower().startswith("on") for e in root.iter() for k in e.attrib)
        texts = [e.text for e in root.iter() if e.text]
        assert name in texts  # drawn as text, exactly
        assert all(e.tag.removeprefix(NS) != "a" for e in root.iter())
        assert "<script" not in drawn and "<img" not in drawn


def test_long_labels_are_cut_and_keep_their_full_text() -> None:
    long = "overhead_ratio of the whole organization <= +3pp " * 3
    chart = parse(str(charts.interval_chart(
        [{"criterion": long, "order": 0, "estimate": 1.0, "low": 0.0, "high": 2.0,
          "threshold": 3.0}], "t", "s")))
    label = next(t for t in chart.root.iter(f"{NS}text") if t.find(f"{NS}title") is not None)
    full = label.find(f"{NS}title")
    shown = full.tail  # the text drawn, after the <title> with the full label
    assert full.text == long and long.startswith(shown[:-1])
    assert shown.endswith("\N{HORIZONTAL ELLIPSIS}")
    assert 100 < chart_parts.text_width(shown, 11) <= chart_parts.LABEL_LIMIT
    assert chart.rows[0]["criterion"] == long


def test_a_chart_costs_about_a_millisecond() -> None:
    # CPU time, not wall time, so other processes on the machine do not count; the Altair and
    # vl-convert charts cost 55-58 ms each (benchmarks/RESULTS.md section 3).
    drawn = 0
    started = time.process_time()
    for _ in range(20):
        drawn += len(every_kind("atlas"))
    per_chart = (time.process_time() - started) / drawn
    assert per_chart < 0.010, f"{per_chart * 1000:.1f} ms a chart"
