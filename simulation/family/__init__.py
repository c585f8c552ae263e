"""A family of simulated organizations with truth, to measure the product on many worlds.

    for member in generate_family(seed=1, n_orgs=48):          # the benchmark family
        member.spec, member.org, member.truth["truth_verdict_margin"]
    for member in generate_family(seed=1, size="small"):        # the test suite's subset

Each member is an ordinary simulated organization (simulation/org.py) with knobs
(simulation/knobs.py) drawn from the stated ranges (ranges.py): nuisances that must not change
the verdict, and per team a planted effect (or none) of a drawn size, onset and end. The same
emulators and export formats as the demo serve it; its truth tables (simulation/truth.py and
truth_family.py) have the same shape for every member.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

from ..model import Org
from ..org import OrgSpec, generate_org
from .draw import draw_spec

SMALL_SEED, SMALL_ORGS = 2026, 2  # the test suite's fixed subset
FULL_ORGS = 48


@dataclass
class Member:
    index: int
    seed: int  # the organization's own seed (generate_org)
    spec: OrgSpec
    org: Org
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)


def member_seed(family_seed: int, index: int) -> int:
    return family_seed * 10_000 + index


def generate_member(family_seed: int, index: int, size: str = "full",
                    with_truth: bool = True) -> Member:
    from ..truth import accounts_frame, people_frame, person_month_minutes, team_month_shares
    from ..truth_family import family_frames

    spec = draw_spec(family_seed, index, size)
    seed = member_seed(family_seed, index)
    org = generate_org(seed, spec)
    member = Member(index, seed, spec, org)
    if with_truth:
        member.truth = {
            "truth_person_month": person_month_minutes(org),
            "truth_team_month_shares": team_month_shares(org),
            "truth_accounts": accounts_frame(org),
            "truth_people": people_frame(org),
            **family_frames(org),
        }
    return member


def generate_family(seed: int = 1, n_orgs: int | None = None, size: str = "full",
                    with_truth: bool = True) -> Iterator[Member]:
    """The members one at a time (a whole family does not need to fit in memory).

    size="full": `n_orgs` (default 48) one-year organizations of 3-7 teams of 4-15 people.
    size="small": the test suite's fixed subset (seed 2026, two organizations of three teams of
    five, three months); `seed` and `n_orgs` are ignored so the subset never drifts."""
    if size == "small":
        seed, n_orgs = SMALL_SEED, SMALL_ORGS
    for index in range(FULL_ORGS if n_orgs is None else n_orgs):
        yield generate_member(seed, index, size, with_truth)


__all__ = ["Member", "generate_family", "generate_member", "member_seed"]
