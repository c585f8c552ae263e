"""Review of `processhealth build`'s "up to date" and incremental decisions (docs/build.md):
sequences of user actions after which the default build must give what `build --full` gives."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from test_incremental import build, compare, make_org_store, query


def full_build(config, folder: Path) -> Path:
    """A `build --full` of the same inputs into another file."""
    other = config.model_copy(deep=True)
    other.storage.analytics_path = folder / "full.duckdb"
    assert build(other, full=True).mode == "full"
    return folder / "full.duckdb"


def test_an_upgrade_of_processhealth_is_not_up_to_date(tmp_path, monkeypatch):
    """build_params holds processhealth.version, the installed package's version: after an
    upgrade whose code under processhealth/, collectors/ and analysis/ is the same (a release
    of report templates or docs), the database still says the old version, a full build the
    new one."""
    folder, config = make_org_store(tmp_path, monkeypatch, months=1)
    target = Path(config.storage.analytics_path)
    assert build(config).mode == "full"
    version = "SELECT value FROM build_params WHERE name = 'processhealth.version'"
    [(before,)] = query(target, version)

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: (
        f"{before}.post1" if name == "processhealth" else real(name)))
    plan = build(config)
    assert plan.mode != "current", "an upgraded processhealth said the database is up to date"
    assert query(target, version) == [(f"{before}.post1",)]
    assert compare(target, full_build(config, folder)) == []
