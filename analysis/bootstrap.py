"""Circular block bootstrap intervals for short, autocorrelated series (docs/metrics.md section 8).

Weekly or daily team metrics are autocorrelated (a slow week follows a slow week), so resampling
single points would give intervals that are too narrow. The circular block bootstrap (Politis and
Romano, 1992) resamples runs of consecutive points, wrapping around the end of the series, with a
block length of about n^(1/3). Every interval here uses 2,000 resamples and a fixed seed, so a
rebuild on the same data gives the same interval.

    before = np.array([[process_minutes, total_minutes], ...])   # one row per day or week
    rise = bootstrap(lambda b, a: ratio(a) - ratio(b), before, after)
    rise.estimate, rise.low, rise.high
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

RESAMPLES = 2000
SEED = 20240229
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    estimate: float | None
    low: float | None
    high: float | None

    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def block_length(n: int) -> int:
    """About n^(1/3), at least 1: 1 for up to 3 points, 2 for 4-15, 3 for 16-42, ..."""
    return max(1, round(n ** (1 / 3)))


def resample_indices(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples, n) row indices: blocks of consecutive rows from random starts, wrapping round."""
    block = block_length(n)
    blocks = math.ceil(n / block)
    starts = rng.integers(0, n, size=(resamples, blocks))
    rows = (starts[:, :, None] + np.arange(block)) % n
    return rows.reshape(resamples, blocks * block)[:, :n]


@functools.lru_cache(maxsize=64)
def _indices(lengths: tuple[int, ...], resamples: int, seed: int) -> tuple[np.ndarray, ...]:
    """The resample indices of each series, drawn in order from one generator seeded `seed`:
    the same for every call with the same lengths, so they are drawn once per build (every
    team-month of a build has one of a few series lengths)."""
    rng = np.random.default_rng(seed)
    out = tuple(resample_indices(n, resamples, rng) for n in lengths)
    for rows in out:
        rows.setflags(write=False)
    return out


def bootstrap(
    statistic: Callable[..., np.ndarray],
    *series: np.ndarray,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> Interval:
    """Point estimate and percentile interval of `statistic` over independently resampled series.

    Each series is an array whose first axis is time (rows: days or weeks); columns resampled
    together stay paired (e.g. a treated team and its controls in the same week). `statistic`
    receives every series with an extra leading axis of resamples and returns one value per
    resample. Resamples where the statistic is undefined (NaN) are dropped.
    """
    arrays = [np.asarray(s, dtype=float) for s in series]
    if any(len(a) == 0 for a in arrays):
        return Interval(None, None, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = float(np.asarray(statistic(*(a[None, ...] for a in arrays)))[0])
        indices = _indices(tuple(len(a) for a in arrays), resamples, seed)
        resampled = (a[i] for a, i in zip(arrays, indices, strict=True))
        draws = np.asarray(statistic(*resampled), dtype=float)
    return _interval(point, draws, resamples, level)


def weighted_bootstrap(
    statistic: Callable[..., np.ndarray],
    *lengths: int,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> Interval:
    """`bootstrap` for statistics made of sums over rows, with the same resamples, much faster.

    `statistic` receives, per series (given by its length), a (k, n) matrix of how often each
    row was drawn in each of k resamples, and returns one value per resample; the point
    estimate is its value for one row of ones. A sum over drawn rows is then `weights @ values`
    (see `sums`), instead of gathering every resample's rows.
    """
    if any(n == 0 for n in lengths):
        return Interval(None, None, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = float(np.asarray(statistic(*(np.ones((1, n)) for n in lengths)))[0])
        draws = np.asarray(statistic(*_weights(tuple(lengths), resamples, seed)), dtype=float)
    return _interval(point, draws, resamples, level)


@functools.lru_cache(maxsize=64)
def _weights(lengths: tuple[int, ...], resamples: int, seed: int) -> tuple[np.ndarray, ...]:
    """(resamples, n) draw counts of each series' rows, from the indices `bootstrap` uses."""
    out = []
    for rows in _indices(lengths, resamples, seed):
        n = rows.shape[1]
        offsets = (np.arange(resamples) * n)[:, None]
        counts = np.bincount((rows + offsets).ravel(), minlength=resamples * n)
        weights = counts.reshape(resamples, n).astype(float)
        weights.setflags(write=False)
        out.append(weights)
    return tuple(out)


def _interval(point: float, draws: np.ndarray, resamples: int, level: float) -> Interval:
    draws = draws[np.isfinite(draws)]
    if not math.isfinite(point) or len(draws) < resamples / 2:
        return Interval(None if not math.isfinite(point) else point, None, None)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(point, float(low), float(high))


# --- statistics over resampled arrays (leading axis: resamples, then rows) ----------------------


def mean(values: np.ndarray) -> np.ndarray:
    """Mean over rows of a 1-column series, ignoring missing weeks."""
    return np.nanmean(values, axis=1)


def ratio_of_sums(pairs: np.ndarray) -> np.ndarray:
    """sum(numerator) / sum(denominator) over rows of a (numerator, denominator) series."""
    sums = pairs.sum(axis=1)
    return sums[..., 0] / sums[..., 1]


class PooledMedian:
    """Median of the values attached to the rows drawn (e.g. lead times of the items resolved on
    each resampled day), as a statistic over resampled row numbers: bootstrap it with the series
    `np.arange(len(groups))`. Counting how often each row was drawn avoids building the pooled
    values of every resample."""

    def __init__(self, groups: list[list[float]]) -> None:
        rows = np.array([r for r, g in enumerate(groups) for _ in g], dtype=int)
        values = np.array([v for g in groups for v in g], dtype=float)
        order = np.argsort(values, kind="stable")
        self.rows, self.values, self.n = rows[order], values[order], len(groups)

    def __call__(self, drawn: np.ndarray) -> np.ndarray:
        drawn = drawn.astype(int).reshape(drawn.shape[0], -1)
        resamples = drawn.shape[0]
        offsets = (np.arange(resamples) * self.n)[:, None]
        counts = np.bincount((drawn + offsets).ravel(), minlength=resamples * self.n)
        return self.weighted(counts.reshape(resamples, self.n))

    def weighted(self, weights: np.ndarray) -> np.ndarray:
        """The median per resample, from (resamples, groups) draw counts (weighted_bootstrap)."""
        resamples = weights.shape[0]
        if len(self.values) == 0:
            return np.full(resamples, np.nan)
        cum = np.cumsum(weights[:, self.rows], axis=1)  # per value, sorted
        total = cum[:, -1]
        lo = np.argmax(cum >= ((total + 1) // 2)[:, None], axis=1)
        hi = np.argmax(cum >= (total // 2 + 1)[:, None], axis=1)
        out = (self.values[lo] + self.values[hi]) / 2
        return np.where(total > 0, out, np.nan)


def sums(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per resample, the sum of each column over the drawn rows: (k, n) @ (n, ...)."""
    return weights @ values
