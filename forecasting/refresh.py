"""Refresh jobs of the forecaster: a forecast run and a one-window backtest with quick settings.

Called by the refresh pipeline (`services.pipeline`); the CLI offers the full options.
"""

from __future__ import annotations

import datetime as dt
import logging
import os

from forecasting.backtest import BacktestConfig, run_backtest, save_backtest
from forecasting.data import STEP_DAYS, last_sale_day
from forecasting.engine import EngineConfig
from forecasting.errors import ForecastInputError, NotEnoughHistoryError
from forecasting.outputs import history_periods, too_little_history
from forecasting.run import RunConfig, run_forecast

#: Forecast horizon (periods) of the refresh per frequency, when the history allows it: four
#: weeks of days; half a year of weeks. The one-window backtest looks back `BACKTEST_HORIZON`.
REFRESH_HORIZON = {"D": 28, "W": 26}
BACKTEST_HORIZON = {"D": 28, "W": 8}
#: Prophet series of the refresh: quick enough for `make run`.
REFRESH_PROPHET_SERIES = 10


def fitted_horizon(frequency: str, periods: int, wanted: dict[str, int], spans: int) -> int:
    """The longest horizon up to `wanted[frequency]` whose `spans` horizons fit in `periods` of
    history (a forecast needs two: one to fit, one to calibrate; a backtest three); at least 1.

    Raises NotEnoughHistoryError when the history holds fewer than `spans` periods.
    """
    short = too_little_history(frequency, periods, spans)
    if short:
        raise NotEnoughHistoryError(short)
    return min(wanted[frequency], periods // spans)


def quiet_logging() -> None:
    """Warnings only, and silence the chatty cmdstanpy and Prophet loggers."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.ERROR)


def forecast_latest(db: str | os.PathLike[str]) -> str | None:
    """Forecast every active series from the last sale, `REFRESH_HORIZON` periods ahead or as
    far as the history allows (`fitted_horizon`); returns a note for the log when shorter."""
    quiet_logging()
    frequency, periods = history_periods(db)
    h = fitted_horizon(frequency, periods, REFRESH_HORIZON, 2)
    engine = EngineConfig(horizon=h, prophet_series=REFRESH_PROPHET_SERIES)
    run_forecast(db, RunConfig(engine=engine))
    if h == REFRESH_HORIZON[frequency]:
        return None
    unit = "day" if frequency == "D" else "week"
    return f"{_count(h, unit)} ahead (history of {_count(periods, unit)} allows no more)"


def _count(n: int, unit: str) -> str:
    """'1 week', '3 weeks'."""
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def backtest_last_window(db: str | os.PathLike[str]) -> None:
    """One window ending `horizon` periods before the last sale (so actuals exist); saved."""
    quiet_logging()
    last = last_sale_day(db)
    if last is None:
        raise ForecastInputError(f"{db}: no sales to backtest on")
    frequency, periods = history_periods(db)
    h = fitted_horizon(frequency, periods, BACKTEST_HORIZON, 3)  # fit, calibrate, then scored
    until = last - dt.timedelta(days=STEP_DAYS[frequency] * h)
    cfg = BacktestConfig(
        until=until,
        windows=1,
        engine=EngineConfig(horizon=h, prophet_series=REFRESH_PROPHET_SERIES),
    )
    save_backtest(db, run_backtest(db, cfg, progress=False), cfg)
