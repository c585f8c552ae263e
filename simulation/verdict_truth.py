"""The verdict a family team-month deserves, with a transition margin around onsets and ends.

A planted effect starts on a day, takes a couple of weeks to settle, and a fair detector needs
some of its data before it can say anything. The month in which an effect starts or ends and
the 31 days after are therefore a margin: either the old or the new verdict is acceptable there
(expected verdict None, `acceptable_verdicts` names both). Outside the margins a steady month is
"neutral" whatever its nuisances (planning, holidays, hiring, crunch), a month under a process
that became the product is "process_is_product", and one under an amplifier is "amplifier".
"""

from __future__ import annotations

from datetime import date, timedelta

from .model import Team

MARGIN = timedelta(days=31)
VERDICT = {"process_as_product": "process_is_product", "amplifier": "amplifier"}


def family_verdict(team: Team, month_start: date, month_end: date) -> str | None:
    eff = team.knobs.effect
    if eff is None or month_end < eff.onset:
        return "neutral"
    if month_start < eff.onset + MARGIN:
        return None
    if eff.end is None or month_end < eff.end:
        return VERDICT[eff.kind]
    if month_start < eff.end + MARGIN:
        return None
    return "neutral"


def acceptable_verdicts(team: Team, month_start: date, month_end: date) -> tuple[str, ...]:
    """Every verdict that is right for the month: one outside a margin, two inside."""
    found = family_verdict(team, month_start, month_end)
    if found is not None:
        return (found,)
    return ("neutral", VERDICT[team.knobs.effect.kind])
