"""The numbers the report charts are drawn to, apart from the parts that draw them
(reports/chart_parts.py) and the kinds (reports/charts.py): what the charts read from rows
(missing figures, shares stacked to 100%, the order of a category axis), figures in words for
aria-labels, and the linear and band scales with their ticks. No markup is written here. The
names with an underscore are for reports/charts.py only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


def _fraction(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _optional(value: Any) -> float | None:
    """A figure that may be missing (None or NaN)."""
    return None if value is None or math.isnan(float(value)) else float(value)


def _tick_step(low: float, high: float, count: int) -> float:
    """The tick spacing d3 and Vega choose: 1, 2 or 5 times a power of ten, about `count`
    ticks over the domain."""
    step = (high - low) / max(count, 1)
    power = math.floor(math.log10(step))
    error = step / 10 ** power
    factor = 10 if error >= math.sqrt(50) else 5 if error >= math.sqrt(10) else \
        2 if error >= math.sqrt(2) else 1
    return factor * 10 ** power


class Linear:
    """A linear scale from a domain that includes 0, made nice (extended to whole ticks)."""

    def __init__(self, values: Iterable[float], length: float, count: int,
                 percent: bool = False, flip: bool = False) -> None:
        found = [float(v) for v in values if v is not None and math.isfinite(float(v))]
        low, high = min([0.0, *found]), max([0.0, *found])
        if high == low:
            high = low + 1
        step = _tick_step(low, high, count)
        for _ in range(10):  # as d3's nice(): the step may change once the domain grows
            low, high = math.floor(low / step) * step, math.ceil(high / step) * step
            again = _tick_step(low, high, count)
            if again == step:
                break
            step = again
        self.low, self.high, self.step = low, high, step
        self.length, self.percent, self.flip = length, percent, flip

    def __call__(self, value: float) -> float:
        at = (float(value) - self.low) / (self.high - self.low) * self.length
        return self.length - at if self.flip else at

    def ticks(self) -> list[float]:
        first = math.ceil(self.low / self.step - 1e-9)
        last = math.floor(self.high / self.step + 1e-9)
        return [round(i * self.step, 12) for i in range(first, last + 1)]

    def label(self, value: float) -> str:
        """A tick label with as many decimals as the step needs; a true minus sign."""
        factor = 100 if self.percent else 1
        step = self.step * factor
        digits = max(0, -math.floor(math.log10(step) + 1e-9))
        shown = value * factor
        if abs(shown) < step / 2:
            shown = 0.0
        text = f"{shown:,.{digits}f}".replace("-", "\N{MINUS SIGN}")
        return text + ("%" if self.percent else "")


def _value_words(value: float, percent: bool) -> str:
    """A figure in an aria-label: percentages to a tenth, other numbers to two decimals."""
    if percent:
        return f"{value * 100:.1f}%"
    return f"{value:,.2f}".rstrip("0").rstrip(".").replace("-", "\N{MINUS SIGN}")


class Band:
    """Equal bands for the categories of a discrete axis (Vega's band scale: inner padding 0.1,
    outer 0.05), or points in their middles (`points`: Vega's point scale, padding 0.5)."""

    def __init__(self, names: Sequence[str], length: float, points: bool = False) -> None:
        self.names = list(names)
        n = max(len(self.names), 1)
        if points:
            step = length / n
            self.bandwidth, self.start = 0.0, step / 2
        else:
            step = length / (n - 0.1 + 2 * 0.05)
            self.bandwidth, self.start = step * 0.9, step * 0.05
        self.step = step
        self.index = {name: i for i, name in enumerate(self.names)}

    def __call__(self, name: str) -> float:
        return self.start + self.index[name] * self.step

    def middle(self, name: str) -> float:
        return self(name) + self.bandwidth / 2


def _ordered(rows: Sequence[dict[str, Any]], field: str, order: str = "order") -> list[str]:
    """The distinct values of `field`, sorted by the rows' `order` (the axis order)."""
    first: dict[str, Any] = {}
    for r in rows:
        first.setdefault(r[field], r.get(order, 0))
    return sorted(first, key=lambda name: first[name])


def _stacked(rows: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], float, float, float]]:
    """(row, its share, where its segment starts, where it ends) of one bar of shares stacked
    in the rows' order and normalized to 100%; nothing when the shares sum to 0 or less."""
    total = sum(_fraction(r["share"]) for r in rows)
    if total <= 0:
        return []
    out, level = [], 0.0
    for r in rows:
        share = _fraction(r["share"])
        low, level = level, level + share / total
        out.append((r, share, low, level))
    return out
