"""A reader holds the analytics database open (a BI tool, a notebook) while `collect` and `build`
run: both succeed, the reader never fails, and a reader opening the file during the build always
finds a complete database, the old one or the new one."""

from __future__ import annotations

import duckdb


def test_collect_and_build_succeed_while_a_reader_holds_the_database(cron):
    assert cron.codes["collect"] == 0, cron.outputs["collect"]
    assert cron.codes["build"] == 0, cron.outputs["build"]
    code, out, err = cron.reader
    assert code == 0, err
    queries, fresh_opens = map(int, out.split())
    assert queries > 10 and fresh_opens >= 1
    con = duckdb.connect(str(cron.folder / "processhealth.duckdb"), read_only=True)
    try:  # the new database is in place: it holds the planted organization
        keys = {r[0] for r in con.execute("SELECT key FROM work_items WHERE source = 'jira'")
                .fetchall()}
    finally:
        con.close()
    assert cron.planted.jira_key in keys
    leftovers = [p.name for p in cron.folder.iterdir() if ".building-" in p.name]
    assert leftovers == []
