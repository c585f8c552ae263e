"""`processhealth collect` killed with SIGKILL at many points, then run again: the raw and the
normalized rows equal an uninterrupted collection's (no duplicates, no gaps). Also the CLI's
exit code and message for a bad token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_github_support import (
    TOKEN,
    TOKEN_VAR,
    domain_rows,
    github_config,
    normalize,
    raw_rows,
    served,
    tiny_org,
)

from collectors import github
from processhealth.store import RawStore

# (route, how many requests to it in this run, seconds to wait before the kill): before and
# during the org lists, an ascending and a newest-first repository list, the reviews of touched
# pull requests, and the user profiles; a delay lets the kill land while a page is being saved.
KILLS = [("org_teams", 1, 0.0), ("issues", 2, 0.02), ("commits", 3, 0.0),
         ("issue_events", 2, 0.03), ("reviews", 6, 0.02), ("user", 3, 0.0)]
PROCESSHEALTH = Path(sys.executable).with_name("processhealth")


def write_config(folder: Path, url: str) -> Path:
    path = folder / "processhealth.toml"
    path.write_text(
        f'[storage]\nraw_path = "raw.duckdb"\nanalytics_path = "analytics.duckdb"\n'
        f'[github]\nenabled = true\nbase_url = "{url}"\ntoken = "${{{TOKEN_VAR}}}"\n'
        f'org = "acme"\nseconds_between_requests = 0\nretry_backoff = 0\n')
    return path


def run_collect(config: Path, token: str = TOKEN) -> subprocess.Popen:
    command = [str(PROCESSHEALTH), "--config", str(config), "collect"]
    if not PROCESSHEALTH.exists():
        command = [sys.executable, "-c", "from processhealth.cli import main; main()",
                   *command[1:]]
    return subprocess.Popen(command, env={**os.environ, TOKEN_VAR: token},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_when(app, proc: subprocess.Popen, route: str, count: int, delay: float) -> None:
    """From a watcher thread: SIGKILL the collector once `route` has had `count` requests."""
    def watch() -> None:
        while proc.poll() is None:
            if app.stats.by_route[route] >= count:
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                return
            time.sleep(0.0005)
    threading.Thread(target=watch, daemon=True).start()


@pytest.mark.slow
# CI runs it after the suite (10 s): tests/reliability/test_crash.py kills each source's
# collection once in the suite, this kills GitHub's at many points.
@pytest.mark.extended
def test_sigkill_at_many_points_then_rerun_equals_a_clean_run(tmp_path, monkeypatch):
    org = tiny_org()
    with served(org, monkeypatch) as s:
        clean = tmp_path / "clean.duckdb"
        with RawStore(clean) as store:
            github.collect(github_config(s.url), store)
        config = write_config(tmp_path, s.url)
        killed = []
        for route, count, delay in KILLS:
            s.app.stats.reset()
            proc = run_collect(config)
            kill_when(s.app, proc, route, count, delay)
            proc.communicate(timeout=120)
            killed.append(proc.returncode == -signal.SIGKILL)
        s.app.stats.reset()
        proc = run_collect(config)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert sum(killed) >= 5, killed
    assert raw_rows(tmp_path / "raw.duckdb") == raw_rows(clean)
    assert domain_rows(normalize(tmp_path / "raw.duckdb", tmp_path / "a.duckdb")) == domain_rows(
        normalize(clean, tmp_path / "b.duckdb"))


def test_cli_bad_token_exits_2_with_one_paragraph_and_writes_nothing(tmp_path, monkeypatch):
    with served(tiny_org(), monkeypatch) as s:
        proc = run_collect(write_config(tmp_path, s.url), token="not-the-token")
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    message = " ".join(err.split())
    assert "401 Bad credentials" in message and TOKEN_VAR in message
    assert s.url.split("//")[1] in message and "Traceback" not in err
    assert raw_rows(tmp_path / "raw.duckdb") == {"sync_state": []}
