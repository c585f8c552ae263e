"""Privacy at build time (docs/metrics.md section 10): optional salted-hash pseudonyms.

With privacy.pseudonymize = true, every person id in the analytics database becomes
"p-<12 hex>" (HMAC-SHA256 of the person id with the salt from privacy.pseudonym_salt) and the
display name "Person <6 hex>"; emails, logins and tool display names are dropped from `people`
and `identities`. The same salt gives the same pseudonyms at every build, so month-on-month
comparisons still line up; without the salt nobody can recompute them from a name list.
Small-group suppression lives in the metric views: `people_count` and `suppressed`
(people_count < privacy.min_group_size).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import duckdb

from analysis import insert_rows
from processhealth.duckdb_files import sql_literal

# (table, person column); tables whose key holds the person are rewritten, not updated.
PERSON_COLUMNS = [
    ("identities", "person_id"), ("events", "person_id"), ("effort_sessions", "person_id"),
    ("work_items", "author_id"), ("work_items", "assignee_id"), ("transitions", "person_id"),
]


def pseudonym(salt: str, person_id: str) -> str:
    return "p-" + hmac.new(salt.encode(), person_id.encode(), hashlib.sha256).hexdigest()[:12]


def pseudonym_name(salt: str, person_id: str) -> str:
    digest = hmac.new(salt.encode(), b"name:" + person_id.encode(), hashlib.sha256).hexdigest()
    return f"Person {digest[:6]}"


def build(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    if not config.privacy.pseudonymize:
        return
    salt = config.privacy.pseudonym_salt.resolve(key="privacy.pseudonym_salt")
    apply_pseudonyms(con, salt)


# Jira fields whose value is a person even when the account is unknown to the database.
USER_FIELDS = ("assignee", "reporter", "creator")


def apply_pseudonyms(con: duckdb.DuckDBPyConnection, salt: str) -> None:
    _pseudonymize_user_edits(con, salt)  # reads identities' person ids before they change
    people = [r[0] for r in con.execute("SELECT person_id FROM people").fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE _pseudo(person_id VARCHAR PRIMARY KEY,"
                " pseudo VARCHAR, name VARCHAR)")
    insert_rows(con, "_pseudo", ("person_id", "pseudo", "name"),
                [(p, pseudonym(salt, p), pseudonym_name(salt, p)) for p in people])
    for table, column in PERSON_COLUMNS:
        con.execute(f"UPDATE {table} SET {column} = m.pseudo FROM _pseudo m "
                    f"WHERE {table}.{column} = m.person_id")
    # "<person>@<start time>": the time is what follows the last '@' (a person id, say a Jira
    # Server username, may hold one of its own)
    con.execute("UPDATE effort_sessions"
                " SET session_id = person_id || '@' || regexp_extract(session_id, '[^@]*$')")
    con.execute("UPDATE identities SET login = NULL, email = NULL, display_name = NULL")
    # people and person_months have the person in their primary key: rewrite them.
    con.execute("CREATE OR REPLACE TEMP TABLE _people AS SELECT * FROM people")
    con.execute("DELETE FROM people")
    con.execute("""
        INSERT INTO people SELECT m.pseudo, m.name, NULL, p.team, p.is_bot
        FROM _people p JOIN _pseudo m USING (person_id)
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _pm AS SELECT * FROM person_months")
    con.execute("DELETE FROM person_months")
    con.execute("""
        INSERT INTO person_months SELECT m.pseudo, p.month, p.team, p.active
        FROM _pm p JOIN _pseudo m USING (person_id)
    """)
    for table in ("_people", "_pm", "_pseudo"):
        con.execute(f"DROP TABLE {table}")
    _pseudonymize_email_accounts(con, salt)


# Account columns: "<source>:<source_user_id>".
ACCOUNT_COLUMNS = [("events", "actor_account"), ("transitions", "actor_account"),
                   ("work_items", "author_account"), ("work_items", "assignee_account")]


