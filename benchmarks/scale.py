"""Scale: `processhealth build` plus the monthly report at about 1M, 3M and 10M events, each
divided by the plain-DuckDB floor (benchmarks/floor.py) measured in the same run on the same data.

    .venv/bin/python benchmarks/scale.py prepare 130 390 1300   # once per size
    .venv/bin/python benchmarks/scale.py run 130 390 1300       # build + report + floor per size
    .venv/bin/python benchmarks/scale.py run 130 --profile      # also print each build step's time
    .venv/bin/python benchmarks/scale.py run 130 --memory-limit 8GB  # other [storage] memory_limit
    .venv/bin/python benchmarks/scale.py run 130 --out /tmp/mine     # outputs there, not SCALE_DIR

`prepare` generates `OrgSpec.sized(people)` (12 months) and writes it into a new raw store with
the bulk loader (processhealth/simload/bulk.py: the per-source fast loaders' rows, no HTTP, the
same rows a collection writes, appended in bulk while the loaders run in forked workers), a
config for it, and `last-month.duckdb` (the hook for an incremental build, below), under
SCALE_DIR/<people>/ (default /work/scratch/scale; never the repo), then writes
SCALE_DIR/READY-<people>.

`run`, per size: the floor in a fresh process (floor.py; its database `floor.duckdb`), then
build + report in another fresh process, both on the same raw store, one right after the other.
Each process reads its own peak RSS (VmHWM, benchmarks/peak_rss.py: not ru_maxrss, which
counts the harness's own peak in its children) and CPU time (user +
system, all threads); the report draws its charts in the same process (plain SVG, no chart
workers since issue 20). The floor's and the build's events are compared by count per (source,
kind). Outputs (processhealth.duckdb, report.html, floor.duckdb) go to --out/<people>
(default: the size's folder; give --out when the size's folder is shared). Events = rows of
`events`.

The machine is shared: each size's line says the load average (1 minute) before and after, and
the CPU seconds, which contention inflates less than wall time.

Incremental build (`run --incremental`, or `--only-incremental` to skip the full build and
report): the prepared raw store is copied to INCR_DIR/<people>/ (default /work/scratch/incr; the
prepared data is never changed), the rows updated in the data's last month are moved out of the
copy into `held.duckdb` (processhealth/simload/replay.py; `last-month.duckdb` beside each
prepared store holds the same rows), the copy is built (`build --full`, timed for reference),
the held rows are appended back with the raw store's own write path as a collection writes them
(new seqs), and `build` is timed in a fresh process: it must choose incremental, and says what
it kept. The floor for the rows it touches is floor.py on a raw store of those rows alone (the
held store, with the size's config). Then, untimed, what the month changed of the earlier
events (benchmarks/renumbered.py on the reference build and the incremental one): their numbers
(events.event_seq) and the rows keyed by them that an incremental analysis would rewrite.
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

from benchmarks.disk import print_disk  # noqa: E402
from benchmarks.peak_rss import peak_rss  # noqa: E402

SCALE_DIR = Path(os.environ.get("PROCESSHEALTH_SCALE_DIR", "/work/scratch/scale"))
INCR_DIR = Path(os.environ.get("PROCESSHEALTH_INCR_DIR", "/work/scratch/incr"))
FLOOR = Path(__file__).resolve().parent / "floor.py"

# Issue 20's goals (printed, not asserted).
GOAL_SECONDS = 120          # full build + report at 10M events
GOAL_FLOOR_RATIO = 3        # ... and at most 3x the floor
GOAL_RSS_GIB = 4.0          # peak RSS at the default memory_limit
GOAL_GROWTH = 11            # 1M -> 10M time ratio
GOAL_INCREMENTAL_SECONDS, GOAL_INCREMENTAL_RATIO = 20, 2


def folder(people: int) -> Path:
    return SCALE_DIR / str(people)


def prepare(people: int, seed: int = 7) -> None:
    """Generate the sized organization and load it into SCALE_DIR/<people>/raw.duckdb."""
    from processhealth.demo_config import demo_config_toml
    from processhealth.simload import bulk
    from simulation import OrgSpec, generate_org

    where = folder(people)
    where.mkdir(parents=True, exist_ok=True)
    ready = SCALE_DIR / f"READY-{people}"
    ready.unlink(missing_ok=True)
    for stale in where.glob("*.duckdb*"):
        stale.unlink()
    t0, c0 = time.perf_counter(), _cpu(children=True)
    org = generate_org(seed, OrgSpec.sized(people))
    t1, c1 = time.perf_counter(), _cpu(children=True)
    rows = bulk.load_fresh(org, where / "raw.duckdb")
    t2, c2 = time.perf_counter(), _cpu(children=True)
    held = hold_last_month(where / "raw.duckdb", where / "last-month.duckdb")
    t3 = time.perf_counter()
    urls = {s: f"http://127.0.0.1:1/{s}" for s in ("github", "jira", "slack")}
    toml = demo_config_toml(org, urls) + (
        f'\n[storage]\nraw_path = "{where / "raw.duckdb"}"\n'
        f'analytics_path = "{where / "processhealth.duckdb"}"\n')
    (where / "processhealth.toml").write_text(toml)
    humans = sum(not p.is_bot for p in org.people)
    line = (f"prepared {people}: {humans} people in {len(org.teams)} teams, generated in "
            f"{t1 - t0:.0f} s (CPU {c1 - c0:.0f} s), {rows:,} raw rows loaded in {t2 - t1:.0f} s "
            f"(CPU {c2 - c1:.0f} s, loader workers included), raw store "
            f"{(where / 'raw.duckdb').stat().st_size / 2**30:.2f} GiB; last month's "
            f"{held:,} rows set apart in {t3 - t2:.0f} s (load average {_load()})")
    ready.write_text(line + "\n")
    print(line, flush=True)


def hold_last_month(raw: Path, out: Path) -> int:
    """Copy the raw rows updated in the data's last calendar month, and the checkpoints, into a
    new store `out` (the incremental-build hook, see the module docstring); returns the rows."""
    from processhealth.simload import replay

    return replay.hold_last_month(raw, out)


def measure_incremental(work: Path) -> None:
    """In this (fresh) process: `build` (incremental by default) of work/processhealth.toml;
    print one JSON line: wall and CPU seconds, what the build chose."""
    from processhealth import pipeline
    from processhealth.config import load_config

    for token in ("GITHUB", "JIRA", "SLACK"):
        os.environ.setdefault(f"PROCESSHEALTH_DEMO_{token}_TOKEN", "unused")
    config = load_config(work / "processhealth.toml")
    full = os.environ.get("BENCH_FULL") == "1"
    c0, t0 = _cpu(), time.perf_counter()
    pipeline.build(config, full=full)
    c1, t1 = _cpu(), time.perf_counter()
    plan = pipeline.last_plan
    peak = peak_rss()
    print(json.dumps({"build": t1 - t0, "build_cpu": c1 - c0, "mode": plan.mode,
                      "summary": plan.summary(), "changed": plan.changed,
                      "peak_rss": peak}), flush=True)


def prepare_incremental(people: int, env: dict[str, str]) -> tuple[Path, dict]:
    """INCR_DIR/<people>: a copy of the prepared store without its last month, built in full;
    then that month appended back. Returns the folder and the reference full build's figures."""
    import shutil

    from processhealth.simload import replay
    from processhealth.store import RawStore

    where, work = folder(people), INCR_DIR / str(people)
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("*.duckdb*"):
        stale.unlink()
    shutil.copyfile(where / "raw.duckdb", work / "raw.duckdb")
    with RawStore(work / "raw.duckdb"):  # migrated now: a migration changes the store's
        pass  # identity, and the incremental build below would be full for it
    held = replay.split_last_month(work / "raw.duckdb", work / "held.duckdb")
    toml = (where / "processhealth.toml").read_text().split("\n[storage]\n")[0]
    (work / "processhealth.toml").write_text(
        toml + f'\n[storage]\nraw_path = "{work / "raw.duckdb"}"\n'
        f'analytics_path = "{work / "processhealth.duckdb"}"\n')
    touched = work / "touched"
    touched.mkdir(exist_ok=True)
    _touched_store(work / "held.duckdb", work / "raw.duckdb", touched / "raw.duckdb")
    shutil.copyfile(work / "processhealth.toml", touched / "processhealth.toml")
    before = _last_json([sys.executable, __file__, "_measure_incremental", str(work)],
                        {**env, "BENCH_FULL": "1"})
    # kept for benchmarks/renumbered.py after the timed build replaced it (not timed)
    shutil.copyfile(work / "processhealth.duckdb", work / "before.duckdb")
    t0 = time.perf_counter()
    written = replay.append(work / "raw.duckdb", work / "held.duckdb")
    before.update(held=held, appended=written, append_s=time.perf_counter() - t0)
    return work, before


