"""Process changes in the report: each experiment's criteria with their intervals, its verdict,
and its adoption curve with best-performer engagement."""

from __future__ import annotations

import json
from typing import Any

from reports import charts
from reports import format as fmt
from reports.db import AnalyticsDB
from reports.metrics import is_suppressed
from reports.team import VERDICT_WORDS, engagement_too_few, verdict_signals

STATUS_WORDS = {
    "met": "met",
    "not_met": "not met",
    "inconclusive": "inconclusive (the interval straddles the threshold)",
    "insufficient_data": "insufficient data (fewer than 6 weekly points or 5 people)",
}
RESULTS = "health_experiment_results"
CHANGE_VERDICTS = "health_change_verdicts"
CHANGE_SIGNALS = "health_change_signals"
ADOPTION = "metric_adoption"
ADOPTION_WEEKLY = "metric_adoption_weekly"


def changes_for_team(db: AnalyticsDB, team: str, min_group: int) -> list[dict[str, Any]]:
    """Process changes that apply to `team` (its own, and those for every team)."""
    found = db.rows(
        "SELECT name, tool, team, started_on, scope::VARCHAR AS scope FROM process_changes"
        " WHERE team = ? OR team IS NULL ORDER BY started_on, name", [team])
    return [_change(db, c, team, min_group) for c in found]


def _change(db: AnalyticsDB, change: dict, team: str, min_group: int) -> dict[str, Any]:
    name = change["name"]
    scope = json.loads(change["scope"] or "{}")
    out: dict[str, Any] = {
        "name": name, "tool": change["tool"], "started": fmt.day_label(change["started_on"]),
        "applies_to": change["team"] or "every team",
        "scope": "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in sorted(scope.items())),
    }
    out["criteria"], out["criteria_chart"] = _criteria(db, name, team, min_group)
    out["verdict"] = _change_verdict(db, name, team, min_group)
    out.update(_adoption(db, name, team, min_group))
    return out


def _criteria(db: AnalyticsDB, name: str, team: str, min_group: int) -> tuple[list, Any]:
    """Each criterion of the change with its estimate and interval for this team."""
    db.require("experiment_criteria", "name", "idx", "text", "unit", "threshold")
    criteria = db.rows("SELECT * FROM experiment_criteria WHERE name = ? ORDER BY idx", [name])
    db.require(RESULTS, "change", "team", "idx", "estimate", "low", "high", "outcome", "method",
               "before_weeks", "after_weeks", "note", "people_count")
    results = {r["idx"]: r for r in db.rows(
        f'SELECT * FROM {RESULTS} WHERE "change" = ? AND team = ?', [name, team])}
    rows, chart_rows = [], []
    for c in criteria:
        r = results.get(c["idx"], {})
        unit = c["unit"] or ""
        outcome = r.get("outcome")
        if r and is_suppressed(r, min_group):
            outcome = "insufficient_data"
        estimate, low, high = r.get("estimate"), r.get("low"), r.get("high")
        shown_interval = outcome != "insufficient_data" and not fmt.missing(low)
        rows.append({
            "text": c["text"],
            "estimate": _in_unit(estimate, unit) if outcome != "insufficient_data"
            else fmt.NO_DATA,
            "interval": f"{_in_unit(low, unit)} to {_in_unit(high, unit)}"
            if shown_interval else "",
            "method": METHOD_WORDS.get(r.get("method"), r.get("method") or ""),
            "weeks": f"{r['before_weeks']} before, {r['after_weeks']} after" if r else "",
            "status": STATUS_WORDS.get(outcome, outcome or "not evaluated yet"),
            "status_code": outcome or "none",
            "note": r.get("note") or "",
        })
        if shown_interval and outcome in ("met", "not_met", "inconclusive"):
            chart_rows.append({"criterion": c["text"], "order": c["idx"], "estimate": estimate,
                               "low": low, "high": high, "threshold": c["threshold"]})
    chart = None
    if chart_rows and len({c["unit"] for c in criteria}) == 1:
        chart = charts.interval_chart(
            chart_rows, f"{name}, team {team}: estimated change with its 95% interval",
            "Dot: estimate; line: 95% block-bootstrap interval; red tick: the criterion's "
            f"threshold ({UNIT_WORDS.get(criteria[0]['unit'], 'the metric' + chr(39) + 's unit')})")
    return rows, chart


