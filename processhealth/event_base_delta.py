"""`metric_event_base` patched in place by an incremental build (docs/build.md, "The design
chosen", step 3): the last build's rows kept, and only the rows that can differ computed again,
by the view itself over the few events they read.

An incremental build's file is a copy of the last build state, taken after the analysis
(build_state.save), so it holds the last build's `metric_event_base`. `keep` (state_start's
`clean`) keeps that table under another name (KEPT) where the other stored views are dropped,
and copies `people`, `person_months` and the Slack accounts' persons before they are made
again. Then the build records what changed, as it happens:
- the *gone* versions: the rows of `events` and `work_items` deleted from the copy to be
  normalized again (`gone`, called just before each DELETE, with the last build's values);
- the *fresh* rows: the events numbered 0 before classification numbers them (`fresh_events`)
  and the work items that were not in the copy or were deleted from it;
- the *analysed* changes: the kept events whose person (identities), category, subkind or
  number (classification) the analysis changes, with their values before (`analysed`; those
  steps write only the rows whose values change).
A row gone and normalized again with the same values of what the view reads (_EVENT_COLUMNS,
_ITEM_COLUMNS) is no change.

`patch` (analysis/materialize.py) then finds the events whose row can differ, column by column
(docs/metrics.md section 5 for the facts):
- own columns (team, bot, category, ...): fresh and analysed events, and the events of a person
  whose `people` row (team, bot) or a month's `person_months` team changed;
- minutes: the events whose credit in `effort_credit` (made again whole by the effort step)
  is not the kept one (to 1e-9: its sums add in any order);
- paperwork and coupled: the process events, Jira status changes and field edits of an item
  whose activity or deliveries changed (the items of changed events, old and new; changed
  work items; the Jira items that the keys of those and of the changed GitHub items name);
- prompted: a process event within 25 hours after a reminder that may have reached its person
  otherwise than before: a reminder of a channel in which the person's live stretches moved
  (from 25 hours before a changed message of theirs there to 31 days after it); a changed
  reminder, for the channel's members live near it, its sender and whom it mentions, before
  and after; a reminder naming a Slack account now of another person, for both persons.
Every other row's inputs are as they were. An event in any of those sets gets its whole row
computed again; a row's facts read only its own event, its item's activity and deliveries, its
person's live stretches (the stored `metric_channel_presence`), every reminder and its own
credit, so the view computes those rows exactly from a TEMP table named `events` holding only
those events, their items' activity (Jira comments, the GitHub events of the code linked to
them, the events naming their keys) and every reminder, and a TEMP view `effort_credit` of
their credits (a view of the file binds to a TEMP table or view of the same name before the
table: DuckDB 2.0.1). Their kept rows, and those of events gone or renumbered, are deleted
first; if the rows then do not match the events one for one, the table is computed whole.

Measured at 10M events: benchmarks/RESULTS.md section 8; an earlier design: docs/build.md.
"""

from __future__ import annotations

import duckdb

from processhealth import ui

KEPT = "_ph_event_base_kept"  # the last build's metric_event_base, in the build's file
GONE_EVENTS = "_ph_gone_events"
GONE_ITEMS = "_ph_gone_items"
ANALYSED = "_ph_analysed"
FRESH = "_ph_fresh_ids"  # event ids of the events normalized in this build
_KEPT_ITEMS = "_ph_kept_items"
WHOLE: list[int] = []  # per patch that fell back to the whole table: rows kept less events
_PEOPLE, _MONTHS = "_ph_prev_people", "_ph_prev_person_months"
_IDENTITIES = "_ph_prev_slack_accounts"
_DIRTY = "_ph_dirty_events"
# What the view reads of an event (and of a work item), so a row deleted and normalized again
# the same is no change: a Slack message touched by a new reply, a Jira issue by a new comment,
# a GitHub item by a new review normalize all their rows again, most of them as they were.
_EVENT_COLUMNS = ("event_id", "event_seq", "person_id", "actor_account", "occurred_at",
                  "item_id", "linked_keys", "subkind", "category", "source", "kind",
                  "channel_id", "(detail -> 'mentions')::VARCHAR AS mentions")
