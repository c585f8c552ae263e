"""The analytics database file: built from scratch into a temp file, then swapped in atomically.

    build_analytics(config, steps)   # each BuildStep(name, run) runs run(con, config) in order

Every build starts from a file without rows: the schema (processhealth/schema/analytics/*.sql,
so a schema and not migrations: nothing is ever upgraded in place) and the metric views (a
`Prelude`: made once per process into a template file that each build copies), then the steps
that processhealth.pipeline lists. Readers keep the file they opened, because the swap is a
rename; a failed build leaves the old file and no temp file behind, a killed one its
build folder (only its owner can enter it) until the next build removes it. The file is
written in a storage format DuckDB 1.1 and later read (duckdb_files.ANALYTICS_STORAGE_VERSION),
for ops leads' tools.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from processhealth import ui
from processhealth.duckdb_files import (
    ANALYTICS_STORAGE_VERSION,
    copy_database,
    fsync,
    lock_error,
    one_commit,
    open_duckdb,
    write_live_rows_only,
)
from processhealth.errors import UserError
from processhealth.files import keep_mode_and_group
from processhealth.store import RawStore
from processhealth.temp_names import owner_tag, remove_entry, remove_left_by_dead

SCHEMA_DIR = Path(__file__).resolve().parent / "schema" / "analytics"
# In this order: later files comment on or refer to tables of earlier ones.
SCHEMA_FILES = ("core.sql", "jira.sql", "analysis.sql", "verdicts.sql")


@dataclass(frozen=True)
class BuildStep:
    """One named step of the build; the name is what the progress bar and errors show."""

    name: str
    run: Callable[[duckdb.DuckDBPyConnection, Any], None]

    def __call__(self, con: duckdb.DuckDBPyConnection, config: Any) -> None:
        self.run(con, config)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The analytics tables, with their comments, on an empty database."""
    present = sorted(p.name for p in SCHEMA_DIR.glob("*.sql"))
    if present != sorted(SCHEMA_FILES):  # a new file that is not listed would be left out
        raise RuntimeError(f"{SCHEMA_DIR} holds {present}; SCHEMA_FILES lists "
                           f"{list(SCHEMA_FILES)}: list each schema file once, in order.")
    with one_commit(con):  # not one per statement: 0.05 s instead of 0.24 s
        for name in SCHEMA_FILES:
            con.execute((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Prelude:
    """What every new analytics file holds before any row: the schema, then objects `steps`
    create without reading a row (the metric views). Made once per process into a template
    file, which each build copies (`_new_file`); `sources` are the files the steps run, whose
    bytes, with the schema's and DuckDB's version, name the template."""

    steps: Sequence[BuildStep]
    sources: Sequence[Path]

    def key(self) -> str:
        digest = hashlib.sha256(f"{duckdb.__version__} {ANALYTICS_STORAGE_VERSION}".encode())
        for path in (*sorted(SCHEMA_DIR.glob("*.sql")), *self.sources):
            digest.update(f"\0{path}\0".encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()


_TEMPLATES: dict[str, Path] = {}  # Prelude.key() -> this process's template file


def _new_file(temp: Path, config: Any, prelude: Prelude | None,
              start: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The new analytics file at `temp`, open, with the schema (and the prelude's objects: a
    copy of this process's template of them, made by its first build). Creating the views took
    a quarter of a build of the tests' small organization (0.6 of 2.5 s), whose suite builds
    hundreds of times in each process; copying the 1 MB template takes milliseconds. Where the
    temporary folder cannot hold the template (full, read-only, or the file removed under the
    process), the file is made in place, as without a template. Given a `start` file (an
    incremental build's: the last build state, which is the last build's database as
    normalization left it, docs/build.md), a copy of it instead."""
    settings = {"memory_limit": config.storage.memory_limit,
                "storage_version": ANALYTICS_STORAGE_VERSION}  # readable by DuckDB 1.1+
    if start is not None:
        _copy(start, temp, "the last build state copied as the start")
        return open_duckdb(temp, **settings)
    if prelude is not None:
        try:
            shutil.copyfile(_template(config, prelude, settings), temp)
            return open_duckdb(temp, **settings)
        except OSError:
            _remove(temp)
    con = open_duckdb(temp, **settings)
    try:
        _fill(con, config, prelude)
    except BaseException:
        con.close()
        raise
    return con


def _copy(start: Path, to: Path, what: str) -> None:
    try:
        with ui.profiled(what):
            shutil.copyfile(start, to)
    except OSError as exc:  # shutil names the state (the source) for a full disk too
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise
        raise OSError(exc.errno, exc.strerror, str(to)) from exc


def copy_prelude(con: duckdb.DuckDBPyConnection, prelude: Prelude) -> None:
    """Into the open database `con` (in memory, or a file the caller writes rows into): the
    schema and the prelude's objects, copied from this process's template as a build's new file
    gets them. Running the views' SQL took 0.5 s where the copy takes 0.04 s, and the tests make
    such a database dozens of times per process. Where no template can be made, made in place."""
    settings = {"storage_version": ANALYTICS_STORAGE_VERSION}
    try:
        template = _template(None, prelude, settings)
    except OSError:
        _fill(con, None, prelude)
        return
    attached = {name for (name,) in con.execute(
        "SELECT database_name FROM duckdb_databases()").fetchall()}
    alias = next(f"processhealth_template_{n}" for n in range(len(attached) + 1)
                 if f"processhealth_template_{n}" not in attached)  # e.g. a file of that name
    copy_database(con, template, alias)


def _fill(con: duckdb.DuckDBPyConnection, config: Any, prelude: Prelude | None) -> None:
    create_schema(con)
    for step in prelude.steps if prelude else ():
        step(con, config)


def _template(config: Any, prelude: Prelude, settings: dict[str, Any]) -> Path:
    """This process's template file for `prelude`, made now if it has none (or it is gone). A
    template folder is removed when its process exits; the next process that makes one removes
    those of processes that were killed."""
    key = prelude.key()
    template = _TEMPLATES.get(key)
    if template is not None and template.exists():
        return template
    prefix = "processhealth-template-"
    remove_left_by_dead(Path(tempfile.gettempdir()), prefix)
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{owner_tag()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    template = folder / "analytics.duckdb"
    try:
        con = open_duckdb(template, **settings)
        try:
            _fill(con, config, prelude)
            con.execute("CHECKPOINT")
        finally:
            con.close()
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, UserError | duckdb.IOException):  # made in place instead, where
            raise OSError(str(exc)) from exc  # an error of the views themselves recurs
        raise
    _TEMPLATES[key] = template
    return template


def copy_state(con: duckdb.DuckDBPyConnection, config: Any = None) -> None:
    """Recorded process changes and their criteria (`processhealth experiment add`), which live
    in the raw store because a rebuild must not lose them; what the last collections skipped."""
    con.execute("INSERT INTO process_changes SELECT * FROM raw.state_process_changes")
    con.execute("INSERT INTO experiment_criteria SELECT * FROM raw.state_experiment_criteria")
    if raw_state_present(con, "sync_coverage"):
        con.execute("INSERT INTO source_coverage SELECT source, entity, scope, NULL, status,"
                    " detail, noted_at FROM sync_coverage")


def raw_state_present(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the build can read the raw store's state table `table`: the attached store's, or
    the empty stand-in ensure_raw_tables made for an older store (not so in a database built by
    hand, e.g. the tests' TinyDB)."""
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?"
        " AND database_name IN ('raw', 'temp')", [table]).fetchone()[0])


def build_analytics(config: Any, steps: Iterable[BuildStep],
                    finish: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
                    before_swap: Callable[[Path], None] | None = None,
                    prelude: Prelude | None = None, bar: ui.Step | None = None,
                    start: Path | None = None, refs: Path | None = None,
                    refs_start: Path | None = None) -> Path:
    """Build the analytics DB into a temp file next to the target, then swap it in atomically.

    Raw tables are readable unqualified (search_path main,raw) or as raw.<table>. On any failure
    the temp file is removed and the old database stays. `finish(con)` runs after the last
    step, `before_swap(temp)` once the temp file is complete and synced, before the rename (the
    incremental build's state file, processhealth/incremental.py). The file starts with the
    schema and, given a `prelude`, the objects it creates, or as a copy of `start`
    (`_new_file`). The temp file, its
    write-ahead log, DuckDB's spill folder and a pseudonymized build's rewrite are made in a
    folder beside the target that only its owner can enter (`_private_folder`). The refs
    normalization keeps for the next build are in a file of their own, attached as `refs`
    (`attach_refs`): at `refs` (a copy of `refs_start` when given), else in memory (a build
    that keeps no state, and the tests' builds of a few steps).
    """
    target = Path(config.storage.analytics_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f"{target.name}.building-{owner_tag()}")
    temp = work / work.name  # the name the temp file had before it had a folder
    _remove_ours(work)
    _remove_abandoned(target)
    if not Path(config.storage.raw_path).exists():
        RawStore.of(config).close()  # a fresh install: an empty raw store
    # Otherwise the raw store is only read (attached read-only): a reader holding it, or a
    # WAL left by a killed notebook, does not stop the build, and its bytes stay as they are.
    try:
        _private_folder(work)
        con = _new_file(temp, config, prelude, start)
    except BaseException:
        _remove_ours(work)
        raise
    try:
        _attach_raw(con, Path(config.storage.raw_path))
        attach_refs(con, refs, refs_start)
        for step in steps:
            _run_step(con, config, step, target)
        if finish is not None:
            finish(con)
        con.execute("DETACH raw")
        con.execute("CHECKPOINT refs")
        con.execute("DETACH refs")
        con.execute("CHECKPOINT")
        con.close()
        if _pseudonymized(config):
            _rewrite(temp, config, bar)
        keep_mode_and_group(temp, target)
        fsync(temp)
        if before_swap is not None:
            before_swap(temp)
        _remove(target.with_name(target.name + ".wal"))  # a stale WAL must not replay onto it
        os.replace(temp, target)
        fsync(target.parent)
    except BaseException:
        con.close()
        raise
    finally:
        _remove_ours(work)
    return target


def _private_folder(path: Path) -> None:
    """The build's folder, its owner's only. A pseudonymized build's temporary file holds the
    real logins, e-mails and names until its rewrite, and a build killed before its rename
    leaves it until the next build removes it, beside the published file, often in a folder
    shared with readers. Created 0700 and set so: in a folder shared through a default ACL
    (which the umask does not limit) the mode given to mkdir masks the inherited entries and
    chmod sets the folder's ACL mask, so no one else can enter it. Files made in it are made
    as in the target's folder (its default ACL is inherited too): a first build's file is
    published with the mode and ACL any new file there gets."""
    os.mkdir(path, 0o700)
    os.chmod(path, 0o700)


def _remove_ours(work: Path) -> None:
    """This process's build folder, and what an earlier version that ran with this process's
    id and host left under that name (the temp file itself, and its `.wal`)."""
    for path in (work, work.with_name(work.name + ".wal")):
        remove_entry(path)


def _rewrite(temp: Path, config: Any, bar: ui.Step | None) -> None:
    """The pseudonymized build's last step: its live rows into a new file (the progress bar counts
    it: at 10M events it takes about 28 s, RESULTS.md section 3)."""
    if bar is not None:
        bar.note("rewriting the file without the names pseudonyms replaced")
    with ui.profiled("pseudonymized: the live rows into a new file"):
        write_live_rows_only(temp, config.storage.memory_limit)
    if bar is not None:
        bar.advance()
        bar.note("")


def _pseudonymized(config: Any) -> bool:
    return bool(getattr(getattr(config, "privacy", None), "pseudonymize", False))


def _remove_abandoned(target: Path) -> None:
    """Temp files of earlier builds whose process is gone (killed before it could clean up)."""
    remove_left_by_dead(target.parent, f"{target.name}.building-")


RAW_SHAPE = ("natural_key VARCHAR, scope VARCHAR, updated_at TIMESTAMPTZ, fetched_at TIMESTAMPTZ,"
             " source_url VARCHAR, collector_version VARCHAR, payload JSON, payload_hash UBIGINT,"
             " seq BIGINT")  # raw_rows.RAW_COLUMNS, without its storage options
# Tables of later raw-store migrations the build reads; a store no collect has migrated yet
# gets empty stand-ins (the build never writes the raw store).
RAW_STATE = {
    "sync_deleted": "source VARCHAR, entity VARCHAR, natural_key VARCHAR, scope VARCHAR,"
                    " noted_at TIMESTAMPTZ",
    "sync_coverage": "source VARCHAR, entity VARCHAR, scope VARCHAR, status VARCHAR,"
                     " detail VARCHAR, noted_at TIMESTAMPTZ",
    "sync_runs": "source VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,"
                 " full_pass BOOLEAN",
}


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    """Empty temporary stand-ins for the raw tables (and newer state tables) the build's SQL
    names but the raw store does not have yet: every SQL file runs on a fresh install."""
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'raw'").fetchall()}
    for name in sorted(set(names) - present):
        con.execute(f"CREATE TEMP TABLE {name}({RAW_SHAPE})")
    for name, columns in RAW_STATE.items():
        if name not in present:
            con.execute(f"CREATE TEMP TABLE {name}({columns})")


def _attach_raw(con: duckdb.DuckDBPyConnection, raw_path: Path) -> None:
    try:
        con.execute("ATTACH ? AS raw (READ_ONLY)", [str(raw_path)])
    except duckdb.IOException as exc:
        raise lock_error(raw_path, exc) from None
    con.execute("SET search_path = 'main,raw'")


def attach_refs(con: duckdb.DuckDBPyConnection, path: Path | None,
                start: Path | None = None) -> None:
    """The refs (what normalization read, for the next build: github_*_refs, github_read,
    jira_refs, slack_refs) in a DuckDB file of their own at `path`, attached as `refs` and
    readable unqualified (search_path main,raw,refs); the SQL creates them as refs.<table>.
    They were tables of the build's file until the state was taken after the analysis: their
    blocks, dropped from the published file, stayed in it, free (551 MB of 2.34 GB at 10M
    events; DuckDB truncates only trailing free blocks). Given `start` (the last build
    state's refs), a copy of it; any file already at `path` is replaced. Without a `path`, in
    memory (nothing keeps them)."""
    if path is None:
        con.execute("ATTACH ':memory:' AS refs")
    else:
        for stale in (path, path.with_name(path.name + ".wal")):
            _remove(stale)
        if start is not None:
            _copy(start, path, "the last build's refs copied")
        con.execute("ATTACH ? AS refs", [str(path)])
    con.execute("SET search_path = 'main,raw,refs'")


def _run_step(con: duckdb.DuckDBPyConnection, config: Any, step: BuildStep,
              target: Path) -> None:
    try:
        step(con, config)
    except duckdb.Error as exc:
        if "corrupt database file" in str(exc).lower() or "checksum" in str(exc).lower():
            raise UserError(
                f"The raw store {config.storage.raw_path} is damaged (DuckDB says: "
                f"{' '.join(str(exc).split())[:300]}), found at build step {step.name}. "
                f"{target} was left as it was. Restore the raw store from a backup, or point "
                f"[storage] raw_path at a new file and run `processhealth collect --full`."
            ) from exc
        raise UserError(
            f"Build step {step.name} failed: {exc}. {target} was left as it was."
        ) from exc


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
