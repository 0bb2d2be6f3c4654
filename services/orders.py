"""Purchase orders to review: the plan's lines grouped per supplier x store, edited, approved.

A small typed interface of the app (no streamlit). `draft_orders` turns the reorder plan's lines
to order today (`forecasting.inventory.api.what_to_order`) into the orders of the one builder,
`forecasting.inventory.orders` (one per supplier x store, numbered, priced; the same orders as
`plan --export` and the HTTP API's CSV) with the plan's decision columns; `approve_order` takes
the buyer's edited quantities and returns the order in the buyer's shape (supplier, order
number, lines, totals). The supplier comes from `dim_supply.supplier_id`, else "DEFAULT".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from forecasting.inventory import api as inventory_api
from forecasting.inventory.orders import PurchaseOrders, build_orders, purchase_orders
from warehouse.db import WarehouseError

DEFAULT_SUPPLIER = "DEFAULT"
#: Columns of a draft order line, decision columns first.
DRAFT_COLUMNS: tuple[str, ...] = (
    "order_number",
    "supplier",
    "store_id",
    "product_id",
    "description",
    "quantity",
    "suggested_order_qty",
    "unit_cost",
    "line_value",
    "stockout_risk",
    "days_of_cover",
    "on_hand",
    "on_order",
    "reorder_point",
    "category",
    "reason",
)
#: Columns of an approved order file, in the buyer's order.
ORDER_FILE_COLUMNS: tuple[str, ...] = (
    "supplier",
    "order_number",
    "store_id",
    "line",
    "product_id",
    "description",
    "quantity",
    "unit_cost",
    "line_value",
)


def draft_orders(lines: pl.DataFrame, as_of: date | None = None) -> pl.DataFrame:
    """Lines to order (suggested_order_qty > 0) as draft orders, most urgent order first.

    The orders are `forecasting.inventory.orders.build_orders`' (the one builder); the
    supplier is the plan's `supplier` column when it has one, else "DEFAULT".

    Args:
        lines: reorder-plan rows (store_id, product_id, suggested_order_qty, unit_cost, ...).
        as_of: the order date; default the plan's `as_of` column, else today.

    Returns:
        DRAFT_COLUMNS (present ones) with `quantity` = the suggestion (units) and `line_value`
        (GBP); orders ranked by their highest stockout risk, lines by risk then value.
    """
    lines = _plan_lines(lines)
    supplier = pl.col("supplier") if "supplier" in lines.columns else pl.lit(None, pl.String)
    supply = lines.select(
        "store_id",
        "product_id",
        supplier.fill_null(DEFAULT_SUPPLIER).alias("supplier_id"),
        pl.lit(None, pl.Float64).alias("lead_time_mean_days"),
    )
    return _draft(build_orders(lines, supply, order_date=as_of), lines)


def _plan_lines(lines: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in ("store_id", "product_id", "suggested_order_qty") if c not in lines]
    if missing:
        raise WarehouseError(f"draft orders need plan columns; missing {', '.join(missing)}")
    for name in ("unit_cost", "stockout_risk", "days_of_cover"):
        if name not in lines.columns:
            lines = lines.with_columns(pl.lit(None, dtype=pl.Float64).alias(name))
    return lines


def _draft(orders: PurchaseOrders, plan: pl.DataFrame) -> pl.DataFrame:
    """The builder's order lines with the plan's decision columns, most urgent order first."""
    decision = [c for c in DRAFT_COLUMNS if c in plan.columns and c not in orders.lines.columns]
    frame = (
        orders.lines.rename({"supplier_id": "supplier", "line_total": "line_value"})
        .with_columns(pl.col("quantity").round(0).cast(pl.Int64))
        .join(
            plan.select("store_id", "product_id", *decision).unique(["store_id", "product_id"]),
            on=["store_id", "product_id"],
            how="left",
        )
    )
    frame = frame.with_columns(
        pl.col("stockout_risk").fill_null(0).max().over("order_number").alias("_order_risk")
    )
    frame = frame.sort(
        ["_order_risk", "order_number", "stockout_risk", "line_value"],
        descending=[True, False, True, True],
        nulls_last=True,
    )
    return frame.select([c for c in DRAFT_COLUMNS if c in frame.columns])


def order_summary(draft: pl.DataFrame) -> pl.DataFrame:
    """One row per order: order_number, supplier, store_id, lines, units, order_value (GBP),
    stockout_risk (the order's highest), in the draft's urgency order."""
    return draft.group_by("order_number", "supplier", "store_id", maintain_order=True).agg(
        pl.len().alias("lines"),
        pl.col("quantity").sum().alias("units"),
        pl.col("line_value").sum().round(2).alias("order_value"),
        pl.col("stockout_risk").max().alias("stockout_risk"),
    )


@dataclass(frozen=True)
class ApprovedOrder:
    """One approved purchase order.

    Attributes:
        order_number: e.g. PO-20111209-DEFAULT-S01.
        supplier: who receives it.
        store_id: where it is delivered.
        approved_by: the user who approved.
        approved_at: when (UTC, seconds).
        lines: ORDER_FILE_COLUMNS without the total row; quantities > 0 only.
    """

    order_number: str
    supplier: str
    store_id: str
    approved_by: str
    approved_at: datetime
    lines: pl.DataFrame

    @property
    def total_units(self) -> int:
        """Units ordered in all."""
        return int(self.lines["quantity"].sum() or 0)

    @property
    def total_value(self) -> float:
        """Order value in GBP at unit cost."""
        return float(self.lines["line_value"].sum() or 0.0)

    def file_frame(self) -> pl.DataFrame:
        """The order as the buyer's file: its lines then one total row (line = null)."""
        total = pl.DataFrame(
            {
                "supplier": [self.supplier],
                "order_number": [self.order_number],
                "store_id": [self.store_id],
                "line": [None],
                "product_id": [None],
                "description": ["ORDER TOTAL"],
                "quantity": [self.total_units],
                "unit_cost": [None],
                "line_value": [round(self.total_value, 2)],
            },
            schema=self.lines.schema,
        )
        return pl.concat([self.lines, total])


def approve_order(
    draft: pl.DataFrame, order: str, quantities: pl.Series, user: str, now: datetime | None = None
) -> ApprovedOrder:
    """Approve order `order` of `draft` with the buyer's `quantities` (one per line, in order).

    Raises WarehouseError for an unknown order, a length mismatch or a negative quantity; lines
    edited to 0 are dropped.
    """
    lines = draft.filter(pl.col("order_number") == order)
    if lines.is_empty():
        raise WarehouseError(f"order {order!r} is not in the draft")
    if quantities.len() != lines.height:
        raise WarehouseError(
            f"order {order}: {quantities.len()} quantities for {lines.height} lines"
        )
    qty = quantities.cast(pl.Int64, strict=False).fill_null(0)
    if (qty < 0).any():
        raise WarehouseError(f"order {order}: quantities must be 0 or more")
    lines = lines.with_columns(qty.alias("quantity")).filter(pl.col("quantity") > 0)
    lines = lines.with_columns(
        (pl.col("quantity") * pl.col("unit_cost")).round(2).alias("line_value"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("line"),
    ).select(ORDER_FILE_COLUMNS)
    row = draft.filter(pl.col("order_number") == order).row(0, named=True)
    return ApprovedOrder(
        order,
        row["supplier"],
        row["store_id"],
        user,
        (now or datetime.now()).replace(microsecond=0),
        lines,
    )


def draft_orders_for(db: str | os.PathLike[str] | None, store_id: str | None) -> pl.DataFrame:
    """Draft orders of one store (None: every store) from the warehouse's reorder plan: the
    orders of `forecasting.inventory.orders.purchase_orders` (suppliers from dim_supply).

    Raises forecasting.errors.NoPlanError when no plan has been made yet.
    """
    plan = _plan_lines(inventory_api.what_to_order(db, store_id=store_id, category=None))
    return _draft(purchase_orders(db, store_id=store_id, plan=plan), plan)
