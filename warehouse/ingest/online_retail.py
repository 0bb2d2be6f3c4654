"""Ingest of the UCI Online Retail / Online Retail II invoice-line format.

Rules (first match wins; each rejected row is kept in `quarantine` with its reason):

1. `blank_row`: no value at all (a blank line between lines).
   `missing_field`: invoice, stock code, quantity, date or price empty (those the file has).
2. `non_finite_number`: NaN or infinite quantity or price.
   `bad_quantity` / `bad_price` / `bad_date`: the value does not parse.
   `date_out_of_range`: outside the plausible window (`warehouse.ingest.rules.date_window`).
   Slash dates are read in one order per file; a file mixing day/month and month/day is
   refused with the first offending row (`rules.slash_date_order`).
3. `cancellation`: invoice starting with "C" (a cancelled or returned line; not demand).
4. `non_product_code`: postage, fees, manual adjustments, samples, gift vouchers...
5. `negative_price`: bad-debt adjustments.
6. `zero_price`: free lines, samples and write-offs carry no demand signal we can price.
7. `non_positive_quantity`: stock adjustments (damaged, lost) on normal invoices.
8. `duplicate_row`: an exact copy of an earlier line of the same file (first copy kept);
   not in a file without a quantity column, where each repeat is one more unit.

A transactions file (one row per item bought: H&M's `t_dat, customer_id, article_id, price`)
declares the roles it lacks with `--column invoice= --column quantity=` (`ABSENT_MEANS`).

Lines without a customer id are kept (real demand), with customer_id NULL. The shop is one
online store (`ONLINE`): it ships every country from one stock, so per-country stores would
split one inventory; the customer's country is kept as `dim_customer.region`.
Codes keep the source's spelling: customer 17850 (never 17850.0), stock code 85123A.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from warehouse.db import WarehouseError
from warehouse.ingest.rules import (
    SLASH_FORMATS,
    DateWindow,
    date_window,
    judge,
    non_finite,
    number,
    out_of_window,
    slash_date_order,
    too_large,
)
from warehouse.load import (
    blank_row,
    find_column,
    pick_column,
    quarantine_frame,
    require_columns,
    row_hash,
)

SOURCE = "online_retail"
STORE_CODE = "ONLINE"

COLUMN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "invoice": ("Invoice", "InvoiceNo"),
    "stock_code": ("StockCode",),
    "description": ("Description",),
    "quantity": ("Quantity",),
    "invoice_date": ("InvoiceDate",),
    "price": ("Price", "UnitPrice"),
    "customer": ("Customer ID", "CustomerID"),
    "country": ("Country",),
}
#: Roles a file may lack: lines without a description, customer or country still load.
OPTIONAL_ROLES = frozenset({"description", "customer", "country"})
#: Roles a file may declare absent with `--column ROLE=` (a transactions file: one row per item
#: bought, no invoice or quantity), and what the load does instead.
ABSENT_MEANS: dict[str, str] = {
    "invoice": "one basket per customer per day, none for anonymous lines",
    "quantity": "each line is one unit; repeated lines add up",
    "price": "no prices: units only, no revenue",
}
_MAY_BE_ABSENT = OPTIONAL_ROLES | ABSENT_MEANS.keys()

NON_PRODUCT_CODES = frozenset(
    {
        "POST",
        "DOT",
        "M",
        "m",
        "C2",
        "C3",
        "D",
        "S",
        "BANK CHARGES",
        "AMAZONFEE",
        "CRUK",
        "ADJUST",
        "ADJUST2",
        "TEST001",
        "TEST002",
        "PADS",
        "B",
        "SP1002",
    }
)
NON_PRODUCT_PATTERN = r"^(gift_\d+_\d+|DCGS\w*|TEST\d+)$"
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d",  # a day without a time (a transactions file's t_dat)
)


def _parse_timestamp(col: pl.Expr, order: str) -> pl.Expr:
    formats = (*_DATE_FORMATS, *SLASH_FORMATS[order])
    return pl.coalesce([col.str.strptime(pl.Datetime("us"), f, strict=False) for f in formats])


def normalise_code(col: pl.Expr) -> pl.Expr:
    """Trim, and drop a spreadsheet's '.0' from integer codes (17850.0 -> 17850)."""
    trimmed = col.str.strip_chars()
    return (
        pl.when(trimmed.str.contains(r"^\d+\.0+$"))
        .then(trimmed.str.replace(r"\.0+$", ""))
        .otherwise(trimmed)
    )


