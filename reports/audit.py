"""The audit before a new tool: where work happens now, what process already costs, which Jira
fields and Slack channels are dead weight, shadow tools, and the success criteria the tool must
meet, optionally recorded as a process experiment so the monthly reports track them.

    path, recorded = render_audit(config, Path("audit.html"), tool="PM tool", record=True)

It audits the last 3 months of data that are over, or, with `as_of`, the 3 whole months before
that date: once a tool is in, "what did the quarter before it look like" can still be asked.
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
from reports.metrics import first_month, is_suppressed
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
    scope: dict[str, list[str]] | None = None, as_of: date | None = None,
) -> tuple[Path, list[str]]:
    """Write the audit for `tool`; with record, store its criteria as process changes.
    With as_of, audit the whole months before that date, and a recorded change starts on it
    unless started_on says otherwise (so its baseline is the window audited).
    Returns (path, names of the process changes recorded)."""
    with AnalyticsDB.open(config.storage.analytics_path,
                          config.storage.memory_limit) as db:
        context = audit_context(db, config, tool, teams, as_of)
    html = environment().get_template("audit.html.j2").render(**context)
    start = started_on or as_of or date.today()
    # what --record would store is checked before the page is written: refused, it writes
    # nothing at all
    changes = planned_changes(config, tool, teams, name, start) if record else []
    path = write_atomically(Path(out_path), html)
    return path, record_criteria(config, tool, changes, start, scope or {})


def audit_context(db: AnalyticsDB, config: Config, tool: str,
                  teams: list[str] | None, as_of: date | None = None) -> dict[str, Any]:
    min_group = config.privacy.min_group_size
    chosen: list[str] = []
    for team in teams or [None]:  # type: ignore[list-item]
        chosen += [t for t in choose_teams(db, team) if t not in chosen]
    months = audit_months(db, as_of, first_month(db, chosen, min_group))
    month = months[-1]
    end = _month_end(months[-1])
    period = f"{fmt.month_label(months[0])} to {fmt.month_label(months[-1])}"
    return {
        "title": f"Before {tool}: process audit",
        "tool": tool,
        "period": period,
        "period_note": "the last months of data" if as_of is None else
        f"the whole months before {fmt.day_label(as_of)}" + (
            f"; the data ends with {fmt.month_label(months[-1])}"
            if months[-1] < last_whole_month(as_of) else ""),
        "generated_on": fmt.day_label(date.today()),
        "min_group": min_group,
        "month_label": fmt.month_label(month),
        "where": where_work_happens(db, chosen, months, min_group),
        "load": process_load(db, chosen, months, min_group),
        "fields": dead_fields(db, chosen, months),
        "channels": dead_channels(db, chosen, months, min_group),
        "shadow": shadow_tools(db, chosen, months, min_group),
        "criteria": proposed_criteria(db, chosen, end, min_group),
        "criteria_when": "Today (last 12 weeks, weekly mean)" if as_of is None else
        f"Then (the 12 weeks to {fmt.day_label(end)}, weekly mean)",
        "teams": chosen,
    }


def audit_months(db: AnalyticsDB, as_of: date | None, first: date | None) -> list[date]:
    """The audited months: the AUDIT_MONTHS months ending with the latest month of data that is
    over, or with the last whole month before as_of; never before the first month of data.
    A date in the future, or one with no month of data before it, is refused: it has nothing
    to audit, and an empty audit would read as a team doing nothing. `first` is the first
    month with enough people (reports.metrics.first_month)."""
    if as_of is None:
        month = choose_month(db, None)
        return [m for m in window(month, AUDIT_MONTHS) if first is None or m >= first] or [month]
    if as_of > date.today():
        raise UserError(
            f"--as-of {as_of:%Y-%m-%d} is in the future (today is {date.today():%Y-%m-%d}); the "
            f"audit covers the {AUDIT_MONTHS} whole months before that date, which have not "
            f"happened yet. Give a date up to today, or leave --as-of out to audit the last "
            f"{AUDIT_MONTHS} months of data.")
    last = last_whole_month(as_of)
    if first is None or last < first:
        since = (f"the teams' figures start in {fmt.month_label(first)} (their first month "
                 f"with enough people), so the earliest date with a whole month of data before "
                 f"it is {_month_end(first) + timedelta(days=1):%Y-%m-%d}"
                 if first else "the analytics database has no effort figures yet")
        raise UserError(
            f"--as-of {as_of:%Y-%m-%d} is before the data: the audit covers the whole months "
            f"before that date, and {since}. Give a later date, or "
            f"collect further back (`since` under [github], [jira] and [slack]) and run "
            f"`processhealth build` again.")
    # and never after the last month of data: a month with none would be averaged as if audited
    latest = db.scalar("SELECT max(month)::DATE FROM metric_effort_allocation")
    months = [m for m in window(last, AUDIT_MONTHS) if first <= m <= latest]
    if not months:
        raise UserError(
            f"--as-of {as_of:%Y-%m-%d} is after the data: the audit covers the "
            f"{AUDIT_MONTHS} whole months before that date, and the data ends with "
            f"{fmt.month_label(latest)}. Give an earlier date, or collect and build first.")
    return months


def last_whole_month(day: date) -> date:
    """The first day of the last month that is over before `day`."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def where_work_happens(db: AnalyticsDB, teams: list[str], months: list[date],
                       min_group: int) -> dict[str, Any]:
    hours: dict[str, dict[str, float]] = {}
    suppressed: set[str] = set()
    for r in db.view_rows("metric_work_sources", (months[0], months[-1]),
                          ("team", "source", "hours", "people_count", "suppressed")):
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
    out = []
    for team in teams:
        mine = db.team_rows("metric_effort_allocation", team, (months[0], months[-1]),
                            ("category", "hours", "fte", "people_count"))
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
    rows = db.team_rows(view, team, (months[0], months[-1]), (column,))
    shown = [r for r in rows if not is_suppressed(r, min_group)]
    if rows and not shown:
        return fmt.TOO_FEW
    values = [r[column] for r in shown if not fmt.missing(r[column])]
    return formatter(sum(values) / len(values)) if values else fmt.NO_DATA


