"""Data contracts of the dashboard reads (`services.dashboard`): polars schemas.

docs/CONTRACTS.md lists the same columns; `tests/test_contracts.py` keeps the two in step.
"""

from __future__ import annotations

import polars as pl

TREND_SCHEMA: dict[str, pl.DataType] = {
    "period_start": pl.Date(),
    "revenue": pl.Float64(),
    "units": pl.Float64(),
}
MOVERS_SCHEMA: dict[str, pl.DataType] = {
    "direction": pl.String(),
    "product_id": pl.String(),
    "description": pl.String(),
    "category": pl.String(),
    "measure": pl.String(),
    "revenue": pl.Float64(),
    "previous_revenue": pl.Float64(),
    "units": pl.Float64(),
    "previous_units": pl.Float64(),
    "change": pl.Float64(),
    "change_pct": pl.Float64(),
}
BREAKDOWN_SCHEMA: dict[str, pl.DataType] = {
    "label": pl.String(),
    "revenue": pl.Float64(),
    "units": pl.Float64(),
    "revenue_share": pl.Float64(),
    "units_share": pl.Float64(),
}
SEASONALITY_SCHEMA: dict[str, pl.DataType] = {
    "week_start": pl.Date(),
    "day_of_week": pl.Int64(),
    "day_name": pl.String(),
    "revenue": pl.Float64(),
    "units": pl.Float64(),
}
PRODUCTS_SCHEMA: dict[str, pl.DataType] = {
    "product_id": pl.String(),
    "label": pl.String(),
    "category": pl.String(),
    "revenue": pl.Float64(),
}
PRODUCT_HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "sale_date": pl.Date(),
    "units": pl.Float64(),
    "revenue": pl.Float64(),
    "avg_unit_price": pl.Float64(),
}
PRODUCT_STOCK_SCHEMA: dict[str, pl.DataType] = {
    "snapshot_date": pl.Date(),
    "on_hand_units": pl.Float64(),
    "on_order_units": pl.Float64(),
}
CUSTOMER_SEARCH_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "segment": pl.String(),
    "region": pl.String(),
    "home_store_id": pl.String(),
    "orders": pl.Int64(),
    "last_order_at": pl.Datetime("us"),
}
SEGMENTS_SCHEMA: dict[str, pl.DataType] = {"segment": pl.String(), "customers": pl.Int64()}
SCHEMA_TABLES_SCHEMA: dict[str, pl.DataType] = {
    "table_name": pl.String(),
    "kind": pl.String(),
    "rows": pl.Int64(),
    "columns": pl.Int64(),
}
SCHEMA_COLUMNS_SCHEMA: dict[str, pl.DataType] = {
    "table_name": pl.String(),
    "column_name": pl.String(),
    "data_type": pl.String(),
    "position": pl.Int32(),
}
LOAD_LOG_SCHEMA: dict[str, pl.DataType] = {
    "load_id": pl.String(),
    "kind": pl.String(),
    "source": pl.String(),
    "file": pl.String(),
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
    "rows_read": pl.Int64(),
    "rows_accepted": pl.Int64(),
    "rows_added": pl.Int64(),
    "rows_already_loaded": pl.Int64(),
    "rows_quarantined": pl.Int64(),
    "quarantine_reasons": pl.String(),
}
QUARANTINE_SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "reason": pl.String(),
    "rows": pl.Int64(),
    "example_record": pl.String(),
    "file": pl.String(),
}
MODEL_VERSIONS_SCHEMA: dict[str, pl.DataType] = {
    "package": pl.String(),
    "version": pl.String(),
    "created_at": pl.Datetime("us"),
    "files": pl.String(),
    "details": pl.String(),
}
