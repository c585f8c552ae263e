"""Where the recorded real API payloads are, for the tests that check parsing against them.

The MIT-licensed sets the tests read are vendored under tests/fixtures/ (source, commit and
licence in its README), so a fresh clone runs those tests. The GPL-3.0 perceval sets cannot be
copied into this MIT repository: they stay in ../shared/realdata beside the checkout (CI has it),
and the tests that read them skip, saying why, when it is absent. Every test finds its payloads
through `realdata()` and marks its need with `needs()`, instead of building paths of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "realdata"
VENDORED = ("github-octokit", "slack-export-hfaran")  # MIT: copied into tests/fixtures


def realdata(relative: str) -> Path:
    """The folder of one recorded set, named as in ../shared/realdata (its first part is the set,
    e.g. "slack-perceval/tests/data/slack"): the vendored copy for MIT sets, else the shared one."""
    top = relative.split("/", 1)[0]
    return (FIXTURES if top in VENDORED else SHARED) / relative


def needs(folder: Path, why: str = "GPL-3.0 payloads, kept outside this MIT repository") \
        -> pytest.MarkDecorator:
    """Skip unless `folder` (a shared set from `realdata()`) exists. Not for vendored sets: they
    are part of the checkout, so a test reading a missing one should fail, not skip."""
    assert not folder.is_relative_to(FIXTURES), f"{folder} is vendored: it needs no skip"
    shown = "../shared/realdata/" + str(folder.relative_to(SHARED)).removeprefix(".")
    return pytest.mark.skipif(not folder.is_dir(),
                              reason=f"needs {shown} ({why}; CI has it), not found at {folder}")
