"""`metric_event_base` patched in place by an incremental build (docs/build.md, "The design
chosen", step 3): the last build's rows kept, and only the rows that can differ computed again,
by the view itself over the few events they read.

An incremental build's file is a copy of the last build state, taken after the analysis
(build_state.save), so it holds the last build's `metric_event_base`. `keep` (state_start's
`clean`) keeps that table under another name (KEPT) where the other stored views are dropped,
and copies `people`, `person_months` and the Slack accounts' persons before they are made
again. Then the build records what changed, as it happens:
- the *gone* versions: the rows of `events` and `work_items` deleted from the copy to be
  normalized again (`gone`, called just before each DELETE: they carry the last build's
  person, item, time, subkind, number and the Jira keys named);
- the *fresh* rows: every row whose rowid is above the table's highest before normalization
  (`fresh_from`; DuckDB numbers appended rows after every row it held, deleted ones included);
- the *analysed* changes: the kept events whose person (identities), category, subkind or
  number (classification) the analysis changes, with their values before (`analysed`; those
  steps write only the rows whose values change).

`patch` (analysis/materialize.py) then finds the events whose row can differ, column by column
(docs/metrics.md section 5 for the facts), and writes only theirs:
- own columns (team, bot, category, ...): fresh and analysed events, and the events of a person
  whose `people` row (team, bot) or a month's `person_months` team changed;
- minutes: the events whose credit in `effort_credit` (made again whole by the effort step)
  is not the kept one;
- paperwork and coupled: the process events and Jira status changes and field edits of an item whose activity or deliveries
  changed (the items of changed events, old and new; the Jira items their keys name; the Jira
  items linked to a GitHub item fresh or gone);
- prompted: the process events of a person from a changed Slack message of theirs to 31
  days after it (a live stretch ends 30 days after a message, and a reminder counts for 24
  hours), and of anyone within 25 hours after a changed reminder or one that mentions a Slack
  account now of another person.
An event in any of those sets gets its whole row computed again. A row's facts depend on its
own event, its item's activity and deliveries, its person's live stretches (the stored
`metric_channel_presence`), every reminder and its own credit, so the view computes those rows
exactly from TEMP VIEWs named `events` and `effort_credit` that hold only those events, their
items' activity (Jira comments, the GitHub events of the code linked to them, the events naming
their keys) and every reminder (a view of the file binds to a TEMP view of the same name before
the table: checked on DuckDB 2.0.1). The kept rows of those events, and of events gone or
renumbered, are deleted first.

The twenty-fifth session's patch computed every event of a changed person's next days and every
event of the items concerned, through a scope of 80% of the events at 1M, and was slower than
the whole table; this one narrows each set to the column that can change.
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
_TEMP = (GONE_EVENTS, GONE_ITEMS, ANALYSED, FRESH, _PEOPLE, _MONTHS, _IDENTITIES, _DIRTY,
         "_ph_changed", "_ph_items", "_ph_scope", "_ph_accounts")


def keep(con: duckdb.DuckDBPyConnection) -> None:
    """At the start of an incremental build whose copy holds the last build's
    `metric_event_base` as a table: that table kept (KEPT), `people`, `person_months` and the
    Slack accounts' persons copied before they are made again, the change tables made empty."""
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


def patch(con: duckdb.DuckDBPyConnection) -> None:
    """The kept table made the new `metric_event_base`'s rows, under KEPT (materialize renames
    it): the rows that can differ computed by the view, the others kept."""
    with ui.profiled("event base: events that can differ", indent="    "):
        _changed(con)
        _dirty(con)
    ui.counted(con, "event base: events that can differ", _DIRTY, indent="    ")
    with ui.profiled("event base: their rows deleted", indent="    "):
        con.execute(f"""
            DELETE FROM {KEPT} WHERE event_seq IN (
                SELECT event_seq FROM {_DIRTY} UNION ALL SELECT event_seq FROM {GONE_EVENTS}
                UNION ALL SELECT event_seq FROM {ANALYSED})""")
        # any other row whose event is gone (a DELETE this module was not told of)
        con.execute(f"DELETE FROM {KEPT} WHERE event_seq NOT IN (SELECT event_seq FROM events)")
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


def _merged(rows: str) -> str:
    """SQL: the intervals `rows` yields (k, since, upto) merged per k, so a join with the
    events compares each with few intervals."""
    return f"""
        SELECT k, min(since) AS since, max(upto) AS upto
        FROM (SELECT *, sum(CASE WHEN reach IS NULL OR since > reach THEN 1 ELSE 0 END)
                        OVER (PARTITION BY k ORDER BY since, upto ROWS UNBOUNDED PRECEDING) AS g
              FROM (SELECT *, max(upto) OVER (PARTITION BY k ORDER BY since, upto ROWS BETWEEN
                                              UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
                    FROM ({rows})))
        GROUP BY k, g"""


