"""Ingest of a product master file: names, categories, list prices and unit costs.

One row per product code; every column but the product's may be left out, but one of
description, category, price or cost must be there. A product loaded again replaces its earlier
row (`stg_products`: the latest load wins), and what the file leaves blank is filled from the
sales lines (`dim_product`: the description printed most often, the median price paid; the
category by the keyword rule). A master file is how a shop whose lines carry no category (UCI
Online Retail; H&M's transactions, whose `articles.csv` holds `product_group_name`) gets the
categories that business rules, "favourite categories" and the category charts read.

Rules (first match wins; rejected rows go to `quarantine` with their reason):

1. `blank_row`: no value at all; `missing_field`: the product code empty.
2. `non_finite_number`, `number_out_of_range`; `bad_price` / `bad_cost`: a price or cost that
   does not parse or is negative.
3. `duplicate_key`: the same product code again in the file (the first row kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from warehouse.db import WarehouseError
from warehouse.ingest.online_retail import normalise_code
from warehouse.ingest.rules import (
    judge,
    non_finite,
    number,
    optional_columns,
    text_or_null,
    too_large,
)
from warehouse.load import blank_row, quarantine_frame, require_columns


@dataclass(frozen=True)
class ProductColumns:
    """The file's column of each field. A default name the file lacks is skipped; a name the
    caller gave that the file lacks is an error."""

    product: str = "product_id"
    description: str | None = "description"
    category: str | None = "category"
    price: str | None = "unit_price"
    cost: str | None = "unit_cost"


_DEFAULTS = ProductColumns()
_FIELDS: tuple[str, ...] = ("description", "category", "price", "cost")


def _present(raw: pl.DataFrame, path: Path, columns: ProductColumns) -> dict[str, str]:
    """{field: the file's column} of the optional fields the file has; raises naming a column
    the caller named that is not there, or a file with none of them."""
    found = optional_columns(raw, path, columns, _DEFAULTS, _FIELDS)
    if not found:
        wanted = ", ".join(repr(getattr(columns, f)) for f in _FIELDS if getattr(columns, f))
        raise WarehouseError(
            f"{path}: no product field to load; expected one or more of {wanted} "
            f"(the file has {', '.join(repr(c) for c in raw.columns)})"
        )
    return found


def prepare_products(
    raw: pl.DataFrame, path: Path, columns: ProductColumns, source: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted raw_product rows, quarantine rows) from the file's text columns."""
    require_columns(raw, path, [columns.product])
    found = _present(raw, path, columns)
    wanted = [columns.product, *found.values()]

    def text(field: str) -> pl.Expr:
        return text_or_null(found, field)

    typed = (
        raw.with_row_index("_row", offset=1)
        .with_columns(
            normalise_code(pl.col(columns.product)).alias("_product"),
            text("description").alias("_description"),
            text("category").alias("_category"),
            text("price").alias("_price_text"),
            text("cost").alias("_cost_text"),
        )
        .with_columns(
            number(pl.col("_price_text")).alias("_price"),
            number(pl.col("_cost_text")).alias("_cost"),
            pl.int_range(pl.len()).over("_product").alias("_occurrence"),
            pl.concat_str([pl.col(c).fill_null("") for c in wanted], separator="|").alias(
                "_content"
            ),
        )
    )

    def bad(field: str) -> pl.Expr:
        value = pl.col(f"_{field}")
        return (pl.col(f"_{field}_text").is_not_null() & value.is_null()) | (value < 0)

    rules = [
        ("blank_row", blank_row(wanted)),
        ("missing_field", pl.col("_product").is_null() | (pl.col("_product") == "")),
        ("non_finite_number", non_finite("_price", "_cost")),
        ("number_out_of_range", too_large("_price", "_cost")),
        ("bad_price", bad("price")),
        ("bad_cost", bad("cost")),
        ("duplicate_key", pl.col("_occurrence") > 0),
    ]
    shown = {f"bad_{f}": (found[f], f"_{f}_text") for f in ("price", "cost") if f in found}
    passed, rejected = judge(typed, rules, path, shown)
    accepted = passed.select(
        pl.lit(source).alias("source"),
        pl.col("_product").alias("product_code"),
        pl.col("_description").alias("description"),
        pl.col("_category").alias("category"),
        pl.col("_price").alias("unit_price"),
        pl.col("_cost").alias("unit_cost"),
    )
    return accepted, quarantine_frame(rejected, wanted)
