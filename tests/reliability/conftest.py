"""Fixtures of the reliability catalogue: the tiny organization and its three emulators, shared
by the whole session (a test that changes the organization or the faults resets them)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from shared_cache import shared

from processhealth.config import load_config
from processhealth.pipeline import build
from processhealth.simload import github as load_github
from processhealth.simload import jira as load_jira
from processhealth.simload import slack as load_slack
from processhealth.store import RawStore
from simulation.model import Org

from .support import (
    SECRETS_ENV,
    SOURCES,
    Apis,
    CronRun,
    cron_run,
    digest,
    invoke,
    make_org,
    served,
    write_config,
)


@pytest.fixture(scope="session")
def org() -> Org:
    """Read-only: tests that change the organization make their own with make_org()."""
    return make_org()


@pytest.fixture(scope="session")
def apis(org: Org) -> Iterator[Apis]:
    with served(org) as running:
        yield running


@pytest.fixture
def fresh_apis(apis: Apis) -> Apis:
    """The shared emulators with counters and faults reset."""
    apis.reset()
    return apis


@pytest.fixture(scope="session")
def clean_collections(apis: Apis, tmp_path_factory: pytest.TempPathFactory
                      ) -> dict[str, tuple[dict, int]]:
    """Per source, an uninterrupted `collect --source S` into an empty raw store: the digest of
    every table and how many requests it took."""
    clean = {}
    for source in SOURCES:
        apis.reset()
        config = write_config(tmp_path_factory.mktemp(f"clean-{source}"), apis.urls)
        result = invoke(config, "collect", "--source", source, environ=SECRETS_ENV)
        assert result.exit_code == 0, result.output
        clean[source] = (digest(config.parent / "raw.duckdb"), apis.apps[source].stats.total)
    return clean


@pytest.fixture(scope="session")
def built(org: Org) -> tuple[Path, Path, float]:
    """A raw store of all three sources (fast loaders) and its clean build: (raw, analytics,
    seconds the build took). Made once per run and shared by the xdist workers
    (tests/shared_cache.py): copy them before changing anything."""
    return shared("reliability-built", lambda folder: _build(org, folder))


def _build(org: Org, folder: Path) -> tuple[Path, Path, float]:
    config = load_config(write_config(folder, {s: "http://127.0.0.1:1" for s in SOURCES}))
    with RawStore(config.storage.raw_path) as store:
        for loader in (load_github, load_jira, load_slack):
            loader.load(org, store)
    started = time.monotonic()
    build(config)
    return config.storage.raw_path, config.storage.analytics_path, time.monotonic() - started


@pytest.fixture(scope="session")
def cron(built: tuple[Path, Path, float]) -> CronRun:
    """One whole cron run with tokens set, on an organization with hostile and odd content,
    while another process holds the analytics database open (support.cron_run). Made once per
    run and shared by the xdist workers (tests/shared_cache.py): read its files, change none."""
    return shared("reliability-cron", lambda folder: cron_run(folder, built[1]))
