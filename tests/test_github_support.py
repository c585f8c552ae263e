"""Helpers shared by the GitHub tests (imported by the other test_github_* modules)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from shared_cache import shared_org

from processhealth import pipeline
from processhealth.analytics_db import BuildStep, build_analytics
from processhealth.config import Config
from processhealth.config_models import GitHubConfig
from processhealth.duckdb_files import open_duckdb
from processhealth.store import RawStore
from simulation import OrgSpec, TeamSpec
from simulation.github_emulator import GitHubEmulator
from simulation.server import Faults, Served, serve

TOKEN = "gh-test-token"
TOKEN_VAR = "PH_TEST_GITHUB_TOKEN"
SQL = pipeline.REPO_ROOT / "collectors" / "sql" / "10_github.sql"
# Two teams of two for a month: every list, a few pages, about 80 requests.
TINY_SPEC = OrgSpec(teams=(TeamSpec("atlas", "steady", 2),
                           TeamSpec("borealis", "tool_nobody_wanted", 2)),
                    start=date(2026, 2, 1), months=1)
# Four teams, so the simulation has a leaver whose GitHub account is deleted ("ghost").
GHOST_SPEC = OrgSpec(teams=tuple(TeamSpec(n, "steady", 2)
                                 for n in ("atlas", "borealis", "cobalt", "delta")),
                     start=date(2026, 1, 1), months=3)


def github_config(url: str, **overrides: Any) -> GitHubConfig:
    values = {"enabled": True, "base_url": url, "token": f"${{{TOKEN_VAR}}}", "org": "acme",
              "seconds_between_requests": 0, "retry_backoff": 0, **overrides}
    return GitHubConfig(**values)


@contextmanager
def served(org: Any, monkeypatch: pytest.MonkeyPatch | None = None) -> Iterator[Served]:
    """The emulator for `org` on a free port, with the token in the environment."""
    if monkeypatch is not None:
        monkeypatch.setenv(TOKEN_VAR, TOKEN)
    with serve(GitHubEmulator(org, token=TOKEN)) as s:
        yield s


def raw_rows(path: Path) -> dict[str, list[tuple]]:
    """Every raw_github_* table (without fetched_at) and the GitHub checkpoints, sorted."""
    with RawStore(path, read_only=True) as store:
        out = {t: store.con.execute(
            f"SELECT natural_key, scope, updated_at, source_url, payload::VARCHAR FROM {t}"
            " ORDER BY natural_key").fetchall() for t in store.raw_tables()
            if t.startswith("raw_github_")}
        out["sync_state"] = store.con.execute(
            "SELECT entity, scope, cursor FROM sync_state WHERE source = 'github'"
            " ORDER BY ALL").fetchall()
    return out


def normalize(raw_path: Path, out: Path, github: dict | None = None
              ) -> duckdb.DuckDBPyConnection:
    """Build an analytics database running only the GitHub normalization; open it read-only."""
    config = Config.model_validate(
        {"storage": {"raw_path": str(raw_path), "analytics_path": str(out)},
         "github": github or {}})
    build_analytics(config, [BuildStep("raw tables", pipeline.raw_tables),
                             BuildStep("config", pipeline.config_variable),
                             pipeline.sql_file_step(SQL.with_name("05_text_flags.sql")),
                             pipeline.sql_file_step(SQL)])
    return open_duckdb(out, read_only=True)


def domain_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """The rows normalization wrote; events without event_seq, a number within one database
    (drawn as rows are inserted, so a rebuild may number them differently)."""
    return {t: con.execute(f"SELECT * {'EXCLUDE (event_seq)' if t == 'events' else ''}"
                           f" FROM {t} ORDER BY ALL").fetchall()
            for t in ("work_items", "events", "identities", "group_members")}


@functools.cache
def tiny_org() -> Any:
    """Shared by the GitHub test modules: tests that change an organization make their own."""
    return shared_org(11, TINY_SPEC)


@functools.cache
def ghost_org() -> Any:
    return shared_org(3, GHOST_SPEC)


def reset(app: GitHubEmulator) -> None:
    app.stats.reset()
    app.faults = Faults()
    app.rate_limit_kind = "primary"
    app.blocked = {}
    app.renamed = {}
    app.paging_limit = {}


def test_github_config_helper_is_valid():
    assert github_config("http://127.0.0.1:1").token.var == TOKEN_VAR
