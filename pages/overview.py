"""Overview (managers): KPI cards vs the previous period, trend, top and bottom movers, alerts."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from pages import _reads as dash
from pages import _shared as shared

shared.require("overview")
filters = shared.filters()
st.title("Overview")
st.caption(f"{filters.start} → {filters.end} ({filters.days} days), compared with the "
           f"{filters.days} days before.")

for message in dash.alerts(filters):
    st.warning(message, icon=":material/warning:")

kpis = dash.kpis(filters)
for row in (kpis[:4], kpis[4:]):
    for col, kpi in zip(st.columns(4), row, strict=False):
        delta = None if kpi.change is None else f"{kpi.change:+.1%}"
        col.metric(kpi.name, shared.fmt_value(kpi.value, kpi.unit), delta,
                   delta_color="normal" if kpi.higher_is_better else "inverse", border=True)

left, right = st.columns([3, 1], vertical_alignment="bottom")
left.subheader("Trend")
grain = right.segmented_control("Grain", ["day", "week", "month"], default="week",
                                key="overview_grain") or "week"
trend = dash.trend(filters, grain)
if trend.is_empty():
    st.info("No sales in this period for the chosen stores and categories.")
else:
    fig = px.line(trend.to_pandas(), x="period_start", y=["revenue", "units"],
                  labels={"period_start": grain, "value": "", "variable": ""}, markers=True)
    fig.update_layout(height=320, margin={"t": 10, "b": 10}, legend={"orientation": "h"})
    st.plotly_chart(fig, key="overview_trend")

st.subheader("Top and bottom movers")
n = st.slider("Products per list", 3, 25, 10, key="overview_movers_n")
movers = dash.movers(filters, n)
if movers.is_empty():
    st.info("No revenue change to rank in this period.")
else:
    chart = movers.sort("change").with_columns(
        label=movers.sort("change")["product_id"] + " " + movers.sort("change")["description"])
    fig = px.bar(chart.to_pandas(), x="change", y="label", color="direction", orientation="h",
                 color_discrete_map={"up": "#2e7d32", "down": "#c62828"},
                 labels={"change": "revenue change (GBP)", "label": ""},
                 hover_data=["category", "revenue", "previous_revenue", "change_pct"])
    fig.update_layout(height=max(300, 24 * chart.height), margin={"t": 10, "b": 10},
                      showlegend=False)
    st.plotly_chart(fig, key="overview_movers")
    up, down = st.columns(2)
    cfg = {"change_pct": st.column_config.NumberColumn("change", format="percent"),
           "revenue": st.column_config.NumberColumn(format="£%.0f"),
           "previous_revenue": st.column_config.NumberColumn("before", format="£%.0f"),
           "change": st.column_config.NumberColumn("Δ GBP", format="£%.0f")}
    cols = ["product_id", "description", "revenue", "previous_revenue", "change", "change_pct"]
    up.markdown("**Rising**")
    up.dataframe(movers.filter(direction="up").select(cols), column_config=cfg, hide_index=True)
    down.markdown("**Falling**")
    down.dataframe(movers.filter(direction="down").select(cols), column_config=cfg,
                   hide_index=True)
    shared.export_buttons(movers, "movers", key="overview_export")
