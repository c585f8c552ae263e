"""With tokens set, no written file (databases, reports, logs) and no output contains them.

The cron run (conftest `cron`) collects from all three sources with tokens in the environment,
builds, writes the report and the audit, and runs `sql`, `people` and `doctor --online`. Every
file it leaves is searched byte for byte, every text column of both databases row by row (DuckDB
compresses strings, so bytes alone could miss one), and everything each command printed. A wrong
token is refused without being echoed either. The same holds for a GitHub App's private key and
the installation tokens it is exchanged for.
"""

from __future__ import annotations

import base64

import duckdb
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from simulation.github_app import InstalledApp

from .support import JIRA_EMAIL, SECRETS_ENV, TOKENS, invoke, write_config

NEEDLES = [*TOKENS.values(),
           base64.b64encode(f"{JIRA_EMAIL}:{TOKENS['JIRA_TOKEN']}".encode()).decode()]


def found_in_bytes(data: bytes, needles: list[str] = NEEDLES) -> list[str]:
    return [n for n in needles if n.encode() in data or n.encode("utf-16-le") in data]


def found_in_columns(path, needles: list[str] = NEEDLES) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name ="
            " current_database() AND data_type IN ('VARCHAR', 'JSON') AND NOT internal"
        ).fetchall()
        hits = []
        for table, column in columns:  # one scan per column, for any of the needles
            where = " OR ".join([f'contains("{column}"::VARCHAR, ?)'] * len(needles))
            count = con.execute(f'SELECT count(*) FROM "{table}" WHERE {where}',
                                needles).fetchone()[0]
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


def test_a_github_app_key_and_its_tokens_are_not_written_or_shown(apis, tmp_path):
    """Collect, build and doctor --online signed in as a GitHub App (key in an environment
    variable), then a refused sign-in: no file, column or output holds a line of the key or an
    installation token the emulator issued."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    github = apis.apps["github"]
    github.install_app(InstalledApp(4711, public, 99))
    try:
        app_keys = ('auth = "app"\napp_id = {}\ninstallation_id = 99\n'
                    'private_key = "${{GITHUB_APP_PRIVATE_KEY}}"')
        config = write_config(tmp_path, apis.urls, github=app_keys.format(4711))
        environ = {**SECRETS_ENV, "GITHUB_APP_PRIVATE_KEY": private}
        outputs = {}
        for args in (["collect", "--source", "github"], ["build"], ["doctor", "--online"]):
            result = invoke(config, *args, environ=environ)
            outputs[args[0]] = result.output
            assert result.exit_code == 0 or args[0] == "doctor", result.output
        assert "GitHub App processhealth-reader" in outputs["doctor"].replace("\n", " ")
        wrong = write_config(tmp_path / "wrong", apis.urls, github=app_keys.format(4712))
        refused = invoke(wrong, "collect", "--source", "github", environ=environ)
        assert refused.exit_code == 2 and "refused the GitHub App sign-in" in refused.output
        outputs["refused"] = refused.output
        tokens = list(github.app_tokens)
    finally:
        del github.installed_app, github.app_tokens
    needles = [line for line in private.splitlines() if "-----" not in line] + tokens
    assert len(needles) > 20 and len(tokens) >= 2  # collect and doctor each got one
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"raw.duckdb", "processhealth.duckdb"} <= {p.name for p in files}
    assert {p.name: hits for p in files if (hits := found_in_bytes(p.read_bytes(), needles))} \
        == {}
    for db in ("raw.duckdb", "processhealth.duckdb"):
        assert found_in_columns(tmp_path / db, needles) == [], db
    assert {k: hits for k, v in outputs.items()
            if (hits := found_in_bytes(v.encode(), needles))} == {}
    assert found_in_bytes(private[100:400].encode(), needles)  # control: the search finds one