_ITEM_COLUMNS = ("item_id", "source", "key", "linked_keys", "merged_at", "resolved_at",
                 "status_category", "resolution")
# What metric_event_base and the views it reads take of `events` (analysis/sql/blocks/base.sql:
# the reminders' mentions from `detail`); tests/test_incremental.py compares with a full build.
_VIEW_READS = ("event_id, source, kind, subkind, category, item_id, channel_id, person_id,"
               " actor_account, occurred_at, event_seq, linked_keys,"
               " CASE WHEN subkind = 'reminder' THEN detail END AS detail")
_TEMP = (GONE_EVENTS, GONE_ITEMS, ANALYSED, FRESH, _KEPT_ITEMS, _PEOPLE, _MONTHS, _IDENTITIES,
         _DIRTY, "_ph_changed", "_ph_items_changed", "_ph_items", "_ph_scope", "_ph_accounts",
         "_ph_process", "_ph_part", "_ph_reminders")


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
    con.execute(f"CREATE OR REPLACE TEMP TABLE {GONE_ITEMS} AS SELECT"
                f" {', '.join(_ITEM_COLUMNS)} FROM work_items LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_KEPT_ITEMS} AS SELECT item_id FROM work_items")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {FRESH}(event_id VARCHAR)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ANALYSED}(event_id VARCHAR, person_id VARCHAR,"
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
        con.execute(f"INSERT INTO {GONE_ITEMS} SELECT {', '.join(_ITEM_COLUMNS)}"
                    f" FROM work_items WHERE {where}", params or [])


def fresh_events(con: duckdb.DuckDBPyConnection) -> None:
    """Before classification numbers the events: the events normalized in this build, those
    numbered 0 (analysis/event_seq.py; kept events keep the last build's numbers). Not by
    rowid: a checkpoint that compacts the row groups of deleted rows gives rows other rowids."""
    if active(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {FRESH} AS"
                    " SELECT event_id FROM events WHERE event_seq = 0")


def analysed(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Kept events the analysis is about to change: `query` yields (event_id, person_id,
    subkind, event_seq) with their values before. Fresh events (numbered 0 until
    classification) are not listed."""
    if active(con):
        con.execute(f"INSERT INTO {ANALYSED} SELECT * FROM ({query}) WHERE event_seq <> 0")


def patch(con: duckdb.DuckDBPyConnection) -> None:
    """The kept table made the new `metric_event_base`'s rows, under KEPT (materialize renames
    it): the rows that can differ computed by the view, the others kept."""
    with ui.profiled("event base: events that can differ", indent="    "):
        with ui.profiled("event base: changed events and items", indent="      "):
            _changed(con)
        ui.counted(con, "event base: changed events, now and before", "_ph_changed",
                   indent="      ")
        _dirty(con)
    ui.counted(con, "event base: events that can differ", _DIRTY, indent="    ")
    with ui.profiled("event base: their rows deleted", indent="    "):
        con.execute(f"""
            DELETE FROM {KEPT} WHERE event_seq IN (
                SELECT event_seq FROM {_DIRTY}
                UNION ALL SELECT event_seq FROM _ph_changed WHERE NOT now)""")
    [(db,)] = con.execute("SELECT current_database()").fetchall()
    try:
        with ui.profiled("event base: what they read", indent="    "):
            _scope(con, db)
        ui.counted(con, "event base: events they read", "_ph_scope", indent="    ")
        with ui.profiled("event base: their rows", indent="    "):
            con.execute(f"INSERT INTO {KEPT} SELECT * FROM metric_event_base"
                        f" WHERE event_seq IN (SELECT event_seq FROM {_DIRTY})")
    finally:
        con.execute("DROP TABLE IF EXISTS temp.main.events")
        con.execute("DROP VIEW IF EXISTS temp.main.effort_credit")
    if _count(con, KEPT) != _count(con, "events"):
        # a change this module was not told of (a DELETE not through `gone`, say): the whole
        # table computed again rather than a wrong one kept, and said (tests fail on it)
        ui.say("metric_event_base: the patched rows did not match the events one for one;"
               " computed whole")
        WHOLE.append(_count(con, KEPT) - _count(con, "events"))
        con.execute(f"DELETE FROM {KEPT}")
        con.execute(f"INSERT INTO {KEPT} SELECT * FROM metric_event_base")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM main.{table}").fetchall()[0][0])


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
    """_ph_changed: every changed event, as it is now (`now`) and as it was; _ph_items_changed:
    every changed work item, both versions. A row normalized again as it was (the same values
    of _EVENT_COLUMNS, _ITEM_COLUMNS) is no change."""
    columns = ", ".join(_EVENT_COLUMNS)
    names = [c.split(" AS ")[-1] for c in _EVENT_COLUMNS]
    was = ", ".join(("a." if n in ("person_id", "subkind", "event_seq") else "e.") + n
                    for n in names)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_fresh AS
        SELECT {columns} FROM events WHERE event_id IN (SELECT event_id FROM {FRESH})""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_analysed_now AS
        SELECT {columns} FROM events WHERE event_id IN (SELECT event_id FROM {ANALYSED})""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_changed AS
        WITH twins AS (  -- deleted and normalized again as they were (event ids are unique)
            SELECT event_id FROM {GONE_EVENTS} AS g JOIN _ph_fresh AS f USING (event_id)
            WHERE ({', '.join('g.' + n for n in names)})
                  IS NOT DISTINCT FROM ({', '.join('f.' + n for n in names)})
        )
        SELECT *, true AS now FROM _ph_fresh WHERE event_id NOT IN (SELECT * FROM twins)
        UNION ALL
        SELECT *, false FROM {GONE_EVENTS} WHERE event_id NOT IN (SELECT * FROM twins)
        UNION ALL
        SELECT *, true FROM _ph_analysed_now
        UNION ALL  -- as they were: the person, subkind and number the analysis changed
        SELECT {was}, false FROM _ph_analysed_now AS e JOIN {ANALYSED} AS a USING (event_id)
    """)
    con.execute("DROP TABLE _ph_analysed_now")
    con.execute("DROP TABLE _ph_fresh")
    items = ", ".join(_ITEM_COLUMNS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_items_changed AS
        WITH fresh AS (  -- the items normalized in this build (item ids are unique)
            SELECT {items} FROM work_items
            WHERE item_id NOT IN (SELECT item_id FROM {_KEPT_ITEMS})
               OR item_id IN (SELECT item_id FROM {GONE_ITEMS})
        )
        (SELECT * FROM fresh EXCEPT ALL SELECT * FROM {GONE_ITEMS})
        UNION ALL (SELECT * FROM {GONE_ITEMS} EXCEPT ALL SELECT * FROM fresh)""")


def _dirty(con: duckdb.DuckDBPyConnection) -> None:
    """_DIRTY(event_seq): the events whose row can differ (the module docstring's sets)."""
    utc = "timezone('UTC', e.occurred_at)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ph_accounts AS  -- Slack accounts of another person: both
        (SELECT source_user_id, person_id FROM identities WHERE source = 'slack'
         EXCEPT SELECT * FROM {_IDENTITIES})
        UNION ALL (SELECT * FROM {_IDENTITIES} EXCEPT SELECT source_user_id, person_id
                   FROM identities WHERE source = 'slack')""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _ph_items AS  -- items whose activity or deliveries changed
        WITH code AS (  -- GitHub items changed, or with a changed event
            SELECT item_id, linked_keys FROM _ph_items_changed WHERE source = 'github'
            UNION ALL
            SELECT item_id, linked_keys FROM work_items
            WHERE source = 'github' AND item_id IN (SELECT item_id FROM _ph_changed)
        ),
        keys AS (  -- the Jira keys they and the changed events name
            SELECT unnest(linked_keys) AS key FROM _ph_changed WHERE linked_keys IS NOT NULL
            UNION ALL SELECT unnest(linked_keys) FROM code WHERE linked_keys IS NOT NULL
        )
        SELECT item_id FROM _ph_changed WHERE item_id IS NOT NULL
        UNION SELECT item_id FROM _ph_items_changed
        UNION SELECT item_id FROM work_items
              WHERE source = 'jira' AND key IN (SELECT key FROM keys)
    """)
    ui.counted(con, "event base: items whose activity or deliveries changed", "_ph_items",
               indent="      ")
    # prompted: whom a reminder reaches in the 24 hours after it (an hour's margin), by person:
    # (1) a person's live stretches in a channel move from a changed message of theirs there to
    # 30 days after it, which matters for the reminders of that channel then (and those of the
    # day before: a stretch's end counts for 25 hours); (2) a changed reminder, for the members
    # live near it, its sender and whom it mentions, before and after; (3) a reminder naming a
    # Slack account now of another person, for both persons (a person whose live stretches
    # changed near a reminder is in (1), with the reminders before and after)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _ph_reminders AS
        SELECT channel_id, occurred_at, person_id, mentions FROM _ph_changed
        WHERE subkind = 'reminder'""")
    windows = _merged(f"""
        SELECT m.person_id AS k, r.occurred_at AS since, r.occurred_at + INTERVAL 25 HOUR AS upto
        FROM (SELECT DISTINCT person_id, channel_id, occurred_at FROM _ph_changed
              WHERE source = 'slack' AND person_id IS NOT NULL) AS m
        JOIN (SELECT channel_id, occurred_at FROM events WHERE subkind = 'reminder'
              UNION ALL SELECT channel_id, occurred_at FROM _ph_reminders) AS r
          ON r.channel_id = m.channel_id
         AND r.occurred_at BETWEEN m.occurred_at - INTERVAL 25 HOUR
                               AND m.occurred_at + INTERVAL 745 HOUR
        UNION ALL
        SELECT s.person_id, r.occurred_at, r.occurred_at + INTERVAL 25 HOUR
        FROM _ph_reminders AS r JOIN metric_channel_presence AS s
          ON s.channel_id = r.channel_id AND s.live_from < r.occurred_at + INTERVAL 25 HOUR
         AND s.live_until >= r.occurred_at - INTERVAL 25 HOUR
        UNION ALL
        SELECT person_id, occurred_at, occurred_at + INTERVAL 25 HOUR FROM _ph_reminders
        WHERE person_id IS NOT NULL
        UNION ALL
        SELECT i.person_id, r.occurred_at, r.occurred_at + INTERVAL 25 HOUR
        FROM (SELECT occurred_at, unnest(from_json(mentions::JSON, '["VARCHAR"]')) AS uid
              FROM _ph_reminders WHERE json_type(mentions::JSON) = 'ARRAY') AS r
        JOIN (SELECT source_user_id, person_id FROM identities WHERE source = 'slack'
              UNION SELECT * FROM {_IDENTITIES}) AS i  -- its person now and before
          ON i.source_user_id = regexp_replace(r.uid, '^slack:', '')
        UNION ALL
        SELECT a.person_id, r.occurred_at, r.occurred_at + INTERVAL 25 HOUR
        FROM (SELECT occurred_at, unnest(from_json(detail -> 'mentions', '["VARCHAR"]')) AS uid
              FROM events
              WHERE subkind = 'reminder' AND json_type(detail -> 'mentions') = 'ARRAY'
                AND (SELECT count(*) FROM _ph_accounts) > 0) AS r
        JOIN _ph_accounts AS a ON a.source_user_id = regexp_replace(r.uid, '^slack:', '')
        WHERE a.person_id IS NOT NULL""")
    parts = {
        "own columns: fresh or analysed": "SELECT event_seq FROM _ph_changed WHERE now",
        # the credits are made again whole, their sums in any order: equal to 1e-9 is kept
        "minutes": f"""
            SELECT coalesce(c.event_seq, k.event_seq) AS event_seq
            FROM (SELECT event_seq, minutes FROM effort_credit WHERE minutes <> 0) AS c
            FULL JOIN (SELECT event_seq, minutes FROM {KEPT} WHERE minutes <> 0) AS k
                USING (event_seq)
            WHERE c.minutes IS NULL OR k.minutes IS NULL
               OR abs(c.minutes - k.minutes) > 1e-9 * greatest(1, abs(k.minutes))""",
        "paperwork and coupled: items": """
            SELECT event_seq FROM _ph_process
            WHERE item_id IN (SELECT item_id FROM _ph_items)""",
        "prompted": f"""
            SELECT e.event_seq FROM _ph_process AS e JOIN ({windows}) AS w
              ON w.k = e.person_id AND e.occurred_at > w.since AND e.occurred_at <= w.upto""",
        "own columns: people": f"""
            SELECT e.event_seq FROM events AS e
            WHERE e.person_id IN (
                SELECT person_id FROM (SELECT person_id, team, is_bot FROM people
                                       EXCEPT SELECT * FROM {_PEOPLE})
                UNION SELECT person_id FROM (SELECT * FROM {_PEOPLE}
                                             EXCEPT SELECT person_id, team, is_bot
                                             FROM people))""",
        "own columns: person months": f"""
            SELECT e.event_seq FROM events AS e
            JOIN (SELECT person_id, month FROM (SELECT person_id, month, team
                                                FROM person_months EXCEPT SELECT * FROM {_MONTHS})
                  UNION SELECT person_id, month FROM (SELECT * FROM {_MONTHS}
                                                      EXCEPT SELECT person_id, month, team
                                                      FROM person_months)) AS m
              ON m.person_id = e.person_id AND m.month = date_trunc('month', {utc})::DATE""",
    }
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _ph_process AS  -- the events whose facts can be non-NULL
        SELECT event_seq, person_id, occurred_at, item_id FROM events
        WHERE category = 'process'
           OR (source = 'jira' AND subkind IN ('status_change', 'metadata_edit'))""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_DIRTY}(event_seq BIGINT)")
    for name, sql in parts.items():
        with ui.profiled(f"event base: {name}", indent="      "):
            con.execute(f"CREATE OR REPLACE TEMP TABLE _ph_part AS {sql}")
        ui.counted(con, f"event base: {name}", "_ph_part", indent="      ")
        con.execute(f"INSERT INTO {_DIRTY} SELECT event_seq FROM _ph_part")
    # (a number of the kept table's only is an event gone: its row is deleted, none written)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_DIRTY} AS SELECT DISTINCT event_seq"
                f" FROM {_DIRTY}")


def _scope(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """A TEMP table `events` and a TEMP view `effort_credit` of what the rows of _DIRTY read:
    the events, their items' activity (Jira comments, the GitHub events of the code linked to them,
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
    # copied whole: each of the view's reads of `events` then reads these rows alone (a TEMP
    # VIEW filtering the table made every read join all of it with the scope)
    con.execute(f"CREATE OR REPLACE TEMP TABLE events AS SELECT {_VIEW_READS}"
                f" FROM {db}.main.events WHERE rowid IN (SELECT rid FROM _ph_scope)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW effort_credit AS SELECT * FROM"
                f" {db}.main.effort_credit WHERE event_seq IN (SELECT event_seq FROM {_DIRTY})")


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """What `keep` and the build left of this, gone (the kept table too, if it was not used)."""
    con.execute(f"DROP TABLE IF EXISTS main.{KEPT}")
    for table in _TEMP:
        con.execute(f"DROP TABLE IF EXISTS temp.main.{table}")
