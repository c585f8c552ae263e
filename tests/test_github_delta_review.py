"""Review of the GitHub by-item incremental build (processhealth/github_delta.py): after each
kind of raw-store change, an incremental build must equal a `build --full` of the same store
(every table and view, and the build state's GitHub tables). tests/test_github_delta.py covers
the design's own cases; the sequences here are the review's: a raw store restored from a copy,
the TEMP tables of the by-item build, and many random small steps (a seeded generator) over the
rules that join items (pull-request commits lists, the key rule, rebase duplicates, landing
commits, comments found by issue id, deleted marks, pull-request stubs, releases, identities)."""

from __future__ import annotations

import copy
import os
import random
import re
import shutil
from pathlib import Path

import orjson
import pytest
from test_github_delta import _payload, _refs, _save, _sql
from test_incremental import build, compare, make_org_store

from processhealth import build_state
from processhealth.store import RawStore

# The extended tier (CI runs it after the suite).
pytestmark = [pytest.mark.slow, pytest.mark.extended]


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch, months=1)


def _differences(folder: Path, config) -> list[str]:
    """What differs from a full build of the same raw store: tables and views, and the build
    state's GitHub tables."""
    full = config.model_copy(deep=True)
    full.storage.analytics_path = folder / "full.duckdb"
    assert build(full, full=True).mode == "full"
    out = compare(Path(config.storage.analytics_path), folder / "full.duckdb")
    mine, theirs = _refs(config), _refs(full)
    out += [f"state {t} differs" for t in mine if mine[t] != theirs[t]]
    return out


def _by_item(config):
    plan = build(config)
    assert plan.mode == "incremental" and "github" in plan.delta and not plan.widened, \
        plan.summary()
    return plan


def test_an_unreadable_issue_gone_from_a_restored_raw_store_leaves_no_quarantine_record(
        org_store):
    """An issue row that cannot be read (set aside: a source_coverage record) is saved after a
    copy of the raw store was made; the copy is restored, then collected into. The row is gone:
    a full build records nothing of it; the by-item build copied the last build's record of
    every issue row it does not show, and the gone row is not shown (it is no raw row now)."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    shutil.copyfile(raw, folder / "backup.duckdb")
    [(like, scope)] = _sql(raw, "SELECT natural_key, scope FROM raw_github_issues"
                                " ORDER BY natural_key LIMIT 1")
    bad = _payload(raw, "issues", like)
    _save(raw, "issues", scope, [(f"{scope}#9001", {**bad, "number": 9001, "id": 9999001,
                                                     "created_at": "soon"})])
    _by_item(config)
    assert _sql(Path(config.storage.analytics_path),
                "SELECT item FROM source_coverage WHERE status = 'quarantined'"
                " AND source = 'github'") == [(f"{scope}#9001",)]
    shutil.copyfile(folder / "backup.duckdb", raw)  # restored
    title = _payload(raw, "issues", like)
    _save(raw, "issues", scope, [(like, {**title, "title": title["title"] + " (again)"})])
    _by_item(config)
    assert _differences(folder, config) == []


def test_no_github_working_table_outlives_normalization(org_store, monkeypatch):
    """After the by-item normalization no _gh_*/_ghx_*/_github_touched_* TEMP table is left:
    each holds parsed payloads or per-unit rows, memory the later steps need."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    seen: list[list[str]] = []
    save = build_state.save

    def spy(con, config, plan, after):
        if after == "normalization":
            seen.append([t for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE temporary AND (table_name LIKE"
                " '\\_gh%' ESCAPE '\\' OR table_name LIKE '\\_github\\_touched%' ESCAPE"
                " '\\' OR table_name LIKE '\\_github\\_narrow%' ESCAPE '\\')").fetchall()])
        return save(con, config, plan, after)

    monkeypatch.setattr(build_state, "save", spy)
    [(like, scope)] = _sql(raw, "SELECT natural_key, scope FROM raw_github_issues"
                                " ORDER BY natural_key LIMIT 1")
    issue = _payload(raw, "issues", like)
    _save(raw, "issues", scope, [(like, {**issue, "title": issue["title"] + " (again)"})])
    _by_item(config)
    assert seen == [[]]