def _touched_store(held: Path, raw: Path, out: Path) -> None:
    """The held rows as a raw store floor.py reads: with the raw store's deleted marks."""
    import shutil

    from processhealth.duckdb_files import open_duckdb

    shutil.copyfile(held, out)
    con = open_duckdb(out)
    try:
        con.execute(f"ATTACH '{raw}' AS src (READ_ONLY)")
        con.execute("CREATE OR REPLACE TABLE sync_deleted AS SELECT * FROM src.sync_deleted")
    finally:
        con.close()


def run_incremental(people: int, env: dict[str, str], memory_limit: str | None) -> dict:
    """The incremental build after one more month, and the floor of the rows it touches."""
    from processhealth.duckdb_files import DEFAULT_MEMORY_LIMIT

    work, before = prepare_incremental(people, env)
    load_before = _load()
    floor = _last_json([sys.executable, str(FLOOR), str(work / "touched"), "--json", "--out",
                        str(work / "touched" / "floor.duckdb"), "--memory-limit",
                        memory_limit or DEFAULT_MEMORY_LIMIT], env)
    f = _last_json([sys.executable, __file__, "_measure_incremental", str(work)], env)
    f.update(people=people, floor=floor["floor"], floor_cpu=floor["floor_cpu"],
             touched_events=floor["events"], load=f"{load_before}/{_load()}",
             before=before["build"], before_cpu=before["build_cpu"], held=before["held"],
             appended=before["appended"])
    print(f"  {people} people, incremental after one more month ({f['held']:,} raw rows held "
          f"out, {f['appended']:,} appended back): {f['summary']}\n"
          f"    build {f['build']:.1f} s (CPU {f['build_cpu']:.0f} s); the full build of the "
          f"store before the month {f['before']:.1f} s (CPU {f['before_cpu']:.0f} s); floor of "
          f"the touched rows ({f['touched_events']:,} events) {f['floor']:.1f} s (CPU "
          f"{f['floor_cpu']:.0f} s): {f['build'] / f['floor']:.1f}x the floor (CPU "
          f"{f['build_cpu'] / max(f['floor_cpu'], 1e-9):.1f}x); load {f['load']}", flush=True)
    print_disk(work)
    import renumbered  # benchmarks/renumbered.py, beside this file

    print("    what the month changed of the earlier events' numbers and rows (renumbered.py):")
    renumbered.report(work / "before.duckdb", work / "processhealth.duckdb")
    (work / "before.duckdb").unlink()
    # not a figure of the build: the harness's own peak, which the builds started after it no
    # longer count as theirs (benchmarks/peak_rss.py)
    print(f"    this harness process peaked at {peak_rss() / 2**30:.2f} GiB", flush=True)
    return f


