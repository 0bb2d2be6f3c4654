"""Backtest on real store-item data: every model in one table, and LightGBM beats the baselines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from forecasting.backtest import BacktestConfig, run_backtest
from forecasting.engine import EngineConfig
from forecasting.models.lgbm import LightGBMConfig


def _row(table: pl.DataFrame, model: str, segment: str = "all", freq: str = "D") -> dict:
    return table.filter(
        pl.col("model") == model, pl.col("segment") == segment, pl.col("frequency") == freq
    ).row(0, named=True)


def test_backtest_table_on_the_store_item_sample(store_item_sample_db: Path) -> None:
    db = store_item_sample_db
    cfg = BacktestConfig(
        until=dt.date(2017, 9, 30),
        windows=1,
        engine=EngineConfig(
            horizon=28,
            prophet_series=2,
            lightgbm=LightGBMConfig(n_estimators=60, max_rows=30_000, num_threads=1),
        ),
    )
    report = run_backtest(db, cfg, progress=False)
    table = report.table
    models = set(table["model"])
    assert {
        "seasonal_naive",
        "moving_average",
        "croston_sba",
        "tsb",
        "ets",
        "lightgbm",
        "prophet",
        "auto",
    } <= models
    assert {"all", "smooth", "prophet_subset"} <= set(table["segment"])
    assert set(table["frequency"]) == {"D", "W"}
    naive, lgbm = _row(table, "seasonal_naive"), _row(table, "lightgbm")
    assert lgbm["wape"] < naive["wape"]
    assert lgbm["n_series"] == 6
    assert 0.5 < _row(table, "auto")["coverage_80"] <= 1.0
    assert report.windows[0]["cutoff"] == "2017-09-30"


def test_backtest_refuses_a_window_without_actuals(store_item_sample_db: Path) -> None:
    db = store_item_sample_db
    with pytest.raises(Exception, match="--until 2017-12-20 --horizon 28"):
        run_backtest(
            db,
            BacktestConfig(until=dt.date(2017, 12, 20), engine=EngineConfig(horizon=28)),
            progress=False,
        )


@pytest.mark.heavy
def test_backtest_targets_on_the_full_store_item_panel(request: pytest.FixtureRequest) -> None:
    from tests.conftest import HEAVY

    if not HEAVY:
        pytest.skip("full store-item backtest: set SHELFWISE_HEAVY=1")
    db = request.getfixturevalue("store_item_panel_db")
    report = run_backtest(
        db,
        BacktestConfig(until=dt.date(2017, 9, 30), windows=2, engine=EngineConfig(horizon=90)),
        progress=False,
    )
    auto, naive = _row(report.table, "auto"), _row(report.table, "seasonal_naive")
    assert auto["wape"] <= 0.9 * naive["wape"]
    assert (
        _row(report.table, "auto", "prophet_subset")["wape"]
        < _row(report.table, "prophet", "prophet_subset")["wape"]
    )
    assert abs(auto["coverage_80"] - 0.8) <= 0.05
