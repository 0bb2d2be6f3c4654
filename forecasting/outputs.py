"""Whether the forecaster's and the inventory optimizer's outputs exist in a warehouse.

Light on purpose (no model, no scipy): the app's sidebar asks on every page run, and the
pipeline's steps use the same checks (`services.freshness.OUTPUT_CHECKS`).
"""

from __future__ import annotations

import os

from forecasting.data import STEP_DAYS
from warehouse.db import WarehouseError, has_rows, reading, run_named, scalar, table_exists


def history_periods(db: str | os.PathLike[str]) -> tuple[str, int]:
    """(frequency 'D' or 'W', periods of sales history from the first to the last sale; 0 when
    there are no sales)."""
    with reading(db) as con:
        if not table_exists(con, "fct_sales_daily"):
            return "D", 0
        frequency = str(run_named(con, "forecasting/frequency")["frequency"][0])
        first, last = run_named(con, "forecasting/bounds").row(0)
    if first is None or last is None:
        return frequency, 0
    return frequency, (last - first).days // STEP_DAYS[frequency] + 1


def too_little_history(frequency: str, periods: int, spans: int) -> str | None:
    """Why `periods` of sales (at `frequency`) cannot feed a forecast needing `spans` horizons
    of at least one period (two: one to fit, one to calibrate), or None."""
    if periods >= spans:
        return None
    unit = ("day" if frequency == "D" else "week") + ("" if periods == 1 else "s")
    return f"{periods} {unit} of sales: too little history to learn from (at least {spans})"


def history_too_short(db: str | os.PathLike[str], spans: int = 2) -> str | None:
    """`too_little_history` of the warehouse file `db`."""
    return too_little_history(*history_periods(db), spans)


def has_forecasts(db: str | os.PathLike[str]) -> bool:
    """Whether the warehouse holds forecast rows."""
    return has_rows(db, "forecasts")


def has_backtest(db: str | os.PathLike[str]) -> bool:
    """Whether the warehouse holds backtest results."""
    return has_rows(db, "backtest_results")


def plan_exists(db: str | os.PathLike[str]) -> bool:
    """Whether the warehouse holds a non-empty reorder plan."""
    try:
        with reading(db) as con:
            return table_exists(con, "reorder_plan") and bool(
                scalar(con, "select count(*) > 0 from reorder_plan")
            )
    except WarehouseError:
        return False


def simulation_done(db: str | os.PathLike[str]) -> bool:
    """Whether the warehouse has a `simulation_results` table (False when it cannot be read)."""
    try:
        with reading(db) as con:
            return table_exists(con, "simulation_results")
    except Exception:  # noqa: BLE001 - an unreadable warehouse has no simulation to keep
        return False
