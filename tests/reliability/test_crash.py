"""SIGKILL at seeded random points during `collect` and during `build`, then resume: every table
equals a clean run's, by row count and content checksum.

Collect: per source, an uninterrupted `collect --source S` into an empty raw store is the clean
run. Each trial starts from an empty raw store, runs the same command in a child process and kills
it once the source's emulator has answered a random number of requests, plus a random few
milliseconds (so kills also land inside saves). `collect --source S` then runs to completion, and
every table of the raw store (payload tables, checkpoints, state) must equal the clean run's.

Build: the analytics database starts as an older complete build ("old": the clean build plus one
more table); each trial kills `processhealth build` at a random moment after it started writing
its temporary database (up to 90% of a clean build's time). The database must then be exactly
the old one (the swap had not happened) or exactly a clean build (it had), never anything in
between, and the raw store is unchanged. A final `build` equals the clean build and leaves no
temporary file behind.
"""

from __future__ import annotations

import hashlib
import random
import signal
import time
from pathlib import Path

import duckdb

from processhealth.temp_names import owner_tag

from .support import (
    SECRETS_ENV,
    SOURCES,
    copy_db,
    differences,
    digest,
    env,
    fork_cli,
    invoke,
    wait_until,
    write_config,
)

SEED = 20260201
COLLECT_TRIALS = 6  # two per source
BUILD_TRIALS = 4


def snapshot_of(db: Path) -> tuple:
    wal = db.with_name(db.name + ".wal")
    return hashlib.sha256(db.read_bytes()).hexdigest(), wal.exists()


def kill(proc) -> bool:
    """SIGKILL the child if it still runs; True when the signal is what ended it."""
    if proc.is_alive():
        proc.kill()
    proc.join(30)
    return proc.exitcode == -signal.SIGKILL


def test_sigkill_during_collect_then_resume_equals_a_clean_collection(apis, clean_collections,
                                                                       tmp_path):
    rng = random.Random(SEED)
    landed = []
    for trial in range(COLLECT_TRIALS):
        source = SOURCES[trial % len(SOURCES)]
        want, requests = clean_collections[source]
        at, linger = rng.randint(1, requests), rng.uniform(0, 0.03)
        folder = tmp_path / f"collect-{trial}"
        config = write_config(folder, apis.urls)
        apis.reset()
        app = apis.apps[source]
        proc = fork_cli(config, "collect", "--source", source, environ=env())
        assert wait_until(lambda a=app, n=at, p=proc: a.stats.total >= n or not p.is_alive(), 60)
        time.sleep(linger)
        landed.append(kill(proc))
        apis.reset()
        result = invoke(config, "collect", "--source", source, environ=SECRETS_ENV)
        assert result.exit_code == 0, (trial, source, at, result.output)
        assert differences(digest(folder / "raw.duckdb"), want) == [], (trial, source, at)
    assert sum(landed) >= COLLECT_TRIALS - 1, landed  # the kills hit running collections


def test_sigkill_during_build_leaves_the_old_or_the_new_database_never_a_mix(built, tmp_path):
    clean_raw, clean_analytics, seconds = built
    new = digest(clean_analytics)
    previous = copy_db(clean_analytics, tmp_path / "previous.duckdb")
    with duckdb.connect(str(previous)) as con:  # an older build: one table more
        con.execute("CREATE TABLE older_build AS SELECT 1 AS marker")
    untouched = snapshot_of(previous)
    raw = copy_db(clean_raw, tmp_path / "raw.duckdb")
    raw_before = digest(raw)
    config = write_config(tmp_path, {s: "http://127.0.0.1:1" for s in SOURCES})
    target = tmp_path / "processhealth.duckdb"
    rng = random.Random(SEED)
    outcomes = []
    for trial in range(BUILD_TRIALS):
        copy_db(previous, target)
        proc = fork_cli(config, "build", environ=env())
        temp = target.with_name(f"{target.name}.building-{owner_tag(proc.pid)}")
        assert wait_until(lambda p=proc, t=temp: t.exists() or not p.is_alive(), 60)
        # somewhere in the build's steps: the forked builds run warm and can take well under the
        # measured first build, so the kills aim at its first half
        time.sleep(rng.uniform(0.0, 0.5) * seconds)
        killed = kill(proc)
        if snapshot_of(target) == untouched:  # byte for byte the old file, and no WAL beside it
            outcomes.append("old kept")
            continue
        got = digest(target)
        assert differences(got, new) == [], (trial, "neither the old nor the new database")
        outcomes.append("new" if killed else "finished")
    assert outcomes.count("old kept") >= 1, outcomes  # the kills did land mid-build
    assert digest(raw) == raw_before  # the raw store is only read
    result = invoke(config, "build", environ=SECRETS_ENV)
    assert result.exit_code == 0, result.output
    assert differences(digest(target), new) == []
    leftovers = sorted(p.name for p in tmp_path.iterdir() if ".building-" in p.name)
    assert leftovers == [], "builds killed earlier left their temporary files behind"
