"""Purchase orders from the reorder plan: lines grouped per supplier x store, numbered and dated.

An order collects the plan's lines to order (suggested_order_qty > 0) of one supplier for one
store. Order number `PO-<order date>-<supplier>-<store>`; expected delivery = order date + the
longest mean lead time of its lines (days, rounded up). Line total = quantity x unit cost (GBP,
rounded to pence); order total = the sum of its line totals. The supplier comes from
`dim_supply.supplier_id` (default `DEFAULT`, warehouse/defaults.py).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

from forecasting.errors import NoPlanError
from forecasting.inventory.schemas import REORDER_PLAN_SCHEMA
from warehouse.contracts import validate
from warehouse.db import reading, run_named, table_exists
from warehouse.defaults import DEFAULT_SUPPLIER_ID
from warehouse.files import csv_bytes, write_frame_atomic

LINE_COLUMNS: tuple[str, ...] = (
    "order_number",
    "supplier_id",
    "store_id",
    "order_date",
    "expected_delivery",
    "product_id",
    "description",
    "category",
    "quantity",
    "unit_cost",
    "line_total",
    "reason",
)
ORDER_COLUMNS: tuple[str, ...] = (
    "order_number",
    "supplier_id",
    "store_id",
    "order_date",
    "expected_delivery",
    "lines",
    "units",
    "order_total",
)


@dataclass(frozen=True)
class PurchaseOrders:
    """Orders and their lines.

    Attributes:
        orders: one row per order (`ORDER_COLUMNS`), by supplier then store.
        lines: one row per product to order (`LINE_COLUMNS`), by order then product.
    """

    orders: pl.DataFrame
    lines: pl.DataFrame


def build_orders(
    plan: pl.DataFrame, supply: pl.DataFrame, order_date: dt.date | None = None
) -> PurchaseOrders:
    """Group the plan's lines to order into orders per supplier x store.

    Args:
        plan: reorder-plan rows (store_id, product_id, suggested_order_qty, unit_cost, as_of...).
        supply: dim_supply rows (store_id, product_id, supplier_id, lead_time_mean_days).
        order_date: the orders' date (default: the plan's as_of date, else today).
    """
    if order_date is None:
        as_of = plan["as_of"].max() if "as_of" in plan.columns and plan.height else None
        order_date = as_of if isinstance(as_of, dt.date) else dt.date.today()
    if "supplier_id" not in supply.columns:  # a warehouse built before suppliers existed
        supply = supply.with_columns(pl.lit(DEFAULT_SUPPLIER_ID).alias("supplier_id"))
    keys = supply.select("store_id", "product_id", "supplier_id", "lead_time_mean_days")
    optional = [c for c in ("description", "category", "reason") if c in plan.columns]
    lines = (
        plan.filter(pl.col("suggested_order_qty") > 0)
        .select("store_id", "product_id", "suggested_order_qty", "unit_cost", *optional)
        .join(keys, on=["store_id", "product_id"], how="left")
        .with_columns(
            pl.col("supplier_id").fill_null(DEFAULT_SUPPLIER_ID),
            pl.col("suggested_order_qty").alias("quantity"),
            pl.lit(order_date).alias("order_date"),
        )
        .with_columns((pl.col("quantity") * pl.col("unit_cost")).round(2).alias("line_total"))
        .with_columns(
            pl.format(
                "PO-{}-{}-{}", pl.lit(f"{order_date:%Y%m%d}"), "supplier_id", "store_id"
            ).alias("order_number"),
            pl.col("lead_time_mean_days")
            .fill_null(0)
            .ceil()
            .max()
            .over("supplier_id", "store_id")
            .cast(pl.Int64)
            .alias("_lead"),
        )
        .with_columns(
            (pl.col("order_date") + pl.duration(days=pl.col("_lead"))).alias("expected_delivery")
        )
    )
    for column in ("description", "category", "reason"):
        if column not in lines.columns:
            lines = lines.with_columns(pl.lit(None, pl.String).alias(column))
    lines = lines.select(LINE_COLUMNS).sort("order_number", "product_id")
    orders = (
        lines.group_by("order_number", "supplier_id", "store_id", "order_date", "expected_delivery")
        .agg(
            pl.len().alias("lines"),
            pl.col("quantity").sum().alias("units"),
            pl.col("line_total").sum().round(2).alias("order_total"),
        )
        .select(ORDER_COLUMNS)
        .sort("supplier_id", "store_id")
    )
    return PurchaseOrders(orders, lines)


def purchase_orders(
    db: str | os.PathLike[str] | None,
    *,
    store_id: str | None = None,
    supplier_id: str | None = None,
    category: str | None = None,
    plan: pl.DataFrame | None = None,
) -> PurchaseOrders:
    """The current plan's purchase orders: what `plan --export`, the app and the HTTP API's
    `/v1/purchase-orders.csv` give (optionally one store / supplier / category).

    The plan (unless given) and the suppliers are read through one connection, so from one
    warehouse generation. Raises NoPlanError when there is no plan.
    """
    with reading(db) as con:
        if plan is None:
            if not table_exists(con, "reorder_plan"):
                raise NoPlanError()
            plan = validate(
                run_named(con, "inventory/reorder_plan"),
                REORDER_PLAN_SCHEMA,
                "inventory.orders.purchase_orders",
                extra="allow",
            )
        supply = run_named(con, "inventory/order_suppliers")
    result = build_orders(plan, supply)
    orders, lines = result.orders, result.lines
    for column, value in (
        ("store_id", store_id),
        ("supplier_id", supplier_id),
    ):
        if value is not None:
            orders, lines = (f.filter(pl.col(column) == value) for f in (orders, lines))
    if category is not None:
        lines = lines.filter(pl.col("category") == category)
        orders = _totals(lines, orders)
    return PurchaseOrders(orders, lines)


def _totals(lines: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
    """`orders` restricted to the orders of `lines`, their counts and totals over `lines`."""
    sums = lines.group_by("order_number").agg(
        pl.len().alias("lines"),
        pl.col("quantity").sum().alias("units"),
        pl.col("line_total").sum().round(2).alias("order_total"),
    )
    return (
        orders.drop("lines", "units", "order_total")
        .join(sums, on="order_number", how="inner", maintain_order="left")
        .select(ORDER_COLUMNS)
    )


def orders_csv(orders: PurchaseOrders, *, raw_csv: bool = False) -> bytes:
    """The orders' lines as CSV bytes, exactly what `write_purchase_orders(..., "x.csv")`
    writes (formula cells neutralised unless `raw_csv`)."""
    return csv_bytes(orders.lines, raw=raw_csv)


def _sheet_name(supplier: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", "_", supplier)[:28] or "supplier"
    name, n = base, 1
    while name.lower() in used or name.lower() == "summary":
        n += 1
        name = f"{base[:25]}~{n}"
    used.add(name.lower())
    return name


def write_purchase_orders(
    orders: PurchaseOrders, path: str | os.PathLike[str], *, raw_csv: bool = False
) -> Path:
    """Write the orders atomically: .xlsx = a Summary sheet + one sheet per supplier (its
    lines), .csv = every line with its order columns (formula cells neutralised unless
    `raw_csv`). Raises ValueError for other types."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"--export {out}: use a .csv or .xlsx file name")
    if not out.parent.exists():
        raise ValueError(f"--export {out}: folder {out.parent} does not exist")
    if suffix == ".csv":
        return write_frame_atomic(orders.lines, out, sheet="purchase orders", raw_csv=raw_csv)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.xlsx")
    try:
        with xlsxwriter.Workbook(str(tmp)) as book:
            orders.orders.write_excel(book, worksheet="Summary", autofit=True)
            used: set[str] = set()
            for supplier in orders.orders["supplier_id"].unique(maintain_order=True).to_list():
                part = orders.lines.filter(pl.col("supplier_id") == supplier)
                part.write_excel(book, worksheet=_sheet_name(str(supplier), used), autofit=True)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