def _pseudonymize_email_accounts(con: duckdb.DuckDBPyConnection, salt: str) -> None:
    """A commit author GitHub ties to no account is the account "github:email:<address>"
    (collectors/sql/10_github.sql): the address names the person outright, where a tool's
    account id must be looked up. With pseudonyms it becomes "github:email:<12 hex>" (salted
    like the person ids) in identities and every account column, so joins still hold."""
    found = con.execute("SELECT DISTINCT source_user_id FROM identities"
                        " WHERE source = 'github' AND source_user_id LIKE 'email:%'").fetchall()
    accounts = {r[0] for r in found}
    for table, column in ACCOUNT_COLUMNS:
        accounts |= {r[0].removeprefix("github:") for r in con.execute(
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} LIKE 'github:email:%'"
        ).fetchall()}
    if not accounts:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE _email_pseudo(account VARCHAR PRIMARY KEY,"
                " pseudo VARCHAR)")
    insert_rows(con, "_email_pseudo", ("account", "pseudo"),
                [(a, "email:" + hmac.new(salt.encode(), b"account:" + a.encode(),
                                         hashlib.sha256).hexdigest()[:12])
                 for a in sorted(accounts)])
    # identities has the account in its primary key: rewrite its rows
    con.execute("CREATE OR REPLACE TEMP TABLE _email_ids AS SELECT i.* REPLACE (m.pseudo AS"
                " source_user_id) FROM identities AS i JOIN _email_pseudo AS m"
                " ON i.source = 'github' AND i.source_user_id = m.account")
    con.execute("DELETE FROM identities WHERE source = 'github' AND source_user_id IN"
                " (SELECT account FROM _email_pseudo)")
    con.execute("INSERT INTO identities SELECT * FROM _email_ids")
    for table, column in ACCOUNT_COLUMNS:
        con.execute(f"UPDATE {table} SET {column} = 'github:' || m.pseudo FROM _email_pseudo m"
                    f" WHERE {table}.{column} = 'github:' || m.account")
    con.execute("DROP TABLE _email_ids")
    con.execute("DROP TABLE _email_pseudo")


def user_picker_fields(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Jira fields whose value is one person by the site's field list (schema type "user": a
    single-user picker), when a collection stored the list: an edit of one names a person even
    when no identity holds the account (privacy review: "Zed Outsider" stayed)."""
    listed = con.execute("SELECT count(*) FROM duckdb_tables()"
                         " WHERE table_name = 'raw_jira_fields'").fetchone()
    if not listed or not listed[0]:
        return []
    return [r[0] for r in con.execute(
        "SELECT natural_key FROM raw_jira_fields"
        " WHERE payload -> 'schema' ->> 'type' = 'user'").fetchall()]


def _pseudonymize_user_edits(con: duckdb.DuckDBPyConnection, salt: str) -> None:
    """A Jira field edit whose value is a person (assignee, reporter, creator, a single-user
    picker by the site's field list, or any field whose old or new value is a Jira account the
    database knows) names that person in detail: the display name in `from`/`to`, the account in
    `from_id`/`to_id`. Both become the person's pseudonym (an account no identity holds gets
    one of its own), so the same person is the same value before and after (ping-pong still
    sees A -> B -> A) and no name or account is left."""
    users = ", ".join(map(sql_literal, USER_FIELDS))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _user_edits AS
        SELECT rid, d[1] AS from_id, d[2] AS to_id
        FROM (SELECT rowid AS rid, json_extract_string(detail, ['$.from_id', '$.to_id']) AS d,
                     lower(coalesce(field, '')) AS field, field_id
              FROM events WHERE source = 'jira' AND kind = 'jira_field_edit')
        WHERE field IN ({users}) OR list_contains(?, field_id)
           OR d[1] IN (SELECT source_user_id FROM identities WHERE source = 'jira')
           OR d[2] IN (SELECT source_user_id FROM identities WHERE source = 'jira')
    """, [user_picker_fields(con)])
    values = con.execute("""
        SELECT v.value, any_value(i.person_id)
        FROM (SELECT from_id AS value FROM _user_edits UNION SELECT to_id FROM _user_edits) AS v
        LEFT JOIN identities AS i ON i.source = 'jira' AND i.source_user_id = v.value
        WHERE v.value IS NOT NULL
        GROUP BY v.value
    """).fetchall()
    con.execute("CREATE OR REPLACE TEMP TABLE _user_pseudo(value VARCHAR, pseudo VARCHAR)")
    insert_rows(con, "_user_pseudo", ("value", "pseudo"),
                [(value, pseudonym(salt, person or f"jira-account:{value}"))
                 for value, person in values])
    # json_merge_patch drops a key whose new value is null: a side without a person
    con.execute("""
        UPDATE events SET detail = json_merge_patch(events.detail, json_object(
                   'from', f.pseudo, 'to', t.pseudo, 'from_id', f.pseudo, 'to_id', t.pseudo))
        FROM _user_edits AS u
        LEFT JOIN _user_pseudo AS f ON f.value = u.from_id
        LEFT JOIN _user_pseudo AS t ON t.value = u.to_id
        WHERE events.rowid = u.rid
    """)
    con.execute("DROP TABLE _user_edits")
    con.execute("DROP TABLE _user_pseudo")
