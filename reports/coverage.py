"""The coverage-and-caveats section: what the figures rest on, and what they leave out."""

from __future__ import annotations

from datetime import date
from typing import Any

from reports import format as fmt
from reports.db import AnalyticsDB
from reports.metrics import is_suppressed

SOURCE_NAMES = {"github": "GitHub", "jira": "Jira", "slack": "Slack"}
PARAM_WORDS = {
    "effort.session_gap_minutes": ("Session gap G", "min"),
    "effort.lead_in_minutes": ("Lead-in P before a session's first act", "min"),
    "effort.day_cap_hours": ("Daily cap per person", "h"),
    "privacy.min_group_size": ("Smallest group shown", "people"),
}


def coverage(db: AnalyticsDB, teams: list[str], months: list[date], min_group: int) -> dict:
    return {
        "sources": _sources(db),
        "gaps": gaps(db),
        "unclassified": _unclassified(db, teams, months),
        "identities": _identities(db),
        "suppressed": _suppressed(db, teams, months, min_group),
        "params": _params(db),
        "sensitivity": _sensitivity(db, teams, months[-1], min_group),
        "unclassified_buckets": unclassified_buckets(db, min_group),
    }


def _sources(db: AnalyticsDB) -> list[dict[str, Any]]:
    rows = db.rows(
        "SELECT source, events, work_items, first_at::DATE AS first, last_at::DATE AS last"
        " FROM metric_coverage_sources ORDER BY source")
    return [{"source": SOURCE_NAMES.get(r["source"], r["source"]),
             "events": fmt.count(r["events"], "event"),
             "item_count": "" if r["work_items"] is None
             else fmt.count(r["work_items"], "work item"),
             "range": f"{fmt.day_label(r['first'])} to {fmt.day_label(r['last'])}"}
            for r in rows]


STATUS_WORDS = {"missing": "the server has none (404)", "gone": "the server retired it (410)",
                "forbidden": "the account may not read it (403)",
                "off": "switched off in the config", "quarantined": "could not be read",
                "capped": "the server lists only part of it"}


def gaps(db: AnalyticsDB) -> list[dict[str, str]]:
    """What the figures lack (source_coverage): skipped entities and quarantined raw rows."""
    if "source_coverage" not in db.columns:  # a database built by an older version
        return []
    # quarantined rows are counted per source, entity and scope (there may be many)
    rows = db.rows(
        "SELECT source, entity, scope, status, any_value(detail) AS detail, count(item) AS n,"
        " min(item) AS example FROM source_coverage GROUP BY ALL"
        " ORDER BY source, entity, scope")
    return [{"source": SOURCE_NAMES.get(r["source"], r["source"]),
             "what": r["entity"].replace("_", " ") + (
                 f" ({fmt.count(r['n'], 'row')}, e.g. {r['example']})" if r["n"] else ""),
             "scope": r["scope"], "why": STATUS_WORDS.get(r["status"], r["status"]),
             "detail": r["detail"] or ""} for r in rows]


def _unclassified(db: AnalyticsDB, teams: list[str], months: list[date]) -> dict[str, Any]:
    """The unclassified share of the teams' credited hours, in the month and the window, over
    their team-months with enough people only (privacy review: one small team's report showed
    the share of its two people)."""
    def share(first: date, last: date) -> str:
        row = db.one(
            "SELECT sum(hours) FILTER (WHERE category = 'unclassified' AND NOT suppressed)"
            " / nullif(sum(hours) FILTER (WHERE NOT suppressed), 0) AS share,"
            " bool_and(suppressed) AS few FROM metric_effort_allocation"
            " WHERE team IN (SELECT unnest(?)) AND month::DATE BETWEEN ? AND ?",
            [teams, first, last]) or {}
        return fmt.TOO_FEW if row.get("few") else fmt.pct(row.get("share"), 1)

    return {"window": share(months[0], months[-1]), "month": share(months[-1], months[-1])}


