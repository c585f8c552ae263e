"""Draw one family member's specification from the stated ranges (ranges.py).

Every draw comes from `random.Random(f"{seed}:family:member:{index}")`, so member `index` of a
family is the same whatever else the family holds, and no draw touches the demo's stream.
"""

from __future__ import annotations

import math
import random
from calendar import monthrange
from dataclasses import replace
from datetime import date, timedelta

from ..knobs import Effect, Knobs, Placebo
from ..org import OrgSpec, TeamSpec
from . import ranges as R


def pick(rng: random.Random, weighted: tuple[tuple[object, float], ...]):
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def uniform(rng: random.Random, bounds: tuple[float, float]) -> float:
    return rng.uniform(*bounds)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def weekday_in_month(rng: random.Random, month: date, first_day: int = 1) -> date:
    """A random working day of `month` on or after `first_day`."""
    last = monthrange(month.year, month.month)[1]
    while True:
        d = month.replace(day=rng.randint(min(first_day, last), last))
        if d.weekday() < 5:
            return d


def draw_spec(seed: int, index: int, size: str = "full") -> OrgSpec:
    """The organization spec of member `index`. `size="small"` is the test suite's subset:
    three teams of five engineers over five months (Sep-Jan: two baseline months before the
    onsets in November, a holiday season and a planning month), one
    steady (with a placebo change), one process-as-product and one amplifier."""
    rng = random.Random(f"{seed}:family:member:{index}")
    small = size == "small"
    months = R.SMALL_MONTHS if small else R.MONTHS
    start = date(2025, 9, 1) if small else date(2025, rng.randint(1, 12), 1)
    n_teams = 3 if small else rng.randint(*R.TEAMS_PER_ORG)
    org = R.ORG_NAMES[index % len(R.ORG_NAMES)] + ("" if index < len(R.ORG_NAMES)
                                                     else str(index // len(R.ORG_NAMES)))
    names = rng.sample(R.TEAM_NAMES, n_teams)
    products = rng.sample(R.PRODUCTS, n_teams)
    org_zones = rng.sample(sorted(R.ZONES.values()), pick(rng, R.ZONE_LAYOUTS))
    org_style = {
        "channels": rng.choice(sorted(R.CHANNEL_SCHEMES)),
        "repos": rng.choice(R.REPO_SCHEMES),
        "labels": {k: rng.choice(v) for k, v in R.LABELS.items()},
        "tool": rng.choice(R.TOOLS),
        "planning": (rng.choice([1, 2, 3]) if rng.random() < R.PLANNING_ORG_SHARE else None),
    }
    if small:
        org_style["planning"] = 1  # January, inside the window
    kinds = ["steady", "process_as_product", "amplifier"] if small else [
        pick(rng, R.KINDS) for _ in range(n_teams)]
    ghost_team = rng.randrange(n_teams) if (small or rng.random() < R.GHOST_ORG_SHARE) else None
    teams = tuple(
        _team(rng, names[i], products[i], kinds[i], start, months, org_zones, org_style,
              small, ghost=i == ghost_team)
        for i in range(n_teams))
    if not small:
        teams = tuple(_with_reminder_bot(random.Random(f"{seed}:family:reminder-bot:{index}:{i}"),
                                         t, start, months) for i, t in enumerate(teams))
    return OrgSpec(teams=teams, start=start, months=months, org=org, domain=f"{org}.example",
                   ghost_leaver=False, family=True,
                   footprint=_footprint(random.Random(f"{seed}:family:footprint:{index}"),
                                        org_style["tool"]),
                   identity_mess=0.3 if small else uniform(rng, R.IDENTITY_MESS))


def _team(rng: random.Random, name: str, product: str, kind: str, start: date, months: int,
          zones: list[int], style: dict, small: bool, ghost: bool) -> TeamSpec:
    end = add_months(start, months) - timedelta(days=1)
    size = R.SMALL_TEAM_SIZE if small else min(R.TEAM_SIZE[1], max(R.TEAM_SIZE[0], round(
        R.TEAM_SIZE_MEDIAN * rng.lognormvariate(0, R.TEAM_SIZE_SIGMA))))
    engineers = size - 1
    years = months / 12
    leave_rate = uniform(rng, R.ATTRITION_PER_YEAR)
    n_leave = _poisson(rng, engineers * leave_rate * years)
    n_hire = max(0, n_leave + round(engineers * uniform(rng, R.GROWTH_PER_YEAR) * years))
    if small:
        n_leave, n_hire = (1, 1) if ghost else (0, 0)
    days = (end - start).days
    leavers = tuple(sorted(start + timedelta(days=rng.randint(20, days - 5))
                           for _ in range(n_leave)))
    hires = tuple(sorted(start + timedelta(days=rng.randint(10, days - 10))
                         for _ in range(n_hire)))
    weak = rng.random() < R.WEAK_LINKING_SHARE
    key_commit = uniform(rng, R.KEY_IN_COMMIT_WEAK if weak else R.KEY_IN_COMMIT_GOOD)
    loads = tuple(zip((add_months(start, m).strftime("%Y-%m") for m in range(months)),
                      _ar_loads(rng, months), strict=True))
    crunch = tuple(sorted({_monday(weekday_in_month(rng, add_months(start, rng.randrange(months))))
                           for _ in range(rng.randint(*R.CRUNCH_WEEKS))}))
    planning = style["planning"]
    knobs = Knobs(
        absence=round(uniform(rng, R.ABSENCE), 3),
        holiday_away=round(uniform(rng, R.HOLIDAY_AWAY), 3),
        planning_months=tuple(m for m in range(1, 13) if planning and m % 3 == planning % 3),
        crunch_weeks=crunch,
        monthly_load=loads,
        key_in_commit=round(key_commit, 3),
        key_in_pr=round(min(0.98, key_commit + 0.1), 3),
        channels={**{role: f.format(t=name) for role, f in
                     R.CHANNEL_SCHEMES[style["channels"]].items()},
                  "tool": f"{style['tool'].lower()}-updates"},
        labels={**style["labels"], "pmtool": style["tool"].lower()},
        effect=_effect(rng, kind, start, months, style["tool"], small),
        placebo=_placebo(rng, kind, start, months, style["tool"], small),
        grooming=round(uniform(rng, R.GROOMING), 3),
        pm_change=(start + timedelta(days=rng.randint(20, days - 20))
                   if not small and kind != "process_as_product"
                   and rng.random() < R.PM_CHANGE_PER_YEAR * years else None),
    )
    home = rng.choice(zones)
    others = tuple(z for z in zones if z != home)
    return TeamSpec(
        name=name, scenario=kind, engineers=engineers, knobs=knobs,
        repo=style["repos"].format(t=name, p=product),
        merge_style=pick(rng, R.MERGE_STYLES), hires=hires, leavers=leavers, ghost=ghost,
        zone=home, remote_zones=others,
        remote_share=round(uniform(rng, R.REMOTE_SHARE), 3) if others else 0.0)


def _effect(rng: random.Random, kind: str, start: date, months: int, tool: str,
            small: bool) -> Effect | None:
    if kind == "steady":
        return None
    lo, hi = R.ONSET_MONTH_SMALL if small else R.ONSET_MONTH
    onset = weekday_in_month(rng, add_months(start, rng.randint(lo, hi)), 8 if small else 1)
    window_end = add_months(start, months)
    if kind == "process_as_product":
        variant = pick(rng, R.PROCESS_VARIANTS)
        ends = rng.random() < R.PROCESS_END_SHARE
        end = weekday_in_month(rng, add_months(onset, rng.randint(*R.PROCESS_END_AFTER)))
        slows = rng.random() < R.PROCESS_THROUGHPUT_SHARE
        return Effect(
            kind=kind, variant=variant, onset=onset, tool=tool,
            end=end if ends and end < window_end else None,
            slowdown=round(uniform(rng, R.SLOWDOWN), 3) if slows else 1.0,
            adoption_peak=round(uniform(rng, R.ADOPTION_PEAK), 3),
            adoption_floor=round(uniform(rng, R.ADOPTION_FLOOR), 3),
            screen_fields=1 if variant == "ceremony" else rng.randint(*R.SCREEN_FIELDS),
            reminders=variant == "ceremony" or rng.random() < R.REMINDERS_SHARE,
            nag_comments=variant == "ceremony" or rng.random() < R.NAG_SHARE,
            status_thread=variant == "ceremony" or rng.random() < R.STATUS_THREAD_SHARE,
            sheet=rng.random() < R.SHEET_SHARE,
            experiments=rng.random() < R.PROCESS_EXPERIMENTS_SHARE,
        )
    variant = pick(rng, R.AMPLIFIER_VARIANTS)
    ends = rng.random() < R.AMPLIFIER_END_SHARE
    end = weekday_in_month(rng, add_months(onset, rng.randint(*R.AMPLIFIER_END_AFTER)))
    return Effect(
        kind=kind, variant=variant, onset=onset, tool=tool,
        end=end if ends and end < window_end else None,
        throughput_gain=round(uniform(rng, R.THROUGHPUT_GAIN), 3),
        wait_cut=round(uniform(rng, R.WAIT_CUT), 3) if variant != "experiments" else 0.0,
    )


def _footprint(rng: random.Random, tool: str) -> tuple[tuple[str, str], ...]:
    """The org's names for its tool's fields, statuses, issue type and reminder bot."""
    names = {k: rng.choice(pool) for k, pool in R.FOOTPRINT.items()}
    names["bot"] = rng.choice(R.BOT_NAMES).format(tool=tool)
    return tuple(sorted(names.items()))


def _placebo(rng: random.Random, kind: str, start: date, months: int, tool: str,
             small: bool) -> Placebo | None:
    """A steady team's organic change (a negative control); in the small subset every steady
    team gets one after two plain baseline months."""
    if kind != "steady" or rng.random() >= (1.0 if small else R.PLACEBO_SHARE):
        return None
    lo, hi = R.ONSET_MONTH_SMALL if small else R.ONSET_MONTH
    onset = weekday_in_month(rng, add_months(start, rng.randint(lo, hi)))
    return Placebo(variant=pick(rng, R.PLACEBO_VARIANTS), onset=onset, tool=tool,
                   adoption=round(uniform(rng, R.PLACEBO_ADOPTION), 3))


def _with_reminder_bot(rng: random.Random, team: TeamSpec, start: date,
                       months: int) -> TeamSpec:
    """A steady team, maybe given a daily Slack /remind (R.REMINDER_BOT_SHARE): from before the
    window or from an onset drawn like a placebo's. Its own random stream: nothing else of the
    member changes."""
    if team.scenario != "steady" or rng.random() >= R.REMINDER_BOT_SHARE:
        return team
    if rng.random() < R.REMINDER_BOT_FROM_START:
        since = start
    else:
        lo, hi = R.ONSET_MONTH
        since = weekday_in_month(rng, add_months(start, rng.randint(lo, hi)))
    return replace(team, knobs=replace(team.knobs, reminder_bot=since))


def _ar_loads(rng: random.Random, months: int) -> list[float]:
    """Monthly work-per-ticket multipliers: AR(1) on the log with a slow linear drift."""
    sigma, phi = uniform(rng, R.LOAD_SIGMA), uniform(rng, R.LOAD_AR)
    drift = uniform(rng, R.LOAD_DRIFT) / 12
    x, out = rng.gauss(0, sigma), []
    for m in range(months):
        out.append(round(math.exp(x + drift * (m - (months - 1) / 2)), 3))
        x = phi * x + math.sqrt(1 - phi * phi) * sigma * rng.gauss(0, 1)
    return out


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: small means only (leavers per team and year)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
