"""Ingest of on-hand stock snapshots and supply parameters (CSV).

Inventory: one row per store x product x snapshot date with on-hand (and optionally on-order)
units. Negative on-hand is kept (backorders or count errors are real and the optimizer handles
them). A later load of the same store x product x date replaces the earlier value.

Supply: lead time mean/sd (days), order cost, holding cost rate (per year), minimum order
quantity and case pack, per product (store column empty or absent: every store) or per store x
product. Missing parameters fall back to the defaults in `warehouse.defaults`, and `dim_supply`
says which applied. Negative lead times, costs or packs are rejected (quarantined).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from warehouse.db import WarehouseError
from warehouse.defaults import SUPPLY_DEFAULTS
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
from warehouse.load import blank_row, quarantine_frame, require_columns

SUPPLY_PARAMS: tuple[str, ...] = tuple(SUPPLY_DEFAULTS)


def _empty(c: str) -> pl.Expr:
    return pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")


def prepare_inventory(
    raw: pl.DataFrame,
    path: Path,
    *,
    store_col: str,
    product_col: str,
    date_col: str,
    on_hand_col: str,
    on_order_col: str | None,
    source: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted raw_inventory rows, quarantine rows)."""
    wanted = [store_col, product_col, date_col, on_hand_col]
    if on_order_col and on_order_col in raw.columns:
        wanted.append(on_order_col)
    elif on_order_col and on_order_col != "on_order_units":
        require_columns(raw, path, [on_order_col])
    require_columns(raw, path, wanted)
    on_order = pl.col(on_order_col) if on_order_col in raw.columns else pl.lit(None, pl.String)
    typed = (
        raw.with_row_index("_row", offset=1)
        .with_columns(
            normalise_code(pl.col(store_col)).alias("_store"),
            normalise_code(pl.col(product_col)).alias("_product"),
            date_expr(raw, path, date_col, ("%Y-%m-%d",)).alias("_snapshot_date"),
            number(pl.col(on_hand_col)).alias("_on_hand"),
            number(on_order).alias("_on_order"),
            on_order.alias("_on_order_text"),
            pl.concat_str([pl.col(c).fill_null("") for c in wanted], separator="|").alias(
                "_content"
            ),
        )
        .with_columns(
            pl.int_range(pl.len()).over("_store", "_product", "_snapshot_date").alias("_occurrence")
        )
    )
    rules = [
        ("blank_row", blank_row(wanted)),
        (
            "missing_field",
            _empty(store_col) | _empty(product_col) | _empty(date_col) | _empty(on_hand_col),
        ),
        ("bad_date", pl.col("_snapshot_date").is_null()),
        ("date_out_of_range", out_of_window("_snapshot_date", date_window())),
        ("non_finite_number", non_finite("_on_hand", "_on_order")),
        ("number_out_of_range", too_large("_on_hand", "_on_order")),
        ("bad_on_hand", pl.col("_on_hand").is_null()),
        (
            "bad_on_order",
            (
                pl.col("_on_order_text").is_not_null()
                & (pl.col("_on_order_text").str.strip_chars() != "")
                & pl.col("_on_order").is_null()
            )
            | (pl.col("_on_order") < 0),
        ),
        ("duplicate_key", pl.col("_occurrence") > 0),
    ]
    shown = {"bad_date": (date_col, date_col), "bad_on_hand": (on_hand_col, on_hand_col)}
    if on_order_col and on_order_col in raw.columns:
        shown["bad_on_order"] = (on_order_col, on_order_col)
    passed, rejected = judge(typed, rules, path, shown)
    accepted = passed.select(
        pl.lit(source).alias("source"),
        pl.col("_store").alias("store_code"),
        pl.col("_product").alias("product_code"),
        pl.col("_snapshot_date").alias("snapshot_date"),
        pl.col("_on_hand").alias("on_hand_units"),
        pl.col("_on_order").alias("on_order_units"),
    )
    return accepted, quarantine_frame(rejected, wanted)


def prepare_supply(
    raw: pl.DataFrame,
    path: Path,
    *,
    product_col: str,
    store_col: str | None,
    source: str,
    supplier_col: str | None = "supplier_id",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted raw_supply rows, quarantine rows). A parameter or supplier column is needed."""
    require_columns(raw, path, [product_col])
    params = [p for p in SUPPLY_PARAMS if p in raw.columns]
    has_supplier = bool(supplier_col) and supplier_col in raw.columns
    if supplier_col and not has_supplier and supplier_col != "supplier_id":
        require_columns(raw, path, [supplier_col])
    supplier = (
        normalise_code(pl.col(supplier_col))
        if has_supplier and supplier_col
        else pl.lit(None, pl.String)
    )
    if not params and not has_supplier:
        raise WarehouseError(
            f"{path}: no supply parameter column; expected one or more of "
            f"{', '.join(SUPPLY_PARAMS)}"
        )
    has_store = bool(store_col) and store_col in raw.columns
    if store_col and not has_store and store_col != "store_id":
        require_columns(raw, path, [store_col])
    store_key = store_col if store_col and has_store else None
    wanted = [product_col, *([store_key] if store_key else []), *params]
    store = normalise_code(pl.col(store_key)) if store_key else pl.lit(None, pl.String)
    typed = (
        raw.with_row_index("_row", offset=1)
        .with_columns(
            normalise_code(pl.col(product_col)).alias("_product"),
            pl.when(store == "").then(None).otherwise(store).alias("_store"),
            *[number(pl.col(p)).alias(f"_{p}") for p in params],
            pl.concat_str([pl.col(c).fill_null("") for c in wanted], separator="|").alias(
                "_content"
            ),
        )
        .with_columns(
            pl.int_range(pl.len())
            .over(pl.col("_store").fill_null("*"), "_product")
            .alias("_occurrence")
        )
    )
    bad_value = [
        (f"bad_{p}", (~_empty(p) & pl.col(f"_{p}").is_null()) | (pl.col(f"_{p}") < 0))
        for p in params
    ]
    rules = [
        ("blank_row", blank_row(wanted)),
        ("missing_field", _empty(product_col)),
        ("non_finite_number", non_finite(*[f"_{p}" for p in params])),
        ("number_out_of_range", too_large(*[f"_{p}" for p in params])),
        *bad_value,
        ("duplicate_key", pl.col("_occurrence") > 0),
    ]
    passed, rejected = judge(typed, rules, path, {f"bad_{p}": (p, p) for p in params})
    accepted = passed.select(
        pl.lit(source).alias("source"),
        pl.col("_store").alias("store_code"),
        pl.col("_product").alias("product_code"),
        *[
            pl.col(f"_{p}").alias(p) if p in params else pl.lit(None, pl.Float64).alias(p)
            for p in SUPPLY_PARAMS
        ],
        pl.when(supplier == "").then(None).otherwise(supplier).alias("supplier_code"),
    )
    return accepted, quarantine_frame(rejected, wanted)
