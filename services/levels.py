"""Reorder levels to set where no stock is known: the plan's policy per store x product.

A shop that loads sales but no stock snapshots (a sales-only shop, a weekly panel) gets reorder
points, safety stock and order quantities from the plan, but no suggestion to order today: that
needs the stock on hand. These are the levels the Inventory page shows then, and the file a
buyer exports to set them in a till or ERP system. A small typed interface of the app (no
streamlit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import polars as pl

from forecasting.inventory import api as inventory_api

#: Columns of the levels table, in the buyer's order.
LEVEL_COLUMNS: tuple[str, ...] = (
    "store_id",
    "product_id",
    "description",
    "category",
    "reorder_point",
    "safety_stock",
    "order_qty",
    "order_up_to",
    "mean_daily_demand",
    "reason",
)

#: The reason's opening clauses of a pair without stock (said once above the table instead).
NO_STOCK_CLAUSES = r"^no stock snapshot on or before [^;]*; nothing suggested; "


@dataclass(frozen=True)
class ReorderLevels:
    """The plan's levels for a selection of stores.

    Attributes:
        rows: `LEVEL_COLUMNS` of the pairs with demand (reorder point > 0), by store, then by
            mean daily demand (units per day), highest first.
        pairs: store x product pairs of the plan in the selection.
        without_stock: of those, pairs without a stock snapshot on or before the plan date
            (nothing can be suggested for them).
    """

    rows: pl.DataFrame
    pairs: int
    without_stock: int

    @property
    def stock_missing(self) -> bool:
        """Whether no pair of the selection has stock: the plan can only set levels."""
        return self.pairs > 0 and self.without_stock == self.pairs


def _reason() -> pl.Expr:
    return pl.col("reason").str.replace(NO_STOCK_CLAUSES, "")


def reorder_levels_for(db: str | os.PathLike[str] | None, store_id: str | None) -> ReorderLevels:
    """The plan's levels of one store (None: every store); raises NoPlanError without a plan."""
    plan = inventory_api.load_reorder_plan(db)
    if store_id is not None:
        plan = plan.filter(pl.col("store_id") == store_id)
    rows = (
        plan.filter(pl.col("reorder_point") > 0)
        .sort(["store_id", "mean_daily_demand"], descending=[False, True])
        .select(LEVEL_COLUMNS)
        .with_columns(_reason())
    )
    return ReorderLevels(rows, plan.height, int(plan["on_hand"].is_null().sum()))


def product_levels(
    db: str | os.PathLike[str] | None, store_id: str, product_id: str
) -> dict[str, Any] | None:
    """One pair's row of the levels table (`LEVEL_COLUMNS`), or None when it is not planned."""
    plan = inventory_api.plan_row(db, store_id, product_id)
    if plan.is_empty():
        return None
    return plan.select(LEVEL_COLUMNS).with_columns(_reason()).row(0, named=True)
