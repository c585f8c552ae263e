"""Jira requests against the minimum: the demo organization collected from the emulator.

    .venv/bin/python benchmarks/jira_requests.py [--seed 7] [--flavour cloud|datacenter]

For each flavour: serves the demo organization (4 teams, 12 months), runs collectors.jira.collect
through the real `jira` library into a temporary raw store, and prints the requests the emulator
counted by route next to the minimum a complete collection needs (simulation.jira_emulator.
minimum_requests: search pages, the changelog/comment/worklog calls truncation forces, and the
metadata calls: serverInfo, myself, field, status, boards, sprints), the ratio, the wall time, and
what a second run with nothing changed costs. Also checks that every history of every issue
arrived. A figure, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from collectors import jira
from processhealth.config_models import JiraConfig
from processhealth.store import RawStore
from simulation import OrgSpec, generate_org
from simulation.jira_emulator import JiraEmulator, minimum_requests
from simulation.model import Org
from simulation.server import serve

TOKEN = "benchmark-token"


def run(org: Org, flavour: str, folder: Path) -> None:
    os.environ["JIRA_EMAIL"], os.environ["JIRA_TOKEN"] = "ops@acme.example", TOKEN
    emulator = JiraEmulator(org, TOKEN, flavour=flavour)
    raw = folder / f"raw-{flavour}.duckdb"
    with serve(emulator) as served:
        config = JiraConfig(enabled=True, base_url=served.url, projects=list(org.jira.projects))
        started = time.perf_counter()
        with RawStore(raw) as store:
            jira.collect(config, store)
        wall = time.perf_counter() - started
        first = dict(emulator.stats.by_route)
        total = emulator.stats.total
        emulator.stats.reset()
        started = time.perf_counter()
        with RawStore(raw) as store:
            jira.collect(config, store)
        again_wall = time.perf_counter() - started
        again = dict(emulator.stats.by_route)
    minimum = minimum_requests(org, flavour, list(org.jira.projects))
    needed = sum(minimum.values())
    strict = needed - minimum["metadata"]
    variable = total - sum(first.get(r, 0) for r in ("server_info", "myself", "fields",
                                                      "statuses", "projects", "boards",
                                                      "sprints"))
    complete = histories_complete(org, raw)
    print(f"\n== {flavour}: {len(org.jira.issues)} issues, "
          f"{sum(len(i.histories) for i in org.jira.issues)} histories, "
          f"{sum(len(i.histories) > 100 for i in org.jira.issues)} issues past 100 histories")
    print(f"requests by route: {json.dumps(first, sort_keys=True)}")
    print(f"minimum:           {json.dumps(minimum, sort_keys=True)}")
    print(f"requests {total} / minimum {needed} = {total / needed:.3f}x  "
          f"(search + truncation only: {variable} / {strict} = {variable / strict:.3f}x)")
    print(f"wall time {wall:.1f} s; every history of every issue stored: {complete}")
    print(f"second run, nothing changed: {sum(again.values())} requests "
          f"{json.dumps(again, sort_keys=True)} in {again_wall:.1f} s")


def histories_complete(org: Org, raw: Path) -> bool:
    with RawStore(raw, read_only=True) as store:
        found = dict(store.con.execute(
            "SELECT natural_key, list_sort(CAST(json_extract_string(payload, "
            "'$.changelog.histories[*].id') AS VARCHAR[])) FROM raw_jira_issues").fetchall())
    return all(found.get(i.key) == sorted(str(h.id) for h in i.histories)
               for i in org.jira.issues)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--flavour", choices=["cloud", "datacenter"], action="append")
    args = parser.parse_args()
    started = time.perf_counter()
    org = generate_org(args.seed, OrgSpec.demo())
    print(f"demo organization (seed {args.seed}) generated in {time.perf_counter() - started:.1f}"
          f" s")
    with tempfile.TemporaryDirectory() as tmp:
        for flavour in args.flavour or ["cloud", "datacenter"]:
            run(org, flavour, Path(tmp))


if __name__ == "__main__":
    main()
