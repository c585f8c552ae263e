"""How processhealth opens a DuckDB file (the raw store, the analytics database, a report's
read): UTC as the session time zone, a memory cap, a bounded spill, no extension downloads, and a
held lock or a damaged file turned into a message that says what to do."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb

from processhealth.errors import UserError

# A runaway query must fail with a message, not fill the disk with spill files.
MAX_SPILL = "8GiB"
# A file that is not a DuckDB database (SQLite, ...) must not make DuckDB download an extension:
# processhealth talks to the configured APIs only.
NO_AUTOLOAD = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

# DuckDB's own default is 80% of RAM, which it then keeps instead of spilling: a 3M-event build
# peaked at 8 GiB. Capped, the same build peaked at 3.1 GiB in the same time (benchmarks/). A
# whole build peaks about 0.4 GiB above the cap: at 10M events 3.12-3.19 GiB under "3GB",
# 3.71-3.74 GiB under "3.6GB", which spills less (build 169-172 s against 179-184 s, alternating
# runs; benchmarks/RESULTS.md section 3). The goal is a peak under 4 GiB. With freed memory kept
# (below) the 10M build peaked at 3.75-3.81 GiB; the memory kept outside the buffer pool (up to
# 1 GB) is not counted against the cap, so that margin is a measurement, not a bound.
DEFAULT_MEMORY_LIMIT = "3.6GB"

# DuckDB uses every core by default. Where several processes share the cores (a shared cron host,
# the test suite on two workers), `PROCESSHEALTH_DUCKDB_THREADS=N` caps each connection: a build of
# the tests' small organization took 2.44 s alone either way, and 2.94-3.0 s with another build
# beside it on 2 cores at the default, 2.44 s with 1 thread each (tests/conftest.py sets it).
THREADS_VAR = "PROCESSHEALTH_DUCKDB_THREADS"

# The storage format of the analytics file. DuckDB 2.x writes by default a format no 1.x reader
# opens, and the analytics file is the contract ops leads read with their own tools (DuckDB CLIs,
# BI tools, notebooks pinned to 1.x); in this format DuckDB 1.1.0 and later read it
# (tests/test_old_reader.py opens a fresh build with 1.1.3). It applies to files a connection
# creates only: an existing file keeps its format. The raw store keeps DuckDB's own default: its
# zstd-compressed payload columns need a newer format, and it is processhealth's working store.
ANALYTICS_STORAGE_VERSION = "v1.1.0"

# Memory DuckDB frees goes back to the operating system, so memory needed again costs fresh page
# faults: a 10M-event build spent 62-63 s of its time in the kernel, most of it there. Two kinds
# of memory are kept for reuse instead, until the connection closes: the buffer blocks (the block
# allocator may hold up to the memory cap; pages are touched on first use), and up to 1 GB of
# the other freed memory (DuckDB flushes its allocator after a task at 128 MiB by default). The
# same 10M build, alternating runs: 156-159 s as before, 145-149 s with the blocks kept, 137-143
# s with both (system time 37-44 s; peak RSS 3.75 GiB against 3.66-3.75;
# benchmarks/RESULTS.md section 3). A DuckDB before 1.3 has no block allocator setting; the
# flush thresholds alone were never measured, so such a DuckDB keeps all its defaults.
def _keep_freed_memory(memory_limit: str) -> dict[str, str]:
    return {"block_allocator_memory": memory_limit, "allocator_flush_threshold": "1GB",
            "allocator_bulk_deallocation_flush_threshold": "1GB"}


def _threads(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise UserError(f"{THREADS_VAR}={value!r}: give a whole number of threads, 1 or more "
                        f"(or unset it: DuckDB then uses every core).")
    return int(value)


def open_duckdb(path: Path, *, read_only: bool = False,
                memory_limit: str = DEFAULT_MEMORY_LIMIT,
                storage_version: str | None = None) -> duckdb.DuckDBPyConnection:
    """Connect with UTC as the session time zone, a memory cap ([storage] memory_limit) and the
    threads $PROCESSHEALTH_DUCKDB_THREADS allows;
    a new file in the given storage format (DuckDB's newest if None); a held lock becomes a
    clear UserError."""
    config: dict[str, object] = {**NO_AUTOLOAD, "memory_limit": memory_limit}
    if os.environ.get(THREADS_VAR):
        config["threads"] = _threads(os.environ[THREADS_VAR])
    if storage_version is not None:
        config["storage_compatibility_version"] = storage_version
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        raise lock_error(path, exc) from None
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET max_temp_directory_size = '{MAX_SPILL}'")
    with contextlib.suppress(duckdb.CatalogException):  # a DuckDB without the first setting
        for name, value in _keep_freed_memory(memory_limit).items():
            con.execute(f"SET {name} = {sql_literal(value)}")
    return con


_IN_ONE_COMMIT: set[int] = set()  # id() of each connection inside a one_commit() block


@contextlib.contextmanager
def one_commit(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The block's statements in one transaction (a commit each costs more than a small
    statement). Nested in another one_commit() of the same connection, the outer commit covers
    them (DuckDB cannot tell whether a transaction is open, and a BEGIN inside one aborts it)."""
    if id(con) in _IN_ONE_COMMIT:
        yield
        return
    con.execute("BEGIN")
    _IN_ONE_COMMIT.add(id(con))
    try:
        yield
    except BaseException:
        _IN_ONE_COMMIT.discard(id(con))
        with contextlib.suppress(duckdb.Error):  # e.g. the connection closed: the first error
            con.execute("ROLLBACK")  # is the one to report
        raise
    _IN_ONE_COMMIT.discard(id(con))
    con.execute("COMMIT")


def lock_error(path: Path, exc: Exception) -> UserError:
    text = " ".join(str(exc).split())  # one paragraph
    if "not a valid DuckDB database" in text or "extension" in text.lower():
        return UserError(
            f"{path} is not a DuckDB database (DuckDB says: {text}). The [storage] paths name "
            f"processhealth's own database files; move that file away or change the path.")
    if any(sign in text.lower() for sign in ("could not read enough bytes", "corrupt",
                                            "checksum")):
        return UserError(
            f"The database file {path} is damaged or cut short (DuckDB says: {text}). The "
            f"analytics database is rebuilt by `processhealth build`, which never reads the old "
            f"file; a damaged raw store must be restored from a backup, or replaced by a "
            f"new raw_path and `processhealth collect --full`.")
    if "lock" not in text.lower():
        return UserError(f"Cannot open the database {path}: {text}")
    pid = re.search(r"PID (\d+)", text)
    holder = f" (process {pid.group(1)})" if pid else ""
    return UserError(
        f"Another processhealth command is using {path}{holder}. DuckDB lets one process write "
        f"a file at a time; wait for that command to finish, then run this one again."
    )


def fsync(path: Path) -> None:
    """Flush a file (or a folder: a rename in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_database(con: duckdb.DuckDBPyConnection, source: Path, alias: str) -> None:
    """Everything of the database file `source` (tables, views, comments, sequences) into the
    open database of `con`, through `source` attached read-only as `alias` for the copy."""
    quoted = str(source).replace("'", "''")
    [(database,)] = con.execute("SELECT current_database()").fetchall()
    con.execute(f"ATTACH '{quoted}' AS {alias} (READ_ONLY)")
    try:
        target = database.replace('"', '""')  # a file's name is its database's (a"b.duckdb)
        con.execute(f'COPY FROM DATABASE {alias} TO "{target}"')
    finally:
        con.execute(f"DETACH {alias}")


def write_live_rows_only(path: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> None:
    """Replace the closed database file `path` with a copy of what it holds now, written into a
    new file: none of the bytes its rows had before they were updated or deleted.

    A pseudonymized build writes the people's logins, e-mails and names into the file
    (normalization, which the build state keeps as it was), then replaces them
    (analysis/privacy.py). DuckDB leaves the blocks it no longer uses as they were, so the file
    still held every real e-mail, login and display name in its bytes, readable by anyone with
    the file and `strings` (tests/test_privacy.py). analytics_db.build_analytics calls this for
    such a build. The copy holds the same tables, views, comments and sequence, in the same
    storage version; at 10M events it costs a write of the whole database (benchmarks/RESULTS.md
    section 3), paid only with privacy.pseudonymize."""
    fresh = path.with_name(path.name + ".clean")
    fresh.unlink(missing_ok=True)
    try:
        con = open_duckdb(fresh, memory_limit=memory_limit,
                          storage_version=ANALYTICS_STORAGE_VERSION)
        try:
            con.execute("SET enable_progress_bar = false")  # the build shows its own progress
            copy_database(con, path, "processhealth_written")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        fsync(fresh)
        os.replace(fresh, path)
    finally:
        fresh.unlink(missing_ok=True)
        fresh.with_name(fresh.name + ".wal").unlink(missing_ok=True)


def sql_literal(text: object) -> str:
    """`text` as a SQL string literal, for the statements that take no parameters (COMMENT ON)."""
    return "'" + str(text).replace("'", "''") + "'"
