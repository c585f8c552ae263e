"""The build state file: written after the analysis (after normalization when pseudonymized)
for the next build, renamed in with its refs file just before the analytics file, and the
states of analytics files that are gone removed (docs/build.md, "What a build keeps for the
next one"). processhealth/incremental.py decides what a build reuses from it."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import duckdb

from processhealth import github_delta, jira_delta, slack_delta, ui
from processhealth.analytics_db import _remove
from processhealth.build_inputs import file_identity
from processhealth.duckdb_files import fsync
from processhealth.incremental import FORMAT, QUARANTINED, Plan, forget_orphans


def save(con: duckdb.DuckDBPyConnection, config: Any, plan: Plan, after: str) -> None:
    """The build's tables and the state of the raw store they were built from, into the new
    state file, for the next build (docs/build.md, "What a build keeps for the next one"):
    `after` the analysis, so the state holds what the analysis wrote too (the person ids,
    categories and event numbers of the events, the credited minutes, the stored views), or,
    with `privacy.pseudonymize` on, `after` normalization (a pseudonymized file holds no
    person ids: the state is then the normalized tables, and each build analyses them anew).
    The call at the other stage does nothing.

    The new analytics database is checkpointed and its file copied to be the state file, then
    the raw store's state is added to the copy. Copying the tables one by one into the state
    file took 1.9 s at 1M events and 15.5-17.7 s at 10M; this takes 0.05 s and 1.8 s +
    1.0-10.8 s (the file copy is the kernel's work, which varied that much on the benchmark's
    virtual machine)."""
    if after != ("normalization" if config.privacy.pseudonymize else "analysis"):
        return
    if plan.state is None or plan.temp is None:
        return
    [(analytics,)] = con.execute("SELECT path FROM duckdb_databases()"
                                 " WHERE database_name = current_database()").fetchall()
    with ui.profiled("github_read", "  "):
        github_delta.keep(con)
    con.execute("DETACH state")
    with ui.profiled("checkpoint", "  "):
        con.execute("CHECKPOINT")
    for path in (plan.temp, plan.temp.with_name(plan.temp.name + ".wal")):
        _remove(path)
    with ui.profiled("copy", "  "):
        shutil.copyfile(analytics, plan.temp)
    con.execute("ATTACH ? AS state", [str(plan.temp)])
    con.execute("CREATE OR REPLACE TABLE state.norm_source_coverage AS"
                f" SELECT * FROM source_coverage WHERE {QUARANTINED}")
    con.execute("CREATE OR REPLACE TABLE state.raw_tables(source VARCHAR, table_name VARCHAR,"
                " max_seq BIGINT, row_count BIGINT)")
    if plan.tables:
        con.executemany("INSERT INTO state.raw_tables VALUES (?, ?, ?, ?)", plan.tables)
    con.execute("CREATE OR REPLACE TABLE state.deleted(source VARCHAR, digest VARCHAR,"
                " row_count BIGINT)")
    if plan.deleted:
        con.executemany("INSERT INTO state.deleted VALUES (?, ?, ?)", plan.deleted)
    for name, delta in (("slack", slack_delta), ("jira", jira_delta), ("github", github_delta)):
        with ui.profiled(f"{name}'s tables", "  "):
            delta.save(con)


def refs_at(plan: Plan) -> Path | None:
    """Where the build writes its refs (analytics_db.attach_refs): beside the state, to be
    renamed in with it, or, where the state's folder cannot be made, in memory (None; `decide`
    then says the build keeps no state)."""
    if plan.state is None:
        return None
    try:
        plan.state.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return plan.refs_temp


def finish(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """After the last step: the previous state let go, the new one written out, and the refs
    file (which analytics_db.build_analytics checkpoints and detaches next) marked as this
    build's: the state's `refs` key names the same token (`commit`)."""
    if plan.attached:
        con.execute("DETACH prev")
        plan.attached = False
    if plan.state is not None:
        con.execute("CHECKPOINT state")
        con.execute("DETACH state")
        plan.refs_token = uuid.uuid4().hex
        con.execute("CREATE OR REPLACE TABLE refs.refs_build AS SELECT ? AS token",
                    [plan.refs_token])


def commit(plan: Plan, analytics_temp: Path) -> None:
    """Before the analytics file is swapped in: record which file it is (its inode survives
    the rename) and which refs file goes with it, and rename the refs file and the state file
    in. A crash between the renames leaves a state that names another analytics file or
    another refs file: the next build is then full."""
    if plan.state is None or plan.temp is None or plan.refs is None \
            or plan.refs_at != plan.refs_temp or not plan.refs_token:
        return
    meta = duckdb.connect(str(plan.temp))
    try:
        meta.execute("CREATE OR REPLACE TABLE state(key VARCHAR, value VARCHAR)")
        meta.execute("INSERT INTO state VALUES ('format', ?), ('raw_store', ?),"
                     " ('fingerprint', ?), ('inputs', ?), ('analytics', ?), ('analytics_path', ?),"
                     " ('refs', ?)",
                     [FORMAT, plan.identity, plan.fingerprint, plan.inputs,
                      file_identity(analytics_temp), str(plan.target) if plan.target else None,
                      plan.refs_token])
        meta.execute("CHECKPOINT")
    finally:
        meta.close()
    fsync(plan.temp)
    fsync(plan.refs_at)
    _remove(plan.refs.with_name(plan.refs.name + ".wal"))
    os.replace(plan.refs_at, plan.refs)
    _remove(plan.state.with_name(plan.state.name + ".wal"))
    os.replace(plan.temp, plan.state)
    fsync(plan.state.parent)
    forget_orphans(plan.state)


def discard(plan: Plan) -> None:
    """A failed build's state file and refs file, if they were not renamed in."""
    for temp in (plan.temp, plan.refs_at):
        if temp is not None:
            for path in (temp, temp.with_name(temp.name + ".wal")):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
