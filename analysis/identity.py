"""The identities build step and people.csv: read every account from the database, resolve them
to people (`analysis.identity_match`, where the evidence rules are), write `people` and the person
ids of events, work items and transitions; read people.csv ([people] csv) and write the current
map back as one (`processhealth people --write`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import duckdb

from analysis import insert_rows
from analysis.identity_match import Account, resolve
from analysis.identity_names import clean_email
from processhealth import event_base_delta
from processhealth.errors import UserError

CSV_COLUMNS = ("person", "display_name", "email", "github", "jira", "slack")


# --- people.csv -------------------------------------------------------------------------------


def read_people_csv(path: Path) -> list[dict[str, str]]:
    """Rows of people.csv; UserError naming the file if it is missing or lacks a person column."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise UserError(f"[people] csv = {path} cannot be read: {exc}. Write it with "
                        f"`processhealth people --write {path.name}`, or remove the key.") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"[people] csv = {path} is not a UTF-8 CSV file ({exc}). Write it with "
                        f"`processhealth people --write {path.name}`, or remove the key.") from None
    header = set(rows[0]) if rows else set()
    if rows and ("person" not in header or not header & {"github", "jira", "slack", "email"}):
        raise UserError(
            f"{path} should have a header with person and at least one of github, jira, slack, "
            f"email; found {', '.join(sorted(header)) or 'no columns'}."
        )
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in rows]


def csv_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, str]]:
    """The current map as people.csv rows: one row per account, so any cell can be edited."""
    found = con.execute("""
        SELECT i.person_id, p.display_name, i.source, i.source_user_id, i.login, i.email
        FROM identities i JOIN people p USING (person_id)
        WHERE NOT p.is_bot ORDER BY p.display_name, i.person_id, i.source, i.source_user_id
    """).fetchall()
    rows = []
    for person, display, source, uid, login, email in found:
        row = dict.fromkeys(CSV_COLUMNS, "")
        ref = login if source == "github" and login and login != "ghost" else uid
        row.update(person=person, display_name=display or "", email=clean_email(email) or "")
        row[source] = ref if source in ("github", "jira", "slack") else ""
        rows.append(row)
    return rows


def write_people_csv(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Write the map to `path`, whole or not at all (processhealth.files.write_atomically)."""
    from processhealth.files import write_atomically

    rows = csv_rows(con)
    text = io.StringIO()
    writer = csv.DictWriter(text, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(path, text.getvalue())
    return len(rows)


# --- the build step ---------------------------------------------------------------------------

_ACCOUNT_COLUMNS = [("events", "actor_account"), ("work_items", "author_account"),
                    ("work_items", "assignee_account"), ("transitions", "actor_account")]
_RESOLVED_COLUMNS = ("source", "source_user_id", "account", "person_id", "matched_by", "is_bot")
_PERSON_COLUMNS = [("events", "actor_account", "person_id"),
                   ("work_items", "author_account", "author_id"),
                   ("work_items", "assignee_account", "assignee_id"),
                   ("transitions", "actor_account", "person_id")]


def build(con: duckdb.DuckDBPyConnection, config: Any) -> None:
    """Resolve identities, fill people, and set person ids on events, work items, transitions."""
    _ensure_identities(con)
    accounts = [Account(*row) for row in con.execute(
        "SELECT source, source_user_id, login, email, display_name, is_bot FROM identities"
    ).fetchall()]
    csv_data = read_people_csv(config.people.csv) if config.people.csv else []
    mappings = [m.model_dump() for m in config.people.mappings]
    resolved, people, _ = resolve(accounts, csv_data, mappings, config.people.bots)
    con.execute("CREATE OR REPLACE TEMP TABLE _resolved(source VARCHAR, source_user_id VARCHAR,"
                " account VARCHAR, person_id VARCHAR, matched_by VARCHAR, is_bot BOOLEAN)")
    bots = {p.person_id for p in people if p.is_bot}
    insert_rows(con, "_resolved", _RESOLVED_COLUMNS, [
        (*key.split(":", 1), key, r.person_id, r.matched_by, r.person_id in bots)
        for key, r in resolved.items()
    ])
    con.execute("""
        UPDATE identities SET person_id = r.person_id, matched_by = r.matched_by,
               is_bot = identities.is_bot OR r.is_bot
        FROM _resolved r
        WHERE identities.source = r.source AND identities.source_user_id = r.source_user_id
    """)
    insert_rows(con, "people", ("person_id", "display_name", "email", "is_bot"),
                [(p.person_id, p.display_name, p.email, p.is_bot) for p in people])
    # only the rows whose person changes are written: an incremental build's kept rows carry
    # the last build's person ids (docs/build.md, "Cost"), nearly all of them the same
    event_base_delta.analysed(con, """
        SELECT e.event_id, e.person_id, e.subkind, e.event_seq
        FROM events AS e JOIN _resolved AS r ON e.actor_account = r.account
        WHERE e.person_id IS DISTINCT FROM r.person_id""")
    for table, account, person in _PERSON_COLUMNS:
        con.execute(f"UPDATE {table} SET {person} = r.person_id FROM _resolved r "
                    f"WHERE {table}.{account} = r.account"
                    f" AND {table}.{person} IS DISTINCT FROM r.person_id")
    con.execute("DROP TABLE _resolved")


def _ensure_identities(con: duckdb.DuckDBPyConnection) -> None:
    """Every account that acts anywhere gets an identities row, even if normalization missed it."""
    union = " UNION ".join(f"SELECT {col} AS account FROM {table}"
                           for table, col in _ACCOUNT_COLUMNS)
    con.execute(f"""
        INSERT INTO identities(source, source_user_id)
        SELECT DISTINCT split_part(account, ':', 1), substr(account, strpos(account, ':') + 1)
        FROM ({union}) WHERE strpos(account, ':') > 1
        ON CONFLICT DO NOTHING
    """)
