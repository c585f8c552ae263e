"""The analytics file opens in the DuckDB ops leads already have: a freshly built file, and its
`export --parquet`, read by DuckDB 1.1.3 (the last 1.1 release) in a throwaway venv.

DuckDB 2.x writes by default a storage format no 1.x reader opens; the build writes the format of
duckdb_files.ANALYTICS_STORAGE_VERSION instead. The old reader must open every table and view (a
view is re-bound by the reader, so a function or type 1.1 lacks fails here) and answer every
cookbook query of docs/queries.md exactly as the current DuckDB does.

The venv is cached under ~/.cache/processhealth-test/ (XDG_CACHE_HOME respected) so only the first
run installs the wheel; the test skips only when PyPI cannot be reached.
"""

from __future__ import annotations

import fcntl
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from simulated import simulated_config
from test_queries import cookbook

from processhealth.duckdb_files import ANALYTICS_STORAGE_VERSION, open_duckdb
from reports.db import AnalyticsDB
from reports.export import export_parquet

OLD_DUCKDB = "1.1.3"
# pytz: DuckDB 1.1 needs it to hand TIMESTAMPTZ values to Python.
REQUIREMENTS = (f"duckdb=={OLD_DUCKDB}", "pytz")
OFFLINE_SIGNS = ("NewConnectionError", "Network is unreachable", "Temporary failure in name",
                 "No matching distribution found", "ConnectTimeout", "ProxyError",
                 "Name or service not known", "Max retries exceeded")

# Run by the old DuckDB's interpreter: argv[1] is a JSON job, the answer is JSON on stdout.
READER = r"""
import json, sys
import duckdb
PLAIN  # replaced by the source of _plain below, so both sides convert alike
job = json.loads(open(sys.argv[1]).read())
con = duckdb.connect(job["database"], read_only=True)
con.execute("SET TimeZone = 'UTC'")
out = {"version": duckdb.__version__, "relations": {}, "queries": {}, "parquet": {}}
for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "UNION ALL SELECT view_name FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT internal").fetchall():
    out["relations"][name] = [_plain(row) for row in con.execute(
        f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()]
for question, query in job["queries"]:
    out["queries"][question] = [_plain(row) for row in con.execute(query).fetchall()]
for name, path in job["parquet"].items():
    out["parquet"][name] = len(duckdb.execute(  # every column decoded, not just counted
        "SELECT * FROM read_parquet(?, hive_partitioning = true)", [path]).fetchall())
print(json.dumps(out))
"""


