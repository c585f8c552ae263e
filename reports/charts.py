"""The report's charts, drawn as inline SVG by small functions: no script, no network, no renderer.

Each chart function takes rows the report has already aggregated (a dozen months, a handful of
stages or criteria) and returns the chart's SVG as Markup, checked by `svg.safe_svg`. A chart
costs well under a millisecond: the data's cost, not the drawing's (issue 20; it was 55-58 ms a
chart with Altair and vl-convert in worker processes).

What every chart has: a <title> and a <desc> (the title, subtitle and what is drawn, for screen
readers), the title and subtitle drawn in words, axes with titles and units, a legend where
colour or dash tells series apart, and on each data mark its figures twice: in words
(`aria-label`) and as JSON (`data-row`), so the figures a chart draws can be read back from the
page and compared with the database (tests/test_report_charts.py).

The parts they are drawn with (axes, legends, the frame, and escaping: every string from the
data reaches the SVG through the only two functions that write markup) are in
reports/chart_parts.py; the scales and the figures read from rows in reports/chart_scales.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from reports.chart_parts import (
    HEIGHT,
    LABEL_SIZE,
    WIDTH,
    _bottom_linear,
    _bottom_turned,
    _el,
    _frame,
    _left_band,
    _left_linear,
    _legend,
    _mark,
    _num,
    _sentence,
    _span,
    _text,
)
from reports.chart_scales import (
    Band,
    Linear,
    _fraction,
    _optional,
    _ordered,
    _stacked,
    _value_words,
)

CATEGORY_ORDER = ["customer", "enabling", "process", "unclassified"]
CATEGORY_COLORS = ["#2b6cb0", "#5b9f4a", "#d1495b", "#a0a0a0"]
SERIES_COLORS = ["#2b6cb0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]
SOURCE_ORDER = ["GitHub", "Jira", "Slack"]
SOURCE_COLORS = ["#444c56", "#2b6cb0", "#8a5fbf"]
SINGLE_COLOR = "#4c78a8"  # a lone series (the adoption curve)


def allocation_chart(rows: Sequence[dict[str, Any]], title: str, subtitle: str) -> Markup:
    """Stacked bars: share of credited effort per category, one bar per month, each bar the
    month's shares normalized to 100%.

    rows: {month: 'Mar 2026', order: int, category, category_order, share (0..1)}."""
    months = _ordered(rows, "month")
    x = Band(months, WIDTH)
    y = Linear([1.0], HEIGHT, math.ceil(HEIGHT / 40), percent=True, flip=True)
    colors = dict(zip(CATEGORY_ORDER, CATEGORY_COLORS, strict=True))
    bars = []
    for month in months:
        mine = sorted((r for r in rows if r["month"] == month),
                      key=lambda r: (r.get("category_order", 9), str(r["category"])))
        for r, share, low, level in _stacked(mine):
            bars.append(_mark("rect", {
                "x": x(month), "y": y(level), "width": x.bandwidth,
                "height": y(low) - y(level), "fill": colors.get(r["category"], "#a0a0a0")},
                f"Month: {month}; Share of credited effort: {_value_words(share, True)}; "
                f"Category: {r['category']}",
                {"month": month, "category": r["category"], "share": share}))
    legend = _legend("Category", [(c, colors[c], None) for c in CATEGORY_ORDER], False, WIDTH)
    desc = (f"{_sentence(subtitle)}Stacked bars, one per month from {_span(months)}: each "
            f"month's credited effort split into {', '.join(CATEGORY_ORDER)}, as shares of 100%.")
    return _frame("allocation", title, subtitle, desc, WIDTH, HEIGHT,
                  _left_linear(y, "Share of credited effort", WIDTH),
                  _bottom_turned(x, "Month", WIDTH, HEIGHT),
                  _el("g", {"role": "graphics-object", "aria-roledescription": "bars"},
                      "".join(bars)), legend, turned=True)


def _rule(scale: Linear, value: float, label: str | None, plot_w: float) -> str:
    """A dashed horizontal reference line with its label above its left end."""
    y = scale(value)
    parts = [_el("line", {"x1": 0, "x2": plot_w, "y1": y, "y2": y, "stroke": "#666",
                          "stroke-dasharray": "2,2"})]
    if label:
        parts.append(_text({"x": 4, "y": y - 3, "font-size": LABEL_SIZE, "fill": "#444"},
                           label))
    return _el("g", {"role": "graphics-object", "aria-roledescription": "reference line",
                     "aria-label": f"Reference line at {_value_words(value, scale.percent)}"
                     + (f": {label}" if label else "")}, "".join(parts))


def _lines(series: dict[str, list[tuple[float, float, str, dict[str, Any]]]],
           colors: dict[str, str], dashes: dict[str, str]) -> str:
    """One path and its points per series: [(x, y, words, data row)] in drawing order."""
    parts = []
    for name, points in series.items():
        path = "M" + "L".join(f"{_num(px)},{_num(py)}" for px, py, _, _ in points)
        marks = [_el("path", {"d": path, "fill": "none", "stroke": colors[name],
                              "stroke-width": 2, "stroke-dasharray": dashes[name] or None,
                              "aria-hidden": "true"})]
        marks += [_mark("circle", {"cx": px, "cy": py, "r": 3, "fill": colors[name]},
                        words, row) for px, py, words, row in points]
        parts.append(_el("g", {"role": "graphics-object", "aria-roledescription": "line",
                               "aria-label": f"Line: {name}"}, "".join(marks)))
    return "".join(parts)


def line_chart(
    rows: Sequence[dict[str, Any]],
    title: str,
    subtitle: str,
    y_title: str,
    y_format: str = "",
    series_title: str = "Series",
    rule: float | None = None,
    rule_label: str | None = None,
) -> Markup:
    """Lines over months. rows: {month: 'Mar 2026', order, series, value}. The first series
    (in row order) is drawn solid, the others dashed; an optional horizontal rule marks a
    threshold or reference. y_format '%' shows values 0..1 as percentages."""
    percent = y_format == "%"
    names = list(dict.fromkeys(r["series"] for r in rows))
    months = _ordered(rows, "month")
    x = Band(months, WIDTH, points=True)
    values = [_fraction(r["value"]) for r in rows] + ([rule] if rule is not None else [])
    y = Linear(values, HEIGHT, math.ceil(HEIGHT / 40), percent=percent, flip=True)
    colors = {n: SERIES_COLORS[i % len(SERIES_COLORS)] for i, n in enumerate(names)}
    dashes = {n: "" if i == 0 else "5,3" for i, n in enumerate(names)}
    series: dict[str, list] = {n: [] for n in names}
    for r in sorted(rows, key=lambda r: r.get("order", 0)):
        value = _fraction(r["value"])
        series[r["series"]].append((
            x.middle(r["month"]), y(value),
            f"Month: {r['month']}; {y_title}: {_value_words(value, percent)}; "
            f"{series_title}: {r['series']}",
            {"month": r["month"], "series": r["series"], "value": value}))
    marks = _lines(series, colors, dashes)
    if rule is not None:
        marks = _rule(y, rule, rule_label, WIDTH) + marks
    legend = _legend(series_title, [(n, colors[n], dashes[n]) for n in names], True, WIDTH)
    desc = (f"{_sentence(subtitle)}{len(names)} line{'s' if len(names) != 1 else ''} over "
            f"the months {_span(months)} ({', '.join(names)}); {y_title} from "
            f"{y.label(y.low)} to {y.label(y.high)}."
            + (f" A dashed reference line at {_value_words(rule, percent)}"
               f"{': ' + rule_label if rule_label else ''}." if rule is not None else ""))
    return _frame("line", title, subtitle, desc, WIDTH, HEIGHT,
                  _left_linear(y, y_title, WIDTH), _bottom_turned(x, "Month", WIDTH, HEIGHT),
                  marks, legend, turned=True)


def stage_chart(rows: Sequence[dict[str, Any]], title: str, subtitle: str) -> Markup:
    """Horizontal bars of median hours per stage, with a tick at the 75th percentile.

    rows: {stage, order, median_hours, p75_hours}."""
    stages = _ordered(rows, "stage")
    height = 24 * max(len(stages), 1)
    y = Band(stages, height)
    x_title = "Hours (bar: median, tick: 75th percentile)"
    x = Linear([v for r in rows for v in (r["median_hours"], _optional(r["p75_hours"]))], WIDTH,
               math.ceil(WIDTH / 40))
    marks = []
    for r in sorted(rows, key=lambda r: r.get("order", 0)):
        median, p75 = _fraction(r["median_hours"]), _optional(r["p75_hours"])
        words = f"Stage: {r['stage']}; median: {_value_words(median, False)} hours"
        row = {"stage": r["stage"], "median_hours": median, "p75_hours": p75}
        if p75 is not None:
            words += f"; 75th percentile: {_value_words(p75, False)} hours"
        marks.append(_mark("rect", {"x": min(x(0), x(median)), "y": y(r["stage"]),
                                    "width": abs(x(median) - x(0)), "height": y.bandwidth,
                                    "fill": "#2b6cb0"}, words, row))
        if p75 is not None:
            middle = y.middle(r["stage"])
            marks.append(_el("line", {"x1": x(p75), "x2": x(p75),
                                      "y1": middle - 9, "y2": middle + 9, "stroke": "#222",
                                      "stroke-width": 2, "opacity": 0.7, "aria-hidden": "true"}))
    desc = (f"{_sentence(subtitle)}One bar per stage ({', '.join(stages)}): its median in "
            f"hours, with a tick at the 75th percentile.")
    return _frame("stage", title, subtitle, desc, WIDTH, height, _left_band(y),
                  _bottom_linear(x, x_title, height),
                  _el("g", {"role": "graphics-object", "aria-roledescription": "bars"},
                      "".join(marks)))


def adoption_chart(
    rows: Sequence[dict[str, Any]], title: str, subtitle: str, half_peak: float | None
) -> Markup:
    """Weekly active share of the team in a change's footprint, weeks since it started.

    rows: {week: int, value: 0..1, series}."""
    x_title, y_title = "Weeks since the change started", "Weekly active users / team size"
    x = Linear([r["week"] for r in rows], WIDTH, math.ceil(WIDTH / 40))
    y = Linear([_fraction(r["value"]) for r in rows] + ([half_peak] if half_peak else []),
               HEIGHT, math.ceil(HEIGHT / 40), percent=True, flip=True)
    series: dict[str, list] = {}
    for r in sorted(rows, key=lambda r: r["week"]):
        value = _fraction(r["value"])
        series.setdefault(r["series"], []).append((
            x(r["week"]), y(value),
            f"{x_title}: {r['week']}; {y_title}: {_value_words(value, True)}",
            {"week": int(r["week"]), "value": value}))
    colors = {name: SINGLE_COLOR for name in series}
    marks = _lines(series, colors, {name: "" for name in series})
    if half_peak is not None:
        marks = _rule(y, half_peak, "half of the peak", WIDTH) + marks
    weeks = [r["week"] for r in rows]
    desc = (f"{_sentence(subtitle)}A line over weeks {min(weeks)} to {max(weeks)} since the "
            f"change started; {y_title} from {y.label(y.low)} to {y.label(y.high)}."
            + (f" A dashed line at half of the peak, {_value_words(half_peak, True)}."
               if half_peak is not None else ""))
    return _frame("adoption", title, subtitle, desc, WIDTH, HEIGHT,
                  _left_linear(y, y_title, WIDTH), _bottom_linear(x, x_title, HEIGHT), marks)


def interval_chart(rows: Sequence[dict[str, Any]], title: str, subtitle: str) -> Markup:
    """Estimates with 95% intervals against their thresholds, one row per criterion.

    rows: {criterion, order, estimate, low, high, threshold} in one common unit."""
    criteria = _ordered(rows, "criterion")
    height = 28 * max(len(criteria), 1)
    y = Band(criteria, height)
    x_title = "Change after minus before (95% interval)"
    x = Linear([v for r in rows for v in (r["estimate"], r["low"], r["high"], r["threshold"])],
               WIDTH, math.ceil(WIDTH / 40))
    marks = []
    for r in sorted(rows, key=lambda r: r.get("order", 0)):
        middle = y.middle(r["criterion"])
        estimate, low, high = (float(r[k]) for k in ("estimate", "low", "high"))
        threshold = float(r["threshold"])
        marks.append(_el("line", {"x1": x(low), "x2": x(high), "y1": middle, "y2": middle,
                                  "stroke": "#333", "aria-hidden": "true"}))
        marks.append(_el("line", {"x1": x(threshold), "x2": x(threshold), "y1": middle - 10,
                                  "y2": middle + 10, "stroke": "#d1495b", "stroke-width": 2,
                                  "opacity": 0.7, "aria-hidden": "true"}))
        marks.append(_mark("circle", {"cx": x(estimate), "cy": middle, "r": 4.4,
                                      "fill": "#2b6cb0", "opacity": 0.7},
                           f"Criterion: {r['criterion']}; estimate: "
                           f"{_value_words(estimate, False)}; 95% interval: "
                           f"{_value_words(low, False)} to {_value_words(high, False)}; "
                           f"threshold: {_value_words(threshold, False)}",
                           {"criterion": r["criterion"], "estimate": estimate, "low": low,
                            "high": high, "threshold": threshold}))
    desc = (f"{_sentence(subtitle)}One row per criterion ({len(criteria)}): a dot at the "
            f"estimate, a line over its 95% interval and a red tick at its threshold.")
    return _frame("interval", title, subtitle, desc, WIDTH, height, _left_band(y),
                  _bottom_linear(x, x_title, height),
                  _el("g", {"role": "graphics-object", "aria-roledescription": "intervals"},
                      "".join(marks)))


def source_chart(rows: Sequence[dict[str, Any]], title: str, subtitle: str) -> Markup:
    """One horizontal bar per team split by tool, normalized to 100%. rows: {team, order,
    source, source_order, share (0..1)}."""
    teams = _ordered(rows, "team")
    height = 26 * max(len(teams), 1)
    y = Band(teams, height)
    x = Linear([1.0], WIDTH, math.ceil(WIDTH / 40), percent=True)
    colors = dict(zip(SOURCE_ORDER, SOURCE_COLORS, strict=True))
    bars = []
    for team in teams:
        mine = sorted((r for r in rows if r["team"] == team),
                      key=lambda r: r.get("source_order", 9))
        for r, share, low, level in _stacked(mine):
            bars.append(_mark("rect", {
                "x": x(low), "y": y(team), "width": x(level) - x(low), "height": y.bandwidth,
                "fill": colors.get(r["source"], "#a0a0a0")},
                f"Team: {team}; Tool: {r['source']}; Share of credited effort: "
                f"{_value_words(share, True)}",
                {"team": team, "source": r["source"], "share": share}))
    legend = _legend("Tool", [(s, colors[s], None) for s in SOURCE_ORDER], False, WIDTH)
    desc = (f"{_sentence(subtitle)}One bar per team ({len(teams)}), split into "
            f"{', '.join(SOURCE_ORDER)} as shares of 100%.")
    return _frame("source", title, subtitle, desc, WIDTH, height, _left_band(y),
                  _bottom_linear(x, "Share of credited effort", height),
                  _el("g", {"role": "graphics-object", "aria-roledescription": "bars"},
                      "".join(bars)), legend)
