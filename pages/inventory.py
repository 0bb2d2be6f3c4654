"""Inventory: what to order today as purchase orders per supplier x store (edit, approve,
export), per-product stock with the plan's levels from the plan date on, service-level replay."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from forecasting.errors import NoPlanError
from pages import _format as fmt
from pages import _reads as dash
from pages import _services as svc
from pages import _shared as shared
from pages._levels import levels_without_stock, product_levels_card
from pages._orders import order_review

shared.require("inventory")
st.title("Inventory")
filters = shared.filters()
stores, _ = dash.filter_options()
age = dash.data_age()
shared.freshness_banner(age)

order_tab, product_tab, sim_tab = st.tabs(
    ["What to order today", "Per product", "Service-level simulation"],
    key="inv_tab",
    on_change="rerun",
)
with order_tab:
    if order_tab.open:
        choices = ["(all)", *(filters.stores or stores)]
        store = st.selectbox(
            "Store", choices, format_func=lambda s: stores.get(s, s), key="inv_store"
        )
        draft = shared.guarded(
            lambda: svc.draft_orders(None if store == "(all)" else store), NoPlanError
        )
        if filters.categories and "category" in draft.columns:
            draft = draft.filter(draft["category"].is_in(list(filters.categories)))
        if not draft.is_empty():
            order_review(draft)
        else:  # nothing to order: say whether that is because no stock is loaded
            levels = shared.guarded(
                lambda: svc.reorder_levels(None if store == "(all)" else store), NoPlanError
            )
            if levels.stock_missing:
                levels_without_stock(levels, filters.categories)
            else:
                st.success("Nothing to order for this selection.")

with product_tab:
    if product_tab.open:
        c1, c2 = st.columns(2)
        p_store = shared.pick(c1, "Store", stores, "inv_p_store", "No stores.")
        catalogue = dash.products(filters.categories)
        labels = dict(zip(catalogue["product_id"], catalogue["label"], strict=True))
        p_id = shared.pick(
            c2, "Product", labels, "inv_p_product", "No products in these categories."
        )
        view = shared.guarded(lambda: svc.stock_view(p_store, p_id), NoPlanError)
        if view.is_empty():
            product_levels_card(svc.product_levels(p_store, p_id))
        else:
            fig = go.Figure(
                go.Scatter(
                    x=view["date"].to_list(),
                    y=view["on_hand_units"].to_list(),
                    name="on hand",
                    line={"shape": "hv", "color": "#1f77b4"},
                )
            )
            start: date = age.plan_as_of or cast(date, view["date"].max())
            span = [start, start + timedelta(days=28)]
            for col, name, color in (
                ("reorder_point", "reorder point", "#d62728"),
                ("order_up_to", "order-up-to", "#2ca02c"),
            ):
                level = view[col][0] if col in view.columns else None
                if level is not None:  # today's plan: drawn from the plan date on, not before
                    fig.add_trace(
                        go.Scatter(
                            x=span,
                            y=[level, level],
                            name=name,
                            mode="lines",
                            line={"dash": "dash", "color": color},
                        )
                    )
            fig.add_vline(x=start, line_dash="dot", line_color="grey")
            fig.update_layout(
                height=380,
                margin={"t": 10, "b": 10},
                yaxis_title="units",
                legend={"orientation": "h"},
            )
            st.plotly_chart(fig, key="inv_policy_chart")
            st.caption(
                f"Stock on hand up to {start:%d %b %Y}; dashed: the plan made that day, "
                "for the next four weeks."
            )

with sim_tab:
    if sim_tab.open:
        sim = shared.guarded(svc.simulation_summary, NoPlanError)
        if sim.is_empty():
            st.info("No simulation yet: run `python -m forecasting simulate`.")
        else:
            overall = sim.filter(sim["scope"] == "overall") if "scope" in sim.columns else sim
            st.caption(
                "Achieved cycle service (share of replenishment cycles without a "
                "stockout, pooled over items) against the stock it took, one point per "
                "target run; dotted lines: the targets. Up and to the left is better."
            )
            fig = px.line(
                overall.sort("policy", "avg_on_hand_units").to_pandas(),
                x="avg_on_hand_units",
                y="cycle_service_level",
                color="policy",
                symbol="policy",
                markers=True,
                labels={
                    "avg_on_hand_units": "average units on hand",
                    "cycle_service_level": "achieved cycle service",
                },
            )
            fig.update_yaxes(tickformat=".0%")
            for target in overall["target"].unique().to_list():
                fig.add_hline(
                    y=target,
                    line_dash="dot",
                    line_color="grey",
                    annotation_text=f"target {target:.0%}",
                )
            fig.update_layout(height=340, margin={"t": 10, "b": 10})
            st.plotly_chart(fig, key="inv_sim_chart")
            fmt.table(overall, key="inv_sim_table")
