"""Review of the refs kept in place (github_*_refs, github_read, jira_refs, slack_refs:
tables of the build's DuckDB file when it was written; since the twenty-sixth session of the
refs file beside the state, analytics_db.attach_refs, which each build copies) and of
the GitHub by-item build that keeps what `touched` parsed (github_delta.PARSED, `_ghx_*`).
After each sequence of raw-store changes an incremental build must equal a `build --full` of
the same raw store: every table and view of the analytics file, and every table of the build
state (GitHub's, Jira's and Slack's), with none of the state's tables left in the analytics
file. The sequences here: raw GitHub rows without a seq (written by hand) added, edited in
place, duplicated and removed; builds that fail after normalization (the state must be the
last good one); `build --full` between incremental builds; sources kept for several builds and
then changed; changes that touch units only through cross results (a moved comment, a pull
request merged) so that `normalize` parses rows `touched` did not."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import orjson
import pytest
from test_github_delta import _payload, _rename_a_repository, _save
from test_github_delta_review import _set_merged
from test_incremental import build, compare, make_org_store, one_row
from test_jira_delta_review import _issue, _put, _sql

from processhealth import github_delta, incremental, jira_delta, pipeline, slack_delta, state_start
from processhealth.errors import UserError
from processhealth.store import RawStore

# The extended tier (CI runs it after the suite).
pytestmark = [pytest.mark.slow, pytest.mark.extended]

IN_REFS = state_start.IN_REFS


def _change_jira_and_slack(raw: Path, summary: str, length: int) -> None:
    """One Jira issue's summary and one Slack message's length saved again."""
    _, _, issue = _issue(raw)
    issue["fields"]["summary"] = summary
    _put(raw, issue)
    mkey, mscope, message = one_row(raw, "raw_slack_messages",
                                    "payload ->> 'features' IS NOT NULL")
    message["payload"]["features"] |= {"length": length}
    with RawStore(raw) as store:
        store.save("slack", "messages", [{"natural_key": mkey, "updated_at": None,
                                          "payload": message["payload"]}], scope=mscope)


@pytest.fixture
def org_store(tmp_path, monkeypatch):
    return make_org_store(tmp_path, monkeypatch, months=1)


def _state(config) -> dict[str, list[tuple]]:
    """Every table of the build state GitHub, Jira and Slack keep, sorted."""
    path = incremental.state_path(config)
    refs = incremental.refs_path(path)
    out = {}
    for table in (*github_delta.STATE_TABLES, *slack_delta.STATE_TABLES, "jira_deleted"):
        out[table] = _sql(refs if table in IN_REFS else path, f"SELECT * FROM {table} ORDER BY ALL")
    out["jira_refs"] = _sql(refs, "SELECT natural_key, seq, issue_id, list_sort(statuses),"
                                  " list_sort(carried), list_sort(users) FROM jira_refs"
                                  " ORDER BY ALL")
    return out


def _leaked(target: Path) -> list[str]:
    """State tables found in an analytics file."""
    found = {t for (t,) in _sql(target, "SELECT table_name FROM duckdb_tables()")}
    return sorted(found & {*IN_REFS, *github_delta.STATE_TABLES, *jira_delta.STATE_TABLES,
                           *slack_delta.STATE_TABLES})


def _differences(folder: Path, config) -> list[str]:
    """What differs from a full build of the same raw store (analytics file, build state)."""
    full = config.model_copy(deep=True)
    full.storage.analytics_path = folder / "full.duckdb"
    assert build(full, full=True).mode == "full"
    target = Path(config.storage.analytics_path)
    out = compare(target, folder / "full.duckdb")
    mine, theirs = _state(config), _state(full)
    out += [f"state {t} differs" for t in mine if mine[t] != theirs[t]]
    out += [f"{t} left in the analytics file" for t in _leaked(target)]
    return out


def _read_matches_raw(folder: Path, config) -> None:
    """The state's github_read is, as a bag, the raw GitHub rows (tbl, key, scope, seq)."""
    raw = folder / "raw.duckdb"
    now = sorted(_sql(raw, " UNION ALL ".join(
        f"SELECT '{t}', natural_key, scope, seq FROM raw_github_{t}"
        for t in github_delta.TABLES)), key=repr)
    read = sorted(_sql(incremental.refs_path(incremental.state_path(config)),
                       "SELECT tbl, natural_key, scope, seq FROM github_read"), key=repr)
    assert read == now


