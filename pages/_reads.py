"""Typed, cached reads of the pages: `services.dashboard` and `services.catalog`, live warehouse."""

from __future__ import annotations

import polars as pl

from pages._cache import on_cursor
from pages._shared import warehouse
from services import catalog, dashboard
from services.catalog import DataQuality
from services.dashboard import DataRange, Filters, Kpi, ProductDetail


def data_range() -> DataRange:
    """Sales date range and sizes of the warehouse."""
    return on_cursor(dashboard.data_range)


def filter_options() -> tuple[dict[str, str], list[str]]:
    """({store_id: label}, categories) for the pickers."""
    return on_cursor(dashboard.filter_options)


def kpis(filters: Filters) -> list[Kpi]:
    """KPI cards of the period with the previous period's values."""
    return on_cursor(dashboard.kpis, filters)


def alerts(filters: Filters) -> list[str]:
    """Plain-language stock alerts."""
    return on_cursor(dashboard.alerts, filters)


def trend(filters: Filters, grain: str) -> pl.DataFrame:
    """Revenue and units per day, week or month."""
    return on_cursor(dashboard.trend, filters, grain)


def movers(filters: Filters, n: int) -> pl.DataFrame:
    """Top `n` risers and fallers by revenue change."""
    return on_cursor(dashboard.movers, filters, n)


def breakdown(filters: Filters, by: str, drill: str | None, limit: int) -> pl.DataFrame:
    """Revenue by store, category or product."""
    return on_cursor(dashboard.breakdown, filters, by, drill, limit)


def seasonality(filters: Filters) -> pl.DataFrame:
    """Revenue per week x day of week."""
    return on_cursor(dashboard.seasonality, filters)


def products(categories: tuple[str, ...] = ()) -> pl.DataFrame:
    """Products of the categories (all when empty), best sellers first."""
    return on_cursor(dashboard.products, categories)


def product_detail(product_id: str, filters: Filters) -> ProductDetail:
    """History, price and stock of one product."""
    return on_cursor(dashboard.product_detail, product_id, filters)


def customer_search(prefix: str, limit: int = 50) -> pl.DataFrame:
    """Customers whose id starts with `prefix`."""
    return on_cursor(dashboard.customer_search, prefix, limit)


def segments() -> pl.DataFrame:
    """Customer segments and their sizes."""
    return on_cursor(dashboard.segments)


def schema_tables() -> pl.DataFrame:
    """Tables and views of the warehouse."""
    return on_cursor(catalog.schema_tables)


def schema_columns() -> pl.DataFrame:
    """Columns of every table and view."""
    return on_cursor(catalog.schema_columns)


def data_quality() -> DataQuality:
    """Load log and quarantine summary."""
    return on_cursor(catalog.data_quality)


def optional_table(table: str, limit: int) -> pl.DataFrame | None:
    """Up to `limit` rows of a pipeline table, None when absent."""
    return on_cursor(catalog.optional_table, table, limit)


def model_versions() -> pl.DataFrame:
    """Versioned model artifacts next to the warehouse (never cached: files change)."""
    return catalog.model_versions(warehouse().path)


def data_age() -> dashboard.DataAge:
    """Last sale day, latest snapshot and the plan's date."""
    return on_cursor(dashboard.data_age)
