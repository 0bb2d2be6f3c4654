"""Read side of forecasting for the app and the inventory optimizer (docs/CONTRACTS.md).

All functions take the warehouse path and open it read-only; they raise `NoForecastError` when
`python -m forecasting run` has not been run on this warehouse.
"""

from __future__ import annotations

import os

import duckdb
import polars as pl

from forecasting.errors import NoForecastError
from forecasting.schemas import (
    BACKTEST_TABLE_SCHEMA,
    DRIVER_VIEW_SCHEMA,
    FORECAST_VIEW_SCHEMA,
    HISTORY_VIEW_SCHEMA,
)
from warehouse.contracts import validate
from warehouse.db import reading, row_count, run_named, table_exists

ForecastFilter = str | None


def require_forecasts(con: duckdb.DuckDBPyConnection) -> None:
    """Raise `NoForecastError` unless the warehouse has a non-empty `forecasts` table."""
    if not row_count(con, "forecasts"):
        raise NoForecastError()


def _filters(
    store_id: ForecastFilter, product_id: ForecastFilter, category: ForecastFilter
) -> dict[str, str | None]:
    return {"store_id": store_id, "product_id": product_id, "category": category}


def load_forecast(
    db: str | os.PathLike[str],
    store_id: ForecastFilter = None,
    product_id: ForecastFilter = None,
    category: ForecastFilter = None,
) -> pl.DataFrame:
    """Forecast per date, summed bottom-up over the matching series.

    Returns:
        date, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95, yhat_hi_95 (units/period), model
        ('mixed' when the series use different models). Roll-up intervals assume independent
        series errors. Empty when nothing matches.
    """
    with reading(db) as con:
        require_forecasts(con)
        frame = run_named(con, "forecasting/forecast", _filters(store_id, product_id, category))
    return validate(frame, FORECAST_VIEW_SCHEMA, "forecasting.api.load_forecast")


def load_forecast_rows(db: str | os.PathLike[str]) -> pl.DataFrame:
    """Every row of the latest run (`forecasts` table), for the inventory optimizer."""
    with reading(db) as con:
        require_forecasts(con)
        return run_named(con, "forecasting/export")


def load_history(
    db: str | os.PathLike[str],
    store_id: ForecastFilter = None,
    product_id: ForecastFilter = None,
    category: ForecastFilter = None,
) -> pl.DataFrame:
    """Units sold per date (date, units) for the matching series (days without sales absent)."""
    with reading(db) as con:
        frame = run_named(con, "forecasting/history_view", _filters(store_id, product_id, category))
    return validate(frame, HISTORY_VIEW_SCHEMA, "forecasting.api.load_history")


def backtest_summary(db: str | os.PathLike[str]) -> pl.DataFrame:
    """The `backtest_results` table (no rows when no backtest has run)."""
    with reading(db) as con:
        if not table_exists(con, "backtest_results"):
            return pl.DataFrame(schema=BACKTEST_TABLE_SCHEMA)
        frame = run_named(con, "forecasting/backtest_summary")
    return validate(frame, BACKTEST_TABLE_SCHEMA, "forecasting.api.backtest_summary")


def forecast_drivers(db: str | os.PathLike[str], store_id: str, product_id: str) -> pl.DataFrame:
    """(driver, contribution) of one series' next-period forecast, in units.

    Contributions come from LightGBM `pred_contrib`, grouped into readable drivers
    (`forecasting.features.DRIVER_GROUPS`); stored for the 3,000 series with the largest
    forecast volume of the run; empty for other series or when LightGBM did not run.
    """
    with reading(db) as con:
        require_forecasts(con)
        frame = run_named(
            con, "forecasting/drivers", {"store_id": store_id, "product_id": product_id}
        )
    return validate(frame, DRIVER_VIEW_SCHEMA, "forecasting.api.forecast_drivers")


def latest_run(db: str | os.PathLike[str]) -> dict[str, object]:
    """The latest row of `forecast_runs` as a dict."""
    with reading(db) as con:
        require_forecasts(con)
        rows = run_named(con, "forecasting/latest_run")
    return rows.to_dicts()[0] if rows.height else {}