def _by_item(config) -> incremental.Plan:
    plan = build(config)
    assert plan.mode == "incremental" and "github" in plan.delta and not plan.widened, \
        plan.summary()
    return plan


def _comment(raw: Path, n: int = 0) -> tuple[str, str, dict]:
    [(key, scope)] = _sql(raw, "SELECT natural_key, scope FROM raw_github_issue_comments"
                               " ORDER BY natural_key LIMIT 1 OFFSET ?", [n])
    return key, scope, _payload(raw, "issue_comments", key)


def _other_issue_url(raw: Path, scope: str, url: str) -> str:
    """The issue_url of another issue of the repository."""
    [(other,)] = _sql(raw, "SELECT payload ->> 'url' FROM raw_github_issues WHERE scope = ?"
                           " AND payload ->> 'url' IS NOT NULL AND payload ->> 'url' <> ?"
                           " ORDER BY natural_key LIMIT 1", [scope, url])
    return other


def _touch_comment(raw: Path, n: int, length: int) -> None:
    key, scope, payload = _comment(raw, n)
    payload["body_length"] = length
    _save(raw, "issue_comments", scope, [(key, payload)])


def test_github_rows_without_seq_added_edited_in_place_and_removed(org_store):
    """Rows written by hand or by another tool have no seq (tests/test_store.py): `touched`
    reads each again in every by-item build, and github_read, patched in place now, drops
    them and adds them back. A hand-written comment is added, edited in place (moved to
    another issue), then removed. The `seq IS NULL` part of github_read's delete is what
    these need: without it the state's github_read holds the row twice. (The same key twice
    in a GitHub table fails a full build too, "events rows more than once": not a case of
    these changes.)"""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    key, scope, payload = _comment(raw)
    new_key = f"{key}0"
    written = {**payload, "id": int(str(payload.get("id", 7)) + "0"), "body_length": 777}
    insert = ("INSERT INTO raw_github_issue_comments(natural_key, scope, payload)"
              " VALUES (?, ?, ?)")
    _sql(raw, insert, [new_key, scope, orjson.dumps(written).decode()])
    _by_item(config)
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)

    # edited in place: the same (key, NULL) pair, another issue
    written["issue_url"] = _other_issue_url(raw, scope, written.get("issue_url") or "")
    _sql(raw, "UPDATE raw_github_issue_comments SET payload = ? WHERE natural_key = ?",
         [orjson.dumps(written).decode(), new_key])
    _by_item(config)
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)

    # gone, with an unrelated change
    _sql(raw, "DELETE FROM raw_github_issue_comments WHERE natural_key = ?", [new_key])
    _touch_comment(raw, 4, 4343)
    _by_item(config)
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)


def test_a_stored_row_whose_seq_is_cleared_then_set_again(org_store):
    """A stored commit row's seq set to NULL by hand (its pair is gone, a NULL pair appears),
    then the row saved again by the store (a new seq)."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    [(key, scope)] = _sql(raw, "SELECT natural_key, scope FROM raw_github_commits"
                               " ORDER BY natural_key LIMIT 1")
    _sql(raw, "UPDATE raw_github_commits SET seq = NULL WHERE natural_key = ?", [key])
    _by_item(config)
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)
    payload = _payload(raw, "commits", key)
    payload["commit"]["message"] = payload["commit"]["message"] + " (amended)"
    _save(raw, "commits", scope, [(key, payload)])
    _by_item(config)
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)


def _fail_after(monkeypatch, where: str) -> None:
    """Make the next build raise: `where` "analysis" (a step after the state was copied) or
    "normalize" (GitHub's by-item normalization, after `touched` patched the file's refs)."""
    if where == "analysis":
        steps = pipeline.verdict_steps

        def failing():
            def boom(con, config):
                raise UserError("review: a later step failed")
            return [*steps(), pipeline.BuildStep("review failure", boom)]
        monkeypatch.setattr(pipeline, "verdict_steps", failing)
    else:
        original = github_delta.normalize

        def boom(con):
            original(con)
            raise UserError("review: normalization failed")
        monkeypatch.setattr(github_delta, "normalize", boom)


@pytest.mark.parametrize("where", ["analysis", "normalize"])
def test_a_build_that_fails_leaves_the_last_state_for_the_next(org_store, monkeypatch, where):
    """A by-item build that fails after `touched` changed the refs and github_read of its file
    (and, for "analysis", after that file was copied to be the new state): the published
    analytics file and the build state stay the last good build's, and the next build, by
    item again, equals a full build."""
    folder, config = org_store
    raw, target = folder / "raw.duckdb", Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    _touch_comment(raw, 0, 1111)
    _by_item(config)
    before, analytics = _state(config), compare(target, target)
    assert analytics == []
    shutil.copyfile(target, folder / "good.duckdb")

    key, scope, payload = _comment(raw, 1)
    payload["issue_url"] = _other_issue_url(raw, scope, payload.get("issue_url") or "")
    _save(raw, "issue_comments", scope, [(key, payload)])
    with monkeypatch.context() as m:
        _fail_after(m, where)
        with pytest.raises(UserError):
            build(config)
    assert _state(config) == before
    assert compare(target, folder / "good.duckdb") == []

    _touch_comment(raw, 2, 2222)
    plan = _by_item(config)
    assert plan.touched["github"] >= 3  # both comments, and the moved one's two items
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)


def test_full_builds_between_incremental_ones(org_store):
    """`build --full` over a file whose state came from by-item builds (github_read patched,
    the refs in the file), then incremental builds again, with every source changed."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    _touch_comment(raw, 0, 1212)
    _by_item(config)
    assert build(config, full=True).mode == "full"
    assert _leaked(Path(config.storage.analytics_path)) == []
    _read_matches_raw(folder, config)
    _touch_comment(raw, 1, 1313)
    _change_jira_and_slack(raw, "after a full build", 4321)
    plan = _by_item(config)
    assert set(plan.delta) == {"github", "jira", "slack"}, plan.summary()
    assert _differences(folder, config) == []


