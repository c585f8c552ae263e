"""The monthly report: one self-contained HTML file (inline CSS and SVG; no script, no network).

    render_report(config, Path("report.html"), month="2026-05", team=None)

Reads only the analytics database (opened read-only) for its figures; the raw store's ledger of
what a past month's first report counted is read and added to (reports.late). Jinja2
autoescapes everything; the only markup inserted unescaped is chart SVG that `svg.safe_svg` has
checked.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from processhealth.config import Config
from processhealth.errors import UserError
from processhealth.files import refuse_unsafe_target, write_atomically  # noqa: F401
from reports import asof, changes, coverage, found, late, overview
from reports import format as fmt
from reports import team as team_sections
from reports.db import AnalyticsDB
from reports.metrics import first_month, is_suppressed

_ENV: Environment | None = None


def environment() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = Environment(
            loader=PackageLoader("reports", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True, lstrip_blocks=True,
        )
    return _ENV


def render_report(
    config: Config, out_path: Path, month: str | None = None, team: str | None = None
) -> Path:
    """Write the monthly report for `month` ('YYYY-MM'; default: the latest complete month in
    the data) and `team` (default: every team) to out_path; return out_path."""
    context = as_of_context(config, month, team)
    html = environment().get_template("report.html.j2").render(**context)
    return write_atomically(Path(out_path), html)


def as_of_context(config: Config, month: str | None, team: str | None) -> dict[str, Any]:
    """report_context from the data as it stood at the end of the report's month
    (reports.asof): a later regeneration gives the same figures, and names per team the data
    dated in the month that arrived after the month's first report (reports.late)."""
    with AnalyticsDB.open(config.storage.analytics_path,
                          config.storage.memory_limit) as db:
        report_month = choose_month(db, month)
    with asof.as_of_database(config, report_month) as (db, left_out):
        context = report_context(db, config, report_month, team)
        names = [t["name"] for t in context["teams"]]
        counts = late.month_counts(db, report_month, names)
        min_group = config.privacy.min_group_size
        shown = {n for n in names if not _team_suppressed(db, n, report_month, min_group)}
    context["as_of"] = left_out and {"events": left_out.events, "items": left_out.items}
    checked = late.check(config, report_month, counts, shown)
    for t in context["teams"]:
        t["late"] = checked.notes.get(t["name"])
    context["late_problem"] = checked.problem
    return context


def report_context(
    db: AnalyticsDB, config: Config, month: str | date | None, team: str | None
) -> dict[str, Any]:
    """Everything the templates show; `month` 'YYYY-MM' (checked against the data), None (the
    latest month that is over) or a month already chosen (a date)."""
    min_group = config.privacy.min_group_size
    teams = choose_teams(db, team)
    report_month = month if isinstance(month, date) else choose_month(db, month)
    months = team_sections.window(report_month, config.report.months)
    first = first_month(db, teams, min_group)  # not the first stray event
    months = [m for m in months if first is None or m >= first] or [report_month]
    team_reports = []
    slugs = overview.slugs(teams)
    codes = overview.verdict_codes(db, months, min_group)
    for name in teams:
        team_reports.append({
            "name": name,
            "anchor": "team-" + slugs[name],
            "cells": overview.team_cells(codes, name, months),
            "verdict": team_sections.verdict(db, name, report_month, min_group),
            "allocation": team_sections.allocation(db, name, months, min_group),
            "overhead": team_sections.overhead(db, name, months, min_group),
            "flow": team_sections.flow(db, name, months, min_group),
            "signals": team_sections.process_signals(db, name, months, min_group),
            "process_items": team_sections.process_items(
                db, name, report_month, _team_suppressed(db, name, report_month, min_group)),
            "changes": changes.changes_for_team(db, name, min_group),
            "found": {"proposals": found.proposals(db, name, months, min_group),
                      "events": found.team_events(db, name, months, min_group)},
            "people": people_table(db, name, report_month, min_group)
            if config.privacy.show_people else None,
            "late": None,  # as_of_context sets it (reports.late)
        })
    return {
        "title": config.report.title,
        "month": report_month,
        "month_label": fmt.month_label(report_month),
        "window_label": f"{fmt.month_label(months[0])} to {fmt.month_label(months[-1])}",
        "months_count": len(months),
        "months_word": "month" if len(months) == 1 else f"{len(months)} months",
        "generated_on": fmt.day_label(date.today()),
        "teams": team_reports,
        "grid_months": [fmt.month_short(m) for m in months],
        "changed": overview.changed(team_reports, months),
        "legend": overview.legend(),
        "pages": False,  # one file; reports.pages sets it for per-team files
        "page_team": None,
        "index_href": "",
        "coverage": coverage.coverage(db, teams, months, min_group),
        "found_org": {"proposals": found.proposals(db, None, months, min_group),
                      "events": found.team_events(db, None, months, min_group)},
        "min_group": min_group,
        "show_people": config.privacy.show_people,
        "as_of": None,  # as_of_context sets it when later data was left out
        "late_problem": None,  # as_of_context: why late data could not be checked
        "incomplete": incomplete(db, report_month),
    }


