"""The audit before a new tool: where work happens now, what process already costs, which Jira
fields and Slack channels are dead weight, shadow tools, and the success criteria the tool must
meet, optionally recorded as a process experiment so the monthly reports track them.

    path, recorded = render_audit(config, Path("audit.html"), tool="PM tool", record=True)
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from processhealth import state
from processhealth.config import Config
from processhealth.errors import UserError
from processhealth.store import RawStore
from reports import charts
from reports import format as fmt
from reports.db import AnalyticsDB
from reports.metrics import is_suppressed
from reports.render import choose_month, choose_teams, environment, write_atomically
from reports.team import window

AUDIT_MONTHS = 3
SOURCE_NAMES = {"github": "GitHub", "jira": "Jira", "slack": "Slack"}
DEAD_FIELD_FILL = 0.10
# (criterion, what it protects, weekly metric for today's value, how to show that value)
PROPOSED_CRITERIA = (
    ("overhead_ratio <= +3pp", "Process overhead rises by at most 3 percentage points.",
     "overhead_ratio", "share"),
    ("customer_throughput >= -5%", "Customer items delivered per week fall by at most 5%.",
     "customer_throughput", "per_week"),
    ("paperwork_ratio <= +5pp", "Status and field updates detached from work grow by at most "
     "5 points.", "paperwork_ratio", "share"),
    ("organic_share >= -10pp", "People keep the tool up to date without being chased: the "
     "unprompted share falls by at most 10 points.", "organic_share", "share"),
    ("process_coupling >= -5pp", "Process activity stays tied to delivered work.",
     "process_coupling", "share"),
    ("customer_lead_time_days <= +10%", "Customer lead time grows by at most 10%.",
     "customer_lead_time_days", "days"),
)


def render_audit(
    config: Config, out_path: Path, tool: str, teams: list[str] | None = None,
    record: bool = False, name: str | None = None, started_on: date | None = None,
    scope: dict[str, list[str]] | None = None,
) -> tuple[Path, list[str]]:
    """Write the audit for `tool`; with record, store its criteria as process changes.
    Returns (path, names of the process changes recorded)."""
    with AnalyticsDB.open(config.storage.analytics_path,
                          config.storage.memory_limit) as db:
        context = audit_context(db, config, tool, teams)
    html = environment().get_template("audit.html.j2").render(**context)
    path = write_atomically(Path(out_path), html)
    recorded = []
    if record:
        recorded = record_criteria(config, tool, teams, name, started_on or date.today(),
                                   scope or {})
    return path, recorded


def audit_context(db: AnalyticsDB, config: Config, tool: str,
                  teams: list[str] | None) -> dict[str, Any]:
    min_group = config.privacy.min_group_size
    chosen: list[str] = []
    for team in teams or [None]:  # type: ignore[list-item]
        chosen += [t for t in choose_teams(db, team) if t not in chosen]
    month = choose_month(db, None)
    months = window(month, AUDIT_MONTHS)
    first = db.scalar("SELECT min(month)::DATE FROM metric_effort_allocation") \
        if db.has("metric_effort_allocation", "month") else None
    months = [m for m in months if first is None or m >= first] or [month]
    start, end = months[0], _month_end(months[-1])
    return {
        "title": f"Before {tool}: process audit",
        "tool": tool,
        "period": f"{fmt.month_label(months[0])} to {fmt.month_label(months[-1])}",
        "generated_on": fmt.day_label(date.today()),
        "min_group": min_group,
        "month_label": fmt.month_label(month),
        "where": where_work_happens(db, chosen, months, min_group),
        "load": process_load(db, chosen, months, min_group),
        "fields": dead_fields(db, chosen, start, end),
        "channels": dead_channels(db, chosen, start, end, min_group),
        "shadow": shadow_tools(db, chosen, months, min_group),
        "criteria": proposed_criteria(db, chosen, end, min_group),
        "teams": chosen,
        "absent": sorted(set(db.absent)),
    }


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def where_work_happens(db: AnalyticsDB, teams: list[str], months: list[date],
                       min_group: int) -> dict[str, Any]:
    view = "metric_work_sources"
    if not db.has(view, "team", "month", "source", "hours"):
        return {"missing": view}
    hours: dict[str, dict[str, float]] = {}
    suppressed: set[str] = set()
    for r in db.view_rows(view, (months[0], months[-1])):
        if r["team"] not in teams:
            continue
        if is_suppressed(r, min_group):  # a month with too few people adds nothing
            suppressed.add(r["team"])
            continue
        hours.setdefault(r["team"], {}).setdefault(r["source"], 0.0)
        hours[r["team"]][r["source"]] += r["hours"] or 0.0
    rows, chart_rows = [], []
    sources = ["github", "jira", "slack"]
    for team in teams:
        total = sum(hours.get(team, {}).values())
        if not total:
            rows.append({"team": team, "cells": [fmt.TOO_FEW if team in suppressed
                                                 else fmt.NO_DATA] * len(sources)})
            continue
        shares = {s: hours[team].get(s, 0.0) / total for s in sources}
        rows.append({"team": team, "cells": [fmt.pct(shares[s]) for s in sources]})
        chart_rows += [{"team": team, "order": teams.index(team), "source": SOURCE_NAMES[s],
                        "source_order": j, "share": shares[s]} for j, s in enumerate(sources)]
    chart = None
    if chart_rows:
        chart = charts.source_chart(chart_rows, "Where work happens now, by tool",
                                    "Share of each team's credited effort per tool")
    return {"sources": ["GitHub", "Jira", "Slack"], "rows": rows, "chart": chart}


def process_load(db: AnalyticsDB, teams: list[str], months: list[date], min_group: int) -> list:
    view = "metric_effort_allocation"
    if not db.has(view, "team", "month", "category", "hours", "fte"):
        return []
    out = []
    rows = [r for r in db.view_rows(view, (months[0], months[-1])) if r["team"] in teams]
    for team in teams:
        mine = [r for r in rows if r["team"] == team]
        shown = [r for r in mine if not is_suppressed(r, min_group)]
        if not shown:
            out.append({"team": team, "suppressed": bool(mine)})
            continue
        n_months = len({r["month"] for r in shown})
        total = sum(r["hours"] or 0 for r in shown)
        process = [r for r in shown if r["category"] == "process"]
        hours = sum(r["hours"] or 0 for r in process)
        out.append({
            "team": team,
            "hours": fmt.hours(hours / n_months),
            "fte": fmt.fte(sum(r["fte"] or 0 for r in process) / n_months),
            "share": fmt.pct(hours / total if total else None),
            "paperwork": _mean_text(db, "metric_paperwork", "paperwork_ratio", team, months,
                                    min_group, fmt.pct),
            "nag": _mean_text(db, "metric_nag_load", "nag_load", team, months, min_group,
                              lambda v: fmt.number(v, "per item done", 2)),
        })
    return out


def _mean_text(db: AnalyticsDB, view: str, column: str, team: str, months: list[date],
               min_group: int, formatter: Any) -> str:
    if not db.has(view, "team", "month", column):
        return fmt.NO_DATA
    rows = [r for r in db.view_rows(view, (months[0], months[-1])) if r["team"] == team]
    shown = [r for r in rows if not is_suppressed(r, min_group)]
    if rows and not shown:
        return fmt.TOO_FEW
    values = [r[column] for r in shown if not fmt.missing(r[column])]
    return formatter(sum(values) / len(values)) if values else fmt.NO_DATA


def dead_fields(db: AnalyticsDB, teams: list[str], start: date, end: date) -> dict[str, Any]:
    """Per Jira field: fill rate on the items the teams created in the period, and edits."""
    if not (db.has("item_fields", "item_id", "field_id", "has_value")
            and db.has("metric_item_team", "item_id", "team")):
        return {"missing": "item_fields"}
    rows = db.rows(
        """
        WITH items AS (
            SELECT w.item_id FROM work_items AS w JOIN metric_item_team AS t USING (item_id)
            WHERE w.source = 'jira' AND t.team IN (SELECT unnest(?))
              AND w.created_at::DATE BETWEEN ? AND ?
        ),
        edits AS (
            SELECT e.detail ->> 'field_id' AS field_id, count(*) AS edits
            FROM events AS e JOIN items USING (item_id)
            WHERE e.kind = 'jira_field_edit' AND e.occurred_at::DATE BETWEEN ? AND ?
            GROUP BY ALL
        )
        SELECT f.field_id, any_value(f.field_name) AS field_name, count(*) AS items,
               avg(f.has_value::INTEGER) AS fill_rate, coalesce(any_value(x.edits), 0) AS edits
        FROM item_fields AS f JOIN items USING (item_id)
        LEFT JOIN edits AS x USING (field_id)
        GROUP BY f.field_id ORDER BY fill_rate, field_name
        """, [teams, start, end, start, end])
    return {"rows": [{"name": r["field_name"] or r["field_id"], "id": r["field_id"],
                      "fill": fmt.pct(r["fill_rate"]), "item_count": fmt.count(r["items"], "item"),
                      "edits": fmt.count(r["edits"], "edit"),
                      "dead": (r["fill_rate"] or 0) < DEAD_FIELD_FILL} for r in rows],
            "threshold": fmt.pct(DEAD_FIELD_FILL)}


def dead_channels(db: AnalyticsDB, teams: list[str], start: date, end: date,
                  min_group: int) -> dict[str, Any]:
    """Slack channels the teams write in: human messages per week, how much of the traffic is
    reminders and bots, and which look like dead weight."""
    if not (db.has("metric_event_team", "channel_id", "team", "is_bot")
            and db.has("channels", "channel_id", "name")):
        return {"missing": "metric_event_team"}
    weeks = max(1.0, ((end - start).days + 1) / 7)
    rows = db.rows(
        """
        WITH msgs AS (
            SELECT e.channel_id, e.person_id, e.team, e.is_bot, e.subkind
            FROM metric_event_team AS e
            WHERE e.source = 'slack' AND e.channel_id IS NOT NULL
              AND e.day BETWEEN ? AND ?
        ),
        ours AS (SELECT DISTINCT channel_id FROM msgs WHERE team IN (SELECT unnest(?)))
        SELECT c.name, c.category, count(*) AS messages,
               count(*) FILTER (WHERE NOT m.is_bot AND m.subkind IS DISTINCT FROM 'reminder')
                   AS human_messages,
               count(*) FILTER (WHERE m.is_bot OR m.subkind = 'reminder') AS reminders_and_bots,
               count(DISTINCT m.person_id) FILTER (WHERE NOT m.is_bot) AS posters
        FROM msgs AS m JOIN ours USING (channel_id) JOIN channels AS c USING (channel_id)
        GROUP BY c.name, c.category
        ORDER BY reminders_and_bots / count(*) DESC, c.name
        """, [start, end, teams])
    out = []
    for r in rows:
        nag_share = r["reminders_and_bots"] / r["messages"] if r["messages"] else 0
        per_week = r["human_messages"] / weeks
        out.append({
            "name": r["name"], "category": r["category"] or "unclassified",
            "per_week": fmt.number(per_week, "per week", 1),
            "nag_share": fmt.pct(nag_share),
            "posters": fmt.count(r["posters"], "person", "people")
            if r["posters"] >= min_group else f"fewer than {min_group}",
            "dead": nag_share >= 0.5 or per_week < 1,
        })
    return {"rows": out}


def shadow_tools(db: AnalyticsDB, teams: list[str], months: list[date], min_group: int) -> list:
    view = "metric_shadow_tools"
    if not db.has(view, "team", "month", "shadow_tool_messages"):
        return []
    out = []
    for team in teams:
        rows = [r for r in db.view_rows(view, (months[0], months[-1])) if r["team"] == team]
        mine = [r for r in rows if not is_suppressed(r, min_group)]
        if rows and not mine:
            out.append({"team": team, "messages": fmt.TOO_FEW, "people": fmt.TOO_FEW})
            continue
        out.append({"team": team,
                    "messages": fmt.count(sum(r["shadow_tool_messages"] or 0 for r in mine),
                                          "message"),
                    "people": fmt.count(max((r.get("people_sharing") or 0 for r in mine),
                                            default=0), "person", "people")})
    return out


def proposed_criteria(db: AnalyticsDB, teams: list[str], end: date, min_group: int) -> list:
    """The default criteria, each with the teams' value over the last 12 weeks."""
    today: dict[str, dict[str, Any]] = {}
    if db.has("metric_weekly", "team", "week", "metric", "value"):
        for r in db.rows(
            "SELECT team, metric, avg(value) AS value, min(people_count) AS people_count"
            " FROM metric_weekly WHERE week BETWEEN ? AND ? AND team IN (SELECT unnest(?))"
            " GROUP BY ALL", [end - timedelta(weeks=12), end, teams]):
            today.setdefault(r["metric"], {})[r["team"]] = r
    out = []
    for text, meaning, metric, unit in PROPOSED_CRITERIA:
        values = []
        for team in teams:
            r = today.get(metric, {}).get(team)
            if r is None:
                values.append(f"{team}: {fmt.NO_DATA}")
            elif is_suppressed(r, min_group):
                values.append(f"{team}: {fmt.TOO_FEW}")
            else:
                values.append(f"{team}: {_weekly_text(r['value'], unit)}")
        out.append({"text": text, "meaning": meaning, "today": "; ".join(values)})
    return out


def _weekly_text(value: Any, unit: str) -> str:
    if unit == "share":
        return fmt.pct(value)
    if unit == "days":
        return fmt.number(value, "days", 1)
    return fmt.number(value, "per week", 1)


def record_criteria(config: Config, tool: str, teams: list[str] | None, name: str | None,
                    started_on: date, scope: dict[str, list[str]]) -> list[str]:
    """Store the proposed criteria as a process change (one per team when teams are named)."""
    base = name or "-".join(tool.lower().split())
    if not base:
        raise UserError("--tool needs a name with at least one letter or digit.")
    criteria = [state.parse_criterion(text) for text, *_ in PROPOSED_CRITERIA]
    targets: list[str | None] = list(teams) if teams else [None]
    recorded = []
    with RawStore(config.storage.raw_path) as store:
        for team in targets:
            change = base if len(targets) == 1 else f"{base}-{team}"
            state.add_process_change(store, change, started_on=started_on, team=team, tool=tool,
                                     scope=scope, criteria=criteria)
            recorded.append(change)
    return recorded
