"""Slack normalized by message in an incremental build (docs/build.md, "Slack: only the
messages touched").

What a message's normalized rows (its event) are made of: its own payload, the user (`is_bot`)
and the bot (its name) it names, the config (in the build fingerprint) and whether it is
marked deleted. No other message, channel or group. So, when Slack changed since the last
build, the messages normalized again (`_slack_touched`) are:

- the raw rows the last build did not read: a (key, `seq`) pair not in the build state, or no
  `seq`: new or changed payloads, and older versions a raw store restored from a copy brought
  back under numbers the last build saw with other rows (the seq alone would miss those);
- the messages the last build read that the raw store no longer holds, as read (their
  events go, or the message is one of the above);
- the messages marked deleted, or no longer marked, since;
- the messages that name a user or a bot whose raw row is new, changed or gone since, by the
  same (key, `seq`) test.

Every other Slack event stays in the build's file, which starts as a copy of the build
state. Channels, group members and the
accounts of users and bots are derived again from all their raw rows, as a full build does
(hundreds to thousands of rows); the accounts seen in messages are aggregated over
`slack_refs`, one row per message (who it names), a table of the build's file that the build
state, a copy of it, keeps (the next build finds it in its own copy of the state), so no
message is parsed twice. 30_slack.sql itself runs unchanged: it reads `raw_slack_messages`,
which here is a view of the touched messages only (quarantined ones still left out), shown
whole again after it.
"""

from __future__ import annotations

from typing import Any

import duckdb

from processhealth import quarantine
from processhealth.build_inputs import has, raw_rows_of, state_has

REFS = "slack_refs"
REFS_COLUMNS = "natural_key VARCHAR, seq BIGINT, user_id VARCHAR, bot_id VARCHAR, name VARCHAR"
TOUCHED = "_slack_touched"
# What the build state keeps for the next build (besides the normalized tables); IN_REFS are
# tables of the refs file (analytics_db.attach_refs), which the build writes in place and the
# state keeps beside its own file, and which the next build finds in its copy of it: the rows
# of the messages touched are deleted there and written again. Writing them into the state
# took about 1 s at 10M events, and so did copying them out of it into the next build.
STATE_TABLES = ("slack_refs", "slack_account_keys", "slack_deleted")
IN_REFS = ("slack_refs",)
_MESSAGES = "raw_slack_messages"
_QUARANTINED = ("SELECT item FROM source_coverage WHERE status = 'quarantined'"
                " AND source = 'slack' AND entity = 'messages'")
_DELETED_NOW = ("SELECT natural_key FROM sync_deleted WHERE source = 'slack'"
                " AND entity = 'messages'")
# table -> the SQL predicate of the Slack rows a by-message build keeps: the events of the
# messages not touched (an event's id is slack:message:<key> or slack:reply:<key>); every other
# Slack row of the normalized tables is made again (state_start.clear).
KEPT = {"events": f"event_id NOT IN (SELECT 'slack:message:' || natural_key FROM {TOUCHED}"
                  f" UNION ALL SELECT 'slack:reply:' || natural_key FROM {TOUCHED})"}


def usable(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the previous build state (`prev`) holds what a by-message build needs and the
    raw store has a messages table (without one there is nothing to normalize by message)."""
    return state_has(con, STATE_TABLES, IN_REFS) and has(con, "raw", "main", _MESSAGES)


def load(con: duckdb.DuckDBPyConnection) -> None:
    """The last build's Slack tables, copied out of its state (reads only the state, so that
    incremental._from_state can tell a damaged state from a damaged raw store); `slack_refs`
    is in the build's file, a copy of the state."""
    con.execute("CREATE OR REPLACE TEMP TABLE _slack_prev_accounts AS"
                " SELECT * FROM prev.slack_account_keys")
    con.execute("CREATE OR REPLACE TEMP TABLE _slack_prev_deleted AS"
                " SELECT * FROM prev.slack_deleted")


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """The table of who each message names, empty, before Slack is normalized from every
    message (30_slack.sql fills it); a kept source and a by-message build use the last build's
    in the copy of the state's refs file (`touched` deleted the touched messages' rows), and
    call nothing here."""
    con.execute(f"CREATE OR REPLACE TABLE refs.{REFS}({REFS_COLUMNS})")


