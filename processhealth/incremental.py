"""The incremental build: what the analytics database keeps about the raw store it was built
from, whether the previous database is a valid base, and which sources' normalized rows it
reuses (docs/build.md).

    plan = Plan(full=False)              # pipeline.build_steps(plan) consults it
    decide(con, config, plan)            # after the raw store is attached: full or incremental
    restore(con, config, plan)           # kept sources' normalized rows, from the previous file
    save(con, config, plan)              # after normalization: ph_build.* for the next build

The unit is the source (github, jira, slack): no normalization statement of one source reads
another source's rows, so a source none of whose raw rows changed since the last build (no row
with a higher seq, none gone, the same deleted set) keeps its normalized rows, and a changed
source is normalized from all of its raw rows as a full build does. The later steps run in full.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from processhealth import parse_cache, quarantine, ui

FORMAT = "1"  # of the ph_build tables; another value means a full build
SOURCES = ("github", "jira", "slack")
SCHEMA = "ph_build"
# Domain tables normalization writes -> the SQL expression of a row's source.
NORMALIZED = {
    "events": "source",
    "work_items": "source",
    "identities": "source",
    "group_members": "source",
    "transitions": "'jira'",
    "channels": "'slack'",
    "jira_statuses": "'jira'",
    "jira_sprints": "'jira'",
    "item_fields": "'jira'",
}
# source_coverage rows the build itself writes (quarantine); the rest come from the raw store.
QUARANTINED = "status = 'quarantined'"
_CODE_DIRS = ("processhealth", "collectors", "analysis")
_ROOT = Path(__file__).resolve().parent.parent
NORMALIZE_SQL = _ROOT / "collectors" / "sql"


@dataclass
class Plan:
    """What this build does; `full` is what was asked (`build --full`)."""

    full: bool = False
    mode: str = "full"
    reason: str = ""
    kept: tuple[str, ...] = ()
    changed: dict[str, int] = field(default_factory=dict)  # source -> new or changed raw rows
    tables: list[tuple[str, str, int, int]] = field(default_factory=list)  # the raw store now
    deleted: list[tuple[str, str, int]] = field(default_factory=list)
    since: dict[str, int] = field(default_factory=dict)  # raw table -> max seq last built
    dirty: set[str] = field(default_factory=set)  # raw tables with rows new, changed or gone
    parsed_kept: dict[str, int] = field(default_factory=dict)  # parse table -> rows reused
    identity: str = ""
    fingerprint: str = ""
    attached: bool = False

    def normalizes(self, source: str | None) -> bool:
        """Whether this build runs the normalization of `source` (None: every build does)."""
        return source is None or source not in self.kept

    def summary(self) -> str:
        if self.mode == "full":
            return f"full: {self.reason}"
        rows = sum(self.changed.values())
        redone = [s for s in SOURCES if s in self.changed]
        parts = []
        if redone:
            parts.append(f"{', '.join(redone)} changed ({rows:,} raw rows since the last "
                         f"build), normalized again")
        else:
            parts.append("no raw row changed since the last build")
        if self.kept:
            parts.append(f"{', '.join(self.kept)} kept")
        return "incremental: " + "; ".join(parts)


def fingerprint(config: Any) -> str:
    """Code (every .py and .sql of processhealth/, collectors/, analysis/), DuckDB's version and
    the config (without [storage]: where the files are does not change what is in them)."""
    digest = hashlib.sha256()
    for folder in _CODE_DIRS:
        for path in sorted((_ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".sql") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(_ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    digest.update(duckdb.__version__.encode())
    settings = json.loads(config.model_dump_json()) if config is not None else {}
    settings.pop("storage", None)
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def _raw_now(con: duckdb.DuckDBPyConnection) -> tuple[str, list, list]:
    """The raw store's identity, its tables (source, table, max seq, rows) and, per source,
    the order-free digest and count of its deleted marks."""
    first = con.execute("SELECT min(applied_at)::VARCHAR FROM raw.schema_migrations"
                        " WHERE version = (SELECT min(version) FROM raw.schema_migrations)"
                        ).fetchone() if _has(con, "raw", "main", "schema_migrations") else None
    identity = f"migrated {first[0]}" if first and first[0] else "unknown"
    tables = []
    for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'raw'"
            " AND table_name LIKE 'raw\\_%' ESCAPE '\\' ORDER BY 1").fetchall():
        source = name.split("_")[1]
        top, rows = con.execute(f"SELECT coalesce(max(seq), -1), count(*) FROM raw.{name}"
                                ).fetchone()
        tables.append((source, name, int(top), int(rows)))
    deleted = [(s, d, int(n)) for s, d, n in con.execute(
        "SELECT source, coalesce(bit_xor(hash(entity, natural_key)), 0)::VARCHAR, count(*)"
        " FROM sync_deleted GROUP BY source ORDER BY source").fetchall()]
    return identity, tables, deleted


def _has(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?"
        " AND table_name = ?", [database, schema, table]).fetchone()[0])


def decide(con: duckdb.DuckDBPyConnection, config: Any, plan: Plan) -> None:
    """Full or incremental, and which sources to keep; attaches the previous database as
    `prev` (read-only) when it is used. Says what it chose."""
    plan.identity, plan.tables, plan.deleted = _raw_now(con)
    plan.fingerprint = fingerprint(config)
    reason = _base_problem(con, config, plan)
    if reason is None:
        plan.mode, plan.changed = "incremental", _changes(con, plan)
        plan.kept = tuple(s for s in SOURCES if s not in plan.changed)
    else:
        plan.mode, plan.reason, plan.kept, plan.changed = "full", reason, (), {}
        if plan.attached:
            con.execute("DETACH prev")
            plan.attached = False
    ui.say(f"build: {plan.summary()}")


def _base_problem(con: duckdb.DuckDBPyConnection, config: Any, plan: Plan) -> str | None:
    """Why the previous database cannot be the base of this build (None: it can)."""
    if plan.full:
        return "--full was given"
    target = Path(config.storage.analytics_path)
    if not target.exists():
        return "there is no previous database"
    try:
        con.execute("ATTACH ? AS prev (READ_ONLY)", [str(target)])
    except duckdb.Error as exc:
        return (f"the previous database cannot be read ({' '.join(str(exc).split())[:200]})")
    plan.attached = True
    try:
        if not _has(con, "prev", SCHEMA, "state"):
            return "the previous database has no build state (built by an older version)"
        state = dict(con.execute(f"SELECT key, value FROM prev.{SCHEMA}.state").fetchall())
        before = {t: (s, int(m), int(n)) for s, t, m, n in con.execute(
            f"SELECT source, table_name, max_seq, row_count FROM prev.{SCHEMA}.raw_tables"
        ).fetchall()}
    except duckdb.Error as exc:
        return f"the previous database is damaged ({' '.join(str(exc).split())[:200]})"
    if state.get("format") != FORMAT:
        return "the previous database's build state is of another format"
    if state.get("raw_store") != plan.identity:
        return "the previous database was built from another raw store"
    if state.get("fingerprint") != plan.fingerprint:
        return "the code, the DuckDB version or the config changed since the last build"
    now = {t: m for _, t, m, _ in plan.tables}
    for table, (_, top, _) in sorted(before.items()):
        if table not in now:
            return f"raw table {table} is gone from the raw store"
        if now[table] < top:
            return f"raw table {table} went back (a restored or re-collected raw store)"
    return None


def _changes(con: duckdb.DuckDBPyConnection, plan: Plan) -> dict[str, int]:
    """source -> raw rows new or changed since the last build, for each source that changed
    (rows gone or deleted marks changed count as a change with 0 rows if nothing else)."""
    before = {t: (int(m), int(n)) for t, m, n in con.execute(
        f"SELECT table_name, max_seq, row_count FROM prev.{SCHEMA}.raw_tables").fetchall()}
    changed: dict[str, int] = {}
    plan.since = {t: m for t, (m, _) in before.items()}
    for source, table, _, rows in plan.tables:
        top, count = before.get(table, (-1, 0))
        [(new,)] = con.execute(f"SELECT count(*) FROM raw.{table} WHERE seq > ? OR seq IS NULL",
                               [top]).fetchall()
        if new or rows - new != count:
            changed[source] = changed.get(source, 0) + int(new)
            plan.dirty.add(table)
    marks = {s: (d, n) for s, d, n in con.execute(
        f"SELECT source, digest, row_count FROM prev.{SCHEMA}.deleted").fetchall()}
    now = {s: (d, n) for s, d, n in plan.deleted}
    for source in set(marks) | set(now):
        if marks.get(source) != now.get(source):
            changed.setdefault(source, 0)
    return {s: changed[s] for s in SOURCES if s in changed}


def quarantine_step(con: duckdb.DuckDBPyConnection, config: Any, plan: Plan) -> None:
    """Set aside the raw rows normalization cannot read, of the sources normalized again; an
    incremental build checks only the rows written since the last build (quarantine.build)."""
    sources = tuple(s for s in SOURCES if plan.normalizes(s))
    if plan.mode != "incremental":
        quarantine.build(con, config, sources=sources)
        return
    since = dict(con.execute(f"SELECT table_name, max_seq FROM prev.{SCHEMA}.raw_tables"
                             ).fetchall())
    quarantine.build(con, config, sources=sources, since=since,
                     before=f"SELECT source, entity, item FROM prev.{SCHEMA}.norm_source_coverage")


def restore(con: duckdb.DuckDBPyConnection, config: Any, plan: Plan) -> None:
    """The kept sources' normalized rows, copied from the previous database into the domain
    tables; events draw a new event_seq (90_event_seq.sql numbers them all again)."""
    if plan.mode != "incremental" or not plan.kept:
        return
    parse_cache.carry(con, parse_cache.marks_in("\n".join(
        p.read_text() for p in sorted(NORMALIZE_SQL.glob("*.sql")))), plan.kept)
    kept = list(plan.kept)
    for table, source in NORMALIZED.items():
        columns = _columns(con, table, skip={"event_seq"})
        con.execute(f"INSERT INTO {table}({columns}) SELECT {columns}"
                    f" FROM prev.{SCHEMA}.norm_{table} WHERE list_contains(?, {source})", [kept])
    columns = _columns(con, "source_coverage")
    con.execute(f"INSERT INTO source_coverage({columns}) SELECT {columns}"
                f" FROM prev.{SCHEMA}.norm_source_coverage WHERE list_contains(?, source)", [kept])


def _columns(con: duckdb.DuckDBPyConnection, table: str, skip: set[str] | None = None) -> str:
    names = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [table]).fetchall()]
    return ", ".join(f'"{n}"' for n in names if n not in (skip or set()))


def save(con: duckdb.DuckDBPyConnection, config: Any, plan: Plan) -> None:
    """After normalization: the normalized tables and the state of the raw store they were
    built from, in schema ph_build, for the next build (docs/build.md)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    for table in NORMALIZED:
        con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.norm_{table} AS SELECT * FROM {table}")
    con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.norm_source_coverage AS"
                f" SELECT * FROM source_coverage WHERE {QUARANTINED}")
    con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.state(key VARCHAR, value VARCHAR)")
    con.execute(f"INSERT INTO {SCHEMA}.state VALUES ('format', ?), ('raw_store', ?),"
                f" ('fingerprint', ?)", [FORMAT, plan.identity, plan.fingerprint])
    con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.raw_tables(source VARCHAR,"
                f" table_name VARCHAR, max_seq BIGINT, row_count BIGINT)")
    if plan.tables:
        con.executemany(f"INSERT INTO {SCHEMA}.raw_tables VALUES (?, ?, ?, ?)", plan.tables)
    con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.deleted(source VARCHAR, digest VARCHAR,"
                f" row_count BIGINT)")
    if plan.deleted:
        con.executemany(f"INSERT INTO {SCHEMA}.deleted VALUES (?, ?, ?)", plan.deleted)
    if plan.attached:
        con.execute("DETACH prev")
        plan.attached = False
