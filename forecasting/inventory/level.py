"""The demand level as of a plan date: a robust, damped item trend shrunk towards its category.

The history source bootstraps the last `window_days` days, which lags demand that is growing
(an item taking off for Christmas). This module estimates, from data strictly before the plan
date, where each pair's mean daily demand is over the days a plan covers, and returns the factor
that rescales the window to it: the window keeps the shape (its lumpy orders), the factor moves
its level. Vectorised over pairs; loops run over weeks (about 26) only.

Steps, per pair:
1. Winsorise the daily units at a robust fence of the pair's own sale days (median + `FENCE_MADS`
   median absolute deviations, at least `MIN_FENCE_RATIO` x the median), so a single huge
   wholesale order moves neither the level nor the trend. The shape keeps the order.
2. Sum to weeks ending the day before the plan; weeks before the pair's first sale are left out.
3. Holt's linear method with a damped trend (Gardner & McKenzie) on those weekly sums, with the
   smoothing pair (alpha, beta) chosen per category from a small grid by its one-step-ahead
   scaled absolute error (adaptive, no constant tuned to one file).
4. The item's relative trend (trend / level) is shrunk towards its category's, with weight
   n / (n + `SHRINK_WEEKS`) for an item with n weeks of sales.
5. The forecast mean daily demand over the horizon, divided by the winsorised window mean, is
   the factor, clipped to `FACTOR_BOUNDS`. Pairs with fewer than `MIN_WEEKS` weeks of sales or
   no sales in the window get 1 (no estimate; the plan says so in its `reason`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Weeks of history the level reads (a half-year).
LEVEL_WEEKS = 26
#: Weekly damping of the trend (Gardner & McKenzie's usual 0.8-0.98 range).
DAMPING = 0.9
#: Candidate (alpha, beta) pairs of Holt's method; each category picks its best.
SMOOTHING_GRID: tuple[tuple[float, float], ...] = (
    (0.2, 0.05),
    (0.2, 0.2),
    (0.4, 0.05),
    (0.4, 0.2),
    (0.6, 0.1),
    (0.8, 0.2),
)
#: Winsorising fence: median + this many MADs of the pair's sale-day units.
FENCE_MADS = 5.0
#: The fence is at least this multiple of the median sale-day units.
MIN_FENCE_RATIO = 3.0
#: Pseudo-weeks of the category's trend in the shrunk item trend.
SHRINK_WEEKS = 8.0
#: An item needs this many weeks with sales for an estimate.
MIN_WEEKS = 2
#: The factor on the window is clipped to this range.
FACTOR_BOUNDS = (0.25, 4.0)


@dataclass(frozen=True)
class Level:
    """As-of level estimate per pair (arrays `[n_pairs]`).

    Attributes:
        factor: forecast mean daily demand over the horizon / the window's (winsorised) mean.
        daily: forecast mean daily demand over the horizon (winsorised units).
        known: whether an estimate was made (else `factor` is 1).
        rel_sd: relative standard error of the level (0 where unknown): the window's daily
            sd / (mean sqrt(days)); a lumpy item with a few sale days is known only roughly.
    """

    factor: np.ndarray
    daily: np.ndarray
    known: np.ndarray
    rel_sd: np.ndarray | None = None


def winsorise(history: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Daily units capped at each pair's robust fence of its sale days (`[n, T]` -> `[n, T]`).

    Args:
        history: daily units `[n_pairs, n_days]`.
        active: which days count (on or after the pair's first sale), same shape.
    """
    sale = (history > 0) & active
    values = np.where(sale, history, np.nan)
    with np.errstate(all="ignore"):
        ordered = np.sort(values, axis=1)  # NaN last
        count = sale.sum(axis=1)
        median = _row_median(ordered, count)
        mad = _row_median(np.sort(np.abs(values - median[:, None]), axis=1), count)
    fence = np.maximum(median + FENCE_MADS * 1.4826 * mad, MIN_FENCE_RATIO * median)
    fence = np.where(count > 0, fence, np.inf)
    return np.minimum(history, fence[:, None])


