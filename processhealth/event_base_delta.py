"""`metric_event_base` patched in place by an incremental build (docs/build.md, "The design
chosen", step 3): the last build's rows kept, and only the events whose row can have changed
computed again, by the view itself.

An incremental build's file is a copy of the last build state, taken after the analysis
(build_state.save), so it holds the last build's `metric_event_base`. `keep` (state_start's
`clean`) keeps that table under another name (KEPT) where the other stored views are dropped,
and copies `people` and `person_months` before they are emptied. Then the build records what
changed, as it happens:
- the *gone* versions: the rows of `events` and `work_items` deleted from the copy to be
  normalized again (`gone`, called just before each DELETE: they carry the last build's
  values: person, item, time, subkind, number, the Jira keys named);
- the *fresh* rows: what normalization writes, every row whose rowid is above the table's
  highest before normalization (`fresh_from`; DuckDB numbers appended rows after every row it
  held, deleted ones included);
- the *analysed* changes: the kept events whose person (identities), subkind or number
  (classification) or weight (the Jira echo) the analysis changed, with their values before
  (`analysed`; those steps write only the rows whose values change).
`patch` (analysis/materialize.py) then finds the events whose row may differ (below,
`_DIRTY`), deletes their rows and those of the gone and renumbered events from the kept table,
and inserts their rows computed by the view through TEMP VIEWs named `events` and
`effort_credit` that hold only what those rows read (a view of the file binds to a TEMP view of
the same name before the table: checked on DuckDB 2.0.1). The kept table becomes
`metric_event_base` again.

An event's row can differ when (docs/metrics.md section 5 for the facts):
(a) it is fresh or analysed (its own columns);
(b) its person had an event fresh, gone, analysed or moved to or from them on the same UTC day
    or within REACH before it: its minutes (an act's credit depends on its own row, the gap to
    the person's act before it while within the act's cap or the session gap, and its day's
    total) and, for a Slack message, its presence in the channel (a stretch ends 30 days after
    a message; a message that bridges or opens a gap moves a stretch's start, which counts for
    events within 24 hours of it), so REACH is 32 days after a Slack message and the longest
    act's cap or the session gap after any other event;
(c) its person's `people` row (team, bot) or that month's `person_months` team changed;
(d) its item's paperwork or coupling inputs changed (windows over the whole item): the items
    of changed events, old and new, the Jira items their keys name, the Jira items linked to a
    GitHub item fresh or gone, and the work items fresh or gone;
(e) it falls within 25 hours after a reminder that is fresh, gone or analysed (whom a reminder
    reached depends on every member's presence);
(f) it falls within 25 hours after a reminder that mentions a Slack account now of another
    person (or new).
"""

from __future__ import annotations

import duckdb

from processhealth import ui

KEPT = "_ph_event_base_kept"  # the last build's metric_event_base, in the build's file
GONE_EVENTS = "_ph_gone_events"
GONE_ITEMS = "_ph_gone_items"
ANALYSED = "_ph_analysed"
FRESH = "_ph_fresh_from"
_PEOPLE, _MONTHS = "_ph_prev_people", "_ph_prev_person_months"
_IDENTITIES = "_ph_prev_slack_accounts"
_DIRTY = "_ph_dirty_events"
_EVENT_COLUMNS = ("event_seq", "person_id", "occurred_at", "item_id", "linked_keys", "subkind",
                  "source", "kind", "channel_id")


def keep(con: duckdb.DuckDBPyConnection) -> None:
    """At the start of an incremental build whose copy holds the last build's
    `metric_event_base` as a table: that table kept (KEPT), `people` and `person_months` copied
    before they are emptied, and the tables of what changed made empty."""
    con.execute(f"ALTER TABLE metric_event_base RENAME TO {KEPT}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_PEOPLE} AS"
                " SELECT person_id, team, is_bot FROM people")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_MONTHS} AS"
                " SELECT person_id, month, team FROM person_months")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_IDENTITIES} AS"
                " SELECT source_user_id, person_id FROM identities WHERE source = 'slack'")
    columns = ", ".join(_EVENT_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {GONE_EVENTS} AS SELECT {columns} FROM events"
                " LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {GONE_ITEMS} AS SELECT item_id, source,"
                " linked_keys FROM work_items LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ANALYSED}(rid BIGINT, person_id VARCHAR,"
                " subkind VARCHAR, event_seq BIGINT)")


