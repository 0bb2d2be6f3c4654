"""Sales explorer: revenue/units by time (partial periods marked), by store, category or product
(ranked, drill-down), seasonality heatmap, product detail (units, paid price, stock); lazy tabs."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from pages import _charts as charts
from pages import _format as fmt
from pages import _reads as dash
from pages import _shared as shared

shared.require("sales")
filters = shared.filters()
st.title("Sales explorer")

by_time, by_dim, season, detail = st.tabs(
    ["By time", "By store / category / product", "Seasonality", "Product detail"],
    key="sales_tab",
    on_change="rerun",
)

with by_time:
    if by_time.open:
        c1, c2 = st.columns(2)
        grain = c1.radio(
            "Grain", ["day", "week", "month"], index=1, horizontal=True, key="sales_grain"
        )
        measure = c2.radio("Measure", ["revenue", "units"], horizontal=True, key="sales_measure")
        trend = dash.trend(filters, grain)
        if trend.is_empty():
            st.info("No sales for these filters.")
        else:
            st.plotly_chart(
                charts.trend_figure(
                    trend, grain, filters.start, filters.end, (measure,), height=340
                ),
                key="sales_trend",
            )
            st.caption(f"Grey open circles: a {grain} only partly inside the date range.")
            shared.export_buttons(trend, f"sales_by_{grain}", key="sales_trend_export")

with by_dim:
    if by_dim.open:
        c1, c2, c3 = st.columns([2, 2, 1])
        by = c1.radio(
            "Break down by", ["category", "store", "product"], horizontal=True, key="sales_by"
        )
        categories = filters.categories or tuple(dash.filter_options()[1])
        drill = None
        if by == "product":
            drill = (
                c2.selectbox("Drill into category", ["(all)", *categories], key="sales_drill")
                or "(all)"
            )
            drill = None if drill == "(all)" else drill
        top = c3.number_input("Top", 5, 200, 25, step=5, key="sales_top")
        table = dash.breakdown(filters, by, drill, int(top))
        if table.is_empty():
            st.info("No sales for these filters.")
        else:
            fig = px.bar(
                table.to_pandas(),
                x="revenue",
                y="label",
                orientation="h",
                hover_data={"units": ":,.0f", "revenue_share": ":.1%"},
                labels={"label": "", "revenue": "revenue"},
            )
            charts.money_axis(fig, "x")
            fig.update_layout(
                height=max(280, 22 * table.height),
                margin={"t": 10, "b": 10},
                yaxis={"autorange": "reversed"},
            )
            st.plotly_chart(fig, key="sales_breakdown")
            fmt.table(table.rename({"label": by}), key="sales_breakdown_table")
            shared.export_buttons(table, f"sales_by_{by}", key="sales_breakdown_export")

with season:
    if season.open:
        heat = dash.seasonality(filters)
        if heat.is_empty():
            st.info("No sales for these filters.")
        else:
            grid = heat.pivot(
                on="day_of_week", index="week_start", values="revenue", sort_columns=True
            ).sort("week_start")
            days = [c for c in grid.columns if c != "week_start"]
            names = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}
            fig = go.Figure(
                go.Heatmap(
                    z=grid.select(days).to_numpy().T,
                    x=grid["week_start"].to_list(),
                    y=[names[int(d)] for d in days],
                    colorscale="Viridis",
                    colorbar={"title": "£", "tickformat": ",.0f"},
                    hovertemplate="week of %{x|%d %b %Y}<br>%{y}: £%{z:,.0f}<extra></extra>",
                )
            )
            fig.update_layout(
                height=320, margin={"t": 10, "b": 10}, yaxis={"autorange": "reversed"}
            )
            st.plotly_chart(fig, key="sales_heatmap")
            st.caption(
                "Revenue per day: weeks left to right, Monday at the top; blank cells "
                "are days outside the date range."
            )

with detail:
    if detail.open:
        catalogue = dash.products(filters.categories)
        if catalogue.is_empty():
            shared.empty_state("No products in these categories.")
        labels = dict(zip(catalogue["product_id"], catalogue["label"], strict=True))
        product_id = st.selectbox(
            "Product (best sellers first)",
            list(labels),
            format_func=labels.get,
            key="sales_product",
        )
        item = dash.product_detail(product_id, filters)
        info = item.info
        c = st.columns(4)
        c[0].metric("Category", info["category"] or "n/a")
        c[1].metric("List price", fmt.money(info["unit_price"]))
        c[2].metric(
            "Unit cost" + (" (est.)" if info["is_cost_estimated"] else ""),
            fmt.money(info["unit_cost"]),
        )
        c[3].metric("Units in period", f"{item.history['units'].sum():,.0f}")
        fig = make_subplots(
            rows=3,
            cols=1,
            shared_xaxes=True,
            vertical_spacing=0.07,
            subplot_titles=(
                "Units sold per day",
                "Average price paid (£)",
                "Stock on hand and on order (units)",
            ),
        )
        hist, stock = item.history, item.stock
        fig.add_trace(
            go.Bar(x=hist["sale_date"].to_list(), y=hist["units"].to_list(), name="units"),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=hist["sale_date"].to_list(),
                y=hist["avg_unit_price"].round(2).to_list(),
                name="avg price",
                mode="lines",
            ),
            row=2,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=stock["snapshot_date"].to_list(),
                y=stock["on_hand_units"].to_list(),
                name="on hand",
                line_shape="hv",
            ),
            row=3,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=stock["snapshot_date"].to_list(),
                y=stock["on_order_units"].to_list(),
                name="on order",
                line_shape="hv",
            ),
            row=3,
            col=1,
        )
        fig.update_yaxes(tickformat=",.0f", row=1, col=1)
        fig.update_yaxes(tickprefix="£", tickformat=",.2f", nticks=5, row=2, col=1)
        fig.update_yaxes(tickformat=",.0f", row=3, col=1)
        fig.update_layout(height=620, margin={"t": 30, "b": 10}, legend={"orientation": "h"})
        st.plotly_chart(fig, key="sales_product_chart")
        shared.export_buttons(hist, f"product_{product_id}_history", key="sales_product_export")
