"""Parts of the Forecasts page: the forecast-band chart, backtest accuracy, drivers."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from forecasting.errors import NoForecastError
from pages import _charts as charts
from pages import _format as fmt
from pages import _services as svc
from pages import _shared as shared
from services.accuracy import compare_models, frequencies, segments_and_default
from services.display import frequency_label, model_label, period_unit


def band_figure(forecast: pl.DataFrame, recent: pl.DataFrame) -> go.Figure:
    """History, the forecast and its 80/95 % bands on one axis of units per day (per week
    for a weekly panel)."""
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
        height=420,
        margin={"t": 40, "b": 10},
        yaxis_title=f"units per {period_unit(forecast['date'])}",
        legend=charts.LEGEND_ABOVE,
    )
    return fig


def backtest_block() -> None:
    """Backtest accuracy of the models scored on the same series (bars, table, the others)."""
    backtest = shared.guarded(svc.backtest_summary, NoForecastError)
    if backtest.is_empty():
        st.info("No backtest yet: run `python -m forecasting backtest`.")
        return
    c1, c2 = st.columns(2)
    segments, default = segments_and_default(backtest)
    seg = c1.selectbox("Segment", segments, index=default, key="fc_segment")
    freq = c2.selectbox(
        "Frequency", frequencies(backtest, seg), format_func=frequency_label, key="fc_frequency"
    )
    # Only models scored on the same series are compared: the set most models share.
    comparison = compare_models(backtest, seg, freq)
    same, human = comparison.n_series, pl.col("model").map_elements(model_label, pl.String)
    ranked, others = (f.with_columns(human) for f in (comparison.ranked, comparison.others))
    # the table loads Streamlit's data grid (about 0.5 s of a first render): a lazy tab
    chart_tab, table_tab = st.tabs(["Chart", "Table"], key="fc_backtest_view", on_change="rerun")
    with chart_tab:
        if chart_tab.open:
            bar = px.bar(
                ranked.to_pandas(),
                x="wape",
                y="model",
                orientation="h",
                labels={"wape": f"WAPE, {same:,} series (lower is better)", "model": ""},
            )
            bar.update_xaxes(tickformat=".0%")
            bar.update_layout(
                height=max(200, 40 * ranked.height),
                margin={"t": 10, "b": 10},
                yaxis={"autorange": "reversed"},
            )
            st.plotly_chart(bar, key="fc_backtest")
    with table_tab:
        if table_tab.open:
            fmt.table(
                ranked.select("model", "wape", "mase", "bias", "coverage_80", "n_series"),
                key="fc_backtest_table",
                first=("model", "wape"),
            )
    if others.height:
        st.caption(
            "Not compared (scored on other series): "
            + "; ".join(
                f"{r['model']} on {r['n_series']:,} series, WAPE {r['wape']:.1%}"
                for r in others.iter_rows(named=True)
            )
        )


def drivers_block(store_id: str | None, product_id: str | None) -> None:
    """Drivers of one store x product's forecast, labelled when not from the forecast model."""
    if store_id is None or product_id is None:
        st.info("Drivers are shown for one store x product.")
        return
    view = shared.guarded(lambda: svc.forecast_drivers(store_id, product_id), NoForecastError)
    drivers = view.frame
    if drivers.is_empty():
        st.info(view.note)
        return
    code = view.forecast_model
    note = view.note.replace(code, model_label(code)) if code else view.note  # human name
    (st.caption if view.from_forecast_model else st.warning)(note)
    bar = px.bar(
        drivers.sort("contribution").to_pandas(),
        x="contribution",
        y="driver",
        orientation="h",
    )
    bar.update_layout(height=300, margin={"t": 10, "b": 10})
    st.plotly_chart(bar, key="fc_drivers")
