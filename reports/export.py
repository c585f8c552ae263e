"""`processhealth export --parquet DIR`: every table and view of the analytics database as
Parquet, Hive-partitioned by month, for Spark SQL, Trino, pandas or any engine past one machine.

    DIR/events/month=2026-03-01/data_0.parquet
    DIR/metric_effort_allocation/month=2026-03-01/data_0.parquet
    DIR/people/data.parquet                      (no time column: one file)
    DIR/_processhealth_export.json               (what was written, for the next export)

A relation with a `month` column is partitioned by it; events, transitions, work_items and
effort get a `month` column from their own time (first day of the UTC month). Read it back with
e.g. `read_parquet('DIR/events/*/*.parquet', hive_partitioning = true)`.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from processhealth import ui
from processhealth.duckdb_files import sql_literal
from processhealth.errors import UserError
from processhealth.temp_names import owner_tag, remove_left_by_dead
from reports.db import AnalyticsDB

MANIFEST = "_processhealth_export.json"
STAGING = ".exporting-"  # + owner_tag(): where an export writes before it moves the relations in
PART = "parquet.part"  # files in STAGING, renamed *.parquet once their relation moved in
# Relations without a month column, and the expression that gives each row its month.
DERIVED_MONTH = {
    "events": "SELECT *, date_trunc('month', timezone('UTC', occurred_at))::DATE AS month"
              " FROM events",
    "transitions": "SELECT *, date_trunc('month', timezone('UTC', \"at\"))::DATE AS month"
                   " FROM transitions",
    "work_items": "SELECT *, date_trunc('month', timezone('UTC', created_at))::DATE AS month"
                  " FROM work_items",
    "effort": "SELECT f.*, date_trunc('month', timezone('UTC', e.occurred_at))::DATE AS month"
              " FROM effort AS f LEFT JOIN events AS e USING (event_seq)",
    "effort_credit": "SELECT f.*, date_trunc('month', timezone('UTC', e.occurred_at))::DATE"
                     " AS month FROM effort_credit AS f LEFT JOIN events AS e USING (event_seq)",
}


def export_parquet(db: AnalyticsDB, out_dir: Path) -> dict[str, dict[str, object]]:
    """Write every relation of `db` under out_dir; return {relation: {rows, partitioned_by}}.

    Everything is written first into a hidden folder inside out_dir
    (`.exporting-<pid>@<host>`), as `*.parquet.part` files, then each relation is moved into
    place and gets its `.parquet` names there, and the manifest is replaced last: an export that
    fails or is killed while it writes leaves the previous export whole (the hidden folder is
    removed then, or by the next export on its host, or on any host a day later:
    remove_left_by_dead). pyarrow and Spark skip a folder whose name starts
    with a dot, but DuckDB's glob does not: with `.parquet` names there,
    `read_parquet('DIR/**/*.parquet')` read the half-written relations of a running or killed
    export beside the previous ones (rows twice). One killed while the relations move leaves a
    mix (the relation it was moving perhaps with `.part` names still), which the next export
    replaces (the new manifest, written as `.new` before the moves, names what was moved in)."""
    out_dir = Path(out_dir)
    previous = _check_target(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_left_by_dead(out_dir, STAGING)
    staging = out_dir / f"{STAGING}{owner_tag()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        written = {}
        with ui.progress("export", total=len(db.columns), unit="tables and views") as bar:
            for name in sorted(db.columns):
                bar.note(name)
                written[name] = _write(db, name, staging / name)
                bar.advance()
        manifest = {"exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "database": str(db.path) if db.path else None, "relations": written}
        # before any relation moves: an export killed while they move (or before the manifest
        # is replaced) leaves here the names it moved in, which the next export then replaces
        (out_dir / f"{MANIFEST}.new").write_text(json.dumps(manifest, indent=1),
                                                 encoding="utf-8")
        for name in previous:
            shutil.rmtree(out_dir / name, ignore_errors=True)
        for name in written:
            shutil.rmtree(out_dir / name, ignore_errors=True)
            os.replace(staging / name, out_dir / name)
            # named once moved: killed in between, a `.parquet` name in the hidden folder would
            # be read beside the relation another host's export moves in (it leaves the folder)
            _finished(out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    os.replace(out_dir / f"{MANIFEST}.new", out_dir / MANIFEST)
    return written


def _write(db: AnalyticsDB, name: str, target: Path) -> dict[str, object]:
    """One relation as Parquet under `target`: by month if it has or derives one."""
    query = DERIVED_MONTH.get(name, f'SELECT * FROM "{name}"')
    partitioned = name in DERIVED_MONTH or "month" in db.columns[name]
    rows = int(db.scalar(f"SELECT count(*) FROM ({query})"))
    if partitioned and rows:
        db.con.execute(f"COPY ({query}) TO {sql_literal(target)} (FORMAT parquet,"
                       f" PARTITION_BY (month), OVERWRITE_OR_IGNORE, FILE_EXTENSION '{PART}')")
    else:
        target.mkdir(parents=True, exist_ok=True)
        db.con.execute(f"COPY ({query}) TO {sql_literal(target / f'data.{PART}')}"
                       " (FORMAT parquet)")
    return {"rows": rows, "partitioned_by": "month" if partitioned and rows else None}


def _finished(relation: Path) -> None:
    """Give the files of a relation moved in from the staging folder their `.parquet` names."""
    for part in sorted(relation.rglob(f"*.{PART}")):
        os.replace(part, part.with_name(part.name.removesuffix(".part")))


def _check_target(out_dir: Path) -> list[str]:
    """Relations a previous export wrote there (to replace); refuse a folder that holds
    anything else, so an export never deletes files it did not write."""
    if not out_dir.exists():
        return []
    if not out_dir.is_dir():
        raise UserError(f"--parquet {out_dir} is a file; expected a folder (new or empty, or "
                        f"one a previous `processhealth export` wrote).")
    entries = [p.name for p in out_dir.iterdir()
               if not p.name.startswith(STAGING) and p.name != f"{MANIFEST}.new"]
    if not entries:
        return []
    manifest = out_dir / MANIFEST
    # with the relations a killed export moved in: the `.new` manifest, written before the moves
    killed = _relations(out_dir / f"{MANIFEST}.new")
    if not manifest.exists() and not killed:
        raise UserError(
            f"--parquet {out_dir} is not empty and was not written by `processhealth export` "
            f"(no {MANIFEST} in it). Choose a new or empty folder; an export replaces only "
            f"what an earlier export wrote.")
    previous = (list(json.loads(manifest.read_text(encoding="utf-8")).get("relations", {}))
                if manifest.exists() else [])
    previous += [name for name in killed if name not in previous]
    foreign = sorted(set(entries) - set(previous) - {MANIFEST})
    if foreign:
        raise UserError(
            f"--parquet {out_dir} holds files an export did not write ({', '.join(foreign[:5])}"
            f"). Move them, or choose another folder.")
    return previous


def _relations(manifest: Path) -> list[str]:
    """The relations a manifest names; none when it is missing or unreadable (the `.new` one an
    export killed while writing it left)."""
    try:
        return list(json.loads(manifest.read_text(encoding="utf-8")).get("relations", {}))
    except (OSError, ValueError, AttributeError):
        return []