def _changed(con: duckdb.DuckDBPyConnection) -> None:
    """_ph_changed: every changed event, as it is now (`now`) and as it was."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_changed AS
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


def _dirty(con: duckdb.DuckDBPyConnection) -> None:
    """_DIRTY(event_seq): the events whose row can differ (the module docstring's sets)."""
    utc = "timezone('UTC', e.occurred_at)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_accounts AS  -- Slack accounts of another person
        SELECT source_user_id FROM (
            (SELECT source_user_id, person_id FROM identities WHERE source = 'slack'
             EXCEPT SELECT * FROM {_IDENTITIES})
            UNION ALL (SELECT * FROM {_IDENTITIES} EXCEPT SELECT source_user_id, person_id
                       FROM identities WHERE source = 'slack'))""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_items AS  -- items whose activity or deliveries changed
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
    # prompted: a person's live stretches move from a changed message of theirs to 30 days
    # after it, and a reminder counts for 24 hours (a margin of an hour on each)
    presence = _merged("""
        SELECT person_id AS k, occurred_at - INTERVAL 1 HOUR AS since,
               occurred_at + INTERVAL 745 HOUR AS upto
        FROM _ph_changed
        WHERE person_id IS NOT NULL AND source = 'slack'""")
    reminders = _merged("""
        SELECT 0 AS k, occurred_at AS since, occurred_at + INTERVAL 25 HOUR AS upto
        FROM _ph_changed WHERE subkind = 'reminder'
        UNION ALL  -- reminders naming a Slack account whose person changed
        SELECT 0, r.occurred_at, r.occurred_at + INTERVAL 25 HOUR
        FROM events AS r
        WHERE r.subkind = 'reminder' AND json_type(r.detail -> 'mentions') = 'ARRAY'
          AND list_has_any(from_json(r.detail -> 'mentions', '["VARCHAR"]'),
                           (SELECT list('slack:' || source_user_id) FROM _ph_accounts))""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {_DIRTY} AS
        WITH process AS (  -- the events whose facts can be other than NULL
            SELECT event_seq, person_id, occurred_at, item_id FROM events
            WHERE category = 'process'
               OR (source = 'jira' AND subkind IN ('status_change', 'metadata_edit'))
        )
        SELECT event_seq FROM _ph_changed WHERE now
        UNION  -- minutes
        SELECT event_seq FROM (
            (SELECT event_seq, minutes FROM effort_credit WHERE minutes <> 0
             EXCEPT SELECT event_seq, minutes FROM {KEPT} WHERE minutes <> 0)
            UNION ALL
            (SELECT event_seq, minutes FROM {KEPT} WHERE minutes <> 0
             EXCEPT SELECT event_seq, minutes FROM effort_credit WHERE minutes <> 0))
        UNION  -- paperwork and coupled
        SELECT event_seq FROM process WHERE item_id IN (SELECT item_id FROM _ph_items)
        UNION  -- prompted: the person's live stretches
        SELECT e.event_seq FROM process AS e JOIN ({presence}) AS w ON w.k = e.person_id
        WHERE e.occurred_at >= w.since AND e.occurred_at <= w.upto
        UNION  -- prompted: reminders
        SELECT e.event_seq FROM process AS e JOIN ({reminders}) AS r
          ON e.occurred_at > r.since AND e.occurred_at <= r.upto
        UNION  -- own columns: the person's team or bot flag
        SELECT e.event_seq FROM events AS e
        WHERE e.person_id IN (
            SELECT person_id FROM (SELECT person_id, team, is_bot FROM people
                                   EXCEPT SELECT * FROM {_PEOPLE})
            UNION SELECT person_id FROM (SELECT * FROM {_PEOPLE}
                                         EXCEPT SELECT person_id, team, is_bot FROM people))
        UNION  -- own columns: the person's team that month
        SELECT e.event_seq FROM events AS e
        JOIN (SELECT person_id, month FROM (SELECT person_id, month, team FROM person_months
                                            EXCEPT SELECT * FROM {_MONTHS})
              UNION SELECT person_id, month FROM (SELECT * FROM {_MONTHS}
                                                  EXCEPT SELECT person_id, month, team
                                                  FROM person_months)) AS m
          ON m.person_id = e.person_id
         AND m.month = date_trunc('month', {utc})::DATE
    """)


def _scope(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """TEMP VIEWs `events` and `effort_credit` holding what the rows of _DIRTY read: those
    events, their items' activity (Jira comments, the GitHub events of the code linked to them,
    the events naming their keys) and every reminder; their credits."""
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
           OR (kind = 'jira_comment' AND item_id IN (SELECT item_id FROM items))
           OR (source = 'github' AND item_id IN (SELECT item_id FROM code))
           OR subkind = 'reminder'
        UNION  -- the events naming their keys
        SELECT rid FROM (SELECT rowid AS rid, unnest(linked_keys) AS key
                         FROM {db}.main.events
                         WHERE source IN ('github', 'slack') AND linked_keys IS NOT NULL)
        WHERE key IN (SELECT key FROM jira_keys)
    """)
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM {db}.main.events"
                f" WHERE rowid IN (SELECT rid FROM _ph_scope)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW effort_credit AS SELECT * FROM"
                f" {db}.main.effort_credit WHERE event_seq IN (SELECT event_seq FROM {_DIRTY})")


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """What `keep` and the build left of this, gone (the kept table too, if it was not used)."""
    con.execute(f"DROP TABLE IF EXISTS main.{KEPT}")
    for table in _TEMP:
        con.execute(f"DROP TABLE IF EXISTS temp.main.{table}")
