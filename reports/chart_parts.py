"""The parts every report chart is drawn with (reports/charts.py draws the kinds): fonts and
text widths, axes, legends, the frame with its title and description, and the only two functions
that write markup. The linear and band scales the axes follow, and the figures read from rows,
are in reports/chart_scales.py. The names with an underscore are for reports/charts.py only.

Escaping: every string from the data (team, stage, criterion and series names, titles) reaches
the SVG through `_esc` (markupsafe.escape) in `_el` and `_text`, the only two places that write
markup, and `svg.safe_svg` re-checks the result before it is marked safe.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup
from markupsafe import escape as _esc

from reports.chart_scales import Band, Linear
from reports.svg import safe_svg

# The emoji fonts last, so an emoji in a title from the data shows in the browser rather than an
# empty box. Text widths below are Helvetica's (Arial and Liberation Sans share them).
FONT = ("Helvetica, Arial, sans-serif, 'Apple Color Emoji', 'Segoe UI Emoji', "
        "'Noto Color Emoji'")
WIDTH = 520  # the plot area; the SVG adds room for axes, titles and the legend
HEIGHT = 180
PAD = 5
AXIS_COLOR, GRID_COLOR, INK = "#888", "#ddd", "#000"
LABEL_SIZE, TITLE_SIZE, SUBTITLE_SIZE, LEGEND_SIZE = 11, 14, 12, 10
LABEL_LIMIT = 180  # px: longer band labels are cut with an ellipsis (the full text is in a title)
X_ANGLE = 40  # degrees the month labels are turned

# Advance widths of ASCII 32..126 in Helvetica, per 1000 units of the font size
_WIDTHS = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    *[556] * 10, 278, 278, 584, 584, 584, 556, 1015,
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722,
    667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333,
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333,
    500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
]


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width in px of `text` at `size` px, estimated from Helvetica's widths (wide and emoji
    characters count a full em and more); bold about a tenth wider. Used for layout only:
    margins, legend spacing, where a long label is cut."""
    units = 0.0
    for ch in text:
        code = ord(ch)
        if 32 <= code <= 126:
            units += _WIDTHS[code - 32]
        elif unicodedata.combining(ch) or code in (0x200D, 0xFE0F):
            continue
        elif code >= 0x1F000:
            units += 1250
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            units += 1000
        else:
            units += 600
    return units * size / 1000 * (1.1 if bold else 1.0)


def _cut(label: str, size: float, limit: float = LABEL_LIMIT) -> str:
    """`label`, cut with an ellipsis to fit `limit` px (as Vega's labelLimit)."""
    if text_width(label, size) <= limit:
        return label
    while label and text_width(label + "\N{HORIZONTAL ELLIPSIS}", size) > limit:
        label = label[:-1]
    return label + "\N{HORIZONTAL ELLIPSIS}"


# ---- markup: the only two functions that write tags and text ---------------------------------

def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _el(tag: str, attrs: dict[str, Any], content: str = "") -> str:
    """<tag attrs>content</tag>: every attribute value escaped (numbers trimmed to 2 decimals);
    `content` must be markup made by _el or _text."""
    parts = [tag]
    for name, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, float):
            parts.append(f'{name}="{_num(value)}"')
        elif isinstance(value, int):
            parts.append(f'{name}="{value}"')
        else:
            parts.append(f'{name}="{_esc(value)}"')
    opening = " ".join(parts)
    return f"<{opening}>{content}</{tag}>" if content else f"<{opening}/>"


def _text(attrs: dict[str, Any], words: Any, tooltip: str | None = None) -> str:
    """A <text> element; `words` (data or code) escaped, an optional <title> with the full text
    of a cut label."""
    inner = str(_esc(words))
    if tooltip is not None:
        inner = _el("title", {}, str(_esc(tooltip))) + inner
    return f"{_el('text', attrs)[:-2]}>{inner}</text>"


