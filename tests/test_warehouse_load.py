"""`warehouse.load.read_source`: a CSV's own separator, decimal commas, headers with spaces."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from warehouse.db import WarehouseError, query, reading
from warehouse.ingest import ingest_sales_panel
from warehouse.ingest.sales_panel import PanelColumns
from warehouse.load import read_source, require_columns

KAGGLE = PanelColumns(date="date", store="store", item="item", qty="sales")


def test_a_spreadsheet_export_with_semicolons_and_decimal_commas_loads(tmp_path: Path) -> None:
    """Excel in most of Europe saves CSV with ';' and a decimal comma: it was refused with
    "missing column(s) 'date', ...; the file has 'date;store;item;sales'"."""
    csv = tmp_path / "eu.csv"
    csv.write_text(
        " date ;store;item;sales\n"  # a header with spaces around a name
        "2024-01-01;1;a;3,5\n"
        "2024-01-02;1;a;4\n"
        "2024-01-03;1;a,b;-1,25\n"  # a comma inside a text field stays
    )
    read = read_source(csv)
    assert read.frame.columns == ["date", "store", "item", "sales"]
    assert read.frame["sales"].to_list() == ["3.5", "4", "-1.25"]
    assert read.frame["item"].to_list() == ["a", "a", "a,b"]
    assert read.notes == ("fields separated by ';'; numbers with a decimal comma read as decimals",)
    db = tmp_path / "eu.duckdb"
    report = ingest_sales_panel(db, csv, KAGGLE)
    assert report.rows_accepted == 3 and report.quarantine_reasons == {}
    assert any("separated by ';'" in note for note in report.notes)
    with reading(db) as con:
        units = query(con, "SELECT units FROM fct_sales_daily ORDER BY sale_date")["units"]
    assert units.to_list() == [3.5, 4.0, -1.25]


def test_a_comma_file_keeps_its_commas(tmp_path: Path) -> None:
    csv = tmp_path / "uk.csv"
    csv.write_text('date,store,item,sales\n2024-01-01,1,"1,5",2\n')
    read = read_source(csv)
    assert read.frame["item"].to_list() == ["1,5"] and read.notes == ()


def test_a_column_in_another_case_is_named_in_the_error(tmp_path: Path) -> None:
    frame = pl.DataFrame({"Date": ["x"], "store": ["1"]})
    with pytest.raises(WarehouseError, match=r"case-sensitive: 'date' -> 'Date'"):
        require_columns(frame, tmp_path / "f.csv", ["date", "store"])


TEXT = "InvoiceNo,Description,Quantity\n536366,HAND WARMER UNION JACK CAFÉ,6\n536367,PLAIN,2\n"


@pytest.mark.parametrize(
    ("encoded", "note"),
    [
        (TEXT.encode("utf-8"), None),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), None),  # Excel's "CSV UTF-8": a byte-order mark
        (TEXT.encode("cp1252"), "text read as Windows-1252 (row 1 is not UTF-8)"),
        (TEXT.replace("É", "\x81").encode("latin-1"), "text read as Latin-1 (row 1 is not UTF-8)"),
        (TEXT.encode("utf-16"), "text read as UTF-16"),
    ],
)
def test_a_csv_in_a_spreadsheet_s_encoding_reads_the_same(
    encoded: bytes, note: str | None, tmp_path: Path
) -> None:
    """The UCI Online Retail CSV is Windows-1252; Excel saves UTF-8 with a mark, or UTF-16."""
    path = tmp_path / "lines.csv"
    path.write_bytes(encoded)
    read = read_source(path)
    assert read.frame.columns == ["InvoiceNo", "Description", "Quantity"]
    expected = "HAND WARMER UNION JACK CAF" + ("\x81" if "Latin-1" in (note or "") else "É")
    assert read.frame["Description"].to_list() == [expected, "PLAIN"]
    assert [n for n in read.notes if n.startswith("text read as")] == ([note] if note else [])
