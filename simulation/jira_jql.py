"""The small part of JQL the collectors send, as the Jira emulator understands it:
`project = / in`, `updated|created >= <date>` joined by AND, and ORDER BY. Anything else is
answered with Jira's own 400 message, so a collector that sends more finds out in a test."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo


class JqlError(ValueError):
    pass


_CLAUSE_PROJECT = re.compile(r"^project\s*(=|in)\s*(.+)$", re.I)
_CLAUSE_DATE = re.compile(r"^(updated|created)\s*(>=|>|<=|<)\s*(.+)$", re.I)
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")


def parse_jql(jql: str, zone: ZoneInfo) -> dict[str, Any]:
    """project = / in, updated|created >= <date> joined by AND, ORDER BY; dates in `zone`."""
    parts = re.split(r"\border\s+by\b", jql, maxsplit=1, flags=re.I)
    text, order_text = parts[0], (parts[1] if len(parts) > 1 else "")
    q: dict[str, Any] = {"projects": [], "since": [], "order": []}
    clauses = re.split(r"\s+and\s+", text.strip(), flags=re.I)
    for clause in filter(None, (c.strip().strip("() ") for c in clauses)):
        if m := _CLAUSE_PROJECT.match(clause):
            values = m.group(2).strip().strip("()")
            q["projects"] += [v.strip().strip("'\"") for v in values.split(",") if v.strip()]
        elif m := _CLAUSE_DATE.match(clause):
            q["since"].append((m.group(1).lower(), m.group(2), _jql_date(m.group(3), zone)))
        else:
            raise JqlError(f"Error in the JQL Query: the clause '{clause}' is not supported "
                           "by this emulator.")
    for part in filter(None, (p.strip() for p in order_text.split(","))):
        words = part.split()
        q["order"].append((words[0].lower(), len(words) > 1 and words[1].lower() == "desc"))
    return q


def _jql_date(text: str, zone: ZoneInfo) -> datetime:
    """A JQL date as Jira reads it: wall time in the account's zone. Where clocks fall back and
    an hour occurs twice, Jira takes the second (standard-time) reading: JqlDateSupportImpl
    parses with java.text.SimpleDateFormat in the user's TimeZone, and java.util.GregorianCalendar
    "assume[s] standard time" in the overlap (checked with OpenJDK 17: "2026-11-01 01:30" in
    America/New_York is 06:30Z, not 05:30Z). A wall time clocks skip (spring forward) keeps
    the reading before the change, as before; collectors never send one."""
    value = text.strip().strip("'\"")
    for fmt in _DATE_FORMATS:
        try:
            wall = datetime.strptime(value, fmt)
        except ValueError:
            continue
        first = wall.replace(tzinfo=zone).astimezone(UTC)
        return max(first, wall.replace(tzinfo=zone, fold=1).astimezone(UTC))
    raise JqlError(f"Date value '{value}' for field 'updated' is invalid. Valid formats include: "
                   "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'.")


def compare(value: datetime, op: str, at: datetime) -> bool:
    return {">=": value >= at, ">": value > at, "<=": value <= at, "<": value < at}[op]


def sort_key(field: str):
    if field in ("key", "issuekey", "id"):
        return lambda i: (i.project, int(i.key.rsplit("-", 1)[1]))
    if field in ("updated", "created"):
        return lambda i: getattr(i, field)
    raise JqlError(f"Error in the JQL Query: cannot order by '{field}'.")
