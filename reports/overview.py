"""The report's first page: the organization at a glance.

A team x month grid of verdicts over the report's months, the teams whose verdict changed in the
report month, and a link to each team. Issue 21: with only the latest month's verdict at the
top, a team that was "process has become the product" from March to July read "neutral" in
October with nothing above the fold to say so.

Every cell carries a word (an abbreviation with its full name in a title, and in the legend) as
well as a colour, so the grid reads in print, for colour-blind readers and to a screen reader.
Reads only health_verdicts, with the same suppression as each team's verdict box.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from reports import format as fmt
from reports.db import AnalyticsDB
from reports.metrics import is_suppressed
from reports.team import VERDICT_WORDS

# verdict code -> abbreviation shown in the cell (its full name is VERDICT_WORDS' label)
ABBREVIATIONS = {
    "amplifier": "AMP",
    "neutral": "NEU",
    "process_is_product": "PROC",
    "insufficient_data": "n/a",
}
NO_VERDICT = "none"  # no row in health_verdicts for the team-month: before its data began
LEGEND_ORDER = ("amplifier", "neutral", "process_is_product", "insufficient_data", NO_VERDICT)


def cell(code: str) -> dict[str, str]:
    """What the grid shows for one verdict code: CSS class, abbreviation, full words."""
    if code == NO_VERDICT:
        return {"code": NO_VERDICT, "abbr": "none", "label": "No verdict computed"}
    label = VERDICT_WORDS.get(code, (code.replace("_", " ").capitalize(), ""))[0]
    css = code if code in VERDICT_WORDS else "other"
    return {"code": css, "abbr": ABBREVIATIONS.get(code, code[:4].upper()), "label": label}


def legend() -> list[dict[str, str]]:
    return [cell(code) for code in LEGEND_ORDER]


def verdict_codes(db: AnalyticsDB, months: list[date], min_group: int
                  ) -> dict[tuple[str, date], str]:
    """(team, month) -> verdict code over `months`, 'insufficient_data' where fewer than
    min_group people stand behind it (as in each team's verdict box)."""
    db.require("health_verdicts", "team", "month", "verdict", "people_count")
    rows = db.rows("SELECT team, month::DATE AS month, verdict, people_count FROM health_verdicts"
                   " WHERE month::DATE BETWEEN ? AND ?", [months[0], months[-1]])
    return {(r["team"], r["month"]): "insufficient_data" if is_suppressed(r, min_group)
            else r["verdict"] for r in rows}


def team_cells(codes: dict[tuple[str, date], str], team: str, months: list[date]) -> list[dict]:
    return [{**cell(codes.get((team, m), NO_VERDICT)), "month": fmt.month_label(m)}
            for m in months]


def changed(teams: list[dict[str, Any]], months: list[date]) -> list[dict[str, Any]]:
    """Teams whose verdict in the report month differs from the month before (within the
    report's months): from what to what."""
    if len(months) < 2:
        return []
    out = []
    for t in teams:
        before, now = t["cells"][-2], t["cells"][-1]
        if before["code"] != now["code"]:
            out.append({"team": t, "before": before, "now": now})
    return out


def slugs(names: list[str]) -> dict[str, str]:
    """A file-name- and anchor-safe slug per team name, unique across the list: ASCII letters,
    digits and single hyphens, at most 60 characters; 'team' when nothing is left (a name of
    only symbols or non-Latin letters); -2, -3, ... on collisions ('A/B' and 'a b')."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-")
        base = base or "team"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        out[name] = slug
    return out
