"""Organization set-up only family members have: turnover, time zones, the tools' channels.

Called by `generate_org` for teams with knobs; draws come from the `{seed}:family:org` stream.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from .model import Org
from .people import make_people

# the IANA zones of the family's working places (UTC offsets in minutes; standard time)
ZONE_NAMES = {-480: "America/Los_Angeles", -300: "America/New_York", -180: "America/Sao_Paulo",
              0: "Europe/London", 60: "Europe/Berlin", 330: "Asia/Kolkata",
              480: "Asia/Singapore", 540: "Asia/Tokyo"}


def zone_name(offset_min: int) -> str:
    return ZONE_NAMES.get(offset_min, "UTC")


if TYPE_CHECKING:
    from .org import OrgSpec, TeamSpec


def family_members(aux: random.Random, ts: TeamSpec, members: list, spec: OrgSpec,
                   id_base: int, used: set[str]) -> list:
    """Hiring and attrition, and time zones: new engineers join on their dates; engineers
    (never the PM) leave on theirs; with `ghost`, the first leaver's GitHub account is deleted
    afterwards. Everyone works in the team's zone, some from another of the org's zones.
    Returns the hires."""
    hires = make_people(aux, len(ts.hires), spec.domain, spec.start, id_base, used)
    for p, day in zip(hires, ts.hires, strict=True):
        p.joined_on = day
    engineers = members[1:]
    for n, day in enumerate(ts.leavers):
        if n >= len(engineers) - 2:
            break
        leaver = engineers[-1 - n]
        leaver.left_on = day
        leaver.github_deleted = ts.ghost and n == 0
    for p in members + hires:
        remote = ts.remote_zones and aux.random() < ts.remote_share
        p.tz_offset_min = aux.choice(ts.remote_zones) if remote else ts.zone
        p.tz_name = zone_name(p.tz_offset_min)
    for p in members + hires:
        p.vacation = vacation_days(aux, spec.start, spec.months)
    from .family import ranges as R

    for p in hires:
        p.ramp_days = aux.randint(*R.RAMP_DAYS)
    return hires


def vacation_days(aux: random.Random, start: date, months: int) -> frozenset:
    """A person's leave over the window: blocks of one to three weeks, half of them in summer,
    until the year's days (scaled to the window) are used."""
    from .family import ranges as R  # here: the family package imports the org, which imports us

    end = start + timedelta(days=round(months * 30.44))
    target = aux.randint(*R.VACATION_DAYS) * months / 12
    days: set[date] = set()
    while len(days) < target:
        weeks = aux.randint(*R.VACATION_BLOCK_WEEKS)
        if aux.random() < R.SUMMER_BLOCK_SHARE:
            year = aux.choice(sorted({start.year, end.year}))
            first = date(year, 6, 15) + timedelta(days=aux.randrange(0, 70))
        else:
            first = start + timedelta(days=aux.randrange(0, (end - start).days))
        if not start <= first < end:
            continue
        d = first - timedelta(days=first.weekday())
        days |= {d + timedelta(days=i) for i in range(7 * weeks) if i % 7 < 5}
    return frozenset(days)


def family_tool_channels(org: Org, channel, dt) -> None:
    """One updates channel per tool, opened when the first team adopts it (mandated or not)."""
    tools: dict[str, list] = {}
    for team in org.teams:
        eff = getattr(team.knobs, "effect", None)
        if eff is not None and eff.kind == "process_as_product":
            tools.setdefault(team.channel("tool"), []).append((team, eff))
        placebo = getattr(team.knobs, "placebo", None)
        if placebo is not None and placebo.variant == "tool":  # organic adoption has one too
            tools.setdefault(team.channel("tool"), []).append((team, placebo))
    for name, users in tools.items():
        channel(name, f"Updates from {users[0][1].tool}",
                [m for t, _ in users for m in t.members] + ["bot-reminder"],
                when=dt(min(u.onset for _, u in users)))
