"""Review of `processhealth build`'s "up to date" and incremental decisions (docs/build.md):
sequences of user actions after which the default build must give what `build --full` gives."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_incremental import TOKENS, build, compare, make_org_store, query


def full_build(config, folder: Path) -> Path:
    """A `build --full` of the same inputs into another file."""
    other = config.model_copy(deep=True)
    other.storage.analytics_path = folder / "full.duckdb"
    assert build(other, full=True).mode == "full"
    return folder / "full.duckdb"


@pytest.mark.extended  # in CI after the suite (10 s): an independent review's case
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


def test_a_build_reads_its_sql_as_utf8_whatever_the_locale(tmp_path, monkeypatch):
    """The SQL files are UTF-8 (analysis/sql/blocks/base.sql and items.sql compare resolutions
    with a typographic apostrophe, "Won’t Do"); read in the locale's encoding, a build on a host
    whose locale is not UTF-8 fails (ASCII: here the C locale with Python's UTF-8 mode off,
    the one such locale every machine has) or, under ISO-8859-1, makes other metric views
    without a word, and the locale is no build input: the database one locale built stayed
    "up to date" under the other."""
    folder, _ = make_org_store(tmp_path, monkeypatch, months=1)
    ascii_host = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    done = subprocess.run(
        [sys.executable, "-c", "from processhealth.cli import main; main()", "--config",
         str(folder / "processhealth.toml"), "build"], env={**os.environ, **TOKENS, **ascii_host},
        capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-300:]
    assert "built" in done.stdout + done.stderr
