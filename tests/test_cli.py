import json
import subprocess
import sys
import time

import click
import duckdb
from click.testing import CliRunner

from processhealth.cli import _Group
from processhealth.config import Config
from processhealth.errors import SourceError, UserError

READER = """
import duckdb, pathlib, sys, time
path, stop = sys.argv[1], pathlib.Path(sys.argv[2])
held = duckdb.connect(path, read_only=True)
queries = 0
while not stop.exists():
    held.execute("SELECT count(*) FROM work_items JOIN events USING (item_id)").fetchall()
    held.execute("SELECT count(*) FROM build_params").fetchall()
    if queries % 10 == 0:  # a fresh reader always finds a complete file, old or new
        fresh = duckdb.connect(path, read_only=True)
        fresh.execute("SELECT count(*) FROM people").fetchall()
        fresh.close()
    queries += 1
    if queries == 1:
        print("ready", flush=True)
    time.sleep(0.005)
print(queries, flush=True)
"""


def test_build_swaps_while_another_process_reads(write_config, run_cli, tmp_path):
    path = write_config("")
    first = run_cli(path, "build")
    assert first.exit_code == 0
    assert "(full: there is no previous database)" in first.output
    analytics = tmp_path / "processhealth.duckdb"
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(analytics), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "ready"
        for args in (["build"], ["build", "--full"]):
            result = run_cli(path, *args)
            assert result.exit_code == 0, result.output
            # the second finds nothing new and leaves the file (docs/build.md), the third is
            # full because asked, and swaps it under the reader
            assert ("is up to date: nothing it is built from changed since the last build"
                    if args == ["build"] else "(full: --full was given)") \
                in " ".join(result.output.split()), result.output
        time.sleep(0.2)  # let the reader query the swapped-out file a little longer
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=30)
    assert reader.returncode == 0, err
    assert int(out.strip()) > 1
    assert sorted(p.name for p in tmp_path.iterdir() if "processhealth.duckdb" in p.name) == [
        "processhealth.duckdb"
    ]


def test_analytics_schema_is_fully_commented_and_settings_recorded(write_config, run_cli,
                                                                   tmp_path):
    assert run_cli(write_config(""), "build").exit_code == 0
    con = duckdb.connect(str(tmp_path / "processhealth.duckdb"), read_only=True)
    uncommented_tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND coalesce(comment, '') = ''"
        " UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal"
        " AND database_name = current_database() AND coalesce(comment, '') = ''"
    ).fetchall()
    uncommented_columns = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal"
        " AND database_name = current_database() AND coalesce(comment, '') = ''"
    ).fetchall()
    settings = dict(con.execute("SELECT name, value FROM build_params").fetchall())
    assert uncommented_tables == []
    assert uncommented_columns == []
    assert settings["privacy.min_group_size"] == "5"
    assert float(settings["verdict.overhead_rise_pp"]) == Config().verdict.overhead_rise_pp == 3.5


def test_sql_outputs_and_rejects_writes(write_config, run_cli):
    path = write_config("")
    assert run_cli(path, "sql", "SELECT 1 AS one").exit_code == 1  # not built yet
    run_cli(path, "build")
    result = run_cli(path, "sql", "SELECT 1 AS one, 'a' AS letter", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == [{"one": 1, "letter": "a"}]
    result = run_cli(path, "sql", "SELECT 2 AS two", "--format", "csv")
    assert result.stdout == "two\n2\n"
    assert "is_threshold" in run_cli(path, "sql", "DESCRIBE build_params").stdout
    for query in ("DELETE FROM people", "SELECT 1; DROP TABLE people", "COPY people TO 'x.csv'",
                  "ATTACH 'other.db'", "SELEC 1", "SELECT * FROM nope"):
        result = run_cli(path, "sql", query)
        assert result.exit_code == 1, query
        assert "Traceback" not in result.output


def test_sql_on_a_database_file_without_a_config(tmp_path, run_cli):
    """`sql --db FILE` queries a copy of the analytics database that came without its config
    (SQL-user review: `sql` needed a config file), still read-only and in UTC."""
    copy = tmp_path / "sent.duckdb"
    with duckdb.connect(str(copy)) as con:
        con.execute("CREATE TABLE t AS SELECT TIMESTAMPTZ '2026-01-01 00:30:00+00' AS ts")
    missing_config = tmp_path / "none.toml"
    result = run_cli(missing_config, "sql", "SELECT ts::DATE::VARCHAR AS day FROM t",
                     "--format", "json", "--db", str(copy))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"day": "2026-01-01"}]
    assert run_cli(missing_config, "sql", "DELETE FROM t", "--db", str(copy)).exit_code == 1
    for bad in (tmp_path / "nothing.duckdb", missing_config.with_suffix(".txt")):
        if bad.suffix == ".txt":
            bad.write_text("not a database")
        result = run_cli(missing_config, "sql", "SELECT 1", "--db", str(bad))
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert str(bad) in result.output


