"""Metrics worked out by hand."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from forecasting.metrics import insample_scales, pinball, pool, series_stats


def test_pinball_by_hand() -> None:
    assert pinball(np.array([10.0]), np.array([8.0]), 0.9)[0] == pytest.approx(1.8)
    assert pinball(np.array([10.0]), np.array([12.0]), 0.9)[0] == pytest.approx(0.2)


def test_wape_mase_bias_coverage_by_hand() -> None:
    history = np.array([[1.0, 2, 3, 1, 2, 3]])
    mae, mse = insample_scales(history, np.array([0]), season=3)
    assert mae[0] == 0.0  # perfectly seasonal: MASE undefined for this series
    mae, mse = insample_scales(np.array([[1.0, 3, 2, 6]]), np.array([0]), season=1)
    assert mae[0] == pytest.approx((2 + 1 + 4) / 3)
    assert mse[0] == pytest.approx((4 + 1 + 16) / 3)
    actual = np.array([[4.0, 0.0, 6.0]])
    yhat = np.array([[5.0, 1.0, 3.0]])
    lo, hi = np.array([[3.0, 0.0, 4.0]]), np.array([[6.0, 0.5, 5.0]])
    stats = series_stats(actual, yhat, mae, mse, None, {80: (lo, hi)})
    table = pool(pl.DataFrame({"g": ["x"], **stats}), ["g"])
    row = table.row(0, named=True)
    assert row["wape"] == pytest.approx(5 / 10)
    assert row["bias"] == pytest.approx(-1 / 10)
    assert row["mase"] == pytest.approx((5 / 3) / (7 / 3))
    assert row["coverage_80"] == pytest.approx(2 / 3)  # 4 in [3, 6], 0 in [0, .5]; 6 > 5
