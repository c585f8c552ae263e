"""Numbered SQL migrations of the raw store, applied in order and recorded in `schema_migrations`.

The raw store is the one file that lives on from version to version (collected payloads,
checkpoints, recorded process changes), so its schema changes as migrations: files in `raw/`
named `NNN_name.sql`, each run once, in its own transaction. A change SQL alone cannot state
(every raw_* table, whose names the store chooses) is a `NNN_name.py` whose `migrate(con)` runs
the same way. The analytics database is rebuilt
from scratch at every build; its tables are a plain schema (processhealth/schema/analytics).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

RAW_DIR = Path(__file__).resolve().parent / "raw"
_NAME = re.compile(r"^(\d+)_([A-Za-z0-9_]+)\.(sql|py)$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def available(folder: Path = RAW_DIR) -> list[Migration]:
    """The migration files in `folder`, sorted by number; duplicates and bad names are errors."""
    found: dict[int, Migration] = {}
    for path in sorted([*folder.glob("*.sql"), *folder.glob("*.py")]):
        if path.name == "__init__.py":
            continue
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file {path} should be named NNN_name.sql or .py")
        version = int(match.group(1))
        if version in found:
            other = found[version].path.name
            raise ValueError(f"migrations {other} and {path.name} share number {version}")
        found[version] = Migration(version, match.group(2), path)
    return [found[v] for v in sorted(found)]


def applied(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """version -> name of the migrations already recorded in this database."""
    rows = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    return dict(rows)


def apply(con: duckdb.DuckDBPyConnection, folder: Path = RAW_DIR) -> list[int]:
    """Apply every pending migration in `folder`; return the versions applied now."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    con.execute(
        "COMMENT ON TABLE schema_migrations IS "
        "'Schema migrations applied to this database, one row per numbered SQL file.'"
    )
    for column, text in [
        ("version", "Migration number, the NNN of the file name NNN_name.sql."),
        ("name", "Migration name, the rest of the file name."),
        ("applied_at", "When the migration was applied (UTC)."),
    ]:
        con.execute(f"COMMENT ON COLUMN schema_migrations.{column} IS '{text}'")
    done = applied(con)
    newly: list[int] = []
    for migration in available(folder):
        if migration.version in done:
            continue
        con.begin()
        try:
            _run(con, migration.path)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now())",
                [migration.version, migration.name],
            )
            con.commit()
        except duckdb.Error as exc:
            con.rollback()
            raise RuntimeError(f"migration {migration.path.name} failed: {exc}") from exc
        newly.append(migration.version)
    return newly


def _run(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    if path.suffix == ".sql":
        con.execute(path.read_text(encoding="utf-8"))
        return
    spec = importlib.util.spec_from_file_location(f"_ph_migration_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.migrate(con)
