"""Verdict calibration (issue 17): the product's unchanged verdict code over the scenario family.

    .venv/bin/python benchmarks/verdict_calibration.py                   # seed 1, 48 members
    .venv/bin/python benchmarks/verdict_calibration.py --seed 2 --orgs 24 --workers 2
    .venv/bin/python benchmarks/verdict_calibration.py --small           # the test subset
    .venv/bin/python benchmarks/verdict_calibration.py --seed 2 --orgs 4 --effects 0.4:0.45,0.8:0.6
        # detection by planted amplifier size: every team of each member an amplifier of it

Each member (simulation/family) is loaded into a raw store with the collectors' own row code
(processhealth/simload: the rows a first collection against the emulators writes, without the
HTTP round trips; tests/test_family.py checks those collections against the truth) and built once
with `processhealth build`'s steps; the analytics database is cached under CACHE/<seed>-<index>-
<hash>, the hash covering the simulation, the collectors, normalization and the analysis steps up
to the metric building blocks. Every run then copies the cached database, recreates the metric
views, and re-runs only the verdict step (analysis/verdicts.py) with the current code and config,
so an iteration on the detector takes minutes. The builds, the cache and the verdict step's re-run
are in benchmarks/verdict_members.py; this script scores and prints.

Printed, per verdict (process_is_product, amplifier), scored against truth_verdict_margin:
- false alarms: the share of steady team-months (outside transition margins: steady teams, and
  planted teams before their onset or after their end) given that verdict, with planning,
  holiday (December), hiring (a join or leave that month), weakly linked teams and placebo
  months broken out;
- detection: the share of planted effects (team) flagged with their verdict within 2 months of
  onset (the onset month or the two after), by variant and effect-size band;
- median months from the onset month to the first month with the verdict;
- persistence: the share of the months an effect is in force (outside margins) that carry its
  verdict, and the share of effects flagged in every such month; and, from the first flag on
  (the issue's "stays flagged while it lasts or is restated with a reason"), the share of the
  later months in force that carry it or come after its level was restated as the new normal.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.verdict_members import code_hash, run_member  # noqa: E402

CACHE = Path("/tmp/processhealth-family-cache")
PIP, AMP = "process_is_product", "amplifier"
KIND_VERDICT = {"process_as_product": PIP, "amplifier": AMP}


# --- scoring -----------------------------------------------------------------------------------


def add_months(month: str, n: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    y, m = divmod(y * 12 + m - 1 + n, 12)
    return f"{y:04d}-{m + 1:02d}"


JUDGEABLE = "all with 2+ judged months in the window"  # judged: with a baseline


def size_band(e) -> str:
    if e.kind == "process_as_product":
        slow = "no slowdown" if e.slowdown == 1.0 else (
            "slowdown 1.15-1.35" if e.slowdown < 1.35 else "slowdown 1.35-1.60")
        return f"{e.variant}, {slow}"
    gain = "gain 10-17%" if e.throughput_gain < 0.175 else "gain 17-25%"
    wait = "no wait cut" if e.wait_cut == 0 else "wait cut"
    return f"{e.variant}, {gain}, {wait}"


BRINGS = ("judged, with reminders or a slowdown",
          "judged, a tool without either")


def brings(e) -> str:
    """What a process-as-product effect leaves beside its overhead: reminders (adoption that
    follows them) or slower delivery (fewer customer items per person), or neither: a tool that
    only adds its fields and the PM's grooming. The size dimension detection is stated for."""
    return BRINGS[0] if bool(e.reminders) or e.slowdown > 1.0 else BRINGS[1]


@dataclass
class Tally:
    n: int = 0
    hits: Counter = field(default_factory=Counter)

    def add(self, verdict: str) -> None:
        self.n += 1
        self.hits[verdict] += 1

    def rate(self, verdict: str) -> str:
        return f"{100 * self.hits[verdict] / self.n:5.1f}% ({self.hits[verdict]}/{self.n})" \
            if self.n else "   n/a"


