"""Ingest of a store x item sales panel (daily or weekly), e.g. the Kaggle store-item demand file.

Rules (first match wins; rejected rows go to `quarantine` with their reason):

1. `blank_row`: no value at all (a blank line between rows);
   `missing_field`: date, store, item or quantity empty.
2. `bad_date` / `bad_quantity` / `bad_price`: the value does not parse;
   `non_finite_number`: NaN or infinite quantity or price;
   `date_out_of_range`: outside the plausible window (`warehouse.ingest.rules.date_window`).
3. `duplicate_key`: the same store x item x date again in the file (first row kept), unless the
   load is told the file holds sales lines (`duplicates="sum"`, `--duplicates sum`): then the
   rows of one store x item x date are summed into one (units added, price weighted by units).

A file with no store column (one shop) is loaded with `store=None`: every row is store
`SINGLE_STORE`. A file with no item column (store totals, as Kaggle's Rossmann sales) is loaded
with `item=None`: every row is item `ALL_ITEMS`, so each store's total is one series.

Quantities may be fractional (a sales value) and negative (returns, stock adjustments): they are
kept as they are, so `fct_sales_daily.units` is net sales; forecasting clips history at zero.
Dates: 2017-06-30, 2017/06/30, or day-month dates in the file's own order (06/30/2017,
30-06-2017, 30.06.17; a file mixing the orders is refused at its first contradicting row,
`rules.slash_date_order`). Dates are kept as in the source (a weekly panel keeps its own week
dates). The frequency is detected from the most common gap between a series' consecutive dates
(1 day: 'D', 7: 'W') and stored in `source_frequency`. Each panel row becomes one sale line
with no order id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from warehouse.db import WarehouseError
from warehouse.ingest.online_retail import normalise_code
from warehouse.ingest.rules import (
    date_expr,
    date_window,
    judge,
    non_finite,
    number,
    out_of_window,
    too_large,
)
from warehouse.load import (
    blank_row,
    quarantine_frame,
    require_columns,
    row_hash,
)

#: The store code of a panel loaded without a store column.
SINGLE_STORE = "MAIN"
#: The item of a panel without an item column: a file of store totals (sales per store and day).
ALL_ITEMS = "ALL"
#: What to do with rows that repeat a store x item x date: quarantine them, or sum them.
DUPLICATE_MODES: tuple[str, ...] = ("refuse", "sum")

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class PanelColumns:
    """Which source columns hold the panel's fields."""

    date: str
    store: str | None
    item: str | None
    qty: str
    price: str | None = None

    def required(self) -> list[str]:
        """Every column that must be in the file."""
        return [c for c in (self.date, self.store, self.item, self.qty, self.price) if c]

    def cli_args(self) -> list[str]:
        """These columns as `ingest sales-panel` options: `--date-col DATE ... --qty-col QTY`."""
        flags = ("--date-col", "--store-col", "--item-col", "--qty-col", "--price-col")
        columns = (self.date, self.store, self.item, self.qty, self.price)
        return [arg for flag, col in zip(flags, columns, strict=True) if col for arg in (flag, col)]


def ingest_args(db: Path, source: Path, columns: PanelColumns) -> list[str]:
    """Arguments of `python -m warehouse` that ingest `source` as a sales panel into `db`."""
    return ["--db", str(db), "ingest", "sales-panel", str(source), *columns.cli_args()]


def detect_frequency(dates: pl.DataFrame, path: Path) -> str:
    """'D' or 'W' from the modal gap between consecutive dates within each series."""
    gaps = (
        dates.sort("store_code", "product_code", "_date")
        .with_columns(
            (pl.col("_date") - pl.col("_date").shift(1))
            .over("store_code", "product_code")
            .dt.total_days()
            .alias("_gap")
        )
        .filter(pl.col("_gap") > 0)
    )
    if gaps.height == 0:
        dists = dates["_date"].unique().sort()
        if dists.len() < 2:
            return "D"
        gaps = pl.DataFrame({"_gap": dists.diff().drop_nulls().dt.total_days()})
    modal = int(gaps["_gap"].mode().sort()[0])
    if modal == 1:
        return "D"
    if modal == 7:
        return "W"
    raise WarehouseError(
        f"{path}: cannot tell the panel's frequency (most common gap between dates is {modal} "
        "days; daily or weekly panels are supported)"
    )