def measure(where: Path, out: Path) -> None:
    """In this (fresh) process: build + report; print one JSON line of figures."""
    from processhealth import pipeline
    from processhealth.config import load_config
    from processhealth.duckdb_files import open_duckdb
    from reports.render import render_report

    for token in ("GITHUB", "JIRA", "SLACK"):
        os.environ.setdefault(f"PROCESSHEALTH_DEMO_{token}_TOKEN", "unused")
    config = load_config(where / "processhealth.toml")
    config.storage.analytics_path = out / "processhealth.duckdb"
    if os.environ.get("BENCH_MEMORY_LIMIT"):  # what-if: another [storage] memory_limit
        config.storage.memory_limit = os.environ["BENCH_MEMORY_LIMIT"]
    c0, t0 = _cpu(), time.perf_counter()
    pipeline.build(config, full=True)  # the full build, even when a previous one is there
    c1, t1 = _cpu(), time.perf_counter()
    render_report(config, out / "report.html")
    c2, t2 = _cpu(), time.perf_counter()
    con = open_duckdb(config.storage.analytics_path, read_only=True)
    counts = con.execute("SELECT source, kind, count(*) FROM events GROUP BY ALL").fetchall()
    con.close()
    peak = peak_rss()
    print(json.dumps({"events": sum(n for _, _, n in counts), "build": t1 - t0,
                      "report": t2 - t1, "build_cpu": c1 - c0,
                      "report_cpu": c2 - c1, "peak_rss": peak, "counts": counts}), flush=True)


