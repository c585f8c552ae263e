"""The knobs of one team in the scenario family: nuisances that real teams have and an effect.

A `Team` without knobs (`team.knobs is None`, the demo) behaves exactly as before; every knob's
default here is the demo's fixed value, so a team with default knobs behaves the same too. The
family (simulation/family/) draws the values; the engine and the acts only read them.

Nuisances must not change the verdict a team deserves; the `Effect` is what should.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Effect:
    """A planted change of the team's way of working, with its size, onset and (maybe) end.

    kind: process_as_product | amplifier. For process_as_product, `variant` is the mandated
    thing (tool | ceremony); for amplifier it is experiments | review_agreement | both."""

    kind: str
    variant: str
    onset: date
    tool: str = "PMTool"  # the mandated tool's name (its channel, bot and reminders)
    end: date | None = None  # the champion leaves / the practice is dropped
    # process_as_product
    slowdown: float = 1.0  # multiplier on coding sessions per ticket (1.0 = no throughput effect)
    adoption_peak: float = 0.95  # share playing along in week 1 (decays under reminders)
    adoption_floor: float = 0.25
    screen_fields: int = 1  # fields one save of the tool's edit screen sets
    reminders: bool = True  # a reminder bot nags the people with open items
    nag_comments: bool = False  # the PM asks "any update?" in Jira comments
    status_thread: bool = True  # daily status posts in the tool's channel
    sheet: bool = True  # people who ignore the tool track their real status in a spreadsheet
    # amplifier
    throughput_gain: float = 0.0  # +10-25% customer items per person: fewer sessions per ticket
    wait_cut: float = 0.0  # -15-30% review waits: reviews picked up more eagerly
    experiments: bool = False  # a process team that also declares experiments (no gain)


@dataclass(frozen=True)
class Placebo:
    """A change a steady team makes that must NOT change its verdict (a negative control).

    variant "tool": the org's tool adopted organically: engineers set its fields when they take
    a ticket, a digest bot posts weekly in the tool's channel; no reminders, nags, statuses,
    sync meeting or slowdown. variant "experiments": the team declares experiments (hypothesis,
    success criteria, result) with no throughput or wait effect."""

    variant: str
    onset: date
    adoption: float = 0.8  # chance a ticket taken gets the tool's fields (no decay, no nagging)
    tool: str = "PMTool"  # the org's tool (its channel and digest bot)


@dataclass(frozen=True)
class Knobs:
    """Per-team nuisance settings; defaults are the demo's behaviour."""

    absence: float = 0.05  # chance a person is away on a working day (vacation, sick)
    holiday_away: float = 0.0  # extra chance of being away in the holiday season (Dec 20-Jan 2)
    planning_months: tuple[int, ...] = ()  # calendar months of quarterly planning
    crunch_weeks: tuple[date, ...] = ()  # Mondays of release-crunch weeks
    monthly_load: tuple[tuple[str, float], ...] = ()  # ("YYYY-MM", work per ticket multiplier)
    key_in_commit: float = 0.85  # chance a commit message carries the issue key
    key_in_pr: float = 0.95  # chance a PR title (and body, branch) carries the issue key
    channels: dict[str, str] = field(default_factory=dict)  # role -> channel name
    labels: dict[str, str] = field(default_factory=dict)  # standard label -> team's spelling
    effect: Effect | None = None
    placebo: Placebo | None = None  # steady teams only: an organic change with no effect
    grooming: float = 2.0  # the PM's baseline appetite for backlog grooming (team habit)
    pm_change: date | None = None  # the PM leaves and another takes over (no effect attached)
    # a Slack /remind in the team's standup channel every weekday from this day on ("Reminder:
    # standup at 10:00."), posted by Slackbot; it asks for no new work (a negative control)
    reminder_bot: date | None = None

    def load(self, month: str) -> float:
        return dict(self.monthly_load).get(month, 1.0)
