"""Review of the twenty-fourth session's by-item changes: GitHub's raw rows found by (table,
seq) (github_touched), the narrowed raw tables read by seq (build_inputs.raw_rows_of),
pr_commits computed for the items touched only, Jira's ids read by seq, the rebase duplicates
found by hash, pull_commits rows without '@<sha>' left out, and metric_effort_allocation read
from metric_event_base. After each step an incremental build must equal a `build --full` of
the same raw store (analytics file and build state: test_refs_in_file_review._differences).
The steps mix rows without a seq (written by hand) and rows the store saves, for the same key
or unit, across several builds; a raw store restored from an older copy and collected into;
commits moving between pull requests; rebase copies; moved Jira issues."""

from __future__ import annotations

import copy
import math
import shutil
from pathlib import Path

import duckdb
import orjson
import pytest
from test_github_delta import _payload, _save
from test_github_delta_review import _delete, _grow
from test_incremental import build, one_row
from test_jira_delta_review import WITH_HISTORY, _issue, _moved, _other_scope, _put, _sql
from test_refs_in_file_review import (
    _by_item,
    _comment,
    _differences,
    _read_matches_raw,
    org_store,
)

from processhealth import raw_rows
from processhealth.store import RawStore

pytestmark = [pytest.mark.slow, pytest.mark.extended]
__all__ = ["org_store"]  # the fixture, imported


def _equal(folder: Path, config) -> None:
    assert _differences(folder, config) == []


def _hand(raw: Path, table: str, key: str, scope: str, payload: dict) -> None:
    """A raw row written by hand (no seq)."""
    _sql(raw, f"INSERT INTO {table}(natural_key, scope, payload) VALUES (?, ?, ?)",
         [key, scope, orjson.dumps(payload).decode()])


def _merged_pair(raw: Path) -> tuple[str, str, str, str, str]:
    """(repo, listed pull request P, one of its listed shas, another merged pull request Q of
    the same repo merged before P, Q's number): a list entry for Q moves the commit to Q."""
    [(repo, p, sha, q)] = _sql(raw, """
        WITH pr AS (SELECT scope, natural_key, (payload ->> 'merged_at')::TIMESTAMPTZ AS m
                    FROM raw_github_pulls WHERE payload ->> 'merged_at' IS NOT NULL)
        SELECT a.scope, a.natural_key, min(split_part(c.natural_key, '@', 2)),
               min(b.natural_key)
        FROM pr AS a JOIN pr AS b ON b.scope = a.scope AND b.m < a.m
        JOIN raw_github_pull_commits AS c ON c.natural_key LIKE a.natural_key || '@%'
        GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 1""")
    return repo, p, sha, q, q.rsplit("#", 1)[1]


