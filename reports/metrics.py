"""What the report reads: each figure as (view, column, unit, words), kept as data.

A figure is read from a view with one row per (team, month). Its unit decides how it is printed;
its words are what a reader who never saw the tool needs to understand it. Changing a view's name
or column means changing one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from reports import format as fmt
from reports.db import AnalyticsDB


@dataclass(frozen=True)
class Figure:
    key: str
    view: str
    column: str
    unit: str  # share | pp | % | hours | days | count | per_item | ratio
    label: str
    explain: str
    better: str = ""  # "higher", "lower" or "" (context only)

    def text(self, value: float | None) -> str:
        if self.unit == "count":
            return fmt.number(value, digits=0)
        if self.unit == "per_item":
            return fmt.number(value, "per item", digits=2)
        if self.unit == "messages":
            return fmt.number(value, "messages", digits=0)
        return fmt.by_unit(value, self.unit)


OVERHEAD = Figure(
    "overhead_ratio", "metric_overhead_ratio", "overhead_ratio", "share", "Overhead ratio",
    "Process effort / (customer + enabling + process effort), per month.", "lower",
)
OVERHEAD_BASELINE = Figure(
    "overhead_baseline", "metric_overhead_ratio", "baseline", "share",
    "Baseline (trailing 3 months)", "The team's own average of the three months before.",
)
OVERHEAD_CHANGE = Figure(
    "overhead_change", "metric_overhead_ratio", "change", "pp", "Change against baseline",
    "This month's overhead ratio minus the baseline, in percentage points.", "lower",
)
FLOW_EFFICIENCY = Figure(
    "flow_efficiency", "metric_flow_efficiency", "median_flow_efficiency", "share",
    "Flow efficiency (median item)",
    "Time in active statuses / flow time, for items resolved in the month. Around 15% is common "
    "for teams new to flow, around 40% for mature ones; context, not a target.", "higher",
)

PROCESS_SIGNALS = (
    Figure("paperwork_ratio", "metric_paperwork_ratio", "paperwork_ratio", "share",
           "Paperwork ratio",
           "Share of people's Jira events that are status changes or field edits on items with "
           "no code, comment or chat activity within 24 hours.", "lower"),
    Figure("process_coupling", "metric_process_coupling", "coupling", "share",
           "Process coupling",
           "Share of items with process activity that are tied to delivery (linked code merged, "
           "or resolved with linked code, within 30 days). High: the process tracks real work.",
           "higher"),
    Figure("nag_load", "metric_nag_load", "reminders_per_done_item", "per_item", "Nag load",
           "Reminders and status requests per item done.", "lower"),
    Figure("organic_share", "metric_nag_load", "organic_share", "share", "Organic share",
           "Share of process activity not prompted by a reminder in the 24 hours before.",
           "higher"),
    Figure("shadow_tools", "metric_shadow_tools", "messages", "messages", "Shadow tools",
           "Chat messages linking spreadsheets or documents outside the system of record.",
           "lower"),
    Figure("touches_per_item", "metric_process_touches", "touches_per_item", "per_item",
           "Process touches per shipped item",
           "Process events on items resolved in the month / those items.", "lower"),
)


def month_series(
    db: AnalyticsDB, figure: Figure, team: str, months: list[date], min_group: int
) -> dict[date, tuple[Any, bool]] | None:
    """{month: (value, suppressed)} for one team over the window; None if the view is absent."""
    if not db.has(figure.view, "team", "month", figure.column):
        return None
    extra = []
    if db.has_column(figure.view, "suppressed"):
        extra.append("suppressed")
    if db.has_column(figure.view, "people_count"):
        extra.append("people_count")
    cols = ", ".join([f'"{figure.column}" AS value', *extra])
    rows = db.rows(
        f'SELECT month::DATE AS month, {cols} FROM "{figure.view}"'
        " WHERE team = ? AND month::DATE BETWEEN ? AND ? ORDER BY month",
        [team, months[0], months[-1]],
    )
    return {r["month"]: (r["value"], is_suppressed(r, min_group)) for r in rows}


def is_suppressed(row: dict[str, Any], min_group: int) -> bool:
    """A row is suppressed when its view says so, or when fewer than min_group people stand
    behind it (checked here as well, so a view without the flag cannot leak a small group)."""
    if row.get("suppressed"):
        return True
    count = row.get("people_count")
    return count is not None and count < min_group


def shown(figure: Figure, value: Any, suppressed: bool) -> str:
    return fmt.TOO_FEW if suppressed else figure.text(value)
