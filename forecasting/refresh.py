"""Refresh jobs of the forecaster: a forecast run and a one-window backtest with quick settings.

Called by the refresh pipeline (`services.pipeline`); the CLI offers the full options.
"""

from __future__ import annotations

import datetime as dt
import logging
import os

from forecasting.backtest import BacktestConfig, run_backtest, save_backtest
from forecasting.data import STEP_DAYS, last_sale_day, warehouse_frequency
from forecasting.engine import EngineConfig
from forecasting.errors import ForecastInputError
from forecasting.run import RunConfig, run_forecast

#: Forecast horizon (periods) and Prophet series of the refresh: quick enough for `make run`.
REFRESH_HORIZON = 28
REFRESH_PROPHET_SERIES = 10


def quiet_logging() -> None:
    """Warnings only, and silence the chatty cmdstanpy and Prophet loggers."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.ERROR)


def forecast_latest(db: str | os.PathLike[str]) -> None:
    """Forecast every active series from the last sale, `REFRESH_HORIZON` periods ahead."""
    quiet_logging()
    engine = EngineConfig(horizon=REFRESH_HORIZON, prophet_series=REFRESH_PROPHET_SERIES)
    run_forecast(db, RunConfig(engine=engine))


def backtest_last_window(db: str | os.PathLike[str]) -> None:
    """One window ending `horizon` periods before the last sale (so actuals exist); saved."""
    quiet_logging()
    last = last_sale_day(db)
    if last is None:
        raise ForecastInputError(f"{db}: no sales to backtest on")
    frequency = warehouse_frequency(db)
    h = REFRESH_HORIZON if frequency == "D" else 8
    until = last - dt.timedelta(days=STEP_DAYS[frequency] * h)
    cfg = BacktestConfig(
        until=until,
        windows=1,
        engine=EngineConfig(horizon=h, prophet_series=REFRESH_PROPHET_SERIES),
    )
    save_backtest(db, run_backtest(db, cfg, progress=False), cfg)
