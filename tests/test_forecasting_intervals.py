"""Conformal intervals: the residual scale reads the mean model's level; each horizon bucket's
residuals are also read at the window's median (issue #13)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from forecasting.data import Panel, build_panel
from forecasting.engine import AUTO, MEAN_MODEL, EngineConfig, forecast_panel
from forecasting.intervals import (
    BUCKETS_AT_MEDIAN,
    ConformalTable,
    conformal,
    horizon_buckets,
    interval,
    mean_forecasts,
    recentred_quantiles,
)
from forecasting.models.lgbm import LightGBMConfig

FAST = LightGBMConfig(n_estimators=30, max_rows=20_000, num_threads=1)


def _weekly_panel(n: int, weeks: int, seed: int) -> Panel:
    rng = np.random.default_rng(seed)
    d0 = dt.date(2022, 1, 7)
    rows = [
        ("S", f"P{i}", d0 + dt.timedelta(weeks=w), float(rng.poisson(rng.uniform(3, 20))))
        for i in range(n)
        for w in range(weeks)
    ]
    hist = pl.DataFrame(rows, schema=["store_id", "product_id", "ds", "y"], orient="row")
    return build_panel(hist, "W", d0 + dt.timedelta(weeks=weeks - 1), horizon=8)


def _lumpy(rng: np.random.Generator, mean: np.ndarray, h: int) -> np.ndarray:
    """(n, h) wholesale-like demand: Poisson orders of 5 units, `mean` (n,) units a period."""
    return 5.0 * rng.poisson(np.repeat(mean[:, None] / 5, h, axis=1))


def test_growing_lumpy_demand_is_covered_when_the_scale_reads_the_mean_models_level() -> None:
    """A median model forecasts ~0 for lumpy series and misses their growth; with the scale of
    its own level the intervals stay as narrow as in the calibration window and under-cover
    the doubled demand; the mean model's level (which saw the growth) widens them."""
    rng = np.random.default_rng(0)
    n, h = 2000, 4
    level = rng.uniform(1, 20, n)
    actual_cal = _lumpy(rng, level, h)
    actual = _lumpy(rng, 2 * level, h)  # the level doubles after the cutoff
    median_cal = median_fut = np.zeros((n, h))  # the chosen (median) model: mostly no order
    mean_cal = np.repeat(level[:, None], h, axis=1)
    mean_fut = 2 * mean_cal
    panel = _weekly_panel(2, 20, 1)
    args = (panel, 19, actual_cal, median_cal, median_fut, level, level, horizon_buckets(h, "W"))
    probs = [0.1, 0.5, 0.9]
    own_q, own_method = conformal(*args, probs)
    mean_q, mean_method = conformal(*args, probs, 1, mean_cal, mean_fut)
    assert "mean model" not in own_method
    assert mean_method.endswith("scale from the mean model's level")
    own_lo, own_hi = interval(own_q, median_fut, 80)
    mean_lo, mean_hi = interval(mean_q, median_fut, 80)
    assert (mean_hi > own_hi).mean() > 0.9
    own_cover = ((actual >= own_lo) & (actual <= own_hi)).mean()
    mean_cover = ((actual >= mean_lo) & (actual <= mean_hi)).mean()
    assert own_cover < 0.6 and 0.7 <= mean_cover <= 0.9  # seed 0: 0.52 and 0.75


def test_mean_forecasts_skip_a_subset_model_and_blank_the_failed_series() -> None:
    rows, n, h = np.arange(3), 3, 2
    cal = np.arange(12.0).reshape(6, h)  # two validation windows
    fut = np.array([[1.0, 1.0], [np.nan, np.nan], [2.0, 2.0]])
    got_cal, got_fut = mean_forecasts((rows, cal, fut, 0.0), n)
    assert got_cal is not None and got_fut is not None
    assert np.isnan(got_cal[[1, 4]]).all() and np.isfinite(np.delete(got_cal, [1, 4], 0)).all()
    assert mean_forecasts(None, n) == (None, None)
    assert mean_forecasts((rows[:2], cal[:4], fut[:2], 0.0), n) == (None, None)


def test_the_engine_says_its_intervals_read_the_mean_models_level_and_the_windows_median() -> None:
    panel = _weekly_panel(20, 40, 2)  # 160 residuals: conformal, not model-based
    end = panel.y.shape[1] - 1
    res = forecast_panel(panel, end, EngineConfig(horizon=8, prophet_series=0, lightgbm=FAST))
    assert MEAN_MODEL in res.forecasts
    assert "scale from the mean model's level" in res.calibration
    assert BUCKETS_AT_MEDIAN in res.calibration
    lo, hi = res.forecasts[AUTO].interval(80)
    assert (lo <= res.forecasts[AUTO].yhat).all() and (hi > lo).any()


def test_recentred_quantiles_pool_the_bucket_with_itself_moved_to_the_windows_median() -> None:
    vals = np.array([[1.0, 2.0], [3.0, 4.0]])  # median 2.5
    got = recentred_quantiles(vals, 0.5, [0.0, 0.5, 1.0])
    pooled = np.array([1.0, 2.0, 3.0, 4.0, -1.0, 0.0, 1.0, 2.0])  # vals - 2.5 + 0.5
    assert np.allclose(got, np.quantile(pooled, [0.0, 0.5, 1.0]))
    same = recentred_quantiles(vals, 2.5, [0.1, 0.9])  # the bucket already at the median
    assert np.allclose(same, np.quantile(np.tile(vals.ravel(), 2), [0.1, 0.9]))


def test_a_bucket_whose_bias_differs_from_the_window_is_widened_towards_the_window() -> None:
    """One horizon bucket over-forecast in the window (a season turning inside it), the others
    not: its interval reaches half-way back to the window's median, so a bias that does not
    repeat after the cutoff is covered; the other buckets keep their own quantiles."""
    rng = np.random.default_rng(3)
    n, h = 1500, 8
    buckets = horizon_buckets(h, "W")
    noise = rng.normal(0, 1, (n, h))
    shift = np.where(buckets == 0, -2.0, 0.0)  # the first week: 2 below the forecast in the window
    actual, yhat = noise + shift + 10, np.full((n, h), 10.0)
    scale, group = np.ones(n), np.full(n, "scale q1")
    probs = [0.1, 0.5, 0.9]
    table = ConformalTable.fit(actual, yhat, scale, group, buckets, probs, "scale group")
    assert table.method.endswith(BUCKETS_AT_MEDIAN)
    first, last = table.table[("scale q1", 0)], table.table[("scale q1", int(buckets[-1]))]
    assert first[2] > 0.5 and first[0] < -2.5  # reaches up towards the window's median (~0)
    assert abs(last[1]) < 0.15 and 1.1 < last[2] < 1.5  # already near the median: ~N(0, 1)
    fresh = rng.normal(0, 1, (n, 1)) + 10  # after the cutoff the first week's bias is gone
    q = table.apply(np.full((n, 1), 10.0), scale, group, np.zeros(1, dtype=int))
    lo, hi = interval(q, np.full((n, 1), 10.0), 80)
    cover = ((fresh >= lo) & (fresh <= hi)).mean()
    assert cover > 0.6, cover  # its own quantiles alone (-3.3, -0.7): about 0.23
