"""Fixtures of the reliability catalogue: the tiny organization and its three emulators, shared
by the whole session (a test that changes the organization or the faults resets them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulation.model import Org

from .support import Apis, make_org, served


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
