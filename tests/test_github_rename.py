"""A repository renamed (or transferred) upstream while [github] org is collected.

GitHub keeps a renamed repository's id and lists it under its new name; its old name answers
301 to /repositories/{id}/... (docs.github.com, troubleshooting the REST API, "HTTP
redirects"). The emulator plays that when a test renames a repository in its organization and
plants the old name in `renamed`."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from shared_cache import shared_org
from test_github_support import (
    TINY_SPEC,
    domain_rows,
    github_config,
    normalize,
    served,
)

from collectors import github
from processhealth.config import parse_config
from processhealth.pipeline import analysis_steps
from processhealth.simload import github as simload
from processhealth.store import RawStore
from simulation.model import Org

OLD, NEW = "atlas-app", "atlas-web"


def rename(org: Org, old: str, new: str) -> None:
    """Rename a repository of the simulated organization in place, as GitHub does: the same
    id, every item under the new name."""
    g = org.github
    for r in g.repos:
        if r.name == old:
            r.name = new
    for records in (g.issues, g.commits, g.reviews, g.issue_comments, g.review_comments,
                    g.releases):
        for record in records:
            if record.repo == old:
                record.repo = new


def collect(path: Path, url: str, **overrides) -> None:
    with RawStore(path) as store:
        github.collect(github_config(url, **overrides), store)


@contextmanager
def collected_across_the_rename(tmp_path: Path, monkeypatch, **overrides):
    """(raw store collected before and after the rename, the emulator, the renamed org)."""
    org = shared_org(11, TINY_SPEC)
    path = tmp_path / "raw.duckdb"
    with served(org, monkeypatch) as s:
        with RawStore(path) as store:  # a first collection, as the fast loader writes it
            simload.load(org, store, base_url=s.url)
        rename(org, OLD, NEW)
        s.app.reload()
        s.app.renamed = {OLD: NEW}
        collect(path, s.url, **overrides)
        yield path, s, org


@pytest.fixture
def renamed(tmp_path, monkeypatch):
    with collected_across_the_rename(tmp_path, monkeypatch) as found:
        yield found


def test_a_repository_renamed_upstream_counts_once_under_its_new_name(renamed, tmp_path):
    """Collected as acme/atlas-app, renamed acme/atlas-web, collected again: each issue, pull
    request and commit is one work item or event, under the new name, exactly as a store
    collected after the rename only would give them."""
    path, served_app, org = renamed
    want_path = tmp_path / "want.duckdb"
    with RawStore(want_path) as store:
        simload.load(org, store, base_url=served_app.url)
    with normalize(want_path, tmp_path / "want-analytics.duckdb") as con:
        want = domain_rows(con)
    with normalize(path, tmp_path / "analytics.duckdb") as con:
        got = domain_rows(con)
        containers = dict(con.execute(
            "SELECT container, count(*) FROM work_items GROUP BY ALL").fetchall())
    assert f"acme/{OLD}" not in containers
    assert containers[f"acme/{NEW}"] == sum(i.repo == NEW for i in org.github.issues)
    for table in ("work_items", "events", "identities", "group_members"):
        assert len(got[table]) == len(want[table]), table
        assert got[table] == want[table], table


def test_a_team_naming_the_old_or_the_new_name_gets_the_repositorys_work(renamed, tmp_path,
                                                                         monkeypatch):
    """[[teams]] repos written before the rename (atlas-app) or after it (acme/atlas-web) place
    the same people in the team, in a pseudonymized build too; naming neither places none."""
    path, _, _ = renamed
    with normalize(path, tmp_path / "normalized.duckdb") as con:
        assert con.execute("SELECT * FROM repo_names ORDER BY ALL").fetchall() == [
            ("acme/atlas-app", f"acme/{NEW}"), (f"acme/{NEW}", f"acme/{NEW}"),
            ("acme/borealis-app", "acme/borealis-app"),
            ("acme/platform-infra", "acme/platform-infra")]
    monkeypatch.setenv("PH_TEST_SALT", "pepper")

    def teams(atlas_repos: list[str]) -> list[tuple]:
        out = tmp_path / f"analysis-{len(list(tmp_path.iterdir()))}.duckdb"
        shutil.copy(tmp_path / "normalized.duckdb", out)
        config = parse_config({
            "teams": [{"name": "atlas", "repos": atlas_repos},
                      {"name": "borealis", "repos": ["borealis-*"]}],
            "privacy": {"pseudonymize": True, "pseudonym_salt": "${PH_TEST_SALT}"}},
            origin="test", base_dir=tmp_path)
        with duckdb.connect(str(out)) as con:
            for step in analysis_steps():
                step(con, config)
            assert con.execute("SELECT count(*) FROM people WHERE person_id NOT LIKE 'p-%'"
                               ).fetchone() == (0,)
            found = con.execute("SELECT team, member_count FROM teams ORDER BY team").fetchall()
            rule = con.execute("SELECT DISTINCT category_rule FROM events WHERE repo = ?"
                               " AND kind = 'release'", [f"acme/{NEW}"]).fetchall()
        return found + rule

    old, new, neither = teams([OLD]), teams([f"acme/{NEW}"]), teams([])
    assert old == new
    assert dict(old[:-1])["atlas"] > 0 and old[-1] == ("team_repos:atlas",)
    assert dict(neither[:-1])["atlas"] == 0


@pytest.mark.extended  # in CI after the suite (4 s): a rare order of events
def test_an_issue_deleted_before_the_first_run_after_the_rename_goes_at_the_next_full_run(
        tmp_path, monkeypatch):
    """An issue deleted after the last run under the old name is stored under that name only,
    which no later run reads: the next `collect --full` marks it deleted there too (it looked
    only under the new name, and the issue was counted for good)."""
    org = shared_org(11, TINY_SPEC)
    g = org.github
    path, want_path = tmp_path / "raw.duckdb", tmp_path / "want.duckdb"
    with served(org, monkeypatch) as s:
        with RawStore(path) as store:
            simload.load(org, store, base_url=s.url)
        gone = next(i for i in g.issues if i.repo == OLD and not i.is_pr)
        g.issues.remove(gone)  # deleted upstream, with its comments
        g.issue_comments[:] = [c for c in g.issue_comments
                               if (c.repo, c.number) != (gone.repo, gone.number)]
        rename(org, OLD, NEW)
        s.app.reload()
        s.app.renamed = {OLD: NEW}
        with RawStore(path) as store:  # as `collect --full` does
            store.reset("github")
            github.collect(github_config(s.url), store, full=True)
        with RawStore(want_path) as store:
            simload.load(org, store, base_url=s.url)
    with RawStore(path, read_only=True) as store:
        assert store.con.execute("SELECT entity, natural_key, scope FROM sync_deleted").fetchall(
            ) == [("issues", f"acme/{OLD}#{gone.number}", f"acme/{OLD}")]
    with normalize(want_path, tmp_path / "want-analytics.duckdb") as con:
        want = domain_rows(con)
    with normalize(path, tmp_path / "analytics.duckdb") as con:
        got = domain_rows(con)
    assert len(got["work_items"]) == len(g.issues)
    assert got == want


def test_repos_naming_the_old_name_reads_the_repository_under_its_new_one(tmp_path, monkeypatch,
                                                                         capsys):
    """[github] org with repos = ["atlas-app"]: after the rename the organization lists no
    atlas-app, which stopped the collection (exit 2, "no such repository") at every run until
    the config was changed. The stored id finds the repository under its new name."""
    with collected_across_the_rename(tmp_path, monkeypatch, repos=[OLD]) as (path, s, org):
        asked = {line.split("/")[2] + "/" + line.split("/")[3] for line in s.app.stats.log
                 if line.startswith("GET /repos/")}
    assert f"names {OLD}, which is now acme/{NEW}" in capsys.readouterr().err
    assert asked == {f"acme/{NEW}"}  # only that repository, under its new name
    with normalize(path, tmp_path / "analytics.duckdb") as con:
        containers = dict(con.execute(
            "SELECT container, count(*) FROM work_items GROUP BY ALL").fetchall())
    assert containers[f"acme/{NEW}"] == sum(i.repo == NEW for i in org.github.issues)
    assert f"acme/{OLD}" not in containers

