"""Whether the forecaster's and the inventory optimizer's outputs exist in a warehouse.

Light on purpose (no model, no scipy): the app's sidebar asks on every page run, and the
pipeline's steps use the same checks (`services.freshness.OUTPUT_CHECKS`).
"""

from __future__ import annotations

import os

from warehouse.db import WarehouseError, has_rows, reading, scalar, table_exists


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
