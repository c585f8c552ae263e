"""Data about a past month that arrived after its report was first written, named as such.

    check = late.check(config, month, late.month_counts(db, month, teams), shown)
    check.notes["atlas"]   # "2 events dated in February 2026 arrived after ...", or absent
    check.problem          # why late data could not be checked, or None

A report for a past month is made from the data as it stood at the month's end (reports.asof),
but data dated in the month itself can still arrive later (a collect that runs on the 3rd, a
Slack export imported in the next quarter) or go away (an issue deleted or moved upstream,
found by `collect --full`). The analytics database is rebuilt from scratch by every build, so
it cannot remember what an earlier report counted: the raw store's `state_report_ledger` does.
When a report for a month that is over is written, each of its teams that has no row for the
month gets one: how many events the team's people made in the month (metric_event_base) and
how many work items counting toward the team were resolved or merged in it (metric_item_team),
as the report read them. A row is never overwritten. When a later report finds other counts,
it says so per team, in plain words; its figures include the late data (the counts cannot tell
which rows arrived late, so nothing can be taken out). The counts are net: an arrival and a
deletion in the same team and month cancel out, and a team's people moving to another team in
the config moves their events with them.

No note when nothing changed, so regenerating without late data gives the same page. A team
under privacy.min_group_size in the month gets no note, like its figures. Counts per team are
all the ledger holds: no person, no key, no text. Writing the ledger is the one thing a report
writes outside its own files; a raw store that is missing (an analytics file copied elsewhere)
or held by a running collect or build leaves the report as it is, with one line saying late
data could not be checked and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from processhealth.errors import UserError
from processhealth.store import RawStore
from reports import format as fmt
from reports.asof import month_end
from reports.db import AnalyticsDB


@dataclass(frozen=True)
class Counts:
    events: int
    items: int


@dataclass(frozen=True)
class LateCheck:
    """Per team, the sentence naming late or vanished data (teams without one are absent), and
    why the check could not be made (None when it was, or was not needed)."""

    notes: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


def month_counts(db: AnalyticsDB, month: date, teams: list[str]) -> dict[str, Counts]:
    """Per team of `teams`: events its people made in `month`, and work items counting toward
    it that were resolved or merged in `month` (each item once)."""
    end = month_end(month)
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    events = dict(db.execute(
        "SELECT team, count(*) FROM metric_event_base WHERE occurred_at >= $start"
        " AND occurred_at < $end AND list_contains($teams, team) GROUP BY team",
        {"start": start, "end": end, "teams": teams}).fetchall())
    items = dict(db.execute(
        "SELECT t.team, count(*) FROM work_items AS w JOIN metric_item_team AS t USING (item_id)"
        " WHERE ((w.resolved_at >= $start AND w.resolved_at < $end)"
        " OR (w.merged_at >= $start AND w.merged_at < $end)) AND list_contains($teams, t.team)"
        " GROUP BY t.team",
        {"start": start, "end": end, "teams": teams}).fetchall())
    return {t: Counts(int(events.get(t, 0)), int(items.get(t, 0))) for t in teams}


def check(config: Any, month: date, counts: dict[str, Counts], shown: set[str],
          now: datetime | None = None) -> LateCheck:
    """Compare `counts` with the ledger's rows for `month`, record the teams it lacks, and word
    the differences for the teams in `shown` (those not suppressed). Nothing is recorded or
    said for a month that is not over."""
    now = now or datetime.now(UTC)
    if month_end(month) > now or not counts:
        return LateCheck()
    path = Path(config.storage.raw_path)
    if not path.exists():
        return LateCheck(problem=(
            f"Late data could not be checked: there is no raw store at storage.raw_path "
            f"({path.name}), which records what this month's report first counted (an "
            f"analytics database copied away from its raw store?). The figures are as the "
            f"analytics database has them."))
    try:
        first = _record(config, month, counts, now)
    except (UserError, duckdb.Error, OSError) as exc:
        reason = " ".join(str(exc).replace(str(path), path.name).split())
        return LateCheck(problem=(
            f"Late data could not be checked: the raw store could not be opened ({reason}). "
            f"The figures are as the analytics database has them."))
    notes = {}
    for team, (written_at, then) in first.items():
        if team in shown:
            note = sentence(month, written_at, then, counts[team])
            if note:
                notes[team] = note
    return LateCheck(notes)


def _record(config: Any, month: date, counts: dict[str, Counts], now: datetime
             ) -> dict[str, tuple[datetime, Counts]]:
    """The ledger's rows for `month` and `counts`' teams, after adding those it lacked (the raw
    store opened as every command opens it, under [storage] memory_limit)."""
    with RawStore.of(config) as store, store.transaction() as con:
        con.executemany(
            "INSERT INTO state_report_ledger VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [[month, team, now, c.events, c.items] for team, c in sorted(counts.items())])
        rows = con.execute(
            "SELECT team, first_written_at, events, items FROM state_report_ledger"
            " WHERE month = ? AND list_contains(?, team)", [month, sorted(counts)]).fetchall()
    return {team: (written_at, Counts(events, items)) for team, written_at, events, items in rows}


def sentence(month: date, written_at: datetime, then: Counts, now: Counts) -> str | None:
    """What changed since the first report, in words; None when nothing did."""
    label, day = fmt.month_label(month), fmt.day_label(written_at)
    more, one_more = _things(now.events - then.events, now.items - then.items)
    fewer, one_fewer = _things(then.events - now.events, then.items - now.items)
    said = []
    if more:
        said.append(f"{more} dated in {label} arrived after this month's report was first "
                    f"written ({day}); the figures include {'it' if one_more else 'them'}.")
    if fewer:
        said.append(f"{fewer} dated in {label} that this month's report counted when it was "
                    f"first written ({day}) {'is' if one_fewer else 'are'} no longer in the "
                    f"data (deleted, moved or reopened at the source); the figures leave "
                    f"{'it' if one_fewer else 'them'} out.")
    return " ".join(said) or None


def _things(events: int, items: int) -> tuple[str, bool]:
    """'3 events and 1 resolved item' for the positive ones, and whether that is one thing."""
    parts = []
    if events > 0:
        parts.append(f"{events:,} event{'s' if events != 1 else ''}")
    if items > 0:
        parts.append(f"{items:,} resolved item{'s' if items != 1 else ''}")
    return " and ".join(parts), max(events, 0) + max(items, 0) == 1
