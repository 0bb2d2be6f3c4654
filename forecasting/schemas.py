"""Data contracts of the forecasting package (polars schemas at each boundary).

History comes in Nixtla's long format: `unique_id, ds, y` plus the store and product it maps
back to. Forecasts leave as the `forecasts` table of docs/CONTRACTS.md.
"""

from __future__ import annotations

import polars as pl

from forecasting.errors import ForecastInputError
from warehouse import contracts

#: Long-format history read from the warehouse: one row per store x product x period with sales.
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "store_id": pl.String(),
    "product_id": pl.String(),
    "ds": pl.Date(),
    "y": pl.Float64(),
}

#: Daily demand quantiles stored beside every forecast (probability -> column).
QUANTILES: dict[float, str] = {
    0.05: "q_05",
    0.10: "q_10",
    0.25: "q_25",
    0.50: "q_50",
    0.75: "q_75",
    0.90: "q_90",
    0.95: "q_95",
}

#: The `forecasts` table (units per period; non-negative; lo <= yhat <= hi).
FORECAST_SCHEMA: dict[str, pl.DataType] = {
    "store_id": pl.String(),
    "product_id": pl.String(),
    "date": pl.Date(),
    "model": pl.String(),
    "yhat": pl.Float64(),
    "yhat_lo_80": pl.Float64(),
    "yhat_hi_80": pl.Float64(),
    "yhat_lo_95": pl.Float64(),
    "yhat_hi_95": pl.Float64(),
    **{col: pl.Float64() for col in QUANTILES.values()},
    "run_id": pl.String(),
}

#: The `backtest_results` table.
BACKTEST_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    "segment": pl.String(),
    "frequency": pl.String(),
    "n_series": pl.Int64(),
    "wape": pl.Float64(),
    "mase": pl.Float64(),
    "rmsse": pl.Float64(),
    "bias": pl.Float64(),
    "pinball": pl.Float64(),
    "coverage_80": pl.Float64(),
    "coverage_95": pl.Float64(),
}

#: The `backtest_results` table as stored: the metrics plus the run's settings.
BACKTEST_TABLE_SCHEMA: dict[str, pl.DataType] = {
    **BACKTEST_SCHEMA,
    "until": pl.Date(),
    "horizon": pl.Int32(),
    "windows": pl.Int32(),
    "created_at": pl.Datetime("us"),
}

#: `forecasting.api.load_forecast`: one row per date, summed over the matching series.
FORECAST_VIEW_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "yhat": pl.Float64(),
    "yhat_lo_80": pl.Float64(),
    "yhat_hi_80": pl.Float64(),
    "yhat_lo_95": pl.Float64(),
    "yhat_hi_95": pl.Float64(),
    "model": pl.String(),
}

#: `forecasting.api.load_history`: units sold per date (days without sales absent).
HISTORY_VIEW_SCHEMA: dict[str, pl.DataType] = {"date": pl.Date(), "units": pl.Float64()}

#: `forecasting.api.forecast_drivers`: one series' drivers (units, from LightGBM contributions).
DRIVER_VIEW_SCHEMA: dict[str, pl.DataType] = {"driver": pl.String(), "contribution": pl.Float64()}

SEGMENTS: tuple[str, ...] = ("smooth", "intermittent", "lumpy", "erratic")


def validate(frame: pl.DataFrame, schema: dict[str, pl.DataType], what: str) -> pl.DataFrame:
    """`frame` with exactly `schema`'s columns, cast; raises ForecastInputError naming the column.

    Input side of `warehouse.contracts.validate`: columns beyond the schema are dropped.
    """
    return contracts.validate(frame, schema, what, extra="drop", error=ForecastInputError)
