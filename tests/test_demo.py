"""`processhealth demo` end to end, on the small organization: emulators, real clients, report."""

import duckdb
import pytest

from processhealth.config import load_config
from processhealth.demo import run_demo
from simulation import OrgSpec

pytestmark = pytest.mark.slow  # builds whole organizations (see tests/conftest.py)


def test_demo_collects_builds_and_reports_with_the_process_changes_recorded(tmp_path):
    report = run_demo(tmp_path / "out", seed=3, spec=OrgSpec.small(months=2))
    html = report.read_text(encoding="utf-8")
    assert report.name == "report.html" and "<svg" in html and "http://" not in html.split(
        "<body", 1)[0]
    con = duckdb.connect(str(tmp_path / "out" / "processhealth.duckdb"), read_only=True)
    try:
        sources = {s for (s,) in con.execute("SELECT DISTINCT source FROM events").fetchall()}
        changes = {c for (c,) in con.execute("SELECT name FROM process_changes").fetchall()}
        # collected today, after the simulated months: every month is whole
        whole = con.execute("SELECT count(*), count(*) FILTER (WHERE month_complete)"
                            " FROM health_verdicts").fetchone()
    finally:
        con.close()
    assert whole[0] > 0 and whole[0] == whole[1]
    raw_path = load_config(tmp_path / "out" / "processhealth.toml").storage.raw_path
    with duckdb.connect(str(raw_path), read_only=True) as raw:
        runs = raw.execute("SELECT source, count(*), bool_and(started_at <= finished_at"
                           " AND NOT full_pass) FROM sync_runs GROUP BY ALL ORDER BY 1").fetchall()
    assert runs == [("github", 1, True), ("jira", 1, True), ("slack", 1, True)]
    assert sources == {"github", "jira", "slack"}
    assert changes == {"pm-tool-borealis", "tech-experiments-cobalt"}
    assert (tmp_path / "out" / "truth.duckdb").exists()
