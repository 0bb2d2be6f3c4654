"""Sales-panel ingest: daily and weekly, fractional and negative quantities, bad rows."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from warehouse.db import WarehouseError, query, reading, scalar
from warehouse.ingest import ingest_sales_panel
from warehouse.ingest.sales_panel import PanelColumns

KAGGLE = PanelColumns(date="date", store="store", item="item", qty="sales")


def _frequency(db: Path) -> str:
    with reading(db) as con:
        return str(scalar(con, "SELECT frequency FROM source_frequency"))


def test_daily_sample_loads_every_row(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    report = ingest_sales_panel(db, SAMPLES / "store_item_sample.csv", KAGGLE)
    assert report.rows_read == report.rows_added == 4386
    assert _frequency(db) == "D"
    with reading(db) as con:
        assert scalar(con, "SELECT count(*) FROM fct_sales_daily") == 4386
        assert scalar(con, "SELECT count(*) FROM dim_store") == 2
        assert scalar(con, "SELECT count(*) FROM dim_customer") == 0
    assert ingest_sales_panel(db, SAMPLES / "store_item_sample.csv", KAGGLE).rows_added == 0


def test_weekly_panel_with_fractional_negative_and_bad_rows(tmp_path: Path) -> None:
    csv = tmp_path / "weekly.csv"
    csv.write_text(
        "week,shop,sku,qty,price\n"
        "2024-01-07,A,1,3.5,2.0\n"
        "2024-01-14,A,1,-1,2.0\n"  # a return week: kept as negative net sales
        "2024-01-21,A,1,2,2.0\n"
        "2024-01-07,A,2,1,\n"
        "2024-01-14,A,2,4,1.5\n"
        "2024-01-14,A,2,9,1.5\n"  # duplicate store x item x week
        "not-a-date,A,2,1,1.5\n"
        "2024-01-28,A,2,many,1.5\n"
        "2024-02-04,A,2,1,cheap\n"
    )
    db = tmp_path / "w.duckdb"
    cols = PanelColumns(date="week", store="shop", item="sku", qty="qty", price="price")
    report = ingest_sales_panel(db, csv, cols, source="weekly")
    assert report.quarantine_reasons == {
        "duplicate_key": 1,
        "bad_date": 1,
        "bad_quantity": 1,
        "bad_price": 1,
    }
    assert _frequency(db) == "W"
    with reading(db) as con:
        rows = query(
            con,
            "SELECT sale_date::VARCHAR AS d, units FROM fct_sales_daily "
            "WHERE product_id = '1' ORDER BY sale_date",
        )
        records = query(
            con, "SELECT reason, row_number, record FROM quarantine ORDER BY row_number"
        )
    assert rows["d"].to_list() == ["2024-01-07", "2024-01-14", "2024-01-21"]  # dates as in source
    assert rows["units"].to_list() == [3.5, -1.0, 2.0]
    assert records["row_number"].to_list() == [6, 7, 8, 9]
    assert '"qty":"many"' in records["record"][2]


def test_missing_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match=r"missing column\(s\) 'units'.*the file has"):
        ingest_sales_panel(
            tmp_path / "p.duckdb",
            SAMPLES / "store_item_sample.csv",
            PanelColumns(date="date", store="store", item="item", qty="units"),
        )
    assert not (tmp_path / "p.duckdb").exists()


def test_slash_dates_load_in_the_file_s_own_order(tmp_path: Path) -> None:
    csv = tmp_path / "us.csv"  # month/day/year, as a US export writes them
    csv.write_text("Date,Store,Dept,Sales\n06/30/2017,1,1,10.5\n07/07/2017,1,1,12\n")
    db = tmp_path / "us.duckdb"
    cols = PanelColumns(date="Date", store="Store", item="Dept", qty="Sales")
    assert ingest_sales_panel(db, csv, cols).rows_added == 2
    with reading(db) as con:
        days = query(con, "SELECT sale_date::VARCHAR AS d FROM fct_sales_daily ORDER BY 1")["d"]
    assert days.to_list() == ["2017-06-30", "2017-07-07"]
    mixed = tmp_path / "mixed.csv"  # 30/06 then 07/13: day/month, then month/day
    mixed.write_text("Date,Store,Dept,Sales\n30/06/2017,1,1,1\n07/13/2017,1,1,1\n")
    with pytest.raises(WarehouseError, match=r"row 2, column 'Date': '07/13/2017' contradicts"):
        ingest_sales_panel(tmp_path / "m.duckdb", mixed, cols)
    assert not (tmp_path / "m.duckdb").exists()


def test_a_file_with_no_good_row_names_the_first_row_and_value(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("Date,Store,Dept,Sales\nx2017-06-30,1,1,1\n2017-07-07,1,1,lots\n")
    cols = PanelColumns(date="Date", store="Store", item="Dept", qty="Sales")
    with pytest.raises(WarehouseError) as err:
        ingest_sales_panel(tmp_path / "b.duckdb", csv, cols)
    assert str(err.value).endswith(
        "bad.csv: no row passed the checks (bad_date x1, bad_quantity x1; "
        "first bad_date: row 1, column 'Date': 'x2017-06-30')"
    )
    assert not (tmp_path / "b.duckdb").exists()


def test_zip_member_is_chosen(tmp_path: Path) -> None:
    archive = tmp_path / "panel.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(SAMPLES / "store_item_sample.csv", "train.csv")
        z.writestr("test.csv", "id,date,store,item\n1,2018-01-01,1,1\n")
    report = ingest_sales_panel(tmp_path / "p.duckdb", archive, KAGGLE)
    assert report.rows_added == 4386
    with pytest.raises(WarehouseError, match="no member 'nope.csv'"):
        ingest_sales_panel(tmp_path / "p.duckdb", archive, KAGGLE, member="nope.csv")


def test_full_store_item_panel(tmp_path: Path, store_item_file: Path) -> None:
    db = tmp_path / "si.duckdb"
    report = ingest_sales_panel(db, store_item_file, KAGGLE)
    assert report.rows_added == 913_000
    assert report.rows_quarantined == 0
    with reading(db) as con:
        assert (
            scalar(con, "SELECT count(DISTINCT (store_id, product_id)) FROM fct_sales_daily") == 500
        )


def test_implausibly_large_numbers_are_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A barcode read as the quantity, or 1e300, is quarantined as `number_out_of_range` (its
    square overflowed every variance downstream); the limit is `$SHELFWISE_MAX_NUMBER`."""
    csv = tmp_path / "panel.csv"
    csv.write_text(
        "date,store,item,sales\n"
        "2024-01-01,1,a,5\n"
        "2024-01-02,1,a,6\n"
        "2024-01-03,1,a,999999999\n"  # under 1e9: kept
        "2024-01-01,1,b,5012345678900\n"  # an EAN-13 in the quantity column
        "2024-01-02,1,b,1e300\n"
        "2024-01-03,1,b,-2e9\n"
    )
    db = tmp_path / "p.duckdb"
    report = ingest_sales_panel(db, csv, KAGGLE)
    assert report.quarantine_reasons == {"number_out_of_range": 3}
    assert report.rows_accepted == 3
    monkeypatch.setenv("SHELFWISE_MAX_NUMBER", "1e20")
    assert ingest_sales_panel(tmp_path / "q.duckdb", csv, KAGGLE).quarantine_reasons == {
        "number_out_of_range": 1
    }
    monkeypatch.setenv("SHELFWISE_MAX_NUMBER", "lots")
    with pytest.raises(WarehouseError, match=r"\$SHELFWISE_MAX_NUMBER='lots'"):
        ingest_sales_panel(tmp_path / "r.duckdb", csv, KAGGLE)