def _built_with_a_listed_commit(org_store):
    """After a full build: the folder, config, raw store and analytics file, and a commit `sha`
    listed by merged pull request `p` of `repo`, an earlier merged `q` of the same repository,
    and the list entry's payload."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    repo, p, sha, q, _ = _merged_pair(raw)
    [(listed,)] = _sql(raw, "SELECT payload::VARCHAR FROM raw_github_pull_commits"
                            " WHERE natural_key = ?", [f"{p}@{sha}"])
    return folder, config, raw, target, repo, p, sha, q, orjson.loads(listed)


def _pr_row(target: Path, item: str) -> list[tuple]:
    return _sql(target, "SELECT started_at, linked_keys, fields FROM work_items WHERE item_id = ?",
                [f"github:{item}"])


def test_a_commit_unit_mixing_rows_with_and_without_seq(org_store):
    """A commit's unit holds its commits row (saved: a seq) and list entries; a list entry for
    an earlier merged pull request written by hand (no seq) moves the commit there, the commits
    row redated by the store in the same build; the hand row edited in place to list it under
    a third pull request; then saved by the store over the hand row (a seq); its seq cleared
    by hand; gone. The two pull requests' aggregates follow the commit (pr_commits for the
    items touched only)."""
    folder, config, raw, target, repo, p, sha, q, entry = _built_with_a_listed_commit(org_store)
    before = _pr_row(target, q)
    _hand(raw, "raw_github_pull_commits", f"{q}@{sha}", repo, entry)
    commit = _payload(raw, "commits", f"{repo}@{sha}") if _sql(
        raw, "SELECT 1 FROM raw_github_commits WHERE natural_key = ?", [f"{repo}@{sha}"]) else None
    if commit is not None:
        commit["commit"]["author"]["date"] = "2020-01-01T00:00:00Z"
        _save(raw, "commits", repo, [(f"{repo}@{sha}", commit)])
    _by_item(config)
    assert _pr_row(target, q) != before  # the commit moved: Q's aggregates changed
    _equal(folder, config)

    [(third,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_pulls WHERE scope = ?"
                           " AND natural_key NOT IN (?, ?)", [repo, p, q])
    _sql(raw, "UPDATE raw_github_pull_commits SET natural_key = ? WHERE natural_key = ?",
         [f"{third}@{sha}", f"{q}@{sha}"])
    _by_item(config)
    _equal(folder, config)
    _read_matches_raw(folder, config)

    _save(raw, "pull_commits", repo, [(f"{third}@{sha}", {**entry, "node_id": "saved"})])
    _by_item(config)
    _equal(folder, config)
    _sql(raw, "UPDATE raw_github_pull_commits SET seq = NULL WHERE natural_key = ?",
         [f"{p}@{sha}"])
    _by_item(config)
    _equal(folder, config)
    _delete(raw, "pull_commits", f"{third}@{sha}")
    _delete(raw, "pull_commits", f"{p}@{sha}")
    _grow(raw, repo, "pull_commits", "4d")  # the table's top seq grows
    _by_item(config)
    _equal(folder, config)
    _read_matches_raw(folder, config)


def test_pull_requests_touched_only_because_a_commit_moved(org_store):
    """A saved list entry moves a commit to an earlier merged pull request (both pull requests'
    first_commit_at, commits and keys change, neither's own rows do); the entry gone moves it
    back; a list row whose key lacks '@<sha>' (left out of the lists) in the same builds."""
    folder, config, raw, target, repo, p, sha, q, entry = _built_with_a_listed_commit(org_store)
    before = {k: _pr_row(target, k) for k in (p, q)}
    _save(raw, "pull_commits", repo, [(f"{q}@{sha}", entry)])
    _save(raw, "pull_commits", repo, [(q, entry)])  # no '@<sha>'
    plan = _by_item(config)
    assert plan.touched["github"] >= 3
    assert {k: _pr_row(target, k) for k in (p, q)} != before
    _equal(folder, config)
    _delete(raw, "pull_commits", f"{q}@{sha}")
    entry2 = copy.deepcopy(entry)
    entry2["node_id"] = "again"
    _save(raw, "pull_commits", repo, [(q, entry2)])  # the table's top seq grows
    _by_item(config)
    assert {k: _pr_row(target, k) for k in (p, q)} == before
    _equal(folder, config)
    _read_matches_raw(folder, config)


def _copy(raw: Path, repo: str, like: str, sha: str, **author) -> None:
    payload = _payload(raw, "commits", like)
    payload["sha"] = sha
    for field, value in author.items():
        if field == "id":
            payload["author"] = None if value is None else {**(payload.get("author") or {}),
                                                            "id": value}
        else:
            payload["commit"]["author"][field] = value
    _save(raw, "commits", repo, [(f"{repo}@{sha}", payload)])


def test_rebase_copies_across_builds(org_store):
    """Copies of a listed commit (same repo, author time, author, message): one sorting first
    (kept), a second between, the first gone, a copy written by hand (no seq) sorting first;
    and a commit without author id or e-mail copied three times (the NULL author is one
    group, as the window had it)."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    repo, p, sha, _, _ = _merged_pair(raw)
    like = f"{repo}@{sha}"
    if not _sql(raw, "SELECT 1 FROM raw_github_commits WHERE natural_key = ?", [like]):
        [(like,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_commits WHERE scope = ?",
                         [repo])
    _copy(raw, repo, like, "00" * 20)
    _by_item(config)
    _equal(folder, config)
    _copy(raw, repo, like, "01" * 20)
    _by_item(config)
    _equal(folder, config)
    _delete(raw, "commits", f"{repo}@{'00' * 20}")
    _copy(raw, repo, like, "ff" * 20)  # the table's top seq grows
    _by_item(config)
    assert _sql(target, "SELECT count(*) FROM events WHERE event_id IN (?, ?, ?)",
                [f"github:commit:{repo}@{s * 20}" for s in ("01", "ff")] + [
                    f"github:commit:{like}"]) == [(1,)]
    _equal(folder, config)

    hand = _payload(raw, "commits", like)
    hand["sha"] = "0" * 40
    _hand(raw, "raw_github_commits", f"{repo}@{'0' * 40}", repo, hand)
    [(other,)] = _sql(raw, "SELECT max(natural_key) FROM raw_github_commits WHERE scope = ?"
                           " AND natural_key <> ?", [repo, like])
    for s in ("a1", "a2", "a3"):
        _copy(raw, repo, other, s * 20, id=None, email=None, date="2021-02-03T04:05:06Z")
    _by_item(config)
    assert _sql(target, "SELECT count(*) FROM events WHERE event_id IN (?, ?, ?)",
                [f"github:commit:{repo}@{s * 20}" for s in ("a1", "a2", "a3")]) == [(1,)]
    _equal(folder, config)
    _delete(raw, "commits", f"{repo}@{'a1' * 20}")
    _sql(raw, "UPDATE raw_github_commits SET seq = NULL WHERE natural_key = ?",
         [f"{repo}@{'a3' * 20}"])
    _copy(raw, repo, other, "a0" * 20, id=None, email=None, date="2021-02-03T04:05:06Z")
    _by_item(config)
    _equal(folder, config)
    _read_matches_raw(folder, config)


def test_jira_moves_with_rows_with_and_without_seq(org_store):
    """Issue A read; its moved copy B saved (new, A's old row read); then A saved again, newer
    (A is the issue again: B's row read, A's new); B's seq cleared by hand and B edited in
    place; B gone."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    a, scope, issue = _issue(raw, WITH_HISTORY)
    b = f"{_other_scope(raw, scope)}-9101"
    _put(raw, _moved(issue, b, "2030-01-01T00:00:00.000+0000"))
    plan = build(config)
    assert "jira" in plan.delta, plan.summary()
    assert _sql(target, "SELECT key FROM work_items WHERE item_id IN (?, ?)",
                [f"jira:{a}", f"jira:{b}"]) == [(b,)]
    _equal(folder, config)

    back = copy.deepcopy(issue)
    back["fields"]["summary"] = "moved back"
    _put(raw, back, "2031-01-01T00:00:00.000+0000")
    build(config)
    assert _sql(target, "SELECT key FROM work_items WHERE item_id IN (?, ?)",
                [f"jira:{a}", f"jira:{b}"]) == [(a,)]
    _equal(folder, config)

    moved = _moved(issue, b, "2032-01-01T00:00:00.000+0000")
    _sql(raw, "UPDATE raw_jira_issues SET seq = NULL, payload = ? WHERE natural_key = ?",
         [orjson.dumps(moved).decode(), b])
    build(config)
    _equal(folder, config)
    _sql(raw, "DELETE FROM raw_jira_issues WHERE natural_key = ?", [b])
    _put(raw, {**back, "fields": {**back["fields"], "summary": "grown"}},
         "2033-01-01T00:00:00.000+0000")
    build(config)
    _equal(folder, config)


def _message(raw: Path) -> tuple[str, str, dict]:
    key, scope, found = one_row(raw, "raw_slack_messages",
                                "payload ->> 'subtype' IS NULL AND payload ->> 'thread_ts'"
                                " IS NULL AND payload ->> 'user' IS NOT NULL")
    return key, scope, found["payload"]


def test_a_slack_message_by_hand_then_saved_then_its_seq_cleared(org_store):
    """A message written by hand (no seq), then saved by the store over it (a seq: the save
    deletes the hand row by key), its seq cleared and its payload edited in place, gone."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    _, scope, payload = _message(raw)
    key = f"{scope}/seq-review"
    payload = {**payload, "ts": "1767225900.000200"}
    _hand(raw, "raw_slack_messages", key, scope, payload)
    build(config)
    _equal(folder, config)
    with RawStore(raw) as store:
        store.save("slack", "messages", [{"natural_key": key, "updated_at": None,
                                          "payload": {**payload, "text": "saved"}}],
                   scope=scope)
    assert _sql(raw, "SELECT count(*), count(seq) FROM raw_slack_messages"
                     " WHERE natural_key = ?", [key]) == [(1, 1)]
    build(config)
    _equal(folder, config)
    [(other,)] = _sql(raw, "SELECT min(natural_key) FROM raw_slack_users WHERE natural_key <> ?",
                      [payload.get("user")])
    _sql(raw, "UPDATE raw_slack_messages SET seq = NULL, payload = ? WHERE natural_key = ?",
         [orjson.dumps({**payload, "user": other}).decode(), key])
    build(config)
    _equal(folder, config)
    _sql(raw, "DELETE FROM raw_slack_messages WHERE natural_key = ?", [key])
    build(config)
    _equal(folder, config)


def test_a_raw_store_restored_from_an_older_copy_then_collected(org_store):
    """Every source changed by item after a copy is made (a commit redated, a list entry, a
    Jira issue moved, a Slack message edited); the copy restored; then a new collection into
    every source (new seqs above every earlier one)."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    shutil.copyfile(raw, folder / "backup.duckdb")
    repo, p, sha, q, _ = _merged_pair(raw)
    [(listed,)] = _sql(raw, "SELECT payload::VARCHAR FROM raw_github_pull_commits"
                            " WHERE natural_key = ?", [f"{p}@{sha}"])
    _save(raw, "pull_commits", repo, [(f"{q}@{sha}", orjson.loads(listed))])
    a, scope, issue = _issue(raw, WITH_HISTORY)
    _put(raw, _moved(issue, f"{_other_scope(raw, scope)}-9201", "2030-01-01T00:00:00.000+0000"))
    mkey, mscope, message = _message(raw)
    with RawStore(raw) as store:
        store.save("slack", "messages", [{"natural_key": mkey, "updated_at": None,
                                          "payload": {**message, "text": "edited"}}],
                   scope=mscope)
    plan = build(config)
    assert set(plan.delta) == {"github", "jira", "slack"}, plan.summary()
    _equal(folder, config)

    shutil.copyfile(folder / "backup.duckdb", raw)
    _grow(raw, repo, "pull_commits", "5e")
    [(ckey,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_commits WHERE scope = ?",
                     [repo])
    commit = _payload(raw, "commits", ckey)
    commit["commit"]["message"] = commit["commit"]["message"] + " (after the restore)"
    _save(raw, "commits", repo, [(ckey, commit)])
    _, _, other = _issue(raw, f"natural_key > '{a}'")
    other["fields"]["summary"] = "after the restore"
    _put(raw, other, "2030-01-02T00:00:00.000+0000")
    with RawStore(raw) as store:
        store.save("slack", "messages", [{"natural_key": mkey, "updated_at": None,
                                          "payload": {**message, "text": "again"}}],
                   scope=mscope)
    plan = build(config)
    assert plan.mode == "incremental", plan.summary()
    _equal(folder, config)
    _read_matches_raw(folder, config)


# metric_effort_allocation as it was before ef955bd (effort_credit joined to events).
_OLD_CREDITED = """
    SELECT pm.team, pm.month, e.person_id, coalesce(e.category, 'unclassified') AS category,
           sum(f.minutes) AS minutes
    FROM effort_credit f
    JOIN events e USING (event_seq)
    JOIN person_months pm
      ON pm.person_id = e.person_id
     AND pm.month = date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')::DATE
    GROUP BY ALL"""


def test_effort_allocation_equals_its_former_definition(org_store):
    folder, config = org_store
    assert build(config).mode == "full"
    target = Path(config.storage.analytics_path)
    view = (Path(__file__).resolve().parent.parent / "analysis" / "sql"
            / "metric_effort_allocation.sql").read_text(encoding="utf-8")
    view = view[:view.index("COMMENT ON")]
    start, end = view.index("credited AS ("), view.index("), person_total AS")
    new = view.replace("CREATE OR REPLACE VIEW metric_effort_allocation", "CREATE TEMP VIEW _new")
    old = (view[:start] + f"credited AS ({_OLD_CREDITED}" + view[end:]).replace(
        "CREATE OR REPLACE VIEW metric_effort_allocation", "CREATE TEMP VIEW _old")
    with duckdb.connect(str(target), read_only=True) as con:
        con.execute(old)
        con.execute(new)
        rows = {n: sorted(con.execute(f"SELECT * FROM {n}").fetchall(), key=lambda r: r[:3])
                for n in ("metric_effort_allocation", "_new", "_old")}
    new, former = rows["_new"], rows["_old"]
    assert len(rows["metric_effort_allocation"]) == len(new)
    assert len(new) == len(former) > 0
    for a, b in zip(new, former, strict=True):
        assert a[:3] == b[:3] and a[6:] == b[6:], (a, b)
        assert all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(
            a[3:6], b[3:6], strict=True)), (a, b)


def test_a_jira_row_by_hand_beside_the_saved_row_of_its_key(org_store):
    """The same key twice: the saved row (read) and a newer one written by hand (no seq); both
    are shown by key and seq; then a save replaces both (the store deletes by key)."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    k, scope, issue = _issue(raw, WITH_HISTORY)
    issue["fields"]["summary"] = "by hand, same key"
    issue["fields"]["updated"] = "2030-01-01T00:00:00.000+0000"
    _sql(raw, "INSERT INTO raw_jira_issues(natural_key, scope, updated_at, payload)"
              " VALUES (?, ?, '2030-01-01 00:00:00+00', ?)",
         [k, scope, orjson.dumps(issue).decode()])
    build(config)
    assert _sql(target, "SELECT title FROM work_items WHERE item_id = ?",
                [f"jira:{k}"]) == [("by hand, same key",)]
    _equal(folder, config)
    issue["fields"]["summary"] = "saved over both"
    _put(raw, issue, "2031-01-01T00:00:00.000+0000")
    assert _sql(raw, "SELECT count(*), count(seq) FROM raw_jira_issues WHERE natural_key = ?",
                [k]) == [(1, 1)]
    build(config)
    _equal(folder, config)


def test_a_seq_handed_out_twice_after_a_restore(org_store, monkeypatch):
    """A seq handed out twice (found by this review: github_touched joined github_read on
    (table, seq) only and missed it; it joins on the key too since): comment X saved (seq t),
    read by a build; the raw store restored from a copy made before; comment Y saved while the
    clock reads t again (the table's top seq and row count are the last build's); a review
    changed (GitHub by item). A full build has Y and not X."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    shutil.copyfile(raw, folder / "backup.duckdb")
    key, scope, payload = _comment(raw, 0)
    _save(raw, "issue_comments", scope, [(f"{key}1", {**payload, "id": 91, "body_length": 31})])
    [(seq,)] = _sql(raw, "SELECT max(seq) FROM raw_github_issue_comments")
    _by_item(config)
    shutil.copyfile(folder / "backup.duckdb", raw)
    with monkeypatch.context() as m:
        m.setattr(raw_rows, "clock_seq", lambda: seq)
        _save(raw, "issue_comments", scope, [(f"{key}2", {**payload, "id": 92,
                                                          "body_length": 32})])
    [(rkey, rscope)] = _sql(raw, "SELECT natural_key, scope FROM raw_github_reviews"
                                 " ORDER BY 1 LIMIT 1")
    _save(raw, "reviews", rscope, [(rkey, {**_payload(raw, "reviews", rkey), "body_length": 42})])
    _by_item(config)
    _equal(folder, config)
