"""Effort accuracy: estimated category shares per team-month against the simulation's truth.

    .venv/bin/python benchmarks/effort_accuracy.py [--seed 7] [--keep DIR]

Generates the demo organization (4 teams, 12 months), loads it into a raw store through the
collectors' own row code (processhealth/simload, no HTTP), runs `build` with the demo config
(default classification and effort settings), then compares metric_effort_allocation.share with
simulation.truth.team_month_shares. Prints the error distribution (mean, p95, max, in percentage
points), the share of team-months whose four categories are all within 5 points, the unclassified
share, and the sensitivity to the session gap. A figure, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

from processhealth import pipeline
from processhealth.config import Config, parse_config
from processhealth.demo_config import demo_config_toml
from processhealth.store import RawStore
from simulation import OrgSpec, generate_org, truth
from simulation.model import Org

SOURCES = ("github", "jira", "slack")
CATEGORIES = list(truth.CATEGORIES)


def build_simulated(org: Org, folder: Path) -> tuple[Config, list[str]]:
    """Raw store from the simulation's fast loaders, then `build`; returns config and sources."""
    import tomllib

    urls = {s: "http://127.0.0.1:1" for s in SOURCES}
    config = parse_config(tomllib.loads(demo_config_toml(org, urls)), origin="benchmark",
                          base_dir=folder)
    loaded = []
    with RawStore(config.storage.raw_path) as store:
        for source in SOURCES:
            if importlib.util.find_spec(f"processhealth.simload.{source}") is None:
                continue
            module = importlib.import_module(f"processhealth.simload.{source}")
            module.load(org, store)
            loaded.append(source)
    pipeline.build(config)
    return config, loaded


def share_errors(con: duckdb.DuckDBPyConnection, org: Org) -> pd.DataFrame:
    """One row per (team, month, category): estimated share, true share, error in points."""
    est = con.execute("""
        SELECT team, strftime(month, '%Y-%m') AS month, category, share AS estimated
        FROM metric_effort_allocation
    """).df()
    true = truth.team_month_shares(org).rename(columns={"share": "true"})
    grid = true[["team", "month"]].drop_duplicates().merge(
        pd.DataFrame({"category": CATEGORIES}), how="cross")
    out = grid.merge(true[["team", "month", "category", "true"]], how="left") \
              .merge(est, how="left").fillna({"true": 0.0, "estimated": 0.0})
    out["error_pp"] = 100 * (out["estimated"] - out["true"])
    return out


def summary(errors: pd.DataFrame) -> dict[str, float]:
    abs_err = errors["error_pp"].abs()
    per_tm = errors.assign(a=abs_err).groupby(["team", "month"])["a"].max()
    return {"mean": abs_err.mean(), "p95": abs_err.quantile(0.95), "max": abs_err.max(),
            "within_5pp": (per_tm <= 5).mean(), "team_months": len(per_tm)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Keep the databases in this folder.")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    org = generate_org(args.seed, OrgSpec.demo())
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        config, loaded = build_simulated(org, folder)
        con = duckdb.connect(str(config.storage.analytics_path), read_only=True)
        errors = share_errors(con, org)
        unclassified = con.execute(
            "SELECT sum(hours) FILTER (WHERE category = 'unclassified') / sum(hours)"
            " FROM metric_effort_allocation").fetchone()[0]
        sensitivity = con.execute("""
            SELECT gap_minutes, category, round(100 * sum(minutes) / sum(sum(minutes))
                   OVER (PARTITION BY gap_minutes), 1) AS share_pct
            FROM effort_sensitivity GROUP BY gap_minutes, category ORDER BY category, gap_minutes
        """).df()
        con.close()
    s = summary(errors)
    print(f"seed {args.seed}: {len(org.teams)} teams, sources loaded: {', '.join(loaded)} "
          f"({time.perf_counter() - started:.0f} s)")
    if set(loaded) != set(SOURCES):
        print("note: a source's fast loader is missing, so its work is invisible here")
    print(f"share error per team-month and category, percentage points: mean {s['mean']:.2f}, "
          f"p95 {s['p95']:.2f}, max {s['max']:.2f}")
    print(f"team-months with every category within 5 pp: {100 * s['within_5pp']:.1f}% "
          f"of {s['team_months']}")
    print(f"unclassified share of credited effort: {100 * unclassified:.1f}%")
    print("\nmean estimated vs true share by category:")
    print(errors.groupby("category")[["estimated", "true", "error_pp"]].mean().round(3)
          .to_string())
    worst = errors.reindex(errors["error_pp"].abs().sort_values(ascending=False).index).head(5)
    print("\nlargest errors:")
    print(worst.round(3).to_string(index=False))
    print("\nshare of all credited effort by session gap (minutes):")
    print(sensitivity.pivot(index="category", columns="gap_minutes", values="share_pct")
          .to_string())


if __name__ == "__main__":
    sys.exit(main())
