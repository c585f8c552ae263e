"""What a build is made from, as the incremental build compares it with the last build's
(docs/build.md): the code and config (`fingerprint`), the raw store's identity, tables and
deleted marks (`raw_now`), the other inputs of the analysis (`analysis_inputs`), and which
analytics file a state goes with (`file_identity`)."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from processhealth.config_models import CONNECTION

_CODE_DIRS = ("processhealth", "collectors", "analysis")
_ROOT = Path(__file__).resolve().parent.parent


def fingerprint(config: Any) -> str:
    """Code (every .py and .sql of processhealth/, collectors/, analysis/), DuckDB's version and
    the config (without [storage] and how each source is reached, config_models.CONNECTION:
    where the files are and which URL served the rows do not change what is in them)."""
    digest = hashlib.sha256()
    for folder in _CODE_DIRS:
        for path in sorted((_ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".sql") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(_ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    digest.update(duckdb.__version__.encode())
    settings = what_counts(config) if config is not None else {}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def what_counts(config: Any) -> dict[str, Any]:
    """The config as JSON data without what changes no row of the analytics database: where
    the files are ([storage]) and how each source is reached (config_models.CONNECTION; cron
    review: a new port rebuilt everything). The fingerprint hashes it; build_params' config
    row shows it, less who is who."""
    settings = json.loads(config.model_dump_json())
    settings.pop("storage", None)
    for source in ("github", "jira", "slack"):
        for key in CONNECTION:
            settings.get(source, {}).pop(key, None)
    return settings


def raw_now(con: duckdb.DuckDBPyConnection) -> tuple[str, list, list]:
    """The raw store's identity, its tables (source, table, max seq, rows) and, per source,
    the order-free digest and count of its deleted marks."""
    # the first migration's time names the file; the last migration applied, its schema (a
    # migration may rewrite rows in place, without new seqs)
    first = con.execute("SELECT min(applied_at)::VARCHAR, max(version) FROM raw.schema_migrations"
                        " WHERE version = (SELECT min(version) FROM raw.schema_migrations)"
                        " OR version = (SELECT max(version) FROM raw.schema_migrations)"
                        ).fetchone() if has(con, "raw", "main", "schema_migrations") else None
    identity = f"created {first[0]}, migration {first[1]}" if first and first[0] else "unknown"
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


def has(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?"
        " AND table_name = ?", [database, schema, table]).fetchone()[0])


def state_has(con: duckdb.DuckDBPyConnection, tables: Iterable[str],
              in_refs: Iterable[str]) -> bool:
    """Whether the previous build state holds `tables`: those `in_refs` in the copy of its refs
    file (`refs`, analytics_db.attach_refs), the others in the state itself (`prev`)."""
    refs = set(in_refs)
    return all(has(con, "refs" if t in refs else "prev", "main", t) for t in tables)


# Raw store tables besides raw_* and sync_deleted that a build reads (analytics_db.copy_state);
# not sync_state (cursors) nor state_report_ledger (the reports').
_INPUT_TABLES = ("state_process_changes", "state_experiment_criteria", "sync_coverage",
                 "sync_runs")
# Computing libraries a build computes with besides DuckDB (not pandas, which DuckDB loads when
# analysis.insert_rows registers an Arrow table, to tell the object's type; nothing of a build
# computes with it: listed, an upgrade of it made the next build run), and processhealth
# itself: build_params holds its installed version (analysis/params.py), which a release that
# changed no file the fingerprint hashes (report templates, docs) still changes.
_PACKAGES = ("numpy", "pyarrow", "processhealth")


def analysis_inputs(con: duckdb.DuckDBPyConnection, config: Any) -> str:
    """A digest of what the analysis reads besides the raw rows and deleted marks (_changes),
    the code, DuckDB and the config (fingerprint): the recorded process changes and experiment
    criteria, what the last collections skipped and when each ran, the versions of Python, of
    the computing packages and of processhealth itself and, with pseudonyms on, whether the
    salt is the same (a pseudonym of a fixed string: what the analytics database holds
    already, never the salt).
    The normalization of a source does not read them, so they are not in the fingerprint; a
    build that finds them and everything else unchanged is not needed (`current`)."""
    digest = hashlib.sha256(sys.version.encode())
    for package in _PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            digest.update(f"{package} {importlib.metadata.version(package)}".encode())
    for table in _INPUT_TABLES:
        if has(con, "raw", "main", table):
            rows, rows_digest = con.execute(
                f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM raw.{table} AS t"
            ).fetchone()
            digest.update(f"{table} {rows} {rows_digest}".encode())
    people = config.people.csv if config is not None else None
    if people is not None:  # identity.build reads it (person ids, names, teams)
        try:
            digest.update(b"people.csv " + Path(people).read_bytes())
        except OSError as exc:  # a build would say what is wrong with it
            digest.update(f"people.csv unreadable: {exc}".encode())
    if config is not None and config.privacy.pseudonymize:
        from analysis.privacy import pseudonym
        salt = config.privacy.pseudonym_salt.resolve(key="privacy.pseudonym_salt")
        digest.update(pseudonym(salt, "processhealth:build-inputs").encode())
    return digest.hexdigest()


def file_identity(path: Path) -> str:
    """Device, inode, size and modification time: a rename keeps them, a replaced file or one
    written over in place does not."""
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def raw_rows_of(table: str, rows: str) -> str:
    """SQL of the rows of raw.<table> listed in `rows` (a relation with natural_key and seq,
    taken from that raw table): by seq, and the rows without one by natural_key. A by-item
    build's rows are mostly the newest, and DuckDB skips the row groups outside the seqs'
    range; by natural_key it read every payload (at 10M events 1.1-1.3 s for 190,000 of the
    2.35M commits, 0.3 s by seq)."""
    return (f"SELECT * FROM raw.{table} WHERE seq IN (SELECT seq FROM {rows})"
            f" UNION ALL SELECT * FROM raw.{table} WHERE seq IS NULL AND natural_key IN"
            f" (SELECT natural_key FROM {rows} WHERE seq IS NULL)")
