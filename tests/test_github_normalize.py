"""collectors/sql/10_github.sql on simulated raw rows: counts, ids, accounts, links to Jira."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import duckdb
import pytest
from test_github_support import domain_rows, ghost_org, normalize, tiny_org

from collectors.github_rows import pull_commit_rows
from processhealth.simload import github as simload
from processhealth.store import RawStore


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(org, analytics connection) for the tiny organization loaded without HTTP."""
    folder = tmp_path_factory.mktemp("norm")
    with RawStore(folder / "raw.duckdb") as store:
        simload.load(tiny_org(), store)
    con = normalize(folder / "raw.duckdb", folder / "analytics.duckdb")
    yield tiny_org(), con, folder / "raw.duckdb"
    con.close()


@pytest.fixture(scope="module")
def squash_store(tmp_path_factory):
    """(org, raw store) of a family member with squash- and merge-style repositories, generated
    and loaded once for this file's tests (each copies the store before changing it)."""
    from simulation.family import generate_member

    folder = tmp_path_factory.mktemp("squash")
    org = generate_member(2026, 0, "small", with_truth=False).org
    with RawStore(folder / "raw.duckdb") as store:
        simload.load(org, store)
    return org, folder / "raw.duckdb"


def per_repo(con, sql: str) -> Counter:
    return Counter({(repo, kind): n for repo, kind, n in con.execute(sql).fetchall()})


def test_counts_equal_the_simulation_per_repository_and_entity(built):
    org, con, _ = built
    g = org.github
    full = {r.name: f"acme/{r.name}" for r in g.repos}
    is_pr = {(i.repo, i.number): i.is_pr for i in g.issues}
    want: Counter = Counter()
    for i in g.issues:
        want[(full[i.repo], "pr_opened" if i.is_pr else "issue_opened")] += 1
        if i.merged_at:
            want[(full[i.repo], "pr_merged")] += 1
        if i.is_pr and i.ready_at and i.ready_at > i.created_at:
            want[(full[i.repo], "pr_ready")] += 1
    for c in g.issue_comments:
        want[(full[c.repo], "pr_comment" if is_pr[(c.repo, c.number)] else "issue_comment")] += 1
    for kind, records in (("pr_comment", g.review_comments), ("pr_review", g.reviews),
                          ("commit", g.commits), ("release", g.releases)):
        for r in records:
            want[(full[r.repo], kind)] += 1
    got = per_repo(con, "SELECT detail->>'repo', kind, count(*) FROM events GROUP BY ALL")
    assert got == want
    items = per_repo(con, "SELECT container, kind, count(*) FROM work_items GROUP BY ALL")
    assert items == Counter((full[i.repo], "pr" if i.is_pr else "issue") for i in g.issues)


def test_ids_follow_the_conventions_and_every_event_has_its_item(built):
    org, con, _ = built
    assert con.execute("SELECT count(*) FROM events WHERE event_id NOT LIKE 'github:%:%'"
                       " OR actor_account NOT LIKE 'github:%'").fetchone() == (0,)
    pr = next(i for i in org.github.issues if i.is_pr and i.merged_at)
    item = f"github:acme/{pr.repo}#{pr.number}"
    kinds = dict(con.execute("SELECT kind, count(*) FROM events WHERE item_id = ? GROUP BY 1",
                             [item]).fetchall())
    assert kinds["pr_opened"] == kinds["pr_merged"] == 1
    assert kinds.get("pr_review", 0) == sum(
        r.repo == pr.repo and r.pr_number == pr.number for r in org.github.reviews)
    orphans = con.execute(
        "SELECT count(*) FROM events e WHERE e.item_id IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM work_items w WHERE w.item_id = e.item_id)").fetchone()
    assert orphans == (0,)
    assert con.execute("SELECT count(*) FROM events WHERE person_id IS NOT NULL"
                       " OR category IS NOT NULL").fetchone() == (0,)


