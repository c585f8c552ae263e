"""Files other programs hold or left behind: `build` only reads the raw store (attached
read-only), so a notebook holding it does not stop the build and its bytes stay the same; a WAL
left by a read-write notebook killed mid-session breaks neither `build` (raw store) nor `sql` and
`report` (analytics database)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .support import SECRETS_ENV, copy_db, invoke, snapshot, write_config

HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SELECT count(*) FROM raw_jira_issues").fetchall()
print("holding", flush=True)
sys.stdin.read()
"""

KILLED_NOTEBOOK = """
import os, signal, sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET checkpoint_threshold = '1GB'")  # the changes stay in the WAL
con.execute("CREATE TABLE scratch AS SELECT 42 AS answer")
con.execute(sys.argv[2])
os.kill(os.getpid(), signal.SIGKILL)
"""


def _setup(built, tmp_path: Path) -> Path:
    raw, analytics, _ = built
    copy_db(raw, tmp_path / "raw.duckdb")
    copy_db(analytics, tmp_path / "processhealth.duckdb")
    return write_config(tmp_path, {s: "http://127.0.0.1:1" for s in ("github", "jira",
                                                                      "slack")})


def test_build_runs_while_another_process_reads_the_raw_store_and_leaves_it_as_it_was(
        built, tmp_path):
    config = _setup(built, tmp_path)
    before = snapshot(tmp_path)["raw.duckdb"]
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "raw.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        result = invoke(config, "build", environ=SECRETS_ENV)
        assert result.exit_code == 0, result.output
        assert holder.poll() is None  # the reader was not disturbed
    finally:
        holder.communicate("")
    assert snapshot(tmp_path)["raw.duckdb"] == before
    assert not (tmp_path / "raw.duckdb.wal").exists()


def test_a_killed_notebook_s_wal_breaks_neither_build_nor_sql_nor_report(built, tmp_path):
    config = _setup(built, tmp_path)
    for name, change in (("raw.duckdb", "DELETE FROM raw_slack_messages WHERE 0 = 1"),
                         ("processhealth.duckdb",
                          "UPDATE people SET display_name = display_name || '!'")):
        done = subprocess.run([sys.executable, "-c", KILLED_NOTEBOOK, str(tmp_path / name),
                               change], capture_output=True, text=True)
        assert done.returncode == -9, done.stderr
        assert (tmp_path / f"{name}.wal").exists()
    for args in (("sql", "SELECT count(*) FROM work_items"),
                 ("report", "--out", str(tmp_path / "out")), ("build",),
                 ("sql", "SELECT count(*) FROM events")):
        result = invoke(config, *args, environ=SECRETS_ENV)
        assert result.exit_code == 0, f"{args}: {result.output}"
    assert not (tmp_path / "processhealth.duckdb.wal").exists()  # the build replaced it