def _identities(db: AnalyticsDB) -> dict[str, Any]:
    rows = db.rows("SELECT source, accounts, unmatched FROM metric_coverage_identities"
                   " ORDER BY source")
    total = sum(r["accounts"] for r in rows)
    unmatched = sum(r["unmatched"] for r in rows)
    return {
        "sentence": f"{unmatched:,} of {total:,} human tool accounts "
                    f"{'is' if unmatched == 1 else 'are'} not tied to a person in another tool",
        "by_source": [{"source": SOURCE_NAMES.get(r["source"], r["source"]),
                       "accounts": r["accounts"], "unmatched": r["unmatched"]} for r in rows],
    }


def _suppressed(db: AnalyticsDB, teams: list[str], months: list[date], min_group: int) -> list:
    rows = db.rows(
        "SELECT DISTINCT team, month::DATE AS month, * EXCLUDE (team, month)"
        " FROM metric_effort_allocation WHERE team IN (SELECT unnest(?))"
        " AND month::DATE BETWEEN ? AND ? ORDER BY team, month",
        [teams, months[0], months[-1]])
    seen: dict[str, list[str]] = {}
    for r in rows:
        if is_suppressed(r, min_group):
            label = fmt.month_short(r["month"])
            if label not in seen.setdefault(r["team"], []):
                seen[r["team"]].append(label)
    return [{"team": team, "months": ", ".join(ms)} for team, ms in seen.items()]


def _params(db: AnalyticsDB) -> list[dict[str, str]]:
    found = {r["name"]: r["value"] for r in db.rows("SELECT name, value FROM analysis_params")}
    return [{"label": label, "value": f"{found[key]} {unit}"}
            for key, (label, unit) in PARAM_WORDS.items() if key in found]


def _sensitivity(db: AnalyticsDB, teams: list[str], month: date, min_group: int) -> dict:
    """Customer and process shares of the month under each session gap, per team."""
    view = "metric_effort_sensitivity"
    db.require(view, "gap_minutes", "team", "month", "category", "share", "people_count",
               "suppressed")
    rows = db.rows(
        f"SELECT * FROM {view} WHERE month::DATE = ? AND team IN (SELECT unnest(?))",
        [month, teams])
    gaps = sorted({r["gap_minutes"] for r in rows})
    table = []
    for team in teams:
        cells = []
        for gap in gaps:
            mine = {r["category"]: r for r in rows
                    if r["team"] == team and r["gap_minutes"] == gap}
            if not mine:
                cells.append(fmt.NO_DATA)
            elif any(is_suppressed(r, min_group) for r in mine.values()):
                cells.append(fmt.TOO_FEW)
            else:
                cells.append(f"{fmt.pct(_share(mine, 'customer'))} customer / "
                             f"{fmt.pct(_share(mine, 'process'))} process")
        table.append({"team": team, "cells": cells})
    return {"gaps": [fmt.number(g, "min", 0) for g in gaps], "rows": table}


def _share(rows: dict[str, dict[str, Any]], category: str) -> float:
    return rows[category]["share"] if category in rows else 0.0


def unclassified_buckets(db: AnalyticsDB, min_group: int, limit: int = 5) -> list[dict]:
    """The largest buckets of unclassified effort across the organization."""
    view = "metric_effort_unclassified"
    db.require(view, "bucket_kind", "bucket", "hours", "share_of_effort", "people_count",
               "suppressed")
    rows = db.rows(f"SELECT * FROM {view} ORDER BY hours DESC, bucket LIMIT ?", [limit * 3])
    shown = [r for r in rows if not is_suppressed(r, min_group)][:limit]
    return [{"kind": r["bucket_kind"].replace("_", " "), "bucket": r["bucket"],
             "hours": fmt.hours(r["hours"]),
             "share": fmt.pct(r["share_of_effort"], 1)} for r in shown]
