"""The GitHub collector against the emulator: requests, incrementality, resumption, failures."""

from __future__ import annotations

import dataclasses
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from github import Auth, Github
from github.GithubException import UnknownObjectException
from shared_cache import shared_org
from test_github_support import (
    TINY_SPEC,
    TOKEN,
    TOKEN_VAR,
    ghost_org,
    github_config,
    raw_rows,
    reset,
    served,
    tiny_org,
)

from collectors import github
from collectors import github_client as gc
from collectors.github_client import throttle
from processhealth.config_models import GitHubConfig
from processhealth.errors import SourceError, UserError
from processhealth.simload import github as simload
from processhealth.store import RawStore
from simulation.github_emulator import GitHubEmulator, minimum_requests
from simulation.model import GhComment, GhReview, Repo
from simulation.server import serve

REPO_ENTITIES = ("issues", "pulls", "issue_comments", "review_comments", "commits", "releases",
                 "issue_events")


def collect(path: Path, url: str, **overrides) -> None:
    with RawStore(path) as store:
        github.collect(github_config(url, **overrides), store)


@pytest.fixture(scope="module")
def gh():
    """The tiny organization's emulator, shared by this module's tests (same URLs)."""
    with pytest.MonkeyPatch.context() as mp, served(tiny_org(), mp) as s:
        yield s


@pytest.fixture(scope="module")
def clean(gh, tmp_path_factory):
    """One uninterrupted collection: (raw rows, raw path, requests per route)."""
    path = tmp_path_factory.mktemp("clean") / "raw.duckdb"
    collect(path, gh.url)
    return raw_rows(path), path, dict(gh.app.stats.by_route)


@pytest.fixture(autouse=True)
def _fresh_emulator(gh):
    reset(gh.app)


def test_first_run_makes_the_minimum_number_of_requests(clean):
    made, need = clean[2], minimum_requests(tiny_org())
    assert sum(made.values()) <= 1.1 * sum(need.values())
    assert made == need  # nothing completed lazily, no page fetched twice


def test_second_run_with_nothing_new_asks_once_per_list_and_writes_nothing(gh, clean, tmp_path):
    path = tmp_path / "raw.duckdb"
    shutil.copy(clean[1], path)
    with RawStore(path) as store:
        stamps = store.con.execute("SELECT * FROM sync_state ORDER BY ALL").fetchall()
    collect(path, gh.url)  # with the default look-back: the commits of its 30 days again
    assert gh.app.stats.by_route["commits"] == minimum_requests(tiny_org())["commits"]
    assert raw_rows(path) == clean[0]
    reset(gh.app)
    collect(path, gh.url, commits_lookback_days=0)
    made = Counter(gh.app.stats.by_route)
    repos = len(tiny_org().github.repos)
    assert all(made[e] == repos for e in REPO_ENTITIES)
    assert made["reviews"] == made["user"] == 0
    assert made["team_members"] == len(tiny_org().github.teams)
    assert made["org_repos"] == made["org_members"] == made["org_teams"] == 1
    assert raw_rows(path) == clean[0]
    with RawStore(path) as store:  # not even a checkpoint was rewritten
        assert store.con.execute("SELECT * FROM sync_state ORDER BY ALL").fetchall() == stamps


def test_new_activity_is_picked_up_and_only_touched_pulls_are_asked_for_reviews(
        tmp_path, monkeypatch):
    org = shared_org(5, TINY_SPEC)
    path = tmp_path / "raw.duckdb"
    with served(org, monkeypatch) as s:
        collect(path, s.url)
        g = org.github
        pr = next(i for i in g.issues if i.is_pr and i.repo == "atlas-app")
        later = max(i.updated_at for i in g.issues) + timedelta(hours=1)
        reviewer = org.teams[0].members[-1]
        g.reviews.append(GhReview(9_999_001, pr.repo, pr.number, reviewer, "APPROVED", later,
                                  "late LGTM"))
        g.issue_comments.append(GhComment(9_999_002, pr.repo, pr.number, reviewer, later,
                                          "one more thing"))
        pr.updated_at = later
        s.app.reload()
        s.app.stats.reset()
        collect(path, s.url)
        made = Counter(s.app.stats.by_route)
    assert made["reviews"] == 1
    assert [line for line in s.app.stats.log if "/reviews" in line] == [
        f"GET /repos/acme/atlas-app/pulls/{pr.number}/reviews?per_page=100"]
    with RawStore(path) as store:
        assert store.con.execute(
            "SELECT count(*) FROM raw_github_reviews WHERE natural_key = '9999001'"
        ).fetchone() == (1,)
        assert store.con.execute("SELECT count(*) FROM raw_github_issue_comments"
                                 " WHERE natural_key = '9999002'").fetchone() == (1,)


