"""An incremental build normalizes GitHub again only for the units touched since the last build
(processhealth/github_delta.py) and gives what a full build gives, across the parts that join
items: new commits in an existing pull request, a title change that makes the key rule give an
old commit to another pull request, a rebased commit (the duplicate with the lower key is now the
one kept), a landing commit "(#N)" of a pull request merged now, a comment with a result on an
old issue, an issue deleted upstream and found again, a login changed in one payload (identities
aggregate every payload), an issue that becomes unreadable and is then fixed, who merged an old
pull request, review comments with a result (one moved to another pull request), an old commit
redated in place; and a repository renamed (GitHub from all its rows, with the reason)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from test_incremental import build, compare, make_org_store
from test_jira_delta import _sql

from processhealth import github_delta, incremental
from processhealth.simload import replay
from processhealth.store import RawStore


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch)


def _payload(raw: Path, entity: str, key: str) -> dict:
    [(text,)] = _sql(raw, f"SELECT payload::VARCHAR FROM raw_github_{entity}"
                          f" WHERE natural_key = ?", [key])
    return orjson.loads(text)


def _save(raw: Path, entity: str, scope: str, rows: list[tuple[str, dict]]) -> None:
    with RawStore(raw) as store:
        assert store.save("github", entity, [
            {"natural_key": key, "payload": payload, "updated_at": None}
            for key, payload in rows], scope=scope) == len(rows)


def _refs(config) -> dict[str, list[tuple]]:
    """The GitHub refs of the build state (in its refs file) and its own GitHub tables."""
    state = incremental.state_path(config)
    return {t: _sql(incremental.refs_path(state) if t in github_delta.IN_REFS else state,
                    f"SELECT * FROM {t} ORDER BY ALL") for t in github_delta.STATE_TABLES}


def _same_as_full(folder: Path, config, target: Path) -> None:
    """The analytics database and the build state's GitHub part equal those of a full build
    of the same raw store."""
    full_config = config.model_copy(deep=True)
    full_config.storage.analytics_path = folder / "full.duckdb"
    assert build(full_config, full=True).mode == "full"
    assert compare(target, folder / "full.duckdb") == []
    assert _refs(config) == _refs(full_config)


def _rename_a_repository(raw: Path) -> str:
    """The first repository saved again under a new name ("<name>-renamed"); its old name."""
    [(name, scope)] = _sql(raw, "SELECT natural_key, scope FROM raw_github_repos"
                                " ORDER BY natural_key LIMIT 1")
    repo = _payload(raw, "repos", name)
    _save(raw, "repos", scope, [(f"{name}-renamed", {**repo, "name": repo["name"] + "-renamed",
                                                     "full_name": f"{name}-renamed"})])
    return name


def _commit(raw: Path, like: str, sha: str, message: str, date: str) -> dict:
    """A commit payload made from the commit `like`, with another sha, message and date."""
    payload = _payload(raw, "commits", like)
    payload["sha"] = sha
    payload["commit"]["message"] = message
    payload["commit"]["author"]["date"] = date
    return payload


def _merged_prs(raw: Path) -> list[tuple[str, str, int, str]]:
    """(key, repo, number, merged_at) of the merged pull requests with a commits list, in the
    repository that has most, earliest merged first."""
    return _sql(raw, """
        WITH prs AS (
            SELECT p.natural_key AS key, p.scope AS repo, (p.payload ->> 'number')::INTEGER AS n,
                   p.payload ->> 'merged_at' AS merged_at
            FROM raw_github_pulls AS p
            WHERE p.payload ->> 'merged_at' IS NOT NULL
              AND EXISTS (SELECT 1 FROM raw_github_pull_commits AS c
                          WHERE c.natural_key LIKE p.natural_key || '@%'))
        SELECT * FROM prs WHERE repo = (SELECT repo FROM prs GROUP BY repo
                                         ORDER BY count(*) DESC, repo LIMIT 1)
        ORDER BY merged_at, key""")


@pytest.mark.slow  # five builds
@pytest.mark.extended  # about 20 s; CI runs it after the suite
def test_github_is_normalized_again_only_for_the_units_touched(org_store):
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert replay.split_last_month(raw, folder / "held.duckdb") > 0
    prs = _merged_prs(raw)
    assert len(prs) >= 10
    (early, repo, _, _), landed, extended, rebased_pr = prs[0], prs[1], prs[2], prs[3]
    late = prs[-1][0]
    [(like,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_commits WHERE scope = ?",
                     [repo])

    # before the first build: a commit in no pull request's list naming ATL-9999, which only
    # `late` names (the key rule gives it `late`); `landed` still open, with a commit
    # "... (#N)" that will land it once it is merged
    orphan = f"{repo}@{'c0' * 20}"
    landing = f"{repo}@{'1a' * 20}"
    _save(raw, "commits", repo, [
        (orphan, _commit(raw, like, "c0" * 20, "ATL-9999 orphan work", "2020-01-01T00:00:00Z")),
        (landing, _commit(raw, like, "1a" * 20, f"Ship it (#{landed[2]})\n\nbody",
                          "2020-01-02T00:00:00Z"))])
    issue = _payload(raw, "issues", late)
    _save(raw, "issues", repo, [(late, {**issue, "title": "ATL-9999 " + issue["title"]})])
    landed_issue, landed_pull = _payload(raw, "issues", landed[0]), _payload(raw, "pulls",
                                                                             landed[0])
    _save(raw, "issues", repo, [(landed[0], {
        **landed_issue, "state": "open", "closed_at": None,
        "pull_request": {**landed_issue["pull_request"], "merged_at": None}})])
    _save(raw, "pulls", repo, [(landed[0], {**landed_pull, "state": "open", "closed_at": None,
                                            "merged_at": None})])
    # a review comment with a result on a pull request (moved to another one below)
    [(review_like,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_review_comments")
    moving = _payload(raw, "review_comments", review_like)
    moving.update(id=998000002, created_at="2026-01-15T00:00:00Z",
                  pull_request_url=f"http://127.0.0.1:1/repos/{repo}/pulls/{prs[7][2]}")
    moving["body_flags"] = {**moving["body_flags"], "has_result": True}
    _save(raw, "review_comments", repo, [("998000002", moving)])
    assert build(config).mode == "full"
    [(before,)] = _sql(target, "SELECT item_id FROM events WHERE event_id = ?",
                       [f"github:commit:{orphan}"])
    assert before == f"github:{late}"

    # a month of new rows, then
    assert replay.append(raw, folder / "held.duckdb") > 0
    # `early` now names ATL-9999 too, and closed first: the orphan commit is now its
    issue = _payload(raw, "issues", early)
    _save(raw, "issues", repo, [(early, {**issue, "title": "ATL-9999 " + issue["title"]})])
    # `landed` merged: the old "(#N)" commit is its landing commit (weight 0)
    _save(raw, "issues", repo, [(landed[0], landed_issue)])
    _save(raw, "pulls", repo, [(landed[0], landed_pull)])
    # a new commit in the list of `extended`
    [(listed,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_pull_commits"
                            " WHERE natural_key LIKE ?", [f"{extended[0]}@%"])
    added = _payload(raw, "pull_commits", listed)
    added["sha"] = "e1" * 20
    added["commit"]["author"]["date"] = "2030-01-01T00:00:00Z"
    _save(raw, "commits", repo, [(f"{repo}@{'e1' * 20}", added)])
    _save(raw, "pull_commits", repo, [(f"{extended[0]}@{'e1' * 20}", added)])
    # a commit of `rebased_pr` rebased: the same author, time and message, a lower sha (so
    # the copy kept), in no list
    [(twin,)] = _sql(raw, "SELECT min(split_part(natural_key, '@', 2)) FROM"
                          " raw_github_pull_commits WHERE natural_key LIKE ?",
                     [f"{rebased_pr[0]}@%"])
    copy = _payload(raw, "commits", f"{repo}@{twin}")
    _save(raw, "commits", repo, [(f"{repo}@{'00' * 20}", {**copy, "sha": "00" * 20})])
    # who merged an old pull request: a later "merged" event of its issue
    [(merged_like,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_issue_events"
                                 " WHERE payload ->> 'event' = 'merged' AND scope = ?", [repo])
    merged = _payload(raw, "issue_events", merged_like)
    merged.update(id=3999000001, created_at="2030-01-03T00:00:00Z")
    merged["issue"] = {**merged["issue"], "number": prs[6][2]}
    merged["actor"] = {**merged["actor"], "id": 1999999, "login": "merger"}
    _save(raw, "issue_events", repo, [("3999000001", merged)])
    # the review comment with a result now on another pull request (the first one's result
    # goes)
    _save(raw, "review_comments", repo, [("998000002", {
        **moving, "pull_request_url": f"http://127.0.0.1:1/repos/{repo}/pulls/{prs[8][2]}"})])
    # a review comment with a result on an old pull request
    remark = _payload(raw, "review_comments", review_like)
    remark.update(id=998000001, created_at="2030-01-04T00:00:00Z",
                  pull_request_url=f"http://127.0.0.1:1/repos/{repo}/pulls/{prs[4][2]}")
    remark["body_flags"] = {**remark["body_flags"], "has_result": True}
    _save(raw, "review_comments", repo, [("998000001", remark)])
    # an old commit of a list, its author date changed in place (the same pull request: its
    # first commit is now earlier)
    [(moved_commit,)] = _sql(raw, "SELECT min(split_part(natural_key, '@', 2)) FROM"
                                  " raw_github_pull_commits WHERE natural_key LIKE ?",
                             [f"{prs[5][0]}@%"])
    redated = _payload(raw, "commits", f"{repo}@{moved_commit}")
    redated["commit"]["author"]["date"] = "2019-06-01T00:00:00Z"
    _save(raw, "commits", repo, [(f"{repo}@{moved_commit}", redated)])
    # a comment with a result on an old issue (not a pull request)
    [(commented, number)] = _sql(raw, """
        SELECT natural_key, (payload ->> 'number')::INTEGER FROM raw_github_issues
        WHERE scope = ? AND (payload -> '$.pull_request') IS NULL ORDER BY natural_key LIMIT 1""",
                                 [repo])
    [(comment_like,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_issue_comments")
    comment = _payload(raw, "issue_comments", comment_like)
    comment.update(id=999000001, created_at="2030-01-02T00:00:00Z",
                   issue_url=f"http://127.0.0.1:1/repos/{repo}/issues/{number}")
    comment["body_flags"] = {**comment["body_flags"], "has_result": True}
    _save(raw, "issue_comments", repo, [("999000001", comment)])
    # an issue with comments deleted upstream (a full pass of its repository missed it)
    [(gone, gone_scope)] = _sql(raw, """
        SELECT i.natural_key, i.scope FROM raw_github_issues AS i
        WHERE i.natural_key NOT IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) AND EXISTS (
            SELECT 1 FROM raw_github_issue_comments AS c
            WHERE c.payload ->> 'issue_url' LIKE '%/' || i.scope || '/issues/'
                                                 || (i.payload ->> 'number'))
        ORDER BY i.natural_key LIMIT 1""",
                                [early, late, landed[0], extended[0], rebased_pr[0], commented,
                                 prs[4][0], prs[5][0], prs[6][0], prs[7][0],
                                 prs[8][0]])
    scope_keys = [k for (k,) in _sql(raw, "SELECT natural_key FROM raw_github_issues"
                                          " WHERE scope = ?", [gone_scope])]
    with RawStore(raw) as store:
        assert store.mark_deleted("github", "issues", gone_scope,
                                  [k for k in scope_keys if k != gone]) == 1
    # a login changed in one old payload (a review's)
    [(review, review_scope, uid)] = _sql(raw, "SELECT natural_key, scope, payload ->> '$.user.id'"
                                              " FROM raw_github_reviews ORDER BY natural_key"
                                              " LIMIT 1")
    payload = _payload(raw, "reviews", review)
    payload["user"]["login"] = "aaa-renamed"
    _save(raw, "reviews", review_scope, [(review, payload)])
    # a pull request with a ready_for_review event that can no longer be read
    [(bad, bad_scope)] = _sql(raw, """
        SELECT DISTINCT i.natural_key, i.scope FROM raw_github_issues AS i
        JOIN raw_github_issue_events AS e
          ON e.scope = i.scope AND e.payload ->> '$.issue.number' = i.payload ->> 'number'
        WHERE e.payload ->> 'event' = 'ready_for_review'
          AND i.natural_key NOT IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ORDER BY i.natural_key LIMIT 1""", [early, late, landed[0], extended[0], rebased_pr[0],
                                        prs[4][0], prs[5][0], prs[6][0], prs[7][0],
                                        prs[8][0]])
    good = _payload(raw, "issues", bad)
    _save(raw, "issues", bad_scope, [(bad, {**good, "created_at": "soon"})])

    plan = build(config)
    assert plan.mode == "incremental" and "github" in plan.delta and not plan.widened
    assert f"github only for the {plan.touched['github']:,} items touched" in plan.summary()
    [(units,)] = _sql(raw, " UNION ALL ".join(
        f"SELECT count(*) FROM raw_github_{t}" for t in github_delta.TABLES).join(
            ["SELECT sum(n) FROM (", ") AS t(n)"]))
    assert plan.touched["github"] < units / 2
    _same_as_full(folder, config, target)
    # what each change did
    events = dict(_sql(target, "SELECT event_id, item_id FROM events WHERE event_id IN (?, ?)",
                       [f"github:commit:{orphan}", f"github:commit:{landing}"]))
    assert events == {f"github:commit:{orphan}": f"github:{early}",
                      f"github:commit:{landing}": f"github:{landed[0]}"}
    assert _sql(target, "SELECT weight FROM events WHERE event_id = ?",
                [f"github:commit:{landing}"]) == [(0,)]
    assert _sql(target, "SELECT count(*) FROM events WHERE event_id IN (?, ?)",
                [f"github:commit:{repo}@{twin}", f"github:commit:{repo}@{'00' * 20}"]) \
        == [(1,)]
    assert _sql(target, "SELECT item_id, has_result FROM work_items WHERE item_id IN (?, ?)"
                        " ORDER BY ALL", [f"github:{commented}", f"github:{prs[4][0]}"]) \
        == sorted([(f"github:{commented}", True), (f"github:{prs[4][0]}", True)])
    assert _sql(target, "SELECT actor_account FROM events WHERE event_id = ?",
                [f"github:pr_merged:{prs[6][0]}"]) == [("github:1999999",)]
    assert _sql(target, "SELECT item_id, has_result FROM work_items WHERE item_id IN (?, ?)"
                        " ORDER BY ALL", [f"github:{prs[7][0]}", f"github:{prs[8][0]}"]) \
        == sorted([(f"github:{prs[7][0]}", False), (f"github:{prs[8][0]}", True)])
    assert _sql(target, "SELECT started_at FROM work_items WHERE item_id = ?",
                [f"github:{prs[5][0]}"])[0][0].year == 2019
    assert _sql(target, "SELECT count(*) FROM work_items WHERE item_id IN (?, ?)",
                [f"github:{gone}", f"github:{bad}"]) == [(0,)]
    assert _sql(target, "SELECT login FROM identities WHERE source_user_id = ?",
                [uid]) == [("aaa-renamed",)]
    assert _sql(target, "SELECT item FROM source_coverage WHERE status = 'quarantined'"
                        " AND source = 'github'") == [(bad,)]

    # the issue found again, the unreadable one fixed
    with RawStore(raw) as store:
        assert store.mark_deleted("github", "issues", gone_scope, scope_keys) == 0
    _save(raw, "issues", bad_scope, [(bad, good)])
    plan = build(config)
    assert (plan.mode, plan.delta, plan.kept) == ("incremental", ("github",), ("jira", "slack"))
    assert not plan.widened and 2 <= plan.touched["github"] < 100
    _same_as_full(folder, config, target)


@pytest.mark.slow  # four builds
@pytest.mark.extended  # about 10 s; CI runs it after the suite
def test_github_is_normalized_from_every_row_when_a_repository_is_renamed(org_store):
    """A repository listed under a new name (the same id): its rows are re-keyed under the
    new name and their copies under the old one merged, across every unit of the repository:
    GitHub is normalized from all its rows, and the build says why."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    name = _rename_a_repository(raw)
    plan = build(config)
    assert plan.mode == "incremental" and plan.widened == {
        "github": "a repository's names changed (renamed or transferred)"}
    assert "github for every item: a repository's names changed" in plan.summary()
    assert _sql(target, "SELECT count(*) FROM work_items WHERE item_id LIKE ?",
                [f"github:{name}-renamed#%"])[0][0] > 0
    _same_as_full(folder, config, target)

    # the next change is by item again
    [(comment, comment_scope)] = _sql(raw, "SELECT natural_key, scope"
                                           " FROM raw_github_issue_comments"
                                           " ORDER BY natural_key LIMIT 1")
    payload = _payload(raw, "issue_comments", comment)
    payload["body_length"] = 4321
    _save(raw, "issue_comments", comment_scope, [(comment, payload)])
    plan = build(config)
    assert plan.delta == ("github",) and not plan.widened and plan.touched["github"] >= 1
    _same_as_full(folder, config, target)
