"""Read-side services of the warehouse: guarded ad-hoc SQL, info, KPIs for the app."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import duckdb
import polars as pl

from warehouse.build import MART_KEYS
from warehouse.db import run_named, scalar
from warehouse.sandbox import QueryResult, run_sandboxed

#: Date column of each mart shown by `info` (None: no date).
MART_DATE_COLUMNS: dict[str, str | None] = {
    "dim_date": "date_day",
    "dim_store": None,
    "dim_product": "last_sold_on",
    "dim_customer": "last_order_at",
    "fct_sales": "sold_at",
    "fct_promotion": "start_date",
    "fct_sales_daily": "sale_date",
    "fct_inventory": "snapshot_date",
    "dim_supply": None,
}


def run_readonly(
    db: str | os.PathLike[str] | None, sql: str, *, max_rows: int = 1000, timeout_s: float = 30.0
) -> QueryResult:
    """Run one read-only statement in the SQL sandbox (`warehouse.sandbox.run_sandboxed`).

    Raises `warehouse.sandbox.SandboxRefusal` (a WarehouseError) with a one-line reason.
    """
    return run_sandboxed(db, sql, max_rows=max_rows, timeout_s=timeout_s)


def warehouse_info(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Row count and date range of every mart: columns table, rows, first, last."""
    rows: list[dict[str, Any]] = []
    for mart in MART_KEYS:
        date_col = MART_DATE_COLUMNS.get(mart)
        count = int(scalar(con, f"SELECT count(*) FROM {mart}"))
        first = last = None
        if date_col:
            first, last = con.execute(
                f"SELECT min({date_col})::VARCHAR, max({date_col})::VARCHAR FROM {mart}"
            ).fetchall()[0]
        rows.append({"table": mart, "rows": count, "first": first, "last": last})
    return pl.DataFrame(
        rows, schema={"table": pl.String, "rows": pl.Int64, "first": pl.String, "last": pl.String}
    )


def sales_range(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """First and last sale date in the warehouse."""
    first, last = con.execute(
        "SELECT min(sale_date), max(sale_date) FROM fct_sales_daily"
    ).fetchall()[0]
    return first, last


def headline_kpis(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pl.DataFrame:
    """One row: revenue, units, orders, customers, avg basket (GBP), stores, products sold."""
    return run_named(con, "queries/headline_kpis", {"start": start, "end": end})


def daily_revenue(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pl.DataFrame:
    """Columns sale_date, revenue, units: one row per day in [start, end]."""
    return run_named(con, "queries/daily_revenue", {"start": start, "end": end})
