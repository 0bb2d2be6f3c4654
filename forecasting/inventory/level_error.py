"""How wrong the as-of level has lately been: the empirical ratio actual / planned, re-learnt.

The as-of level (`forecasting.inventory.level`) is a point estimate; an item taking off for
Christmas beats it by a wide and skewed margin, which the level's standard error does not
describe. At every plan date this module replays the level as it would have been made `lag`
days earlier (data strictly before then), compares it with the mean demand of the `lag` days
that followed (all before the plan date), and keeps the ratios actual / planned, pooled by how
much evidence a pair had (`evidence_bin`: the number of sale days in its window, on a log2
scale: items with a sale or two miss their level far more, and more often upwards, than items
selling every day). Each sample of lead-time demand is then multiplied by a ratio drawn from
the pool of the pair's current evidence bin (all pairs' where a bin has fewer than
`MIN_RATIOS`), so the plan carries the recent bias (growth the damped trend has not caught
yet) and the spread of its own level, re-estimated at every re-plan from the past only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.inventory.level import estimate_level

#: A category needs this many ratios of its own, else it draws from all pairs'.
MIN_RATIOS = 50
#: Ratios are capped here (one near-dead item's wholesale order must not stand for many).
MAX_RATIO = 20.0


@dataclass(frozen=True)
class ErrorPool:
    """Sorted ratios actual / planned mean demand per evidence bin, and each pair's pool.

    Attributes:
        ratios: every pool's ratios, sorted within each pool, concatenated (pool 0 = all pairs).
        offset: start of each pool in `ratios`, `[n_pools + 1]`.
        pool_of: pool index per pair, `[n_pairs]`.
        mean: mean ratio of each pair's pool, `[n_pairs]` (the bias of the recent level).
    """

    ratios: np.ndarray
    offset: np.ndarray
    pool_of: np.ndarray
    mean: np.ndarray

    def take(self, rows: slice) -> ErrorPool:
        """The same pools with the per-pair arrays of `rows` only."""
        return ErrorPool(self.ratios, self.offset, self.pool_of[rows], self.mean[rows])

    def draw(self, rng: np.random.Generator, n_samples: int) -> np.ndarray:
        """Ratio draws from each pair's pool, `[n_pairs, n_samples]`."""
        lo, hi = self.offset[self.pool_of], self.offset[self.pool_of + 1]
        u = rng.random((len(self.pool_of), n_samples))
        idx = lo[:, None] + np.floor(u * (hi - lo)[:, None]).astype(np.int64)
        return self.ratios[np.minimum(idx, (hi - 1)[:, None])]


def evidence_bin(window: np.ndarray) -> np.ndarray:
    """How much a pair has shown: 0 for no sale day in `window`, else 1 + floor(log2(days))."""
    days = (window > 0).sum(axis=1)
    return np.where(days > 0, 1 + np.floor(np.log2(np.maximum(days, 1))), 0).astype(np.int64)


def level_errors(
    history: np.ndarray,
    first_day: np.ndarray,
    groups: np.ndarray,
    window_days: int,
    horizons: np.ndarray,
    lag: int,
) -> ErrorPool | None:
    """The ratios actual / planned of the level made `lag` days before the end of `history`.

    Args:
        history: daily units `[n_pairs, n_days]` ending the day before the plan date.
        first_day: index of each pair's first sale in `history` (`[n_pairs]`).
        groups: category per pair (the level's trend is shrunk towards it).
        window_days: the window the level's factor rescales.
        horizons: days ahead each pair's plan covers, `[n_pairs]`.
        lag: days between the replayed plan and the plan date (the demand it is checked on).
    Returns:
        The pools, or None when no pair had a level `lag` days ago (too little history).
    """
    n, n_days = history.shape
    if n_days - lag < max(window_days, 14):
        return None
    past = history[:, : n_days - lag]
    before = estimate_level(past, first_day, groups, window_days, horizons)
    planned = before.factor * past[:, -window_days:].mean(axis=1)
    ok = before.known & (planned > 0)
    if not ok.any():
        return None
    actual = history[:, n_days - lag :].mean(axis=1)
    ratio = np.minimum(actual[ok] / planned[ok], MAX_RATIO)
    key_past = evidence_bin(past[:, -window_days:])[ok]
    key_now = evidence_bin(history[:, -window_days:])
    n_keys = int(max(key_past.max(initial=0), key_now.max(initial=0))) + 1
    counts = np.bincount(key_past, minlength=n_keys)
    own = counts >= MIN_RATIOS
    pools = [np.sort(ratio)] + [np.sort(ratio[key_past == k]) for k in np.flatnonzero(own)]
    if pools[0].sum() <= 0:
        return None
    pools = [p if p.sum() > 0 else pools[0] for p in pools]
    pool_index = np.zeros(n_keys, dtype=np.int64)
    pool_index[np.flatnonzero(own)] = np.arange(1, own.sum() + 1)
    pool_of = pool_index[key_now]
    offset = np.concatenate([[0], np.cumsum([len(p) for p in pools])])
    means = np.array([p.mean() for p in pools])
    return ErrorPool(np.concatenate(pools), offset, pool_of, means[pool_of])
