"""Shared by the benchmarks: one collection of one source by processhealth against its emulator.

Each `ours_<source>(org, folder)` serves the source's emulator on loopback, runs the real
collector (the client library over HTTP, no throttle) into a fresh raw store under `folder`,
and returns a `Run`: requests the emulator counted, the fewest possible (the emulator module's
`minimum_requests`), wall time and raw rows written.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processhealth.store import RawStore  # noqa: E402
from simulation.model import Org  # noqa: E402
from simulation.server import serve  # noqa: E402

TOKEN = "benchmark-token-not-a-secret"


@dataclass
class Run:
    source: str
    tool: str
    requests: int
    minimum: int | None
    wall: float
    items: int
    note: str = ""


def rows_written(store: RawStore, source: str) -> int:
    return sum(store.count(source, t.removeprefix(f"raw_{source}_"))
               for t in store.raw_tables() if t.startswith(f"raw_{source}_"))


def ours_github(org: Org, folder: Path) -> Run:
    from collectors import github
    from processhealth.config_models import GitHubConfig
    from simulation.github_emulator import GitHubEmulator, minimum_requests

    os.environ["PROCESSHEALTH_BENCH_GITHUB_TOKEN"] = TOKEN
    app = GitHubEmulator(org, token=TOKEN)
    with serve(app) as served, RawStore(folder / "github.duckdb") as store:
        config = GitHubConfig(enabled=True, base_url=served.url, org=org.github.org,
                              token="${PROCESSHEALTH_BENCH_GITHUB_TOKEN}",
                              seconds_between_requests=0, retry_backoff=0)
        t0 = time.perf_counter()
        github.collect(config, store)
        wall = time.perf_counter() - t0
        return Run("github", "processhealth", app.stats.total,
                   sum(minimum_requests(org).values()), wall, rows_written(store, "github"),
                   "org lists, issues+PRs, comments, reviews, commits, releases, events, users")


def ours_jira(org: Org, folder: Path, flavour: str = "datacenter") -> Run:
    from collectors import jira
    from processhealth.config_models import JiraConfig
    from simulation.jira_emulator import JiraEmulator, minimum_requests

    os.environ["JIRA_EMAIL"], os.environ["JIRA_TOKEN"] = "ops@acme.example", TOKEN
    projects = list(org.jira.projects)
    app = JiraEmulator(org, TOKEN, flavour=flavour)
    with serve(app) as served, RawStore(folder / f"jira-{flavour}.duckdb") as store:
        config = JiraConfig(enabled=True, base_url=served.url, projects=projects,
                            auth="pat" if flavour == "datacenter" else "basic")
        t0 = time.perf_counter()
        jira.collect(config, store)
        wall = time.perf_counter() - t0
        return Run("jira", "processhealth", app.stats.total,
                   sum(minimum_requests(org, flavour, projects).values()), wall,
                   rows_written(store, "jira"), f"{flavour}: issues with full changelog, "
                   "comments, worklogs; fields, statuses, boards, sprints")


def ours_slack(org: Org, folder: Path) -> Run:
    from collectors import slack
    from processhealth.config_models import SlackConfig
    from simulation.slack_emulator import SlackEmulator, minimum_requests

    os.environ["SLACK_TOKEN"] = TOKEN
    public = [c.id for c in org.slack.channels if not c.is_private]
    app = SlackEmulator(org, TOKEN)
    with serve(app) as served, RawStore(folder / "slack.duckdb") as store:
        t0 = time.perf_counter()
        slack.collect(SlackConfig(enabled=True, base_url=served.url), store)
        wall = time.perf_counter() - t0
        replies = sum("conversations.replies" in line for line in app.stats.log)
        return Run("slack", "processhealth", app.stats.total,
                   sum(minimum_requests(org, public).values()), wall,
                   rows_written(store, "slack"),
                   "public channels: history + thread replies, users, user groups; "
                   f"{app.stats.total - replies} requests without the {replies} thread "
                   "replies calls")


OURS = {"github": ours_github, "jira": ours_jira, "slack": ours_slack}


def print_table(runs: list[Run]) -> None:
    print(f"{'source':7} {'tool':14} {'requests':>9} {'minimum':>8} {'ratio':>6} {'wall s':>7} "
          f"{'items':>8}  note")
    for r in runs:
        ratio = f"{r.requests / r.minimum:.2f}" if r.minimum else "-"
        least = str(r.minimum) if r.minimum else "-"
        print(f"{r.source:7} {r.tool:14} {r.requests:9d} {least:>8} {ratio:>6} {r.wall:7.1f} "
              f"{r.items:8d}  {r.note}")
