"""Scale: `processhealth build` plus the monthly report at about 1M, 3M and 10M events.

    .venv/bin/python benchmarks/scale.py prepare 130 390 1300   # once per size (minutes at 10M)
    .venv/bin/python benchmarks/scale.py run 130 390 1300       # time build + report per size
    .venv/bin/python benchmarks/scale.py run 130 --profile      # also print each build step's time
    .venv/bin/python benchmarks/scale.py run 130 --memory-limit 8GB  # other [storage] memory_limit

`prepare` generates `OrgSpec.sized(people)` (12 months) and writes it straight into a raw store
with the fast loaders (processhealth/simload, no HTTP; the same rows a collection writes), plus
a config for it, under SCALE_DIR/<people>/ (default /work/scratch/scale; never the repo).
`run` times build + report in a fresh subprocess per size and reads that process's own peak RSS
(getrusage RUSAGE_SELF ru_maxrss), so each size is measured alone, and the largest of the report's
two chart worker processes (their VmHWM; reports/svg.py). The memory goal is checked against
the process plus both workers, an upper bound (the build's peak comes before the workers start).
Events = rows of `events`.

Goals (printed, not asserted): at 10M events at most 60 s and 4 GiB peak RSS on 2 cores;
10M/1M time ratio at most 12.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCALE_DIR = Path(os.environ.get("PROCESSHEALTH_SCALE_DIR", "/work/scratch/scale"))
GOAL_SECONDS, GOAL_RSS_GIB, GOAL_RATIO = 60, 4.0, 12


def folder(people: int) -> Path:
    return SCALE_DIR / str(people)


def prepare(people: int, seed: int = 7) -> None:
    """Generate the sized organization and load it into SCALE_DIR/<people>/raw.duckdb."""
    from processhealth.demo_config import demo_config_toml
    from processhealth.simload import github, jira, slack
    from processhealth.store import RawStore
    from simulation import OrgSpec, generate_org

    where = folder(people)
    where.mkdir(parents=True, exist_ok=True)
    for stale in where.glob("*.duckdb*"):
        stale.unlink()
    t0 = time.perf_counter()
    org = generate_org(seed, OrgSpec.sized(people))
    t1 = time.perf_counter()
    with RawStore(where / "raw.duckdb") as store:
        rows = sum(module.load(org, store) for module in (github, jira, slack))
    t2 = time.perf_counter()
    urls = {s: f"http://127.0.0.1:1/{s}" for s in ("github", "jira", "slack")}
    toml = demo_config_toml(org, urls) + (
        f'\n[storage]\nraw_path = "{where / "raw.duckdb"}"\n'
        f'analytics_path = "{where / "processhealth.duckdb"}"\n')
    (where / "processhealth.toml").write_text(toml)
    humans = sum(not p.is_bot for p in org.people)
    print(f"prepared {people}: {humans} people in {len(org.teams)} teams, generated in "
          f"{t1 - t0:.0f} s, {rows} rows loaded in {t2 - t1:.0f} s, "
          f"raw store {(where / 'raw.duckdb').stat().st_size / 2**30:.2f} GiB", flush=True)


def measure(where: Path) -> None:
    """In this (fresh) process: build + report; print one JSON line of figures."""
    from processhealth import pipeline
    from processhealth.config import load_config
    from processhealth.store import open_duckdb
    from reports.render import render_report
    from reports.svg import close_workers, worker_pids

    for token in ("GITHUB", "JIRA", "SLACK"):
        os.environ.setdefault(f"PROCESSHEALTH_DEMO_{token}_TOKEN", "unused")
    config = load_config(where / "processhealth.toml")
    if os.environ.get("BENCH_MEMORY_LIMIT"):  # what-if: another [storage] memory_limit
        config.storage.memory_limit = os.environ["BENCH_MEMORY_LIMIT"]
    t0 = time.perf_counter()
    pipeline.build(config)
    t1 = time.perf_counter()
    render_report(config, where / "report.html")
    t2 = time.perf_counter()
    workers = max((_peak_rss(pid) for pid in worker_pids()), default=0)
    close_workers()
    con = open_duckdb(config.storage.analytics_path, read_only=True)
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"events": events, "build": t1 - t0, "report": t2 - t1,
                      "peak_rss": peak, "worker_rss": workers}), flush=True)


def _peak_rss(pid: int) -> int:
    """Peak resident set of a running process (VmHWM), in bytes. Not RUSAGE_CHILDREN: a child's
    ru_maxrss starts from its parent's resident set at fork, before it execs."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def run(sizes: list[int], profile: bool, memory_limit: str | None = None) -> None:
    env = {**os.environ, **({"PROCESSHEALTH_PROFILE": "1"} if profile else {}),
           **({"BENCH_MEMORY_LIMIT": memory_limit} if memory_limit else {})}
    results = []
    for people in sizes:
        where = folder(people)
        if not (where / "processhealth.toml").exists():
            sys.exit(f"{where} is not prepared: run `benchmarks/scale.py prepare {people}` first")
        done = subprocess.run([sys.executable, __file__, "_measure", str(where)], env=env,
                              stdout=subprocess.PIPE, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        results.append((people, figures))
        print(f"  {people} people: {figures['events']:,} events, build {figures['build']:.1f} s"
              f" + report {figures['report']:.1f} s, peak RSS "
              f"{figures['peak_rss'] / 2**30:.2f} GiB (each of 2 chart workers "
              f"{figures['worker_rss'] / 2**30:.2f} GiB)", flush=True)
    print(f"\n{'people':>7} {'events':>12} {'build s':>8} {'report s':>9} {'total s':>8} "
          f"{'peak RSS GiB':>13} {'+ workers GiB':>14}")
    for people, f in results:
        print(f"{people:7d} {f['events']:12,d} {f['build']:8.1f} {f['report']:9.1f} "
              f"{f['build'] + f['report']:8.1f} {f['peak_rss'] / 2**30:13.2f} "
              f"{2 * f['worker_rss'] / 2**30:14.2f}")
    if len(results) > 1:
        (_, small), (_, big) = results[0], results[-1]
        ratio = (big["build"] + big["report"]) / (small["build"] + small["report"])
        print(f"\ngrowth: {big['events'] / small['events']:.1f}x the events took {ratio:.1f}x "
              f"the time (goal: at most {GOAL_RATIO} for 10x)")
    _, last = results[-1]
    total = last["build"] + last["report"]
    print(f"largest size: {total:.1f} s (goal {GOAL_SECONDS} s), peak RSS "
          f"{last['peak_rss'] / 2**30:.2f} GiB, with the 2 chart workers at most "
          f"{(last['peak_rss'] + 2 * last['worker_rss']) / 2**30:.2f} GiB "
          f"(goal {GOAL_RSS_GIB} GiB), {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["prepare", "run", "_measure"])
    parser.add_argument("sizes", nargs="+", help="people per organization (or a folder)")
    parser.add_argument("--profile", action="store_true", help="print each build step's time")
    parser.add_argument("--memory-limit", help="[storage] memory_limit to use (default 3GB)")
    args = parser.parse_args()
    if args.action == "_measure":
        measure(Path(args.sizes[0]))
    elif args.action == "prepare":
        for people in map(int, args.sizes):
            prepare(people)
    else:
        run([int(s) for s in args.sizes], args.profile, args.memory_limit)


if __name__ == "__main__":
    main()
