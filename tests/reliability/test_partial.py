"""Partial availability: what a server lacks or a token cannot see is skipped with one warning
and a coverage row (sync_coverage in the raw store, source_coverage in the analytics database,
the report's caveats), and the run exits 0 when everything it could read was saved. Through the
real clients against the emulators, whose `absent` fault answers 404/410 for chosen paths."""

from __future__ import annotations

import duckdb

from .support import SECRETS_ENV, digest, invoke, write_config


def _rows(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_jira_without_the_agile_api_saves_the_issues_warns_once_and_exits_0(fresh_apis,
                                                                            tmp_path):
    fresh_apis.apps["jira"].faults.absent = {r"^/rest/agile/": 404}
    config = write_config(tmp_path, fresh_apis.urls)
    result = invoke(config, "collect", "--source", "jira", environ=SECRETS_ENV)
    assert result.exit_code == 0, result.output
    assert result.output.count("no agile API") == 1, result.output
    raw = tmp_path / "raw.duckdb"
    assert _rows(raw, "SELECT count(*) FROM raw_jira_issues")[0][0] > 0
    assert _rows(raw, "SELECT count(*) FROM duckdb_tables() WHERE table_name IN"
                 " ('raw_jira_sprints', 'raw_jira_boards')")[0][0] == 0
    assert _rows(raw, "SELECT source, entity, status FROM sync_coverage") == [
        ("jira", "sprints", "missing")]
    # `collect && build` builds, and the report's caveats say what is missing
    built = invoke(config, "build", environ=SECRETS_ENV)
    assert built.exit_code == 0, built.output
    analytics = tmp_path / "processhealth.duckdb"
    assert _rows(analytics, "SELECT source, entity, status FROM source_coverage") == [
        ("jira", "sprints", "missing")]
    report = invoke(config, "report", "--out", str(tmp_path / "out"), environ=SECRETS_ENV)
    assert report.exit_code == 0, report.output
    html = "".join(p.read_text() for p in (tmp_path / "out").glob("*.html"))
    assert "the server has none (404)" in html and "/rest/agile/1.0/board" in html


def test_jira_sprints_switched_off_asks_nothing_of_the_agile_api(fresh_apis, tmp_path):
    config = write_config(tmp_path, fresh_apis.urls)
    config.write_text(config.read_text().replace(
        f'base_url = "{fresh_apis.urls["jira"]}"',
        f'base_url = "{fresh_apis.urls["jira"]}"\nsprints = false'))
    result = invoke(config, "collect", "--source", "jira", environ=SECRETS_ENV)
    assert result.exit_code == 0, result.output
    assert "agile" not in result.output
    assert not any("/rest/agile/" in line for line in fresh_apis.apps["jira"].stats.log)
    assert _rows(tmp_path / "raw.duckdb", "SELECT status, detail FROM sync_coverage") == [
        ("off", "[jira] sprints = false")]
    # a later run with the agile API forgets the old gap
    config.write_text(config.read_text().replace("sprints = false", "sprints = true"))
    again = invoke(config, "collect", "--source", "jira", environ=SECRETS_ENV)
    assert again.exit_code == 0, again.output
    assert _rows(tmp_path / "raw.duckdb", "SELECT count(*) FROM sync_coverage")[0][0] == 0
    assert _rows(tmp_path / "raw.duckdb", "SELECT count(*) FROM raw_jira_sprints")[0][0] > 0


def test_a_github_list_a_repository_lacks_is_skipped_and_the_rest_collected(
        fresh_apis, tmp_path, clean_collections):
    """Issues disabled on the first repository (410): its issues are skipped with a warning;
    its other lists, the next repository and the user profiles are collected as usual."""
    fresh_apis.reset()
    fresh_apis.apps["github"].faults.absent = {r"^/repos/acme/atlas-app/issues$": 410}
    config = write_config(tmp_path, fresh_apis.urls)
    result = invoke(config, "collect", "--source", "github", environ=SECRETS_ENV)
    assert result.exit_code == 0, result.output
    assert result.output.count("Issues are disabled") == 1, result.output
    raw = tmp_path / "raw.duckdb"
    assert _rows(raw, "SELECT entity, scope, status FROM sync_coverage") == [
        ("issues", "acme/atlas-app", "gone")]
    assert _rows(raw, "SELECT count(*) FROM raw_github_issues WHERE scope = 'acme/atlas-app'"
                 )[0][0] == 0
    assert _rows(raw, "SELECT cursor FROM sync_state WHERE entity = 'issues'"
                 " AND scope = 'acme/atlas-app'") == []
    want, _ = clean_collections["github"]
    got = digest(raw)
    # everything else equals a clean collection: pulls of the same repository, the next
    # repository's lists, the user profiles
    for table in ("raw_github_pulls", "raw_github_users", "raw_github_commits",
                  "raw_github_issue_comments", "raw_github_reviews"):
        assert got[table] == want[table], table
    assert got["raw_github_issues"][0] < want["raw_github_issues"][0]
    assert any(line.startswith("GET /repos/acme/platform-infra/issues?")
               for line in fresh_apis.apps["github"].stats.log)


def test_a_failing_source_still_exits_2(fresh_apis, tmp_path):
    """A 5xx outage is not partial coverage: exit 2, no coverage row claims otherwise."""
    fresh_apis.apps["jira"].faults.absent = {r"/search": 502}
    config = write_config(tmp_path, fresh_apis.urls)
    result = invoke(config, "collect", "--source", "jira", environ=SECRETS_ENV)
    assert result.exit_code == 2, result.output


def test_a_github_404_on_one_list_of_an_existing_repository_is_partial(fresh_apis, tmp_path):
    fresh_apis.apps["github"].faults.absent = {r"^/repos/acme/platform-infra/releases$": 404}
    config = write_config(tmp_path, fresh_apis.urls)
    result = invoke(config, "collect", "--source", "github", environ=SECRETS_ENV)
    assert result.exit_code == 0, result.output
    assert _rows(tmp_path / "raw.duckdb", "SELECT entity, scope, status FROM sync_coverage") == [
        ("releases", "acme/platform-infra", "missing")]


def test_a_slack_channel_the_app_is_not_in_is_a_coverage_row(fresh_apis, tmp_path):
    slack = fresh_apis.apps["slack"]
    public = [c for c in slack.org.slack.channels if not c.is_im and not c.is_private]
    left_out = public[0]
    slack.member_of = {c.id for c in slack.org.slack.channels if not c.is_im} - {left_out.id}
    slack.refresh()
    try:
        config = write_config(tmp_path, fresh_apis.urls)
        result = invoke(config, "collect", "--source", "slack", environ=SECRETS_ENV)
    finally:
        slack.member_of = None
        slack.refresh()
    assert result.exit_code == 0, result.output
    assert _rows(tmp_path / "raw.duckdb", "SELECT entity, scope, status FROM sync_coverage") == [
        ("messages", f"#{left_out.name}", "forbidden")]


def test_a_jira_issue_gone_between_search_and_its_comments_keeps_what_the_search_sent(
        fresh_apis, tmp_path):
    """Comments are inlined up to a cap; the rest come from /issue/KEY/comment, which answers
    404 once the issue is deleted or moved since the search: a warning, exit 0."""
    jira = fresh_apis.apps["jira"]
    busiest = max(jira.org.jira.issues, key=lambda i: len(i.comments))
    jira.child_cap = 2
    jira.faults.absent = {rf"/issue/{busiest.key}/comment$": 404}
    try:
        config = write_config(tmp_path, fresh_apis.urls)
        result = invoke(config, "collect", "--source", "jira", environ=SECRETS_ENV)
    finally:
        jira.child_cap = 20
    assert result.exit_code == 0, result.output
    assert f"Jira issue {busiest.key} is gone since the search" in result.output
    comments = _rows(tmp_path / "raw.duckdb", "SELECT json_array_length(payload->'$.fields"
                     f".comment.comments') FROM raw_jira_issues WHERE natural_key = "
                     f"'{busiest.key}'")
    assert comments == [(2,)]
