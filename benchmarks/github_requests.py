"""GitHub collection: requests made against the fewest possible, wall time, the second run.

    .venv/bin/python benchmarks/github_requests.py            # the 12-month demo organization
    .venv/bin/python benchmarks/github_requests.py --small    # the test organization

Runs the real collector (PyGithub over HTTP, no throttle) against the loopback emulator, then
again with nothing changed, then the fast loader. Prints figures only.

The minimum (simulation/github_emulator.py `minimum_requests`), with pages(n) = max(1, ceil(n/100)):

    org:       pages(repos) + pages(members) + pages(teams) + sum over teams pages(team members)
    per repo:  pages(issues + PRs) + pages(PRs) + pages(issue comments) + pages(review comments)
               + pages(commits) + pages(releases) + pages(issue events)
               + sum over PRs touched since the last run of pages(reviews of that PR)
    accounts:  one GET /users/{login} per account not seen before

Issue events (ready_for_review, merged) are one repo-wide list; first commits come from the
commits list, so there is no per-PR commits call. A second run with nothing new makes one
request per (repository, list) plus the org lists, and writes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collectors import github  # noqa: E402
from processhealth.config_models import GitHubConfig  # noqa: E402
from processhealth.simload import github as simload  # noqa: E402
from processhealth.store import RawStore  # noqa: E402
from simulation import OrgSpec, generate_org  # noqa: E402
from simulation.github_emulator import GitHubEmulator, minimum_requests  # noqa: E402
from simulation.server import serve  # noqa: E402

TOKEN = "github-benchmark-token"
VAR = "PROCESSHEALTH_BENCH_GITHUB_TOKEN"


def table(made: Counter, minimum: dict[str, int]) -> None:
    print(f"  {'route':18} {'made':>7} {'minimum':>8} {'ratio':>6}")
    for route in sorted(set(minimum) | set(made)):
        m, least = made.get(route, 0), minimum.get(route, 0)
        print(f"  {route:18} {m:7d} {least:8d} {m / least if least else float('nan'):6.3f}")
    total, least = sum(made.values()), sum(minimum.values())
    print(f"  {'total':18} {total:7d} {least:8d} {total / least:6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="OrgSpec.small() instead of demo")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    org = generate_org(args.seed, OrgSpec.small() if args.small else OrgSpec.demo())
    g = org.github
    print(f"organization: {len(g.repos)} repositories, {sum(i.is_pr for i in g.issues)} PRs, "
          f"{sum(not i.is_pr for i in g.issues)} issues, {len(g.commits)} commits, "
          f"{len(g.reviews)} reviews (generated in {time.perf_counter() - started:.1f} s)")
    os.environ[VAR] = TOKEN
    app = GitHubEmulator(org, token=TOKEN)
    with serve(app) as served, tempfile.TemporaryDirectory() as folder:
        config = GitHubConfig(enabled=True, base_url=served.url, token=f"${{{VAR}}}",
                              org=g.org, seconds_between_requests=0, retry_backoff=0)
        path = Path(folder) / "raw.duckdb"
        with RawStore(path) as store:
            t0, c0 = time.perf_counter(), time.process_time()
            github.collect(config, store)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            rows = sum(store.count("github", t.removeprefix("raw_github_"))
                       for t in store.raw_tables() if t.startswith("raw_github_"))
        first = Counter(app.stats.by_route)
        print(f"\nfirst collection: {rows} rows in {wall:.1f} s wall, {cpu:.1f} s CPU "
              f"(emulator and collector share this process)")
        table(first, minimum_requests(org))
        app.stats.reset()
        with RawStore(path) as store:
            before = store.con.execute("SELECT * FROM sync_state ORDER BY ALL").fetchall()
            t0 = time.perf_counter()
            github.collect(config, store)
            wall = time.perf_counter() - t0
            unchanged = store.con.execute("SELECT * FROM sync_state ORDER BY ALL").fetchall()
        second = Counter(app.stats.by_route)
        lists = len(g.repos) * len(github.REPO_ENTITIES)
        print(f"\nsecond collection, nothing new: {sum(second.values())} requests in {wall:.1f} s "
              f"({lists} repository lists + {sum(second.values()) - lists} org lists), "
              f"checkpoints unchanged: {before == unchanged}")
    with tempfile.TemporaryDirectory() as folder, RawStore(Path(folder) / "raw.duckdb") as store:
        t0 = time.perf_counter()
        saved = simload.load(org, store)
        print(f"\nfast loader (no HTTP): {saved} rows in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
