"""The small services split out of the pages (issue 11): display rules, backtest comparison,
uploaded id lists, file loads by kind, the seasonality grid; the Overview's movers chart."""

from __future__ import annotations

import datetime as dt
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pages._forecast_parts import band_figure
from pages._movers_chart import movers_figure
from pages._sales_charts import heatmap_figure, product_figure
from recsys.schemas import CUSTOMER_HISTORY_SCHEMA
from services.accuracy import compare_models, frequencies, segments_and_default
from services.dashboard import ProductDetail, seasonality_grid
from services.display import (
    frequency_label,
    kpi_text,
    label,
    model_label,
    money,
    mover_rows,
    number_format,
    period_unit,
    purchase_lines,
    sales_measure,
    score_axis,
    serving_text,
    tidy,
    without_empty_columns,
)
from services.loads import load_file
from services.merch import customer_ids_from_upload
from warehouse.db import WarehouseError, query, reading


def test_model_labels_are_human() -> None:
    assert model_label("lightgbm_median") == "LightGBM (median)"
    assert model_label("seasonal_naive") == "Seasonal naive" and model_label("ets") != "ets"
    assert model_label("ets+lightgbm+lightgbm_median") == (
        "Blend: Exponential smoothing + LightGBM + LightGBM (median)"
    )
    assert model_label("new_model") == "New model"  # unknown codes still lose the snake case


def test_display_rules() -> None:
    assert label("days_of_cover") == "Days of cover" and label("store_id") == "Store"
    assert number_format("order_value", pl.Float64()) == "£%,.2f"
    assert number_format("stockout_risk", pl.Float64()) == "percent"
    assert number_format("on_hand_units", pl.Float64()) == "%,.0f"
    assert number_format("product_id", pl.Int64()) == "%d"
    assert money(100666.4) == "£100,666" and money(-34512) == "-£34,512" and money(9.5) == "£9.50"
    assert kpi_text(-34512.0, "GBP") == money(-34512.0)
    assert kpi_text(0.9328, "share") == "93.3%" and kpi_text(None, "units") == "n/a"
    frame = tidy(
        pl.DataFrame({"x": [1], "description": [None], "product_id": ["P1"]}).cast(
            {"description": pl.String}
        )
    )
    assert frame.columns == ["product_id", "description", "x"] and frame["description"][0] == ""


def test_display_rules_of_the_screenshots() -> None:
    """What the issue-18 screenshots showed raw: £-19,549.54, 0.8011 coverage, "D", 00:00:00."""
    assert number_format("change", pl.Float64()) == "%+,.0f"
    assert number_format("coverage_80", pl.Float64()) == "percent"
    assert [frequency_label(c) for c in ("D", "W-SUN", "X")] == ["Daily", "Weekly", "X"]
    when = pl.datetime_range(
        dt.datetime(2026, 10, 30), dt.datetime(2026, 10, 31), "1d", eager=True
    ).alias("until")
    assert tidy(pl.DataFrame([when]))["until"].dtype == pl.Date
    stamped = pl.DataFrame({"created_at": [dt.datetime(2026, 12, 2, 13, 5)]})
    assert tidy(stamped)["created_at"].dtype == pl.Datetime("us")


def test_backtest_compares_only_models_on_the_same_series() -> None:
    backtest = pl.DataFrame(
        {
            "model": ["lgbm", "naive", "prophet", "lgbm"],
            "segment": ["all", "all", "all", "fast"],
            "frequency": ["day", "day", "day", "day"],
            "wape": [0.3, 0.5, 0.1, 0.2],
            "n_series": [9514, 9514, 10, 100],
        }
    )
    assert segments_and_default(backtest) == (["all", "fast"], 0)
    assert frequencies(backtest, "all") == ["day"]
    comparison = compare_models(backtest, "all", "day")
    assert comparison.ranked["model"].to_list() == ["lgbm", "naive"]
    assert comparison.others["model"].to_list() == ["prophet"] and comparison.n_series == 9514


def test_uploaded_id_lists() -> None:
    assert customer_ids_from_upload(b"customer_id,x\nC1,a\n\n C2 ,b\n", "f") == ("C1", "C2")
    assert customer_ids_from_upload(b"C3\nC4", "f") == ("C3", "C4")


def test_load_of_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="kind: 'nope'"):
        load_file(tmp_path / "w.duckdb", "nope", tmp_path / "f.csv")


def test_a_sales_panel_upload_may_name_its_price_column(tmp_path: Path) -> None:
    """The upload form's optional price column: named, the panel's revenue is known; left
    empty (the default), the panel has none (n/a in the app)."""
    rows = "".join(f"2024-01-{d:02d},S1,P1,{d},2.5\n" for d in range(1, 11))
    source = tmp_path / "panel.csv"
    source.write_text("date,store,item,sales,price\n" + rows)
    priced, plain = tmp_path / "priced.duckdb", tmp_path / "plain.duckdb"
    load_file(priced, "sales-panel", source, {"price_col": "price"})
    load_file(plain, "sales-panel", source)
    with reading(priced) as con:
        assert query(con, "SELECT sum(revenue) AS r FROM fct_sales")["r"][0] == 55 * 2.5
    with reading(plain) as con:
        assert query(con, "SELECT count(revenue) AS n FROM fct_sales")["n"][0] == 0


