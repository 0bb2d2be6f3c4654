"""Ingest of promotions: which products are on promotion, where, when and at what discount.

One row per promotion: the product and its first day are required; the last day (blank or no
column: a one-day promotion, or one week of a weekly panel), the store (blank or no column: every
store), the discount in percent (0 < d <= 100) and the promotion's own id are optional. A file
that only flags promotions (no discount column, or a blank cell: a display or a bundle) records
each at `FLAG_DISCOUNT_PCT`, and the report says so. Without an id column a promotion is known
by its store, product and first day, so loading the same file again adds nothing, and a later
load of a promotion replaces the earlier one (`stg_promotions`: the latest load wins per id).

Forecasts read promotions as known in advance (`forecasting/promotions.sql`): a file of next
month's plan changes next month's forecasts and orders at the next refresh, and past ones teach
the model the uplift.

Rules (first match wins; rejected rows go to `quarantine` with their reason):

1. `blank_row`: no value at all; `missing_field`: no product or no first day.
2. `bad_date`: a first or last day that does not parse; `date_out_of_range`: outside the
   plausible window (`rules.date_window`); `end_before_start`.
3. `bad_flag`: a flag column's value that is neither yes (1, true, t, yes, y, a number above 0)
   nor no (0, false, f, no, n, blank); rows it marks no are skipped, not quarantined.
4. `non_finite_number`; `bad_discount`: not a number, or not in (0, 100].
5. `duplicate_key`: the same promotion again in the file (the first row kept).

A flag column (`--flag-col onpromotion`) reads a sales file that marks promotion days per row
(Favorita's train and test files): each row marked yes is a one-period promotion.
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
    optional_columns,
    out_of_window,
    text_or_null,
)
from warehouse.load import blank_row, quarantine_frame, require_columns

#: The discount (percent) recorded for a promotion the file flags without one. The forecasting
#: model reads a promotion as "discount > 0" and its size; flags all get this one size.
FLAG_DISCOUNT_PCT = 10.0
#: Date formats tried before day-month ones (`rules.date_expr`).
DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%Y%m%d")


@dataclass(frozen=True)
class PromotionColumns:
    """The file's column of each field. An optional field's default name that the file lacks
    is skipped (None: never read); a name the caller gave that the file lacks is an error."""

    product: str = "product_id"
    start: str = "start_date"
    end: str | None = "end_date"
    store: str | None = "store_id"
    discount: str | None = "discount_pct"
    promotion: str | None = "promotion_id"
    #: A yes/no column (Favorita's `onpromotion`): only its rows marked yes are promotions.
    flag: str | None = None


_DEFAULTS = PromotionColumns()
_OPTIONAL: tuple[str, ...] = ("end", "store", "discount", "promotion", "flag")
#: How a flag column says yes or no (any case); a number says yes when above 0.
YES: frozenset[str] = frozenset({"1", "true", "t", "yes", "y"})
NO: frozenset[str] = frozenset({"0", "false", "f", "no", "n"})


def prepare_promotions(
    raw: pl.DataFrame, path: Path, columns: PromotionColumns, source: str
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(accepted raw_promotion rows, quarantine rows, report notes) from the file's text."""
    require_columns(raw, path, [columns.product, columns.start])
    found = optional_columns(raw, path, columns, _DEFAULTS, _OPTIONAL)
    wanted = [columns.product, columns.start, *found.values()]

    def text(field: str) -> pl.Expr:
        return text_or_null(found, field)

    end = date_expr(raw, path, found["end"], DATE_FORMATS) if "end" in found else None
    typed = raw.with_row_index("_row", offset=1).with_columns(
        normalise_code(pl.col(columns.product)).alias("_product"),
        normalise_code(text("store")).alias("_store"),
        date_expr(raw, path, columns.start, DATE_FORMATS).alias("_start"),
        text("end").alias("_end_text"),
        text("discount").alias("_discount_text"),
        text("promotion").alias("_promotion"),
        pl.concat_str([pl.col(c).fill_null("") for c in wanted], separator="|").alias("_content"),
    )
    typed = typed.with_columns(
        (end if end is not None else pl.lit(None, pl.Date)).alias("_end_parsed"),
        number(pl.col("_discount_text")).alias("_discount"),
    ).with_columns(
        pl.when(pl.col("_end_text").is_null())
        .then(pl.col("_start"))
        .otherwise(pl.col("_end_parsed"))
        .alias("_end"),
    )
    skipped = 0
    if "flag" in found:  # rows marked no are sales days without a promotion, not errors
        typed = typed.with_columns(_flag(text("flag")).alias("_flag"))
        skipped = int((typed["_flag"] == False).sum())  # noqa: E712 - a Boolean column
        typed = typed.filter(pl.col("_flag").is_null() | pl.col("_flag"))
    typed = typed.with_columns(
        pl.coalesce(
            pl.col("_promotion"),
            pl.concat_str(
                [
                    pl.col("_store").fill_null("*"),
                    pl.col("_product"),
                    pl.col("_start").dt.strftime("%Y-%m-%d"),
                ],
                separator="|",
            ),
        ).alias("_code")
    ).with_columns(pl.int_range(pl.len()).over("_code").alias("_occurrence"))
    window = date_window()
    discount = pl.col("_discount")
    rules = [
        ("blank_row", blank_row(wanted)),
        (
            "missing_field",
            pl.col("_product").fill_null("").eq("")
            | pl.col(columns.start).str.strip_chars().fill_null("").eq(""),
        ),
        ("bad_date", pl.col("_start").is_null() | pl.col("_end").is_null()),
        (
            "date_out_of_range",
            out_of_window("_start", window) | out_of_window("_end", window),
        ),
        ("end_before_start", pl.col("_end") < pl.col("_start")),
        ("bad_flag", pl.col("_flag").is_null() if "flag" in found else pl.lit(False)),
        ("non_finite_number", non_finite("_discount")),
        (
            "bad_discount",
            (pl.col("_discount_text").is_not_null() & discount.is_null())
            | (discount <= 0)
            | (discount > 100),
        ),
        ("duplicate_key", pl.col("_occurrence") > 0),
    ]
    shown = {"bad_date": (columns.start, columns.start)}
    if "discount" in found:
        shown["bad_discount"] = (found["discount"], "_discount_text")
    if "flag" in found:
        shown["bad_flag"] = (found["flag"], found["flag"])
    passed, rejected = judge(typed, rules, path, shown)
    flagged = int(passed["_discount"].is_null().sum())
    accepted = passed.select(
        pl.lit(source).alias("source"),
        pl.col("_code").alias("promotion_code"),
        pl.col("_store").alias("store_code"),
        pl.col("_product").alias("product_code"),
        pl.col("_start").alias("start_date"),
        pl.col("_end").alias("end_date"),
        discount.fill_null(FLAG_DISCOUNT_PCT).alias("discount_pct"),
    )
    notes = []
    if flagged:
        why = "no discount column" if "discount" not in found else "a blank discount"
        notes.append(
            f"{flagged:,} promotion(s) with {why}: recorded as flags at "
            f"{FLAG_DISCOUNT_PCT:g}% (forecasts read them as promoted)"
        )
    if skipped:
        notes.append(f"{skipped:,} row(s) not on promotion ({found['flag']} says no): skipped")
    if "store" not in found:
        notes.append("no store column: every promotion applies to every store")
    return accepted, quarantine_frame(rejected, wanted), notes


def check_columns(columns: PromotionColumns) -> None:
    """Raise naming a required column left blank (the CLI's or the form's mistake)."""
    for field in ("product", "start"):
        if not getattr(columns, field):
            raise WarehouseError(f"promotions: the {field} column must be named")


def _flag(text: pl.Expr) -> pl.Expr:
    """True (a promotion), False (none: blank, a no, or 0) or null (neither: quarantined)."""
    lower = text.str.to_lowercase()
    value = number(text)
    return (
        pl.when(text.is_null() | lower.is_in(list(NO)))
        .then(False)
        .when(lower.is_in(list(YES)))
        .then(True)
        .when(value.is_not_null() & value.is_finite())
        .then(value > 0)
        .otherwise(None)
    )
