"""Slack collection: requests made against the fewest possible, wall time, the limited mode.

    .venv/bin/python benchmarks/slack_requests.py            # the 12-month demo organization
    .venv/bin/python benchmarks/slack_requests.py --small    # the test organization

Runs the real collector (slack-sdk over HTTP) against the loopback emulator, then again
(incremental), then a few channels under the 2025 non-Marketplace limits with a scaled clock
(a Slack minute lasts 60 ms), then the export path and the fast loader. Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collectors import slack  # noqa: E402
from collectors.clock import ScaledClock  # noqa: E402
from collectors.slack_export import read_export, save_export  # noqa: E402
from processhealth.config_models import SlackConfig  # noqa: E402
from processhealth.simload import slack as simload  # noqa: E402
from processhealth.store import RawStore  # noqa: E402
from simulation import OrgSpec, generate_org  # noqa: E402
from simulation.server import serve  # noqa: E402
from simulation.slack_emulator import SlackEmulator, minimum_requests  # noqa: E402
from simulation.slack_export import write_export  # noqa: E402

TOKEN = "xoxb-benchmark"
SCALE = 0.001


def table(summary: slack.Summary, minimum: dict, served: int) -> None:
    print(f"  {'method':24} {'made':>7} {'minimum':>8} {'ratio':>6}")
    for method in sorted(set(minimum) | set(summary.requests)):
        made, least = summary.requests.get(method, 0), minimum.get(method, 0)
        ratio = f"{made / least:.2f}" if least else "-"
        print(f"  {method:24} {made:7d} {least:8d} {ratio:>6}")
    made, least = sum(summary.requests.values()), sum(minimum.values())
    print(f"  {'total (collector)':24} {made:7d} {least:8d} {made / least:6.2f}")
    print(f"  {'total (emulator saw)':24} {served:7d} {least:8d} {served / least:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="OrgSpec.small() instead of demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limited-channels", default="general,standup-atlas",
                        help="channels collected under the limited mode (comma-separated)")
    args = parser.parse_args()
    os.environ["SLACK_TOKEN"] = TOKEN
    work = Path(tempfile.mkdtemp(prefix="slack-bench-"))

    started = time.perf_counter()
    org = generate_org(args.seed, OrgSpec.small() if args.small else OrgSpec.demo())
    public = [c for c in org.slack.channels if not c.is_private]
    top = sum(len(c.messages) for c in public)
    replies = sum(len(m.replies) for c in public for m in c.messages)
    print(f"organization: {len(public)} public channels, {top} messages, {replies} replies "
          f"({time.perf_counter() - started:.1f}s to simulate)")

    app = SlackEmulator(org, TOKEN)
    minimum = dict(minimum_requests(org, [c.id for c in public]))
    with serve(app) as s, RawStore(work / "api.duckdb") as store:
        cfg = SlackConfig(enabled=True, base_url=s.url)
        t = time.perf_counter()
        first = slack.collect(cfg, store)
        wall = time.perf_counter() - t
        print(f"\nfirst collection: {wall:.1f}s, {(top + replies) / wall:.0f} messages/s")
        table(first, minimum, app.stats.total)
        app.stats.reset()
        t = time.perf_counter()
        again = slack.collect(cfg, store)
        print(f"\nsecond collection (nothing new): {time.perf_counter() - t:.1f}s, "
              f"{app.stats.total} requests {again.requests}")

    names = args.limited_channels.split(",")
    chosen = [c for c in public if c.name in names]
    least = dict(minimum_requests(org, [c.id for c in chosen], limited=True))
    for paced in (False, True):
        app = SlackEmulator(org, TOKEN, limited=True, time_scale=SCALE)
        with serve(app) as s, RawStore(work / f"limited-{paced}.duckdb") as store:
            t = time.perf_counter()
            summary = slack.collect(SlackConfig(enabled=True, base_url=s.url, channels=names,
                                                limited_app=paced), store,
                                    clock=ScaledClock(SCALE))
            wall = time.perf_counter() - t
        print(f"\nlimited mode (15 a page, 1 request a minute), {', '.join(names)}, "
              f"limited_app = {str(paced).lower()}: {summary.waits} waits, "
              f"{summary.wait_seconds / 60:.0f} Slack minutes waited, {wall:.1f}s real")
        table(summary, least, app.stats.total)
    full = minimum_requests(org, [c.id for c in public], limited=True)
    slow = full["conversations.history"] + full["conversations.replies"]
    print(f"\nthe whole workspace in the limited mode: at least {slow} history/replies requests,"
          f" about {slow / 60:.0f} hours at one a minute (import an export instead)")

    t = time.perf_counter()
    archive = write_export(org, work / "export.zip")
    written = time.perf_counter() - t
    t = time.perf_counter()
    export = read_export(archive, SlackConfig())
    with RawStore(work / "export.duckdb") as store:
        imported = save_export(export, store)
    print(f"\nexport: written in {written:.1f}s ({archive.stat().st_size / 1e6:.1f} MB), "
          f"{imported} messages imported in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    with RawStore(work / "simload.duckdb") as store:
        loaded = simload.load(org, store)
    print(f"fast loader: {loaded} messages in {time.perf_counter() - t:.1f}s")


if __name__ == "__main__":
    main()