TILL_LINES = (
    "date,item,sales,price\n"
    "2024-01-01 09:00:00,a,2,1.0\n"
    "2024-01-01 11:30:00,a,3,2.0\n"  # the same item sold again that day
    "2024-01-02 10:00:00,a,1,\n"
    "2024-01-02,b,4,\n"
    "2024-01-02,b,x,\n"  # a bad line stays quarantined
    "2024-01-02,b,5,\n"
)
ONE_SHOP = PanelColumns(date="date", store=None, item="item", qty="sales", price="price")


def _daily(db: Path) -> list[tuple[object, ...]]:
    with reading(db) as con:
        sql = "SELECT store_id, product_id, sale_date, units, revenue FROM fct_sales_daily"
        return query(con, sql + " ORDER BY ALL").rows()


def test_a_file_of_sales_lines_is_summed_per_day_when_asked(tmp_path: Path) -> None:
    """A till export repeats an item within a day: as a panel the repeats were quarantined
    (duplicate_key) and the day's sales undercounted (2 units of 'a' on Jan 1, not 5)."""
    csv = tmp_path / "till.csv"
    csv.write_text(TILL_LINES)
    refused = ingest_sales_panel(tmp_path / "panel.duckdb", csv, ONE_SHOP)
    assert refused.quarantine_reasons == {"duplicate_key": 2, "bad_quantity": 1}
    assert any("--duplicates sum" in note for note in refused.notes)
    summed_db = tmp_path / "lines.duckdb"
    summed = ingest_sales_panel(summed_db, csv, ONE_SHOP, duplicates="sum")
    assert summed.quarantine_reasons == {"bad_quantity": 1}
    assert any("2 rows repeated" in note for note in summed.notes)
    day = date(2024, 1, 1)
    assert _daily(summed_db) == [
        ("MAIN", "a", day, 5.0, 8.0),  # 2 x 1.00 + 3 x 2.00
        ("MAIN", "a", date(2024, 1, 2), 1.0, None),
        ("MAIN", "b", date(2024, 1, 2), 9.0, None),
    ]
    again = ingest_sales_panel(summed_db, csv, ONE_SHOP, duplicates="sum")
    assert again.rows_added == 0 and _daily(summed_db)[0] == ("MAIN", "a", day, 5.0, 8.0)