def test_fast_loader_writes_the_rows_and_checkpoints_a_collection_writes(gh, clean, tmp_path):
    with RawStore(tmp_path / "loaded.duckdb") as store:
        simload.load(tiny_org(), store, base_url=gh.url)
    assert raw_rows(tmp_path / "loaded.duckdb") == clean[0]
    collect(tmp_path / "loaded.duckdb", gh.url)  # a collection continues from them
    assert gh.app.stats.by_route["reviews"] == 0


@pytest.mark.extended  # in CI after the suite (5 s): the suite waits out another
def test_primary_rate_limit_mid_run_waits_says_so_and_loses_nothing(gh, clean, tmp_path,
                                                                    capsys):
    gh.app.faults.rate_limit_after = 40
    gh.app.faults.rate_limit_reset = 2.0
    collect(tmp_path / "limited.duckdb", gh.url)
    limited = gh.app.stats.total - sum(clean[2].values())
    assert raw_rows(tmp_path / "limited.duckdb") == clean[0]
    err = capsys.readouterr().err
    assert "rate limit reached; waiting" in err and "continues by itself" in err
    assert limited == 1  # one 403, then PyGithub waited for x-ratelimit-reset


def test_secondary_rate_limit_honours_retry_after(gh, clean, tmp_path, capsys):
    gh.app.rate_limit_kind = "secondary"
    gh.app.faults.rate_limit_after = 30
    gh.app.faults.rate_limit_reset = 1.2
    collect(tmp_path / "raw.duckdb", gh.url)
    retried = gh.app.stats.total - sum(clean[2].values())
    assert retried == 1  # one 403 with Retry-After: 2, then the same request again
    assert "waiting 2 s" in capsys.readouterr().err
    assert raw_rows(tmp_path / "raw.duckdb") == clean[0]


def test_server_errors_and_cut_off_bodies_are_retried(gh, clean, tmp_path):
    gh.app.faults.error_burst = 3
    gh.app.faults.truncate_next = 2
    collect(tmp_path / "faulty.duckdb", gh.url)
    assert raw_rows(tmp_path / "faulty.duckdb") == clean[0]


def test_bad_token_is_one_paragraph_naming_host_and_variable_and_writes_nothing(
        gh, tmp_path, monkeypatch):
    path = tmp_path / "raw.duckdb"
    monkeypatch.setenv(TOKEN_VAR, "wrong")
    with pytest.raises(SourceError) as caught:
        collect(path, gh.url)
    message = str(caught.value)
    assert "401 Bad credentials" in message and TOKEN_VAR in message
    assert gh.url.split("//")[1] in message and "\n" not in message
    assert caught.value.exit_code == 2
    assert raw_rows(path) == {"sync_state": []}


def test_unknown_repository_and_organization_are_named(gh, tmp_path):
    with pytest.raises(UserError, match="nope-app"):
        collect(tmp_path / "a.duckdb", gh.url, repos=["atlas-app", "nope-app"])
    with pytest.raises(SourceError, match="404.*acme/nope"):
        collect(tmp_path / "b.duckdb", gh.url, org=None, repos=["acme/nope"])
    with pytest.raises(SourceError, match="404.*nobody"):
        collect(tmp_path / "c.duckdb", gh.url, org="nobody")


def test_repos_filter_and_since(gh, tmp_path):
    org = tiny_org()
    collect(tmp_path / "raw.duckdb", gh.url, repos=["atlas*"], since=org.end - timedelta(days=7))
    rows = raw_rows(tmp_path / "raw.duckdb")
    assert {r[1] for r in rows["raw_github_issues"]} == {"acme/atlas-app"}
    week = (org.end - timedelta(days=7)).isoformat()
    assert all(r[2].date().isoformat() >= week for r in rows["raw_github_commits"])
    assert 0 < len(rows["raw_github_commits"]) < sum(
        c.repo == "atlas-app" for c in org.github.commits)


