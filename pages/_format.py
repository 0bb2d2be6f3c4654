"""One formatting layer for every table of the app (Streamlit `column_config`).

`table(frame)` shows a frame with human headers, pounds with thousand separators, whole units,
percentages, dates without times, the decision columns first and no raw JSON or `None`.
`config(frame)` returns the same `column_config` for `st.data_editor`.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

#: Columns a manager decides on, shown first in this order when present.
DECISION_FIRST: tuple[str, ...] = (
    "supplier",
    "order_number",
    "store_id",
    "product_id",
    "description",
    "quantity",
    "order_qty",
    "suggested_order_qty",
    "line_value",
    "order_value",
    "stockout_risk",
    "days_of_cover",
    "reason",
    "rank",
    "customer_id",
    "segment",
)
#: Exact names with a fixed label (anything else: snake_case -> "Sentence case").
LABELS: dict[str, str] = {
    "store_id": "Store",
    "product_id": "Product",
    "customer_id": "Customer",
    "suggested_order_qty": "Suggested qty",
    "order_qty": "Order qty",
    "unit_price": "Price",
    "unit_cost": "Unit cost",
    "order_value": "Order value",
    "stockout_risk": "Stockout risk",
    "days_of_cover": "Days of cover",
    "on_hand": "On hand",
    "on_order": "On order",
    "reorder_point": "Reorder point",
    "order_up_to": "Order-up-to",
    "revenue_share": "Share",
    "change_pct": "Change %",
    "previous_revenue": "Before",
    "change": "Change £",
    "wape": "WAPE",
    "mase": "MASE",
    "avg_unit_price": "Avg price",
    "sale_date": "Date",
    "period_start": "Period",
    "table_name": "Table",
    "order_number": "Order no.",
    "cycle_service_level": "Cycle service",
    "avg_on_hand_units": "Avg on hand",
    "line_value": "Line value",
    "quantity": "Order qty",
}
_MONEY = ("revenue", "value", "price", "cost", "spend", "monetary", "basket", "change")
_SHARE = ("share", "pct", "rate", "risk", "service_level", "fill", "wape", "target")
_UNITS = (
    "units",
    "qty",
    "quantity",
    "on_hand",
    "on_order",
    "reorder_point",
    "order_up_to",
    "orders",
    "rows",
    "customers",
    "lines",
    "products",
    "positions",
    "frequency_orders",
)


def label(name: str) -> str:
    """Human header of a column name ("days_of_cover" -> "Days of cover")."""
    return LABELS.get(name) or name.replace("_", " ").strip().capitalize()


def _number(name: str, dtype: pl.DataType) -> Any:
    low = name.lower()
    if low.endswith("_id") or low in ("rank", "version", "position", "year"):
        return st.column_config.NumberColumn(label(name), format="%d")
    if any(part in low for part in _SHARE) and "units" not in low:
        return st.column_config.NumberColumn(label(name), format="percent")
    if any(part in low for part in _MONEY):
        return st.column_config.NumberColumn(label(name), format="£%,.2f")
    if any(part in low for part in _UNITS) or dtype.is_integer():
        return st.column_config.NumberColumn(label(name), format="%,.0f")
    if low in ("score", "contribution", "mase", "bias"):
        return st.column_config.NumberColumn(label(name), format="%.3f")
    return st.column_config.NumberColumn(label(name), format="%,.1f")


def config(frame: pl.DataFrame) -> dict[str, Any]:
    """`column_config` for every column of `frame` (labels and number/date formats)."""
    out: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            out[name] = st.column_config.DateColumn(label(name), format="D MMM YYYY")
        elif isinstance(dtype, pl.Datetime):
            out[name] = st.column_config.DatetimeColumn(label(name), format="D MMM YYYY HH:mm")
        elif dtype.is_numeric():
            out[name] = _number(name, dtype)
        elif dtype == pl.Boolean:
            out[name] = st.column_config.CheckboxColumn(label(name))
        else:
            out[name] = st.column_config.TextColumn(label(name))
    return out


def tidy(frame: pl.DataFrame, first: tuple[str, ...] = DECISION_FIRST) -> pl.DataFrame:
    """Decision columns first; nested values (lists, structs) as text; nulls in text as ''."""
    order = [c for c in first if c in frame.columns]
    frame = frame.select(order + [c for c in frame.columns if c not in order])
    fixes = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List | pl.Array):
            fixes.append(pl.col(name).cast(pl.List(pl.String)).list.join(", ").alias(name))
        elif isinstance(dtype, pl.Struct | pl.Object):
            fixes.append(pl.col(name).map_elements(str, return_dtype=pl.String).alias(name))
        elif dtype == pl.String:
            fixes.append(pl.col(name).fill_null(""))
        elif isinstance(dtype, pl.Datetime) and name.endswith("_date"):
            fixes.append(pl.col(name).dt.date().alias(name))
    return frame.with_columns(fixes) if fixes else frame


def table(
    frame: pl.DataFrame,
    *,
    key: str | None = None,
    height: int | str = "auto",
    first: tuple[str, ...] = DECISION_FIRST,
    hide: tuple[str, ...] = (),
) -> None:
    """Show `frame` through the formatting layer (read-only grid)."""
    shown = tidy(frame.drop([c for c in hide if c in frame.columns]), first)
    st.dataframe(shown, hide_index=True, key=key, height=height, column_config=config(shown))


def money(value: float | None) -> str:
    """£ with thousand separators (no pence from £100 up); 'n/a' for None."""
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    body = f"{abs(value):,.0f}" if abs(value) >= 100 else f"{abs(value):,.2f}"
    return f"{sign}£{body}"