def test_pr_facts_for_cycle_time(built):
    org, con, _ = built
    merged_by = {f"github:acme/{i.repo}#{i.number}": i.merged_by_pid
                 for i in org.github.issues if i.merged_at}
    rows = con.execute("SELECT item_id, actor_account FROM events WHERE kind = 'pr_merged'"
                       ).fetchall()
    assert {item: acct for item, acct in rows} == {
        item: f"github:{org.person(pid).github_id}" for item, pid in merged_by.items()}
    ready = {f"github:acme/{i.repo}#{i.number}": i.ready_at.replace(microsecond=0)
             for i in org.github.issues
             if i.is_pr and i.ready_at and i.ready_at > i.created_at}
    got = dict(con.execute("SELECT item_id, occurred_at FROM events WHERE kind = 'pr_ready'"
                           ).fetchall())
    assert got == ready
    prs = con.execute("SELECT count(*), count(started_at), count(merged_at) FROM work_items"
                      " WHERE kind = 'pr'").fetchone()
    assert prs[0] == prs[1] and prs[2] == len(merged_by)


def test_commits_are_tied_to_their_pr_with_or_without_a_jira_key(built):
    org, con, _ = built
    inferred = dict(con.execute(
        "SELECT detail->>'sha', (detail->>'pr_number')::INTEGER FROM events"
        " WHERE kind = 'commit'").fetchall())
    in_pr = [c for c in org.github.commits if c.pr_number is not None]
    keyed = [c for c in in_pr if ":" in c.message]
    assert keyed and len(keyed) < len(in_pr)  # some PR commits name no key
    assert all(inferred[c.sha] == c.pr_number for c in in_pr)  # read from each PR's commits
    direct = [c for c in org.github.commits if c.pr_number is None]
    assert all(inferred[c.sha] is None for c in direct if ":" not in c.message)
    links = con.execute("SELECT linked_keys FROM work_items WHERE kind = 'pr'").fetchall()
    assert all(len(keys) >= 1 for (keys,) in links)


def test_jira_key_pattern_comes_from_config(tmp_path):
    with RawStore(tmp_path / "raw.duckdb") as store:
        simload.load(tiny_org(), store)
    con = normalize(tmp_path / "raw.duckdb", tmp_path / "a.duckdb",
                    {"jira_key_pattern": r"\bNOPE-\d+\b"})
    assert con.execute("SELECT count(*) FROM work_items WHERE len(linked_keys) > 0"
                       ).fetchone() == (0,)
    # a commit's pull request comes from the PR's commits list, whatever the key pattern
    in_pr = sum(c.pr_number is not None for c in tiny_org().github.commits)
    assert con.execute("SELECT count(*) FROM events WHERE kind = 'commit'"
                       " AND detail->>'pr_number' IS NOT NULL").fetchone() == (in_pr,)


def test_accounts_ghost_bot_and_commit_emails(tmp_path):
    org = ghost_org()
    leaver = next(p for p in org.people if p.github_deleted)
    with RawStore(tmp_path / "raw.duckdb") as store:
        simload.load(org, store)
    con = normalize(tmp_path / "raw.duckdb", tmp_path / "a.duckdb")
    ids = {r[1]: r for r in con.execute("SELECT * FROM identities").fetchall()}
    assert ids["10137"][2] == "ghost" and not ids["10137"][5]
    assert ids["41898282"][2] == "ci-bot[bot]" and ids["41898282"][5]  # is_bot
    by_email = ids[f"email:{leaver.commit_email.lower()}"]
    assert by_email[3] == leaver.commit_email and by_email[4] == leaver.name
    assert con.execute("SELECT count(*) FROM events WHERE kind = 'commit' AND actor_account = ?",
                       [f"github:email:{leaver.commit_email.lower()}"]).fetchone()[0] == sum(
        c.author_pid == leaver.pid for c in org.github.commits)
    humans = [p for p in org.people if p.github_id and not p.is_bot and not p.github_deleted]
    assert all(str(p.github_id) in ids for p in humans if p.left_on is None)
    teams = con.execute("SELECT group_name, count(*) FROM group_members GROUP BY 1").fetchall()
    assert dict(teams) == {t: len([p for p in pids if not org.person(p).github_deleted])
                           for t, pids in org.github.teams.items()}