def test_deleted_users_show_as_ghost_and_their_commits_keep_the_email(tmp_path, monkeypatch):
    org = ghost_org()
    leaver = next(p for p in org.people if p.github_deleted)
    repo = f"{leaver.team}-app"
    with served(org, monkeypatch) as s:
        collect(tmp_path / "raw.duckdb", s.url, repos=[repo])
        gh = Github(auth=Auth.Token(TOKEN), base_url=s.url, seconds_between_requests=None)
        assert gh.get_user("ghost").name == "Deleted user"
        with pytest.raises(UnknownObjectException):
            gh.get_user(leaver.github_login)
    with RawStore(tmp_path / "raw.duckdb", read_only=True) as store:
        users = dict(store.con.execute(
            "SELECT natural_key, payload->>'name' FROM raw_github_users").fetchall())
        ghosts = store.con.execute(
            "SELECT count(*) FROM raw_github_issues WHERE payload->'user'->>'login' = 'ghost'"
        ).fetchone()[0]
        null_authors = store.con.execute(
            "SELECT DISTINCT payload->'commit'->'author'->>'email' FROM raw_github_commits"
            " WHERE json_type(payload->'author') = 'NULL'").fetchall()
    assert users["ghost"] == "Deleted user" and leaver.github_login not in users
    assert ghosts == sum(i.user_pid == leaver.pid and i.repo == repo for i in org.github.issues)
    assert null_authors == [(leaver.commit_email,)]


def test_throttle_defaults_to_pygithubs_except_on_loopback():
    assert throttle(GitHubConfig()) == 0.25
    assert throttle(GitHubConfig(base_url="https://ghe.example.com/api/v3")) == 0.25
    assert throttle(GitHubConfig(base_url="http://127.0.0.1:8080")) is None
    assert throttle(GitHubConfig(base_url="http://localhost:1", seconds_between_requests=1)) == 1
    assert throttle(GitHubConfig(seconds_between_requests=0)) is None


def test_online_check_for_doctor(gh, monkeypatch):
    said = github.check(github_config(gh.url))
    assert said.startswith("reads as token of processhealth-reader, accepted by 127.0.0.1")
    assert gh.app.stats.by_route == {"rate_limit": 1, "viewer": 1}
    monkeypatch.setenv(TOKEN_VAR, "wrong")
    with pytest.raises(SourceError, match="401"):
        github.check(github_config(gh.url))