def _data_row(row: dict[str, Any]) -> str:
    """A mark's figures as JSON, floats to 10 significant digits: DuckDB's parallel sums may
    differ in the last bits from one run to the next, and a page regenerated from the same data
    should not."""
    return json.dumps({k: float(f"{v:.10g}") if isinstance(v, float) else v
                       for k, v in row.items()},
                      ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _mark(tag: str, attrs: dict[str, Any], label: str, row: dict[str, Any]) -> str:
    """One data mark: its figures in words for screen readers and as JSON for read-back."""
    return _el(tag, {**attrs, "role": "graphics-symbol", "aria-label": label,
                     "data-row": _data_row(row)})


# ---- axes and legends: each returns its markup and how far it reaches outside the plot ------

def _left_linear(scale: Linear, title: str, plot_w: float, grid: bool = True) -> tuple[str, float]:
    parts = []
    widest = 0.0
    for tick in scale.ticks():
        y = scale(tick)
        label = scale.label(tick)
        widest = max(widest, text_width(label, LABEL_SIZE))
        if grid:
            parts.append(_el("line", {"x1": 0, "x2": plot_w, "y1": y, "y2": y,
                                      "stroke": GRID_COLOR}))
        parts.append(_el("line", {"x1": -5, "x2": 0, "y1": y, "y2": y, "stroke": AXIS_COLOR}))
        parts.append(_text({"x": -7, "y": y + 3.5, "text-anchor": "end",
                            "font-size": LABEL_SIZE}, label))
    parts.append(_el("line", {"x1": 0, "x2": 0, "y1": 0, "y2": scale.length,
                              "stroke": AXIS_COLOR}))
    title_x = -(7 + widest + 6)
    parts.append(_text({"transform": f"translate({_num(title_x)},{_num(scale.length / 2)})"
                        " rotate(-90)", "text-anchor": "middle", "font-size": LABEL_SIZE,
                        "font-weight": "bold"}, title))
    label = (f"Y-axis titled '{title}' for a linear scale with values from "
             f"{scale.label(scale.low)} to {scale.label(scale.high)}")
    return (_el("g", {"role": "graphics-object", "aria-roledescription": "axis",
                      "aria-label": label}, "".join(parts)),
            -title_x + LABEL_SIZE)


def _left_band(scale: Band) -> tuple[str, float]:
    parts = []
    widest = 0.0
    for name in scale.names:
        y = scale.middle(name)
        shown = _cut(name, LABEL_SIZE)
        widest = max(widest, text_width(shown, LABEL_SIZE))
        parts.append(_el("line", {"x1": -5, "x2": 0, "y1": y, "y2": y, "stroke": AXIS_COLOR}))
        parts.append(_text({"x": -7, "y": y + 3.5, "text-anchor": "end",
                            "font-size": LABEL_SIZE}, shown, name if shown != name else None))
    parts.append(_el("line", {"x1": 0, "x2": 0, "y1": 0, "y2": scale.step * len(scale.names),
                              "stroke": AXIS_COLOR}))
    label = f"Y-axis with {len(scale.names)} values: " + ", ".join(scale.names)
    return (_el("g", {"role": "graphics-object", "aria-roledescription": "axis",
                      "aria-label": label}, "".join(parts)), 7 + widest)


def _bottom_linear(scale: Linear, title: str, plot_h: float, grid: bool = True
                   ) -> tuple[str, float, float]:
    """The axis, its depth below the plot, and how far its last label reaches past the plot."""
    parts = []
    overhang = 0.0
    for tick in scale.ticks():
        x = scale(tick)
        label = scale.label(tick)
        if grid:
            parts.append(_el("line", {"x1": x, "x2": x, "y1": 0, "y2": plot_h,
                                      "stroke": GRID_COLOR}))
        parts.append(_el("line", {"x1": x, "x2": x, "y1": plot_h, "y2": plot_h + 5,
                                  "stroke": AXIS_COLOR}))
        parts.append(_text({"x": x, "y": plot_h + 7 + LABEL_SIZE, "text-anchor": "middle",
                            "font-size": LABEL_SIZE}, label))
        overhang = max(overhang, x + text_width(label, LABEL_SIZE) / 2 - scale.length)
    parts.append(_el("line", {"x1": 0, "x2": scale.length, "y1": plot_h, "y2": plot_h,
                              "stroke": AXIS_COLOR}))
    title_y = plot_h + 7 + LABEL_SIZE + 5 + LABEL_SIZE
    parts.append(_text({"x": scale.length / 2, "y": title_y, "text-anchor": "middle",
                        "font-size": LABEL_SIZE, "font-weight": "bold"}, title))
    label = (f"X-axis titled '{title}' for a linear scale with values from "
             f"{scale.label(scale.low)} to {scale.label(scale.high)}")
    return (_el("g", {"role": "graphics-object", "aria-roledescription": "axis",
                      "aria-label": label}, "".join(parts)), title_y + 4 - plot_h, overhang)


def _bottom_turned(scale: Band, title: str, plot_w: float, plot_h: float
                   ) -> tuple[str, float, float]:
    """A discrete x axis with labels turned X_ANGLE degrees (months): the axis, its depth
    below the plot, and how far its first label reaches left of the plot."""
    parts = []
    sin, cos = math.sin(math.radians(X_ANGLE)), math.cos(math.radians(X_ANGLE))
    drop = reach = 0.0
    for name in scale.names:
        x = scale.middle(name)
        width = text_width(name, LABEL_SIZE)
        parts.append(_el("line", {"x1": x, "x2": x, "y1": plot_h, "y2": plot_h + 5,
                                  "stroke": AXIS_COLOR}))
        # as Vega turns them: the label's end 9 px below the tick's foot, along the turned text
        parts.append(_text({"transform": f"translate({_num(x)},{_num(plot_h + 7)})"
                            f" rotate(-{X_ANGLE}) translate(0,9)", "text-anchor": "end",
                            "font-size": LABEL_SIZE}, name))
        drop = max(drop, 7 + 9 * cos + width * sin + 3)
        reach = max(reach, width * cos + LABEL_SIZE * sin - x - 9 * sin)
    parts.append(_el("line", {"x1": 0, "x2": plot_w, "y1": plot_h, "y2": plot_h,
                              "stroke": AXIS_COLOR}))
    title_y = plot_h + drop + 4 + LABEL_SIZE
    parts.append(_text({"x": plot_w / 2, "y": title_y, "text-anchor": "middle",
                        "font-size": LABEL_SIZE, "font-weight": "bold"}, title))
    names = scale.names
    label = (f"X-axis titled '{title}' with {len(names)} values"
             + (f": {names[0]} to {names[-1]}" if names else ""))
    return (_el("g", {"role": "graphics-object", "aria-roledescription": "axis",
                      "aria-label": label}, "".join(parts)), title_y + 4 - plot_h, reach)


def _legend(title: str | None, entries: Sequence[tuple[str, str, str | None]], vertical: bool,
            max_width: float) -> tuple[str, float, float]:
    """A legend: `entries` (label, colour, dash or None for a filled square); a stroke sample
    when a dash is given. Returns markup at (0, 0), its width and its height."""
    parts = []
    y = 0.0
    if title:
        parts.append(_text({"x": 0, "y": LABEL_SIZE, "font-size": LABEL_SIZE,
                            "font-weight": "bold"}, title))
        y = LABEL_SIZE + 6
    x, row_h, width = 0.0, 16.0, 0.0
    for label, color, dash in entries:
        entry_w = 16 + 5 + text_width(label, LEGEND_SIZE)
        if not vertical and x > 0 and x + entry_w > max_width:
            x, y = 0.0, y + row_h
        if dash is None:
            parts.append(_el("rect", {"x": x + 3, "y": y + 3, "width": 10, "height": 10,
                                      "fill": color}))
        else:
            parts.append(_el("line", {"x1": x, "x2": x + 16, "y1": y + 8, "y2": y + 8,
                                      "stroke": color, "stroke-width": 2,
                                      "stroke-dasharray": dash or None}))
        parts.append(_text({"x": x + 21, "y": y + 12, "font-size": LEGEND_SIZE}, label))
        width = max(width, x + entry_w)
        if vertical:
            y += row_h
        else:
            x += entry_w + 12
    height = y if vertical else y + row_h
    names = ", ".join(label for label, _, _ in entries)
    aria = f"Legend titled '{title}': {names}" if title else f"Legend: {names}"
    return (_el("g", {"role": "graphics-object", "aria-roledescription": "legend",
                      "aria-label": aria}, "".join(parts)), width, height)


# ---- the frame: title, subtitle, plot, axes, legend ------------------------------------------

def _frame(kind: str, title: str, subtitle: str, desc: str, plot_w: float, plot_h: float,
           left: tuple[str, float], bottom: tuple[str, float, float], marks: str,
           legend: tuple[str, float, float] | None = None, turned: bool = False) -> Markup:
    """Put a chart together. `left` is the left axis and its width, `bottom` the bottom axis,
    its depth and how far it reaches sideways (left of the plot for turned month labels, right
    of it for numbers)."""
    axis_left, left_w = left
    axis_bottom, depth, reach = bottom
    top = PAD + TITLE_SIZE
    heading = [_text({"x": PAD, "y": top, "font-size": TITLE_SIZE, "font-weight": "bold",
                      "aria-hidden": "true"}, title)]
    if subtitle:
        top += 4 + SUBTITLE_SIZE
        heading.append(_text({"x": PAD, "y": top, "font-size": SUBTITLE_SIZE,
                              "aria-hidden": "true"}, subtitle))
    top += 12
    left_edge = PAD + max(left_w, reach if turned else 0.0)
    right_edge = PAD + (0.0 if turned else reach)
    width = left_edge + plot_w + right_edge
    height = top + plot_h + depth
    body = [axis_left, axis_bottom, marks]
    if legend is not None:
        markup, legend_w, legend_h = legend
        body.append(_el("g", {"transform": f"translate(0,{_num(plot_h + depth + 8)})"}, markup))
        height += 8 + legend_h
        width = max(width, left_edge + legend_w + PAD)
    width = max(width, PAD * 2 + text_width(title, TITLE_SIZE, bold=True),
                PAD * 2 + text_width(subtitle, SUBTITLE_SIZE))
    width, height = math.ceil(width), math.ceil(height + PAD)
    svg = _el("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "class": "chart", "data-chart": kind,
        "width": width, "height": height, "viewBox": f"0 0 {width} {height}",
        "role": "graphics-document", "font-family": FONT, "fill": INK,
    }, "".join([
        _el("title", {}, str(_esc(title))),
        _el("desc", {}, str(_esc(desc))),
        _el("rect", {"width": width, "height": height, "fill": "white"}),
        *heading,
        _el("g", {"transform": f"translate({_num(left_edge)},{_num(top)})"}, "".join(body)),
    ]))
    return safe_svg(svg)


def _sentence(subtitle: str) -> str:
    return subtitle.rstrip(". ") + ". " if subtitle else ""


def _span(names: Sequence[str]) -> str:
    return f"{names[0]} to {names[-1]}" if len(names) > 1 else (names[0] if names else "none")
