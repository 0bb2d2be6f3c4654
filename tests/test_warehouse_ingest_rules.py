"""`warehouse.ingest.rules.number`: numbers as a spreadsheet shows them, nothing else."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from warehouse.db import query, reading
from warehouse.ingest import ingest_sales_panel
from warehouse.ingest.rules import number
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
