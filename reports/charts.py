"""Chart specs (Altair) rendered to inline SVG by vl-convert: no script, no network, no CDN.
Each public function queues its chart and returns a PendingSvg; the spec is built and rendered
in a worker process (reports/svg.py).

Every chart gets a title in words and axis titles with units. Data is aggregated before it gets
here (a dozen months, a handful of stages), which keeps each SVG a few kilobytes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec

import altair as alt

from reports.svg import PendingSvg, draw

CATEGORY_ORDER = ["customer", "enabling", "process", "unclassified"]
CATEGORY_COLORS = ["#2b6cb0", "#5b9f4a", "#d1495b", "#a0a0a0"]
SERIES_COLORS = ["#2b6cb0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]
# Metric-compatible with Liberation Sans, which vl-convert measures text with; the emoji fonts
# last, so an emoji in a title from the data shows in the browser rather than an empty box.
FONT = ("Helvetica, Arial, sans-serif, 'Apple Color Emoji', 'Segoe UI Emoji', "
        "'Noto Color Emoji'")
# One entry per line: horizontal legends are laid out with vl-convert's font measurements, and
# a wider browser font would make neighbours overlap.
VERTICAL_LEGEND = alt.Legend(orient="bottom", direction="vertical", symbolType="stroke")
WIDTH = 520
VALIDATE_CHARTS = os.environ.get("PROCESSHEALTH_VALIDATE_CHARTS") == "1"
HEIGHT = 180


def _label_padding(rows: Sequence[dict[str, Any]], field: str) -> dict[str, int]:
    """Room on the left for axis labels: vl-convert measures text with its own fonts, and the
    browser's sans-serif can be wider, which would push long labels past the SVG's edge."""
    longest = max((len(str(r[field])) for r in rows), default=0)
    return {"left": 5 + min(longest, 40) * 2, "top": 5, "right": 5, "bottom": 5}


DATA = "rows"  # the chart's rows, named: they join the spec only when it is done


def _spec(chart: alt.TopLevelMixin, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The Vega-Lite spec of a chart whose layers read the named dataset DATA, with `rows` as
    that dataset (Altair would copy and hash inline data at every step of building a chart)."""
    spec = chart.to_dict(validate=VALIDATE_CHARTS)
    spec.setdefault("datasets", {})[DATA] = list(rows)
    return spec


P = ParamSpec("P")


def _drawn(build: Callable[P, dict[str, Any]]) -> Callable[P, PendingSvg]:
    """Make a spec builder a chart function: calling it queues the chart for a worker, which
    builds the spec (without Altair's per-object schema validation: the specs are fixed code,
    validated by the test suite with PROCESSHEALTH_VALIDATE_CHARTS=1) and renders it."""
    _BUILDERS[build.__name__] = build

    @functools.wraps(build)
    def chart(*args: P.args, **kwargs: P.kwargs) -> PendingSvg:
        return draw(_build_spec, build.__name__, *args, **kwargs)
    return chart


_BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {}


def _build_spec(name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with alt.utils.schemapi.debug_mode(VALIDATE_CHARTS):
        return _BUILDERS[name](*args, **kwargs)


def _base(title: str, subtitle: str | None = None) -> alt.Chart:
    params: dict[str, Any] = {"text": title, "anchor": "start", "fontSize": 14, "font": FONT}
    if subtitle:
        params["subtitle"] = subtitle
        params["subtitleFont"] = FONT
    return alt.Chart(alt.NamedData(name=DATA), title=alt.TitleParams(**params))


def _configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure_axis(labelFont=FONT, titleFont=FONT, labelFontSize=11, titleFontSize=11)
        .configure_legend(labelFont=FONT, titleFont=FONT, orient="bottom")
        .configure_view(stroke=None)
    )


@_drawn
def allocation_chart(rows: Sequence[dict[str, Any]], title: str, subtitle: str) -> dict[str, Any]:
    """Stacked bars: share of credited effort per category, one bar per month.

    rows: {month: 'Mar 2026', order: int, category, share (0..1)}."""
    chart = _base(title, subtitle).mark_bar().encode(
        x=alt.X("month:O", title="Month", sort=alt.SortField("order"),
                axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("share:Q", title="Share of credited effort", stack="normalize",
                axis=alt.Axis(format="%")),
        color=alt.Color("category:N", title="Category",
                        scale=alt.Scale(domain=CATEGORY_ORDER, range=CATEGORY_COLORS)),
        order=alt.Order("category_order:Q"),
    ).properties(width=WIDTH, height=HEIGHT)
    return _spec(_configure(chart), rows)


@_drawn
def line_chart(
    rows: Sequence[dict[str, Any]],
    title: str,
    subtitle: str,
    y_title: str,
    y_format: str = "",
    series_title: str = "Series",
    rule: float | None = None,
    rule_label: str | None = None,
) -> dict[str, Any]:
    """Lines over months. rows: {month: 'Mar 2026', order, series, value}. The first series
    (in row order) is drawn solid, the others dashed; an optional horizontal rule marks a
    threshold or reference."""
    names = list(dict.fromkeys(r["series"] for r in rows))
    base = _base(title, subtitle)
    axis = alt.Axis(format=y_format) if y_format else alt.Axis()
    layers: list[Any] = [
        base.mark_line(point=True).encode(
            x=alt.X("month:O", title="Month", sort=alt.SortField("order"),
                    axis=alt.Axis(labelAngle=-40)),
            y=alt.Y("value:Q", title=y_title, axis=axis),
            color=alt.Color("series:N", title=series_title, legend=VERTICAL_LEGEND,
                            scale=alt.Scale(domain=names, range=SERIES_COLORS[:len(names)])),
            strokeDash=alt.StrokeDash(
                "series:N", title=series_title, legend=VERTICAL_LEGEND,
                scale=alt.Scale(domain=names, range=[[1, 0]] + [[5, 3]] * (len(names) - 1))),
        )
    ]
    if rule is not None:
        ref = alt.Chart(alt.Data(values=[{"y": rule, "label": rule_label or ""}]))
        layers.append(ref.mark_rule(color="#666", strokeDash=[2, 2]).encode(y=alt.Y("y:Q")))
        if rule_label:
            layers.append(ref.mark_text(align="left", dx=4, dy=-6, color="#444", font=FONT)
                          .encode(y=alt.Y("y:Q"), x=alt.XValue(0), text=alt.Text("label:N")))
    chart = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)
    return _spec(_configure(chart), rows)


