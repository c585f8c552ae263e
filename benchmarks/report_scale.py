"""The report at organization scale: render time and peak RSS for 186 teams (issue 21), and what
its charts cost (issue 20).

    .venv/bin/python benchmarks/report_scale.py            # 186 teams, both layouts
    .venv/bin/python benchmarks/report_scale.py --teams 60

The organization is the report tests' hand-made one (tests/report_org.py) with teams added as
SQL copies of its two teams (every fifth too small to show), so it builds in seconds and every
team has twelve months of figures, charts and a verdict per month. Each layout is rendered in a
fresh subprocess (`report --out DIR`: index.html and a page per team; `--out FILE.html`: one
file), timed end to end inside it, with that process's peak RSS (getrusage RUSAGE_SELF), the
number of charts drawn and the time spent drawing them (wall and CPU time inside the chart
functions of reports/charts.py).

Goal (printed, not asserted): the per-team layout in under 20 s on this machine (2 cores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.peak_rss import peak_rss  # noqa: E402

GOAL_SECONDS = 20


def build(folder: Path, teams: int) -> Path:
    from report_org import TEAMS, many_teams_database

    db = many_teams_database(folder / "analytics.duckdb",
                             [f"team {i:03d}" for i in range(teams - len(TEAMS))])
    config = folder / "processhealth.toml"
    config.write_text(f'[storage]\nanalytics_path = "{db}"\n', encoding="utf-8")
    return config


def timed_charts() -> dict[str, float]:
    """Wrap every chart function of reports/charts.py to count its calls and their time."""
    from reports import charts

    spent = {"charts": 0, "wall": 0.0, "cpu": 0.0}

    def wrap(draw):  # noqa: ANN001, ANN202
        def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return draw(*args, **kwargs)
            finally:
                spent["charts"] += 1
                spent["wall"] += time.perf_counter() - wall
                spent["cpu"] += time.process_time() - cpu
        return timed

    for name in ("allocation_chart", "line_chart", "stage_chart", "adoption_chart",
                 "interval_chart", "source_chart"):
        setattr(charts, name, wrap(getattr(charts, name)))
    return spent


def render(config_path: str, layout: str, out: str) -> None:
    """In the subprocess: render one layout and print its figures as JSON."""
    from processhealth.config import load_config
    from reports.pages import render_pages
    from reports.render import render_report

    config = load_config(Path(config_path))
    spent = timed_charts()
    started = time.perf_counter()
    if layout == "pages":
        paths = render_pages(config, Path(out))
    else:
        paths = [render_report(config, Path(out))]
    seconds = time.perf_counter() - started
    sizes = [p.stat().st_size for p in paths]
    print(json.dumps({
        "seconds": seconds, "files": len(paths), "total_mb": sum(sizes) / 1e6,
        "largest_mb": max(sizes) / 1e6,
        "rss_gib": peak_rss() / 2**30,
        **spent,
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=186)
    parser.add_argument("--render", nargs=3, help=argparse.SUPPRESS)  # config layout out
    args = parser.parse_args()
    if args.render:
        render(*args.render)
        return
    with tempfile.TemporaryDirectory(prefix="processhealth-report-scale-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        config = build(folder, args.teams)
        print(f"{args.teams} teams built in {time.perf_counter() - started:.1f} s")
        print("layout             seconds  files  total MB  largest MB  RSS GiB  charts"
              "  chart s  ms/chart (CPU)")
        for layout, out in (("pages", folder / "pages"), ("single", folder / "report.html")):
            done = subprocess.run(
                [sys.executable, __file__, "--render", str(config), layout, str(out)],
                check=True, capture_output=True, text=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            name = "report --out DIR" if layout == "pages" else "report --out X.html"
            each = 1000 * r["wall"] / max(r["charts"], 1)
            print(f"{name:<18} {r['seconds']:7.1f}  {r['files']:5}  {r['total_mb']:8.1f}"
                  f"  {r['largest_mb']:10.2f}  {r['rss_gib']:7.2f}  {r['charts']:6}"
                  f"  {r['wall']:7.2f}  {each:8.2f} "
                  f"({1000 * r['cpu'] / max(r['charts'], 1):.2f})")
            if layout == "pages":
                verdict = "met" if r["seconds"] < GOAL_SECONDS else \
                    f"missed by {r['seconds'] / GOAL_SECONDS:.1f}x"
                print(f"  goal: per-team pages under {GOAL_SECONDS} s: {verdict}")


if __name__ == "__main__":
    main()