def test_sources_kept_for_several_builds_then_changed(org_store):
    """Jira and Slack kept (their refs stay in the file, copied from state to state) for three
    builds that change GitHub only, then both changed by item, then GitHub kept."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    for n in range(3):
        _touch_comment(raw, n, 5000 + n)
        plan = _by_item(config)
        assert set(plan.kept) == {"jira", "slack"}, plan.summary()
        assert _leaked(Path(config.storage.analytics_path)) == []
    _change_jira_and_slack(raw, "changed after three kept builds", 999)
    plan = build(config)
    assert set(plan.delta) == {"jira", "slack"} and plan.kept == ("github",), plan.summary()
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)


def test_units_touched_only_through_cross_results(org_store):
    """A pull request merged now (its commits, landing commits, issue events follow it), and a
    comment moved to another issue (both items, with their issue events and releases of the
    changed units): `normalize` parses the other units' rows, `touched` the changed ones'."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    [(repo, key)] = _sql(raw, """
        SELECT p.scope, p.natural_key FROM raw_github_pulls AS p
        WHERE p.payload ->> 'merged_at' IS NOT NULL
          AND EXISTS (SELECT 1 FROM raw_github_pull_commits AS c
                      WHERE c.natural_key LIKE p.natural_key || '@%')
          AND EXISTS (SELECT 1 FROM raw_github_issue_events AS e
                      WHERE e.scope = p.scope
                        AND e.payload -> 'issue' ->> 'number' = p.payload ->> 'number')
        ORDER BY 2 LIMIT 1""") or _sql(raw, """
        SELECT p.scope, p.natural_key FROM raw_github_pulls AS p
        WHERE p.payload ->> 'merged_at' IS NOT NULL ORDER BY 2 LIMIT 1""")
    _set_merged(raw, repo, key, None)
    plan = _by_item(config)
    changed = 2  # the issue row and the pull row: one unit
    assert plan.touched["github"] > changed - 1
    assert _differences(folder, config) == []

    _set_merged(raw, repo, key, "2031-01-01T00:00:00Z")
    ckey, cscope, payload = _comment(raw, 5)
    payload["issue_url"] = _other_issue_url(raw, cscope, payload.get("issue_url") or "")
    _save(raw, "issue_comments", cscope, [(ckey, payload)])
    # a release edited too: `emit` reads the changed releases raw (shown after `parse`)
    [(rkey, rscope)] = _sql(raw, "SELECT natural_key, scope FROM raw_github_releases"
                                 " ORDER BY 1 LIMIT 1")
    release = _payload(raw, "releases", rkey)
    release["name"] = "renamed by the review"
    release["published_at"] = "2031-02-01T00:00:00Z"
    _save(raw, "releases", rscope, [(rkey, release)])
    plan = _by_item(config)
    assert plan.touched["github"] >= 5
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)


def test_a_raw_store_restored_from_an_older_copy_after_by_item_builds(org_store):
    """Two by-item builds patch github_read; the raw store is then restored from a copy made
    before both (older seqs come back, newer rows go), and collected into."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    shutil.copyfile(raw, folder / "backup.duckdb")
    key, scope, payload = _comment(raw, 0)
    _save(raw, "issue_comments", scope, [(f"{key}1", {**payload, "body_length": 31})])
    _touch_comment(raw, 1, 3131)
    _by_item(config)
    _touch_comment(raw, 2, 3232)
    _by_item(config)
    shutil.copyfile(folder / "backup.duckdb", raw)
    _touch_comment(raw, 3, 3333)
    plan = build(config)
    assert plan.mode == "incremental", plan.summary()
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)


