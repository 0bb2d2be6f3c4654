"""Chart helpers of the pages (plotly figures, no Streamlit): category colours and ranked bars."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import polars as pl

from pages._charts import PALETTE, category_colours, ranked_bars, trend_figure


def _lch(hex_colour: str) -> tuple[float, float, float]:
    """(lightness 0-100, chroma, hue in degrees) of an sRGB '#RRGGBB' colour (CIE LCh, D65)."""
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(v: float) -> float:
        return v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116

    fx, fy, fz = f(x), f(y), f(z)
    a, bb = 500 * (fx - fy), 200 * (fy - fz)
    return 116 * fy - 16, math.hypot(a, bb), math.degrees(math.atan2(bb, a)) % 360


def _look_alike(first: str, second: str) -> bool:
    """Two colours a reader confuses in a legend: same hue family (or both greys) at about the
    same lightness."""
    (l1, c1, h1), (l2, c2, h2) = _lch(first), _lch(second)
    if abs(l1 - l2) >= 12:
        return False
    if c1 < 15 and c2 < 15:
        return True
    hue_gap = min(abs(h1 - h2), 360 - abs(h1 - h2))
    return c1 >= 15 and c2 >= 15 and hue_gap < 25


def test_the_demo_categories_get_colours_no_reader_confuses() -> None:
    """The demo's 13 categories (and any catalogue up to 13) get pairwise distinct-looking
    colours; the earlier palette (Dark24) gave Beverages, Grocery, Stationery and Toys pinks and
    reds that the rule below flags."""
    names = [f"category {i:02d}" for i in range(13)]
    colours = list(category_colours(names).values())
    assert len(set(colours)) == 13
    clashes = [(a, b) for a, b in itertools.combinations(colours, 2) if _look_alike(a, b)]
    assert clashes == []
    assert _look_alike("#E15F99", "#FC0080")  # the rule catches the reported pair


def test_a_category_keeps_its_colour_whatever_else_is_shown() -> None:
    full = category_colours(["Toys", "Grocery", "Beverages", None])  # type: ignore[list-item]
    assert category_colours(["Grocery", "Toys", "Beverages"]) == full
    assert len(PALETTE) == len(set(PALETTE)) >= 24


def test_ranked_bars_keep_rank_order_and_one_legend_entry_per_category() -> None:
    frame = pl.DataFrame(
        {"product": ["a", "b", "c"], "score": [0.9, 0.5, 0.2], "category": ["X", "Y", "X"]}
    )
    fig = ranked_bars(frame, "score", "product", "category", ["X", "Y"], "Score")
    bars = fig.data[0]
    assert list(bars.y) == ["1. a", "2. b", "3. c"]
    assert fig.layout.yaxis.autorange == "reversed"  # first on top
    colours = category_colours(["X", "Y"])
    assert list(bars.marker.color) == [colours["X"], colours["Y"], colours["X"]]
    assert [trace.name for trace in fig.data[1:]] == ["X", "Y"]


def test_trend_leaves_out_a_measure_the_data_does_not_have() -> None:
    weeks = [dt.date(2017, 1, 2) + dt.timedelta(weeks=w) for w in range(6)]
    panel = pl.DataFrame(
        {"period_start": weeks, "revenue": [None] * 6, "units": [10.0, 12, 9, 11, 13, 12]},
        schema_overrides={"revenue": pl.Float64},
    )
    figure = trend_figure(panel, "week", weeks[0], weeks[-1] + dt.timedelta(days=6))
    titles = [a.text for a in figure.layout.annotations]
    assert titles == ["Units"] and {t.name for t in figure.data} <= {"Units", "partial week"}
    priced = panel.with_columns(pl.col("units").mul(2.5).alias("revenue"))
    both = trend_figure(priced, "week", weeks[0], weeks[-1] + dt.timedelta(days=6))
    assert [a.text for a in both.layout.annotations] == ["Revenue (£)", "Units"]


def test_a_weekly_panels_weeks_are_whole_but_its_months_can_be_cut() -> None:
    """A weekly panel's week is one source row, never partial, even where it starts before
    the range; its months are cut by the range as a daily panel's are."""
    from services.display import mark_partial

    starts = [dt.date(2024, 1, 2) + dt.timedelta(weeks=w) for w in range(4)]
    weeks = pl.DataFrame({"period_start": starts, "revenue": [1.0] * 4, "units": [1.0] * 4})
    first, last = dt.date(2024, 1, 5), starts[-1] + dt.timedelta(days=6)
    assert (
        mark_partial(weeks, "week", first, last, period_days=7)["partial"].to_list() == [False] * 4
    )
    assert mark_partial(weeks, "week", first, last)["partial"].to_list() == [
        True,
        False,
        False,
        False,
    ]
    months = pl.DataFrame({"period_start": [dt.date(2024, 1, 1)], "revenue": [1.0], "units": [1.0]})
    assert mark_partial(months, "month", first, last, period_days=7)["partial"].to_list() == [True]
