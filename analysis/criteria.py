"""What a process experiment can be recorded with (`processhealth experiment add`): the scope
keys the analysis matches, the weekly metrics a criterion may name (with aliases and the
`_change` suffix) and the units that fit each (docs/metrics.md section 8). Checked when a change
is recorded, so a typo is an error then, not missing data months later; analysis.experiments
reads criteria by the same names."""

from __future__ import annotations

from typing import Any

from processhealth.errors import UserError

ALIASES = {
    "coupling": "process_coupling", "throughput": "customer_throughput",
    "lead_time": "customer_lead_time_days", "customer_lead_time": "customer_lead_time_days",
    "cycle_time": "pr_cycle_hours", "pr_cycle_time": "pr_cycle_hours",
    "pickup_time": "pickup_hours", "review_time": "review_hours", "flow_time": "flow_time_days",
    "paperwork": "paperwork_ratio", "shadow_tools": "shadow_tool_messages",
    "overhead": "overhead_ratio",
}
MEASURES = {"pp": "change_pp", "%": "change_pct"}
WEEKLY_METRICS = (  # the metrics of metric_weekly (a test keeps the two lists equal)
    "overhead_ratio", "paperwork_ratio", "organic_share", "process_coupling", "items_resolved",
    "customer_throughput", "customer_lead_time_days", "flow_time_days", "flow_efficiency",
    "prs_merged", "customer_prs_merged", "pickup_hours", "review_hours", "pr_cycle_hours",
    "shadow_tool_messages",
)
SCOPE_KEYS = (  # what metric_scope_events matches (analysis/sql/blocks/scope.sql)
    "jira_project", "jira_projects", "project", "projects", "field", "fields", "status",
    "statuses", "channel", "channels", "label", "labels", "issue_type", "issue_types", "type",
    "types", "repo", "repos", "kind", "kinds", "event_kind", "event_kinds",
)


def metric_name(text: str) -> tuple[str, bool]:
    """(metric_weekly name, whether it was written as <metric>_change)."""
    change = text.endswith("_change")
    base = text.removesuffix("_change")
    return ALIASES.get(base, base), change


def measure_of(unit: str, change: bool) -> str:
    return MEASURES.get(unit) or ("change" if change else "level")


def check(scope: dict[str, list[str]], metrics: list[str]) -> None:
    """UserError for a scope key or criterion metric the evaluation would not understand (so a
    typo is caught when the change is recorded, not found months later as missing data)."""
    for key in scope:
        if key not in SCOPE_KEYS:
            raise UserError(
                f"--scope key {key!r} is not one the analysis matches; expected one of: "
                f"jira_project, field, status, channel, label, issue_type, repo, kind "
                f"(e.g. field=Business Value, channel=pmtool-*, kind=jira_worklog)."
            )
    for text in metrics:
        metric, _ = metric_name(text)
        if metric not in WEEKLY_METRICS:
            raise UserError(
                f"Criterion metric {text!r} has no weekly series; expected one of: "
                f"{', '.join(WEEKLY_METRICS)} (optionally with _change), or an alias: "
                f"{', '.join(sorted(ALIASES))}."
            )


# Weekly metrics that are shares (0 to 1): a change of one is in points (pp); of the others, a
# relative change (%) or one in the metric's own unit.
SHARES = ("overhead_ratio", "paperwork_ratio", "organic_share", "process_coupling",
          "flow_efficiency")


def check_units(criteria: list[Any]) -> None:
    """UserError for a criterion whose unit does not fit its metric: points (pp) of a metric
    that is no share, or a bare number beyond 1 for a share (a level or change it can never
    cross, so the criterion would be met or missed whatever happens)."""
    for c in criteria:
        metric, _ = metric_name(c.metric)
        if c.unit == "pp" and metric not in SHARES:
            raise UserError(
                f"Criterion {c.text!r}: pp (percentage points) measures a change of a share, and "
                f"{metric} is no share; give a relative change (e.g. \"{c.metric} {c.op} "
                f"{c.threshold:+g}%\") or a number in its own unit.")
        if c.unit == "" and metric in SHARES and abs(c.threshold) > 1:
            raise UserError(
                f"Criterion {c.text!r}: {metric} is a share from 0 to 1, so {c.threshold:g} "
                f"without a unit can never be crossed; give points (e.g. \"{c.metric} {c.op} "
                f"{c.threshold:+g}pp\") or a share (e.g. 0.3 for 30%).")