def active(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this build patches the kept `metric_event_base` (`keep` ran)."""
    [(found,)] = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary"
                             " AND table_name = ?", [GONE_EVENTS]).fetchall()
    return found > 0


def gone(con: duckdb.DuckDBPyConnection, table: str, where: str,
         params: list | None = None) -> None:
    """Before `DELETE FROM table WHERE where`: the rows it deletes, as they were."""
    if table not in ("events", "work_items") or not active(con):
        return
    if table == "events":
        columns = ", ".join(_EVENT_COLUMNS)
        con.execute(f"INSERT INTO {GONE_EVENTS} SELECT {columns} FROM events WHERE {where}",
                    params or [])
    else:
        con.execute(f"INSERT INTO {GONE_ITEMS} SELECT item_id, source, linked_keys"
                    f" FROM work_items WHERE {where}", params or [])


def fresh_from(con: duckdb.DuckDBPyConnection) -> None:
    """Before normalization: the highest rowid of `events` and `work_items` (rows above it are
    written by this build)."""
    if active(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {FRESH} AS SELECT"
                    " (SELECT coalesce(max(rowid), -1) FROM events) AS events,"
                    " (SELECT coalesce(max(rowid), -1) FROM work_items) AS work_items")


def analysed(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Kept events the analysis is about to change: `query` yields (rid, person_id, subkind,
    event_seq) with their values before. Fresh events need not be listed."""
    if active(con):
        con.execute(f"INSERT INTO {ANALYSED} SELECT * FROM ({query}) WHERE rid <= "
                    f"(SELECT events FROM {FRESH})")


def weights_before(con: duckdb.DuckDBPyConnection) -> None:
    """Before the Jira echo: the kept Jira events of weight 0 (echo entries)."""
    if active(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ph_weight0 AS SELECT rowid AS rid"
                    f" FROM events WHERE source = 'jira' AND weight = 0"
                    f" AND rowid <= (SELECT events FROM {FRESH})")


def weights_after(con: duckdb.DuckDBPyConnection) -> None:
    """After the Jira echo: the kept events whose weight it changed, as analysed."""
    if not active(con):
        return
    analysed(con, """
        SELECT rowid AS rid, person_id, subkind, event_seq FROM events
        WHERE rowid IN ((SELECT rid FROM _ph_weight0) EXCEPT
                        (SELECT rowid FROM events WHERE source = 'jira' AND weight = 0))
           OR (source = 'jira' AND weight = 0 AND rowid NOT IN (SELECT rid FROM _ph_weight0))""")
    con.execute("DROP TABLE _ph_weight0")


def reach_minutes(con: duckdb.DuckDBPyConnection, minutes: float) -> None:
    """From effort: how far after an act its change can move another act's credit (the longest
    act's cap or the session gap)."""
    if active(con):
        con.execute("CREATE OR REPLACE TEMP TABLE _ph_reach AS SELECT ?::DOUBLE AS minutes",
                    [minutes])


def patch(con: duckdb.DuckDBPyConnection) -> None:
    """The kept table made the new `metric_event_base`'s rows, under KEPT (materialize renames
    it): the rows of the events that can differ computed by the view, the others kept."""
    with ui.profiled("event base: events that can differ", indent="    "):
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _ph_accounts AS  -- Slack accounts of another person
            SELECT source_user_id FROM (
                (SELECT source_user_id, person_id FROM identities WHERE source = 'slack'
                 EXCEPT SELECT * FROM {_IDENTITIES})
                UNION ALL (SELECT * FROM {_IDENTITIES} EXCEPT SELECT source_user_id, person_id
                           FROM identities WHERE source = 'slack'))""")
        _dirty(con)
    ui.counted(con, "event base: events that can differ", _DIRTY, indent="    ")
    with ui.profiled("event base: their rows deleted", indent="    "):
        con.execute(f"""
            DELETE FROM {KEPT} WHERE event_seq IN (
                SELECT event_seq FROM {_DIRTY} UNION ALL SELECT event_seq FROM {GONE_EVENTS}
                UNION ALL SELECT event_seq FROM {ANALYSED})""")
    [(db,)] = con.execute("SELECT current_database()").fetchall()
    try:
        with ui.profiled("event base: what they read", indent="    "):
            _scope(con, db)
        ui.counted(con, "event base: events they read", "_ph_scope", indent="    ")
        with ui.profiled("event base: their rows", indent="    "):
            con.execute(f"INSERT INTO {KEPT} SELECT * FROM metric_event_base"
                        f" WHERE event_seq IN (SELECT event_seq FROM {_DIRTY})")
    finally:
        con.execute("DROP VIEW IF EXISTS temp.main.events")
        con.execute("DROP VIEW IF EXISTS temp.main.effort_credit")
        for table in ("_ph_scope", _DIRTY, "_ph_accounts", "_ph_items"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _merged(rows: str) -> str:
    """SQL: the intervals `rows` yields (k, since, upto: UTC timestamps) merged per k, so a
    join with the events compares each with few intervals."""
    return f"""
        SELECT k, min(since) AS since, max(upto) AS upto
        FROM (SELECT *, sum(CASE WHEN reach IS NULL OR since > reach THEN 1 ELSE 0 END)
                        OVER (PARTITION BY k ORDER BY since, upto ROWS UNBOUNDED PRECEDING) AS g
              FROM (SELECT *, max(upto) OVER (PARTITION BY k ORDER BY since, upto ROWS BETWEEN
                                              UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
                    FROM ({rows})))
        GROUP BY k, g"""


def _dirty(con: duckdb.DuckDBPyConnection) -> None:
    """_DIRTY(event_seq): the events whose row can differ ((a)-(f) of the module docstring)."""
    reach = "to_microseconds(((SELECT minutes FROM _ph_reach) * 60000000)::BIGINT)"
    utc = "timezone('UTC', e.occurred_at)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_changed AS  -- every changed event, old and new
        SELECT e.event_seq, e.person_id, e.occurred_at, e.item_id, e.linked_keys, e.subkind,
               e.source, e.kind, true AS now
        FROM events AS e
        WHERE e.rowid > (SELECT events FROM {FRESH})
           OR e.rowid IN (SELECT rid FROM {ANALYSED})
        UNION ALL
        SELECT event_seq, person_id, occurred_at, item_id, linked_keys, subkind, source, kind,
               false
        FROM {GONE_EVENTS}
        UNION ALL
        SELECT a.event_seq, a.person_id, e.occurred_at, e.item_id, e.linked_keys, a.subkind,
               e.source, e.kind, false
        FROM {ANALYSED} AS a JOIN events AS e ON e.rowid = a.rid
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_items AS  -- (d): items whose facts can differ
        WITH code AS (  -- GitHub items fresh or gone, or with a changed event
            SELECT item_id, linked_keys FROM work_items
            WHERE source = 'github' AND (rowid > (SELECT work_items FROM {FRESH})
                                         OR item_id IN (SELECT item_id FROM _ph_changed))
            UNION ALL SELECT item_id, linked_keys FROM {GONE_ITEMS} WHERE source = 'github'
        ),
        keys AS (  -- the Jira keys they and the changed events name
            SELECT unnest(linked_keys) AS key FROM _ph_changed WHERE linked_keys IS NOT NULL
            UNION ALL SELECT unnest(linked_keys) FROM code WHERE linked_keys IS NOT NULL
        )
        SELECT item_id FROM _ph_changed WHERE item_id IS NOT NULL
        UNION SELECT item_id FROM code
        UNION SELECT item_id FROM work_items WHERE rowid > (SELECT work_items FROM {FRESH})
        UNION SELECT item_id FROM {GONE_ITEMS}
        UNION SELECT item_id FROM work_items
              WHERE source = 'jira' AND key IN (SELECT key FROM keys)
    """)
    windows = _merged(f"""
        SELECT person_id AS k, date_trunc('day', timezone('UTC', occurred_at)) AS since,
               timezone('UTC', occurred_at + CASE
                   WHEN source = 'slack' AND kind IN ('slack_message', 'slack_reply')
                   THEN INTERVAL 32 DAY ELSE {reach} + INTERVAL 1 DAY END) AS upto
        FROM _ph_changed WHERE person_id IS NOT NULL""")
    reminders = _merged("""
        SELECT 0 AS k, timezone('UTC', occurred_at) AS since,
               timezone('UTC', occurred_at + INTERVAL 25 HOUR) AS upto
        FROM _ph_changed WHERE subkind = 'reminder'
        UNION ALL  -- (f) reminders naming a Slack account whose person changed
        SELECT 0, timezone('UTC', r.occurred_at), timezone('UTC', r.occurred_at
                                                           + INTERVAL 25 HOUR)
        FROM events AS r
        WHERE r.subkind = 'reminder' AND json_type(r.detail -> 'mentions') = 'ARRAY'
          AND list_has_any(from_json(r.detail -> 'mentions', '["VARCHAR"]'),
                           (SELECT list('slack:' || source_user_id) FROM _ph_accounts))""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {_DIRTY} AS
        SELECT event_seq FROM _ph_changed WHERE now
        UNION
        SELECT e.event_seq FROM events AS e JOIN ({windows}) AS w ON w.k = e.person_id
        WHERE {utc} >= w.since AND {utc} <= w.upto
        UNION
        SELECT event_seq FROM events WHERE item_id IN (SELECT item_id FROM _ph_items)
        UNION
        SELECT e.event_seq FROM events AS e  -- (c)
        WHERE e.person_id IN (
            SELECT person_id FROM (SELECT person_id, team, is_bot FROM people
                                   EXCEPT SELECT * FROM {_PEOPLE})
            UNION SELECT person_id FROM (SELECT * FROM {_PEOPLE}
                                         EXCEPT SELECT person_id, team, is_bot FROM people))
        UNION
        SELECT e.event_seq FROM events AS e
        JOIN (SELECT person_id, month FROM (SELECT person_id, month, team FROM person_months
                                            EXCEPT SELECT * FROM {_MONTHS})
              UNION SELECT person_id, month FROM (SELECT * FROM {_MONTHS}
                                                  EXCEPT SELECT person_id, month, team
                                                  FROM person_months)) AS m
          ON m.person_id = e.person_id
         AND m.month = date_trunc('month', {utc})::DATE
        UNION
        SELECT e.event_seq FROM events AS e JOIN ({reminders}) AS r  -- (e), (f)
          ON {utc} > r.since AND {utc} <= r.upto
    """)
    con.execute("DROP TABLE _ph_changed")


def _scope(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """TEMP VIEWs `events` and `effort_credit` holding what the rows of _DIRTY read: those
    events, every event of their items, the GitHub events of the code linked to those items
    and the events naming their Jira keys (their activity), and every reminder."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_scope AS
        WITH items AS (
            SELECT DISTINCT e.item_id FROM {db}.main.events AS e
            WHERE e.event_seq IN (SELECT event_seq FROM {_DIRTY}) AND e.item_id IS NOT NULL
        ),
        jira_keys AS (
            SELECT key FROM {db}.main.work_items
            WHERE source = 'jira' AND key IS NOT NULL AND item_id IN (SELECT item_id FROM items)
        ),
        code AS (  -- GitHub items linked to those Jira items
            SELECT item_id FROM (SELECT item_id, unnest(linked_keys) AS key
                                 FROM {db}.main.work_items
                                 WHERE source = 'github' AND len(linked_keys) > 0)
            WHERE key IN (SELECT key FROM jira_keys)
        )
        SELECT rowid AS rid FROM {db}.main.events
        WHERE event_seq IN (SELECT event_seq FROM {_DIRTY})
           OR item_id IN (SELECT item_id FROM items)
           OR item_id IN (SELECT item_id FROM code)
           OR subkind = 'reminder'
        UNION  -- the events naming their keys
        SELECT rid FROM (SELECT rowid AS rid, unnest(linked_keys) AS key
                         FROM {db}.main.events WHERE linked_keys IS NOT NULL)
        WHERE key IN (SELECT key FROM jira_keys)
    """)
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM {db}.main.events"
                f" WHERE rowid IN (SELECT rid FROM _ph_scope)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW effort_credit AS SELECT * FROM"
                f" {db}.main.effort_credit WHERE event_seq IN (SELECT event_seq FROM {_DIRTY})")


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """What `keep` and the build left of this, gone (the kept table too, if it was not used)."""
    con.execute(f"DROP TABLE IF EXISTS main.{KEPT}")
    for table in (GONE_EVENTS, GONE_ITEMS, ANALYSED, FRESH, _PEOPLE, _MONTHS, _IDENTITIES,
                  "_ph_reach", "_ph_weight0"):
        con.execute(f"DROP TABLE IF EXISTS temp.main.{table}")
