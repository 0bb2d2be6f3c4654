"""Read-side services of the warehouse: guarded ad-hoc SQL, info, KPIs for the app."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from warehouse.build import MART_KEYS
from warehouse.db import WarehouseError, connect_read, execute, resolve_db_path, run_named, scalar

#: Statement kinds a read-only query may be.
READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "RELATION"})

#: Date column of each mart shown by `info` (None: no date).
MART_DATE_COLUMNS: dict[str, str | None] = {
    "dim_date": "date_day", "dim_store": None, "dim_product": "last_sold_on",
    "dim_customer": "last_order_at", "fct_sales": "sold_at", "fct_promotion": "start_date",
    "fct_sales_daily": "sale_date", "fct_inventory": "snapshot_date", "dim_supply": None,
}


@dataclass(frozen=True)
class QueryResult:
    """Rows of a query (at most the cap) and whether more existed."""

    frame: pl.DataFrame
    truncated: bool


def lock_down(con: duckdb.DuckDBPyConnection, *, memory_limit: str = "2GB", threads: int = 2) -> None:
    """No file or network access, bounded memory and threads, configuration frozen."""
    execute(con, "SET enable_external_access = false")
    execute(con, f"SET memory_limit = '{memory_limit}'")
    execute(con, f"SET threads = {int(threads)}")
    execute(con, "SET lock_configuration = true")


def run_readonly(
    db: str | os.PathLike[str] | None, sql: str, *, max_rows: int = 1000, timeout_s: float = 30.0
) -> QueryResult:
    """Run one read-only statement on a locked-down connection, with a row cap and a timeout."""
    text = sql.strip()
    if not text:
        raise WarehouseError("empty query")
    con = connect_read(resolve_db_path(db))
    try:
        lock_down(con)
        try:
            statements = con.extract_statements(text)
        except duckdb.Error as exc:
            raise WarehouseError(f"query does not parse: {str(exc).splitlines()[0]}") from exc
        if len(statements) != 1:
            raise WarehouseError(f"one statement at a time, got {len(statements)}")
        kind = statements[0].type.name
        if kind not in READ_STATEMENTS:
            raise WarehouseError(f"only read queries are allowed, not {kind}")
        timer = threading.Timer(timeout_s, con.interrupt)
        timer.start()
        try:
            cursor = con.execute(text)
            batch = cursor.fetchmany(max_rows + 1)
            columns = [d[0] for d in cursor.description or []]
        except duckdb.InterruptException as exc:
            raise WarehouseError(f"query stopped after the {timeout_s:g} s time limit") from exc
        except duckdb.Error as exc:
            raise WarehouseError(f"query failed: {str(exc).splitlines()[0]}") from exc
        finally:
            timer.cancel()
        truncated = len(batch) > max_rows
        rows = batch[:max_rows]
        frame = pl.DataFrame(
            {c: [r[i] for r in rows] for i, c in enumerate(columns)}, strict=False
        ) if columns else pl.DataFrame()
        return QueryResult(frame, truncated)
    finally:
        con.close()


def warehouse_info(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Row count and date range of every mart: columns table, rows, first, last."""
    rows: list[dict[str, Any]] = []
    for mart in MART_KEYS:
        date_col = MART_DATE_COLUMNS.get(mart)
        count = int(scalar(con, f"SELECT count(*) FROM {mart}"))
        first = last = None
        if date_col:
            first, last = con.execute(
                f"SELECT min({date_col})::VARCHAR, max({date_col})::VARCHAR FROM {mart}"
            ).fetchall()[0]
        rows.append({"table": mart, "rows": count, "first": first, "last": last})
    return pl.DataFrame(rows, schema={"table": pl.String, "rows": pl.Int64, "first": pl.String,
                                      "last": pl.String})


def sales_range(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """First and last sale date in the warehouse."""
    first, last = con.execute("SELECT min(sale_date), max(sale_date) FROM fct_sales_daily").fetchall()[0]
    return first, last


def headline_kpis(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pl.DataFrame:
    """One row: revenue, units, orders, customers, avg basket (GBP), stores, products sold."""
    return run_named(con, "queries/headline_kpis", {"start": start, "end": end})


def daily_revenue(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pl.DataFrame:
    """Columns sale_date, revenue, units: one row per day in [start, end]."""
    return run_named(con, "queries/daily_revenue", {"start": start, "end": end})