def dead_fields(db: AnalyticsDB, teams: list[str], months: list[date]) -> dict[str, Any]:
    """Per Jira field: fill rate on the items the teams created in the period (metric_field_fill)
    and the edits made in the period on those items (metric_audit_field_edits). Only the items
    of team-months with enough people count: a field's figures would otherwise rest on the
    few people of a small team (privacy review)."""
    db.require("metric_field_fill", "team", "month", "field_id", "field_name", "items_created",
               "items_with_value", "suppressed")
    db.require("metric_audit_field_edits", "team", "created_month", "month", "field_id", "edits")
    rows = db.rows(
        """
        WITH fill AS (
            SELECT field_id, any_value(field_name) AS field_name, sum(items_created) AS items,
                   sum(items_with_value) / sum(items_created) AS fill_rate
            FROM metric_field_fill
            WHERE team IN (SELECT unnest($teams)) AND month BETWEEN $first AND $last
              AND NOT suppressed
            GROUP BY field_id
        ),
        counted AS (
            SELECT DISTINCT team, month FROM metric_field_fill
            WHERE team IN (SELECT unnest($teams)) AND month BETWEEN $first AND $last
              AND NOT suppressed
        ),
        edits AS (
            SELECT e.field_id, sum(e.edits) AS edits
            FROM metric_audit_field_edits AS e
            JOIN counted AS c ON c.team = e.team AND c.month = e.created_month
            WHERE e.month BETWEEN $first AND $last
            GROUP BY e.field_id
        )
        SELECT f.field_id, f.field_name, f.items, f.fill_rate, coalesce(x.edits, 0) AS edits
        FROM fill AS f LEFT JOIN edits AS x USING (field_id)
        ORDER BY f.fill_rate, f.field_name
        """, {"teams": teams, "first": months[0], "last": months[-1]})
    return {"rows": [{"name": r["field_name"] or r["field_id"], "id": r["field_id"],
                      "fill": fmt.pct(r["fill_rate"]), "item_count": fmt.count(r["items"], "item"),
                      "edits": fmt.count(r["edits"], "edit"),
                      "dead": (r["fill_rate"] or 0) < DEAD_FIELD_FILL} for r in rows],
            "threshold": fmt.pct(DEAD_FIELD_FILL)}


