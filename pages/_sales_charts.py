"""Figures of the Sales explorer: ranked breakdown bars, the seasonality heatmap and the
three-panel product detail (units, price paid, stock). Plotly only, no Streamlit calls."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from pages import _charts as charts
from services.dashboard import ProductDetail, seasonality_grid
from services.display import period_unit, sales_measure

DAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


def breakdown_figure(table: pl.DataFrame) -> go.Figure:
    """Bars of a breakdown, largest on top: revenue on a £ axis, or units where the sales have
    no prices (`sales_measure`); the other measure and the share on hover."""
    measure = sales_measure(table)
    fig = px.bar(
        table.to_pandas(),
        x=measure,
        y="label",
        orientation="h",
        hover_data={"units": ":,.0f", f"{measure}_share": ":.1%"},
        labels={"label": "", measure: measure},
    )
    charts.value_axis(fig, "x", measure)
    fig.update_layout(
        height=max(280, 22 * table.height),
        margin={"t": 10, "b": 10},
        yaxis={"autorange": "reversed"},
    )
    return fig


def heatmap_figure(heat: pl.DataFrame) -> go.Figure:
    """Revenue (units where the sales have no prices) per day: weeks left to right, Monday at
    the top."""
    measure = sales_measure(heat)
    grid = seasonality_grid(heat, measure)
    days = [c for c in grid.columns if c != "week_start"]
    unit, value = ("£", "£%{z:,.0f}") if measure == "revenue" else ("units", "%{z:,.0f} units")
    fig = go.Figure(
        go.Heatmap(
            z=grid.select(days).to_numpy().T,
            x=grid["week_start"].to_list(),
            y=[DAY_NAMES[int(d)] for d in days],
            colorscale="Viridis",
            colorbar={"title": unit, "tickformat": ",.0f"},
            hovertemplate=f"week of %{{x|%d %b %Y}}<br>%{{y}}: {value}<extra></extra>",
        )
    )
    fig.update_layout(height=320, margin={"t": 10, "b": 10}, yaxis={"autorange": "reversed"})
    return fig


def product_figure(item: ProductDetail) -> go.Figure:
    """Units sold per day (per week for a weekly panel), average price paid and stock on hand /
    on order, one panel each; the price and stock panels only where there are prices and stock
    snapshots (a sales panel has neither: two empty panels before)."""
    hist, stock = item.history, item.stock
    priced = hist["avg_unit_price"].null_count() < hist.height
    titles = [f"Units sold per {period_unit(hist['sale_date'])}"]
    titles += ["Average price paid (£)"] * priced + ["Stock on hand and on order (units)"] * (
        not stock.is_empty()
    )
    fig = make_subplots(
        rows=len(titles),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=titles,
    )
    fig.add_trace(
        go.Bar(x=hist["sale_date"].to_list(), y=hist["units"].to_list(), name="units"),
        row=1,
        col=1,
    )
    fig.update_yaxes(tickformat=",.0f", row=1, col=1)
    row = 1
    if priced:
        row += 1
        fig.add_trace(
            go.Scatter(
                x=hist["sale_date"].to_list(),
                y=hist["avg_unit_price"].round(2).to_list(),
                name="avg price",
                mode="lines",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(tickprefix="£", tickformat=",.2f", nticks=5, row=row, col=1)
    if not stock.is_empty():
        row += 1
        for column, name in (("on_hand_units", "on hand"), ("on_order_units", "on order")):
            fig.add_trace(
                go.Scatter(
                    x=stock["snapshot_date"].to_list(),
                    y=stock[column].to_list(),
                    name=name,
                    line_shape="hv",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(tickformat=",.0f", row=row, col=1)
    fig.update_layout(
        height=140 + 160 * len(titles), margin={"t": 30, "b": 10}, legend={"orientation": "h"}
    )
    return fig