def _plain(value: object) -> object:
    """A value as JSON: floats stay floats (compared with a tolerance, since a view's sums may
    differ in the last bit between versions), date-times become ISO text (DuckDB 1.1 gives pytz
    time zones, 2.x zoneinfo ones), containers recurse, anything else is its repr."""
    import datetime

    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (a != a and b != b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _differing(old: dict, new: dict) -> list[str]:
    return sorted(set(old) ^ set(new)) + [k for k in sorted(set(old) & set(new))
                                          if not _same(old[k], new[k])]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "processhealth-test"


def old_duckdb_python() -> Path:
    """The interpreter of a venv with duckdb==OLD_DUCKDB, created once and reused; a lock keeps
    concurrent runs from building it twice, a marker written last from using a half-built one."""
    venv = _cache_dir() / f"duckdb-{OLD_DUCKDB}"
    python, ready = venv / "bin" / "python", venv / "installed"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"duckdb-{OLD_DUCKDB}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists() and ready.read_text(encoding="utf-8") == " ".join(REQUIREMENTS):
            return python
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = subprocess.run([str(python), "-m", "pip", "install", "-q",
                              "--disable-pip-version-check", *REQUIREMENTS],
                             capture_output=True, text=True, timeout=300)
        if pip.returncode:
            text = pip.stdout + pip.stderr
            shutil.rmtree(venv, ignore_errors=True)
            if any(sign in text for sign in OFFLINE_SIGNS):
                pytest.skip(f"PyPI unreachable, cannot install duckdb=={OLD_DUCKDB}: "
                            f"{text.strip().splitlines()[-1]}")
            pytest.fail(f"pip install duckdb=={OLD_DUCKDB} failed:\n{text}")
        ready.write_text(" ".join(REQUIREMENTS), encoding="utf-8")
    return python


def _current_answers(database: Path, queries: list[tuple[str, str]]) -> dict[str, object]:
    con = open_duckdb(database, read_only=True)
    try:
        tags = con.execute("SELECT tags FROM duckdb_databases() "
                           "WHERE database_name = current_database()").fetchone()[0]
        answers = {q: [_plain(row) for row in con.execute(sql).fetchall()]
                   for q, sql in queries}
        relations = {name: [_plain(row) for row in con.execute(
                         f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()]
                     for (name,) in con.execute(
                         "SELECT table_name FROM duckdb_tables()"
                         " WHERE database_name = current_database() UNION ALL"
                         " SELECT view_name FROM duckdb_views()"
                         " WHERE database_name = current_database() AND NOT internal"
                     ).fetchall()}
    finally:
        con.close()
    return {"tags": tags, "queries": answers, "relations": relations}


def test_the_analytics_file_is_written_in_the_format_old_readers_open() -> None:
    """The suite's quick guard of the contract the extended tier checks in full below: the built
    file carries the storage format of the 1.x family, not DuckDB 2's default."""
    import duckdb

    path = simulated_config(7, "small").storage.analytics_path
    assert ANALYTICS_STORAGE_VERSION.startswith("v1.")
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{path}' AS a (READ_ONLY)")
        [(tag,)] = con.execute("SELECT tags['storage_version'] FROM duckdb_databases()"
                               " WHERE database_name = 'a'").fetchall()
    assert tag.startswith("v1."), tag


@pytest.mark.slow
@pytest.mark.extended  # CI runs it after the suite: the old reader reads every relation (13 s)
def test_duckdb_1_1_reads_the_analytics_file_and_its_parquet(tmp_path: Path) -> None:
    _read_by_the_old_duckdb(simulated_config(7, "small").storage.analytics_path, tmp_path)


@pytest.mark.extended  # CI runs it after the suite: a build of its own and the old reader (15 s)
def test_duckdb_1_1_reads_a_pseudonymized_file(tmp_path: Path, monkeypatch) -> None:
    """A pseudonymized build's file is not the one its steps wrote but a copy of its live rows
    (duckdb_files.write_live_rows_only), made by `COPY FROM DATABASE` into a new file: the copy
    must keep the storage format old readers open, and every view must still bind there."""
    from processhealth import pipeline
    from processhealth.config import load_config

    monkeypatch.setenv("PROCESSHEALTH_SALT", "pepper")
    folder = tmp_path / "org"
    shutil.copytree(simulated_config(7, "small").storage.analytics_path.parent, folder)
    path = folder / "processhealth.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[privacy]\npseudonymize = true\n",
                    encoding="utf-8")
    config = load_config(path)
    assert config.storage.analytics_path.is_relative_to(folder)
    pipeline.build(config, full=True)
    with open_duckdb(config.storage.analytics_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM identities WHERE person_id LIKE 'p-%'"
                           ).fetchone()[0] > 0
    _read_by_the_old_duckdb(config.storage.analytics_path, tmp_path / "read")


def _read_by_the_old_duckdb(database: Path, tmp_path: Path) -> None:
    """The old DuckDB opens `database` and its Parquet export, and reads every table, view and
    cookbook answer exactly as the current one does."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    python = old_duckdb_python()
    # Each answer's rows in a fixed order: where ORDER BY ties, engines may list rows differently.
    queries = [(q, f"SELECT * FROM ({sql.strip().rstrip(';')}) ORDER BY ALL")
               for q, sql in cookbook()]
    current = _current_answers(database, queries)
    # DuckDB tags the file with the oldest format family it is in ("v1.0.0+" for v1.1.0);
    # its own default would be "v2.0.0+".
    assert ANALYTICS_STORAGE_VERSION.startswith("v1.")
    assert current["tags"].get("storage_version", "").startswith("v1.")

    with AnalyticsDB.open(database) as db:
        written = export_parquet(db, tmp_path / "parquet")
    parquet = {name: str(tmp_path / "parquet" / name / "**" / "*.parquet")
               for name, info in written.items() if info["rows"]}

    job = tmp_path / "job.json"
    job.write_text(json.dumps({"database": str(database), "queries": queries,
                               "parquet": parquet}), encoding="utf-8")
    script = READER.replace("PLAIN", inspect.getsource(_plain))
    run = subprocess.run([str(python), "-c", script, str(job)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, f"DuckDB {OLD_DUCKDB} could not read the file:\n{run.stderr}"
    old = json.loads(run.stdout)

    assert old["version"] == OLD_DUCKDB
    # every table and view, every value decoded alike
    assert _differing(old["relations"], current["relations"]) == []
    assert len(old["relations"]) > 50
    assert all(old["queries"].values()), f"a cookbook query answered nothing with {OLD_DUCKDB}"
    assert _differing(old["queries"], current["queries"]) == []
    assert old["parquet"] == {name: written[name]["rows"] for name in parquet}