def _cpu(children: bool = False) -> float:
    """CPU seconds (user + system) of this process, plus its ended children if asked."""
    who = [resource.RUSAGE_SELF] + ([resource.RUSAGE_CHILDREN] if children else [])
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, who))


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _last_json(args: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run(args, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(sizes: list[int], profile: bool, memory_limit: str | None = None,
        out_root: Path | None = None, incremental: str = "") -> None:
    from floor import compare_lines  # benchmarks/floor.py, beside this file

    from processhealth.duckdb_files import DEFAULT_MEMORY_LIMIT

    env = {**os.environ, **({"PROCESSHEALTH_PROFILE": "1"} if profile else {}),
           **({"BENCH_MEMORY_LIMIT": memory_limit} if memory_limit else {})}
    results, incremental_results = [], []
    for people in sizes:
        where = folder(people)
        if not (where / "processhealth.toml").exists():
            sys.exit(f"{where} is not prepared: run `benchmarks/scale.py prepare {people}` first")
        if incremental:
            incremental_results.append(run_incremental(people, env, memory_limit))
            if incremental == "only":
                continue
        out = (out_root / str(people)) if out_root else where
        out.mkdir(parents=True, exist_ok=True)
        load_before = _load()
        floor = _last_json([sys.executable, str(FLOOR), str(where), "--json", "--out",
                            str(out / "floor.duckdb"), "--memory-limit",
                            memory_limit or DEFAULT_MEMORY_LIMIT], env)
        f = _last_json([sys.executable, __file__, "_measure", str(where), str(out)], env)
        f.update(people=people, floor=floor["floor"], floor_cpu=floor["floor_cpu"],
                 floor_rss=floor["peak_rss"], load=f"{load_before}/{_load()}")
        results.append(f)
        total = f["build"] + f["report"]
        print(f"  {people} people: {f['events']:,} events, floor {f['floor']:.1f} s, build "
              f"{f['build']:.1f} s + report {f['report']:.1f} s = {total:.1f} s "
              f"({total / f['floor']:.1f}x the floor), peak RSS {f['peak_rss'] / 2**30:.2f} GiB, "
              f"load {f['load']}", flush=True)
        lines = compare_lines(floor["counts"], {(s, k): n for s, k, n in f["counts"]})
        print("    events by (source, kind), build vs floor:")
        print("\n".join("    " + line for line in lines), flush=True)
    if results:
        _table(results)
        _goals(results, memory_limit)
    if incremental_results:
        _incremental_goals(incremental_results)


def _incremental_goals(results: list[dict]) -> None:
    big = results[-1]
    tag = "" if big["people"] >= 1300 else f" (largest size here: {big['people']} people)"
    print(f"\n{'people':>7} {'mode':>12} {'build s':>8} {'CPU s':>6} {'full before s':>14} "
          f"{'floor s':>8} {'build/floor':>12} {'load':>10}")
    for f in results:
        print(f"{f['people']:7d} {f['mode']:>12} {f['build']:8.1f} {f['build_cpu']:6.0f} "
              f"{f['before']:14.1f} {f['floor']:8.1f} {f['build'] / f['floor']:12.1f} "
              f"{f['load']:>10}")
    print(f"- incremental build after one more month{tag}: {big['build']:.1f} s, goal <= "
          f"{GOAL_INCREMENTAL_SECONDS} s at 10M: "
          f"{_verdict(big['build'] <= GOAL_INCREMENTAL_SECONDS) if not tag else 'not judged'}; "
          f"{big['build'] / big['floor']:.1f}x the floor of the rows it touches, goal <= "
          f"{GOAL_INCREMENTAL_RATIO}x: "
          f"{'met' if big['build'] / big['floor'] <= GOAL_INCREMENTAL_RATIO else 'missed'}")


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def _table(results: list[dict]) -> None:
    print(f"\n{'people':>7} {'events':>12} {'build s':>8} {'report s':>9} {'total s':>8} "
          f"{'peak RSS GiB':>13} {'floor s':>8} {'build/floor':>12} "
          f"{'total/floor':>12} {'CPU s build':>12} {'report':>7} {'floor':>6} {'load':>10}")
    for f in results:
        total = f["build"] + f["report"]
        print(f"{f['people']:7d} {f['events']:12,d} {f['build']:8.1f} {f['report']:9.1f} "
              f"{total:8.1f} {f['peak_rss'] / 2**30:13.2f} "
              f"{f['floor']:8.1f} {f['build'] / f['floor']:12.1f} {total / f['floor']:12.1f} "
              f"{f['build_cpu']:12.0f} {f['report_cpu']:7.0f} {f['floor_cpu']:6.0f} "
              f"{f['load']:>10}")


def _goals(results: list[dict], memory_limit: str | None) -> None:
    small, big = results[0], results[-1]
    total = big["build"] + big["report"]
    print(f"\nGoals (issue 20), {os.cpu_count()} CPUs:")
    tag = "" if big["events"] >= 9e6 else f" (largest size here: {big['events']:,} events)"
    print(f"- build + report at 10M: {total:.1f} s{tag}, goal <= {GOAL_SECONDS} s: "
          f"{'met' if total <= GOAL_SECONDS else 'missed'}; {total / big['floor']:.1f}x the floor "
          f"({big['floor']:.1f} s), goal <= {GOAL_FLOOR_RATIO}x: "
          f"{'met' if total / big['floor'] <= GOAL_FLOOR_RATIO else 'missed'}")
    peak = big["peak_rss"]
    limit = f"memory_limit {memory_limit}, not the default" if memory_limit else \
        "default memory_limit"
    print(f"- peak RSS {peak / 2**30:.2f} GiB ({limit}), goal <= {GOAL_RSS_GIB} GiB: "
          f"{'met' if peak <= GOAL_RSS_GIB * 2**30 else 'missed'}")
    if len(results) > 1:
        grow = total / (small["build"] + small["report"])
        cpu = (big["build_cpu"] + big["report_cpu"]) / (small["build_cpu"] + small["report_cpu"])
        print(f"- growth: {big['events'] / small['events']:.1f}x the events took {grow:.1f}x the "
              f"time (the floor {big['floor'] / small['floor']:.1f}x; CPU "
              f"{cpu:.1f}x)"
              f", goal <= {GOAL_GROWTH}x for 1M -> 10M: "
              f"{'met' if grow <= GOAL_GROWTH else 'missed'}")
    else:
        print("- growth: needs two sizes")
    print(f"- incremental build after one more month (goal <= {GOAL_INCREMENTAL_SECONDS} s and "
          f"<= {GOAL_INCREMENTAL_RATIO}x the floor for the rows it touches): not in this run; "
          f"`run --incremental` times it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["prepare", "run", "_measure",
                                           "_measure_incremental"])
    parser.add_argument("sizes", nargs="+", help="people per organization (or a folder)")
    parser.add_argument("--profile", action="store_true", help="print each build step's time")
    parser.add_argument("--memory-limit", help="[storage] memory_limit to use (default 3.6GB)")
    parser.add_argument("--out", help="write each size's outputs to OUT/<people>")
    parser.add_argument("--incremental", action="store_const", const="also", default="",
                        help="also time an incremental build after one more month")
    parser.add_argument("--only-incremental", dest="incremental", action="store_const",
                        const="only", help="time only the incremental build")
    args = parser.parse_args()
    if args.action == "_measure":
        measure(Path(args.sizes[0]), Path(args.sizes[1]))
    elif args.action == "_measure_incremental":
        measure_incremental(Path(args.sizes[0]))
    elif args.action == "prepare":
        for people in map(int, args.sizes):
            prepare(people)
    else:
        run([int(s) for s in args.sizes], args.profile, args.memory_limit,
            Path(args.out) if args.out else None, args.incremental)


if __name__ == "__main__":
    main()
