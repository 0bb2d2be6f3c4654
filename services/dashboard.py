"""Read-side services of the app's dashboards (no streamlit here).

Every function takes a read-only DuckDB connection (or cursor) and returns polars frames or small
frozen dataclasses validated against `services.schemas`; SQL lives in `warehouse/sql/app/*.sql`.
Global filters travel as one `Filters` value. The app passes cursors of a
`warehouse.readers.LiveWarehouse`, which follows refreshes that swap in a new warehouse file.
The schema, data quality and model artifacts are in `services.catalog`, export files in
`services.exports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from services.schemas import (
    BREAKDOWN_SCHEMA,
    CUSTOMER_SEARCH_SCHEMA,
    MOVERS_SCHEMA,
    PRODUCT_HISTORY_SCHEMA,
    PRODUCT_STOCK_SCHEMA,
    PRODUCTS_SCHEMA,
    SEASONALITY_SCHEMA,
    SEGMENTS_SCHEMA,
    TREND_SCHEMA,
)
from warehouse.contracts import returns, validate
from warehouse.db import WarehouseError, run_named, table_exists

GRAINS: tuple[str, ...] = ("day", "week", "month")
BREAKDOWNS: tuple[str, ...] = ("store", "category", "product")


@dataclass(frozen=True)
class Filters:
    """Global filters of the app: inclusive date range, stores and categories (empty = all)."""

    start: date
    end: date
    stores: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise WarehouseError(f"filters: start {self.start} is after end {self.end}")

    @property
    def days(self) -> int:
        """Length of the period in days (inclusive)."""
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of the same length just before this one, same stores and categories."""
        prev_end = self.start - timedelta(days=1)
        return Filters(
            prev_end - timedelta(days=self.days - 1), prev_end, self.stores, self.categories
        )

    def params(self) -> dict[str, Any]:
        """SQL parameters: start, end, prev_start, prev_end, stores, categories."""
        prev = self.previous()
        return {
            "start": self.start,
            "end": self.end,
            "prev_start": prev.start,
            "prev_end": prev.end,
            "stores": list(self.stores),
            "categories": list(self.categories),
        }


@dataclass(frozen=True)
class Kpi:
    """One KPI card: value now, value in the previous period, relative change (None if n/a).

    `higher_is_better` tells the app which way to colour the change.
    """

    name: str
    value: float | None
    previous: float | None
    unit: str
    higher_is_better: bool = True

    @property
    def change(self) -> float | None:
        """Relative change vs the previous period (0.1 = +10 %); None without a base."""
        if self.value is None or not self.previous:
            return None
        return (self.value - self.previous) / abs(self.previous)


@dataclass(frozen=True)
class DataRange:
    """What the warehouse holds: sales date range and sizes."""

    first_day: date | None
    last_day: date | None
    sale_lines: int
    products: int
    stores: int
    customers: int
    period_days: int = 1

    @property
    def grains(self) -> tuple[str, ...]:
        """The trend grains these sales have: no 'day' for a weekly panel (7-day rows)."""
        return GRAINS if self.period_days == 1 else GRAINS[1:]


def sales_period_days(con: duckdb.DuckDBPyConnection) -> int:
    """Days one sales row covers: 7 for a weekly panel (a row is the week ending on its date),
    else 1."""
    if not table_exists(con, "source_frequency"):
        return 1
    return 7 if run_named(con, "forecasting/frequency")["frequency"][0] == "W" else 1


def data_range(con: duckdb.DuckDBPyConnection) -> DataRange:
    """Sales date range and sizes of the warehouse; a weekly panel's range starts on its first
    week's first day."""
    row = run_named(con, "app/data_range").row(0, named=True)
    days = sales_period_days(con)
    first = row["first_day"]
    return DataRange(
        first - timedelta(days=days - 1) if first is not None else None,
        row["last_day"],
        int(row["sale_lines"]),
        int(row["products"]),
        int(row["stores"]),
        int(row["customers"]),
        days,
    )


def filter_options(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str], list[str]]:
    """({store_id: "S001 Name"}, [categories]) for the global filters."""
    frame = run_named(con, "app/filter_options")
    stores = frame.filter(pl.col("kind") == "store")
    categories = frame.filter(pl.col("kind") == "category")["value"].to_list()
    return dict(zip(stores["value"], stores["label"], strict=True)), categories


def _period_row(frame: pl.DataFrame, period: str) -> dict[str, Any]:
    rows = frame.filter(pl.col("period") == period)
    return rows.row(0, named=True) if rows.height else {}