def _row_median(ordered: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Median of the first `count` (sorted, finite) values of each row; NaN where count is 0."""
    rows = np.arange(ordered.shape[0])
    lo = np.maximum((count - 1) // 2, 0)
    hi = np.maximum(count // 2, 0)
    hi = np.minimum(hi, ordered.shape[1] - 1)
    out = 0.5 * (ordered[rows, lo] + ordered[rows, hi])
    return np.where(count > 0, out, np.nan)


def damped_holt(
    weeks: np.ndarray, started: np.ndarray, alpha: float, beta: float, phi: float = DAMPING
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Holt's damped-trend smoothing over weekly sums, vectorised over pairs.

    Args:
        weeks: weekly units `[n_pairs, n_weeks]`, oldest first.
        started: whether the pair had started selling by each week, same shape (monotone).
    Returns:
        (level, trend) after the last week, `[n_pairs]` each, and the mean absolute one-step
        error per pair (NaN without a forecast made).
    """
    n, n_weeks = weeks.shape
    level = np.zeros(n)
    trend = np.zeros(n)
    seen = np.zeros(n, dtype=bool)
    abs_err = np.zeros(n)
    n_err = np.zeros(n)
    for t in range(n_weeks):
        x, on = weeks[:, t], started[:, t]
        first = on & ~seen
        cont = on & seen
        forecast = level + phi * trend
        err = x - forecast
        abs_err += np.where(cont, np.abs(err), 0.0)
        n_err += cont
        new_level = forecast + alpha * err
        new_trend = phi * trend + beta * alpha * err  # = beta (l_t - l_{t-1}) + (1 - beta) phi b
        level = np.where(cont, new_level, np.where(first, x, level))
        trend = np.where(cont, new_trend, np.where(first, 0.0, trend))
        seen |= on
    with np.errstate(invalid="ignore", divide="ignore"):
        mae = np.where(n_err > 0, abs_err / n_err, np.nan)
    return level, trend, mae


def estimate_level(
    history: np.ndarray,
    first_day: np.ndarray,
    groups: np.ndarray,
    window_days: int,
    horizons: np.ndarray,
    phi: float = DAMPING,
) -> Level:
    """The as-of demand level and its factor on the last `window_days` days, per pair.

    Args:
        history: daily units `[n_pairs, n_days]` ending the day before the plan date (n_days a
            multiple of 7 is not needed: the oldest partial week is dropped).
        first_day: index into `history` of each pair's first sale day (0 if earlier; n_days if
            none), `[n_pairs]`.
        groups: category code per pair, `[n_pairs]` (the trend is shrunk towards it and the
            smoothing pair chosen per group).
        window_days: the policy's history window (the last days of `history`).
        horizons: days ahead each pair's plan covers (lead time + a review period), `[n_pairs]`.
    Returns:
        `Level` with the factor, the forecast daily level, and which pairs have an estimate.
    """
    n, n_days = history.shape
    if n == 0:
        return Level(np.ones(0), np.zeros(0), np.zeros(0, dtype=bool))
    days = np.arange(n_days)
    active = days[None, :] >= first_day[:, None]
    clean = np.where(active, winsorise(history, active), 0.0)
    n_weeks = min(n_days // 7, LEVEL_WEEKS)
    tail = clean[:, n_days - 7 * n_weeks :]
    weeks = tail.reshape(n, n_weeks, 7).sum(axis=2)
    week_start = n_days - 7 * n_weeks + 7 * np.arange(n_weeks)
    # a week counts once the pair had sold by its last day (a partial first week is scaled up)
    week_end = week_start + 6
    started = week_end[None, :] >= first_day[:, None]
    open_days = np.clip(week_end[None, :] - np.maximum(first_day[:, None], week_start) + 1, 1, 7)
    weeks = np.where(started, weeks * 7.0 / open_days, 0.0)
    sale_weeks = ((weeks > 0) & started).sum(axis=1)
    scale = np.maximum(weeks.sum(axis=1) / np.maximum(started.sum(axis=1), 1), 1e-9)
    codes, group_of = np.unique(groups, return_inverse=True)
    best_level, best_trend = np.zeros(n), np.zeros(n)
    best_score = np.full(len(codes), np.inf)
    for alpha, beta in SMOOTHING_GRID:
        level, trend, mae = damped_holt(weeks, started, alpha, beta, phi)
        scaled = np.nan_to_num(mae / scale, nan=0.0)
        score = np.bincount(group_of, weights=scaled, minlength=len(codes))
        better = score < best_score
        best_score = np.where(better, score, best_score)
        take = better[group_of]
        best_level = np.where(take, level, best_level)
        best_trend = np.where(take, trend, best_trend)
    level = np.maximum(best_level, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(level > 0, best_trend / level, 0.0)
        group_level = np.bincount(group_of, weights=level, minlength=len(codes))
        group_trend = np.bincount(group_of, weights=best_trend, minlength=len(codes))
        group_rel = np.where(group_level > 0, group_trend / group_level, 0.0)
    weight = sale_weeks / (sale_weeks + SHRINK_WEEKS)
    rel = weight * rel + (1.0 - weight) * group_rel[group_of]
    # mean over the horizon's weeks k = 1..K of level x (1 + rel x sum_{j<=k} phi^j)
    k_max = np.maximum(np.ceil(horizons / 7.0).astype(np.int64), 1)
    cum = np.cumsum(phi ** np.arange(1, int(k_max.max()) + 1))
    mean_cum = (np.cumsum(cum) / np.arange(1, len(cum) + 1))[k_max - 1]
    weekly = level * np.maximum(1.0 + rel * mean_cum, 0.0)
    daily = weekly / 7.0
    window_mean = clean[:, -window_days:].sum(axis=1) / min(window_days, n_days)
    known = (sale_weeks >= MIN_WEEKS) & (window_mean > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(known, np.clip(daily / window_mean, *FACTOR_BOUNDS), 1.0)
    window = history[:, -window_days:]
    mean, sd = window.mean(axis=1), window.std(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_sd = np.where(known & (mean > 0), sd / (mean * np.sqrt(window.shape[1])), 0.0)
    return Level(factor, np.where(known, daily, np.nan), known, rel_sd)
