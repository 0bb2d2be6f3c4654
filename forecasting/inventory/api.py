"""Inventory read API used by the app: the reorder plan, what to order, simulation results.

Purchase orders (grouped per supplier x store) are built and written in one place:
`forecasting.inventory.orders`.
"""

from __future__ import annotations

import os

import polars as pl

from forecasting.errors import NoPlanError
from forecasting.inventory.schemas import (
    REORDER_PLAN_SCHEMA,
    SIMULATION_SUMMARY_SCHEMA,
    STOCK_VIEW_SCHEMA,
)
from warehouse.contracts import validate
from warehouse.db import reading, run_named, table_exists


def _plan_query(
    db: str | os.PathLike[str] | None, name: str, params: dict[str, object] | None = None
) -> pl.DataFrame:
    with reading(db) as con:
        if not table_exists(con, "reorder_plan"):
            raise NoPlanError()
        return run_named(con, name, params)


def load_reorder_plan(db: str | os.PathLike[str] | None) -> pl.DataFrame:
    """The whole `reorder_plan` table, most urgent first. Raises NoPlanError without a plan."""
    frame = _plan_query(db, "inventory/reorder_plan")
    return validate(frame, REORDER_PLAN_SCHEMA, "inventory.api.load_reorder_plan", extra="allow")


def plan_row(db: str | os.PathLike[str] | None, store_id: str, product_id: str) -> pl.DataFrame:
    """One store x product's row of the plan (no row when it is not planned)."""
    frame = _plan_query(db, "inventory/plan_row", {"store_id": store_id, "product_id": product_id})
    return validate(frame, REORDER_PLAN_SCHEMA, "inventory.api.plan_row", extra="allow")


def what_to_order(
    db: str | os.PathLike[str] | None, store_id: str | None = None, category: str | None = None
) -> pl.DataFrame:
    """Rows with suggested_order_qty > 0 (optionally one store / category), most urgent first."""
    frame = _plan_query(db, "inventory/what_to_order", {"store_id": store_id, "category": category})
    return validate(frame, REORDER_PLAN_SCHEMA, "inventory.api.what_to_order", extra="allow")


def simulation_summary(db: str | os.PathLike[str] | None) -> pl.DataFrame:
    """Overall simulation rows (policy, target, cycle_service_level, fill_rate, ...).

    Empty frame when no simulation has been run yet.
    """
    with reading(db) as con:
        if not table_exists(con, "simulation_results"):
            return pl.DataFrame(schema=SIMULATION_SUMMARY_SCHEMA)
        frame = run_named(con, "inventory/simulation_summary")
    return validate(
        frame, SIMULATION_SUMMARY_SCHEMA, "inventory.api.simulation_summary", extra="allow"
    )


def stock_view(db: str | os.PathLike[str] | None, store_id: str, product_id: str) -> pl.DataFrame:
    """Stock history of one pair with the plan's levels: date, on_hand_units, reorder_point,
    order_up_to (levels are null when the pair is not in the plan)."""
    with reading(db) as con:
        if not table_exists(con, "reorder_plan"):
            raise NoPlanError()
        history = run_named(
            con, "inventory/stock_history", {"store_id": store_id, "product_id": product_id}
        )
        plan = run_named(
            con, "inventory/plan_row", {"store_id": store_id, "product_id": product_id}
        )
    s = plan["reorder_point"][0] if plan.height else None
    up_to = plan["order_up_to"][0] if plan.height else None
    frame = history.select(
        "date",
        "on_hand_units",
        pl.lit(s, dtype=pl.Float64).alias("reorder_point"),
        pl.lit(up_to, dtype=pl.Float64).alias("order_up_to"),
    )
    return validate(frame, STOCK_VIEW_SCHEMA, "inventory.api.stock_view")
