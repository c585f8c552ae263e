"""The scenario family (issue 16): what it holds, before anything is measured on it.

    .venv/bin/python benchmarks/family.py                    # 48 organizations, seed 1
    .venv/bin/python benchmarks/family.py --orgs 40 --seed 3
    .venv/bin/python benchmarks/family.py --small            # the test suite's subset

Generates every member (simulation/family) and prints: organizations, teams and team-years;
team-months that are steady and that carry each planted kind, by effect size band, with the
transition-margin months apart; team-months under each nuisance; and the spread of the nuisance
variables measured on the generated records, not on the knobs: team size, the coefficient of
variation of customer items resolved per team-month, the share of a team's commits whose
message names an issue key, merge styles, naming schemes, time zones, identities that differ
across tools, bots per tool. It never runs the product's verdict or effort code.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulation.family import (  # noqa: E402
    FULL_ORGS,
    SMALL_ORGS,
    SMALL_SEED,
    generate_member,
)
from simulation.truth_family import months, verdict_margins  # noqa: E402

KEY = re.compile(r"\b([A-Z][A-Z0-9]+)-\d+\b")
CUSTOMER_TYPES = {"Story", "Bug"}
SPREADS = ("size", "cv", "keys", "zones", "hires", "leavers", "proc_sd", "proc_level")


def band(value: float, edges: list[float], fmt: str = "{:.2f}") -> str:
    for lo, hi in zip(edges, edges[1:], strict=False):
        if lo <= value < hi or (hi == edges[-1] and value == hi):
            return f"{fmt.format(lo)}-{fmt.format(hi)}"
    return "other"


def quantiles(values: list[float], fmt: str = "{:.2f}") -> str:
    if not values:
        return "none"
    q = statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else values * 19
    return (f"min {fmt.format(min(values))}, p5 {fmt.format(q[0])}, p25 {fmt.format(q[4])}, "
            f"median {fmt.format(statistics.median(values))}, p75 {fmt.format(q[14])}, "
            f"p95 {fmt.format(q[18])}, max {fmt.format(max(values))}  (n={len(values)})")


def size_band(team) -> str:
    e = team.knobs.effect
    if e.kind == "process_as_product":
        slow = "no throughput effect" if e.slowdown == 1.0 else (
            "slowdown " + band(e.slowdown, [1.15, 1.30, 1.45, 1.60]))
        return f"{e.variant}, {slow}, adoption peak {band(e.adoption_peak, [0.6, 0.75, 0.95])}"
    gain = band(e.throughput_gain, [0.10, 0.15, 0.20, 0.25])
    wait = "no wait cut" if e.wait_cut == 0 else "wait cut " + band(e.wait_cut, [0.15, 0.22, 0.30])
    return f"{e.variant}, gain {gain}, {wait}"


def team_stats(org, team, out: dict) -> None:
    """Measured nuisance variables of one team."""
    people = [org.person(p) for p in team.members]
    out["size"].append(len([p for p in people if p.joined_on <= org.start]))
    resolved = Counter()
    for i in org.jira.issues:
        if i.project == team.jira_project and i.issue_type in CUSTOMER_TYPES and i.resolution_date:
            resolved[i.resolution_date.strftime("%Y-%m")] += 1
    counts = [resolved.get(m.strftime("%Y-%m"), 0) for m, _ in months(org)]
    if statistics.mean(counts) > 0:
        out["cv"].append(statistics.pstdev(counts) / statistics.mean(counts))
    mine = [c for c in org.github.commits if c.repo == team.repo and c.listed
            and not org.person(c.author_pid).is_bot]
    if mine:
        keyed = sum(any(k == team.jira_project for k in KEY.findall(c.message)) for c in mine)
        out["keys"].append(keyed / len(mine))
    out["zones"].append(len({p.tz_offset_min for p in people}))
    out["hires"].append(sum(p.joined_on > org.start for p in people))
    out["leavers"].append(sum(p.left_on is not None for p in people))


def process_shares(org) -> dict[tuple[str, str], float]:
    """(team, YYYY-MM) -> process share of the visible minutes (the truth's definition)."""
    team = {p.pid: p.team for p in org.people}
    total: Counter = Counter()
    proc: Counter = Counter()
    for a in org.activities:
        if a.visible:
            key = (team.get(a.pid), a.start.strftime("%Y-%m"))
            total[key] += a.minutes
            proc[key] += a.minutes if a.category == "process" else 0
    return {k: proc[k] / v for k, v in total.items() if v > 0}


def ordinary_process_spread(org, rows, out: dict) -> None:
    """Per steady team (no effect, any placebo): the SD and the median of its process share
    across ordinary months (not planning, December, January or a crunch month)."""
    shares = process_shares(org)
    by_team: dict[str, list[float]] = {}
    teams = {t.name: t for t in org.teams}
    for row in rows:
        k, month = teams[row.team].knobs, int(row.month[5:])
        if (row.phase != "never" or month in k.planning_months or month in (12, 1)
                or any(w.strftime("%Y-%m") == row.month for w in k.crunch_weeks)):
            continue
        if (row.team, row.month) in shares:
            by_team.setdefault(row.team, []).append(100 * shares[(row.team, row.month)])
    for values in by_team.values():
        if len(values) >= 3:
            out["proc_sd"].append(statistics.pstdev(values))
            out["proc_level"].append(statistics.median(values))


def summarize(job: tuple[int, int, str]) -> dict:
    """Everything the report needs from one member (run in a worker process)."""
    seed, index, size = job
    member = generate_member(seed, index, size, with_truth=False)
    org = member.org
    out = {"kinds": Counter(), "bands": Counter(), "margin": Counter(), "nuisance": Counter(),
           "styles": Counter(), "schemes": Counter(), "repos": Counter(), "mess": Counter(),
           "bots": Counter(), "spread": {k: [] for k in SPREADS}, "team_months": 0,
           "teams": len(org.teams)}
    team_by_name = {t.name: t for t in org.teams}
    rows = list(verdict_margins(org).itertuples())
    ordinary_process_spread(org, rows, out["spread"])
    out["placebo"] = Counter()
    for team in org.teams:
        if team.knobs.placebo is not None:
            out["placebo"]["teams: " + team.knobs.placebo.variant] += 1
        e = team.knobs.effect
        if e is not None and e.kind == "process_as_product" and e.experiments:
            out["placebo"]["process teams that also declare experiments"] += 1
    for row in rows:
        team = team_by_name[row.team]
        if isinstance(row.placebo, str):
            out["placebo"]["steady team-months with a placebo in force: " + row.placebo] += 1
        out["team_months"] += 1
        if row.in_margin:
            out["margin"][row.planted_kind] += 1
        else:
            out["kinds"][row.planted_kind] += 1
            if row.planted_kind == "steady":
                out["placebo"]["steady team-months outside margins, phase " + row.phase] += 1
            if row.planted_kind != "steady":
                out["bands"][(row.planted_kind, size_band(team))] += 1
        k, month, n = team.knobs, int(row.month[5:]), out["nuisance"]
        n["planning month"] += month in k.planning_months
        n["holiday month (December)"] += month == 12
        n["crunch month"] += any(w.strftime("%Y-%m") == row.month for w in k.crunch_weeks)
        n["weakly linked team (key in <40% of commits)"] += k.key_in_commit < 0.4
        n["month with a join or a leave"] += any(
            (p.joined_on.strftime("%Y-%m") == row.month and p.joined_on > org.start)
            or (p.left_on is not None and p.left_on.strftime("%Y-%m") == row.month)
            for p in map(org.person, team.members))
    for team in org.teams:
        team_stats(org, team, out["spread"])
        out["styles"][next(r.merge_style for r in org.github.repos if r.name == team.repo)] += 1
        out["schemes"][team.channel("eng").replace(team.name, "<t>") + " / "
                       + team.channel("support").replace(team.name, "<t>")] += 1
        out["repos"]["<team>-app" if team.repo == f"{team.name}-app" else
                     "named after the team" if team.name in team.repo else "product name"] += 1
    humans = [p for p in org.people if not p.is_bot]
    mess = out["mess"]
    mess["accent differs (GitHub profile vs commits)"] += sum(bool(p.github_name) for p in humans)
    mess["nickname (Slack/Jira)"] += sum(p.slack_real_name != p.name for p in humans)
    mess["private commit e-mail not on the profile"] += sum(
        bool(p.commit_email) and "@users.noreply" not in p.commit_email
        and p.commit_email not in (p.email, p.github_email) for p in humans)
    mess["deleted GitHub user (ghost)"] += sum(p.github_deleted for p in humans)
    mess["people"] += len(humans)
    out["bots"]["GitHub"] += sum(bool(p.is_bot and p.github_login) for p in org.people)
    out["bots"]["Jira"] += sum(bool(p.is_bot and p.jira_account_id) for p in org.people)
    out["bots"]["Slack"] += sum(bool(p.is_bot and p.slack_id) for p in org.people)
    out["line"] = (f"  member {index:2d} {org.github.org:12s} {len(org.teams)} teams, "
                   f"{len(humans):3d} people, {org.start:%Y-%m}..{org.end:%Y-%m}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orgs", type=int, default=FULL_ORGS)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--workers", type=int, default=1, help="processes generating members")
    args = ap.parse_args()
    started = time.perf_counter()
    size = "small" if args.small else "full"
    seed = SMALL_SEED if args.small else args.seed
    n = SMALL_ORGS if args.small else args.orgs
    jobs = [(seed, i, size) for i in range(n)]
    total = summarize_all(jobs, args.workers)
    report(total, seed, n, time.perf_counter() - started)


def summarize_all(jobs: list, workers: int) -> dict:
    total: dict = {}
    if workers > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            results = pool.imap(summarize, jobs)
            for one in results:
                merge(total, one)
    else:
        for job in jobs:
            merge(total, summarize(job))
    return total


def merge(total: dict, one: dict) -> None:
    print(one.pop("line"), flush=True)
    for key, value in one.items():
        if isinstance(value, Counter):
            total.setdefault(key, Counter()).update(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                total.setdefault(key, {}).setdefault(k, []).extend(v)
        else:
            total[key] = total.get(key, 0) + value


def report(t: dict, seed: int, n_orgs: int, wall: float) -> None:
    print(f"\nfamily seed {seed}: {n_orgs} organizations, {t['teams']} teams, "
          f"{t['team_months']} team-months = {t['team_months'] / 12:.1f} team-years "
          f"(generated in {wall:.0f} s)\n")
    print("team-months outside the transition margins, by planted kind:")
    for kind, n in t["kinds"].most_common():
        print(f"  {kind:20s} {n:5d}")
    print("team-months inside a transition margin (either verdict acceptable):")
    for kind, n in t["margin"].most_common():
        print(f"  {kind:20s} {n:5d}")
    print("planted team-months by variant and size band:")
    for (kind, b), n in sorted(t["bands"].items()):
        print(f"  {kind:20s} {b:60s} {n:4d}")
    print("team-months under each nuisance (all kinds):")
    for name, n in t["nuisance"].most_common():
        print(f"  {name:45s} {n:5d}")
    print("negative controls (placebo changes of steady teams; verdict stays neutral):")
    for name, n in sorted(t["placebo"].items()):
        print(f"  {name:60s} {n:5d}")
    s = t["spread"]
    print("spread of the nuisance variables (per team, measured on the records):")
    print(f"  team size at start            {quantiles(s['size'], '{:.0f}')}")
    print(f"  monthly workload CV           {quantiles(s['cv'])}")
    print(f"  share of commits with a key   {quantiles(s['keys'])}")
    print(f"  process share SD, ordinary steady months (pp)  {quantiles(s['proc_sd'])}")
    print(f"  process share median, ordinary steady months (%)  {quantiles(s['proc_level'])}")
    print(f"  time zones in a team          {quantiles(s['zones'], '{:.0f}')}")
    print(f"  hires in the year             {quantiles(s['hires'], '{:.0f}')}")
    print(f"  leavers in the year           {quantiles(s['leavers'], '{:.0f}')}")
    print(f"  merge styles (teams)          {dict(t['styles'].most_common())}")
    print(f"  channel naming (teams)        {dict(t['schemes'].most_common())}")
    print(f"  product repository naming     {dict(t['repos'].most_common())}")
    print(f"  identities (people)           {dict(t['mess'])}")
    print(f"  bots and service accounts     {dict(t['bots'])}")


if __name__ == "__main__":
    main()
