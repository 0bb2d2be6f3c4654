"""Ingest rules shared by every loader: finite numbers, a plausible date window, one date order.

- `non_finite_number`: NaN or +-inf in a quantity or price (one such line turns every revenue
  total into NaN).
- `number_out_of_range`: a quantity, price or stock figure above `MAX_ABS_NUMBER` in size (1e9:
  a barcode or an order number read as the quantity, or 1e300; squares of such values overflow
  the forecasts' and plans' variances). `$SHELFWISE_MAX_NUMBER` overrides it.
- `blank_row`: a row with no value at all between data rows (blank rows at the end of a file are
  skipped with a note, `warehouse.load.read_source`).
- `date_out_of_range`: a date before `DateWindow.start` or after `DateWindow.end` (defaults
  1990-01-01 .. today + 365 days; `$SHELFWISE_DATE_MIN` / `$SHELFWISE_DATE_MAX` as YYYY-MM-DD
  override them). Year 1 or 2099 would grow the date dimension by hundreds of thousands of rows.
- Numbers are read as a spreadsheet shows them (`number`): a currency sign around the value
  (`£1.50`, `-€3`) and commas grouping digits by three (`1,234.5`) are accepted; `1,5` is not a
  number here (a decimal comma is read only in a ';'-separated file, `warehouse.load`).
- Day-month dates (`a/b/yyyy`, `a-b-yyyy`, `a.b.yyyy`, or a two-digit year `a/b/yy`) are read
  with ONE order per file: day-first when some row has a first field above 12, month-first when
  some row has a second field above 12; when no row tells, month-first for '/' and '-' (the UCI
  format) and day-first for '.' (the European convention). A file with both kinds is refused,
  naming the first row that contradicts the order of the earlier rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from warehouse.db import WarehouseError
from warehouse.load import first_failing_reason, require_columns

DATE_MIN_ENV = "SHELFWISE_DATE_MIN"
DATE_MAX_ENV = "SHELFWISE_DATE_MAX"
MAX_NUMBER_ENV = "SHELFWISE_MAX_NUMBER"
#: Largest plausible size of one row's quantity, price or stock figure (units or currency).
MAX_ABS_NUMBER = 1e9
#: A day-month date: two 1-2 digit fields, then a 2- or 4-digit year, separated by / - or .
_DAY_MONTH = r"^\s*(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{2}|\d{4})(?:[^\d]|$)"


@dataclass(frozen=True)
class DateWindow:
    """Plausible dates for a sale or a stock snapshot (inclusive)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise WarehouseError(f"date window: {self.start} is after {self.end}")


def _env_date(name: str) -> date | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WarehouseError(f"${name}={text!r}: expected a date as YYYY-MM-DD") from None


def date_window(today: date | None = None) -> DateWindow:
    """The configured window: $SHELFWISE_DATE_MIN/MAX, else 1990-01-01 .. today + 365 days."""
    today = today or date.today()
    return DateWindow(
        _env_date(DATE_MIN_ENV) or date(1990, 1, 1),
        _env_date(DATE_MAX_ENV) or today + timedelta(days=365),
    )


_CURRENCY_SIGNS = "£$€¥"
_GROUPED_BY_THREE = r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$"


def number(text: pl.Expr) -> pl.Expr:
    """A text cell as Float64, null where it does not parse: surrounding spaces and one
    currency sign dropped ('£1.50', '-£1.50', '€ 3'), commas that group digits by three removed
    ('1,234.5'). Anything else ('1,5', '12 kg', 'n/a') stays null for the loader's rule."""
    signs = re.escape(_CURRENCY_SIGNS)
    cleaned = (
        text.str.strip_chars()
        .str.replace(rf"^([-+]?)\s*[{signs}]\s*", "${1}")
        .str.replace(rf"\s*[{signs}]$", "")
    )
    plain = (
        pl.when(cleaned.str.contains(_GROUPED_BY_THREE))
        .then(cleaned.str.replace_all(",", "", literal=True))
        .otherwise(cleaned)
    )
    return plain.cast(pl.Float64, strict=False)


def non_finite(*cols: str) -> pl.Expr:
    """True where any of the Float64 columns `cols` is NaN or infinite (nulls are not)."""
    expr = pl.lit(False)
    for col in cols:
        expr = expr | (pl.col(col).is_not_null() & ~pl.col(col).is_finite())
    return expr


def max_abs_number() -> float:
    """`$SHELFWISE_MAX_NUMBER` (a positive number), else `MAX_ABS_NUMBER`."""
    text = os.environ.get(MAX_NUMBER_ENV, "").strip()
    if not text:
        return MAX_ABS_NUMBER
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise WarehouseError(f"${MAX_NUMBER_ENV}={text!r}: expected a positive number")
    return value


def too_large(*cols: str) -> pl.Expr:
    """True where any of the finite Float64 columns `cols` is above `max_abs_number()` in size."""
    limit = max_abs_number()
    expr = pl.lit(False)
    for col in cols:
        expr = expr | (pl.col(col).is_finite() & (pl.col(col).abs() > limit))
    return expr


def out_of_window(col: str, window: DateWindow) -> pl.Expr:
    """True where the Date/Datetime column `col` lies outside `window`."""
    value = pl.col(col).cast(pl.Date)
    return value.is_not_null() & ((value < window.start) | (value > window.end))


