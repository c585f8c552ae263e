"""events.event_seq: the events numbered in time order, by the second, so that a month added
later moves only the numbers of the seconds it touches (classification numbers them,
analysis/classify.py; normalization writes 0 until then)."""

from __future__ import annotations

from typing import Any

import duckdb

# event_seq = the UTC second of occurred_at (seconds since 1970, rounded down: the second the time
# falls in, also before 1970; _SECOND) x SEQ_PER_SECOND + the event's place among the events of
# that second (from 0, in occurred_at order, ties by event_id). So the
# numbers follow time order (ties by event_id), a build of the same data gives the same numbers,
# and an event that arrives late for its time (a commit pushed weeks after its author date, a
# month collected later) changes only the numbers of the events of its own second: every other
# event keeps its number, and so do the rows keyed by it (effort_credit, metric_event_base),
# which an incremental analysis needs. A dense number (1..n in the same order) moved every event
# after the late one: adding a month to the 10M-event benchmark renumbered most of the year
# (benchmarks/RESULTS.md section 8). The numbers stay below 2**53, so tools that read numbers as
# doubles (JavaScript, JSON) still read them exactly. The same sort as the dense number.
SEQ_PER_SECOND = 1_000_000
# Seconds whose numbers stay below 2**53 in size (years 1685-2255); an event outside them, or a
# second with SEQ_PER_SECOND events or more, makes the build number 1..n instead
# (dense_numbering): the same order, unique, but not stable under additions.
_LAST_SECOND = (2**53 - 1) // SEQ_PER_SECOND - 1
_SECONDS = (-_LAST_SECOND, _LAST_SECOND)
# SQL: the UTC second of occurred_at, rounded down. Not epoch_ms(occurred_at) // 1000: epoch_ms
# rounds to the nearest millisecond (a Slack time at .9995-.9999 s went to the next second), and
# `//` on integers rounds toward zero (a time before 1970 went to the second after it, and
# -1 s < t < 1 s were one "second"); the order was right either way, the second was not.
_SECOND = ("(epoch_us(occurred_at) // 1000000"
           " - (epoch_us(occurred_at) % 1000000 < 0)::BIGINT)")


def number_events(con: duckdb.DuckDBPyConnection) -> None:
    """`_event_no(rid, n)`: the rowid and event_seq (see SEQ_PER_SECOND) of each event whose
    number is not already the one it gets; the others keep theirs. A build that starts from
    the last build's events (docs/build.md, "Cost") numbers only the seconds whose numbers
    moved (`_moved`); a build from empty tables (every event 0), every second."""
    lo, hi = _SECONDS
    [(kept,)] = con.execute("SELECT count(*) FILTER (WHERE event_seq <> 0) FROM events"
                            ).fetchall()
    seconds = f"WHERE s IN (SELECT s FROM {_moved(con)})" if kept else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _event_no AS
        SELECT rid, CASE WHEN s BETWEEN {lo} AND {hi} AND r < {SEQ_PER_SECOND}
                         THEN s * {SEQ_PER_SECOND} + r END AS n
        FROM (SELECT rid, s, row_number() OVER (PARTITION BY s ORDER BY occurred_at, event_id) - 1
                     AS r
              FROM (SELECT rowid AS rid, occurred_at, event_id, {_SECOND} AS s FROM events)
              {seconds})
    """)
    con.execute("DROP TABLE IF EXISTS _event_moved")
    if not con.execute("SELECT count(*) = count(n) FROM _event_no").fetchone()[0]:
        dense_numbering(con)


def _moved(con: duckdb.DuckDBPyConnection) -> str:
    """`_event_moved(s)`: the seconds whose events' numbers are not those numbering gives. A
    second's kept events were numbered s x SEQ_PER_SECOND + 0..k-1 by the last build, each
    number once, in (occurred_at, event_id) order, which no kept row changes (a changed event
    is normalized again, as a new row numbered 0). So a second keeps its numbers exactly when
    none of its events is numbered 0 (a new one; also the second 0 of 1970, numbered again
    every time) and its numbers run from s x SEQ_PER_SECOND to that plus its count less one:
    k distinct numbers in a range of k are all of them. An event added or gone, a row numbered
    by hand (from the sequence), a second out of range or a last build numbered 1..n fail it.
    At 10M events after a month this numbers about a tenth of the events (the window sorts
    event ids: 3.1 s for all of them)."""
    lo, hi = _SECONDS
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _event_moved AS
        SELECT s FROM (SELECT {_SECOND} AS s, event_seq FROM events)
        GROUP BY s
        HAVING CASE WHEN s BETWEEN {lo} AND {hi}
                    THEN bool_or(event_seq = 0) OR min(event_seq) <> s * {SEQ_PER_SECOND}
                         OR max(event_seq) <> s * {SEQ_PER_SECOND} + count(*) - 1
                    ELSE true END
    """)
    return "_event_moved"


def dense_numbering(con: duckdb.DuckDBPyConnection) -> None:
    """`_event_no` as 1..n in time order, ties by event_id: for times BIGINT cannot number by
    the second (see SEQ_PER_SECOND)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _event_no AS
        SELECT rowid AS rid, row_number() OVER (ORDER BY occurred_at, event_id) AS n
        FROM events
    """)


# What normalization's INSERTs into `events` cost with the column's default, nextval('event_seq'):
# DuckDB inserts such rows one thread at a time, in order. At 10M events the Jira field edits
# took 7.1 s with it and 3.6 s with a constant (benchmarks/RESULTS.md section 3). The numbers it
# drew were thrown away: classification numbers every event again. So a build's normalization
# writes 0, and classification restores the default.
_SEQ_DEFAULT = "nextval('event_seq')"


def defer_event_seq(con: duckdb.DuckDBPyConnection, config: Any = None) -> None:
    """Before normalization: events are written with event_seq 0 until classification."""
    con.execute("ALTER TABLE events ALTER COLUMN event_seq SET DEFAULT 0")


def resume_event_seq(con: duckdb.DuckDBPyConnection) -> None:
    """After the numbering: the schema's default again, its sequence past every number given
    (a row added by hand later draws a number no event has). From 1 at least: a DuckDB sequence
    cannot start below its MINVALUE, 1, and numbers by the second are negative before 1970."""
    [(top,)] = con.execute("SELECT greatest(coalesce(max(event_seq), 0), 0) FROM events"
                           ).fetchall()
    # made again to start there (drawing every number up to it took 0.4 s at 10M events); the
    # column must not use it meanwhile
    con.execute("ALTER TABLE events ALTER COLUMN event_seq SET DEFAULT 0")
    con.execute(f"CREATE OR REPLACE SEQUENCE event_seq START WITH {int(top) + 1}")
    con.execute(f"ALTER TABLE events ALTER COLUMN event_seq SET DEFAULT {_SEQ_DEFAULT}")
