"""Inventory: what to order today (sortable, filterable, with reasons), purchase-order export,
per-product policy over simulated and actual stock, service-level simulation summary."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from forecasting.errors import NoPlanError
from pages import _reads as dash
from pages import _services as svc
from pages import _shared as shared

shared.require("inventory")
st.title("Inventory")
filters = shared.filters()
stores, _ = dash.filter_options()

order_tab, product_tab, sim_tab = st.tabs(["What to order today", "Per product",
                                           "Service-level simulation"])
with order_tab:
    store = st.selectbox("Store", ["(all)", *(filters.stores or stores)],
                         format_func=lambda s: stores.get(s, s), key="inv_store")
    todo = shared.guarded(lambda: svc.what_to_order(None if store == "(all)" else store),
                          NoPlanError)
    if filters.categories and "category" in todo.columns:
        todo = todo.filter(todo["category"].is_in(list(filters.categories)))
    search = st.text_input("Filter by product id or description", key="inv_search")
    if search and "description" in todo.columns:
        needle = search.lower()
        todo = todo.filter(todo["product_id"].str.to_lowercase().str.contains(needle, literal=True)
                           | todo["description"].str.to_lowercase().str.contains(needle,
                                                                                 literal=True))
    c = st.columns(3)
    c[0].metric("Lines to order", f"{todo.height:,}")
    c[1].metric("Units", f"{todo['suggested_order_qty'].sum():,.0f}" if todo.height else "0")
    if "order_value" in todo.columns:
        c[2].metric("Order value", shared.fmt_value(float(todo["order_value"].sum() or 0), "GBP"))
    if todo.is_empty():
        st.success("Nothing to order for this selection.")
    else:
        st.dataframe(todo, hide_index=True, height=420)
        shared.export_buttons(todo, "purchase_order", key="inv_export", label="Purchase order")

with product_tab:
    c1, c2 = st.columns(2)
    p_store = c1.selectbox("Store", list(stores), format_func=stores.get, key="inv_p_store")
    catalogue = dash.products(filters.categories)
    labels = dict(zip(catalogue["product_id"], catalogue["label"], strict=True))
    p_id = c2.selectbox("Product", list(labels), format_func=labels.get, key="inv_p_product")
    view = shared.guarded(lambda: svc.stock_view(p_store, p_id), NoPlanError)
    if view.is_empty():
        st.info("No stock history for this store x product.")
    else:
        fig = go.Figure()
        for col, name, dash in (("on_hand_units", "on hand", None),
                                ("simulated_on_hand_units", "simulated on hand", "dot"),
                                ("reorder_point", "reorder point", "dash"),
                                ("order_up_to", "order-up-to", "dash")):
            if col in view.columns:
                fig.add_trace(go.Scatter(x=view["date"].to_list(), y=view[col].to_list(),
                                         name=name, line={"dash": dash, "shape": "hv"}))
        fig.update_layout(height=380, margin={"t": 10, "b": 10}, yaxis_title="units",
                          legend={"orientation": "h"})
        st.plotly_chart(fig, key="inv_policy_chart")

with sim_tab:
    sim = shared.guarded(svc.simulation_summary, NoPlanError)
    if sim.is_empty():
        st.info("No simulation yet: run `python -m forecasting simulate`.")
    else:
        overall = sim.filter(sim["scope"] == "overall") if "scope" in sim.columns else sim
        st.caption("Achieved cycle service (share of replenishment cycles without a stockout, "
                   "pooled over items) against the stock it took, one point per target run; "
                   "dotted lines: the targets. Up and to the left is better.")
        fig = px.line(overall.sort("policy", "avg_on_hand_units").to_pandas(),
                      x="avg_on_hand_units", y="cycle_service_level", color="policy",
                      symbol="policy", markers=True, hover_data=list(overall.columns),
                      labels={"avg_on_hand_units": "average units on hand",
                              "cycle_service_level": "achieved cycle service"})
        fig.update_yaxes(tickformat=".0%")
        for target in overall["target"].unique().to_list():
            fig.add_hline(y=target, line_dash="dot", line_color="grey",
                          annotation_text=f"target {target:.0%}")
        fig.update_layout(height=340, margin={"t": 10, "b": 10})
        st.plotly_chart(fig, key="inv_sim_chart")
        st.dataframe(overall, hide_index=True)