METHOD_WORDS = {
    "did": "difference-in-differences against teams without the change",
    "before_after": "after minus before (no team without the change to compare with)",
    "level": "level after the change",
}
UNIT_WORDS = {"pp": "percentage points", "%": "percent"}


def _in_unit(value: Any, unit: str) -> str:
    if fmt.missing(value):
        return fmt.NO_DATA
    if unit == "pp":
        return fmt.signed(value, "pp")
    if unit == "%":
        return f"{value:+.0f}%"
    return fmt.signed(value, "", 2)


def _change_verdict(db: AnalyticsDB, name: str, team: str, min_group: int) -> dict | None:
    db.require(CHANGE_VERDICTS, "change", "team", "verdict", "reason", "people_count")
    row = db.one(f'SELECT * FROM {CHANGE_VERDICTS} WHERE "change" = ? AND team = ?',
                 [name, team])
    if row is None:
        return None
    code, reason = row["verdict"], row.get("reason")
    if is_suppressed(row, min_group):
        code, reason = "insufficient_data", f"Fewer than {min_group} people were active."
    label, sentence = VERDICT_WORDS.get(code, (str(code), ""))
    signals = [] if code == "insufficient_data" else verdict_signals(
        db, CHANGE_SIGNALS, '"change" = ? AND team = ?', [name, team], code,
        too_few=engagement_too_few(db, team, name))
    return {"code": code, "label": label, "sentence": sentence, "reason": reason,
            "signals": signals}


def _adoption(db: AnalyticsDB, name: str, team: str, min_group: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    adoption = db.view_rows(ADOPTION, columns=(
        "change", "team", "peak_share", "half_life_weeks", "best_performer_engagement",
        "organic_share", "people_count", "suppressed", "engagement_suppressed"))
    row = next((r for r in adoption if r["change"] == name and r["team"] == team), None)
    if row and is_suppressed(row, min_group):
        out["adoption_suppressed"] = True
    elif row:
        engagement = row["best_performer_engagement"]
        out["adoption"] = {
            "peak": fmt.pct(row["peak_share"]),
            "half_life": "not reached" if fmt.missing(row["half_life_weeks"])
            else fmt.number(row["half_life_weeks"], "weeks", 0),
            # each group, the best performers and the rest, must hold min_group people
            "engagement": fmt.TOO_FEW if row["engagement_suppressed"]
            else fmt.NO_DATA if fmt.missing(engagement) else f"{engagement:.2f}",
            "engagement_warning": not row["engagement_suppressed"]
            and not fmt.missing(engagement) and engagement < 0.5,
            "organic": fmt.pct(row["organic_share"]),
        }
    weekly = db.view_rows(ADOPTION_WEEKLY, columns=(
        "change", "team", "week", "weeks_since_start", "active_share", "suppressed"))
    weeks = sorted((r for r in weekly if r["change"] == name and r["team"] == team),
                   key=lambda r: r["week"])
    points = [{"week": w["weeks_since_start"], "value": w["active_share"],
               "series": "weekly active share"}
              for w in weeks if not is_suppressed(w, min_group)
              and not fmt.missing(w["active_share"])]
    if points:
        peak = max(p["value"] for p in points)
        out["adoption_chart"] = charts.adoption_chart(
            points, f"{name}: adoption by {team}, week by week",
            "People active in the change's footprint each week / team headcount",
            peak / 2 if peak else None)
    return out
