"""Overview (managers): what needs action today, KPI cards vs the previous period, revenue and
units as small multiples (partial periods marked), top and bottom movers."""

from __future__ import annotations

import streamlit as st

from pages import _charts as charts
from pages import _format as fmt
from pages import _reads as dash
from pages import _shared as shared
from pages._export import export_buttons
from pages._movers_chart import movers_figure
from services.display import kpi_text, mark_partial, mover_rows

MOVER_FIRST = ("product_id", "description", "change", "units_change", "change_pct")

shared.require("overview")
filters = shared.filters()
st.title("Overview")
shared.freshness_banner(dash.data_age())
for message in dash.alerts(filters):
    st.warning(message, icon=":material/warning:")
st.caption(
    f"{filters.start:%d %b %Y} → {filters.end:%d %b %Y} ({filters.days} days), compared "
    f"with the {filters.days} days before."
)

kpis = dash.kpis(filters)
for row in (kpis[:4], kpis[4:]):
    for col, kpi in zip(st.columns(4), row, strict=False):
        delta = None if kpi.change is None else f"{kpi.change:+.1%}"
        col.metric(
            kpi.name,
            kpi_text(kpi.value, kpi.unit),
            delta,
            delta_color="normal" if kpi.higher_is_better else "inverse",
            border=True,
        )

left, right = st.columns([3, 1], vertical_alignment="bottom")
left.subheader("Trend")
span = dash.data_range()  # cached; a weekly panel has no day grain
grain = (
    right.segmented_control("Grain", span.grains, default="week", key="overview_grain") or "week"
)
trend = dash.trend(filters, grain)
if trend.is_empty():
    st.info("No sales in this period for the chosen stores and categories.")
else:
    st.plotly_chart(
        charts.trend_figure(trend, grain, filters.start, filters.end, period_days=span.period_days),
        key="overview_trend",
    )
    if mark_partial(trend, grain, filters.start, filters.end, span.period_days)["partial"].any():
        st.caption(f"Grey open circles: a {grain} only partly inside the date range (not a drop).")

st.subheader("Top and bottom movers")
n = st.slider("Products per list", 3, 25, 10, key="overview_movers_n")
movers = dash.movers(filters, n)
if movers.is_empty():
    st.info("No change in sales to rank in this period.")
else:
    # The tables load Streamlit's data grid (about 0.5 s of a first render, issue 18): a lazy
    # tab, built only when opened.
    chart_tab, table_tab = st.tabs(
        ["Chart", "Table"], key="overview_movers_view", on_change="rerun"
    )
    with chart_tab:
        if chart_tab.open:
            st.plotly_chart(movers_figure(movers), key="overview_movers")
    with table_tab:
        if table_tab.open:
            for column, (title, direction) in zip(
                st.columns(2), (("Rising", "up"), ("Falling", "down")), strict=True
            ):
                column.markdown(f"**{title}**")
                with column:
                    fmt.table(
                        mover_rows(movers, direction),
                        key=f"overview_{direction}",
                        first=MOVER_FIRST,
                    )
    export_buttons(movers, "movers", key="overview_export")
