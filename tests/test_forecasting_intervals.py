"""Conformal intervals: the residual scale reads the mean model's level (issue #13)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from forecasting.data import Panel, build_panel
from forecasting.engine import AUTO, MEAN_MODEL, EngineConfig, forecast_panel
from forecasting.intervals import conformal, horizon_buckets, interval, mean_forecasts
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


def test_the_engine_says_its_intervals_read_the_mean_models_level() -> None:
    panel = _weekly_panel(20, 40, 2)  # 160 residuals: conformal, not model-based
    end = panel.y.shape[1] - 1
    res = forecast_panel(panel, end, EngineConfig(horizon=8, prophet_series=0, lightgbm=FAST))
    assert MEAN_MODEL in res.forecasts
    assert "scale from the mean model's level" in res.calibration
    lo, hi = res.forecasts[AUTO].interval(80)
    assert (lo <= res.forecasts[AUTO].yhat).all() and (hi > lo).any()
