"""Online Retail ingest: quirks quarantined by rule, ids as printed, idempotent, atomic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import SAMPLES
from warehouse.db import WarehouseError, query, reading, scalar
from warehouse.ingest import FAULT_ENV, InjectedFault, ingest_online_retail

SAMPLE = SAMPLES / "online_retail_ii_sample.csv"
COUNTED = (
    "raw_sales_line",
    "raw_customer",
    "raw_store",
    "quarantine",
    "fct_sales",
    "dim_product",
    "dim_customer",
    "fct_sales_daily",
    "load_log",
)


def _counts(db: Path) -> dict[str, int]:
    with reading(db) as con:
        return {t: int(scalar(con, f"SELECT count(*) FROM {t}")) for t in COUNTED}


def test_sample_quirks_are_quarantined_with_reasons(tmp_path: Path) -> None:
    db = tmp_path / "or.duckdb"
    report = ingest_online_retail(db, SAMPLE)
    assert report.rows_read == 1370
    assert report.rows_accepted + report.rows_quarantined == report.rows_read
    for reason in ("cancellation", "non_product_code", "zero_price", "duplicate_row"):
        assert report.quarantine_reasons.get(reason, 0) > 0, reason
    with reading(db) as con:
        assert scalar(con, "SELECT count(*) FROM fct_sales WHERE order_id LIKE 'C%'") == 0
        assert (
            scalar(con, "SELECT count(*) FROM fct_sales WHERE product_id IN ('POST', 'M', 'DOT')")
            == 0
        )
        assert scalar(con, "SELECT count(*) FROM fct_sales WHERE customer_id IS NULL") > 0
        assert scalar(con, "SELECT count(*) FROM dim_customer WHERE customer_id LIKE '%.%'") == 0
        assert (
            scalar(con, "SELECT count(*) FROM fct_sales WHERE unit_price <= 0 OR quantity <= 0")
            == 0
        )
        assert scalar(con, "SELECT count(*) FROM quarantine") == report.rows_quarantined
        assert scalar(con, "SELECT count(*) FROM dim_product WHERE description = 'nan'") == 0
        stores = query(con, "SELECT store_id FROM dim_store")["store_id"].to_list()
    assert stores == ["ONLINE"]


def test_same_result_from_csv_parquet_xlsx_and_old_spelling(tmp_path: Path) -> None:
    frame = pl.read_csv(SAMPLE, infer_schema_length=0).with_columns(
        pl.col("Quantity").cast(pl.Int64),
        pl.col("Price").cast(pl.Float64),
        pl.col("Customer ID").cast(pl.Float64),  # as a spreadsheet stores it: 17850.0
    )
    parquet, xlsx, old = tmp_path / "s.parquet", tmp_path / "s.xlsx", tmp_path / "old.csv"
    frame.write_parquet(parquet)
    frame.write_excel(xlsx)
    frame.rename(
        {"Invoice": "InvoiceNo", "Price": "UnitPrice", "Customer ID": "CustomerID"}
    ).write_csv(old)
    results = {}
    for path in (SAMPLE, parquet, xlsx, old):
        db = tmp_path / f"{path.suffix[1:]}-{path.stem}.duckdb"
        report = ingest_online_retail(db, path)
        with reading(db) as con:
            ids = query(con, "SELECT customer_id FROM dim_customer ORDER BY 1")["customer_id"]
        results[path.name] = (report.rows_accepted, report.quarantine_reasons, ids.to_list())
    first = results[SAMPLE.name]
    assert all(r == first for r in results.values()), results
    assert "13085" in first[2]


def test_snake_case_or_lower_case_headers_load_the_same(tmp_path: Path) -> None:
    """A database export names the columns 'invoice_date', 'customer_id': they were refused with
    "missing column 'InvoiceDate'" though the file has them."""
    frame = pl.read_csv(SAMPLE, infer_schema_length=0)
    snake = tmp_path / "snake.csv"
    frame.rename(
        {
            "Invoice": "invoice",
            "StockCode": "stock_code",
            "Description": "description",
            "Quantity": "QUANTITY",
            "InvoiceDate": "invoice_date",
            "Price": "price",
            "Customer ID": "customer_id",
            "Country": "country",
        }
    ).write_csv(snake)
    reports = {}
    for path in (SAMPLE, snake):
        db = tmp_path / f"{path.stem}.duckdb"
        report = ingest_online_retail(db, path)
        with reading(db) as con:
            rows = query(con, "SELECT * FROM fct_sales ORDER BY ALL").drop("load_id", strict=False)
        reports[path.stem] = (report.rows_accepted, report.quarantine_reasons, rows)
    (n0, q0, rows0), (n1, q1, rows1) = reports.values()
    assert (n0, q0) == (n1, q1) and rows0.equals(rows1)


def test_a_missing_column_names_its_spellings(tmp_path: Path) -> None:
    bad = tmp_path / "no_price.csv"
    pl.read_csv(SAMPLE, infer_schema_length=0).drop("Price").write_csv(bad)
    with pytest.raises(WarehouseError, match=r"no_price.csv: missing column 'Price' / 'UnitPrice'"):
        ingest_online_retail(tmp_path / "x.duckdb", bad)
    assert not (tmp_path / "x.duckdb").exists() or _counts(tmp_path / "x.duckdb")["fct_sales"] == 0


def test_second_load_adds_nothing(tmp_path: Path) -> None:
    db = tmp_path / "or.duckdb"
    ingest_online_retail(db, SAMPLE)
    before = _counts(db)
    again = ingest_online_retail(db, SAMPLE)
    after = _counts(db)
    assert again.rows_added == 0
    assert again.rows_already_loaded == again.rows_accepted
    assert {k: v for k, v in after.items() if k != "load_log"} == {
        k: v for k, v in before.items() if k != "load_log"
    }
    assert after["load_log"] == before["load_log"] + 1  # the attempt itself is logged


@pytest.mark.parametrize(
    "stage", ["insert lines", "insert customers", "quarantine", "build marts", "key tests", "log"]
)
def test_a_load_failing_midway_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    db = tmp_path / "or.duckdb"
    ingest_online_retail(db, SAMPLE.with_name("online_retail_ii_sample.csv"))
    extra = tmp_path / "more.csv"
    pl.read_csv(SAMPLE, infer_schema_length=0).with_columns(
        (pl.col("Invoice") + "9").alias("Invoice")
    ).write_csv(extra)  # all-new invoice lines
    counts, digest = _counts(db), hashlib.sha256(db.read_bytes()).hexdigest()
    monkeypatch.setenv(FAULT_ENV, stage)
    with pytest.raises(InjectedFault):
        ingest_online_retail(db, extra)
    assert _counts(db) == counts
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    monkeypatch.delenv(FAULT_ENV)
    assert ingest_online_retail(db, extra).rows_added > 0  # and the same load then succeeds


def test_full_online_retail_file(tmp_path: Path, online_retail_file: Path) -> None:
    db = tmp_path / "or.duckdb"
    report = ingest_online_retail(db, online_retail_file)
    assert report.rows_read == 525_461
    assert report.rows_accepted + report.rows_quarantined == 525_461
    assert report.quarantine_reasons["cancellation"] > 10_000
    assert report.quarantine_reasons["duplicate_row"] > 6_000
    assert report.quarantine_reasons["zero_price"] > 3_000
    with reading(db) as con:
        # 4,383 ids in the file; 98 appear only on quarantined lines (cancellations...)
        assert scalar(con, "SELECT count(*) FROM dim_customer") == 4_285
        assert scalar(con, "SELECT count(*) FROM dim_customer WHERE customer_id = '13085'") == 1
    assert ingest_online_retail(db, online_retail_file).rows_added == 0


HM_LINES = """t_dat,customer_id,article_id,price,sales_channel_id
2018-09-20,00a1,0663713001,0.0508,2
2018-09-20,00a1,0541518023,0.0305,2
2018-09-20,00b2,0685687003,0.0169,2
2018-09-20,00b2,0685687003,0.0169,2
2018-09-21,00b2,0685687004,0.0169,1
2018-09-21,,0685687004,0.0169,1
"""
HM_ROLES = {"stock_code": "article_id", "invoice_date": "t_dat", "invoice": "", "quantity": ""}


def test_a_transactions_file_without_invoice_or_quantity_loads_by_declared_absence(
    tmp_path: Path,
) -> None:
    """H&M's shape: one row per item bought, no invoice or quantity column. Declared absent,
    a repeated line is one more unit (not a copy), the basket is the customer's day, and a
    second load adds nothing."""
    path = tmp_path / "transactions.csv"
    path.write_text(HM_LINES)
    db = tmp_path / "hm.duckdb"
    report = ingest_online_retail(db, path, columns=HM_ROLES)
    assert (report.rows_accepted, report.rows_quarantined) == (6, 0)
    assert any("no quantity column: each line is one unit" in n for n in report.notes)
    with reading(db) as con:
        units = query(
            con,
            "SELECT product_code, sum(quantity) AS units, count(DISTINCT order_id) AS orders "
            "FROM raw_sales_line GROUP BY 1 ORDER BY 1",
        )
        orders = query(con, "SELECT DISTINCT order_id FROM raw_sales_line ORDER BY 1 NULLS LAST")
    assert units.rows() == [
        ("0541518023", 1.0, 1),
        ("0663713001", 1.0, 1),
        ("0685687003", 2.0, 1),
        ("0685687004", 2.0, 1),
    ]
    assert orders["order_id"].to_list() == [
        "00a1@2018-09-20",
        "00b2@2018-09-20",
        "00b2@2018-09-21",
        None,
    ]
    again = ingest_online_retail(db, path, columns=HM_ROLES)
    assert (again.rows_added, again.rows_already_loaded) == (0, 6)


def test_undeclared_absence_is_refused_and_only_some_roles_may_be_absent(tmp_path: Path) -> None:
    path = tmp_path / "transactions.csv"
    path.write_text(HM_LINES)
    db = tmp_path / "hm.duckdb"
    named = {"stock_code": "article_id", "invoice_date": "t_dat", "invoice": ""}
    with pytest.raises(WarehouseError, match=r"or --column quantity= if the file has none"):
        ingest_online_retail(db, path, columns=named)
    with pytest.raises(
        WarehouseError, match=r"--column stock_code=: every line needs a stock_code"
    ):
        ingest_online_retail(db, path, columns={**HM_ROLES, "stock_code": ""})
    assert not db.exists() or _counts(db)["raw_sales_line"] == 0


def test_without_a_price_column_units_load_without_revenue(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    pl.read_csv(SAMPLE, infer_schema_length=0).drop("Price").write_csv(path)
    db = tmp_path / "units.duckdb"
    with_price = ingest_online_retail(tmp_path / "priced.duckdb", SAMPLE)
    report = ingest_online_retail(db, path, columns={"price": ""})
    with reading(db) as con:
        priced = scalar(con, "SELECT count(*) FROM raw_sales_line WHERE unit_price IS NOT NULL")
    assert priced == 0
    # no price rule fires: free lines and write-offs the priced load refused are units here
    assert not {"zero_price", "negative_price", "bad_price"} & set(report.quarantine_reasons)
    assert report.rows_accepted > with_price.rows_accepted
