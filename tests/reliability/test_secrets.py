"""With tokens set, no written file (databases, reports, logs) and no output contains them.

The cron run (conftest `cron`) collects from all three sources with tokens in the environment,
builds, writes the report and the audit, and runs `sql`, `people` and `doctor --online`. Every
file it leaves is searched byte for byte, every text column of both databases row by row (DuckDB
compresses strings, so bytes alone could miss one), and everything each command printed. A wrong
token is refused without being echoed either.
"""

from __future__ import annotations

import base64

import duckdb

from .support import JIRA_EMAIL, TOKENS, invoke

NEEDLES = [*TOKENS.values(),
           base64.b64encode(f"{JIRA_EMAIL}:{TOKENS['JIRA_TOKEN']}".encode()).decode()]


def found_in_bytes(data: bytes) -> list[str]:
    return [n for n in NEEDLES if n.encode() in data or n.encode("utf-16-le") in data]


def found_in_columns(path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name ="
            " current_database() AND data_type IN ('VARCHAR', 'JSON') AND NOT internal"
        ).fetchall()
        hits = []
        for table, column in columns:
            for needle in NEEDLES:
                count = con.execute(f'SELECT count(*) FROM "{table}" WHERE contains("{column}"'
                                    f"::VARCHAR, ?)", [needle]).fetchone()[0]
                if count:
                    hits.append(f"{table}.{column}")
        return hits
    finally:
        con.close()


def test_no_written_file_and_no_output_holds_a_token(cron):
    assert all(code == 0 for code in cron.codes.values()), cron.codes
    files = [p for p in cron.folder.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"raw.duckdb", "processhealth.duckdb", "report.html", "audit.html", "collect.log",
            "build.log"} <= names
    assert {p.name: found_in_bytes(p.read_bytes()) for p in files if found_in_bytes(
        p.read_bytes())} == {}
    for db in ("raw.duckdb", "processhealth.duckdb"):
        assert found_in_columns(cron.folder / db) == [], db
    assert {k: found_in_bytes(v.encode()) for k, v in cron.outputs.items()
            if found_in_bytes(v.encode())} == {}


def test_a_refused_token_is_not_echoed(cron, apis, tmp_path):
    from .support import write_config

    wrong = {"GITHUB_TOKEN": "ghp_WRONGwrongWRONG0123456789", "JIRA_EMAIL": JIRA_EMAIL,
             "JIRA_TOKEN": "ATATT3xWRONGjiraTOKEN", "SLACK_TOKEN": "xoxb-WRONG-slack-token"}
    config = write_config(tmp_path, apis.urls)
    for source in ("github", "jira", "slack"):
        result = invoke(config, "collect", "--source", source, environ=wrong)
        assert result.exit_code == 2, result.output
        assert not [v for v in wrong.values() if v in result.output and v != JIRA_EMAIL]


def test_the_search_finds_a_token_where_one_is(tmp_path):
    """Control: the byte search and the column search do find a planted token."""
    leak = tmp_path / "leak.duckdb"
    con = duckdb.connect(str(leak))
    con.execute("CREATE TABLE t(payload JSON)")
    con.execute("INSERT INTO t SELECT json_object('h', ?) FROM range(5000)",
                [f"Bearer {TOKENS['SLACK_TOKEN']}"])
    con.close()
    assert found_in_columns(leak) == ["t.payload"]
    assert found_in_bytes(f"x{NEEDLES[-1]}y".encode()) == [NEEDLES[-1]]
