"""events.event_seq (analysis/event_seq.py, number_events): time order, and stable when events
are added, so that the rows keyed by it stay put for the events that did not move."""

from __future__ import annotations

import duckdb
import pytest

from analysis import event_seq as numbering

_EVENTS = [  # (event_id, occurred_at)
    ("github:commit:b", "2026-03-01 09:00:00+00"),
    ("github:commit:a", "2026-03-01 09:00:00+00"),   # same second: ties by event_id
    ("jira:changelog:1:1", "2026-03-01 09:00:00.250+00"),
    ("jira:changelog:1:2", "2026-03-01 09:00:00.250+00"),
    ("slack:message:C1:1", "2026-03-01 09:00:01+00"),
    ("slack:message:C1:2", "2026-04-15 17:30:00.000001+00"),
    ("jira:issue:10", "1969-12-31 23:59:59.5+00"),  # before 1970
    ("jira:issue:11", "1969-12-31 23:59:58+00"),
]


def _events(rows: list[tuple[str, str]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE events(event_id VARCHAR, occurred_at TIMESTAMPTZ,"
                " event_seq BIGINT NOT NULL DEFAULT 0)")
    con.executemany("INSERT INTO events(event_id, occurred_at) VALUES (?, ?::TIMESTAMPTZ)", rows)
    return con


def _numbered(rows: list[tuple[str, str]]) -> dict[str, int]:
    con = _events(rows)
    numbering.number_events(con)
    return dict(con.execute("SELECT e.event_id, o.n FROM events e JOIN _event_no o"
                            " ON o.rid = e.rowid").fetchall())


def _time_order(rows: list[tuple[str, str]]) -> list[str]:
    con = _events(rows)
    return [r[0] for r in con.execute("SELECT event_id FROM events ORDER BY occurred_at, event_id"
                                      ).fetchall()]


def test_numbers_follow_time_then_event_id_and_are_unique_and_exact_in_a_double() -> None:
    seq = _numbered(_EVENTS)
    assert sorted(seq, key=seq.get) == _time_order(_EVENTS)
    assert len(set(seq.values())) == len(_EVENTS)
    assert all(abs(n) < 2**53 for n in seq.values())
    # the second times SEQ_PER_SECOND, plus the place within the second
    assert seq["github:commit:a"] == 1772355600 * numbering.SEQ_PER_SECOND
    assert seq["github:commit:b"] == seq["github:commit:a"] + 1
    assert seq["jira:changelog:1:2"] == seq["github:commit:a"] + 3


def test_an_event_that_arrives_late_moves_only_the_numbers_of_its_own_second() -> None:
    before = _numbered(_EVENTS)
    late = [("github:commit:0", "2026-03-01 09:00:00.100+00"),  # in a second with four events
            ("github:commit:z", "2025-06-01 12:00:00+00")]      # alone in its second
    after = _numbered(_EVENTS + late)
    moved = {k for k in before if before[k] != after[k]}
    # within its second it sorts after the two commits at .000 and before the two at .250
    assert moved == {"jira:changelog:1:1", "jira:changelog:1:2"}
    assert sorted(after, key=after.get) == _time_order(_EVENTS + late)
    # a dense number (1..n) would have moved every event after 2025-06-01
    dense = {k: i for i, k in enumerate(_time_order(_EVENTS + late), 1)}
    old_dense = {k: i for i, k in enumerate(_time_order(_EVENTS), 1)}
    assert len({k for k in old_dense if old_dense[k] != dense[k]}) == 6


@pytest.mark.parametrize("outlier", ["2300-01-01 00:00:00+00", "1600-01-01 00:00:00+00"])
def test_a_time_beyond_what_the_numbers_hold_numbers_the_events_one_to_n(outlier) -> None:
    rows = _EVENTS + [("jira:issue:99", outlier)]
    seq = _numbered(rows)
    order = _time_order(rows)
    assert [seq[k] for k in order] == list(range(1, len(rows) + 1))


def test_the_second_is_the_one_the_time_falls_in_to_the_microsecond_and_before_1970() -> None:
    """SEQ_PER_SECOND numbers by the UTC second rounded down: a Slack time (microseconds) in the
    last half millisecond of a second is of that second, not the next (epoch_ms rounds to the
    nearest millisecond), and a time before 1970 of the second before it (`//` on integers
    rounds toward zero), so the number over SEQ_PER_SECOND, rounded down, is the second."""
    rows = _EVENTS + [("slack:message:C1:3", "2026-03-01 09:00:00.999600+00"),
                      ("slack:message:C1:4", "2026-03-01 09:00:01.999999+00"),
                      ("jira:issue:12", "1969-12-31 23:59:59.9996+00"),
                      ("jira:issue:13", "1970-01-01 00:00:00.5+00")]
    seq = _numbered(rows)
    assert sorted(seq, key=seq.get) == _time_order(rows)
    a = seq["github:commit:a"]
    assert seq["slack:message:C1:3"] == a + 4  # after the two at .250 of the same second
    assert seq["slack:message:C1:4"] == seq["slack:message:C1:1"] + 1
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for event_id, at in rows:
        [(us,)] = con.execute("SELECT epoch_us(?::TIMESTAMPTZ)", [at]).fetchall()
        assert seq[event_id] // numbering.SEQ_PER_SECOND == us // 1_000_000, (event_id, at)
    assert seq["jira:issue:11"] == -2 * numbering.SEQ_PER_SECOND
    assert seq["jira:issue:10"] == -numbering.SEQ_PER_SECOND
    assert seq["jira:issue:12"] == -numbering.SEQ_PER_SECOND + 1
    assert seq["jira:issue:13"] == 0


def test_a_row_added_after_numbering_events_all_before_1970_draws_a_new_number() -> None:
    """resume_event_seq starts the sequence past every number given, also when every number is
    below 1 (events before 1970): a DuckDB sequence cannot start below its MINVALUE, 1."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SEQUENCE event_seq")
    con.execute("CREATE TABLE events(event_id VARCHAR, occurred_at TIMESTAMPTZ,"
                " event_seq BIGINT NOT NULL DEFAULT 0)")
    con.executemany("INSERT INTO events(event_id, occurred_at) VALUES (?, ?::TIMESTAMPTZ)",
                    [("jira:issue:1", "1969-07-20 20:17:00+00"),
                     ("jira:issue:2", "1969-07-20 20:17:00+00")])
    numbering.number_events(con)
    con.execute("UPDATE events SET event_seq = o.n FROM _event_no o WHERE events.rowid = o.rid")
    assert con.execute("SELECT max(event_seq) < 0 FROM events").fetchone()[0]
    numbering.resume_event_seq(con)
    con.execute("INSERT INTO events(event_id, occurred_at) VALUES ('test:added', now())")
    n, seqs, added, before = con.execute(
        "SELECT count(*), count(DISTINCT event_seq),"
        " max(event_seq) FILTER (WHERE event_id = 'test:added'),"
        " max(event_seq) FILTER (WHERE event_id <> 'test:added') FROM events").fetchone()
    assert n == seqs == 3 and added > before


def _apply(con: duckdb.DuckDBPyConnection) -> None:
    """number_events, then its numbers written (as classification writes them)."""
    numbering.number_events(con)
    con.execute("UPDATE events SET event_seq = o.n FROM _event_no o WHERE events.rowid = o.rid")
    con.execute("DROP TABLE _event_no")


@pytest.mark.parametrize("seed", range(6))
def test_numbering_only_the_seconds_that_moved_gives_the_numbers_of_a_numbering_of_all(seed):
    """A build that starts from the last build's events numbers only the seconds whose numbers
    moved (event_seq._moved). Random histories, each step one of: events added (numbered 0, as
    normalization writes them), events gone, an event normalized again (gone, and added back
    with 0), a row numbered by hand from the sequence, an event outside the seconds a number
    can hold (numbered 1..n, then back): after each, the numbers equal those a numbering of
    every event from 0 gives, and so does the number of rows it numbered fall when nothing
    moved."""
    import random

    rnd = random.Random(seed)
    seconds = [f"2026-03-0{1 + d} 09:00:0{s}" for d in range(3) for s in range(4)] + \
        ["1970-01-01 00:00:00", "1969-12-31 23:59:59"]
    made = 0

    def new(n: int) -> list[tuple[str, str]]:
        nonlocal made
        rows = []
        for _ in range(n):
            made += 1
            at = rnd.choice(seconds) + rnd.choice(["", ".25", ".5", ".999999"]) + "+00"
            rows.append((f"e:{rnd.randrange(10**6):06d}:{made}", at))
        return rows

    con = _events(new(30))
    _apply(con)
    for _ in range(12):
        step = rnd.choice(["add", "gone", "again", "hand", "far", "none"])
        if step == "add":
            con.executemany("INSERT INTO events(event_id, occurred_at) VALUES (?, ?::TIMESTAMPTZ)",
                            new(rnd.randint(1, 4)))
        elif step == "gone":
            con.execute("DELETE FROM events WHERE rowid IN (SELECT rowid FROM events"
                        " USING SAMPLE 2 ROWS)")
        elif step == "again":
            [(event_id, at)] = con.execute("SELECT event_id, occurred_at FROM events"
                                           " USING SAMPLE 1 ROWS").fetchall()
            con.execute("DELETE FROM events WHERE event_id = ?", [event_id])
            con.execute("INSERT INTO events(event_id, occurred_at) VALUES (?, ?)", [event_id, at])
        elif step == "hand":
            con.execute("UPDATE events SET event_seq = 9 * 10^15 WHERE rowid IN"
                        " (SELECT rowid FROM events USING SAMPLE 1 ROWS)")
        elif step == "far":  # a second no number holds: every event 1..n, then it goes
            con.execute("INSERT INTO events(event_id, occurred_at)"
                        " VALUES ('e:far', '2300-01-01 00:00:00+00')")
            _apply(con)
            assert con.execute("SELECT max(event_seq) FROM events").fetchone()[0] == \
                con.execute("SELECT count(*) FROM events").fetchone()[0]
            con.execute("DELETE FROM events WHERE event_id = 'e:far'")
        _apply(con)
        rows = con.execute("SELECT event_id, occurred_at FROM events").fetchall()
        fresh = _events([(e, str(at)) for e, at in rows])
        _apply(fresh)
        want = dict(fresh.execute("SELECT event_id, event_seq FROM events").fetchall())
        got = dict(con.execute("SELECT event_id, event_seq FROM events").fetchall())
        assert got == want, step
    # nothing moved: nothing numbered, every number kept
    numbering.number_events(con)
    assert con.execute("SELECT count(*) FROM _event_no").fetchone()[0] == \
        con.execute("SELECT count(*) FROM events WHERE occurred_at < '1970-01-01 00:00:01+00'"
                    " AND occurred_at >= '1970-01-01 00:00:00+00'").fetchone()[0]
