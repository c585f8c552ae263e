"""Per-team scenarios: how a team's way of working changes, and when.

`steady` never changes. `tool_nobody_wanted` gets a product-management tool with mandatory
fields, extra statuses, a reminder bot and a champion who later leaves. `experiments_that_work`
starts running technical experiments with measurable hypotheses, smaller changes, faster reviews.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, timedelta

from .model import Team
from .verdict_truth import family_verdict


@dataclass(frozen=True)
class Regime:
    """The knobs of a team's way of working on one day."""

    sessions_per_ticket: tuple[int, int] = (8, 14)  # coding sessions before a PR
    review_weight: float = 2.0  # how eagerly reviews are picked up
    grooming_weight: float = 2.0  # PM's appetite for backlog field edits
    groom_next_up: float = 0.3  # share of grooming on tickets about to be worked (else anywhere)
    tool_active: bool = False  # the PM tool, its fields, statuses and reminder bot
    adoption: float = 0.0  # chance an engineer plays along with the tool today (before skill)
    experiments: bool = False  # experiment tickets with hypotheses
    # the scenario family's knobs (simulation/knobs.py); defaults are the demo's behaviour
    planning: bool = False  # quarterly planning: estimation sessions and planning meetings
    crunch: bool = False  # release crunch: longer days, more coding, less chat
    screen_fields: int = 1  # >1: the tool's fields are set in one save of an edit screen
    reminders: bool = True  # the tool's reminder bot
    nag_comments: bool = False  # the PM's "any update?" comments in Jira
    status_thread: bool = True  # the tool's daily status posts
    sheet: bool = True  # people ignoring the tool share a tracking spreadsheet
    tool_fields: bool = False  # placebo: the tool's fields set by choice, nothing else of it
    tool_digest: bool = False  # placebo: the tool's bot posts a weekly digest in its channel


STEADY = Regime()
BASE_SESSIONS = (8, 14)


def _sessions(factor: float) -> tuple[int, int]:
    """Coding sessions per ticket with the work per ticket scaled by `factor`."""
    lo, hi = BASE_SESSIONS
    return max(2, round(lo * factor)), max(3, round(hi * factor))


def family_regime(team: Team, day: date) -> Regime:
    """The regime of a family team: its nuisances of the day, then its planted effect."""
    from .family import ranges as R  # here: the family package imports the org, which imports us

    k = team.knobs
    load = k.load(day.strftime("%Y-%m"))
    planning = day.month in k.planning_months
    base = Regime(
        sessions_per_ticket=_sessions(1 / load),
        grooming_weight=k.grooming * (R.PLANNING_GROOMING if planning else 1.0),
        planning=planning,
        crunch=any(timedelta(0) <= day - w < timedelta(days=7) for w in k.crunch_weeks),
    )
    eff = k.effect
    if k.placebo is not None and day >= k.placebo.onset:
        return _placebo(base, k.placebo)
    if eff is None or day < eff.onset or (eff.end is not None and day >= eff.end):
        return base
    weeks = (day - eff.onset).days / 7
    if eff.kind == "process_as_product":
        return replace(
            base,
            sessions_per_ticket=_sessions(eff.slowdown / load),
            grooming_weight=base.grooming_weight * R.PROCESS_GROOMING,
            groom_next_up=0.1,
            tool_active=True,
            adoption=max(eff.adoption_floor,
                         eff.adoption_peak * math.exp(-weeks / R.ADOPTION_DECAY_WEEKS)),
            screen_fields=eff.screen_fields,
            reminders=eff.reminders,
            nag_comments=eff.nag_comments,
            status_thread=eff.status_thread,
            sheet=eff.sheet,
            experiments=eff.experiments,
        )
    ramp = min(1.0, weeks / R.PRACTICE_SETTLE_WEEKS)
    return replace(
        base,
        sessions_per_ticket=_sessions(1 / (load * (1 + eff.throughput_gain * ramp))),
        review_weight=2.0 / (1 - eff.wait_cut * ramp),
        experiments=eff.variant in ("experiments", "both"),
    )


def _placebo(base: Regime, p) -> Regime:
    """A steady team's organic change: what it leaves in the tools, nothing it costs or gains."""
    if p.variant == "tool":
        return replace(base, tool_fields=True, tool_digest=True, adoption=p.adoption)
    return replace(base, experiments=True)


def regime(team: Team, day: date) -> Regime:
    if team.knobs is not None:
        return family_regime(team, day)
    if team.scenario == "steady" or team.change_on is None or day < team.change_on:
        return STEADY
    weeks = (day - team.change_on).days / 7
    if team.scenario == "tool_nobody_wanted":
        if team.champion_leaves_on and day >= team.champion_leaves_on:
            return Regime(adoption=0.03)
        return Regime(
            sessions_per_ticket=(16, 26),  # tickets re-specified and re-split to fit the tool
            grooming_weight=6.0,
            groom_next_up=0.1,
            tool_active=True,
            adoption=max(0.25, 0.95 * math.exp(-weeks / 16)),
        )
    if team.scenario == "experiments_that_work":
        ramp = min(1.0, weeks / 2)
        return Regime(
            sessions_per_ticket=(5, 9) if ramp >= 1 else (7, 12),
            review_weight=2.0 + 6.0 * ramp,
            grooming_weight=2.0 - 0.8 * ramp,
            groom_next_up=0.3 + 0.6 * ramp,
            experiments=True,
        )
    raise ValueError(f"unknown scenario {team.scenario!r}")


def expected_verdict(team: Team, month_start: date, month_end: date) -> str | None:
    """The verdict this month must get, or None where the planted story does not fix one.

    Months that straddle a change, and the months after the champion leaves, are left open."""
    if team.knobs is not None:
        return family_verdict(team, month_start, month_end)
    if team.scenario == "steady":
        return "neutral"
    if team.change_on is None:
        return None
    if month_end < team.change_on:
        return "neutral"
    if month_start < team.change_on:
        return None
    if team.scenario == "tool_nobody_wanted":
        leaves = team.champion_leaves_on
        if leaves is None or month_end < leaves:
            return "process_is_product"
        return None
    if team.scenario == "experiments_that_work":
        # the first full month after the change still carries the ramp; judge from the next on
        if (month_start - team.change_on).days >= 28:
            return "amplifier"
        return None
    return None