def test_jira_widened_then_by_issue_with_refs_in_the_file(org_store):
    """A status moving category widens Jira to every issue in a build whose file holds the
    last build's jira_refs: `prepare` makes it anew; the next build is by issue again."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    skey, sscope, status = one_row(raw, "raw_jira_statuses",
                                   "payload ->> 'name' = 'In Progress'")
    status["payload"]["statusCategory"] = {"key": "done", "name": "Done"}
    with RawStore(raw) as store:
        store.save("jira", "statuses", [{"natural_key": skey, "updated_at": None,
                                         "payload": status["payload"]}], scope=sscope)
    _, _, issue = _issue(raw)
    issue["fields"]["summary"] = "widened"
    _put(raw, issue)
    plan = build(config)
    assert plan.widened.get("jira"), plan.summary()
    assert _differences(folder, config) == []
    _, _, issue = _issue(raw, "natural_key > ''")
    issue["fields"]["summary"] = "by issue again"
    _put(raw, issue)
    plan = build(config)
    assert "jira" in plan.delta and not plan.widened, plan.summary()
    assert _differences(folder, config) == []


def test_a_change_to_no_unit_of_github_then_units_again(org_store):
    """Only a table read whole changes (a user's profile, a member): GitHub is changed and
    normalized by item with no unit touched (`normalize` parses nothing, adds back what
    `touched` parsed: nothing), github_read stays; then a unit changes."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    [(login, scope)] = _sql(raw, "SELECT natural_key, scope FROM raw_github_users"
                                 " ORDER BY natural_key LIMIT 1")
    profile = _payload(raw, "users", login)
    profile["email"] = "review@example.com"
    profile["name"] = "Reviewed Name"
    _save(raw, "users", scope, [(login, profile)])
    plan = _by_item(config)
    assert plan.touched["github"] == 0
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)
    _touch_comment(raw, 6, 6060)
    plan = _by_item(config)
    assert plan.touched["github"] >= 1
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)


def test_a_github_table_the_raw_store_gains_later(org_store):
    """The raw store has no releases and no issue events table at first (the build reads empty
    TEMP tables of their shape, and github_read has none of their rows); a copy made earlier
    brings them in: GitHub is normalized by item, the new rows are read."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    shutil.copyfile(raw, folder / "backup.duckdb")
    _sql(raw, "DROP TABLE raw_github_releases")
    _sql(raw, "DROP TABLE raw_github_issue_events")
    assert build(config).mode == "full"
    none_read = _sql(incremental.refs_path(incremental.state_path(config)),
                                     "SELECT count(*) FROM github_read"
                                     " WHERE tbl IN ('releases', 'issue_events')")
    assert none_read == [(0,)]
    with duckdb.connect(str(raw)) as con:
        con.execute(f"ATTACH '{folder / 'backup.duckdb'}' AS b (READ_ONLY)")
        for table in ("raw_github_releases", "raw_github_issue_events"):
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM b.{table}")
    plan = build(config)
    assert plan.mode == "incremental", plan.summary()
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)


def test_a_slack_message_without_seq_edited_in_place_across_kept_builds(org_store):
    """A Slack message written by hand (no seq) names a new user name; slack_refs, in the
    file, gets its row; GitHub-only builds follow (Slack changed each time: the row without
    seq is read again, its refs row deleted and written again); then edited in place to name
    another author, and removed."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    key, scope, found = one_row(raw, "raw_slack_messages",
                                "payload ->> 'subtype' IS NULL AND payload ->> 'thread_ts'"
                                " IS NULL AND payload ->> 'user' IS NOT NULL")
    payload = {**found["payload"], "ts": "1767225900.000100"}
    new_key = f"{scope}/by-hand"
    _sql(raw, "INSERT INTO raw_slack_messages(natural_key, scope, payload) VALUES (?, ?, ?)",
         [new_key, scope, orjson.dumps(payload).decode()])
    plan = build(config)
    assert "slack" in plan.delta, plan.summary()
    assert _differences(folder, config) == []
    _touch_comment(raw, 7, 7070)
    plan = _by_item(config)
    assert _differences(folder, config) == []
    [(other,)] = _sql(raw, "SELECT min(natural_key) FROM raw_slack_users WHERE natural_key <> ?",
                      [payload.get("user")])
    payload["user"] = other
    _sql(raw, "UPDATE raw_slack_messages SET payload = ? WHERE natural_key = ?",
         [orjson.dumps(payload).decode(), new_key])
    plan = build(config)
    assert "slack" in plan.delta, plan.summary()
    assert _differences(folder, config) == []
    _sql(raw, "DELETE FROM raw_slack_messages WHERE natural_key = ?", [new_key])
    plan = build(config)
    assert plan.mode == "incremental", plan.summary()
    assert _differences(folder, config) == []


