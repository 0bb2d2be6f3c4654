"""The Overview's movers chart: change per product (revenue, or units where the sales have no
prices), risers green, fallers red.

Built from `go.Bar` traces directly: `plotly.express` spent most of the Overview's render
building this one figure (pandas conversion, templates), see docs/BENCHMARKS.md.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from pages import _charts as charts
from services.display import movers_measure

COLOURS = {"up": "#2e7d32", "down": "#c62828"}
HOVER = (
    "%{y}<br>change %{x:,.0f}<br>category %{customdata[0]}<br>{measure} %{customdata[1]:,.0f}"
    " (before %{customdata[2]:,.0f}, %{customdata[3]:.1%})<extra></extra>"
)


def movers_figure(movers: pl.DataFrame) -> go.Figure:
    """Horizontal bars of `services.dashboard.movers` rows, sorted by change (largest on top)."""
    chart = movers.sort("change").with_columns(
        (pl.col("product_id") + " " + pl.col("description")).alias("label")
    )
    measure = movers_measure(chart)
    now, before = (
        ("revenue", "previous_revenue") if measure == "revenue" else ("units", "previous_units")
    )
    fig = go.Figure()
    for direction in chart["direction"].unique(maintain_order=True).to_list():
        part = chart.filter(pl.col("direction") == direction)
        fig.add_trace(
            go.Bar(
                x=part["change"].to_list(),
                y=part["label"].to_list(),
                orientation="h",
                name=direction,
                marker_color=COLOURS.get(direction, "#7f7f7f"),
                customdata=part.select("category", now, before, "change_pct").rows(),
                hovertemplate=HOVER.replace("{measure}", measure),
            )
        )
    charts.value_axis(fig, "x", measure)
    fig.update_layout(
        height=max(300, 24 * chart.height),
        margin={"t": 10, "b": 10},
        showlegend=False,
        barmode="relative",
        xaxis_title=f"{measure} change vs the previous period",
        yaxis={"categoryorder": "array", "categoryarray": chart["label"].to_list()},
    )
    return fig
