"""Forecasts: history, forecast and 80/95 % bands in one chart for a store x product, a category
or the total; the model and its backtest accuracy beside the baselines; drivers."""

from __future__ import annotations

import polars as pl
import streamlit as st

from forecasting.errors import NoForecastError
from pages import _reads as dash
from pages import _services as svc
from pages import _shared as shared
from pages._export import export_buttons
from pages._forecast_parts import backtest_block, band_figure, drivers_block
from services.display import model_label, period_unit

shared.require("forecasts")
st.title("Forecasts")
filters = shared.filters()
stores, categories = dash.filter_options()

level = st.radio("Level", ["Store x product", "Category", "Total"], horizontal=True, key="fc_level")
store_id = product_id = category = None
if level == "Store x product":
    c1, c2 = st.columns(2)
    store_id = shared.pick(c1, "Store", stores, "fc_store", "No stores.")
    catalogue = dash.products(filters.categories)
    labels = dict(zip(catalogue["product_id"], catalogue["label"], strict=True))
    product_id = shared.pick(
        c2, "Product", labels, "fc_product", "No products in these categories."
    )
elif level == "Category":
    category = st.selectbox("Category", categories, key="fc_category")

forecast = shared.guarded(lambda: svc.forecast(store_id, product_id, category), NoForecastError)
history = shared.guarded(lambda: svc.history(store_id, product_id, category), NoForecastError)
if forecast.is_empty():
    shared.empty_state("No forecast for this selection: run `python -m forecasting run`.")

if not forecast.is_empty() and period_unit(forecast["date"]) == "week":  # a weekly panel
    show_days = 7 * st.slider("History shown (weeks)", 4, 156, 52, key="fc_history_weeks")
else:
    show_days = st.slider("History shown (days)", 28, 365, 120, key="fc_history_days")
start = forecast["date"].min()
recent = history.filter(pl.col("date") >= start - pl.duration(days=show_days)) if start else history
st.plotly_chart(band_figure(forecast, recent), key="fc_chart")
model = model_label(forecast["model"][0]) if "model" in forecast.columns else "?"
st.caption(
    f"Model: **{model}** · horizon {forecast.height} {period_unit(forecast['date'])}s · "
    f"{forecast['yhat'].sum():,.0f} units forecast in total."
)
export_buttons(forecast, "forecast", key="fc_export")

left, right = st.columns(2)
with left:
    st.subheader("Backtest accuracy")
    backtest_block()
with right:
    st.subheader("Drivers")
    drivers_block(store_id, product_id)