def test_an_unreadable_issue_touched_only_through_a_comment(org_store):
    """An unreadable issue (set aside: a quarantine record) is touched later only because a
    comment moves to it: it is one of the other units (`normalize` parses its row and records
    it again; the record copied from the state is left out), then it is fixed."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    target = Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    [(like, scope)] = _sql(raw, "SELECT natural_key, scope FROM raw_github_issues"
                                " ORDER BY natural_key LIMIT 1")
    bad = _payload(raw, "issues", like)
    url = (bad.get("url") or f"http://127.0.0.1:1/repos/{scope}/issues/1").rsplit("/", 1)[0]
    bad = {**bad, "number": 9001, "id": 9999001, "created_at": "soon", "url": f"{url}/9001",
           "html_url": f"{url}/9001"}
    _save(raw, "issues", scope, [(f"{scope}#9001", bad)])
    _by_item(config)
    quarantined = ("SELECT item FROM source_coverage WHERE status = 'quarantined'"
                   " AND source = 'github'")
    assert _sql(target, quarantined) == [(f"{scope}#9001",)]
    [(ckey,)] = _sql(raw, "SELECT min(natural_key) FROM raw_github_issue_comments"
                          " WHERE scope = ?", [scope])
    comment = _payload(raw, "issue_comments", ckey)
    comment["issue_url"] = f"{url}/9001"
    _save(raw, "issue_comments", scope, [(ckey, comment)])
    _by_item(config)
    assert _sql(target, quarantined) == [(f"{scope}#9001",)]
    assert _differences(folder, config) == []
    _save(raw, "issues", scope, [(f"{scope}#9001", {**bad, "created_at": "2026-01-02T00:00:00Z"})])
    _by_item(config)
    assert _sql(target, quarantined) == []
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)


def test_a_rename_with_rows_without_seq_then_by_item(org_store):
    """A row without seq present while a repository is renamed (GitHub from all its rows:
    `prepare` drops github_read and `keep` writes it whole), then by-item builds that read the
    row again each time, one restoring the old name's payload of an item."""
    folder, config = org_store
    raw = folder / "raw.duckdb"
    assert build(config).mode == "full"
    key, scope, payload = _comment(raw, 2)
    _sql(raw, "INSERT INTO raw_github_issue_comments(natural_key, scope, payload)"
              " VALUES (?, ?, ?)", [f"{key}0", scope, orjson.dumps(
                  {**payload, "id": 88880001, "body_length": 12}).decode()])
    name = _rename_a_repository(raw)
    plan = build(config)
    assert plan.widened.get("github"), plan.summary()
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)
    _touch_comment(raw, 8, 8080)
    _by_item(config)
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)
    [(ikey, iscope)] = _sql(raw, "SELECT natural_key, scope FROM raw_github_issues"
                                 " WHERE scope = ? ORDER BY natural_key LIMIT 1", [name])
    issue = _payload(raw, "issues", ikey)
    issue["title"] = issue.get("title", "") + " (under the old name)"
    _save(raw, "issues", iscope, [(ikey, issue)])
    _by_item(config)
    assert _differences(folder, config) == []
    _read_matches_raw(folder, config)
