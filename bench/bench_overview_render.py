"""What the Overview spends its render on once its queries are cached: the figures.

Profiling the Overview's first render per session with AppTest (cProfile in the script thread)
showed the movers chart built with `plotly.express` as the largest part. This bench builds the
figures of the Overview on the same movers and trend frames and serialises them (what
`st.plotly_chart` does): the former `px.bar` movers chart (baseline, kept here), the `go.Bar`
one the page uses now (`pages._movers_chart.movers_figure`) and the trend small multiples.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_overview_render.py [--db demo.duckdb]

Without --db a scale-0.1 demo warehouse is built in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from pages._charts import trend_figure, value_axis
from pages._movers_chart import movers_figure
from services import dashboard
from warehouse.db import reading
from warehouse.demo import DemoConfig, build_demo


def px_movers(movers: pl.DataFrame) -> go.Figure:
    """The movers chart as the Overview built it before (plotly express), the baseline."""
    chart = movers.sort("change")
    chart = chart.with_columns(label=chart["product_id"] + " " + chart["description"])
    fig = px.bar(
        chart.to_pandas(),
        x="change",
        y="label",
        color="direction",
        orientation="h",
        color_discrete_map={"up": "#2e7d32", "down": "#c62828"},
        labels={"change": "revenue change vs the previous period", "label": ""},
        hover_data={
            "category": True,
            "revenue": ":,.0f",
            "previous_revenue": ":,.0f",
            "change_pct": ":.1%",
        },
    )
    value_axis(fig, "x")
    fig.update_layout(
        height=max(300, 24 * chart.height), margin={"t": 10, "b": 10}, showlegend=False
    )
    return fig


def timed(build: Callable[[], go.Figure], repeats: int) -> list[float]:
    """Seconds to build and serialise the figure, `repeats` times."""
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        build().to_json()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    """Print one row per figure: median and max ms, and the ratio to the px.bar baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = args.db
        if db is None:
            db = Path(folder) / "demo.duckdb"
            build_demo(db, DemoConfig(scale=0.1, seed=7))
        with reading(db) as con:
            span = dashboard.data_range(con)
            assert span.last_day is not None, "the warehouse has no sales"
            filters = dashboard.Filters(span.last_day - timedelta(days=89), span.last_day)
            movers = dashboard.movers(con, filters, 10)
            trend = dashboard.trend(con, filters, "week")
    cases: dict[str, Callable[[], go.Figure]] = {
        "movers px.bar (before)": lambda: px_movers(movers),
        "movers go.Bar (now)": lambda: movers_figure(movers),
        "trend small multiples": lambda: trend_figure(trend, "week", filters.start, filters.end),
    }
    for build in cases.values():
        build().to_json()  # warm-up: plotly's lazy imports and validators
    samples = {name: timed(build, args.repeats) for name, build in cases.items()}
    base = statistics.median(samples["movers px.bar (before)"])
    print(
        f"Overview figures, {db.name}, {movers.height} movers, {trend.height} weeks, "
        f"{args.repeats} runs each, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'figure':26s} {'median ms':>10s} {'max ms':>8s} {'vs before':>10s}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:26s} {median * 1000:10.1f} {max(values) * 1000:8.1f} {median / base:9.2f}x")


if __name__ == "__main__":
    main()
