"""`python -m warehouse`: every bad input gets one clear line, exit 2, and no change."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import REPO, SAMPLES, STORE_ITEM_COLUMNS, STORE_ITEM_SAMPLE
from warehouse.cli import main
from warehouse.db import query, reading, writing
from warehouse.ingest.sales_panel import PanelColumns, ingest_args

OR_SAMPLE = SAMPLES / "online_retail_ii_sample.csv"


def _holidays_in(db: str, year: int) -> set[str]:
    """Names of the holidays `dim_date` marks in `year`."""
    with reading(db) as con:
        frame = query(
            con,
            "SELECT holiday_name FROM dim_date WHERE is_holiday AND year(date_day) = $y",
            {"y": year},
        )
    return set(frame["holiday_name"])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(name: str, content: bytes | str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    return make


def _no_price(tmp: Path) -> Path:
    path = tmp / "no_price.csv"
    pl.read_csv(OR_SAMPLE, infer_schema_length=0).drop("Price").write_csv(path)
    return path


def _bad_types(tmp: Path) -> Path:
    path = tmp / "bad_types.csv"
    pl.read_csv(OR_SAMPLE, infer_schema_length=0).with_columns(
        pl.lit("lots").alias("Quantity")
    ).write_csv(path)
    return path


def _truncated_parquet(tmp: Path) -> Path:
    path = tmp / "broken.parquet"
    whole = tmp / "whole.parquet"
    pl.read_csv(OR_SAMPLE, infer_schema_length=0).write_parquet(whole)
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return path


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing file": (lambda tmp: tmp / "nope.csv", "file not found"),
    "empty file": (_write("empty.csv", ""), "file is empty"),
    "header only": (_write("header.csv", "Invoice,StockCode\n"), "no data rows"),
    "directory": (lambda tmp: tmp, "is a directory"),
    "unknown type": (_write("data.json", "{}"), "unsupported file type"),
    "missing column": (_no_price, "missing column 'Price' / 'UnitPrice'"),
    "wrong types": (
        _bad_types,
        "no row passed the checks (bad_quantity x",  # then the first such row and its value
    ),
    "wrong types, the row named": (
        _bad_types,
        "first bad_quantity: row 1, column 'Quantity': 'lots'",
    ),
    "corrupt parquet": (
        _write("junk.parquet", b"PAR1 this is not parquet"),
        "not a readable parquet",
    ),
    "truncated parquet": (_truncated_parquet, "not a readable parquet"),
    "corrupt xlsx": (_write("junk.xlsx", b"PK\x03\x04 not really a zip"), "not a readable xlsx"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_one_line_exit_2_no_change(
    case: str, demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, message = BAD_FILES[case]
    bad = make(tmp_path)
    before = _sha(demo_db)
    code = main(["--db", str(demo_db), "ingest", "online-retail", str(bad)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert str(bad) in err[0] and message in err[0], err[0]
    assert _sha(demo_db) == before


def test_locked_database(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _sha(demo_db)
    with writing(demo_db):  # another load holds the writer lock
        code = main(["--db", str(demo_db), "ingest", "online-retail", str(OR_SAMPLE)])
    assert code == 2
    assert "locked by another load" in capsys.readouterr().err
    assert _sha(demo_db) == before


def test_panel_missing_column_names_it(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    columns = PanelColumns("day", "store", "item", "sales")
    code = main(ingest_args(demo_db, SAMPLES / "store_item_sample.csv", columns))
    assert code == 2
    assert "missing column(s) 'day'" in capsys.readouterr().err


def test_demo_refuses_to_overwrite_without_force(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(demo_db), "demo", "--scale", "0.05"]) == 2
    assert "--force" in capsys.readouterr().err


def test_sql_info_and_check(demo_db_master: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(demo_db_master), "sql", "SELECT count(*) AS n FROM dim_store"]) == 0
    assert "│ 2" in capsys.readouterr().out
    assert main(["--db", str(demo_db_master), "info"]) == 0
    out = capsys.readouterr().out
    assert "fct_sales_daily" in out and "2024-11-01" in out
    assert main(["--db", str(demo_db_master), "check"]) == 0
    assert "all 10 mart key tests passed" in capsys.readouterr().out


def test_sql_is_read_only(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _sha(demo_db)
    assert main(["--db", str(demo_db), "sql", "DELETE FROM fct_sales"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert _sha(demo_db) == before


def test_module_entry_point_exit_codes(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "warehouse", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and "ingest" in ok.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "warehouse",
            "--db",
            str(tmp_path / "w.duckdb"),
            "ingest",
            "online-retail",
            str(tmp_path / "missing.parquet"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("error: ") and "file not found" in bad.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_holiday_country_is_set_checked_and_kept_by_later_loads(
    store_item_sample_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A US retailer's calendar: `holidays --country us` rebuilds dim_date with US holidays
    (Thanksgiving, no Boxing Day); an unknown code changes nothing; a later ingest keeps it."""
    db = str(store_item_sample_db)

    assert main(["--db", db, "holidays"]) == 0
    assert "holiday calendar: GB" in capsys.readouterr().out
    assert "Boxing Day" in _holidays_in(db, 2016)
    before = _sha(store_item_sample_db)
    assert main(["--db", db, "holidays", "--country", "XX"]) == 2
    err = capsys.readouterr().err
    assert "country 'XX'" in err and "ISO 3166" in err and len(err.strip().splitlines()) == 1
    assert _sha(store_item_sample_db) == before
    assert main(["--db", db, "holidays", "--country", "us"]) == 0
    assert "holiday calendar: US" in capsys.readouterr().out
    us_2016 = _holidays_in(db, 2016)
    assert "Thanksgiving Day" in us_2016 and "Boxing Day" not in us_2016
    assert main(ingest_args(store_item_sample_db, STORE_ITEM_SAMPLE, STORE_ITEM_COLUMNS)) == 0
    assert "Thanksgiving Day" in _holidays_in(db, 2016)  # the load rebuilt dim_date with it
    assert "holiday calendar" not in capsys.readouterr().out  # chosen: no reminder


