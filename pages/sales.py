"""Sales explorer: revenue/units by time (partial periods marked), by store, category or product
(ranked, drill-down), seasonality heatmap, product detail (units, paid price, stock); lazy tabs."""

from __future__ import annotations

import streamlit as st

from pages import _charts as charts
from pages import _format as fmt
from pages import _reads as dash
from pages import _shared as shared
from pages._export import export_buttons
from pages._sales_charts import breakdown_figure, heatmap_figure, product_figure
from services.display import mark_partial, money, sales_measure, without_empty_columns

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
        span = dash.data_range()  # cached; a weekly panel has no day grain
        grain = c1.radio(
            "Grain",
            span.grains,
            index=span.grains.index("week"),
            horizontal=True,
            key="sales_grain",
        )
        trend = dash.trend(filters, grain)
        priced = sales_measure(trend) == "revenue"  # a panel without prices has no revenue
        measure = c2.radio(
            "Measure",
            ["revenue", "units"] if priced else ["units"],
            horizontal=True,
            key="sales_measure" if priced else "sales_measure_units",
            help=None if priced else "These sales have no prices: revenue is unknown.",
        )
        if trend.is_empty():
            st.info("No sales for these filters.")
        else:
            st.plotly_chart(
                charts.trend_figure(
                    trend,
                    grain,
                    filters.start,
                    filters.end,
                    (measure,),
                    height=340,
                    period_days=span.period_days,
                ),
                key="sales_trend",
            )
            cut = mark_partial(trend, grain, filters.start, filters.end, span.period_days)
            if cut["partial"].any():
                st.caption(f"Grey open circles: a {grain} only partly inside the date range.")
            export_buttons(trend, f"sales_by_{grain}", key="sales_trend_export")

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
            st.plotly_chart(breakdown_figure(table), key="sales_breakdown")
            fmt.table(
                without_empty_columns(table.rename({"label": by})), key="sales_breakdown_table"
            )
            export_buttons(table, f"sales_by_{by}", key="sales_breakdown_export")

with season:
    if season.open:
        heat = dash.seasonality(filters)
        if heat.is_empty():
            st.info("No sales for these filters.")
        else:
            if heat["day_of_week"].n_unique() == 1:
                st.info(
                    "Every sale here is dated on one weekday (a weekly panel: each week's "
                    "sales on its last day), so this grid shows weeks, not a weekday pattern."
                )
            st.plotly_chart(heatmap_figure(heat), key="sales_heatmap")
            st.caption(
                f"{sales_measure(heat).capitalize()} per day: weeks left to right, Monday at "
                "the top; blank cells are days outside the date range."
            )

with detail:
    if detail.open:
        catalogue = dash.products(filters.categories)
        if catalogue.is_empty():
            shared.empty_state("No products in these categories.")
        labels = dict(zip(catalogue["product_id"], catalogue["label"], strict=True))
        product_id = shared.pick(
            st, "Product (best sellers first)", labels, "sales_product", "No products."
        )
        item = dash.product_detail(product_id, filters)
        info = item.info
        c = st.columns(4)
        c[0].metric("Category", info["category"] or "n/a")
        c[1].metric("List price", money(info["unit_price"]))
        c[2].metric(
            "Unit cost" + (" (est.)" if info["is_cost_estimated"] else ""),
            money(info["unit_cost"]),
        )
        c[3].metric("Units in period", f"{item.history['units'].sum():,.0f}")
        st.plotly_chart(product_figure(item), key="sales_product_chart")
        export_buttons(item.history, f"product_{product_id}_history", key="sales_product_export")