def kpis(con: duckdb.DuckDBPyConnection, filters: Filters) -> list[Kpi]:
    """KPI cards with their previous-period values.

    Revenue (GBP), units, orders, average basket (GBP per order), stockout rate (share of store x
    product snapshots with on-hand <= 0), inventory value (GBP at unit cost, last snapshot of the
    period) and days of cover (on-hand units at that snapshot / average units sold per day).
    Revenue, orders and basket are None (shown "n/a") when the period's sales carry no price or
    no order id (a store x item panel of units), not £0.
    """
    params = filters.params()
    sales = run_named(con, "app/sales_kpis", params)
    stock = run_named(con, "app/stock_kpis", params)
    now, before = _period_row(sales, "current"), _period_row(sales, "previous")
    stock_now, stock_before = _period_row(stock, "current"), _period_row(stock, "previous")

    def basket(row: dict[str, Any]) -> float | None:
        if not row.get("orders") or row.get("revenue") is None:
            return None
        return float(row["revenue"]) / row["orders"]

    def cover(stock_row: dict[str, Any], sales_row: dict[str, Any]) -> float | None:
        units_per_day = (sales_row.get("units") or 0) / filters.days
        if stock_row.get("on_hand_units") is None or units_per_day <= 0:
            return None
        return stock_row["on_hand_units"] / units_per_day

    return [
        Kpi("Revenue", now.get("revenue", 0.0), before.get("revenue"), "GBP"),
        Kpi("Units", now.get("units", 0.0), before.get("units"), "units"),
        Kpi("Orders", now.get("orders", 0), before.get("orders"), "orders"),
        Kpi("Average basket", basket(now), basket(before), "GBP"),
        Kpi(
            "Stockout rate",
            stock_now.get("stockout_rate"),
            stock_before.get("stockout_rate"),
            "share",
            higher_is_better=False,
        ),
        Kpi(
            "Inventory value",
            stock_now.get("inventory_value"),
            stock_before.get("inventory_value"),
            "GBP",
            higher_is_better=False,
        ),
        Kpi(
            "Days of cover",
            cover(stock_now, now),
            cover(stock_before, before),
            "days",
            higher_is_better=False,
        ),
    ]


@returns(TREND_SCHEMA)
def trend(con: duckdb.DuckDBPyConnection, filters: Filters, grain: str = "day") -> pl.DataFrame:
    """Columns period_start DATE, revenue (GBP), units: one row per `grain` with sales. On a
    weekly panel a week is the source's own (period_start = its first day, six days before the
    row's date) and there is no 'day' grain."""
    days = sales_period_days(con)
    if grain not in GRAINS:
        raise WarehouseError(f"grain: {grain!r} is not one of {', '.join(GRAINS)}")
    if grain == "day" and days == 7:
        raise WarehouseError(
            "grain: these sales are weekly, so there is no 'day'; use week or month"
        )
    return run_named(con, "app/trend", {**filters.params(), "grain": grain, "period_days": days})


@returns(MOVERS_SCHEMA)
def movers(con: duckdb.DuckDBPyConnection, filters: Filters, n: int = 10) -> pl.DataFrame:
    """Top `n` risers and fallers by the change in sales vs the previous period.

    Columns: direction ('up'/'down'), product_id, description, category, measure ('revenue'
    where the lines have prices, else 'units': a sales panel without prices), revenue and
    previous_revenue (GBP; None when measured in units), units, previous_units, change (in the
    measure), change_pct (None when the previous period had none).
    """
    if n < 1:
        raise WarehouseError(f"n: must be >= 1, got {n}")
    return run_named(con, "app/movers", {**filters.params(), "n": n})


def alerts(con: duckdb.DuckDBPyConnection, filters: Filters) -> list[str]:
    """What needs action today, one date rule for every alert.

    "Today" is the latest stock snapshot (the reorder plan's as_of); the period of `filters`
    does not apply, its stores and categories do. Lines to order (with how many are urgent:
    stockout risk >= 50 %) and positions out of stock at that snapshot.
    """
    messages: list[str] = []
    params = {"stores": list(filters.stores), "categories": list(filters.categories)}
    if table_exists(con, "reorder_plan"):
        row = run_named(con, "app/action_today", params).row(0, named=True)
        if row["order_lines"]:
            messages.append(
                f"To order today ({row['snapshot_date']:%d %b %Y}): {row['urgent_lines']:,} "
                f"urgent lines (stockout risk 50 % or more) among {row['order_lines']:,} "
                f"lines worth £{row['order_value']:,.0f} in {row['order_stores']:,} stores; "
                "review them under Inventory."
            )
    else:
        row = run_named(con, "app/stockouts_today", params).row(0, named=True)
    if row["stockouts"]:
        messages.append(
            f"Out of stock today ({row['snapshot_date']:%d %b %Y}): "
            f"{row['stockout_products']:,} products in at least one store "
            f"({row['stockouts']:,} store x product positions)."
        )
    return messages


