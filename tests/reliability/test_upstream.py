"""Upstream changes between collections, through the real clients against the emulators (on an
organization of this module's own, which the tests change as users would upstream):

- a Jira issue moved to another project (same id, new key) is one item, and the build stays
  green, after an incremental `collect` and after `collect --full`;
- items deleted upstream (a Jira issue, a GitHub issue with its comment, a Slack message) are
  marked deleted by the next full pass (sync_deleted) and left out of analytics."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from .support import SECRETS_ENV, invoke, make_org, served, write_config


@dataclass
class Story:
    folder: Path
    moved: tuple[str, str]  # old key, new key
    jira_deleted: str
    gh_deleted: str  # acme/repo#number
    gh_comment: int
    slack_deleted: str  # channel/ts
    before: set[str]  # the Jira items before the changes
    after_incremental: Path
    after_full: Path
    outputs: dict[str, str]
    raw: Path


def _run(config: Path, *args: str) -> str:
    result = invoke(config, *args, environ=SECRETS_ENV)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.output


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> Story:
    org = make_org()
    folder = tmp_path_factory.mktemp("upstream")
    outputs = {}
    with served(org) as apis:
        config = write_config(folder, apis.urls)
        _run(config, "collect")
        # upstream: an issue moves to another project, another is deleted
        jira = apis.apps["jira"]
        keys = [i.key for i in org.jira.issues]
        before = {f"jira:{key}" for key in keys}
        old_key = keys[2]
        new_key = jira.move_issue(old_key, "MOV", "Moved here")
        jira_deleted = keys[3]
        jira.delete_issue(jira_deleted)
        # a GitHub issue (not a PR) with a comment is deleted, and its comments with it
        g = org.github
        commented = {(c.repo, c.number) for c in g.issue_comments if c.review_id is None}
        issue = next(i for i in g.issues if not i.is_pr and (i.repo, i.number) in commented)
        comment = next(c for c in g.issue_comments if (c.repo, c.number)
                       == (issue.repo, issue.number))
        g.issues.remove(issue)
        g.issue_comments = [c for c in g.issue_comments
                            if (c.repo, c.number) != (issue.repo, issue.number)]
        apis.apps["github"].reload()
        # a top-level Slack message without replies is deleted
        channel = next(c for c in org.slack.channels
                       if any(not m.replies and m.subtype is None for m in c.messages))
        message = next(m for m in channel.messages if not m.replies and m.subtype is None)
        channel.messages.remove(message)
        apis.apps["slack"].refresh()
        outputs["collect"] = _run(config, "collect")
        outputs["build"] = _run(config, "build")
        incremental = shutil.copy(folder / "processhealth.duckdb", folder / "incremental.duckdb")
        outputs["full"] = _run(config, "collect", "--full")
        outputs["build-full"] = _run(config, "build")
    return Story(folder, (old_key, new_key), jira_deleted,
                 f"acme/{issue.repo}#{issue.number}", comment.id,
                 f"{channel.id}/{message.ts}", before, Path(incremental),
                 folder / "processhealth.duckdb", outputs, folder / "raw.duckdb")


def _q(path: Path, sql: str, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _jira_items(path: Path) -> set[str]:
    return {r[0] for r in _q(path, "SELECT item_id FROM work_items WHERE source = 'jira'")}


def test_a_moved_jira_issue_is_one_item_after_an_incremental_collect(story):
    old, new = story.moved
    before, after = story.before, _jira_items(story.after_incremental)
    assert f"jira:{old}" in before and f"jira:{new}" not in before
    assert f"jira:{new}" in after and f"jira:{old}" not in after
    # nothing else changed by the move (the deleted issue is still counted until a full pass)
    assert after == (before - {f"jira:{old}"}) | {f"jira:{new}"}
    events = _q(story.after_incremental, "SELECT count(*) FROM events WHERE item_id = ?",
                [f"jira:{old}"])[0][0]
    assert events == 0


def test_a_moved_jira_issue_is_one_item_after_a_full_collect(story):
    old, new = story.moved
    items = _jira_items(story.after_full)
    assert f"jira:{new}" in items and f"jira:{old}" not in items
    assert ("jira", "issues", old) in _q(
        story.raw, "SELECT source, entity, natural_key FROM sync_deleted")


def test_items_deleted_upstream_are_marked_and_left_out_after_a_full_pass(story):
    marked = set(_q(story.raw, "SELECT source, entity, natural_key FROM sync_deleted"))
    assert {("jira", "issues", story.jira_deleted), ("github", "issues", story.gh_deleted),
            ("github", "issue_comments", str(story.gh_comment)),
            ("slack", "messages", story.slack_deleted)} <= marked
    # only those (and the moved issue's old key)
    assert len(marked) == 5, marked
    # still counted after the incremental run, gone after the full one
    for db, present in ((story.after_incremental, True), (story.after_full, False)):
        assert (f"jira:{story.jira_deleted}" in _jira_items(db)) is present
        gh = _q(db, "SELECT count(*) FROM work_items WHERE item_id = ?",
                [f"github:{story.gh_deleted}"])[0][0]
        assert (gh == 1) is present
        comments = _q(db, "SELECT count(*) FROM events WHERE event_id = ?",
                      [f"github:issue_comment:{story.gh_comment}"])[0][0]
        assert (comments == 1) is present
    full_slack = _q(story.after_full, "SELECT count(*) FROM events WHERE source = 'slack'")[0][0]
    incr_slack = _q(story.after_incremental,
                    "SELECT count(*) FROM events WHERE source = 'slack'")[0][0]
    assert full_slack == incr_slack - 1
    assert "no longer found" in story.outputs["full"]
    # the raw rows are kept (the raw store is the record of what was read)
    assert _q(story.raw, "SELECT count(*) FROM raw_jira_issues WHERE natural_key = ?",
              [story.jira_deleted])[0][0] == 1


def test_a_commit_rewritten_by_a_force_push_is_counted_once(built, tmp_path):
    """The raw store holds a commit and its rewrite (new sha, same author, author time and
    message), as after a force-push: one commit event, as before."""
    import json

    from .support import copy_db

    raw, analytics, _ = built
    copy_db(raw, tmp_path / "raw.duckdb")
    config = write_config(tmp_path, {s: "http://127.0.0.1:1" for s in ("github", "jira",
                                                                        "slack")})
    con = duckdb.connect(str(tmp_path / "raw.duckdb"))
    try:
        key, scope, payload = con.execute(
            "SELECT natural_key, scope, payload FROM raw_github_commits"
            " ORDER BY natural_key LIMIT 1").fetchone()
        rewritten = json.loads(payload)
        rewritten["sha"] = "f" * 40
        rewritten["commit"]["committer"]["date"] = "2026-03-01T00:00:00Z"
        con.execute("INSERT INTO raw_github_commits(natural_key, scope, updated_at, fetched_at,"
                    " source_url, collector_version, payload)"
                    " VALUES (?, ?, NULL, now(), NULL, 'test', ?)",
                    [f"{scope}@{'f' * 40}", scope, json.dumps(rewritten)])
    finally:
        con.close()
    _run(config, "build")
    count = "SELECT count(*) FROM events WHERE kind = 'commit'"
    assert _q(tmp_path / "processhealth.duckdb", count) == _q(analytics, count)
