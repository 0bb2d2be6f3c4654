"""Helpers of the Recommendations page: the business-rules form and one ranked-list block
(chart in rank order, formatted table, export) used by every tab."""

from __future__ import annotations

import polars as pl
import streamlit as st

from pages import _charts as charts
from pages import _format as fmt
from pages._export import export_buttons
from recsys.service import BusinessRules
from services.display import score_axis

MAX_PRICE = 200.0


def rules_form(categories: list[str]) -> BusinessRules:
    """The business rules expander; the rules apply to every tab."""
    with st.expander("Business rules (apply to every tab)", expanded=False, icon=":material/rule:"):
        c1, c2, c3 = st.columns(3)
        exclude_purchased = c1.checkbox(
            "Exclude already purchased",
            True,
            key="rec_excl",
            help="For a customer's list and the bulk list",
        )
        in_stock_only = c1.checkbox("In stock only", False, key="rec_stock")
        include = c2.multiselect("Only these categories", categories, key="rec_incl")
        exclude = c2.multiselect("Never these categories", categories, key="rec_exclcat")
        price = c3.slider(
            "Price range (£)",
            0.0,
            MAX_PRICE,
            (0.0, MAX_PRICE),
            step=1.0,
            key="rec_price",
            format="£%.0f",
        )
        per_cat = c3.number_input("Max per category (0 = no limit)", 0, 50, 0, key="rec_percat")
    return BusinessRules(
        exclude_purchased=exclude_purchased,
        in_stock_only=in_stock_only,
        include_categories=tuple(include),
        exclude_categories=tuple(exclude),
        min_price=price[0] or None,
        max_price=None if price[1] >= MAX_PRICE else price[1],
        max_per_category=int(per_cat) or None,
    )


def ranked_list(frame: pl.DataFrame, categories: list[str], key: str, basename: str) -> None:
    """Scores in rank order (one colour per category), the formatted list and its export."""
    if frame.is_empty():
        st.info("No product passes these rules.")
        return
    shown = frame.with_columns(
        (pl.col("product_id") + " " + pl.col("description").fill_null("")).alias("_label")
    )
    span, title = score_axis(shown["score"])
    figure = charts.ranked_bars(
        shown, "score", "_label", "category", categories, title, value_range=span
    )
    st.plotly_chart(figure, key=f"{key}_chart")
    fmt.table(
        frame,
        key=f"{key}_table",
        hide=("model",),
        first=("rank", "product_id", "description", "category", "unit_price", "reason", "score"),
    )
    export_buttons(frame, basename, key=f"{key}_export")
