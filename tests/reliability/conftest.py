"""Fixtures of the reliability catalogue: the tiny organization and its three emulators, shared
by the whole session (a test that changes the organization or the faults resets them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulation.model import Org

from .support import SECRETS_ENV, SOURCES, Apis, digest, invoke, make_org, served, write_config


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
