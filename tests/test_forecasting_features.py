"""Leakage: no feature (and no LightGBM forecast) may change when the future changes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from forecasting.data import build_panel
from forecasting.features import FEATURE_NAMES, PanelStats, build_features
from forecasting.models.lgbm import LightGBMConfig, LightGBMGlobal


def _panel(y: np.ndarray, freq: str = "D"):
    n, t = y.shape
    step = 1 if freq == "D" else 7
    d0 = dt.date(2023, 1, 2)
    rows = [
        (f"S{i % 2}", f"P{i}", d0 + dt.timedelta(days=step * j), float(y[i, j]))
        for i in range(n)
        for j in range(t)
        if y[i, j] > 0
    ]
    hist = pl.DataFrame(rows, schema=["store_id", "product_id", "ds", "y"], orient="row")
    until = d0 + dt.timedelta(days=step * (t - 1))
    return build_panel(hist, freq, until, horizon=30)


def _features(panel, origin: int, h: int) -> np.ndarray:
    stats = PanelStats(panel)
    rows = np.repeat(np.arange(panel.n), h)
    origins = np.full(rows.size, origin)
    horizons = np.tile(np.arange(1, h + 1), panel.n)
    codes = np.zeros(panel.n, dtype=np.float32)
    x, _ = build_features(panel, stats, rows, origins, horizons, codes, codes)
    return x


def test_features_do_not_read_past_the_origin() -> None:
    rng = np.random.default_rng(0)
    y = rng.poisson(4.0, size=(6, 500)).astype(float) + 1
    origin, h = 430, 30
    before = _features(_panel(y), origin, h)
    changed = y.copy()
    changed[:, origin + 1 :] = rng.poisson(50.0, size=changed[:, origin + 1 :].shape) + 1
    after = _features(_panel(changed), origin, h)
    np.testing.assert_array_equal(np.isnan(before), np.isnan(after))
    same = np.nan_to_num(before) == np.nan_to_num(after)
    leaking = [FEATURE_NAMES[j] for j in np.flatnonzero(~same.all(axis=0))]
    assert leaking == []


def test_the_leakage_check_detects_a_feature_that_sees_the_change() -> None:
    """Guard for the test above: from a later origin the same change does move the features."""
    rng = np.random.default_rng(1)
    y = rng.poisson(4.0, size=(3, 500)).astype(float) + 1
    changed = y.copy()
    changed[:, 431:] += 100
    late = 440  # an origin after the change: recent-sales features must see it
    before, after = _features(_panel(y), late, 10), _features(_panel(changed), late, 10)
    moved = ~(np.nan_to_num(before) == np.nan_to_num(after)).all(axis=0)
    assert {"mean_short", "last_value"} <= {FEATURE_NAMES[j] for j in np.flatnonzero(moved)}


def test_lightgbm_forecast_ignores_data_after_the_cutoff() -> None:
    rng = np.random.default_rng(2)
    y = rng.poisson(3.0, size=(8, 420)).astype(float)
    end = 380
    cfg = LightGBMConfig(horizon=14, history=120, n_estimators=20, max_rows=5000, num_threads=1)
    first = LightGBMGlobal(cfg).fit(_panel(y), end).predict(14)
    changed = y.copy()
    changed[:, end + 1 :] = 200.0
    second = LightGBMGlobal(cfg).fit(_panel(changed), end).predict(14)
    np.testing.assert_allclose(first, second)
    assert np.isfinite(first).all() and (first >= 0).all()
