"""Leakage: no feature (and no LightGBM forecast) may change when the future changes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from forecasting.data import build_panel
from forecasting.features import (
    FEATURE_NAMES,
    PanelStats,
    blank_unseen_year_ago,
    build_features,
    months_with_year_ago,
)
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


def test_year_ago_features_are_blanked_for_months_the_model_never_saw_them_in() -> None:
    """A weekly panel of 70 weeks from 2023-01-02: training targets have a year-ago value only
    from January 2024 on; forecasting from mid-2024 into the autumn reads no year-ago value
    for months outside that set (issue #13, store-item short histories)."""
    rng = np.random.default_rng(3)
    y = rng.poisson(20.0, size=(6, 80)).astype(float) + 1
    panel = _panel(y, "W")
    end = 69  # 2024-05-06
    model = LightGBMGlobal(
        LightGBMConfig(horizon=26, history=80, n_estimators=10, max_rows=5000, num_threads=1)
    ).fit(panel, end)
    seen = set(model.year_ago_months)
    assert seen and seen <= set(range(1, 6))  # targets with a year-ago value: Jan..May 2024
    x, _ = model._prediction_features(26)
    month = x[:, FEATURE_NAMES.index("month")]
    ly = x[:, FEATURE_NAMES.index("last_year")]
    unseen = ~np.isin(month, sorted(seen))
    assert unseen.any() and np.isnan(ly[unseen]).all()
    raw = _features(panel, end, 26)
    assert np.isfinite(raw[unseen, FEATURE_NAMES.index("last_year")]).any()  # it was there


def test_months_with_year_ago_and_blanking_on_a_hand_made_matrix() -> None:
    x = np.zeros((4, len(FEATURE_NAMES)), dtype=np.float32)
    x[:, FEATURE_NAMES.index("month")] = [1, 2, 3, 3]
    x[:, FEATURE_NAMES.index("last_year")] = [5.0, np.nan, 7.0, 1.0]
    x[:, FEATURE_NAMES.index("last_year_window")] = 2.0
    assert months_with_year_ago(x) == (1, 3)
    out = blank_unseen_year_ago(x.copy(), (1,))
    assert np.isnan(out[2:, FEATURE_NAMES.index("last_year_window")]).all()
    assert out[0, FEATURE_NAMES.index("last_year")] == 5.0