def test_experiment_add_list_remove(write_config, run_cli):
    path = write_config('[[teams]]\nname = "payments"\n')
    result = run_cli(path, "experiment", "add", "pm-tool", "--start", "2024-03-01",
                     "--team", "payments", "--scope", "jira_project=PAY",
                     "--criterion", "overhead_ratio_change <= +3pp")
    assert result.exit_code == 0, result.output
    listed = run_cli(path, "experiment", "list", "--format", "json")
    [row] = json.loads(listed.stdout)
    assert row["name"] == "pm-tool" and row["criteria"] == "overhead_ratio_change <= +3pp"
    assert run_cli(path, "experiment", "add", "pm-tool", "--start", "2024-03-01").exit_code == 1
    assert run_cli(path, "experiment", "add", "x", "--start", "2024-03-01",
                   "--team", "nobody").exit_code == 1
    assert run_cli(path, "experiment", "add", "x", "--start", "2024-03-01",
                   "--scope", "novalue").exit_code == 1
    bad = run_cli(path, "experiment", "add", "x", "--start", "2024-03-01",
                  "--criterion", "overhead goes down")
    assert bad.exit_code == 1 and "not understood" in bad.output
    # a unit that does not fit the metric (new-user review: both were recorded and judged)
    for criterion, said in (("customer_throughput >= -5pp", "customer_throughput is no share"),
                            ("overhead_ratio <= +3", "can never be crossed")):
        bad = run_cli(path, "experiment", "add", "x", "--start", "2024-03-01",
                      "--criterion", criterion)
        assert bad.exit_code == 1 and said in bad.output, bad.output
    assert run_cli(path, "experiment", "add", "y", "--start", "2024-03-01", "--criterion",
                   "overhead_ratio <= 0.3", "--criterion", "customer_throughput >= -5%"
                   ).exit_code == 0
    assert run_cli(path, "experiment", "remove", "pm-tool").exit_code == 0
    assert run_cli(path, "experiment", "remove", "pm-tool").exit_code == 1


def test_init_writes_example_and_refuses_to_overwrite(tmp_path, run_cli):
    path = tmp_path / "processhealth.toml"
    assert run_cli(path, "init").exit_code == 0
    assert "[classification.repos]" in path.read_text()
    again = run_cli(path, "init")
    assert again.exit_code == 1 and "--force" in again.output
    assert run_cli(path, "init", "--force").exit_code == 0
    assert run_cli(path, "doctor").exit_code == 0


def test_doctor_fails_on_missing_secret_without_network(write_config, run_cli):
    path = write_config('[slack]\nenabled = true\n')
    result = run_cli(path, "doctor")
    assert result.exit_code == 1
    assert "slack.token needs $SLACK_TOKEN" in result.output


def test_collect_rejects_a_disabled_source(write_config, run_cli):
    result = run_cli(write_config(""), "collect", "--source", "jira")
    assert result.exit_code == 1 and "not enabled" in result.output


def test_errors_map_to_exit_codes_without_traceback():
    @click.group(cls=_Group)
    def group():
        pass

    @group.command()
    def user():
        raise UserError("bad input, here is why.")

    @group.command()
    def source():
        raise SourceError("the API said 502.")

    runner = CliRunner()
    user_result, source_result = runner.invoke(group, ["user"]), runner.invoke(group, ["source"])
    assert (user_result.exit_code, source_result.exit_code) == (1, 2)
    assert "bad input, here is why." in user_result.output
    assert "Traceback" not in user_result.output + source_result.output