def test_a_region_with_its_own_holidays_is_a_subdivision_of_its_country(
    store_item_sample_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scotland's bank holidays are not the UK-wide ones the default GB calendar holds:
    `--country gb-sct` adds Saint Andrew's Day and the 2 January holiday; an unknown
    subdivision is refused in one line naming the ones that exist, and nothing changes."""
    db = str(store_item_sample_db)

    uk_wide = _holidays_in(db, 2016)
    assert not {"Saint Andrew's Day", "New Year Holiday"} & uk_wide
    before = _sha(store_item_sample_db)
    assert main(["--db", db, "holidays", "--country", "GB-XYZ"]) == 2
    err = capsys.readouterr().err
    assert "GB has no subdivision 'XYZ'" in err and "ENG, NIR, SCT, WLS" in err
    assert len(err.strip().splitlines()) == 1 and _sha(store_item_sample_db) == before
    assert main(["--db", db, "holidays", "--country", "gb-sct"]) == 0
    assert "holiday calendar: GB-SCT" in capsys.readouterr().out
    scotland = _holidays_in(db, 2016)
    assert {"Saint Andrew's Day", "New Year Holiday"} <= scotland


def test_a_warehouse_holds_one_sales_frequency(
    store_item_sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Weekly rows among daily ones would be read as days by the forecasts and the plans (and
    days as weeks): a weekly panel into a warehouse of daily sales, or daily invoices into a
    weekly one, is refused in one line naming the file, and the warehouse is unchanged."""
    weekly = tmp_path / "weekly.csv"
    pl.read_csv(STORE_ITEM_SAMPLE).with_columns(pl.col("date").str.to_date()).filter(
        pl.col("date").dt.weekday() == 5  # Fridays only: a weekly panel of the same items
    ).write_csv(weekly)
    before = _sha(store_item_sample_db)
    assert main(ingest_args(store_item_sample_db, weekly, STORE_ITEM_COLUMNS)) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress bar
    assert last.startswith(f"error: {weekly}: its sales are weekly and this warehouse already ")
    assert "holds daily sales" in last and _sha(store_item_sample_db) == before
    weekly_db = tmp_path / "weekly.duckdb"
    assert main(ingest_args(weekly_db, weekly, STORE_ITEM_COLUMNS)) == 0
    assert main(ingest_args(weekly_db, weekly, STORE_ITEM_COLUMNS)) == 0  # the same again: fine
    capsys.readouterr()
    before = _sha(weekly_db)
    assert main(["--db", str(weekly_db), "ingest", "online-retail", str(OR_SAMPLE)]) == 2
    err = capsys.readouterr().err
    assert "its sales are daily and this warehouse already holds weekly sales" in err
    assert _sha(weekly_db) == before


def test_a_first_load_says_which_holiday_calendar_feeds_the_forecasts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(ingest_args(tmp_path / "new.duckdb", STORE_ITEM_SAMPLE, STORE_ITEM_COLUMNS)) == 0
    out = capsys.readouterr().out
    assert "note: holiday calendar GB (the default) feeds the forecasts" in out
    assert "python -m warehouse holidays --country XX" in out


def test_a_one_shop_file_of_sales_lines_loads_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --store-col (one shop) and --duplicates sum (an item sold twice in a day)."""
    csv = tmp_path / "till.csv"
    csv.write_text("date,item,sales\n2024-01-01,a,2\n2024-01-01,a,3\n2024-01-02,a,1\n")
    db = tmp_path / "shop.duckdb"
    args = ["--db", str(db), "--quiet", "ingest", "sales-panel", str(csv)]
    columns = ["--date-col", "date", "--item-col", "item", "--qty-col", "sales"]
    assert main([*args, *columns, "--duplicates", "sum"]) == 0
    assert "1 row repeated" in capsys.readouterr().out
    with reading(db) as con:
        daily = query(con, "SELECT store_id, units FROM fct_sales_daily ORDER BY sale_date")
    assert daily.rows() == [("MAIN", 5.0), ("MAIN", 1.0)]


RENAMED = {
    "Invoice": "order_no",
    "StockCode": "sku",
    "Quantity": "qty",
    "InvoiceDate": "sold",
    "Price": "unit_cost",
    "Customer ID": "client",
}


def test_column_role_with_no_name_declares_the_file_has_none(tmp_path: Path, capsys) -> None:
    """`--column invoice= --column quantity=`: a transactions file (one row per item bought)."""
    path = tmp_path / "transactions.csv"
    path.write_text(
        "t_dat,customer_id,article_id,price\n"
        "2018-09-20,c1,0663713001,0.05\n2018-09-20,c1,0663713001,0.05\n"
    )
    args = ["--db", str(tmp_path / "t.duckdb"), "ingest", "online-retail", str(path)]
    roles = ["--column", "stock_code=article_id", "--column", "invoice_date=t_dat"]
    assert main([*args, *roles, "--column", "invoice="]) == 2
    assert "or --column quantity= if the file has none" in capsys.readouterr().err
    assert main([*args, *roles, "--column", "invoice=", "--column", "quantity="]) == 0
    out = capsys.readouterr().out
    assert "no quantity column: each line is one unit; repeated lines add up" in out
    with reading(tmp_path / "t.duckdb") as con:
        rows = query(con, "SELECT order_id, sum(quantity) AS units FROM fct_sales GROUP BY 1")
    assert rows.rows() == [("c1@2018-09-20", 2.0)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "missing column 'Invoice' / 'InvoiceNo'; the file has 'order_no'"),
        (["--column", "bogus=x"], "--column: unknown role 'bogus'; roles: invoice, stock_code"),
        (["--column", "invoice"], "--column 'invoice': expected ROLE=NAME"),
        (["--column", "invoice=nope"], "missing column(s) 'nope'"),
    ],
)
def test_an_invoice_file_s_own_column_names_are_given_by_role(
    options: list[str], message: str, demo_db: Path, tmp_path: Path, capsys
) -> None:
    renamed = tmp_path / "till.csv"
    pl.read_csv(OR_SAMPLE, infer_schema_length=0).rename(RENAMED).write_csv(renamed)
    before = _sha(demo_db)
    args = ["--db", str(demo_db), "ingest", "online-retail", str(renamed)]
    assert main([*args, *options]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert _sha(demo_db) == before
    if options:
        return
    assert "name it with --column invoice=NAME" in err[0]
    roles = {"invoice": "order_no", "stock_code": "sku", "quantity": "qty"}
    roles |= {"invoice_date": "sold", "price": "unit_cost", "customer": "client"}
    named = [arg for role, name in roles.items() for arg in ("--column", f"{role}={name}")]
    db = tmp_path / "named.duckdb"
    assert main(["--db", str(db), "--quiet", "ingest", "online-retail", str(renamed), *named]) == 0
    sample = tmp_path / "sample.duckdb"
    assert main(["--db", str(sample), "--quiet", "ingest", "online-retail", str(OR_SAMPLE)]) == 0
    with reading(db) as named_con, reading(sample) as sample_con:
        sql = "SELECT order_id, customer_id, product_id, quantity, unit_price FROM fct_sales"
        assert query(named_con, sql + " ORDER BY ALL").equals(
            query(sample_con, sql + " ORDER BY ALL")
        )