def test_a_one_shop_file_of_sales_lines_uploads(tmp_path: Path) -> None:
    """Store column left blank (one shop) and "add them up" ticked (an item twice a day)."""
    source = tmp_path / "till.csv"
    source.write_text("date,item,sales\n2024-01-01,a,2\n2024-01-01,a,3\n2024-01-02,a,1\n")
    db = tmp_path / "shop.duckdb"
    report = load_file(db, "sales-panel", source, {"store_col": " ", "duplicates": "sum"})
    assert report.rows_quarantined == 0
    with reading(db) as con:
        units = query(con, "SELECT store_id, sum(quantity) AS u FROM fct_sales GROUP BY 1").rows()
    assert units == [("MAIN", 6.0)]


def test_seasonality_grid_has_a_column_per_weekday() -> None:
    heat = pl.DataFrame(
        {
            "week_start": [date(2024, 1, 8), date(2024, 1, 1), date(2024, 1, 1)],
            "day_of_week": [1, 2, 1],
            "revenue": [5.0, 3.0, 2.0],
        }
    )
    grid = seasonality_grid(heat)
    assert grid.columns == ["week_start", "1", "2"]
    assert grid["week_start"].to_list() == [date(2024, 1, 1), date(2024, 1, 8)]
    assert grid["2"].to_list() == [3.0, None]


def test_sales_without_prices_are_measured_in_units() -> None:
    """Revenue where any row has it; units where every revenue is NULL (a panel of units), and
    the heatmap then pivots and labels units."""
    priced = pl.DataFrame({"revenue": [None, 2.0], "units": [1.0, 2.0]})
    unpriced = pl.DataFrame(
        {
            "week_start": [date(2024, 1, 1)] * 2,
            "day_of_week": [1, 5],
            "revenue": [None, None],
            "units": [4.0, 6.0],
        },
        schema_overrides={"revenue": pl.Float64},
    )
    assert sales_measure(priced) == "revenue" and sales_measure(unpriced) == "units"
    assert without_empty_columns(unpriced).columns == ["week_start", "day_of_week", "units"]
    assert number_format("units_share", pl.Float64()) == "percent"
    assert number_format("units", pl.Float64()) == "%,.0f"
    assert seasonality_grid(unpriced, "units")["5"].to_list() == [6.0]
    fig = heatmap_figure(unpriced)
    assert fig.data[0].colorbar.title.text == "units" and "£" not in fig.data[0].hovertemplate


def test_movers_chart_ranks_by_change_risers_green_fallers_red() -> None:
    movers = pl.DataFrame(
        {
            "direction": ["up", "up", "down"],
            "product_id": ["P1", "P2", "P3"],
            "description": ["One", "Two", "Three"],
            "category": ["a", "b", "a"],
            "measure": ["revenue"] * 3,
            "revenue": [300.0, 150.0, 10.0],
            "previous_revenue": [100.0, 100.0, 60.0],
            "units": [30.0, 15.0, 1.0],
            "previous_units": [10.0, 10.0, 6.0],
            "change": [200.0, 50.0, -50.0],
            "change_pct": [2.0, 0.5, -0.8333],
        }
    )
    fig = movers_figure(movers)
    assert [t.name for t in fig.data] == ["down", "up"]
    assert [t.marker.color for t in fig.data] == ["#c62828", "#2e7d32"]
    assert list(fig.layout.yaxis.categoryarray) == ["P3 Three", "P2 Two", "P1 One"]
    assert list(fig.data[1].x) == [50.0, 200.0] and fig.layout.xaxis.tickprefix == "£"
    assert fig.layout.xaxis.title.text == "revenue change vs the previous period"
    assert fig.data[1].customdata[0][1] == 150.0  # revenue in the hover


def test_movers_of_a_panel_without_prices_are_in_units() -> None:
    """No £ on the axis, units in the hover, and the table's change reads "Change (units)"."""
    movers = pl.DataFrame(
        {
            "direction": ["up", "down"],
            "product_id": ["P1", "P3"],
            "description": ["One", "Three"],
            "category": ["a", "a"],
            "measure": ["units", "units"],
            "revenue": [None, None],
            "previous_revenue": [None, None],
            "units": [30.0, 1.0],
            "previous_units": [10.0, 6.0],
            "change": [20.0, -5.0],
            "change_pct": [2.0, -0.8333],
        },
        schema_overrides={"revenue": pl.Float64, "previous_revenue": pl.Float64},
    )
    fig = movers_figure(movers)
    assert not fig.layout.xaxis.tickprefix
    assert fig.layout.xaxis.title.text == "units change vs the previous period"
    assert "units" in fig.data[0].hovertemplate and fig.data[1].customdata[0][1] == 30.0
    assert mover_rows(movers, "up")["units_change"].to_list() == [20.0]
    table = mover_rows(movers.filter(direction="down").with_columns(direction=pl.lit("x")), "up")
    assert table.is_empty() and table.columns == [
        "product_id",
        "description",
        "units_change",
        "change_pct",
        "units",
        "previous_units",
    ]
    assert (
        label("units_change") == "Change (units)"
        and number_format("units_change", pl.Float64()) == "%+,.0f"
    )


