"""Reorder levels of the Inventory page where no stock is loaded: the plan sets them, a buyer
exports them; nothing can be suggested to order without stock on hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
import streamlit as st

from pages import _format as fmt
from pages._export import export_buttons
from services.display import units_text
from services.levels import ReorderLevels

STOCK_HINT = (
    "Load a stock snapshot (Data & models, or `python -m warehouse ingest inventory FILE`) "
    "and refresh to get what to order today."
)


def levels_without_stock(levels: ReorderLevels, categories: Sequence[str] = ()) -> None:
    """Why nothing is suggested (no stock loaded), and the plan's levels to set, exportable."""
    rows = levels.rows
    if categories:
        rows = rows.filter(pl.col("category").is_in(list(categories)))
    st.info(
        f"No stock on hand is loaded for these {levels.pairs:,} store x product pairs, so "
        "nothing can be suggested to order today. The plan still sets when and how much to "
        f"reorder: the levels of {rows.height:,} products with demand are below. {STOCK_HINT}",
        icon=":material/inventory_2:",
    )
    fmt.table(rows, key="inv_levels", height=420, first=("store_id", "product_id"))
    export_buttons(rows, "reorder_levels", key="inv_levels_export", label="Reorder levels")


def product_levels_card(row: dict[str, Any] | None) -> None:
    """One pair's levels when it has no stock history (or why there are none)."""
    if row is None:
        st.info("This store x product is not in the reorder plan.")
        return
    st.info(f"No stock history for this store x product. {STOCK_HINT}")
    c = st.columns(4)
    for col, (name, label) in zip(
        c,
        (
            ("reorder_point", "Reorder point"),
            ("safety_stock", "Safety stock"),
            ("order_qty", "Order quantity"),
            ("mean_daily_demand", "Demand per day"),
        ),
        strict=True,
    ):
        value = row.get(name)
        col.metric(label, units_text(None if value is None else float(value)))
    st.caption(str(row.get("reason") or ""))