def test_rebuilding_gives_the_same_rows(built, tmp_path):
    again = normalize(built[2], tmp_path / "a.duckdb")
    assert domain_rows(again) == domain_rows(built[1])


def test_closed_issues_keep_their_state_reason(built):
    org, con, _ = built
    got = dict(con.execute("SELECT item_id, resolution FROM work_items").fetchall())
    assert got == {f"github:acme/{i.repo}#{i.number}":
                   ("completed" if i.closed_at and not i.is_pr else None)
                   for i in org.github.issues}


def test_a_squash_merged_pr_keeps_its_commits_and_its_landing_commit_is_no_act(squash_store,
                                                                             tmp_path):
    org, raw = squash_store  # squash and merge repos
    styles = {r.name: r.merge_style for r in org.github.repos}
    merged = [i for i in org.github.issues if i.is_pr and i.merged_at and i.commit_shas
              and styles[i.repo] in ("squash", "merge")]
    squashed = [i for i in merged if styles[i.repo] == "squash"]
    away = {c.sha for c in org.github.commits if not c.listed}
    assert squashed and away  # the default branch does not list the PRs' own commits
    con = normalize(raw, tmp_path / "a.duckdb")
    got = {(repo, sha): (pr, weight, lands) for repo, sha, pr, weight, lands in con.execute(
        "SELECT detail->>'repo', detail->>'sha', (detail->>'pr_number')::INTEGER, weight,"
        " (detail->>'lands_pr')::INTEGER FROM events WHERE kind = 'commit'").fetchall()}
    dates = {c.sha: c.date for c in org.github.commits}
    for pr in squashed:
        full = f"{org.github.org}/{pr.repo}"
        assert all(got[(full, sha)] == (pr.number, 1, None) for sha in pr.commit_shas)
        started = con.execute("SELECT started_at FROM work_items WHERE item_id = ?",
                              [f"github:{full}#{pr.number}"]).fetchone()[0]
        first = min(dates[sha] for sha in pr.commit_shas)
        assert started == min(first, pr.created_at).replace(microsecond=0)
    landing = [v for v in got.values() if v[2] is not None]
    # one "<title> (#N)" squash commit or "Merge pull request #N" commit per merged PR
    assert len(landing) == len(merged)
    assert all(weight == 0 and pr == lands for pr, weight, lands in landing)


def test_typed_columns_repeat_detail(built):
    """events' typed columns (repo, linked_keys, ...) hold what detail holds, for every event."""
    from analysis import TYPED_DETAIL

    _, con, _ = built
    for column, expr in TYPED_DETAIL.items():
        assert con.execute(f"SELECT count(*) FROM events WHERE {column} IS DISTINCT FROM"
                           f" ({expr})").fetchone() == (0,), column
    assert con.execute("SELECT count(*) FILTER (WHERE repo IS NULL), count(linked_keys) > 0"
                       " FROM events").fetchone() == (0, True)
    # event_seq: one per event, and what the joins of the analysis use
    assert con.execute("SELECT count(DISTINCT event_seq) = count(*) FROM events").fetchone()[0]


def test_a_pull_commit_key_ends_with_its_payload_sha(built):
    """Normalization reads a pull request commit's sha from its raw key (collectors/sql/
    10_github.sql, _gh_pc), not from its payload: the collector's rows must make it so."""
    _, _, raw = built
    con = duckdb.connect(str(raw), read_only=True)
    try:
        n, same = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE split_part(natural_key, '@', 2)"
            " = payload ->> 'sha' AND natural_key = scope || '#' || split_part(split_part("
            "natural_key, '#', 2), '@', 1) || '@' || (payload ->> 'sha'))"
            " FROM raw_github_pull_commits").fetchone()
    finally:
        con.close()
    assert n > 0 and same == n
    keys = pull_commit_rows("acme/app", 7, [{"sha": "abc123", "commit": {}}], "http://x")
    assert keys[0]["natural_key"] == "acme/app#7@abc123"


