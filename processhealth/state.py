"""Process changes and their success criteria: state that must survive analytics rebuilds.

They live in the raw store's state_* tables (build copies them into process_changes and
experiment_criteria), and are edited with `processhealth experiment add|list|remove`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from processhealth.errors import UserError
from processhealth.store import RawStore

_CRITERION = re.compile(
    r"^\s*(?P<metric>[a-z][a-z0-9_]*)\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>pp|%)?\s*$"
)


@dataclass(frozen=True)
class Criterion:
    metric: str
    op: str
    threshold: float
    unit: str  # "pp", "%" or "" (the metric's own unit)
    text: str


def parse_criterion(text: str) -> Criterion:
    """Parse `<metric> <op> <signed number>[pp|%]`, e.g. `overhead_ratio_change <= +3pp`."""
    match = _CRITERION.match(text)
    if not match:
        raise UserError(
            f"Criterion {text!r} is not understood. Expected `<metric> <op> <number>[pp|%]`: a "
            f"lower-case metric name, one of <=, >=, <, >, and a signed number, e.g. "
            f"\"overhead_ratio_change <= +3pp\" or \"customer_throughput_change >= -10%\"."
        )
    return Criterion(
        match["metric"], match["op"], float(match["number"]), match["unit"] or "", text.strip()
    )


EARLIEST_START = date(1990, 1, 1)
FUTURE_DAYS = 5 * 366  # how far ahead a planned change may be recorded


def check_start(started_on: date) -> None:
    """A process change starts between 1990 and five years from today; outside that, the
    before/after windows of the build leave the calendar or hold no data by construction."""
    latest = date.today() + timedelta(days=FUTURE_DAYS)
    if not EARLIEST_START <= started_on <= latest:
        raise UserError(
            f"--start {started_on.isoformat()} is outside the dates a process change can start: "
            f"{EARLIEST_START.isoformat()} to {latest.isoformat()} (five years from today). "
            f"Give the day the change started or will start, as YYYY-MM-DD.")


def add_process_change(
    store: RawStore,
    name: str,
    *,
    started_on: date,
    team: str | None = None,
    tool: str | None = None,
    scope: Mapping[str, Any] | None = None,
    criteria: Iterable[Criterion] = (),
) -> None:
    check_start(started_on)
    exists = store.con.execute(
        "SELECT 1 FROM state_process_changes WHERE name = ?", [name]
    ).fetchone()
    if exists:
        raise UserError(
            f"A process change named {name!r} already exists in {store.path}. Remove it first "
            f"with `processhealth experiment remove {name}`, or choose another name."
        )
    with store.transaction() as con:
        con.execute(
            "INSERT INTO state_process_changes VALUES (?, ?, ?, ?, ?, now())",
            [name, tool, team, started_on, json.dumps(dict(scope or {}), sort_keys=True)],
        )
        for idx, c in enumerate(criteria, start=1):
            con.execute(
                "INSERT INTO state_experiment_criteria VALUES (?, ?, ?, ?, ?, ?, ?)",
                [name, idx, c.metric, c.op, c.threshold, c.unit, c.text],
            )


def list_process_changes(store: RawStore) -> list[dict[str, Any]]:
    """Every process change as a dict; its Criterion list is under 'criteria'."""
    changes = store.con.execute(
        "SELECT name, tool, team, started_on, scope::VARCHAR, created_at"
        " FROM state_process_changes ORDER BY started_on, name"
    ).fetchall()
    rows = store.con.execute(
        "SELECT name, metric, op, threshold, unit, text"
        " FROM state_experiment_criteria ORDER BY name, idx"
    ).fetchall()
    criteria: dict[str, list[Criterion]] = {}
    for name, metric, op, threshold, unit, text in rows:
        criteria.setdefault(name, []).append(Criterion(metric, op, threshold, unit, text))
    return [
        {"name": name, "tool": tool, "team": team, "started_on": started,
         "scope": json.loads(scope or "{}"), "created_at": created,
         "criteria": criteria.get(name, [])}
        for name, tool, team, started, scope, created in changes
    ]


def remove_process_change(store: RawStore, name: str) -> None:
    with store.transaction() as con:
        removed = con.execute("DELETE FROM state_process_changes WHERE name = ?", [name])
        count = removed.fetchone()
        if not count or not count[0]:
            raise UserError(f"There is no process change named {name!r} in {store.path}.")
        con.execute("DELETE FROM state_experiment_criteria WHERE name = ?", [name])
