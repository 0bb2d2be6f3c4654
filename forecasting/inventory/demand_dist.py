"""Lead-time demand distributions per store x product, as Monte Carlo samples.

Two sources, chosen per pair:
- `forecast`: the `forecasts` table's daily quantiles (q_05..q_95) for the days after the plan
  date. Each day's demand is drawn from its piecewise-linear quantile function; days share a
  common factor (Gaussian copula, correlation `rho`) because forecast errors persist.
- `history`: a moving-block bootstrap of the recent daily demand window (keeps intermittency,
  weekly pattern and short runs), used when there is no forecast for the pair.

Both are compounded with a random whole-day lead time (normal with the supplier's mean and sd,
rounded, floored at 0), plus `extra_days` (a review period) and the reorder undershoot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from forecasting.inventory.level_error import ErrorPool
from forecasting.inventory.maths import (
    sample_lead_times,
    sample_nb_window_sums,
    sample_undershoot,
    sample_window_sums,
)
from forecasting.inventory.order_sizes import (
    SizePool,
    sample_pooled_sums,
    sample_pooled_undershoot,
)

QUANTILE_LEVELS: tuple[float, ...] = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)
QUANTILE_COLUMNS: tuple[str, ...] = ("q_05", "q_10", "q_25", "q_50", "q_75", "q_90", "q_95")
_GRID = np.array((0.0, *QUANTILE_LEVELS, 1.0))


@dataclass(frozen=True)
class DemandInputs:
    """Demand evidence per pair (row order = the plan's pairs).

    Attributes:
        history: daily units over the history window, zeros filled, `[n_pairs, window_days]`.
        forecast_q: daily quantiles after the plan date, `[n_pairs, horizon, 7]`, or None.
        has_forecast: whether a pair's forecast rows exist, `[n_pairs]`.
    """

    history: np.ndarray
    forecast_q: np.ndarray | None = None
    has_forecast: np.ndarray | None = None

    @property
    def n_pairs(self) -> int:
        return int(self.history.shape[0])

    def forecast_mask(self) -> np.ndarray:
        if self.forecast_q is None or self.has_forecast is None:
            return np.zeros(self.n_pairs, dtype=bool)
        return self.has_forecast


def quantile_knots(q: np.ndarray) -> np.ndarray:
    """Quantile values at probabilities 0, 0.05..0.95, 1 (tails extrapolated, floored at 0).

    Args:
        q: `[..., 7]` quantiles at QUANTILE_LEVELS (sorted along the last axis here).
    Returns:
        `[..., 9]`.
    """
    q = np.maximum(np.sort(q, axis=-1), 0.0)
    low = np.maximum(q[..., :1] - (q[..., 1:2] - q[..., :1]), 0.0)
    high = q[..., -1:] + 2.0 * (q[..., -1:] - q[..., -2:-1])
    return np.concatenate([low, q, high], axis=-1)


def sample_forecast_sums(
    rng: np.random.Generator, forecast_q: np.ndarray, lengths: np.ndarray, rho: float = 0.5
) -> np.ndarray:
    """Demand over the first `lengths` forecast days per sample: `[n_pairs, n_samples]`.

    Day by day, only for the samples whose lead time reaches that day (work ~ mean lead time,
    not the longest one). Each sample has one common factor (Gaussian copula, correlation
    `rho` between days). Lengths beyond the forecast horizon repeat the last day's distribution.
    """
    n, horizon, _ = forecast_q.shape
    knots = quantile_knots(forecast_q).astype(np.float32)  # [n, H, 9]
    grid = _GRID.astype(np.float32)
    common = np.float32(np.sqrt(rho)) * rng.standard_normal(lengths.size, dtype=np.float32)
    own_scale = np.float32(np.sqrt(1.0 - rho))
    flat_len = lengths.ravel()
    rows = np.repeat(np.arange(n), lengths.shape[1])
    total = np.zeros(lengths.size, dtype=np.float64)
    active = np.flatnonzero(flat_len > 0)
    day = 0
    while active.size:
        u = ndtr(common[active] + own_scale * rng.standard_normal(active.size, dtype=np.float32))
        seg = np.searchsorted(_GRID[1:-1], u, side="right")  # index of the knot below u, 0..7
        day_knots = knots[:, min(day, horizon - 1), :].ravel()
        at = rows[active] * len(_GRID) + seg
        lo, hi = day_knots[at], day_knots[at + 1]
        total[active] += lo + (u - grid[seg]) / (grid[seg + 1] - grid[seg]) * (hi - lo)
        day += 1
        active = active[flat_len[active] > day]
    return total.reshape(lengths.shape)


def iter_lead_time_demand_samples(
    rng: np.random.Generator,
    demand: DemandInputs,
    lead_time_mean: np.ndarray,
    lead_time_sd: np.ndarray,
    n_samples: int = 1000,
    extra_days: int = 0,
    undershoot: bool = True,
    chunk: int = 2000,
    rho: float = 0.5,
    method: str = "block",
    scale: np.ndarray | None = None,
    scale_sd: np.ndarray | None = None,
    sizes: SizePool | None = None,
    level_error: ErrorPool | None = None,
) -> Iterator[tuple[slice, np.ndarray]]:
    """Samples of demand over (lead time + extra_days) plus the undershoot, by chunks of pairs.

    Yields `(rows, samples)` with samples `[rows, n_samples]`, so memory stays bounded
    (chunk x n_samples) whatever the number of pairs.

    Args:
        lead_time_mean, lead_time_sd: days, `[n_pairs]`.
        extra_days: review period added to the lead time (0 for continuous review).
        undershoot: add the reorder undershoot (continuous review with daily checks).
        method: history source "block" (moving-block bootstrap) or "nb" (negative binomial
            matched to the window-sum moments).
        scale: factor on the history source's lead-time sums per pair (a seasonal ratio),
            `[n_pairs]`; whole-unit histories keep whole-unit sums (unbiased random rounding).
        scale_sd: relative sd of that factor per pair (`[n_pairs]`, 0 = exact): each sample is
            multiplied by a lognormal draw of mean 1 and this sd (the level's uncertainty).
        sizes: sale-day sizes pooled from the category (`forecasting.inventory.order_sizes`)
            for the rows of `demand`: each history sample (sum and undershoot) comes from the
            pair's own bootstrap with probability `sizes.own_weight`, else from the compound of
            its sale-day pattern and pooled sizes.
        level_error: the recent ratios actual / planned level (`level_error.level_errors`):
            each history sample is multiplied by a size-biased draw from its pair's pool,
            in place of the lognormal `scale_sd` factor.
    """
    n = demand.n_pairs
    use_fc = demand.forecast_mask()
    integer = np.all(np.equal(np.mod(demand.history, 1.0), 0.0), axis=1)
    step = chunk
    for lo in range(0, n, step):
        sl = slice(lo, min(n, lo + step))
        hist = demand.history[sl]
        lengths = sample_lead_times(rng, lead_time_mean[sl], lead_time_sd[sl], n_samples)
        lengths = lengths + extra_days
        sampler = sample_nb_window_sums if method == "nb" else sample_window_sums
        sums = sampler(rng, hist, lengths) if hist.shape[1] else np.zeros_like(lengths)
        keep = None
        if sizes is not None and hist.shape[1]:
            part = sizes.take(sl)
            keep = rng.random(sums.shape) < part.own_weight[:, None]
            pooled = sample_pooled_sums(rng, hist, lengths, part)
            pooled = np.where(integer[sl, None], np.floor(pooled + rng.random(sums.shape)), pooled)
            sums = np.where(keep, sums, pooled)
        if level_error is not None:  # how wrong the level has lately been, per cycle
            sums = sums * level_error.take(sl).draw(rng, n_samples)
        elif scale_sd is not None:  # the level's own uncertainty: a lognormal factor of mean 1
            sigma = np.sqrt(np.log1p(scale_sd[sl] ** 2)).astype(np.float32)[:, None]
            z = rng.standard_normal(sums.shape, dtype=np.float32)
            sums = sums * np.exp(sigma * z - 0.5 * sigma * sigma)
        if scale is not None or scale_sd is not None or level_error is not None:
            scaled = sums * (1.0 if scale is None else scale[sl, None])
            rounded = np.floor(scaled + rng.random(scaled.shape))
            sums = np.where(integer[sl, None], rounded, scaled)
        fc = use_fc[sl]
        if fc.any() and demand.forecast_q is not None:
            sums[fc] = sample_forecast_sums(rng, demand.forecast_q[sl][fc], lengths[fc], rho)
        if undershoot and hist.shape[1]:
            under = sample_undershoot(rng, hist, n_samples, integer=False)
            if keep is not None and sizes is not None:
                under = np.where(
                    keep, under, sample_pooled_undershoot(rng, sizes.take(sl), n_samples)
                )
            sums += np.where(integer[sl, None], np.floor(under), under)
        yield sl, sums


def lead_time_demand_samples(
    rng: np.random.Generator,
    demand: DemandInputs,
    lead_time_mean: np.ndarray,
    lead_time_sd: np.ndarray,
    n_samples: int = 1000,
    extra_days: int = 0,
    undershoot: bool = True,
    chunk: int = 2000,
    rho: float = 0.5,
) -> np.ndarray:
    """All samples at once, `[n_pairs, n_samples]` (see `iter_lead_time_demand_samples`)."""
    out = np.empty((demand.n_pairs, n_samples), dtype=np.float64)
    for sl, sums in iter_lead_time_demand_samples(
        rng, demand, lead_time_mean, lead_time_sd, n_samples, extra_days, undershoot, chunk, rho
    ):
        out[sl] = sums
    return out