def test_only_an_object_is_read_as_body_flags(tmp_path):
    """body_flags is read as flags only when it is a JSON object (collectors/privacy.py writes
    one): a string, even one holding an object's text, is no flags, so the flags come from the
    body (none here), as when body_flags was read with its own `payload -> '$.body_flags'`."""
    declared = {"has_hypothesis": True, "has_success_criteria": True, "has_result": False}
    said = {"is_reminder": True, "is_status_request": False, "shadow_tool": None,
            "has_result": False}
    with RawStore(tmp_path / "raw.duckdb") as store:
        simload.load(tiny_org(), store)
    raw = duckdb.connect(str(tmp_path / "raw.duckdb"))
    shapes = {}  # (table, natural key): body_flags as stored
    for table, flags in (("issues", declared), ("pulls", declared),
                         ("issue_comments", said), ("review_comments", said)):
        keys = [k for (k,) in raw.execute(  # issues that are no pull requests
            f"SELECT natural_key FROM raw_github_{table} WHERE {table != 'issues'} OR"
            f" natural_key NOT IN (SELECT natural_key FROM raw_github_pulls)"
            f" ORDER BY natural_key LIMIT 4").fetchall()]
        for key, value in zip(keys, (flags, json.dumps(flags), [flags], None), strict=True):
            shapes[(table, key)] = value
            raw.execute(f"UPDATE raw_github_{table} SET payload = json_merge_patch(payload,"
                        f" json_object('body', NULL, 'body_flags', ?::JSON))"
                        f" WHERE natural_key = ?", [json.dumps(value), key])
    # a pull request's flags are read from its pull row when its issue row has none
    pulls = [k for (t, k) in shapes if t == "pulls"]
    raw.execute("UPDATE raw_github_issues SET payload = json_merge_patch(payload,"
                " json_object('body', NULL, 'body_flags', NULL)) WHERE natural_key IN"
                f" ({', '.join('?' * len(pulls))})", pulls)
    raw.close()
    con = normalize(tmp_path / "raw.duckdb", tmp_path / "a.duckdb")
    for (table, key), value in shapes.items():
        read = isinstance(value, dict)
        if table in ("issues", "pulls"):
            got = con.execute("SELECT has_hypothesis, has_success_criteria FROM work_items"
                              " WHERE item_id = ?", [f"github:{key}"]).fetchone()
            assert got == (read, read), (table, value)
        else:
            entity = "issue_comment" if table == "issue_comments" else "review_comment"
            got = con.execute("SELECT subkind, (detail ->> 'is_reminder')::BOOLEAN FROM events"
                              " WHERE event_id = ?", [f"github:{entity}:{key}"]).fetchone()
            assert got == (("reminder", True) if read else (None, False)), (table, value)


def test_a_pull_commit_row_without_a_sha_in_its_key_changes_no_other_commit(squash_store,
                                                                           tmp_path):
    """A pull request's commits-list row whose key lacks its "@<sha>" (a row written by hand or
    by an older collector) is no commit of any pull request. The lists are read with NOT IN, which
    one NULL key made unknown for every commit: the landing commits lost their pull request and
    the key rule gave none."""
    shutil.copyfile(squash_store[1], tmp_path / "raw.duckdb")  # squash and merge repos
    commits = ("SELECT detail->>'repo', detail->>'sha', (detail->>'pr_number')::INTEGER, weight,"
               " (detail->>'lands_pr')::INTEGER FROM events WHERE kind = 'commit' ORDER BY ALL")
    before = normalize(tmp_path / "raw.duckdb", tmp_path / "a.duckdb").execute(commits).fetchall()
    assert any(row[4] is not None for row in before)  # landing commits, found by that NOT IN
    raw = duckdb.connect(str(tmp_path / "raw.duckdb"), read_only=True)
    key, scope, payload = raw.execute(
        "SELECT natural_key, scope, payload::VARCHAR FROM raw_github_pull_commits"
        " ORDER BY ALL LIMIT 1").fetchone()
    raw.close()
    with RawStore(tmp_path / "raw.duckdb") as store:
        store.save("github", "pull_commits", [{"natural_key": key.split("@")[0],
                                               "payload": json.loads(payload),
                                               "updated_at": None}], scope=scope)
    after = normalize(tmp_path / "raw.duckdb", tmp_path / "b.duckdb").execute(commits).fetchall()
    assert after == before
