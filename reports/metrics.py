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
    unit: str  # share | points | hours | days | count | per_item | messages | ratio
    label: str
    explain: str
    better: str = ""  # "higher", "lower" or "" (context only)

    def text(self, value: float | None) -> str:
        if self.unit == "count":
            return fmt.number(value, digits=0)
        if self.unit == "points":
            return fmt.signed(value, "pp")
        if self.unit == "per_item":
            return fmt.number(value, "per item", digits=2)
        if self.unit == "messages":
            return fmt.number(value, "messages", digits=0)
        return fmt.by_unit(value, self.unit)


OVERHEAD = Figure(
    "overhead_ratio", "metric_overhead", "overhead_ratio", "share", "Overhead ratio",
    "Process effort / (customer + enabling + process effort), per month.", "lower",
)
OVERHEAD_BASELINE = Figure(
    "overhead_baseline", "metric_overhead", "baseline_ratio", "share",
    "Baseline (the verdict's)",
    "The mean ratio of the months this month's verdict was compared with.",
)
OVERHEAD_CHANGE = Figure(
    "overhead_change", "metric_overhead", "change_pp", "points", "Change against baseline",
    "This month's overhead ratio minus the baseline, in percentage points.", "lower",
)
FLOW_EFFICIENCY = Figure(
    "flow_efficiency", "metric_flow", "median_flow_efficiency", "share",
    "Flow efficiency (median item)",
    "Time in active statuses / flow time, for items resolved in the month. Around 15% is common "
    "for teams new to flow, around 40% for mature ones; context, not a target.", "higher",
)
FLOW_FIGURES = (
    Figure("items_resolved", "metric_flow", "items_resolved", "count", "Items resolved",
           "Jira issues and GitHub issues that reached done in the month."),
    Figure("lead_time", "metric_flow", "median_lead_time_days", "days", "Lead time (median)",
           "Created to resolved, for items resolved in the month.", "lower"),
    Figure("flow_time", "metric_flow", "median_flow_time_days", "days", "Flow time (median)",
           "First active status to resolved.", "lower"),
)
DELIVERY = (
    Figure("customer_items", "metric_customer_delivery", "customer_items_resolved", "count",
           "Customer items resolved", "Customer-category work items that reached done.",
           "higher"),
    Figure("customer_prs", "metric_customer_delivery", "customer_prs_merged", "count",
           "Customer pull requests merged", "Merged pull requests classified as customer work.",
           "higher"),
    Figure("customer_lead_time", "metric_customer_delivery", "median_customer_lead_time_days",
           "days", "Customer lead time (median)",
           "Created to resolved, for customer items resolved in the month.", "lower"),
)

PROCESS_SIGNALS = (
    Figure("paperwork_ratio", "metric_paperwork", "paperwork_ratio", "share",
           "Paperwork ratio",
           "Share of people's Jira events that are status changes or field edits on items with "
           "no code, comment or chat activity within 24 hours.", "lower"),
    Figure("process_coupling", "metric_coupling", "process_coupling", "share",
           "Process coupling",
           "Share of items with process activity that are tied to delivery (linked code merged, "
           "or resolved with linked code, within 30 days). High: the process tracks real work.",
           "higher"),
    Figure("nag_load", "metric_nag_load", "nag_load", "per_item", "Nag load",
           "Reminders that reached the team per item done.", "lower"),
    Figure("organic_share", "metric_organic_share", "organic_share", "share", "Organic share",
           "Share of process activity not prompted by a reminder in the 24 hours before.",
           "higher"),
    Figure("shadow_tools", "metric_shadow_tools", "shadow_tool_messages", "messages",
           "Shadow tools",
           "Chat messages linking spreadsheets or documents outside the system of record.",
           "lower"),
    Figure("touches_per_item", "metric_process_touches", "touches_per_item", "per_item",
           "Process touches per shipped item",
           "Process events over the life of the items resolved in the month / those items.",
           "lower"),
    Figure("reopen_rate", "metric_status_churn", "reopen_rate", "share", "Reopen rate",
           "Moves from done back to not done / items done.", "lower"),
    Figure("ping_pong", "metric_ping_pong", "ping_pong_share", "share", "Ping-pong",
           "Share of moved items that went A to B and straight back within 7 days (status or "
           "assignee).", "lower"),
)


def month_series(
    db: AnalyticsDB, figure: Figure, team: str, months: list[date], min_group: int
) -> dict[date, tuple[Any, bool]]:
    """{month: (value, suppressed)} for one team over the window."""
    rows = db.team_rows(figure.view, team, (months[0], months[-1]), (figure.column,))
    return {_as_date(r["month"]): (r[figure.column], is_suppressed(r, min_group)) for r in rows}


def _as_date(value: Any) -> date:
    return value if type(value) is date else value.date()


def is_suppressed(row: dict[str, Any], min_group: int) -> bool:
    """A row is suppressed when its view says so, or when fewer than min_group people stand
    behind it (checked here as well, so a view without the flag cannot leak a small group)."""
    if row.get("suppressed"):
        return True
    count = row.get("people_count")
    return count is not None and count < min_group


def shown(figure: Figure, value: Any, suppressed: bool) -> str:
    return fmt.TOO_FEW if suppressed else figure.text(value)


def first_month(db: AnalyticsDB, teams: list[str], min_group: int) -> date | None:
    """The first month in which one of `teams` has min_group active people: where the report's
    months start. Not the first month of any event: a few stray events (a deleted user's old
    issues) a year before everything else would otherwise stretch every chart back to them.
    Falls back to the first month of effort figures when no team ever has enough people."""
    db.require("metric_team_months", "team", "month", "people_count")
    found = db.scalar("SELECT min(month)::DATE FROM metric_team_months"
                      " WHERE team IN (SELECT unnest(?)) AND people_count >= ?",
                      [teams, min_group])
    return found or db.scalar("SELECT min(month)::DATE FROM metric_effort_allocation")
