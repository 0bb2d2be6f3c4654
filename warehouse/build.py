"""Build the dbt-style layers: staging views over raw tables, then mart tables, then key tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import holidays
import polars as pl
from tqdm import tqdm

from warehouse.db import (
    WarehouseError,
    execute,
    quote_identifier,
    row_count,
    run_named,
    scalar,
    sql_text,
)
from warehouse.defaults import (
    DEFAULT_COST_RATIO,
    DEFAULT_SUPPLIER_ID,
    HOLIDAY_COUNTRY,
    SUPPLY_DEFAULTS,
)

STAGING: tuple[str, ...] = (
    "stg_sales_lines",
    "stg_products",
    "stg_stores",
    "stg_customers",
    "stg_inventory",
    "stg_supply",
    "stg_promotions",
)

#: Marts in build order, each with its unique, not-null key.
MART_KEYS: dict[str, tuple[str, ...]] = {
    "dim_date": ("date_day",),
    "dim_store": ("store_id",),
    "dim_product": ("product_id",),
    "customer_rfm": ("customer_id",),
    "dim_customer": ("customer_id",),
    "fct_sales": ("sale_line_id",),
    "fct_promotion": ("promotion_id",),
    "fct_sales_daily": ("store_id", "product_id", "sale_date"),
    "fct_inventory": ("store_id", "product_id", "snapshot_date"),
    "dim_supply": ("store_id", "product_id"),
}

_BUILD_PARAMS: dict[str, object] = {
    "default_cost_ratio": DEFAULT_COST_RATIO,
    "default_supplier_id": DEFAULT_SUPPLIER_ID,
    **{f"default_{k}": v for k, v in SUPPLY_DEFAULTS.items()},
}


@dataclass(frozen=True)
class KeyTestFailure:
    """A mart whose key has NULLs or duplicates."""

    mart: str
    null_keys: int
    duplicate_keys: int

    def __str__(self) -> str:
        return f"{self.mart}: {self.null_keys} null key(s), {self.duplicate_keys} duplicate key(s)"


#: `_meta` key of the warehouse's holiday country (`set_holiday_country`).
HOLIDAY_COUNTRY_KEY = "holiday_country"


def holiday_country_set(con: duckdb.DuckDBPyConnection) -> str | None:
    """The country set for this warehouse (`python -m warehouse holidays --country`), or None."""
    value = scalar(con, "SELECT value FROM _meta WHERE key = $k", {"k": HOLIDAY_COUNTRY_KEY})
    return str(value) if value else None


def holiday_country(con: duckdb.DuckDBPyConnection) -> str:
    """The country whose public holidays fill dim_date: the one set for this warehouse, else
    `HOLIDAY_COUNTRY` (GB)."""
    return holiday_country_set(con) or HOLIDAY_COUNTRY


def set_holiday_country(con: duckdb.DuckDBPyConnection, country: str) -> str:
    """Remember `country` as this warehouse's holiday calendar: an ISO 3166 code the `holidays`
    package knows (any case), optionally with a subdivision after a hyphen as in ISO 3166-2
    (`GB-SCT`: Scotland's bank holidays, `US-CA`, `DE-BY`); returns it normalised. The caller
    rebuilds the marts.

    Raises:
        WarehouseError: an unknown code or subdivision (the message names the parameter and
            the codes it accepts).
    """
    code, _, region = country.strip().partition("-")
    code = code.upper()
    known = holidays.list_supported_countries()
    if code not in known:
        close = sorted(c for c in known if len(c) == 2 and c[:1] == code[:1])[:12]
        hint = f" (codes starting with {code[:1]!r}: {', '.join(close)})" if close else ""
        raise WarehouseError(
            f"country {country!r}: not a country the holidays calendar knows; use an ISO "
            f"3166 code such as GB, US, DE, FR{hint}"
        )
    if region:
        regions = {r.upper(): r for r in known[code]}
        if region.upper() not in regions:
            listed = ", ".join(known[code][:20]) or "none"
            raise WarehouseError(
                f"country {country!r}: {code} has no subdivision {region!r} in the holidays "
                f"calendar; its subdivisions: {listed}"
            )
        code = f"{code}-{regions[region.upper()]}"
    execute(
        con,
        "INSERT OR REPLACE INTO _meta VALUES ($k, $v)",
        {"k": HOLIDAY_COUNTRY_KEY, "v": code},
    )
    return code


@dataclass(frozen=True)
class HolidayCalendar:
    """The warehouse's holiday calendar: its country and the holidays dim_date holds."""

    country: str
    holidays: int
    first_day: date | None
    last_day: date | None

    def __str__(self) -> str:
        span = f", {self.first_day} .. {self.last_day}" if self.holidays else ""
        return f"{self.country}, {self.holidays} holiday(s) in dim_date{span}"


def holiday_calendar(con: duckdb.DuckDBPyConnection) -> HolidayCalendar:
    """The country set for this warehouse and the holidays dim_date holds."""
    row = run_named(con, "app/holiday_calendar").row(0, named=True)
    return HolidayCalendar(
        holiday_country(con), int(row["holidays"]), row["first_day"], row["last_day"]
    )


def refresh_holidays(con: duckdb.DuckDBPyConnection, country: str | None = None) -> None:
    """Fill ref_holiday with `country`'s holidays (default: `holiday_country`) for every year
    the sales cover plus the next (for forecasts); one calendar at a time (other countries'
    rows are removed: dim_date reads every row)."""
    country = country or holiday_country(con)
    rows = con.execute(
        "SELECT year(min(sold_at)), year(max(sold_at)) FROM raw_sales_line"
    ).fetchall()
    row = rows[0]
    execute(con, "DELETE FROM ref_holiday")
    if row[0] is None:
        return
    years = range(int(row[0]), int(row[1]) + 2)
    code, _, region = country.partition("-")  # "GB-SCT": Scotland's calendar
    calendar = holidays.country_holidays(code, subdiv=region or None, years=years)
    frame = pl.DataFrame(
        {
            "holiday_date": list(calendar.keys()),
            "country": [country] * len(calendar),
            "holiday_name": [str(v) for v in calendar.values()],
        },
        schema={"holiday_date": pl.Date, "country": pl.String, "holiday_name": pl.String},
    )
    con.register("_holidays", frame)
    execute(con, "INSERT INTO ref_holiday SELECT * FROM _holidays")
    con.unregister("_holidays")


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create staging views and mart tables from the raw tables, in the caller's transaction."""
    refresh_holidays(con)
    execute(con, "SET preserve_insertion_order = false")  # lets large CREATE TABLE AS spill
    for name in STAGING:
        sql = sql_text(f"staging/{name}")
        execute(con, f"CREATE OR REPLACE VIEW {name} AS {sql}")
    for name in tqdm(MART_KEYS, desc="build marts", unit="mart", leave=False):
        sql = sql_text(f"marts/{name}")
        execute(con, f"CREATE OR REPLACE TABLE {name} AS {sql}", _BUILD_PARAMS)


def check_mart_keys(con: duckdb.DuckDBPyConnection) -> list[KeyTestFailure]:
    """Unique and not-null key tests for every mart; returns the failures (empty = all pass)."""
    failures = []
    for mart, keys in MART_KEYS.items():
        null_cond = " OR ".join(f"{k} IS NULL" for k in keys)
        cols = ", ".join(keys)
        null_n = int(scalar(con, f"SELECT count(*) FROM {mart} WHERE {null_cond}"))
        dup_n = int(
            scalar(
                con,
                f"SELECT count(*) FROM "
                f"(SELECT {cols} FROM {mart} GROUP BY ALL HAVING count(*) > 1)",
            )
        )
        if null_n or dup_n:
            failures.append(KeyTestFailure(mart, null_n, dup_n))
    return failures


#: Date column of each mart shown by `python -m warehouse info` (None: no date).
MART_DATE_COLUMNS: dict[str, str | None] = {
    "dim_date": "date_day",
    "dim_store": None,
    "dim_product": "last_sold_on",
    "dim_customer": "last_order_at",
    "fct_sales": "sold_at",
    "fct_promotion": "start_date",
    "fct_sales_daily": "sale_date",
    "fct_inventory": "snapshot_date",
    "dim_supply": None,
}


def warehouse_info(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Row count and date range of every mart: columns table, rows, first, last."""
    rows: list[dict[str, object]] = []
    for mart in MART_KEYS:
        date_col = MART_DATE_COLUMNS.get(mart)
        first = last = None
        if date_col:
            col, table = quote_identifier(date_col), quote_identifier(mart)
            first, last = con.execute(
                f"SELECT min({col})::VARCHAR, max({col})::VARCHAR FROM {table}"
            ).fetchall()[0]
        rows.append({"table": mart, "rows": row_count(con, mart), "first": first, "last": last})
    return pl.DataFrame(
        rows, schema={"table": pl.String, "rows": pl.Int64, "first": pl.String, "last": pl.String}
    )
