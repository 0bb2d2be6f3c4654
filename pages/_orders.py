"""Order review of the Inventory page: orders per supplier x store, edit, approve, export.

Approved orders live in `st.session_state[APPROVED_KEY]` (order number -> `ApprovedOrder`) for
the session; the export is built only when its download button is clicked.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from pages import _format as fmt
from pages import _shared as shared
from pages._export import export_buttons
from services.display import money, tidy
from services.orders import ApprovedOrder, approve_order, order_summary
from warehouse.db import WarehouseError

APPROVED_KEY = "inv_approved_orders"
EDITABLE = ("quantity",)


def _approved() -> dict[str, ApprovedOrder]:
    return st.session_state.setdefault(APPROVED_KEY, {})


def order_review(draft: pl.DataFrame) -> None:
    """Orders list, the chosen order's editable lines, the approve step and the export."""
    summary = order_summary(draft)
    approved = _approved()
    summary = summary.with_columns(pl.col("order_number").is_in(list(approved)).alias("approved"))
    c = st.columns(4)
    c[0].metric("Orders", f"{summary.height:,}")
    c[1].metric("Lines", f"{draft.height:,}")
    c[2].metric("Units", f"{int(draft['quantity'].sum() or 0):,}")
    c[3].metric("Order value", money(float(draft["line_value"].sum() or 0.0)))
    st.caption("One order per supplier x store, the most urgent (highest stockout risk) first.")
    fmt.table(summary, key="inv_orders", height=min(300, 38 + 35 * summary.height))
    labels = {
        row["order_number"]: f"{row['order_number']} · {row['lines']:,} lines · "
        f"{money(row['order_value'])}" + (" · approved" if row["approved"] else "")
        for row in summary.iter_rows(named=True)
    }
    order = shared.pick(st, "Review order", labels, "inv_order", "No orders to review.")
    lines = draft.filter(pl.col("order_number") == order)
    shown = tidy(lines.drop("order_number", "supplier", "store_id"))
    cfg = fmt.config(shown)
    cfg["quantity"] = st.column_config.NumberColumn(
        "Order qty ✎", min_value=0, step=1, format="%,d", help="Edit before approving"
    )
    edited = st.data_editor(
        shown,
        key=f"inv_edit_{order}",
        hide_index=True,
        height=360,
        column_config=cfg,
        num_rows="fixed",
        disabled=[col for col in shown.columns if col not in EDITABLE],
    )
    user = shared.user()
    if st.button(
        "Approve order", type="primary", icon=":material/check_circle:", key="inv_approve"
    ):
        try:
            approved[order] = approve_order(
                lines, order, pl.Series(edited["quantity"]), user.name if user else "local"
            )
        except WarehouseError as exc:
            st.error(str(exc))
    done = approved.get(order)
    if done is None:
        st.caption("Approve the order to export it for the supplier.")
        return
    st.success(
        f"Order {done.order_number} approved by {done.approved_by} at "
        f"{done.approved_at:%d %b %Y %H:%M}: {done.lines.height:,} lines, "
        f"{done.total_units:,} units, {money(done.total_value)}.",
        icon=":material/task_alt:",
    )
    export_buttons(
        done.file_frame(), done.order_number, key="inv_po_export", label="Purchase order"
    )
