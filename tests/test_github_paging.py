"""A list GitHub stops paging: 422 "pagination is limited for this resource".

GitHub serves a repository's issue comments (GET /repos/{o}/{r}/issues/comments, the list the
collector reads oldest first with `since`) to about 40,000 items, then answers the page its own
Link header named with 422 (singer-io/tap-github#61: page 1334 of 30 on gatsbyjs/gatsby, read by
following the Link header). The emulator plays it for the lists a test plants in
`paging_limit`, scaled down."""

from __future__ import annotations

from pathlib import Path

from shared_cache import shared_org
from test_github_support import TINY_SPEC, github_config, raw_rows, served

from collectors import github
from processhealth.simload import github as simload
from processhealth.store import RawStore


def collect(path: Path, url: str, **overrides) -> None:
    with RawStore(path) as store:
        github.collect(github_config(url, **overrides), store)


def test_a_list_paging_stops_is_asked_again_from_its_checkpoint_and_read_whole(
        tmp_path, monkeypatch):
    """At 20 comments a list (pages of 10): the run saves what it read and asks again from the
    newest comment read (`since`), until the list ends. It stopped the whole GitHub collection
    (exit 2) at the first repository with more than 20, at every run."""
    org = shared_org(11, TINY_SPEC)
    with served(org, monkeypatch) as s:
        with RawStore(tmp_path / "want.duckdb") as store:
            simload.load(org, store, base_url=s.url)
        s.app.paging_limit = {"issues/comments": 20}
        collect(tmp_path / "raw.duckdb", s.url, per_page=10)
        asked = [line for line in s.app.stats.log if "/issues/comments" in line]
    assert raw_rows(tmp_path / "raw.duckdb") == raw_rows(tmp_path / "want.duckdb")
    assert any("since=" in line for line in asked[1:])  # asked again past the 20th
    with RawStore(tmp_path / "raw.duckdb", read_only=True) as store:
        assert store.con.execute("SELECT count(*) FROM sync_coverage").fetchone() == (0,)


def test_a_list_that_gets_no_further_is_a_capped_gap_and_the_rest_is_collected(
        tmp_path, monkeypatch, capsys):
    """More comments in one second than the list serves: asking again from that second reads
    the same ones. What was read is kept, the rest of that list is a `capped` gap (in the
    report's caveats), and the other lists and repositories are collected."""
    org = shared_org(11, TINY_SPEC)
    mine = sorted((c for c in org.github.issue_comments if c.repo == "borealis-app"),
                  key=lambda c: (c.created_at, c.id))
    for c in mine[:12]:
        c.created_at = mine[11].created_at  # twelve comments in one second
    with served(org, monkeypatch) as s:
        s.app.paging_limit = {"issues/comments": 10}
        collect(tmp_path / "raw.duckdb", s.url, per_page=10)
        with RawStore(tmp_path / "want.duckdb") as store:
            simload.load(org, store, base_url=s.url)
    got, want = raw_rows(tmp_path / "raw.duckdb"), raw_rows(tmp_path / "want.duckdb")
    comments = {k for k, scope, *_ in got["raw_github_issue_comments"]
                if scope == "acme/borealis-app"}
    assert len(comments) == 10  # the first page, kept
    assert {k for k, scope, *_ in want["raw_github_issue_comments"]
            if scope == "acme/borealis-app"} >= comments
    for table in ("raw_github_issues", "raw_github_commits", "raw_github_reviews"):
        assert got[table] == want[table], table
    with RawStore(tmp_path / "raw.duckdb", read_only=True) as store:
        assert store.con.execute("SELECT entity, scope, status FROM sync_coverage").fetchall(
            ) == [("issue_comments", "acme/borealis-app", "capped")]
    assert "pagination is limited for this resource" in capsys.readouterr().err
