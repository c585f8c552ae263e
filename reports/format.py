"""Numbers in words: every figure in a report carries its unit, and missing or suppressed figures
say why instead of showing a blank or a zero."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

TOO_FEW = "too few people"
NO_DATA = "no data"


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value: float | None, digits: int = 0) -> str:
    """A share 0..1 as a percentage: 0.423 -> '42%'."""
    if missing(value):
        return NO_DATA
    return f"{value * 100:.{digits}f}%"


def pp(value: float | None, digits: int = 1) -> str:
    """A change of a share in percentage points, signed: 0.031 -> '+3.1 pp'.

    `value` is a difference of shares (0..1 scale), as the metric views store them."""
    if missing(value):
        return NO_DATA
    return f"{value * 100:+.{digits}f} pp"


def hours(value: float | None) -> str:
    if missing(value):
        return NO_DATA
    return f"{value:,.0f} h" if abs(value) >= 10 else f"{value:,.1f} h"


def duration_hours(value: float | None) -> str:
    """A duration given in hours, in the unit a reader expects: '45 min', '5.2 h', '3.1 days'."""
    if missing(value):
        return NO_DATA
    if abs(value) < 1:
        return f"{value * 60:.0f} min"
    if abs(value) < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def fte(value: float | None) -> str:
    if missing(value):
        return NO_DATA
    return f"{value:.1f} FTE"


def number(value: float | None, unit: str = "", digits: int = 1) -> str:
    if missing(value):
        return NO_DATA
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def signed(value: float | None, unit: str = "", digits: int = 1) -> str:
    if missing(value):
        return NO_DATA
    return f"{value:+,.{digits}f} {unit}".strip()


def month_label(value: date | datetime | str | None) -> str:
    """'March 2026' for a month (first day as DATE, or 'YYYY-MM')."""
    if value is None:
        return NO_DATA
    if isinstance(value, str):
        value = date.fromisoformat(value[:7] + "-01")
    return value.strftime("%B %Y")


def month_short(value: date | datetime) -> str:
    return value.strftime("%b %Y")


def day_label(value: date | datetime | None) -> str:
    if value is None:
        return NO_DATA
    if isinstance(value, datetime):
        value = value.date()
    return f"{value.day} {value.strftime('%B %Y')}"


def by_unit(value: float | None, unit: str | None) -> str:
    """Format a value whose unit is named by a view column: share, pp, hours, days, count, ..."""
    unit = (unit or "").strip()
    if unit in ("share", "ratio_share", "fraction"):
        return pct(value)
    if unit in ("pp", "share_change"):
        return pp(value)
    if unit in ("%", "relative", "relative_change"):
        return NO_DATA if missing(value) else f"{value * 100:+.0f}%"
    if unit in ("hours", "h"):
        return duration_hours(value)
    if unit == "days":
        return NO_DATA if missing(value) else f"{value:.1f} days"
    if unit in ("ratio", ""):
        return number(value, digits=2)
    return number(value, unit, digits=2)


def count(value: float | None, singular: str, plural: str | None = None) -> str:
    """'1 event', '12 events'."""
    if missing(value):
        return NO_DATA
    word = singular if value == 1 else (plural or singular + "s")
    return f"{value:,.0f} {word}"