@dataclass(frozen=True)
class DataAge:
    """How fresh the warehouse and the plan are (None: not there yet)."""

    last_sale: date | None
    last_snapshot: date | None
    plan_as_of: date | None

    def stale(self, today: date, max_days: int = 7) -> list[str]:
        """Plain-language notes for every date older than `max_days` before `today`."""
        notes = []
        for what, day in (
            ("sales data ends", self.last_sale),
            ("the latest stock snapshot is", self.last_snapshot),
            ("the reorder plan was made for", self.plan_as_of),
        ):
            if day is not None and (today - day).days > max_days:
                notes.append(f"{what} {day:%d %b %Y} ({(today - day).days:,} days ago)")
        return notes


def data_age(con: duckdb.DuckDBPyConnection) -> DataAge:
    """Last sale day, latest stock snapshot and the reorder plan's date."""
    row = run_named(con, "app/data_age").row(0, named=True)
    plan = None
    if table_exists(con, "reorder_plan"):
        plan = run_named(con, "app/plan_as_of")["as_of"][0]
    return DataAge(row["last_sale"], row["last_snapshot"], plan)


@returns(BREAKDOWN_SCHEMA)
def breakdown(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    by: str = "category",
    drill_category: str | None = None,
    limit: int = 50,
) -> pl.DataFrame:
    """Columns label, revenue (GBP), units, revenue_share, units_share: top `limit` by revenue
    (by units where the sales have no prices: revenue and its share are then NULL).

    `by` is 'store', 'category' or 'product'; `drill_category` narrows to one category.
    """
    if by not in BREAKDOWNS:
        raise WarehouseError(f"by: {by!r} is not one of {', '.join(BREAKDOWNS)}")
    return run_named(
        con,
        "app/breakdown",
        {**filters.params(), "by": by, "drill_category": drill_category or "", "limit": int(limit)},
    )


@returns(SEASONALITY_SCHEMA)
def seasonality(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Columns week_start DATE, day_of_week (1 = Monday), day_name, revenue, units."""
    return run_named(con, "app/heatmap", filters.params())


def seasonality_grid(heat: pl.DataFrame, measure: str = "revenue") -> pl.DataFrame:
    """`seasonality` as a grid: week_start, then one `measure` ('revenue' or 'units') column
    per day of week ("1".."7").

    Weeks sorted; a day outside the date range is null.
    """
    return heat.pivot(on="day_of_week", index="week_start", values=measure, sort_columns=True).sort(
        "week_start"
    )


@dataclass(frozen=True)
class ProductDetail:
    """One product: catalogue row, daily sales history and stock snapshots."""

    info: dict[str, Any]
    history: pl.DataFrame  # sale_date, units, revenue, avg_unit_price
    stock: pl.DataFrame  # snapshot_date, on_hand_units, on_order_units


def product_detail(
    con: duckdb.DuckDBPyConnection, product_id: str, filters: Filters
) -> ProductDetail:
    """History, price and stock of one product over the filtered stores and period."""
    info = run_named(con, "app/product_info", {"product_id": product_id})
    if info.is_empty():
        raise WarehouseError(f"product {product_id!r} is not in the warehouse")
    params = {**filters.params(), "product_id": product_id}
    history = validate(
        run_named(con, "app/product_history", params),
        PRODUCT_HISTORY_SCHEMA,
        "services.dashboard.product_detail history",
    )
    stock = validate(
        run_named(con, "app/product_stock", params),
        PRODUCT_STOCK_SCHEMA,
        "services.dashboard.product_detail stock",
    )
    return ProductDetail(info.row(0, named=True), history, stock)


@returns(PRODUCTS_SCHEMA)
def products(con: duckdb.DuckDBPyConnection, categories: Sequence[str] = ()) -> pl.DataFrame:
    """Columns product_id, label, category, revenue: best sellers first (for pickers)."""
    return run_named(con, "app/products", {"categories": list(categories)})


@returns(CUSTOMER_SEARCH_SCHEMA)
def customer_search(con: duckdb.DuckDBPyConnection, prefix: str, limit: int = 50) -> pl.DataFrame:
    """Customers whose id starts with `prefix`: customer_id, segment, region, orders..."""
    return run_named(con, "app/customer_search", {"prefix": prefix.strip(), "limit": int(limit)})


@returns(SEGMENTS_SCHEMA)
def segments(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Columns segment, customers."""
    return run_named(con, "app/segments")
