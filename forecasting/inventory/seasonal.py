"""Last year's seasonal ratio: how the coming days' demand compares with the recent window.

The history source of the inventory policy bootstraps the last `window_days` days, which assumes
the next lead time looks like the recent past. Retail demand has a yearly shape and a trend, so
the window under-reads the weeks before a peak and over-reads the weeks after it. The classical
correction is a seasonal index from the same weeks a year earlier: for each group of items (a
category), the ratio of its mean daily units over the `horizon` days that followed the same date
52 weeks ago to its mean over the `window_days` before that date. Only the past is used.

Groups with too few units a year ago fall back to the ratio of all items. Pairs that did not sell
yet a year ago take their group's ratio; a warehouse younger than that keeps a ratio of 1.
"""

from __future__ import annotations

import numpy as np

#: 52 weeks, so weekdays line up with the current window.
YEAR_LAG_DAYS = 364
#: Below this many units in a group's year-ago window, the all-items ratio is used instead.
MIN_GROUP_UNITS = 500.0
#: Ratios are clipped to this range (a year-ago promotion or stock-out must not run away).
RATIO_BOUNDS = (0.5, 2.0)


def seasonal_ratio(
    year_ago: np.ndarray, groups: np.ndarray, window_days: int, horizons: np.ndarray
) -> np.ndarray:
    """Per-pair ratio of next-`horizon` to last-`window_days` mean daily demand, a year ago.

    Args:
        year_ago: daily units `[n_pairs, window_days + max(horizons)]` starting `YEAR_LAG_DAYS`
            before the first day of the current window; a NaN row marks a pair without sales
            that long ago (left out of the group totals, given its group's ratio).
        groups: group code per pair (e.g. category), `[n_pairs]`.
        window_days: length of the history window the policy bootstraps.
        horizons: whole days ahead each pair's policy covers (lead time + review), `[n_pairs]`.
    Returns:
        Ratios `[n_pairs]`, clipped to `RATIO_BOUNDS`; all 1 when no pair has year-ago data.
    """
    n = year_ago.shape[0]
    if n == 0:
        return np.ones(0)
    horizons = np.clip(horizons.astype(np.int64), 1, year_ago.shape[1] - window_days)
    known = ~np.isnan(year_ago).any(axis=1)
    if not known.any():
        return np.ones(n)
    values = np.where(known[:, None], np.nan_to_num(year_ago), 0.0)
    codes, group_of = np.unique(groups, return_inverse=True)
    totals = np.zeros((len(codes) + 1, values.shape[1]))
    np.add.at(totals, group_of, values)
    totals[-1] = values.sum(axis=0)  # all items: the fallback row
    window_units = totals[:, :window_days].sum(axis=1)
    row = np.where(window_units[group_of] >= MIN_GROUP_UNITS, group_of, len(codes))
    ahead = np.cumsum(totals[:, window_days:], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (ahead[row, horizons - 1] / horizons) / (window_units[row] / window_days)
    ratio = np.where(np.isfinite(ratio) & (window_units[row] > 0), ratio, 1.0)
    return np.clip(ratio, *RATIO_BOUNDS)