@_drawn
def stage_chart(rows: Sequence[dict[str, Any]], title: str, subtitle: str) -> dict[str, Any]:
    """Horizontal bars of median hours per stage, with a tick at the 75th percentile.

    rows: {stage, order, median_hours, p75_hours}."""
    base = _base(title, subtitle)
    y = alt.Y("stage:N", title=None, sort=alt.SortField("order"))
    bars = base.mark_bar(color="#2b6cb0").encode(
        y=y, x=alt.X("median_hours:Q", title="Hours (bar: median, tick: 75th percentile)"))
    ticks = base.mark_tick(color="#222", thickness=2, size=18).encode(y=y, x=alt.X("p75_hours:Q"))
    chart = alt.layer(bars, ticks).properties(
        width=WIDTH, height=24 * max(len(rows), 1), padding=_label_padding(rows, "stage"))
    return _spec(_configure(chart), rows)


@_drawn
def adoption_chart(
    rows: Sequence[dict[str, Any]], title: str, subtitle: str, half_peak: float | None
) -> dict[str, Any]:
    """Weekly active share of the team in a change's footprint, weeks since it started.

    rows: {week: int, value: 0..1, series}."""
    base = _base(title, subtitle)
    layers: list[Any] = [
        base.mark_line(point=True).encode(
            x=alt.X("week:Q", title="Weeks since the change started"),
            y=alt.Y("value:Q", title="Weekly active users / team size",
                    axis=alt.Axis(format="%")),
            color=alt.Color("series:N", title=None, legend=None),
        )
    ]
    if half_peak is not None:
        ref = alt.Chart(alt.Data(values=[{"y": half_peak, "label": "half of the peak"}]))
        layers.append(ref.mark_rule(color="#666", strokeDash=[2, 2]).encode(y=alt.Y("y:Q")))
        layers.append(ref.mark_text(align="left", dx=4, dy=-6, color="#444", font=FONT)
                      .encode(y=alt.Y("y:Q"), x=alt.XValue(0), text=alt.Text("label:N")))
    chart = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)
    return _spec(_configure(chart), rows)


@_drawn
def interval_chart(rows: Sequence[dict[str, Any]], title: str, subtitle: str) -> dict[str, Any]:
    """Estimates with 95% intervals against their thresholds, one row per criterion.

    rows: {criterion, order, estimate, low, high, threshold} in one common unit."""
    base = _base(title, subtitle)
    y = alt.Y("criterion:N", title=None, sort=alt.SortField("order"))
    whisker = base.mark_rule(color="#333").encode(
        y=y, x=alt.X("low:Q", title="Change after minus before (95% interval)"),
        x2=alt.X2("high:Q"))
    point = base.mark_point(filled=True, size=60, color="#2b6cb0").encode(
        y=y, x=alt.X("estimate:Q"))
    threshold = base.mark_tick(color="#d1495b", thickness=2, size=20).encode(
        y=y, x=alt.X("threshold:Q"))
    chart = alt.layer(whisker, point, threshold).properties(
        width=WIDTH, height=28 * max(len(rows), 1), padding=_label_padding(rows, "criterion"))
    return _spec(_configure(chart), rows)


@_drawn
def source_chart(rows: Sequence[dict[str, Any]], title: str, subtitle: str) -> dict[str, Any]:
    """One horizontal bar per team split by tool. rows: {team, order, source, source_order,
    share (0..1)}."""
    chart = _base(title, subtitle).mark_bar().encode(
        y=alt.Y("team:N", title=None, sort=alt.SortField("order")),
        x=alt.X("share:Q", title="Share of credited effort", stack="normalize",
                axis=alt.Axis(format="%")),
        color=alt.Color("source:N", title="Tool",
                        scale=alt.Scale(domain=["GitHub", "Jira", "Slack"],
                                        range=["#444c56", "#2b6cb0", "#8a5fbf"])),
        order=alt.Order("source_order:Q"),
    ).properties(width=WIDTH, height=26 * max(len({r["team"] for r in rows}), 1),
                 padding=_label_padding(rows, "team"))
    return _spec(_configure(chart), rows)
