"""Forecasts: history, forecast and 80/95 % bands in one chart for a store x product, a category
or the total; the model and its backtest accuracy beside the baselines; drivers."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from forecasting.errors import NoForecastError
from pages import _format as fmt
from pages import _reads as dash
from pages import _services as svc
from pages import _shared as shared

shared.require("forecasts")
st.title("Forecasts")
filters = shared.filters()
stores, categories = dash.filter_options()

level = st.radio("Level", ["Store x product", "Category", "Total"], horizontal=True, key="fc_level")
store_id = product_id = category = None
if level == "Store x product":
    c1, c2 = st.columns(2)
    store_id = c1.selectbox("Store", list(stores), format_func=stores.get, key="fc_store")
    catalogue = dash.products(filters.categories)
    labels = dict(zip(catalogue["product_id"], catalogue["label"], strict=True))
    product_id = c2.selectbox("Product", list(labels), format_func=labels.get, key="fc_product")
elif level == "Category":
    category = st.selectbox("Category", categories, key="fc_category")

forecast = shared.guarded(lambda: svc.forecast(store_id, product_id, category), NoForecastError)
history = shared.guarded(lambda: svc.history(store_id, product_id, category), NoForecastError)
if forecast.is_empty():
    shared.empty_state("No forecast for this selection: run `python -m forecasting run`.")

show_days = st.slider("History shown (days)", 28, 365, 120, key="fc_history_days")
start = forecast["date"].min()
recent = history.filter(pl.col("date") >= start - pl.duration(days=show_days)) if start else history
fig = go.Figure()
dates = forecast["date"].to_list()
for lo, hi, name, alpha in (
    ("yhat_lo_95", "yhat_hi_95", "95 %", 0.15),
    ("yhat_lo_80", "yhat_hi_80", "80 %", 0.3),
):
    fig.add_trace(
        go.Scatter(
            x=dates + dates[::-1],
            y=forecast[hi].to_list() + forecast[lo].to_list()[::-1],
            fill="toself",
            fillcolor=f"rgba(31,119,180,{alpha})",
            line={"width": 0},
            name=f"{name} band",
            hoverinfo="skip",
        )
    )
fig.add_trace(
    go.Scatter(
        x=recent["date"].to_list(),
        y=recent["units"].to_list(),
        name="history",
        mode="lines",
        line={"color": "#444"},
    )
)
fig.add_trace(
    go.Scatter(
        x=dates,
        y=forecast["yhat"].to_list(),
        name="forecast",
        mode="lines",
        line={"color": "#1f77b4", "width": 2},
    )
)
fig.update_yaxes(tickformat=",.0f", rangemode="tozero")
fig.update_layout(
    height=420, margin={"t": 10, "b": 10}, yaxis_title="units per day", legend={"orientation": "h"}
)
st.plotly_chart(fig, key="fc_chart")
model = forecast["model"][0] if "model" in forecast.columns else "?"
st.caption(
    f"Model: **{model}** · horizon {forecast.height} days · "
    f"{forecast['yhat'].sum():,.0f} units forecast in total."
)
shared.export_buttons(forecast, "forecast", key="fc_export")

left, right = st.columns(2)
with left:
    st.subheader("Backtest accuracy")
    backtest = shared.guarded(svc.backtest_summary, NoForecastError)
    if backtest.is_empty():
        st.info("No backtest yet: run `python -m forecasting backtest`.")
    else:
        c1, c2 = st.columns(2)
        segments = backtest["segment"].unique().sort().to_list()
        seg = c1.selectbox(
            "Segment",
            segments,
            index=segments.index("all") if "all" in segments else 0,
            key="fc_segment",
        )
        freqs = backtest.filter(pl.col("segment") == seg)["frequency"].unique().sort().to_list()
        freq = c2.selectbox("Frequency", freqs, key="fc_frequency")
        part = backtest.filter((pl.col("segment") == seg) & (pl.col("frequency") == freq))
        # Only models scored on the same series are compared: the set most models share.
        sizes = part.group_by("n_series").len().sort(["len", "n_series"], descending=True)
        same = sizes["n_series"][0] if sizes.height else None
        ranked = part.filter(pl.col("n_series") == same).sort("wape")
        bar = px.bar(
            ranked.to_pandas(),
            x="wape",
            y="model",
            orientation="h",
            labels={"wape": f"WAPE on the same {same:,} series (lower is better)", "model": ""},
        )
        bar.update_xaxes(tickformat=".0%")
        bar.update_layout(
            height=max(200, 40 * ranked.height),
            margin={"t": 10, "b": 10},
            yaxis={"autorange": "reversed"},
        )
        st.plotly_chart(bar, key="fc_backtest")
        fmt.table(
            ranked.select("model", "wape", "mase", "bias", "coverage_80", "n_series"),
            key="fc_backtest_table",
            first=("model", "wape"),
        )
        others = part.filter(pl.col("n_series") != same)
        if others.height:
            st.caption(
                "Not compared (scored on other series): "
                + "; ".join(
                    f"{r['model']} on {r['n_series']:,} series, WAPE {r['wape']:.1%}"
                    for r in others.iter_rows(named=True)
                )
            )
with right:
    st.subheader("Drivers")
    if store_id is None or product_id is None:
        st.info("Drivers are shown for one store x product.")
    else:
        view = shared.guarded(lambda: svc.forecast_drivers(store_id, product_id), NoForecastError)
        drivers = view.frame
        if drivers.is_empty():
            st.info(view.note)
        else:
            (st.caption if view.from_forecast_model else st.warning)(view.note)
            bar = px.bar(
                drivers.sort("contribution").to_pandas(),
                x="contribution",
                y="driver",
                orientation="h",
            )
            bar.update_layout(height=300, margin={"t": 10, "b": 10})
            st.plotly_chart(bar, key="fc_drivers")