def slash_date_order(values: pl.Series, path: Path, column: str) -> str:
    """'dmy' or 'mdy' for the day-month dates of one file; a mixed file raises WarehouseError.

    Args:
        values: the date texts, in file order (row 1 = first data row).
        path, column: for the message.
    """
    parts = values.str.extract_groups(_DAY_MONTH)
    first = parts.struct.field("1").cast(pl.Int32, strict=False)
    second = parts.struct.field("3").cast(pl.Int32, strict=False)
    frame = pl.DataFrame({"a": first, "b": second}).with_row_index("row", offset=1)
    day_first = frame.filter(pl.col("a") > 12)
    month_first = frame.filter(pl.col("b") > 12)
    if day_first.height and month_first.height:
        d_row, m_row = int(day_first["row"][0]), int(month_first["row"][0])
        later, order = (max(d_row, m_row), "day/month" if d_row < m_row else "month/day")
        shown = values[later - 1]
        raise WarehouseError(
            f"{path}: row {later}, column {column!r}: {shown!r} contradicts the {order} order "
            "of earlier rows; the file mixes day/month and month/day dates"
        )
    if day_first.height:
        return "dmy"
    if month_first.height:
        return "mdy"
    separators = parts.struct.field("2").drop_nulls()
    return "dmy" if separators.len() and separators[0] == "." else "mdy"


def no_row_passed(
    path: Path, rejected: pl.DataFrame, shown: dict[str, tuple[str, str]]
) -> WarehouseError:
    """The error of a file none of whose rows passed: every reason with its count, then the first
    row of the most common one (`_row`, 1 = first data row) and, where `shown` maps that reason to
    (the source column's name, its column in `rejected`), the value that failed."""
    counts = rejected.group_by("_reason").len().sort(["len", "_reason"], descending=[True, False])
    top = ", ".join(f"{reason} x{n:,}" for reason, n in counts.iter_rows())
    reason = str(counts["_reason"][0])
    first = rejected.filter(pl.col("_reason") == reason).row(0, named=True)
    where = f"first {reason}: row {first['_row']}"
    if reason in shown:
        name, col = shown[reason]
        where += f", column {name!r}: {first[col]!r}"
    return WarehouseError(f"{path}: no row passed the checks ({top}; {where})")


def judge(
    typed: pl.DataFrame,
    rules: Sequence[tuple[str, pl.Expr]],
    path: Path,
    shown: Mapping[str, tuple[str, str]],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted, rejected) rows of `typed` by `rules` (`first_failing_reason`: rejected rows keep
    their `_reason`). A file none of whose rows passes is refused whole (`no_row_passed`, showing
    the failed value of the reasons in `shown`; a reason mapped to the name "" is not shown)."""
    judged = typed.with_columns(first_failing_reason(rules).alias("_reason"))
    rejected = judged.filter(pl.col("_reason").is_not_null())
    if rejected.height == judged.height > 0:  # nothing to load: refused, nothing written
        raise no_row_passed(path, rejected, {k: v for k, v in shown.items() if v[0]})
    return judged.filter(pl.col("_reason").is_null()), rejected


def date_expr(raw: pl.DataFrame, path: Path, column: str, formats: tuple[str, ...]) -> pl.Expr:
    """A Date expression of the text column `column`: the first of `formats` that parses, then
    day-month dates in the file's own order (`slash_date_order`: a file that mixes them is
    refused)."""
    values = raw[column].fill_null("").str.strip_chars()
    if has_slash_dates(values):  # 06/30/2017, 30-06-2017, 30.06.17
        formats = (*formats, *SLASH_FORMATS[slash_date_order(values, path, column)])
    text = pl.col(column).str.strip_chars()
    return pl.coalesce([text.str.strptime(pl.Date, f, strict=False) for f in formats])


def has_slash_dates(values: pl.Series) -> bool:
    """Whether any value looks like a day-month date (`a/b/yyyy`, `a-b-yy`, `a.b.yyyy`)."""
    return bool(values.str.contains(_DAY_MONTH).any())


def _day_month_formats(first: str, second: str) -> tuple[str, ...]:
    """strptime formats of day-month dates with fields `first` then `second` ('%d', '%m'): every
    separator, with or without a time of day; two-digit years first ('%Y' reads '10' as the year
    10, '%y' refuses '2010')."""
    return tuple(
        f"{first}{sep}{second}{sep}{year}{time}"
        for year in ("%y", "%Y")
        for sep in "/-."
        for time in (" %H:%M", " %H:%M:%S", "")
    )


#: The formats of day-month dates, by `slash_date_order`'s answer.
SLASH_FORMATS: dict[str, tuple[str, ...]] = {
    "dmy": _day_month_formats("%d", "%m"),
    "mdy": _day_month_formats("%m", "%d"),
}


def optional_columns(
    raw: pl.DataFrame, path: Path, named: object, defaults: object, fields: tuple[str, ...]
) -> dict[str, str]:
    """{field: the file's column} of the optional `fields` the file has: `named` and `defaults`
    are column dataclasses (a field None or "": not read). A default name the file lacks is
    skipped; a name the caller changed that the file lacks raises naming it."""
    found: dict[str, str] = {}
    for field in fields:
        name = getattr(named, field)
        if not name:
            continue
        if name in raw.columns:
            found[field] = name
        elif name != getattr(defaults, field):
            require_columns(raw, path, [name])
    return found


def text_or_null(found: dict[str, str], field: str) -> pl.Expr:
    """The trimmed text of `field`'s column (`optional_columns`), blank as null; all null when
    the file lacks it."""
    if field not in found:
        return pl.lit(None, pl.String)
    value = pl.col(found[field]).str.strip_chars()
    return pl.when(value == "").then(None).otherwise(value)
