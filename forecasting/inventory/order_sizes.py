"""Order sizes pooled from the category: the tail of lumpy demand for items with little evidence.

The history bootstrap reads each pair's own sale days, so an item that sold a unit or two a few
times in the window can never, in its samples, receive the wholesale order of 24 or 144 units
that items like it do receive. Here the size of a sale day is modelled as the pair's own mean
sale-day size times a relative size drawn from its category's pool (every sale day of every pair
in the category, divided by that pair's mean sale-day size: mean 1 by construction, so the pool
moves the shape, not the level). Each sample of lead-time demand comes from the pair's own block
bootstrap with probability n / (n + `PRIOR_SALE_DAYS`) (n = its sale days in the window), else
from the compound: the number of sale days from a block of the pair's own sale-day pattern,
each day's units from the pool (empirical Bayes shrinkage of the size distribution towards the
category's, the less the pair has shown the more).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.inventory.maths import sample_window_sums

#: Pseudo sale days of the category's size distribution in each pair's mixture.
PRIOR_SALE_DAYS = 8.0


@dataclass(frozen=True)
class SizePool:
    """Category-pooled relative sale-day sizes and each pair's own evidence.

    Attributes:
        mean_size: mean units on the pair's sale days in the window, `[n_pairs]` (0: none).
        own_weight: probability a sample uses the pair's own bootstrap, `[n_pairs]`.
        group_of: pool index per pair, `[n_pairs]`.
        pool: relative sizes of every group, sorted within each group, concatenated.
        offset: start of each group's sizes in `pool`, `[n_groups + 1]`.
        cum: cumulative sum of `pool` (size-biased draws for the undershoot).
    """

    mean_size: np.ndarray
    own_weight: np.ndarray
    group_of: np.ndarray
    pool: np.ndarray
    offset: np.ndarray
    cum: np.ndarray

    def take(self, rows: slice) -> SizePool:
        """The same pool with the per-pair arrays of `rows` only."""
        return SizePool(
            self.mean_size[rows],
            self.own_weight[rows],
            self.group_of[rows],
            self.pool,
            self.offset,
            self.cum,
        )


def size_pool(
    history: np.ndarray, groups: np.ndarray, prior_days: float = PRIOR_SALE_DAYS
) -> SizePool:
    """Pool the relative sale-day sizes of `history` (`[n_pairs, n_days]`) by group.

    Args:
        history: daily units, the window the bootstrap reads.
        groups: a group label per pair (the category), `[n_pairs]`.
        prior_days: pseudo sale days of the pool in each pair's mixture.
    """
    n = history.shape[0]
    sale = history > 0
    count = sale.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_size = np.where(count > 0, np.where(sale, history, 0.0).sum(axis=1) / count, 0.0)
    _, group_of = np.unique(groups, return_inverse=True)
    group_of = group_of.reshape(n)
    n_groups = int(group_of.max(initial=-1)) + 1
    rows, cols = np.nonzero(sale)
    relative = history[rows, cols] / mean_size[rows]
    order = np.lexsort((relative, group_of[rows]))
    pool = relative[order]
    sizes = np.bincount(group_of[rows], minlength=n_groups)
    offset = np.concatenate([[0], np.cumsum(sizes)])
    # a group without any sale day falls back on nothing: its pairs have no sale days either
    weight = count / (count + prior_days) if prior_days > 0 else np.ones(n)
    return SizePool(mean_size, weight, group_of, pool, offset, np.cumsum(pool))


def _draw_relative(rng: np.random.Generator, pool: SizePool, shape: tuple[int, int]) -> np.ndarray:
    """Uniform draws from each pair's group pool, `[n_pairs, n_samples]` (1 where empty)."""
    lo = pool.offset[pool.group_of][:, None]
    size = (pool.offset[pool.group_of + 1] - pool.offset[pool.group_of])[:, None]
    idx = lo + np.floor(rng.random(shape) * size).astype(np.int64)
    return np.where(size > 0, pool.pool[np.minimum(idx, max(len(pool.pool) - 1, 0))], 1.0)


def sample_pooled_sums(
    rng: np.random.Generator, history: np.ndarray, lengths: np.ndarray, pool: SizePool
) -> np.ndarray:
    """Compound lead-time demand: sale days from a block of the pair's pattern, sizes pooled.

    Args:
        history: daily units `[n_pairs, n_days]` (the rows `pool` describes).
        lengths: whole days per sample, `[n_pairs, n_samples]`.
    Returns:
        Demand totals `[n_pairs, n_samples]` (fractional; the caller rounds whole units).
    """
    if not len(pool.pool):
        return np.zeros(lengths.shape)
    count = sample_window_sums(rng, (history > 0).astype(np.float64), lengths).astype(np.int64)
    total = np.zeros(lengths.shape)
    for k in range(int(count.max(initial=0))):
        total += np.where(count > k, _draw_relative(rng, pool, lengths.shape), 0.0)
    return total * pool.mean_size[:, None]


def sample_pooled_undershoot(
    rng: np.random.Generator, pool: SizePool, n_samples: int
) -> np.ndarray:
    """The reorder undershoot under pooled sizes: V x a size-biased pooled day, `[n, samples]`."""
    n = len(pool.mean_size)
    if not len(pool.pool):
        return np.zeros((n, n_samples))
    lo, hi = pool.offset[pool.group_of], pool.offset[pool.group_of + 1]
    base = np.where(lo > 0, pool.cum[np.maximum(lo - 1, 0)], 0.0)
    top = np.where(hi > lo, pool.cum[np.maximum(hi - 1, 0)], 0.0)
    targets = base[:, None] + rng.random((n, n_samples)) * (top - base)[:, None]
    idx = np.searchsorted(pool.cum, targets.ravel(), side="right").reshape(targets.shape)
    idx = np.clip(idx, lo[:, None], np.maximum(hi - 1, lo)[:, None])
    day = np.where((hi > lo)[:, None], pool.pool[np.minimum(idx, len(pool.pool) - 1)], 0.0)
    return rng.random((n, n_samples)) * day * pool.mean_size[:, None]


def mix_pooled(
    rng: np.random.Generator,
    own: np.ndarray,
    pooled: np.ndarray,
    pool: SizePool,
) -> np.ndarray:
    """Per sample, the pair's own draw with probability `own_weight`, else the pooled one."""
    keep = rng.random(own.shape) < pool.own_weight[:, None]
    return np.where(keep, own, pooled)
