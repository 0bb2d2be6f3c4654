"""Atomic, idempotent loads of real data files into the warehouse.

Every load: read the file as text -> check and split rows (accepted / quarantined with a
reason) -> in one transaction on a private copy: append only rows not loaded before, keep the
quarantine, rebuild the marts, run the mart key tests, log the load -> swap the copy in.
A failure at any step leaves the warehouse exactly as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb
import polars as pl
from tqdm import tqdm

from warehouse.build import (
    HolidayCalendar,
    build_marts,
    check_mart_keys,
    holiday_calendar,
    holiday_country_set,
    set_holiday_country,
)
from warehouse.db import WarehouseError, execute, row_count, run_named, scalar, writing
from warehouse.defaults import HOLIDAY_COUNTRY
from warehouse.ingest import online_retail, products, promotions, sales_panel, stock
from warehouse.load import (
    LoadReport,
    SourceFile,
    append_new,
    log_load,
    new_load_id,
    read_source,
    replace_by_key,
    store_quarantine,
)

#: Test seam: a stage name at which a load raises, to prove that a mid-load failure changes nothing.
FAULT_ENV = "SHELFWISE_FAIL_LOAD_AT"

Stage = Callable[[duckdb.DuckDBPyConnection], None]


class InjectedFault(RuntimeError):
    """Raised when SHELFWISE_FAIL_LOAD_AT names the current stage."""


def _run_load(
    db: str | os.PathLike[str] | None, report: LoadReport, stages: list[tuple[str, Stage]]
) -> LoadReport:
    """Run the write stages in one transaction, then rebuild marts, test keys and log."""
    fail_at = os.environ.get(FAULT_ENV)
    steps: list[tuple[str, Stage]] = [
        *stages,
        ("build marts", build_marts),
        ("key tests", _assert_keys),
        ("log", lambda con: log_load(con, _with_calendar_note(con, report))),
    ]
    with (
        writing(db, create=True) as con,
        tqdm(total=len(steps), desc=f"load {report.kind}", unit="step", leave=False) as bar,
    ):
        for name, step in steps:
            bar.set_postfix_str(name)
            step(con)
            if fail_at == name:
                raise InjectedFault(f"injected failure after stage {name!r}")
            bar.update()
    return report


def set_holiday_calendar(db: str | os.PathLike[str] | None, country: str) -> HolidayCalendar:
    """Make `country` (an ISO 3166 code) the warehouse's holiday calendar and rebuild the marts
    with it, on a private copy swapped in (all or nothing, like a load); returns the calendar.

    Raises:
        WarehouseError: an unknown country code (nothing changes), or failing key tests.
    """
    with writing(db) as con:
        set_holiday_country(con, country)
        build_marts(con)
        _assert_keys(con)
        return holiday_calendar(con)


def _with_calendar_note(con: duckdb.DuckDBPyConnection, report: LoadReport) -> LoadReport:
    """`report` with a note naming the holiday calendar while none was chosen (the GB default):
    a retailer elsewhere learns, from its first load, that its forecasts use UK holidays."""
    if holiday_country_set(con) is None:
        report.notes.append(
            f"holiday calendar {HOLIDAY_COUNTRY} (the default) feeds the forecasts; "
            "another country: python -m warehouse holidays --country XX"
        )
    return report


def _assert_keys(con: duckdb.DuckDBPyConnection) -> None:
    failures = check_mart_keys(con)
    if failures:
        raise WarehouseError("mart key tests failed: " + "; ".join(map(str, failures)))


def _with_load_id(frame: pl.DataFrame, load_id: str) -> pl.DataFrame:
    return frame.with_columns(pl.lit(load_id).alias("load_id"))


def _new_report(kind: str, source: str, path: Path, read: SourceFile) -> LoadReport:
    """The report of a load, with the hash of exactly the bytes that were parsed."""
    return LoadReport(
        kind=kind,
        source=source,
        file=str(path),
        load_id=new_load_id(),
        rows_read=read.frame.height,
        file_sha256=read.sha256,
        notes=list(read.notes),
    )


_FREQUENCY_WORDS = {"D": "daily", "W": "weekly"}


def check_frequency(con: duckdb.DuckDBPyConnection, path: Path, frequency: str) -> None:
    """Refuse sales of another frequency ('D' or 'W') than those the warehouse already holds:
    forecasts and reorder points read all of a warehouse's sales at one frequency, so weekly
    rows among daily ones would be read as days (or days as weeks)."""
    if not scalar(con, "SELECT count(*) > 0 FROM raw_sales_line"):
        return
    held = str(run_named(con, "forecasting/frequency")["frequency"][0])
    if held != frequency:
        raise WarehouseError(
            f"{path}: its sales are {_FREQUENCY_WORDS[frequency]} and this warehouse already "
            f"holds {_FREQUENCY_WORDS[held]} sales; a warehouse holds one frequency (forecasts "
            "and reorder points read all its sales at one), so load the file into a warehouse "
            "of its own (--db NEW.duckdb)"
        )


def _sales_stage(
    report: LoadReport, lines: pl.DataFrame, path: Path, frequency: str = "D"
) -> Stage:
    """Append new sale lines of `frequency` (checked against the warehouse's first)."""

    def stage(con: duckdb.DuckDBPyConnection) -> None:
        check_frequency(con, path, frequency)
        report.rows_accepted = lines.height
        report.rows_added = append_new(
            con, "raw_sales_line", _with_load_id(lines, report.load_id), "line_key"
        )
        report.rows_already_loaded = report.rows_accepted - report.rows_added

    return stage


def ingest_online_retail(
    db: str | os.PathLike[str] | None,
    file: str | os.PathLike[str],
    *,
    member: str | None = None,
    sheet: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> LoadReport:
    """Load an Online Retail (II) invoice-line file (parquet, csv, xlsx: every sheet, or zip).

    `member` picks the CSV inside a zip with several; `sheet` loads one workbook sheet only;
    `columns` maps roles (`online_retail.COLUMN_SPELLINGS`) to the file's own column names.
    """
    path = Path(file)
    read = read_source(path, member=member, sheet=sheet)
    lines, customers, quarantined = online_retail.prepare(read.frame, path, columns=columns)
    report = _new_report("online-retail", online_retail.SOURCE, path, read)
    report.notes.extend(online_retail.absent_notes(columns))
    return _run_load(
        db,
        report,
        [
            ("insert lines", _sales_stage(report, lines, path)),
            (
                "insert customers",
                lambda con: replace_by_key(
                    con,
                    "raw_customer",
                    _with_load_id(customers, report.load_id),
                    ["source", "customer_code"],
                ),
            ),
            (
                "insert store",
                lambda con: replace_by_key(
                    con,
                    "raw_store",
                    _with_load_id(online_retail.store_rows(), report.load_id),
                    ["source", "store_code"],
                ),
            ),
            ("quarantine", lambda con: store_quarantine(con, report, quarantined)),
        ],
    )


def ingest_sales_panel(
    db: str | os.PathLike[str] | None,
    file: str | os.PathLike[str],
    columns: sales_panel.PanelColumns,
    *,
    source: str = "sales_panel",
    member: str | None = None,
    sheet: str | None = None,
    duplicates: str = "refuse",
) -> LoadReport:
    """Load a store x item sales panel (daily or weekly); rows repeating a store x item x date
    are quarantined, or summed with `duplicates="sum"` (a file of sales lines)."""
    path = Path(file)
    read = read_source(path, member=member, sheet=sheet)
    lines, quarantined, frequency, notes = sales_panel.prepare(
        read.frame, path, columns, source, duplicates
    )
    report = _new_report("sales-panel", source, path, read)
    report.notes.extend(notes)

    def record_frequency(con: duckdb.DuckDBPyConnection) -> None:
        execute(
            con,
            "INSERT OR REPLACE INTO source_frequency VALUES ($s, $f)",
            {"s": source, "f": frequency},
        )

    return _run_load(
        db,
        report,
        [
            ("insert lines", _sales_stage(report, lines, path, frequency)),
            ("frequency", record_frequency),
            ("quarantine", lambda con: store_quarantine(con, report, quarantined)),
        ],
    )


def _upsert_stage(report: LoadReport, table: str, rows: pl.DataFrame, keys: list[str]) -> Stage:
    def stage(con: duckdb.DuckDBPyConnection) -> None:
        before = row_count(con, table)
        replace_by_key(con, table, _with_load_id(rows, report.load_id), keys)
        after = row_count(con, table)
        report.rows_accepted = rows.height
        report.rows_added = int(after - before)
        report.rows_already_loaded = report.rows_accepted - report.rows_added

    return stage


def ingest_inventory(
    db: str | os.PathLike[str] | None,
    file: str | os.PathLike[str],
    *,
    store_col: str = "store_id",
    product_col: str = "product_id",
    date_col: str = "snapshot_date",
    on_hand_col: str = "on_hand_units",
    on_order_col: str | None = "on_order_units",
    source: str = "inventory",
) -> LoadReport:
    """Load stock snapshots (CSV): a later load of the same key replaces the earlier value."""
    path = Path(file)
    read = read_source(path)
    rows, quarantined = stock.prepare_inventory(
        read.frame,
        path,
        store_col=store_col,
        product_col=product_col,
        date_col=date_col,
        on_hand_col=on_hand_col,
        on_order_col=on_order_col,
        source=source,
    )
    report = _new_report("inventory", source, path, read)
    return _run_load(
        db,
        report,
        [
            (
                "insert inventory",
                _upsert_stage(
                    report, "raw_inventory", rows, ["store_code", "product_code", "snapshot_date"]
                ),
            ),
            ("quarantine", lambda con: store_quarantine(con, report, quarantined)),
        ],
    )


def ingest_supply(
    db: str | os.PathLike[str] | None,
    file: str | os.PathLike[str],
    *,
    product_col: str = "product_id",
    store_col: str | None = "store_id",
    source: str = "supply",
    supplier_col: str | None = "supplier_id",
) -> LoadReport:
    """Load supply parameters (CSV), per product or per store x product, with the supplier."""
    path = Path(file)
    read = read_source(path)
    rows, quarantined = stock.prepare_supply(
        read.frame,
        path,
        product_col=product_col,
        store_col=store_col,
        source=source,
        supplier_col=supplier_col,
    )
    report = _new_report("supply", source, path, read)
    return _run_load(
        db,
        report,
        [
            (
                "insert supply",
                _upsert_stage(report, "raw_supply", rows, ["store_code", "product_code"]),
            ),
            ("quarantine", lambda con: store_quarantine(con, report, quarantined)),
        ],
    )


def ingest_products(
    db: str | os.PathLike[str] | None,
    file: str | os.PathLike[str],
    columns: products.ProductColumns | None = None,
    *,
    source: str = "products",
    member: str | None = None,
    sheet: str | None = None,
) -> LoadReport:
    """Load a product master file (descriptions, categories, list prices, unit costs); a product
    loaded again replaces its earlier row."""
    path = Path(file)
    read = read_source(path, member=member, sheet=sheet)
    rows, quarantined = products.prepare_products(
        read.frame, path, columns or products.ProductColumns(), source
    )
    report = _new_report("products", source, path, read)
    return _run_load(
        db,
        report,
        [
            ("insert products", _upsert_stage(report, "raw_product", rows, ["product_code"])),
            ("quarantine", lambda con: store_quarantine(con, report, quarantined)),
        ],
    )


def ingest_promotions(
    db: str | os.PathLike[str] | None,
    file: str | os.PathLike[str],
    columns: promotions.PromotionColumns | None = None,
    *,
    source: str = "promotions",
    member: str | None = None,
    sheet: str | None = None,
) -> LoadReport:
    """Load promotions (product, first and last day, store, discount); a promotion loaded
    again replaces its earlier row. Forecasts read them at their next refresh."""
    path = Path(file)
    cols = columns or promotions.PromotionColumns()
    promotions.check_columns(cols)
    read = read_source(path, member=member, sheet=sheet)
    rows, quarantined, notes = promotions.prepare_promotions(read.frame, path, cols, source)
    report = _new_report("promotions", source, path, read)
    report.notes.extend(notes)
    return _run_load(
        db,
        report,
        [
            (
                "insert promotions",
                _upsert_stage(report, "raw_promotion", rows, ["promotion_code"]),
            ),
            ("quarantine", lambda con: store_quarantine(con, report, quarantined)),
        ],
    )
