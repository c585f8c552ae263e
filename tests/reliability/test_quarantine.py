"""One raw row that cannot be normalized is set aside with a warning naming source, entity and
key (source_coverage, status 'quarantined'); it never blocks the build. The rows are planted
straight into a copy of the session's raw store, as an older collector or a hand-edited import
would have left them."""

from __future__ import annotations

import json

import duckdb

from reports.coverage import gaps
from reports.db import AnalyticsDB

from .support import SECRETS_ENV, copy_db, invoke, write_config


def _plant(raw, table, key, change):
    con = duckdb.connect(str(raw))
    try:
        row = con.execute(f"SELECT natural_key, scope, payload FROM {table} LIMIT 1").fetchone()
        payload = json.loads(row[2])
        change(payload)
        con.execute(f"INSERT INTO {table}(natural_key, scope, updated_at, fetched_at,"
                    f" source_url, collector_version, payload)"
                    f" VALUES (?, ?, NULL, now(), NULL, 'test', ?)",
                    [key, row[1], json.dumps(payload)])
    finally:
        con.close()


def test_unreadable_raw_rows_are_quarantined_and_the_build_goes_on(built, tmp_path):
    raw, analytics, _ = built
    copy_db(raw, tmp_path / "raw.duckdb")
    config = write_config(tmp_path, {s: "http://127.0.0.1:1" for s in ("github", "jira",
                                                                        "slack")})

    def no_created(p):
        p["key"], p["id"] = "ATL-9999", "999999"
        p["fields"].pop("created", None)

    def bad_history(p):
        p["key"], p["id"] = "ATL-9998", "999998"
        p.setdefault("changelog", {})["histories"] = [{"id": "1", "created": "yesterday",
                                                       "items": []}]

    def no_number(p):
        p["number"] = "many"

    def bad_ts(p):
        p["ts"] = "yesterday"

    _plant(tmp_path / "raw.duckdb", "raw_jira_issues", "ATL-9999", no_created)
    _plant(tmp_path / "raw.duckdb", "raw_jira_issues", "ATL-9998", bad_history)
    _plant(tmp_path / "raw.duckdb", "raw_github_issues", "acme/atlas-app#99999", no_number)
    _plant(tmp_path / "raw.duckdb", "raw_slack_messages", "C0/yesterday", bad_ts)
    result = invoke(config, "build", environ=SECRETS_ENV)
    assert result.exit_code == 0, result.output
    for words in ("jira issues ATL-9999", "jira issues ATL-9998",
                  "github issues acme/atlas-app#99999", "slack messages C0/yesterday"):
        assert words in result.output, result.output
    con = duckdb.connect(str(tmp_path / "processhealth.duckdb"), read_only=True)
    try:
        assert sorted(con.execute("SELECT source, entity, item FROM source_coverage WHERE status"
                                  " = 'quarantined'").fetchall()) == [
            ("github", "issues", "acme/atlas-app#99999"), ("jira", "issues", "ATL-9998"),
            ("jira", "issues", "ATL-9999"), ("slack", "messages", "C0/yesterday")]
        # everything else is built as before
        clean = duckdb.connect(str(analytics), read_only=True)
        try:
            for table in ("work_items", "events"):
                want = clean.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == want
        finally:
            clean.close()
    finally:
        con.close()
    # the report's caveats count them per source and entity
    with AnalyticsDB.open(tmp_path / "processhealth.duckdb") as db:
        shown = {(g["source"], g["what"]) for g in gaps(db)}
    assert ("Jira", "issues (2 rows, e.g. ATL-9998)") in shown
    assert ("Slack", "messages (1 row, e.g. C0/yesterday)") in shown


def test_raw_rows_copied_by_hand_are_named_with_the_fix_and_the_fix_builds(built, tmp_path):
    """A raw store holds one row per natural key (RawStore.save upserts). A copy written by
    another program or by hand made Slack events repeat, and the build blamed normalization
    ("a bug in collectors/sql"). It names the raw table and key, leaves the database as it was,
    and its DELETE (keep the latest copy) makes the next build the clean one."""
    raw, analytics, _ = built
    copy_db(raw, tmp_path / "raw.duckdb")
    config = write_config(tmp_path, {s: "http://127.0.0.1:1" for s in ("github", "jira",
                                                                        "slack")})
    # three copies as other programs write them: with a newer seq, the same seq, no seq
    with duckdb.connect(str(tmp_path / "raw.duckdb")) as con:
        keys = [k for (k,) in con.execute("SELECT natural_key FROM raw_slack_messages"
                                          " ORDER BY natural_key LIMIT 3").fetchall()]
        for key, seq in zip(keys, ("(SELECT max(seq) + 1 FROM raw_slack_messages)", "seq",
                                   "NULL"), strict=True):
            con.execute(f"INSERT INTO raw_slack_messages SELECT * REPLACE ({seq} AS seq)"
                        f" FROM raw_slack_messages WHERE natural_key = ?", [key])
    result = invoke(config, "build", environ=SECRETS_ENV)
    assert result.exit_code != 0
    said = " ".join(result.output.split())
    assert (f"holds some rows of raw_slack_messages more than once, e.g. {', '.join(keys)}:"
            in said), said
    assert "collectors/sql" not in said
    assert not (tmp_path / "processhealth.duckdb").exists()
    fix = said[said.index("DELETE FROM"):said.index("), then build again")]
    with duckdb.connect(str(tmp_path / "raw.duckdb")) as con:
        con.execute(fix)
        assert con.execute("SELECT natural_key, count(*), bool_and(seq IS NOT NULL) FROM"
                           " raw_slack_messages WHERE natural_key IN (?, ?, ?) GROUP BY ALL"
                           " ORDER BY ALL", keys).fetchall() == [(k, 1, True) for k in keys]
    result = invoke(config, "build", environ=SECRETS_ENV)
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(tmp_path / "processhealth.duckdb"), read_only=True) as con, \
            duckdb.connect(str(analytics), read_only=True) as clean:
        for table in ("work_items", "events"):
            want = clean.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == want
