"""The circular block bootstrap behind every interval (docs/metrics.md section 8)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.bootstrap import (
    PooledMedian,
    block_length,
    bootstrap,
    mean,
    ratio_of_sums,
    resample_indices,
    sums,
    weighted_bootstrap,
)


def diff(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    return mean(a) - mean(b)


def ar1(rng: np.random.Generator, n: int, level: float, phi: float = 0.3) -> np.ndarray:
    noise = rng.normal(0, 1, n)
    out = np.empty(n)
    out[0] = noise[0]
    for i in range(1, n):
        out[i] = phi * out[i - 1] + noise[i]
    return level + out


def test_block_length_is_cube_root() -> None:
    assert [block_length(n) for n in (1, 3, 4, 8, 12, 27, 64, 100)] == [1, 1, 2, 2, 2, 3, 4, 5]


def test_resampled_rows_are_circular_blocks() -> None:
    rows = resample_indices(10, 50, np.random.default_rng(1))  # blocks of 2
    assert rows.shape == (50, 10)
    assert ((rows[:, 1::2] - rows[:, 0::2]) % 10 == 1).all()


def test_constant_series_give_a_point_interval() -> None:
    got = bootstrap(diff, np.full(12, 1.0), np.full(12, 3.0))
    assert (got.estimate, got.low, got.high) == (2.0, 2.0, 2.0)


def test_interval_contains_a_known_difference_and_excludes_zero() -> None:
    rng = np.random.default_rng(2)
    before, after = ar1(rng, 40, 10.0), ar1(rng, 40, 12.0)
    got = bootstrap(diff, before, after)
    assert got.low < 2.0 < got.high
    assert got.excludes_zero()
    assert got == bootstrap(diff, before, after)  # fixed seed: reproducible


def test_coverage_of_a_known_difference_on_autocorrelated_series() -> None:
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(200):
        got = bootstrap(diff, ar1(rng, 40, 5.0), ar1(rng, 40, 6.5), resamples=500)
        hits += got.low <= 1.5 <= got.high
    # Nominal 95%; percentile intervals from 40 autocorrelated points cover about 88% of the
    # time (docs/metrics.md section 8, Bootstrap).
    assert hits >= 0.82 * 200


def test_statistics() -> None:
    pairs = np.array([[[1, 10], [3, 10]]], dtype=float)  # one resample, two rows
    assert ratio_of_sums(pairs)[0] == pytest.approx(0.2)
    median = PooledMedian([[1.0, 9.0], [], [4.0, 5.0]])
    drawn = np.array([[0, 1, 2], [0, 0, 1], [2, 2, 2], [1, 1, 1]])
    # pooled: 1 4 5 9 -> 4.5; 1 9 1 9 -> 5; 4 5 4 5 4 5 -> 4.5; nothing -> NaN
    assert median(drawn)[:3].tolist() == [4.5, 5.0, 4.5]
    assert np.isnan(median(drawn)[3])


def test_undefined_statistic_gives_no_interval() -> None:
    got = bootstrap(lambda b, a: mean(a) / mean(b) - 1, np.zeros(8), np.ones(8))
    assert (got.estimate, got.low, got.high) == (None, None, None)
    assert bootstrap(diff, np.array([]), np.ones(3)).estimate is None


def test_weighted_bootstrap_gives_the_same_intervals() -> None:
    """The verdicts' fast path (draw counts times values) resamples exactly as bootstrap()."""
    rng = np.random.default_rng(5)
    before = np.column_stack([rng.uniform(0, 60, 61), rng.uniform(200, 400, 61)])
    after = np.column_stack([rng.uniform(20, 90, 30), rng.uniform(200, 400, 30)])
    slow = bootstrap(lambda b, a: ratio_of_sums(a) - ratio_of_sums(b), before, after)
    fast = weighted_bootstrap(
        lambda wb, wa: (sums(wa, after)[:, 0] / sums(wa, after)[:, 1]
                        - sums(wb, before)[:, 0] / sums(wb, before)[:, 1]), 61, 30)
    assert slow.low is not None and slow.low > 0  # a real rise, so the comparison means something
    assert (fast.estimate, fast.low, fast.high) == pytest.approx(
        (slow.estimate, slow.low, slow.high), abs=1e-12)

    groups_b = [list(rng.uniform(1, 30, rng.integers(0, 4))) for _ in range(61)]
    groups_a = [list(rng.uniform(1, 20, rng.integers(0, 4))) for _ in range(30)]
    mb, ma = PooledMedian(groups_b), PooledMedian(groups_a)
    slow = bootstrap(lambda b, a: ma(a) / mb(b) - 1, np.arange(61), np.arange(30))
    fast = weighted_bootstrap(lambda wb, wa: ma.weighted(wa) / mb.weighted(wb) - 1, 61, 30)
    assert slow.low is not None
    assert (fast.estimate, fast.low, fast.high) == pytest.approx(
        (slow.estimate, slow.low, slow.high), abs=1e-12)
    assert weighted_bootstrap(lambda wb, wa: wa.sum(axis=1), 0, 3).estimate is None