@dataclass
class Scores:
    steady: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    detected: dict[str, dict[str, list[bool]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    delay: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    held: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    held_all: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    # after the first flag: months in force flagged, or after the level was restated
    kept: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    kept_all: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    after: Tally = field(default_factory=Tally)  # months after an effect ended (outside margins)
    wrong_kind: Counter = field(default_factory=Counter)
    unjudged: Counter = field(default_factory=Counter)  # effects on teams under 5 people
    examples: list[str] = field(default_factory=list)


def score(result: dict, s: Scores) -> None:
    got = {(t, m): (v, r) for t, m, v, r in result["rows"]}
    margins = result["truth"]["truth_verdict_margin"]
    effects = {r.team: r for r in result["truth"]["truth_effects"].itertuples()}
    nuis = {r.team: r for r in result["truth"]["truth_nuisances"].itertuples()}
    org = result["org"]
    for r in margins.itertuples():
        verdict, reason = got.get((r.team, r.month), ("missing", ""))
        if verdict in ("insufficient_data", "missing"):
            continue
        if verdict == "neutral" and reason.startswith("no baseline yet"):
            continue  # the team's first month: no verdict can be wrong there
        if r.expected_verdict == "neutral":
            if r.phase == "after":
                s.after.add(verdict)
            e, n = effects[r.team], nuis[r.team]
            month = int(r.month[5:])
            s.steady["all steady team-months"].add(verdict)
            groups = []
            if str(month) in str(n.planning_months).split(","):
                groups.append("planning month")
            if month == 12:
                groups.append("holiday month (December)")
            if month == 1:
                groups.append("January")
            if n.key_in_commit < 0.4:
                groups.append("weakly linked team")
            if (r.team, r.month) in result.get("churn", ()):
                groups.append("hiring month (a join or a leave)")
            if isinstance(r.placebo, str):
                groups.append(f"placebo in force: {r.placebo}")
            if isinstance(getattr(r, "reminder_bot", None), str):
                groups.append(f"daily Slack /remind: {r.reminder_bot}")
            if e.kind != "steady":
                groups.append(f"planted team, {r.phase} its effect")
            if not groups:
                groups.append("ordinary month of a steady team")
            for g in groups:
                s.steady[g].add(verdict)
            if verdict in (PIP, AMP) and len(s.examples) < 400:
                s.examples.append(f"{org}/{r.team} {r.month} {verdict} [{', '.join(groups)}]: "
                                  f"{reason[:160]}")
        elif r.expected_verdict in (PIP, AMP) and verdict in (PIP, AMP) \
                and verdict != r.expected_verdict:
            s.wrong_kind[r.expected_verdict] += 1
    for team, e in effects.items():
        if e.kind == "steady":
            continue
        want = KIND_VERDICT[e.kind]
        onset = pd_month(e.onset)
        window = [add_months(onset, k) for k in range(3)]
        flagged = [m for (t, m), (v, _) in sorted(got.items()) if t == team and v == want
                   and m >= onset and (e.end is None or m <= pd_month(e.end))]
        if all(got.get((team, m), ("missing",))[0] in ("insufficient_data", "missing")
               for m in window):
            s.unjudged[e.kind] += 1  # fewer than min_group_size people: never judged
            continue
        hit = any(m in window for m in flagged)
        s.detected[e.kind]["all"].append(hit)
        s.detected[e.kind][size_band(e)].append(hit)
        # a verdict needs persistence_months (2) judged months running, each with a baseline:
        # an effect whose window has fewer (the team reached five people late in it, so there is
        # no earlier month to compare with) cannot be flagged in it at all; months with no
        # baseline yet are left out of the false alarms the same way
        judged = [m for m in window if got.get((team, m), ("missing", ""))[0] not in (
            "insufficient_data", "missing") and not (
            got[(team, m)][1].startswith("no baseline yet"))]
        if len(judged) >= 2:
            s.detected[e.kind][JUDGEABLE].append(hit)
            if e.kind == "process_as_product":
                s.detected[e.kind][brings(e)].append(hit)
        if flagged:
            first = flagged[0]
            s.delay[e.kind].append((int(first[:4]) * 12 + int(first[5:7]))
                                   - (int(onset[:4]) * 12 + int(onset[5:7])))
        during = margins[(margins.team == team) & (margins.expected_verdict == want)]
        if len(during):
            on = [got.get((team, m), ("", ""))[0] == want for m in during.month]
            s.held[e.kind].append(sum(on) / len(on))
            s.held_all[e.kind].append(all(on))
        if flagged:  # "stays flagged while it lasts or is restated with a reason" (issue 17)
            restated = min((m for (t, m), (v, why) in got.items() if t == team and m >= flagged[0]
                            and why.startswith("new normal")), default=None)
            later = [m for m in during.month if m > flagged[0]]
            kept = [got.get((team, m), ("", ""))[0] == want
                    or (restated is not None and m >= restated) for m in later]
            if kept:
                s.kept[e.kind].append(sum(kept) / len(kept))
                s.kept_all[e.kind].append(all(kept))


def pd_month(value) -> str:
    return f"{value.year:04d}-{value.month:02d}" if hasattr(value, "year") else str(value)[:7]


def report(s: Scores, label: str, out=print) -> None:
    out(f"\n== {label}")
    out("false alarms on steady team-months (outside margins; months with no baseline yet "
        "left out):")
    out(f"  {'group':48s} {'process_is_product':>22s} {'amplifier':>22s}")
    for name, t in sorted(s.steady.items(), key=lambda kv: (kv[0] != "all steady team-months",
                                                            kv[0])):
        out(f"  {name:48s} {t.rate(PIP):>22s} {t.rate(AMP):>22s}")
    out(f"  {'months after an effect ended':48s} {s.after.rate(PIP):>22s} "
        f"{s.after.rate(AMP):>22s}")
    out("detection within 2 months of onset (onset month or the two after), per planted effect:")
    for kind in ("process_as_product", "amplifier"):
        order = sorted(s.detected[kind].items(),
                       key=lambda kv: (kv[0] != "all", kv[0] != JUDGEABLE, kv[0] not in BRINGS,
                                       kv[0]))
        for b, hits in order:
            out(f"  {kind:20s} {b:44s} {100 * sum(hits) / len(hits):5.1f}% "
                f"({sum(hits)}/{len(hits)})")
    for kind in ("process_as_product", "amplifier"):
        d = s.delay[kind]
        held, held_all = s.held[kind], s.held_all[kind]
        out(f"  {kind}: median months onset to first flag "
            f"{statistics.median(d) if d else 'n/a'} (flagged at all: {len(d)}); "
            f"months in force flagged: mean "
            f"{100 * statistics.mean(held) if held else 0:.0f}%; flagged in every month in "
            f"force: {sum(held_all)}/{len(held_all)}; "
            f"given the other kind in a month in force: {s.wrong_kind[KIND_VERDICT[kind]]}; "
            f"effects on teams under privacy.min_group_size (never judged, left out): "
            f"{s.unjudged[kind]}")
        kept, kept_all = s.kept[kind], s.kept_all[kind]
        out(f"  {kind}: after the first flag, months in force flagged or restated as the new "
            f"normal: mean {100 * statistics.mean(kept) if kept else 0:.0f}%; in every such "
            f"month: {sum(kept_all)}/{len(kept_all)}")


def main() -> None:
    from simulation.family import FULL_ORGS, SMALL_ORGS, SMALL_SEED

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orgs", type=int, default=FULL_ORGS)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--first", type=int, default=0, help="first member index")
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--config", default="", help="extra TOML appended to each member's config")
    ap.add_argument("--examples", type=int, default=0, help="print this many false alarms")
    ap.add_argument("--build-hash", default="",
                    help="reuse cached builds made at this code hash instead of the current one "
                         "(only when the code changed since builds no data: check one member "
                         "rebuilt at the current hash prints the same lines)")
    ap.add_argument("--effects", default="",
                    help="amplifier sizes GAIN:CUT,... (e.g. 0.25:0.3,0.5:0.5): every team of "
                         "each member an amplifier of that size; prints detection by size")
    args = ap.parse_args()
    if args.effects:
        return by_effect_size(args)
    size = "small" if args.small else "full"
    seed = SMALL_SEED if args.small else args.seed
    n = SMALL_ORGS if args.small else args.orgs
    digest = args.build_hash or code_hash()
    jobs = [(seed, i, size, args.cache, digest, args.config)
            for i in range(args.first, args.first + n)]
    started = time.perf_counter()
    s = Scores()
    teams = months = 0
    for result in results(jobs, args.workers):
        score(result, s)
        teams += result["truth"]["truth_effects"].shape[0]
        months += result["truth"]["truth_verdict_margin"].shape[0]
        print(f"  member {result['index']:2d} {result['org']:12s} build "
              f"{result['built_s']:5.0f} s, total {result['total_s']:5.0f} s", flush=True)
    report(s, f"family seed {seed}, members {args.first}-{args.first + n - 1} ({size}): "
              f"{teams} teams, {months} team-months, {time.perf_counter() - started:.0f} s")
    for line in s.examples[:args.examples]:
        print("   ", line)


def by_effect_size(args) -> None:
    """Detection within 2 months of onset by planted amplifier size (members with every team
    an amplifier of one size: sized_member), and the smallest size reaching 80%."""
    digest = args.build_hash or code_hash()
    sizes = [tuple(float(x) for x in pair.split(":")) for pair in args.effects.split(",")]
    rows = []
    for gain, cut in sizes:
        jobs = [(args.seed, i, "full", args.cache, digest, args.config, (gain, cut))
                for i in range(args.first, args.first + args.orgs)]
        s = Scores()
        for result in results(jobs, args.workers):
            score(result, s)
            print(f"  gain {gain:g} cut {cut:g}: member {result['index']:2d} build "
                  f"{result['built_s']:5.0f} s", flush=True)
        hits = s.detected["amplifier"]["all"]
        d = s.delay["amplifier"]
        rows.append((gain, cut, len(hits), sum(hits), statistics.median(d) if d else None,
                     s.steady["all steady team-months"].rate(PIP), s.unjudged["amplifier"]))
    print(f"\n== detection by planted amplifier size, family seed {args.seed}, members "
          f"{args.first}-{args.first + args.orgs - 1}, every team an amplifier (variant both)")
    print(f"  {'items/person gain':>18s} {'review wait cut':>16s} {'effects':>8s} "
          f"{'within 2 months':>16s} {'median months':>14s}  pre-onset months called process")
    for gain, cut, n, hit, med, pip, _ in rows:
        rate = f"{100 * hit / n:5.1f}% ({hit}/{n})" if n else "n/a"
        print(f"  {gain:>17.0%} {cut:>16.0%} {n:>8d} {rate:>16s} {str(med):>14s}  {pip}")
    reached = [(g, c) for g, c, n, hit, *_ in rows if n and hit / n >= 0.8]
    print("  smallest size detected in >= 80% within 2 months: "
          + (f"gain {reached[0][0]:.0%}, wait cut {reached[0][1]:.0%}" if reached else "none"))


def results(jobs: list, workers: int):
    if workers > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            yield from pool.imap_unordered(run_member, jobs)
    else:
        for job in jobs:
            yield run_member(job)


if __name__ == "__main__":
    main()