def test_an_unknown_duplicates_mode_is_refused(tmp_path: Path) -> None:
    csv = tmp_path / "till.csv"
    csv.write_text(TILL_LINES)
    with pytest.raises(WarehouseError, match="--duplicates: 'add' is not one of refuse, sum"):
        ingest_sales_panel(tmp_path / "x.duckdb", csv, ONE_SHOP, duplicates="add")
    assert not (tmp_path / "x.duckdb").exists()


def test_a_file_of_store_totals_loads_as_one_series_per_store(tmp_path: Path) -> None:
    """Rossmann's shape (Store, Date, Sales; no item): each store's total is item 'ALL'."""
    csv = tmp_path / "store_totals.csv"
    csv.write_text(
        "Store,DayOfWeek,Date,Sales,Open\n"
        "1,5,2015-07-31,5263,1\n2,5,2015-07-31,6064,1\n"
        "1,4,2015-07-30,5020,1\n2,4,2015-07-30,5567,1\n"
    )
    db = tmp_path / "totals.duckdb"
    cols = PanelColumns(date="Date", store="Store", item=None, qty="Sales")
    report = ingest_sales_panel(db, csv, cols)
    assert (report.rows_accepted, report.rows_quarantined) == (4, 0)
    assert _daily(db) == [
        ("1", "ALL", date(2015, 7, 30), 5020.0, None),
        ("1", "ALL", date(2015, 7, 31), 5263.0, None),
        ("2", "ALL", date(2015, 7, 30), 5567.0, None),
        ("2", "ALL", date(2015, 7, 31), 6064.0, None),
    ]
