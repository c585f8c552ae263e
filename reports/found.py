"""Process changes found in the data (metric_change_onsets) and team events (metric_team_events)
in the report: unrecorded onsets proposed as `processhealth experiment add` lines, people who
joined or left a team and bots added or removed, for the report's months. Counts only."""

from __future__ import annotations

from datetime import date
from typing import Any

from reports import format as fmt
from reports.db import AnalyticsDB

ONSETS = "metric_change_onsets"
EVENTS = "metric_team_events"
KIND_WORDS = {
    "new_field": "a field people started editing",
    "new_issue_type": "an issue type people started creating",
    "new_channel": "a Slack channel that started",
    "new_reminders": "reminders that started recurring in a channel",
    "new_bot": "a bot that started acting",
}
USE_WORDS = {"new_field": "edits", "new_issue_type": "issues created",
             "new_channel": "messages", "new_reminders": "reminders", "new_bot": "bot events"}
EVENT_WORDS = {"people_joined": "people joined", "people_left": "people left",
               "bot_added": "bots added", "bot_removed": "bots removed"}


def _in(months: list[date], month: Any) -> bool:
    return months[0] <= month <= months[-1]


def _hidden(row: dict[str, Any], min_group: int) -> bool:
    """A team's figure resting on fewer than `min_group` people (bot rows have no team)."""
    return row["team"] is not None and (
        bool(row["suppressed"]) or (row["people_count"] or 0) < min_group)


def proposals(db: AnalyticsDB, team: str | None, months: list[date], min_group: int
              ) -> list[dict[str, Any]]:
    """Unrecorded onsets of `team` (None: of every team) in the report's months; the uses of a
    team-month with fewer than `min_group` people are not shown."""
    rows = db.team_rows(ONSETS, team, columns=(
        "kind", "month", "started_on", "scope_key", "scope_value", "uses", "recorded",
        "command", "people_count", "suppressed"))
    found = sorted((r for r in rows if not r["recorded"] and _in(months, r["month"])),
                   key=lambda r: (r["started_on"], r["kind"], r["scope_value"] or ""))
    return [{"what": KIND_WORDS.get(r["kind"], r["kind"]),
             "scope": f"{r['scope_key']}: {r['scope_value']}" if r["scope_key"] else "",
             "started": fmt.day_label(r["started_on"]),
             # an onset of no team (a channel only unassigned people write in) may rest on
             # anyone: its uses are shown for bots only
             "uses": fmt.TOO_FEW if _hidden(r, min_group)
             or (r["team"] is None and r["kind"] != "new_bot") else
             f"{r['uses']} {USE_WORDS.get(r['kind'], 'uses')} in {fmt.month_label(r['month'])}",
             "command": r["command"]} for r in found]


def team_events(db: AnalyticsDB, team: str | None, months: list[date], min_group: int
                ) -> list[dict[str, Any]]:
    """Joins and leaves of `team` (None: bots of the organization) per month of the report; a
    team-month with fewer than `min_group` people shows no counts."""
    rows = db.team_rows(EVENTS, team, columns=("event", "month", "count", "people_count",
                                               "suppressed"))
    out = []
    for r in sorted((r for r in rows if _in(months, r["month"])),
                    key=lambda r: (r["month"], r["event"])):
        hidden = _hidden(r, min_group)
        out.append({"month": fmt.month_label(r["month"]),
                    "event": EVENT_WORDS.get(r["event"], r["event"]),
                    "count": fmt.TOO_FEW if hidden else str(r["count"])})
    return out
