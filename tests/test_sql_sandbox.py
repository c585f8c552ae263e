"""`processhealth sql` reads the analytics database and nothing else."""

import duckdb
from click.testing import CliRunner

from processhealth.cli import cli


def test_sql_cannot_read_local_files(tmp_path):
    db = tmp_path / "processhealth.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT 42 AS answer")
    con.close()
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nhunter2\n")
    config = tmp_path / "processhealth.toml"
    config.write_text('[storage]\nanalytics_path = "processhealth.duckdb"\n')
    runner = CliRunner()
    ok = runner.invoke(cli, ["--config", str(config), "sql", "SELECT answer FROM t",
                             "--format", "csv"])
    assert ok.exit_code == 0 and "42" in ok.output
    denied = runner.invoke(cli, ["--config", str(config), "sql",
                                 f"SELECT * FROM read_csv('{secret}')"])
    assert denied.exit_code == 1
    assert "hunter2" not in denied.output
    assert "Traceback" not in denied.output
