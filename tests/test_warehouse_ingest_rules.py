"""`warehouse.ingest.rules`: numbers as a spreadsheet shows them, dates in the file's own order."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from warehouse.db import WarehouseError, query, reading
from warehouse.ingest import ingest_sales_panel
from warehouse.ingest.rules import date_expr, number, slash_date_order
from warehouse.ingest.sales_panel import PanelColumns


def _parsed(values: list[str | None]) -> list[float | None]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(number(pl.col("v")))["v"].to_list()


def test_currency_signs_and_thousands_commas_are_read() -> None:
    cells = ["12", " 3.5 ", "-2", "£1.50", "-£1.50", "£-1.50", "€ 3", "4$", "1,234", "-12,345.5"]
    assert _parsed(cells) == [12.0, 3.5, -2.0, 1.5, -1.5, -1.5, 3.0, 4.0, 1234.0, -12345.5]


def test_what_is_not_a_number_stays_null() -> None:
    """'1,5' is a decimal comma or a typo, never a thousands separator: the row is refused."""
    cells = ["1,5", "12,34", "1,2345", "12 kg", "n/a", "", "££1", None, "1.234,5"]
    assert _parsed(cells) == [None] * len(cells)


def test_a_spreadsheet_s_formatted_numbers_load(tmp_path: Path) -> None:
    """A UK export with '"1,200"' units and '£2.50' prices was refused row by row as
    bad_quantity / bad_price."""
    csv = tmp_path / "formatted.csv"
    csv.write_text(
        'week,shop,sku,units,price\n2024-01-05,1,a,"1,200",£2.50\n2024-01-12,1,a,-3,"£1,000.00"\n'
    )
    columns = PanelColumns(date="week", store="shop", item="sku", qty="units", price="price")
    report = ingest_sales_panel(tmp_path / "w.duckdb", csv, columns)
    assert report.rows_accepted == 2 and report.quarantine_reasons == {}
    with reading(tmp_path / "w.duckdb") as con:
        rows = query(con, "SELECT units, revenue FROM fct_sales_daily ORDER BY sale_date").rows()
    assert rows == [(1200.0, 3000.0), (-3.0, -3000.0)]


def _dates(values: list[str]) -> list[str | None]:
    raw = pl.DataFrame({"d": values})
    parsed = raw.select(date_expr(raw, Path("f.csv"), "d", ("%Y-%m-%d",)))["d"]
    return [None if d is None else d.isoformat() for d in parsed.to_list()]


def test_day_month_dates_with_dashes_dots_and_two_digit_years() -> None:
    """'05-02-2010' (a Walmart weekly export) and '12/1/10 8:26' (a spreadsheet's short year)
    were refused as bad_date."""
    assert _dates(["05-02-2010", "19-02-2010"]) == ["2010-02-05", "2010-02-19"]
    assert _dates(["12/1/10 8:26", "12/13/10"]) == ["2010-12-01", "2010-12-13"]
    assert _dates(["30.06.2017", "1.7.17"]) == ["2017-06-30", "2017-07-01"]
    assert _dates(["2017-06-30", "07/01/2017"]) == ["2017-06-30", "2017-07-01"]


def test_an_ambiguous_file_reads_dots_day_first_and_slashes_month_first() -> None:
    assert slash_date_order(pl.Series(["01.02.2017"]), Path("f"), "d") == "dmy"
    assert slash_date_order(pl.Series(["01/02/2017", "01-02-2017"]), Path("f"), "d") == "mdy"
    assert slash_date_order(pl.Series(["2017-02-01"]), Path("f"), "d") == "mdy"


def test_a_file_mixing_the_orders_is_refused_at_its_first_contradiction() -> None:
    values = pl.Series(["13-01-2017", "01-02-2017", "01-13-2017"])
    with pytest.raises(WarehouseError, match=r"row 3, column 'd': '01-13-2017' contradicts"):
        slash_date_order(values, Path("f.csv"), "d")


def test_a_weekly_panel_with_day_first_dashed_dates_loads(tmp_path: Path) -> None:
    """The shape of Kaggle's Walmart store sales file: dd-mm-yyyy Fridays, fractional sales."""
    csv = tmp_path / "walmart.csv"
    csv.write_text(
        "Store,Date,Weekly_Sales,Holiday_Flag\n"
        "1,05-02-2010,1643690.9,0\n1,12-02-2010,1641957.44,1\n1,19-02-2010,1611968.17,0\n"
    )
    columns = PanelColumns(date="Date", store=None, item="Store", qty="Weekly_Sales")
    db = tmp_path / "w.duckdb"
    report = ingest_sales_panel(db, csv, columns)
    assert report.rows_accepted == 3 and report.quarantine_reasons == {}
    with reading(db) as con:
        days = query(con, "SELECT sale_date::VARCHAR AS d FROM fct_sales_daily ORDER BY 1")["d"]
        frequency = query(con, "SELECT frequency FROM source_frequency")["frequency"][0]
    assert days.to_list() == ["2010-02-05", "2010-02-12", "2010-02-19"] and frequency == "W"


def test_blank_rows_at_the_end_are_skipped_and_between_rows_quarantined(tmp_path: Path) -> None:
    """A spreadsheet's ',,,' lines at the end were reported as rows missing their fields."""
    csv = tmp_path / "blank.csv"
    csv.write_text("date,store,item,sales\n2017-01-01,1,1,5\n\n2017-01-02,1,1,6\n,,,\n \n")
    columns = PanelColumns(date="date", store="store", item="item", qty="sales")
    report = ingest_sales_panel(tmp_path / "b.duckdb", csv, columns)
    assert report.rows_read == 3 and report.rows_accepted == 2
    assert report.quarantine_reasons == {"blank_row": 1}
    assert "skipped 2 empty rows at the end" in report.notes
    with reading(tmp_path / "b.duckdb") as con:
        rows = query(con, "SELECT row_number FROM quarantine")["row_number"].to_list()
    assert rows == [2]