def parse_role_names(pairs: str | Sequence[str], label: str = "--column") -> dict[str, str]:
    """Role names as {role: the file's column} from `ROLE=NAME` pairs: CLI options (a list) or
    one comma-separated text (the app's field). `ROLE=` declares the role absent (name ""); a
    malformed pair raises naming it and `label`."""
    items = pairs.split(",") if isinstance(pairs, str) else list(pairs)
    roles: dict[str, str] = {}
    for pair in items:
        if isinstance(pairs, str) and not pair.strip():
            continue
        role, sep, name = pair.partition("=")
        if not sep or not role.strip():
            raise WarehouseError(
                f"{label} {pair.strip()!r}: expected ROLE=NAME, e.g. invoice=order_no"
            )
        roles[role.strip()] = name.strip()
    return roles


def source_columns(
    raw: pl.DataFrame, path: Path, named: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Each `COLUMN_SPELLINGS` role's column in `raw` ("" for an absent optional one).

    `named` maps roles to the file's own column names (`--column invoice=order_no`), used
    exactly; an empty name declares an `ABSENT_MEANS` role absent. Other roles are found by
    their spellings (`find_column`). Raises naming an unknown role, a role that cannot be
    absent, or a missing column with what the file has."""
    named = dict(named or {})
    unknown = sorted(set(named) - set(COLUMN_SPELLINGS))
    if unknown:
        raise WarehouseError(
            f"--column: unknown role {', '.join(map(repr, unknown))}; "
            f"roles: {', '.join(COLUMN_SPELLINGS)}"
        )
    cannot = sorted(r for r, name in named.items() if not name and r not in _MAY_BE_ABSENT)
    if cannot:
        raise WarehouseError(
            f"--column {cannot[0]}=: every line needs a {cannot[0]}; "
            f"only {', '.join(sorted(_MAY_BE_ABSENT))} may be absent"
        )
    cols = {}
    for role, names in COLUMN_SPELLINGS.items():
        if role in named and not named[role]:
            cols[role] = ""
        elif role in named:
            require_columns(raw, path, [named[role]])
            cols[role] = named[role]
        elif role in OPTIONAL_ROLES:
            cols[role] = find_column(raw, names) or ""
        else:
            try:
                cols[role] = pick_column(raw, path, names)
            except WarehouseError as exc:
                absent = (
                    f", or --column {role}= if the file has none ({ABSENT_MEANS[role]})"
                    if role in ABSENT_MEANS
                    else ""
                )
                raise WarehouseError(f"{exc}; name it with --column {role}=NAME{absent}") from None
    return cols


def absent_notes(columns: Mapping[str, str] | None) -> list[str]:
    """Report notes for the roles `columns` declares absent (`--column quantity=`)."""
    return [
        f"no {role} column: {ABSENT_MEANS[role]}"
        for role, name in (columns or {}).items()
        if not name and role in ABSENT_MEANS
    ]


def _text(cols: Mapping[str, str], role: str) -> pl.Expr:
    """The role's column as text, or NULL where the file has none."""
    return pl.col(cols[role]) if cols[role] else pl.lit(None, pl.String)


def prepare(
    raw: pl.DataFrame,
    path: Path,
    window: DateWindow | None = None,
    columns: Mapping[str, str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split text rows into (accepted raw_sales_line rows, customers, quarantine rows).

    Args:
        raw: the file as text columns, one row per invoice line.
        path: file path, for error messages.
        window: plausible dates (default `rules.date_window()`).
        columns: roles the file names its own way (`source_columns`).
    """
    window = window or date_window()
    cols = source_columns(raw, path, columns)
    text = raw.select(
        _text(cols, "invoice").str.strip_chars().alias("invoice"),
        normalise_code(_text(cols, "stock_code")).alias("stock_code"),
        _text(cols, "description").str.strip_chars().alias("description"),
        _text(cols, "quantity").str.strip_chars().alias("quantity"),
        _text(cols, "invoice_date").str.strip_chars().alias("invoice_date"),
        _text(cols, "price").str.strip_chars().alias("price"),
        normalise_code(_text(cols, "customer")).alias("customer"),
        _text(cols, "country").alias("country"),
    ).with_row_index("_row", offset=1)
    source_cols = [
        "invoice",
        "stock_code",
        "description",
        "quantity",
        "invoice_date",
        "price",
        "customer",
        "country",
    ]
    order = slash_date_order(text["invoice_date"].fill_null(""), path, cols["invoice_date"])
    content = pl.concat_str([pl.col(c).fill_null("") for c in source_cols], separator="|")
    typed = text.with_columns(
        (number(pl.col("quantity")) if cols["quantity"] else pl.lit(1.0)).alias("_qty"),
        number(pl.col("price")).alias("_price"),
        _parse_timestamp(pl.col("invoice_date"), order).alias("_ts"),
        pl.when(pl.col("description").is_in(["nan", "NaN", ""]))
        .then(None)
        .otherwise(pl.col("description"))
        .alias("_desc"),
        pl.when(pl.col("customer").is_in(["nan", "NaN", "", "None"]))
        .then(None)
        .otherwise(pl.col("customer"))
        .alias("_customer"),
        content.alias("_content"),
    ).with_columns(pl.int_range(pl.len()).over("_content").alias("_occurrence"))

    def empty(c: str) -> pl.Expr:
        return pl.col(c).is_null() | (pl.col(c) == "")

    needed = ["invoice", "stock_code", "quantity", "invoice_date", "price"]
    rules = [
        ("blank_row", blank_row(source_cols)),
        ("missing_field", pl.any_horizontal(empty(c) for c in needed if cols[c])),
        ("non_finite_number", non_finite("_qty", "_price")),
        ("number_out_of_range", too_large("_qty", "_price")),
        ("bad_quantity", pl.col("_qty").is_null() | (pl.col("_qty") != pl.col("_qty").round(0))),
        ("bad_price", pl.col("_price").is_null() & pl.lit(bool(cols["price"]))),
        ("bad_date", pl.col("_ts").is_null()),
        ("date_out_of_range", out_of_window("_ts", window)),
        ("cancellation", pl.col("invoice").str.starts_with("C")),
        (
            "non_product_code",
            pl.col("stock_code").is_in(list(NON_PRODUCT_CODES))
            | pl.col("stock_code").str.contains(NON_PRODUCT_PATTERN),
        ),
        ("negative_price", pl.col("_price") < 0),
        ("zero_price", pl.col("_price") == 0),
        ("non_positive_quantity", pl.col("_qty") <= 0),
        # without a quantity column a repeated line is a second unit, not a copy
        ("duplicate_row", (pl.col("_occurrence") > 0) & pl.lit(bool(cols["quantity"]))),
    ]
    shown = {
        "bad_date": (cols["invoice_date"], "invoice_date"),
        "bad_quantity": (cols["quantity"], "quantity"),
        "bad_price": (cols["price"], "price"),
    }
    accepted, rejected = judge(typed, rules, path, shown)

    identity = (
        pl.col("_content")
        if cols["quantity"]
        else pl.concat_str(
            [pl.col("_content"), pl.col("_occurrence").cast(pl.String)], separator="#"
        )
    )
    order_id = (
        pl.col("invoice")
        if cols["invoice"]
        else pl.concat_str(
            [pl.col("_customer"), pl.col("_ts").dt.strftime("%Y-%m-%d")], separator="@"
        )
    )
    lines = accepted.select(
        row_hash(pl.lit(SOURCE), identity).alias("line_key"),
        pl.lit(SOURCE).alias("source"),
        order_id.alias("order_id"),
        pl.col("_ts").alias("sold_at"),
        pl.lit(STORE_CODE).alias("store_code"),
        pl.col("_customer").alias("customer_code"),
        pl.col("stock_code").alias("product_code"),
        pl.col("_desc").alias("description"),
        pl.col("_qty").alias("quantity"),
        pl.col("_price").alias("unit_price"),
        pl.lit(None, pl.Float64).alias("list_price"),
    )
    customers = (
        accepted.filter(pl.col("_customer").is_not_null())
        .group_by("_customer")
        .agg(pl.col("country").drop_nulls().mode().first().alias("region"))
        .select(
            pl.lit(SOURCE).alias("source"),
            pl.col("_customer").alias("customer_code"),
            pl.lit(STORE_CODE).alias("home_store_code"),
            pl.col("region"),
            pl.lit(None, pl.String).alias("segment"),
        )
        .sort("customer_code")
    )
    return lines, customers, quarantine_frame(rejected, source_cols)


def store_rows() -> pl.DataFrame:
    """The single online store."""
    return pl.DataFrame(
        {
            "source": [SOURCE],
            "store_code": [STORE_CODE],
            "store_name": ["Online shop"],
            "region": ["United Kingdom"],
        }
    )