def prepare(
    raw: pl.DataFrame, path: Path, columns: PanelColumns, source: str, duplicates: str = "refuse"
) -> tuple[pl.DataFrame, pl.DataFrame, str, list[str]]:
    """Split text rows into (accepted raw_sales_line rows, quarantine rows, frequency, notes)."""
    if duplicates not in DUPLICATE_MODES:
        raise WarehouseError(
            f"--duplicates: {duplicates!r} is not one of {', '.join(DUPLICATE_MODES)}"
        )
    require_columns(raw, path, columns.required())
    source_cols = columns.required()
    price = pl.col(columns.price).str.strip_chars() if columns.price else pl.lit(None, pl.String)
    store = pl.col(columns.store) if columns.store else pl.lit(SINGLE_STORE)
    item = pl.col(columns.item) if columns.item else pl.lit(ALL_ITEMS)
    typed = (
        raw.with_row_index("_row", offset=1)
        .with_columns(
            date_expr(raw, path, columns.date, _DATE_FORMATS).alias("_date"),
            normalise_code(store).alias("store_code"),
            normalise_code(item).alias("product_code"),
            number(pl.col(columns.qty)).alias("_qty"),
            number(price).alias("_price"),
            price.alias("_price_text"),
            pl.concat_str([pl.col(c).fill_null("") for c in source_cols], separator="|").alias(
                "_content"
            ),
        )
        .with_columns(
            pl.int_range(pl.len()).over("store_code", "product_code", "_date").alias("_occurrence")
        )
    )

    def empty(c: str) -> pl.Expr:
        return pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")

    rules = [
        ("blank_row", blank_row(source_cols)),
        (
            "missing_field",
            pl.any_horizontal(
                empty(c) for c in (columns.date, columns.store, columns.item, columns.qty) if c
            ),
        ),
        ("bad_date", pl.col("_date").is_null()),
        ("date_out_of_range", out_of_window("_date", date_window())),
        ("non_finite_number", non_finite("_qty", "_price")),
        ("number_out_of_range", too_large("_qty", "_price")),
        ("bad_quantity", pl.col("_qty").is_null()),
        ("bad_price", pl.col("_price_text").is_not_null() & pl.col("_price").is_null()),
        ("duplicate_key", (pl.col("_occurrence") > 0) & (duplicates == "refuse")),
    ]
    shown = {
        "bad_date": (columns.date, columns.date),
        "bad_quantity": (columns.qty, columns.qty),
        "bad_price": (columns.price, columns.price) if columns.price else ("", ""),
    }
    accepted, rejected = judge(typed, rules, path, shown)
    notes = _duplicate_notes(rejected, accepted, duplicates)
    if duplicates == "sum":
        accepted = sum_repeated_days(accepted)
    frequency = detect_frequency(accepted.select("store_code", "product_code", "_date"), path)
    lines = accepted.select(
        row_hash(
            pl.lit(source), pl.col("store_code"), pl.col("product_code"), pl.col("_date")
        ).alias("line_key"),
        pl.lit(source).alias("source"),
        pl.lit(None, pl.String).alias("order_id"),
        pl.col("_date").cast(pl.Datetime("us")).alias("sold_at"),
        pl.col("store_code"),
        pl.lit(None, pl.String).alias("customer_code"),
        pl.col("product_code"),
        pl.lit(None, pl.String).alias("description"),
        pl.col("_qty").alias("quantity"),
        pl.col("_price").alias("unit_price"),
        pl.lit(None, pl.Float64).alias("list_price"),
    )
    return lines, quarantine_frame(rejected, source_cols), frequency, notes


def sum_repeated_days(accepted: pl.DataFrame) -> pl.DataFrame:
    """One row per store x item x date: `_qty` summed, `_price` weighted by units (the mean
    price where the priced units sum to zero), the first row's other columns."""
    priced = pl.col("_price").is_not_null()
    priced_units = pl.when(priced).then(pl.col("_qty")).otherwise(0.0).sum()
    weighted = (pl.col("_qty") * pl.col("_price")).sum() / priced_units
    return accepted.group_by("store_code", "product_code", "_date", maintain_order=True).agg(
        pl.all().exclude("_qty", "_price").first(),
        pl.col("_qty").sum(),
        pl.when(priced_units != 0)
        .then(weighted)
        .otherwise(pl.col("_price").mean())
        .alias("_price"),
    )


def _duplicate_notes(rejected: pl.DataFrame, accepted: pl.DataFrame, duplicates: str) -> list[str]:
    """What the load did with rows that repeat a store x item x date, and how to change it."""
    if duplicates == "sum":
        repeats = (
            accepted.height - accepted.select("store_code", "product_code", "_date").n_unique()
        )
        if not repeats:
            return []
        return [
            f"{_rows(repeats)} repeated a store x item x date and were added to that day's "
            "first row (--duplicates sum)"
        ]
    repeats = int((rejected["_reason"] == "duplicate_key").sum())
    if not repeats:
        return []
    return [
        f"{_rows(repeats)} repeat a store x item x date and were quarantined (duplicate_key): "
        "if the file holds sales lines rather than one row per day, load it with "
        "--duplicates sum to add them up"
    ]


def _rows(n: int) -> str:
    """'1 row', '2,345 rows'."""
    return f"{n:,} row" + ("" if n == 1 else "s")
