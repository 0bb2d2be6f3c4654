"""Charts that tell the truth, shared by the pages (plotly figures, no Streamlit calls).

Different units get their own axes (small multiples), partial periods at the edges are marked,
money axes read £1,234, ranked bars keep rank order with one distinct colour per category."""

from __future__ import annotations

from datetime import date

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from services.display import mark_partial

#: Category colours: Tableau 10 and 3 unlike it first (Dark24 alone made 4 of 13 pink or red).
_FIRST = [*px.colors.qualitative.T10, "#222A2A", "#1F3A93", "#00B3E6"]
PALETTE = tuple(dict.fromkeys(_FIRST + [c.upper() for c in px.colors.qualitative.Dark24]))
UNITS: dict[str, tuple[str, str]] = {"revenue": ("Revenue (£)", "£"), "units": ("Units", "")}
#: A horizontal legend above the plot, right-aligned: below it, it hid the year of a date axis.
LEGEND_ABOVE = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1}


def trend_figure(
    trend: pl.DataFrame,
    grain: str,
    first: date,
    last: date,
    measures: tuple[str, ...] = ("revenue", "units"),
    height: int = 360,
    period_days: int = 1,
) -> go.Figure:
    """A small multiple per measure with data (no flat zero line); partial periods in grey
    (`period_days` 7: a weekly panel, whose weeks are whole)."""
    measures = tuple(m for m in measures if trend[m].null_count() < trend.height) or measures
    data = mark_partial(trend, grain, first, last, period_days)
    fig = make_subplots(
        rows=len(measures),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[UNITS[m][0] for m in measures],
    )
    full = data.filter(~pl.col("partial"))
    cut = data.filter(pl.col("partial"))
    for row, measure in enumerate(measures, start=1):
        title, prefix = UNITS[measure]
        fig.add_trace(
            go.Scatter(
                x=full["period_start"].to_list(),
                y=full[measure].to_list(),
                mode="lines+markers",
                name=title,
                showlegend=False,
                line={"color": "#1f77b4"},
                hovertemplate=f"%{{x|%d %b %Y}}: {prefix}%{{y:,.0f}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        if cut.height:
            fig.add_trace(
                go.Scatter(
                    x=cut["period_start"].to_list(),
                    y=cut[measure].to_list(),
                    mode="markers",
                    name=f"partial {grain}",
                    showlegend=row == 1,
                    marker={"color": "#bbbbbb", "symbol": "circle-open", "size": 10},
                    hovertemplate=f"partial {grain} %{{x|%d %b %Y}}: {prefix}%{{y:,.0f}}"
                    "<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(tickprefix=prefix, tickformat=",.0f", rangemode="tozero", row=row, col=1)
    fig.update_layout(height=height, margin={"t": 50, "b": 10}, legend=LEGEND_ABOVE)
    return fig


def value_axis(fig: go.Figure, axis: str = "x", measure: str = "revenue") -> go.Figure:
    """Round ticks with thousand separators on `axis` ('x' or 'y'); £ when `measure` is revenue."""
    style = {"tickprefix": "£" if measure == "revenue" else "", "tickformat": ",.0f"}
    (fig.update_xaxes if axis == "x" else fig.update_yaxes)(**style, separatethousands=True)
    return fig


def category_colours(categories: list[str]) -> dict[str, str]:
    """One distinct colour per category (sorted, so a category keeps its colour everywhere)."""
    names = sorted({c for c in categories if c is not None})
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def ranked_bars(
    frame: pl.DataFrame,
    value: str,
    label: str,
    colour_by: str,
    all_categories: list[str],
    value_title: str,
    height_per_bar: int = 24,
    value_range: tuple[float, float] | None = None,
) -> go.Figure:
    """Bars in rank order (first on top), coloured by `colour_by`; x spans `value_range`."""
    colours = category_colours(all_categories)
    shown = frame.with_columns(pl.col(colour_by).fill_null("(none)"))
    labels = [f"{i + 1}. {text}" for i, text in enumerate(shown[label].to_list())]
    fig = go.Figure(
        go.Bar(
            x=shown[value].to_list(),
            y=labels,
            orientation="h",
            marker={"color": [colours.get(c, "#7f7f7f") for c in shown[colour_by].to_list()]},
            customdata=shown[colour_by].to_list(),
            showlegend=False,
            hovertemplate="%{y}<br>%{customdata}: %{x:.3f}<extra></extra>",
        )
    )
    for name in dict.fromkeys(shown[colour_by].to_list()):  # legend: one entry per category
        fig.add_trace(
            go.Bar(
                x=[None],
                y=[None],
                name=name,
                orientation="h",
                marker={"color": colours.get(name, "#7f7f7f")},
            )
        )
    fig.update_layout(
        height=max(260, height_per_bar * frame.height + 60),
        barmode="overlay",
        margin={"t": 10, "b": 10},
        xaxis={"title": value_title, "range": list(value_range) if value_range else None},
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": labels},
        legend={"title": colour_by},
    )
    return fig