def test_enterprise_base_url_with_api_prefix(tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    with serve(GitHubEmulator(tiny_org(), token=TOKEN, prefix="/api/v3")) as s:
        collect(tmp_path / "raw.duckdb", s.url + "/api/v3", repos=["borealis-app"])
        assert all(" /api/v3/" in line for line in s.app.stats.log)
    rows = raw_rows(tmp_path / "raw.duckdb")
    prefix = f"{s.url}/api/v3/repos/acme/borealis-app/"
    assert rows["raw_github_issues"]
    assert all(r[3].startswith(prefix) for r in rows["raw_github_issues"])


def test_cut_off_bodies_are_asked_for_again_then_reported(gh, capsys):
    requester = gc.client(github_config(gh.url)).requester
    gh.app.faults.truncate_next = 2
    assert gc.get(requester, "/users/ghost")["login"] == "ghost"
    assert gh.app.stats.total == 3
    assert capsys.readouterr().err.count("cut-off or short response") == 2
    gh.app.faults.truncate_next = 1
    numbers = [i["number"] for i in gc.items(requester, "/repos/acme/atlas-app/issues",
                                               {"state": "all", "per_page": "5"})]
    assert sorted(numbers) == sorted(
        i.number for i in tiny_org().github.issues if i.repo == "atlas-app")
    gh.app.faults.truncate_next = 10
    with pytest.raises(SourceError, match="cut-off.*4 times"):
        gc.get(requester, "/users/ghost")


def test_an_empty_repository_is_one_with_no_commits_not_a_failed_collection(tmp_path,
                                                                           monkeypatch):
    """A repository created without a first commit answers 409 "Git Repository is empty." to
    GET /repos/{o}/{r}/commits (github/rest-api-description#385): nothing is missing there, so
    the collection goes on, notes no gap, and picks up the first commits once they exist."""
    org = shared_org(11, TINY_SPEC)
    first = org.github.repos[0]
    org.github.repos.append(Repo(name="empty-repo", id=max(r.id for r in org.github.repos) + 1,
                                 created_at=first.created_at, team=first.team))
    path = tmp_path / "raw.duckdb"
    with served(org, monkeypatch) as s:
        collect(path, s.url)
        assert dict(s.app.stats.by_route) == minimum_requests(org)  # the empty one asked once
        collect(path, s.url)  # an incremental run asks again, and again goes on
        moved = next(c for c in org.github.commits if c.repo == first.name)
        org.github.commits.append(dataclasses.replace(
            moved, repo="empty-repo", sha="f" * 40, date=moved.date + timedelta(days=1)))
        s.app.reload()
        collect(path, s.url)
    with RawStore(path, read_only=True) as store:
        repos = {k for (k,) in store.con.execute(
            "SELECT natural_key FROM raw_github_repos").fetchall()}
        gaps = store.con.execute("SELECT * FROM sync_coverage WHERE scope LIKE '%empty-repo'"
                                 ).fetchall()
        commits = store.con.execute("SELECT count(*) FROM raw_github_commits"
                                    " WHERE scope LIKE '%/empty-repo'").fetchone()[0]
    assert any(k.endswith("empty-repo") for k in repos)
    assert gaps == []
    assert commits == 1


@pytest.mark.parametrize("reason,status", [("dmca", 451), ("tos", 403)])
def test_a_blocked_repository_is_skipped_and_the_rest_collected(gh, clean, tmp_path, capsys,
                                                                reason, status):
    """A repository GitHub has blocked stays in the org's list, but each of its routes answers
    "Repository access blocked" with the block's reason: 451 for a legal takedown
    (github/rest-api-description#3314; ossf/allstar#36: "repos can be listed ... but
    unavailable due to DMCA takedown"), 403 for a terms-of-service block
    (PyGithub/PyGithub#1015, caarlos0/fork-cleaner#99). One warning and one coverage row for
    that repository; the others are collected as without it, and the run does not fail."""
    gh.app.blocked = {"atlas-app": reason}
    path = tmp_path / "raw.duckdb"
    collect(path, gh.url)
    assert capsys.readouterr().err.count("Repository access blocked") == 1
    listed = tmp_path / "listed.duckdb"  # the same repository named in [github] repos
    collect(listed, gh.url, org=None, repos=["acme/atlas-app", "acme/borealis-app"])
    assert capsys.readouterr().err.count("Repository access blocked") == 1
    with RawStore(listed, read_only=True) as store:
        assert store.con.execute("SELECT scope, status FROM sync_coverage").fetchall() == [
            ("acme/atlas-app", "forbidden")]
        assert store.con.execute("SELECT count(*) FROM raw_github_issues"
                                 " WHERE scope = 'acme/borealis-app'").fetchone()[0] > 0
    got, want = raw_rows(path), clean[0]
    for table in (f"raw_github_{e}" for e in (*REPO_ENTITIES, "reviews", "pull_commits")):
        assert got.get(table, []) == [r for r in want[table] if r[1] != "acme/atlas-app"], table
    assert got["raw_github_repos"] == want["raw_github_repos"]
    with RawStore(path, read_only=True) as store:
        gaps = store.con.execute("SELECT entity, scope, status, detail FROM sync_coverage"
                                 ).fetchall()
    assert gaps == [("repository", "acme/atlas-app", "forbidden",
                     f"HTTP {status}: Repository access blocked ({reason})")]


def test_a_listed_repository_renamed_since_is_collected_whole_under_its_configured_name(
        gh, clean, tmp_path, capsys):
    """A repository renamed or transferred answers its old name with 301 Moved Permanently to
    /repositories/{id}/..., keeping the query (docs.github.com/rest/using-the-rest-api/
    troubleshooting-the-rest-api, "HTTP redirects"; node-gh/gh#579 shows such a Location).
    PyGithub follows it with the path only, dropping the query (state=all, sort, since,
    per_page): an old name in [github] repos got open issues and pulls only, and a checkpoint
    past the closed ones. The collector asks for the repository's current name once and reads
    its lists there; rows keep the configured name, so the history stored before the rename
    goes on under one name."""
    gh.app.renamed = {"old-atlas": "atlas-app"}
    path = tmp_path / "raw.duckdb"
    collect(path, gh.url, org=None, repos=["acme/old-atlas"])
    got, want = raw_rows(path), clean[0]
    for table in (f"raw_github_{e}" for e in (*REPO_ENTITIES, "reviews", "pull_commits")):
        mine = [r for r in want[table] if r[1] == "acme/atlas-app"]
        assert [(k.replace("acme/old-atlas", "acme/atlas-app"), s, *rest)
                for k, s, *rest in got[table]] == [
            (k, "acme/old-atlas", *rest) for k, _, *rest in mine], table
    assert "acme/old-atlas is now acme/atlas-app" in capsys.readouterr().err


def test_a_pull_request_past_github_s_250_commits_is_named_as_a_gap(tmp_path, monkeypatch,
                                                                     capsys):
    """GET /pulls/{n}/commits lists at most 250 commits ("List commits on a pull request":
    "Lists a maximum of 250 commits for a pull request"): the rest of a longer one is not read,
    and a squash-merged one's are on no other list. That is said once, with a coverage row for
    that pull request, where it was silent."""
    org = shared_org(11, TINY_SPEC)
    pr = next(i for i in org.github.issues if i.is_pr and i.commit_shas)
    first = next(c for c in org.github.commits if c.sha == pr.commit_shas[0])
    extra = [dataclasses.replace(first, sha=f"{n:040x}", date=first.date + timedelta(minutes=n),
                                 listed=False) for n in range(1, 261 - len(pr.commit_shas))]
    org.github.commits += extra
    pr.commit_shas += [c.sha for c in extra]
    path = tmp_path / "raw.duckdb"
    with served(org, monkeypatch) as s:
        collect(path, s.url)
    warned = capsys.readouterr().err
    assert warned.count("GitHub's most for a pull request") == 1
    with RawStore(path, read_only=True) as store:
        assert store.con.execute(
            "SELECT count(*) FROM raw_github_pull_commits WHERE natural_key LIKE ?",
            [f"%/{pr.repo}#{pr.number}@%"]).fetchone()[0] == 250
        assert store.con.execute("SELECT scope, status FROM sync_coverage").fetchall() == [
            (f"acme/{pr.repo}#{pr.number}", "capped")]


def test_a_commit_pushed_after_a_run_but_made_before_it_is_read_by_the_next_run(
        tmp_path, monkeypatch):
    """GitHub lists commits by committer date and `since` filters on it (rundel/ghclass#139:
    `until` filters on the committer date): a commit made on the 30th and pushed on the 2nd, a
    run on the 1st in between, is older than that run's newest commit. Without a look-back the
    next run never read it (nor any later one, until `collect --full`)."""
    org = shared_org(11, TINY_SPEC)
    path = tmp_path / "raw.duckdb"
    with served(org, monkeypatch) as s:
        collect(path, s.url)
        newest = max(c.date for c in org.github.commits if c.listed)
        made = next(c for c in org.github.commits if c.listed and c.date == newest)
        late = dataclasses.replace(made, sha="e" * 40, date=newest - timedelta(days=2),
                                   pr_number=None)
        org.github.commits.append(late)
        s.app.reload()
        collect(path, s.url, commits_lookback_days=0)
        with RawStore(path, read_only=True) as store:
            assert store.con.execute("SELECT count(*) FROM raw_github_commits WHERE natural_key"
                                     " LIKE '%@' || ?", [late.sha]).fetchone()[0] == 0
        collect(path, s.url)  # the default look-back, 30 days
    with RawStore(path, read_only=True) as store:
        assert store.con.execute("SELECT count(*) FROM raw_github_commits WHERE natural_key"
                                 " LIKE '%@' || ?", [late.sha]).fetchone()[0] == 1

