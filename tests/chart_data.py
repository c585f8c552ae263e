"""Reading charts back from a rendered page: each chart's kind, title and the figures its marks
carry (their `data-row` JSON, reports/charts.py), for tests that compare what a report draws with
the database, and its axes, to check where the marks are drawn.

    for chart in charts_in(team_part(page, "atlas")): chart.kind, chart.title, chart.rows
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

NS = "{http://www.w3.org/2000/svg}"
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


@dataclass
class Chart:
    kind: str
    title: str
    rows: list[dict[str, Any]]
    root: ET.Element


def parse(svg: str) -> Chart:
    root = ET.fromstring(svg)
    title = root.find(f"{NS}title")
    rows = [json.loads(e.get("data-row")) for e in root.iter() if e.get("data-row") is not None]
    return Chart(root.get("data-chart") or "", title.text if title is not None else "", rows, root)


def charts_in(page: str) -> list[Chart]:
    return [parse(svg) for svg in _SVG.findall(page)]


def team_part(page: str, team: str) -> str:
    """The part of a report page about one team (its <section class="team">)."""
    start = page.index(f'data-team="{html.escape(team)}"')
    end = page.find('<section class="team"', start)
    return page[start:end if end > 0 else page.index('id="coverage"', start)]


def rows_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in a fixed order, floats to the 10 significant digits a chart's data-row keeps: for
    comparing a chart's rows with the database's in any order (`assert rows_of(a) ==
    rows_of(b)` shows the difference)."""
    normal = [{k: float(f"{v:.10g}") if isinstance(v, float) else v for k, v in r.items()}
              for r in rows]
    return sorted(normal, key=lambda r: repr(sorted(r.items())))


def marks(chart: Chart) -> list[ET.Element]:
    return [e for e in chart.root.iter() if e.get("data-row") is not None]


def _number(label: str) -> float:
    return float(label.replace("\N{MINUS SIGN}", "-").replace(",", "").rstrip("%")) * (
        0.01 if label.endswith("%") else 1)


def axis_scale(chart: Chart, axis: str) -> tuple[float, float, float, float]:
    """(first position, first value, last position, last value) of a numeric axis ('X' or
    'Y'), read from its tick labels as drawn: the map from position to value a reader uses."""
    group = next(g for g in chart.root.iter(f"{NS}g")
                 if (g.get("aria-label") or "").startswith(f"{axis}-axis titled")
                 and "linear scale" in g.get("aria-label", ""))
    ticks = []
    for text in group.iter(f"{NS}text"):
        if text.get("font-weight") == "bold":  # the axis title
            continue
        at = float(text.get("y")) - 3.5 if axis == "Y" else float(text.get("x"))
        ticks.append((at, _number(text.text)))
    (p0, v0), (p1, v1) = ticks[0], ticks[-1]
    return p0, v0, p1, v1


def value_at(scale: tuple[float, float, float, float], position: float) -> float:
    p0, v0, p1, v1 = scale
    return v0 + (position - p0) * (v1 - v0) / (p1 - p0)