def incomplete(db: AnalyticsDB, month: date) -> str | None:
    """Why the report's month is not whole yet (health_verdicts.month_complete false: an
    enabled source's last finished `collect` began before the month ended, e.g. the cron run
    on the 1st failed for it), else None. Unknown (NULL: no collect of some source) says
    nothing: the data came from imports."""
    if "month_complete" not in db.columns.get("health_verdicts", ()):
        return None  # a database built before the column
    partial = db.scalar("SELECT count(*) FROM health_verdicts WHERE month::DATE = ?"
                        " AND month_complete = false", [month])
    if not partial:
        return None
    return (f"{fmt.month_label(month)} is not complete: at least one source's last finished "
            f"`processhealth collect` began before the month ended (its latest run failed, or "
            f"has not run since), so these figures and verdicts rest on part of the month. Run "
            f"`processhealth collect`, `build` and `report` again.")


def _team_suppressed(db: AnalyticsDB, team: str, month: date, min_group: int) -> bool:
    # Every team's row of the month in one read (a view recomputed per read: once per team
    # it cost about 70 ms a team at 186 teams)
    rows = db.view_rows("metric_team_months", (month, month), ("team", "people_count"))
    row = next((r for r in rows if r["team"] == team), None)
    return row is None or is_suppressed(row, min_group)


def choose_teams(db: AnalyticsDB, team: str | None) -> list[str]:
    known = [r["team"] for r in db.rows("SELECT team FROM teams ORDER BY team")]
    if not known:
        known = [r["team"] for r in db.rows(
            "SELECT DISTINCT team FROM metric_effort_allocation WHERE team IS NOT NULL"
            " ORDER BY team")]
    if team is None:
        if not known:
            raise UserError(
                "The analytics database has no teams yet. Add [[teams]] to the config, run "
                "`processhealth build`, then `processhealth report` again.")
        return known
    if team not in known:
        raise UserError(f"--team {team!r} is not a team in the analytics database; expected one "
                        f"of: {', '.join(known) or '(none)'}.")
    return [team]


def choose_month(db: AnalyticsDB, month: str | None) -> date:
    """The month asked for, or the latest month with data that is already over."""
    if month is not None:
        try:
            wanted = datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise UserError(f"--month {month!r} is not a month; expected YYYY-MM, e.g. 2026-05.") \
                from None
    first, latest = db.execute(
        "SELECT min(month)::DATE, max(month)::DATE FROM metric_effort_allocation").fetchone()
    if month is not None:
        if first is not None and not first <= wanted <= latest:
            raise UserError(
                f"--month {month}: the analytics database has effort figures from "
                f"{first:%Y-%m} to {latest:%Y-%m} only. Choose a month in that range, or "
                f"collect and build first.")
        return wanted
    if latest is None:
        raise UserError("The analytics database has no effort figures yet (metric_effort_"
                        "allocation is empty). Run `processhealth collect` and "
                        "`processhealth build` first, or name a month with --month YYYY-MM.")
    today = date.today()
    if (latest.year, latest.month) == (today.year, today.month):
        earlier = db.scalar("SELECT max(month)::DATE FROM metric_effort_allocation"
                            " WHERE month::DATE < ?", [latest])
        latest = earlier or latest
    return latest


def people_table(db: AnalyticsDB, team: str, month: date, min_group: int) -> dict:
    """Hours per person and category (only with privacy.show_people = true)."""
    rows = db.rows(
        "SELECT display_name AS name, category, hours FROM metric_person_hours"
        " WHERE team = ? AND month = ? ORDER BY name", [team, month])
    people: dict[str, dict[str, float]] = {}
    for r in rows:
        people.setdefault(r["name"], {})[r["category"] or "unclassified"] = r["hours"]
    return {"categories": team_sections.CATEGORIES,
            "rows": [{"name": name, "cells": [fmt.hours(cats.get(c, 0))
                                              for c in team_sections.CATEGORIES]}
                     for name, cats in people.items()]}
