"""Effort accuracy on the scenario family: estimated category shares and hours against the truth.

    .venv/bin/python benchmarks/effort_accuracy.py                 # family seed 1, 8 members
    .venv/bin/python benchmarks/effort_accuracy.py --orgs 48 --seed 1
    .venv/bin/python benchmarks/effort_accuracy.py --small         # the test suite's two members

Each member is collected through the real clients and built with its generated config (the
product's default classification, effort and people settings; benchmarks/family_build.py, cached).
Compared with the member's truth (simulation/truth.py, truth_family.py: true tool-visible minutes
per person, category and month, by the person's true team):
- share cells: one per team, month and category (customer, enabling, process, unclassified) of
  metric_effort_allocation against the true share; the share within 5 points, mean and p95 error;
- credited / true hours per team over the year (min, median, max), squash-merge teams apart;
- unclassified share of all credited effort, and where it sits (metric_effort_unclassified).
A figure, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

import duckdb
import pandas as pd
from family_build import add_arguments, built_member, jobs

CATEGORIES = ["customer", "enabling", "process", "unclassified"]


def member_figures(member, path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    est = con.execute("""
        SELECT team, strftime(month, '%Y-%m') AS month, category, share AS estimated, hours
        FROM metric_effort_allocation
    """).df()
    buckets = con.execute("""
        SELECT bucket_kind || ':' || bucket AS bucket, hours FROM metric_effort_unclassified
        WHERE bucket_kind IN ('channel', 'repo', 'project', 'event_kind')
    """).df()
    con.close()
    true = member.truth["truth_team_month_shares"].rename(columns={"share": "true"})
    grid = true[["team", "month"]].drop_duplicates().merge(
        pd.DataFrame({"category": CATEGORIES}), how="cross")
    cells = grid.merge(true[["team", "month", "category", "true"]], how="left") \
                .merge(est[["team", "month", "category", "estimated"]], how="left") \
                .fillna({"true": 0.0, "estimated": 0.0})
    cells["error_pp"] = 100 * (cells["estimated"] - cells["true"])
    cells["org"] = member.index
    styles = member.truth["truth_nuisances"].set_index("team")["merge_style"]
    true_h = true.groupby("team")["minutes"].sum() / 60
    est_h = est.groupby("team")["hours"].sum()
    ratio = pd.DataFrame({"true_hours": true_h, "credited_hours": est_h}).fillna(0.0)
    ratio["ratio"] = ratio["credited_hours"] / ratio["true_hours"]
    ratio["merge_style"] = styles.reindex(ratio.index)
    ratio["org"] = member.index
    return {"cells": cells, "ratio": ratio.reset_index(names="team"),
            "unclassified": est.loc[est["category"] == "unclassified", "hours"].sum(),
            "hours": est["hours"].sum(), "buckets": buckets}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cells, ratios, unclassified, hours, buckets = [], [], 0.0, 0.0, Counter()
    todo = jobs(args)
    for seed, index, size in todo:
        member, path = built_member(seed, index, size)
        f = member_figures(member, path)
        cells.append(f["cells"])
        ratios.append(f["ratio"])
        unclassified += f["unclassified"]
        hours += f["hours"]
        for b, h in f["buckets"].itertuples(index=False):
            for team in sorted(member.org.teams, key=lambda t: -len(t.name)):
                b = b.replace(team.name, "<t>")
            buckets[b] += h
        print(f"  member {index}: {len(member.org.teams)} teams", flush=True)
    report(pd.concat(cells, ignore_index=True), pd.concat(ratios, ignore_index=True),
           unclassified / hours, hours, buckets, todo, time.perf_counter() - started)


def report(cells, ratios, unclassified, hours, buckets, todo, wall) -> None:
    seed, size = todo[0][0], todo[0][2]
    err = cells["error_pp"].abs()
    teams = len(ratios)
    print(f"\nfamily seed {seed} ({size}): {len(todo)} organizations, {teams} teams, "
          f"{len(cells) // 4} team-months, {len(cells)} share cells ({wall:.0f} s)")
    print(f"share cells within 5 pp of truth: {100 * (err <= 5).mean():.1f}%  "
          f"(mean error {err.mean():.2f} pp, p95 {err.quantile(0.95):.2f}, max {err.max():.1f})")
    print("  by category: " + ", ".join(
        f"{c} {100 * (cells.loc[cells.category == c, 'error_pp'].abs() <= 5).mean():.0f}% "
        f"(mean signed {cells.loc[cells.category == c, 'error_pp'].mean():+.1f} pp)"
        for c in CATEGORIES))
    for label, part in (("all teams", ratios),
                        ("squash-merge teams", ratios[ratios.merge_style == "squash"]),
                        ("other teams", ratios[ratios.merge_style != "squash"])):
        if len(part):
            r = part["ratio"]
            inside = ((r >= 0.9) & (r <= 1.1)).sum()
            print(f"credited/true hours, {label:18s}: min {r.min():.2f}, median {r.median():.2f}"
                  f", max {r.max():.2f}; {inside}/{len(r)} teams within 0.9-1.1")
    print(f"unclassified share of credited effort: {100 * unclassified:.1f}% "
          f"of {hours:,.0f} h")
    if buckets:
        print("largest unclassified buckets (hours; buckets overlap):")
        for b, h in buckets.most_common(8):
            print(f"  {b:50s} {h:9.0f}")
    worst = cells.reindex(err.sort_values(ascending=False).index).head(6)
    print("largest share errors:")
    print(worst[["org", "team", "month", "category", "true", "estimated", "error_pp"]]
          .round(3).to_string(index=False))


if __name__ == "__main__":
    sys.exit(main())
