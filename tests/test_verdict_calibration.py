"""Verdict rates on the scenario family's small subset (issue 17), through the benchmark's code.

Both members of the fixed subset (simulation/family: two organizations of three teams, Sep-Jan,
onsets in November) are loaded and built once per session with the benchmark's cached build
(benchmarks/verdict_members.py), then the verdict step runs on them as in `processhealth build`.
The tolerances come from the benchmark (benchmarks/RESULTS.md section 7), not from single
planted months:

- false alarms: measured 0.0% (process has become the product) and 0.7% (amplifier) of steady
  team-months on family seed 1, 0.0% and 1.7% on seed 2 (benchmarks/RESULTS.md section 7,
  the refitted priors and the amplifier guard at the process-as-product bar). The subset has
  about a dozen judged steady team-months; at 2% two or more false alarms of one kind among 12
  happen about 2% of the time, so at most one of each is allowed;
- process as product: measured 91% (seed 1) and 93% (seed 2) of planted effects detected within
  2 months of onset; both of the subset's are required (0.92^2 = 0.85);
- amplifier: measured 11% on both seeds (the family's planted gains barely show in the monthly
  figures), so no rate is asserted; a month under an amplifier effect was never called
  process_is_product on either seed, so none may be on the subset.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import verdict_calibration as vc  # noqa: E402

from simulation.family import SMALL_ORGS, SMALL_SEED  # noqa: E402

# The extended tier (CI runs it after the suite): the benchmark's own code on the subset, about
# 13 s; benchmarks/verdict_calibration.py prints the rates on the whole family.
pytestmark = [pytest.mark.slow, pytest.mark.extended]


@pytest.fixture(scope="session")
def scores(tmp_path_factory: pytest.TempPathFactory) -> vc.Scores:
    cache = tmp_path_factory.mktemp("family-cache")
    digest = vc.code_hash()
    s = vc.Scores()
    for index in range(SMALL_ORGS):
        s.results = getattr(s, "results", [])
        result = vc.run_member((SMALL_SEED, index, "small", cache, digest, ""))
        s.results.append(result)
        vc.score(result, s)
    return s


def test_steady_months_of_the_subset_stay_neutral(scores: vc.Scores) -> None:
    steady = scores.steady["all steady team-months"]
    assert steady.n >= 8  # the subset's judged steady months (planning, holiday, placebo)
    assert steady.hits[vc.PIP] <= 1, scores.examples
    assert steady.hits[vc.AMP] <= 1, scores.examples


def test_planted_process_as_product_is_found_within_two_months(scores: vc.Scores) -> None:
    found = scores.detected["process_as_product"]["all"]
    assert len(found) == 2 and all(found)
    assert scores.wrong_kind[vc.AMP] == 0  # never process_is_product under an amplifier


def test_reasons_name_each_change_with_its_interval(scores: vc.Scores) -> None:
    given = [(t, m, r) for result in scores.results for t, m, v, r in result["rows"]
             if v == vc.PIP]
    assert given
    for _, _, reason in given:
        assert "months running since" in reason
        assert "overhead rose" in reason and " pp to " in reason