def test_score_axis_spans_close_scores_and_says_where_it_starts() -> None:
    (low, high), title = score_axis(pl.Series([10.73, 10.65, 10.56]))
    assert 10.0 < low < 10.56 and high > 10.73  # the differences are visible
    assert f"axis starts at {low:,.2f}, not 0" in title
    (low, high), title = score_axis(pl.Series([10.2, 0.1]))  # a wide list: from zero
    assert low == 0.0 and high > 10.2 and "axis starts" not in title
    (low, _), _ = score_axis(pl.Series([-1.0, -3.0]))  # negative scores keep their own range
    assert low < -3.0


def test_the_serving_caption_names_what_makes_each_list() -> None:
    status = {"version": 2, "model": "two-tower", "trained_at": "2026-12-01T06:00:00+00:00"}
    ranker = {**status, "serving": {"lists": "ranker(lightgbm)", "similar": "two-tower"}}
    assert serving_text(ranker) == (
        "Lists by the LightGBM ranker of model v2, trained 2026-12-01 06:00; "
        "similar products by its two-tower item vectors."
    )
    blend = {**status, "serving": {"lists": "blend(buy-again+two-tower)", "similar": "two-tower"}}
    assert serving_text(blend).startswith("Lists by the blend of buy-again and two-tower of")


def test_purchase_lines_show_the_day_and_units_bought() -> None:
    history = pl.DataFrame(
        {
            "sold_at": [dt.datetime(2026, 10, 31, 14, 5)],
            "order_id": ["O1"],
            "product_id": ["P1"],
            "description": ["Mug"],
            "category": ["Home"],
            "quantity": [3.0],
            "revenue": [7.5],
        },
        schema=CUSTOMER_HISTORY_SCHEMA,
    )
    shown = purchase_lines(history)
    assert shown.schema["sold_at"] == pl.Date and shown["sold_at"][0] == date(2026, 10, 31)
    assert "quantity" not in shown.columns and shown["units"][0] == 3.0
    assert shown.columns[0] == "sold_at" and shown.height == 1


def test_a_weekly_forecast_is_labelled_in_weeks() -> None:
    """A weekly panel's forecast: 'units per week' on the axis (it said 'per day') and the
    period unit for the caption's horizon; a daily one stays in days."""
    weeks = pl.date_range(date(2024, 1, 5), date(2024, 2, 23), "7d", eager=True)
    days = pl.date_range(date(2024, 1, 1), date(2024, 1, 10), "1d", eager=True)
    assert period_unit(weeks) == "week" and period_unit(days) == "day"
    assert period_unit(pl.Series([], dtype=pl.Date)) == "day"
    forecast = pl.DataFrame(
        {
            "date": weeks,
            "yhat": [5.0] * weeks.len(),
            **{c: [4.0] * weeks.len() for c in ("yhat_lo_80", "yhat_lo_95")},
            **{c: [6.0] * weeks.len() for c in ("yhat_hi_80", "yhat_hi_95")},
        }
    )
    recent = pl.DataFrame({"date": weeks.head(3), "units": [4.0, 5.0, 6.0]})
    assert band_figure(forecast, recent).layout.yaxis.title.text == "units per week"


def test_product_detail_shows_only_the_panels_it_has_data_for() -> None:
    """A weekly panel's product (no prices, no stock): one panel, 'Units sold per week'; with
    prices and stock snapshots the three panels as before."""
    weeks = pl.date_range(date(2024, 1, 5), date(2024, 2, 2), "7d", eager=True)
    history = pl.DataFrame(
        {
            "sale_date": weeks,
            "units": [3.0] * 5,
            "revenue": [None] * 5,
            "avg_unit_price": [None] * 5,
        },
        schema_overrides={"revenue": pl.Float64, "avg_unit_price": pl.Float64},
    )
    no_stock = pl.DataFrame(
        schema={"snapshot_date": pl.Date, "on_hand_units": pl.Float64, "on_order_units": pl.Float64}
    )
    bare = product_figure(ProductDetail({}, history, no_stock))
    assert [a.text for a in bare.layout.annotations] == ["Units sold per week"]
    stock = pl.DataFrame(
        {"snapshot_date": [date(2024, 1, 5)], "on_hand_units": [9.0], "on_order_units": [0.0]}
    )
    priced = history.with_columns(avg_unit_price=pl.lit(2.5))
    full = product_figure(ProductDetail({}, priced, stock))
    assert [a.text for a in full.layout.annotations] == [
        "Units sold per week",
        "Average price paid (£)",
        "Stock on hand and on order (units)",
    ]