def dead_channels(db: AnalyticsDB, teams: list[str], months: list[date],
                  min_group: int) -> dict[str, Any]:
    """Slack channels the teams write in: human messages per week, how much of the traffic is
    reminders and bots (metric_audit_channel_noise), and which look like dead weight."""
    db.require("metric_audit_channel_noise", "channel_id", "month", "name", "category",
               "messages", "human_messages", "reminders_and_bots")
    db.require("metric_audit_channel_writers", "channel_id", "month", "person_id", "team",
               "is_bot")
    weeks = max(1.0, ((_month_end(months[-1]) - months[0]).days + 1) / 7)
    rows = db.rows(
        """
        WITH writers AS (
            SELECT * FROM metric_audit_channel_writers WHERE month BETWEEN $first AND $last
        ),
        ours AS (
            SELECT channel_id, count(DISTINCT person_id) FILTER (WHERE NOT is_bot) AS posters
            FROM writers
            WHERE channel_id IN (SELECT channel_id FROM writers
                                 WHERE team IN (SELECT unnest($teams)))
            GROUP BY channel_id
        )
        SELECT any_value(n.name) AS name, any_value(n.category) AS category,
               sum(n.messages) AS messages, sum(n.human_messages) AS human_messages,
               sum(n.reminders_and_bots) AS reminders_and_bots, any_value(o.posters) AS posters
        FROM metric_audit_channel_noise AS n JOIN ours AS o USING (channel_id)
        WHERE n.month BETWEEN $first AND $last
        GROUP BY n.channel_id
        ORDER BY sum(n.reminders_and_bots) / sum(n.messages) DESC, name
        """, {"teams": teams, "first": months[0], "last": months[-1]})
    out = []
    for r in rows:
        nag_share = r["reminders_and_bots"] / r["messages"] if r["messages"] else 0
        per_week = r["human_messages"] / weeks
        # a channel's figures rest on the people who write in it: with fewer than min_group
        # of them, neither its rates nor the dead-weight call derived from them are shown (a
        # channel only bots write in rests on no person)
        few = 0 < r["posters"] < min_group
        out.append({
            "name": r["name"], "category": r["category"] or "unclassified",
            "per_week": fmt.TOO_FEW if few else fmt.number(per_week, "per week", 1),
            "nag_share": fmt.TOO_FEW if few else fmt.pct(nag_share),
            "posters": fmt.count(r["posters"], "person", "people")
            if r["posters"] >= min_group or not r["posters"] else f"fewer than {min_group}",
            "dead": not few and (nag_share >= 0.5 or per_week < 1),
        })
    return {"rows": out}


def shadow_tools(db: AnalyticsDB, teams: list[str], months: list[date], min_group: int) -> list:
    view = "metric_shadow_tools"
    out = []
    for team in teams:
        rows = db.team_rows(view, team, (months[0], months[-1]),
                            ("shadow_tool_messages", "people_sharing"))
        mine = [r for r in rows if not is_suppressed(r, min_group)]
        if rows and not mine:
            out.append({"team": team, "messages": fmt.TOO_FEW, "people": fmt.TOO_FEW})
            continue
        out.append({"team": team,
                    "messages": fmt.count(sum(r["shadow_tool_messages"] or 0 for r in mine),
                                          "message"),
                    "people": fmt.count(max((r["people_sharing"] or 0 for r in mine),
                                            default=0), "person", "people")})
    return out


def proposed_criteria(db: AnalyticsDB, teams: list[str], end: date, min_group: int) -> list:
    """The default criteria, each with the teams' value over the last 12 weeks."""
    today: dict[str, dict[str, Any]] = {}
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


def planned_changes(config: Config, tool: str, teams: list[str] | None, name: str | None,
                    started_on: date) -> list[tuple[str, str | None]]:
    """The process changes --record would store, (name, team): one per team when teams are
    named. Refused (UserError) when a name is empty or taken, or the start date impossible."""
    base = name or "-".join(tool.lower().split())
    if not base:
        raise UserError("--tool needs a name with at least one letter or digit.")
    state.check_start(started_on)
    targets: list[str | None] = list(teams) if teams else [None]
    changes = [(base if len(targets) == 1 else f"{base}-{team}", team) for team in targets]
    if Path(config.storage.raw_path).exists():
        with RawStore.of(config, read_only=True) as store:
            taken = {n for (n,) in store.con.execute(
                "SELECT name FROM state_process_changes").fetchall()
                } if store.table_exists("state_process_changes") else set()
        if found := [n for n, _ in changes if n in taken]:
            raise UserError(
                f"A process change named {found[0]!r} already exists in "
                f"{config.storage.raw_path}. Remove it first with `processhealth experiment "
                f"remove {found[0]}`, or choose another --name. Nothing was written.")
    return changes


def record_criteria(config: Config, tool: str, changes: list[tuple[str, str | None]],
                    started_on: date, scope: dict[str, list[str]]) -> list[str]:
    """Store the proposed criteria as the planned process changes; their names."""
    if not changes:
        return []
    criteria = [state.parse_criterion(text) for text, *_ in PROPOSED_CRITERIA]
    with RawStore.of(config) as store:
        for change, team in changes:
            state.add_process_change(store, change, started_on=started_on, team=team, tool=tool,
                                     scope=scope, criteria=criteria)
    return [change for change, _ in changes]
