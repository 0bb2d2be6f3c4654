"""Accuracy metrics, computed per series then pooled (so windows and segments can be combined).

Definitions (sums over the evaluated periods of the pooled series):
- WAPE = sum|y - yhat| / sum y; bias = sum(yhat - y) / sum y (positive = over-forecast).
- MASE = mean over series of MAE / in-sample MAE of the seasonal naive (lag m);
  RMSSE = mean over series of sqrt(MSE / in-sample mean squared lag-1 difference) (M5).
  Series whose in-sample scale is zero are left out of these two.
- pinball = mean over the quantile levels of sum pinball_p(y, q_p) / sum y (scaled like WAPE).
- coverage_L = share of periods with lo_L <= y <= hi_L.
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: Per-series statistics that `pool` combines.
STAT_COLUMNS: tuple[str, ...] = (
    "n_periods",
    "abs_err",
    "err",
    "actual",
    "mase",
    "rmsse",
    "pinball",
    "cover_80",
    "cover_95",
)


def insample_scales(
    history: np.ndarray, start: np.ndarray, season: int
) -> tuple[np.ndarray, np.ndarray]:
    """(mae_scale, mse_scale), each (n,): seasonal-naive MAE and lag-1 mean squared difference.

    Args:
        history: (n, T) units through the cutoff.
        start: (n,) first sale index (earlier periods are not part of the series).
        season: m of the seasonal naive.
    """
    n, t = history.shape
    idx = np.arange(t)[None, :]
    alive = idx >= start[:, None]
    d_m = np.abs(history[:, season:] - history[:, :-season]) if t > season else np.zeros((n, 0))
    ok_m = alive[:, :-season] if t > season else np.zeros((n, 0), bool)
    d_1 = np.diff(history, axis=1) ** 2
    ok_1 = alive[:, :-1]
    mae = np.divide((d_m * ok_m).sum(1), ok_m.sum(1), out=np.zeros(n), where=ok_m.sum(1) > 0)
    mse = np.divide((d_1 * ok_1).sum(1), ok_1.sum(1), out=np.zeros(n), where=ok_1.sum(1) > 0)
    return mae, mse


def pinball(actual: np.ndarray, quantile: np.ndarray, p: float) -> np.ndarray:
    """Elementwise pinball loss of quantile level `p`."""
    diff = actual - quantile
    return np.maximum(p * diff, (p - 1) * diff)


def series_stats(
    actual: np.ndarray,
    yhat: np.ndarray,
    mae_scale: np.ndarray,
    mse_scale: np.ndarray,
    quantiles: dict[float, np.ndarray] | None = None,
    intervals: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, np.ndarray]:
    """Per-series statistics (each (n,)) of one forecast against actuals (both (n, h))."""
    err = yhat - actual
    h = actual.shape[1]
    mae = np.abs(err).mean(1)
    mse = (err**2).mean(1)
    out = {
        "n_periods": np.full(actual.shape[0], h, dtype=np.float64),
        "abs_err": np.abs(err).sum(1),
        "err": err.sum(1),
        "actual": actual.sum(1),
        "mase": np.where(mae_scale > 0, mae / np.where(mae_scale > 0, mae_scale, 1), np.nan),
        "rmsse": np.where(
            mse_scale > 0, np.sqrt(mse / np.where(mse_scale > 0, mse_scale, 1)), np.nan
        ),
    }
    if quantiles:
        loss = np.mean([pinball(actual, q, p).sum(1) for p, q in quantiles.items()], axis=0)
        out["pinball"] = loss
    else:
        out["pinball"] = np.full(actual.shape[0], np.nan)
    for level in (80, 95):
        if intervals and level in intervals:
            lo, hi = intervals[level]
            out[f"cover_{level}"] = ((actual >= lo - 1e-9) & (actual <= hi + 1e-9)).sum(1) * 1.0
        else:
            out[f"cover_{level}"] = np.full(actual.shape[0], np.nan)
    return out


def pool(stats: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Pooled metrics per group of `by` from per-series rows with `STAT_COLUMNS`."""
    act = pl.col("actual").sum()
    return stats.group_by(by, maintain_order=True).agg(
        pl.len().alias("n_series"),
        (pl.col("abs_err").sum() / act).alias("wape"),
        pl.col("mase").filter(pl.col("mase").is_finite()).mean().alias("mase"),
        pl.col("rmsse").filter(pl.col("rmsse").is_finite()).mean().alias("rmsse"),
        (pl.col("err").sum() / act).alias("bias"),
        (pl.col("pinball").sum() / act).alias("pinball"),
        (pl.col("cover_80").sum() / pl.col("n_periods").sum()).alias("coverage_80"),
        (pl.col("cover_95").sum() / pl.col("n_periods").sum()).alias("coverage_95"),
    )