def changed_keys(now: str, refs: str, deleted_now: str, deleted_before: str) -> str:
    """SQL of the natural keys whose raw rows changed since the last build, the rule Slack by
    message and Jira by issue share: a (key, `seq`) pair of the raw store (`now`) the last
    build did not read (`refs`), or no `seq`; a pair it read that the raw store no longer
    holds; a deleted mark set or lifted since (`deleted_now` against `deleted_before`). Each
    argument names a relation with natural_key (and seq, for the first two)."""
    return f"""
        SELECT natural_key FROM {now} WHERE seq IS NULL
        UNION (SELECT natural_key FROM (SELECT natural_key, seq FROM {now}
                                        EXCEPT SELECT natural_key, seq FROM {refs}))
        UNION (SELECT natural_key FROM (SELECT natural_key, seq FROM {refs}
                                        EXCEPT SELECT natural_key, seq FROM {now}))
        UNION (SELECT natural_key FROM {deleted_now}
               EXCEPT SELECT natural_key FROM {deleted_before})
        UNION (SELECT natural_key FROM {deleted_before}
               EXCEPT SELECT natural_key FROM {deleted_now})"""


def touched(con: duckdb.DuckDBPyConnection) -> int:
    """After `load`: find the messages to normalize again (the module docstring) into
    `_slack_touched`, and drop their rows from `_slack_refs`; returns how many."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {TOUCHED} AS
        WITH accounts_now AS (
            SELECT 'user' AS kind, natural_key, seq FROM raw_slack_users
            UNION ALL SELECT 'bot', natural_key, seq FROM raw_slack_bots
        ),
        accounts AS (  -- rows not read by the last build, or read and gone since
            SELECT kind, natural_key FROM accounts_now WHERE seq IS NULL
            UNION ALL
            SELECT kind, natural_key FROM (SELECT kind, natural_key, seq FROM accounts_now
                                           EXCEPT SELECT kind, natural_key, seq
                                           FROM _slack_prev_accounts)
            UNION ALL
            SELECT kind, natural_key FROM (SELECT kind, natural_key, seq
                                           FROM _slack_prev_accounts
                                           EXCEPT SELECT kind, natural_key, seq
                                           FROM accounts_now)
        ),
        deleted_now AS ({_DELETED_NOW}),
        messages_now AS (SELECT natural_key, seq FROM raw.{_MESSAGES})
        {changed_keys("messages_now", REFS, "deleted_now", "_slack_prev_deleted")}
        UNION SELECT natural_key FROM {REFS}
              WHERE user_id IN (SELECT natural_key FROM accounts WHERE kind = 'user')
                 OR bot_id IN (SELECT natural_key FROM accounts WHERE kind = 'bot')
        """)
    con.execute(f"DELETE FROM {REFS} WHERE natural_key IN (SELECT natural_key FROM {TOUCHED})")
    con.execute("DROP TABLE _slack_prev_accounts; DROP TABLE _slack_prev_deleted")
    return con.execute(f"SELECT count(*) FROM {TOUCHED}").fetchone()[0]


def restore(con: duckdb.DuckDBPyConnection) -> None:
    """After the touched messages' events are deleted from the copy of the state (`KEPT`):
    `raw_slack_messages` narrowed to the touched messages for 30_slack.sql (`show_all` undoes
    it)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _slack_touched_rows AS SELECT natural_key, seq"
                f" FROM raw.{_MESSAGES} WHERE natural_key IN (SELECT natural_key FROM {TOUCHED})"
                f" AND natural_key NOT IN ({_QUARANTINED})")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_MESSAGES} AS"
                f" {raw_rows_of(_MESSAGES, '_slack_touched_rows')}")


def show_all(con: duckdb.DuckDBPyConnection, config: Any = None) -> None:
    """After 30_slack.sql: `raw_slack_messages` as before `restore`: the raw table, or the
    quarantine's view of it when it set messages aside (it made one exactly then)."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary"
                       " AND table_name = ?", [TOUCHED]).fetchone()[0]:
        return  # not narrowed: no by-message build
    con.execute(f"DROP VIEW {_MESSAGES}")
    con.execute("DROP TABLE IF EXISTS _slack_touched_rows")
    if con.execute(f"SELECT count(*) FROM ({_QUARANTINED})").fetchone()[0]:
        quarantine.hide(con, _MESSAGES)
    con.execute(f"DROP TABLE {TOUCHED}")


def save(con: duckdb.DuckDBPyConnection) -> None:
    """Into the new build state (`state`), which already holds who each message names
    (`IN_REFS`): the user and bot keys, and the messages marked deleted, as the raw store holds
    them now."""
    con.execute("CREATE OR REPLACE TABLE state.slack_account_keys AS"
                " SELECT 'user' AS kind, natural_key, seq FROM raw_slack_users"
                " UNION ALL SELECT 'bot', natural_key, seq FROM raw_slack_bots")
    con.execute(f"CREATE OR REPLACE TABLE state.slack_deleted AS {_DELETED_NOW}")