def test_a_raw_store_restored_from_a_copy_brings_back_older_versions(org_store):
    """After a copy of the raw store was made: an open pull request merged, an issue made
    unreadable, a commit added to a pull request's commits list. The copy is restored (the
    older versions are back, under the seqs an earlier build saw; the list entry is gone), then
    collected into (each table grows again, so the build is incremental): the result equals a
    full build, the pull request open, the issue read, the commit in its old pull request."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    target = Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    shutil.copyfile(raw, folder / "backup.duckdb")
    [(repo,)] = _sql(raw, "SELECT scope FROM raw_github_pulls GROUP BY scope"
                          " ORDER BY count(*) DESC, scope LIMIT 1")
    [(opened,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_pulls WHERE scope = ?"
                            " AND payload ->> 'merged_at' IS NULL", [repo])
    [(issue, number)] = _sql(raw, "SELECT natural_key, payload ->> 'number' FROM"
                                  " raw_github_issues WHERE scope = ? AND natural_key <> ?"
                                  " ORDER BY natural_key LIMIT 1", [repo, opened])
    [(listed, sha)] = _sql(raw, "SELECT min(natural_key), min(split_part(natural_key, '@', 2))"
                                " FROM raw_github_pull_commits WHERE scope = ?"
                                " AND natural_key NOT LIKE ?", [repo, f"{opened}@%"])
    readable = _payload(raw, "issues", issue)
    _set_merged(raw, repo, opened, "2026-03-01T00:00:00Z")
    _save(raw, "issues", repo, [(issue, {**readable, "created_at": "soon"})])
    _save(raw, "pull_commits", repo, [(f"{opened}@{sha}", _payload(raw, "pull_commits",
                                                                   listed))])
    _by_item(config)
    assert _differences(folder, config) == []

    shutil.copyfile(folder / "backup.duckdb", raw)  # restored
    [(other,)] = _sql(raw, "SELECT max(natural_key) FROM raw_github_pulls WHERE scope = ?",
                      [repo])
    pull, title = _payload(raw, "pulls", other), _payload(raw, "issues", other)
    _save(raw, "pulls", repo, [(other, {**pull, "body_length": 4321})])
    _save(raw, "issues", repo, [(other, {**title, "title": title["title"] + " (again)"})])
    [(commit,)] = _sql(raw, "SELECT max(natural_key) FROM raw_github_commits WHERE scope = ?",
                       [repo])
    _save(raw, "pull_commits", repo, [(f"{other}@{commit.split('@')[1]}",
                                       _payload(raw, "commits", commit))])
    _by_item(config)
    assert _sql(target, "SELECT status FROM work_items WHERE item_id = ?",
                [f"github:{opened}"]) == [("open",)]
    assert _sql(target, "SELECT count(*) FROM work_items WHERE item_id = ?",
                [f"github:{issue}"]) == [(1,)]
    assert _differences(folder, config) == []


def _grow(raw: Path, repo: str, table: str, sha: str) -> None:
    """A new commit (or list entry of it) after a row was deleted: the table's top seq does not
    go back (which makes the build full)."""
    [(key,)] = _sql(raw, f"SELECT max(natural_key) FROM raw_github_{table} WHERE scope = ?",
                    [repo])
    payload = copy.deepcopy(_payload(raw, table, key))
    payload["sha"] = sha * 20
    payload["commit"]["message"] = f"Another change {sha}"
    _save(raw, table, repo, [(f"{key.rsplit('@', 1)[0]}@{sha * 20}", payload)])


def test_landing_commits_lists_and_rebase_copies_move_across_builds(org_store):
    """A "(#N)" commit of a merged pull request without a commits list (not its landing
    commit: the rule needs the list), then: the list appears (the commit lands it, weight 0);
    a copy of a listed commit with a lower sha (the copy kept); the kept copy gone (the first
    kept again); the pull request unmerged (the commit lands nothing); its list gone."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    target = Path(config.storage.analytics_path)
    [(repo,)] = _sql(raw, "SELECT scope FROM raw_github_pulls GROUP BY scope"
                          " ORDER BY count(*) DESC, scope LIMIT 1")
    [(pr, number)] = _sql(raw, "SELECT natural_key, (payload ->> 'number')::INTEGER FROM"
                               " raw_github_pulls WHERE scope = ? AND payload ->> 'merged_at'"
                               " IS NOT NULL ORDER BY natural_key LIMIT 1", [repo])
    rows = _sql(raw, "SELECT natural_key, payload::VARCHAR FROM raw_github_pull_commits"
                     " WHERE natural_key LIKE ? ORDER BY natural_key", [f"{pr}@%"])
    assert rows
    _sql(raw, "DELETE FROM raw_github_pull_commits WHERE natural_key LIKE ?", [f"{pr}@%"])
    [(like,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_commits WHERE scope = ?",
                     [repo])
    landing = copy.deepcopy(_payload(raw, "commits", like))
    landing["sha"] = "1a" * 20
    landing["commit"]["message"] = f"Ship it (#{number})"
    _save(raw, "commits", repo, [(f"{repo}@{'1a' * 20}", landing)])
    assert build(config).mode == "full"

    def weight() -> list[tuple]:
        return _sql(target, "SELECT item_id, weight FROM events WHERE event_id = ?",
                    [f"github:commit:{repo}@{'1a' * 20}"])

    assert weight()[0][1] == 1
    key, text = rows[0]
    _save(raw, "pull_commits", repo, [(key, orjson.loads(text))])  # the list appears
    _by_item(config)
    assert weight() == [(f"github:{pr}", 0)]
    assert _differences(folder, config) == []

    sha = key.split("@")[1]
    twin = _payload(raw, "commits", f"{repo}@{sha}")
    _save(raw, "commits", repo, [(f"{repo}@{'00' * 20}", {**twin, "sha": "00" * 20})])
    _by_item(config)
    assert _differences(folder, config) == []
    _delete(raw, "commits", f"{repo}@{'00' * 20}")  # the kept copy gone
    _grow(raw, repo, "commits", "2b")
    _by_item(config)
    assert _differences(folder, config) == []
    _set_merged(raw, repo, pr, None)
    _by_item(config)
    assert weight()[0][1] == 1
    assert _differences(folder, config) == []
    _delete(raw, "pull_commits", key)
    _grow(raw, repo, "pull_commits", "3c")
    _by_item(config)
    assert _differences(folder, config) == []


def test_a_comment_found_by_issue_id_follows_its_item(org_store):
    """An issue comment of the older payload shape (issue_url ends in the issue's id) with a
    result, and a ready_for_review event, on issue X; then X becomes a pull request stub (the
    comment a pr_comment), X is marked deleted (the comment falls back to the id as a number),
    unmarked, and the comment moved to another issue by number."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    [(repo,)] = _sql(raw, "SELECT scope FROM raw_github_issues GROUP BY scope"
                          " ORDER BY count(*) DESC, scope LIMIT 1")
    (x, x_id, x_number), (y, _, y_number) = _sql(
        raw, "SELECT natural_key, payload ->> 'id', (payload ->> 'number')::INTEGER"
             " FROM raw_github_issues WHERE scope = ? AND (payload -> 'pull_request') IS NULL"
             " ORDER BY natural_key LIMIT 2", [repo])
    [(like,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_issue_comments")
    comment = _payload(raw, "issue_comments", like)
    comment.update(id=991000001, issue_url=f"http://127.0.0.1:1/repos/{repo}/issues/{x_id}")
    comment["body_flags"] = {**comment["body_flags"], "has_result": True}
    _save(raw, "issue_comments", repo, [("991000001", comment)])
    [(event_like,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_issue_events"
                                " WHERE payload ->> 'event' = 'ready_for_review'")
    event = _payload(raw, "issue_events", event_like)
    event.update(id=3991000001)
    event["issue"] = {**event["issue"], "number": x_number}
    _save(raw, "issue_events", repo, [("3991000001", event)])
    assert build(config).mode == "full"
    target = Path(config.storage.analytics_path)
    assert _sql(target, "SELECT item_id, kind FROM events WHERE event_id = ?",
                ["github:issue_comment:991000001"]) == [(f"github:{x}", "issue_comment")]

    issue = _payload(raw, "issues", x)
    _save(raw, "issues", repo, [(x, {**issue, "pull_request": {
        "url": f"http://127.0.0.1:1/repos/{repo}/pulls/{x_number}",
        "html_url": f"http://127.0.0.1:1/{repo}/pull/{x_number}", "merged_at": None}})])
    _by_item(config)
    assert _sql(target, "SELECT kind FROM events WHERE event_id = ?",
                ["github:issue_comment:991000001"]) == [("pr_comment",)]
    assert _differences(folder, config) == []
    keys = [k for (k,) in _sql(raw, "SELECT natural_key FROM raw_github_issues WHERE scope = ?",
                               [repo])]
    with RawStore(raw) as store:
        assert store.mark_deleted("github", "issues", repo, [k for k in keys if k != x]) == 1
    _by_item(config)
    assert _differences(folder, config) == []
    with RawStore(raw) as store:
        assert store.mark_deleted("github", "issues", repo, keys) == 0
    _by_item(config)
    assert _differences(folder, config) == []
    _save(raw, "issue_comments", repo, [("991000001", {
        **comment, "issue_url": f"http://127.0.0.1:1/repos/{repo}/issues/{y_number}"})])
    _by_item(config)
    assert _sql(target, "SELECT item_id, has_result FROM work_items WHERE item_id IN (?, ?)"
                        " ORDER BY ALL", [f"github:{x}", f"github:{y}"]) == sorted(
        [(f"github:{x}", False), (f"github:{y}", True)])
    assert _differences(folder, config) == []


# --- many random small steps -------------------------------------------------------------------

def _one(raw: Path, rng: random.Random, statement: str, params: list | None = None):
    rows = _sql(raw, statement, params)
    return rng.choice(rows) if rows else None


def _pr(raw: Path, rng: random.Random, repo: str, merged: bool | None = None):
    where = "" if merged is None else (" AND payload ->> 'merged_at' IS NOT NULL" if merged
                                       else " AND payload ->> 'merged_at' IS NULL")
    return _one(raw, rng, "SELECT natural_key, (payload ->> 'number')::INTEGER FROM"
                          f" raw_github_pulls WHERE scope = ?{where} ORDER BY 1", [repo])


def _set_merged(raw: Path, repo: str, key: str, when: str | None) -> None:
    issue, pull = _payload(raw, "issues", key), _payload(raw, "pulls", key)
    state = "closed" if when else "open"
    issue.update(state=state, closed_at=when)
    issue["pull_request"] = {**(issue.get("pull_request") or {}), "merged_at": when}
    pull.update(state=state, closed_at=when, merged_at=when)
    _save(raw, "issues", repo, [(key, issue)])
    _save(raw, "pulls", repo, [(key, pull)])


def _delete(raw: Path, table: str, key: str) -> None:
    """A raw row gone (as a restored copy or a refilled table loses it)."""
    _sql(raw, f"DELETE FROM raw_github_{table} WHERE natural_key = ?", [key])


def _step(raw: Path, rng: random.Random, repo: str, n: int) -> str:
    kind = rng.choice(["title_key", "merge", "unmerge", "pc_add", "pc_remove", "rebase",
                       "kept_gone", "landing", "old_comment", "mark_issue", "unmark",
                       "mark_comment", "stub", "release", "login", "merged_event",
                       "comment_result", "close"])
    sha = f"{n:02x}{rng.randrange(16 ** 38):038x}"
    if kind == "title_key":  # a pull request's title names (or stops naming) a commit's key
        pr = _pr(raw, rng, repo)
        found = _one(raw, rng, "SELECT payload ->> '$.commit.message' FROM raw_github_commits"
                               " WHERE scope = ? ORDER BY natural_key", [repo])
        issue = _payload(raw, "issues", pr[0])
        keys = github_keys(found[0]) if found else []
        issue["title"] = (" ".join(keys[:1]) + " " + issue["title"]) if rng.random() < 0.7 \
            else "no key: " + issue["title"].split(" ", 1)[-1]
        _save(raw, "issues", repo, [(pr[0], issue)])
    elif kind == "merge":
        pr = _pr(raw, rng, repo, merged=False)
        if pr:
            _set_merged(raw, repo, pr[0], f"2026-0{rng.randrange(1, 4)}-1{n % 10}T00:00:00Z")
    elif kind == "unmerge":
        pr = _pr(raw, rng, repo, merged=True)
        if pr:
            _set_merged(raw, repo, pr[0], None)
    elif kind == "close":  # closed, not merged
        pr = _pr(raw, rng, repo)
        issue, pull = _payload(raw, "issues", pr[0]), _payload(raw, "pulls", pr[0])
        when = f"2026-0{rng.randrange(1, 4)}-0{n % 9 + 1}T00:00:00Z"
        issue.update(state="closed", closed_at=when)
        issue["pull_request"] = {**(issue.get("pull_request") or {}), "merged_at": None}
        pull.update(state="closed", closed_at=when, merged_at=None)
        _save(raw, "issues", repo, [(pr[0], issue)])
        _save(raw, "pulls", repo, [(pr[0], pull)])
    elif kind == "pc_add":  # a commit joins a pull request's commits list
        pr = _pr(raw, rng, repo)
        [c] = [_one(raw, rng, "SELECT natural_key FROM raw_github_commits WHERE scope = ?"
                              " ORDER BY 1", [repo])]
        payload = _payload(raw, "commits", c[0])
        _save(raw, "pull_commits", repo, [(f"{pr[0]}@{c[0].split('@')[1]}", payload)])
    elif kind == "pc_remove":
        row = _one(raw, rng, "SELECT natural_key FROM raw_github_pull_commits WHERE scope = ?"
                             " ORDER BY 1", [repo])
        _delete(raw, "pull_commits", row[0])
    elif kind == "rebase":  # a copy of a commit under another sha (lower or higher)
        c = _one(raw, rng, "SELECT natural_key FROM raw_github_commits WHERE scope = ?"
                           " ORDER BY 1", [repo])
        payload = _payload(raw, "commits", c[0])
        sha = ("00" if rng.random() < 0.5 else "ff") + sha[2:]
        _save(raw, "commits", repo, [(f"{repo}@{sha}", {**payload, "sha": sha})])
    elif kind == "kept_gone":  # the kept copy of rebase duplicates (or any commit) gone
        c = _one(raw, rng, "SELECT min(natural_key) FROM raw_github_commits WHERE scope = ?"
                           " GROUP BY payload ->> '$.commit.message',"
                           " payload ->> '$.commit.author.date' ORDER BY count(*) DESC, 1"
                           " LIMIT 3", [repo])
        _delete(raw, "commits", c[0])
    elif kind == "landing":  # "<title> (#N)" on the default branch
        pr = _pr(raw, rng, repo)
        c = _one(raw, rng, "SELECT natural_key FROM raw_github_commits WHERE scope = ?"
                           " ORDER BY 1", [repo])
        payload = copy.deepcopy(_payload(raw, "commits", c[0]))
        payload["sha"] = sha
        payload["commit"]["message"] = f"Land it (#{pr[1]})"
        _save(raw, "commits", repo, [(f"{repo}@{sha}", payload)])
    elif kind == "old_comment":  # issue_url ending in the issue's id (older payloads)
        item = _one(raw, rng, "SELECT natural_key, payload ->> 'id' FROM raw_github_issues"
                              " WHERE scope = ? ORDER BY 1", [repo])
        c = _one(raw, rng, "SELECT natural_key FROM raw_github_issue_comments ORDER BY 1")
        comment = _payload(raw, "issue_comments", c[0])
        new = rng.random() < 0.5
        key = str(990000 + n) if new else c[0]
        comment.update(id=int(key), issue_url=f"http://127.0.0.1:1/repos/{repo}/issues/{item[1]}")
        comment["body_flags"] = {**comment["body_flags"], "has_result": rng.random() < 0.5}
        _save(raw, "issue_comments", repo, [(key, comment)])
    elif kind in ("mark_issue", "mark_comment", "unmark"):
        entity = "issue_comments" if kind == "mark_comment" else "issues"
        keys = [k for (k,) in _sql(raw, f"SELECT natural_key FROM raw_github_{entity}"
                                        " WHERE scope = ? ORDER BY 1", [repo])]
        seen = keys if kind == "unmark" else [k for k in keys if k != rng.choice(keys)]
        with RawStore(raw) as store:
            store.mark_deleted("github", entity, repo, seen)
    elif kind == "stub":  # an issue turns into a pull request stub, or a stub into an issue
        item = _one(raw, rng, "SELECT natural_key, (payload ->> 'number')::INTEGER FROM"
                              " raw_github_issues WHERE scope = ? ORDER BY 1", [repo])
        issue = _payload(raw, "issues", item[0])
        if issue.get("pull_request"):
            issue["pull_request"] = None
        else:
            issue["pull_request"] = {
                "url": f"http://127.0.0.1:1/repos/{repo}/pulls/{item[1]}",
                "html_url": f"http://127.0.0.1:1/{repo}/pull/{item[1]}", "merged_at": None}
        _save(raw, "issues", repo, [(item[0], issue)])
    elif kind == "release":
        r = _one(raw, rng, "SELECT natural_key, scope FROM raw_github_releases ORDER BY 1")
        payload = _payload(raw, "releases", r[0])
        payload["draft"] = not payload.get("draft")
        _save(raw, "releases", r[1], [(r[0], payload)])
    elif kind == "login":  # a login, type or e-mail changed only in a commit payload
        c = _one(raw, rng, "SELECT natural_key FROM raw_github_commits WHERE scope = ?"
                           " AND (payload -> 'author') IS NOT NULL ORDER BY 1", [repo])
        payload = _payload(raw, "commits", c[0])
        if payload.get("author"):
            payload["author"] = {**payload["author"], "login": f"renamed{n}",
                                 "type": rng.choice(["User", "Bot"])}
        payload["commit"]["author"]["email"] = rng.choice(["a@x.test", "b@x.test",
                                                           payload["commit"]["author"]["email"]])
        _save(raw, "commits", repo, [(c[0], payload)])
    elif kind == "merged_event":
        pr = _pr(raw, rng, repo)
        e = _one(raw, rng, "SELECT natural_key FROM raw_github_issue_events"
                           " WHERE payload ->> 'event' = 'merged' ORDER BY 1")
        event = _payload(raw, "issue_events", e[0])
        event.update(id=3990000000 + n, created_at=f"2026-03-0{n % 9 + 1}T00:00:00Z")
        event["issue"] = {**event["issue"], "number": pr[1]}
        event["actor"] = {**event["actor"], "id": 1990000 + n, "login": f"merger{n}"}
        _save(raw, "issue_events", repo, [(str(3990000000 + n), event)])
    elif kind == "comment_result":
        c = _one(raw, rng, "SELECT natural_key, scope FROM raw_github_issue_comments"
                           " ORDER BY 1")
        comment = _payload(raw, "issue_comments", c[0])
        comment["body_flags"] = {**comment["body_flags"],
                                 "has_result": not comment["body_flags"].get("has_result")}
        _save(raw, "issue_comments", c[1], [(c[0], comment)])
    return kind


def github_keys(message: str) -> list[str]:
    return re.findall(r"\b[A-Z][A-Z0-9]+-\d+\b", message or "")


# One seed in CI's extended tier (about a minute each); PROCESSHEALTH_GITHUB_REVIEW_SEEDS=1,2,3
# runs more (each of the three passed when the review was written).
@pytest.mark.parametrize("seed", [int(s) for s in os.environ.get(
    "PROCESSHEALTH_GITHUB_REVIEW_SEEDS", "1").split(",")])
def test_random_small_steps_equal_a_full_build(org_store, seed):
    """Twelve builds of one to three random changes each (seeded), each compared with a full
    build of the same raw store."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    rng = random.Random(seed)
    assert build(config).mode == "full"
    [(repo,)] = _sql(raw, "SELECT scope FROM raw_github_pulls GROUP BY scope"
                          " ORDER BY count(*) DESC, scope LIMIT 1")
    done: list[list[str]] = []
    for n in range(12):
        done.append([_step(raw, rng, repo, n * 3 + i) for i in range(rng.randrange(1, 4))])
        _by_item(config)
        assert _differences(folder, config) == [], done
