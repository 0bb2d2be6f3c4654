"""Data contracts of the inventory read API (`forecasting.inventory.api`): polars schemas.

docs/CONTRACTS.md lists the same columns; `tests/test_contracts.py` keeps the two in step.
"""

from __future__ import annotations

import polars as pl

#: The `reorder_plan` table (and `what_to_order`, its rows to order), in stored order.
REORDER_PLAN_SCHEMA: dict[str, pl.DataType] = {
    "store_id": pl.String(),
    "product_id": pl.String(),
    "description": pl.String(),
    "category": pl.String(),
    "as_of": pl.Date(),
    "on_hand": pl.Float64(),
    "on_order": pl.Float64(),
    "reorder_point": pl.Float64(),
    "safety_stock": pl.Float64(),
    "order_up_to": pl.Float64(),
    "order_qty": pl.Float64(),
    "suggested_order_qty": pl.Float64(),
    "days_of_cover": pl.Float64(),
    "stockout_risk": pl.Float64(),
    "mean_daily_demand": pl.Float64(),
    "service_target": pl.Float64(),
    "target_basis": pl.String(),
    "policy": pl.String(),
    "demand_source": pl.String(),
    "unit_cost": pl.Float64(),
    "order_value": pl.Float64(),
    "reason": pl.String(),
}

#: `simulation_summary`: the overall rows of the `simulation_results` table.
SIMULATION_SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "policy": pl.String(),
    "target": pl.Float64(),
    "scope": pl.String(),
    "cycle_service_level": pl.Float64(),
    "fill_rate": pl.Float64(),
    "avg_on_hand_units": pl.Float64(),
    "stockout_days": pl.Int64(),
    "orders": pl.Int64(),
    "until": pl.Date(),
    "days": pl.Int32(),
    "demand_mode": pl.String(),
}

#: `stock_view`: one store x product's stock with the plan's levels (null when not planned).
STOCK_VIEW_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "on_hand_units": pl.Float64(),
    "reorder_point": pl.Float64(),
    "order_up_to": pl.Float64(),
}
