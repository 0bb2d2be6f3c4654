"""Typed, cached reads of the packages the pages show: forecasts, the reorder plan, recommendations.

Each accessor calls one package function with plain imports; package errors (NoForecastError,
NoPlanError, NoModelError) pass through for the page to show as an empty state.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from forecasting import api as forecast_api
from forecasting.drivers import DriversView, drivers_for_forecast
from forecasting.inventory import api as inventory_api
from pages._cache import on_cursor, on_model, on_path
from pages._shared import warehouse
from recsys import service as recsys_service
from recsys.applicable import customers_missing
from recsys.service import BusinessRules
from recsys.versions import pin_version, unpin
from recsys.versions import versions_frame as recsys_versions_frame
from services import display, levels, merch, orders, segments


def what_to_order(store_id: str | None) -> pl.DataFrame:
    """Rows to order today for one store (None: every store), most urgent first."""
    return on_path(inventory_api.what_to_order, store_id=store_id, category=None)


def stock_view(store_id: str, product_id: str) -> pl.DataFrame:
    """Stock history of one store x product with the plan's levels."""
    return on_path(inventory_api.stock_view, store_id, product_id)


def simulation_summary() -> pl.DataFrame:
    """Service-level replay results per policy and target."""
    return on_path(inventory_api.simulation_summary)


def forecast(store_id: str | None, product_id: str | None, category: str | None) -> pl.DataFrame:
    """Forecast per date with 80/95 % bands, summed over the matching series."""
    return on_path(
        forecast_api.load_forecast, store_id=store_id, product_id=product_id, category=category
    )


def history(store_id: str | None, product_id: str | None, category: str | None) -> pl.DataFrame:
    """Units sold per date for the matching series."""
    return on_path(
        forecast_api.load_history, store_id=store_id, product_id=product_id, category=category
    )


def backtest_summary() -> pl.DataFrame:
    """Backtest accuracy of every model by segment and frequency."""
    return on_path(forecast_api.backtest_summary)


def forecast_drivers(store_id: str, product_id: str) -> DriversView:
    """Drivers of one series' forecast, only from the model that made it (or labelled)."""
    return on_path(drivers_for_forecast, store_id, product_id)


def recsys_versions() -> pl.DataFrame:
    """Every model version with its status (never cached: pins and trainings change it)."""
    return recsys_versions_frame(warehouse().path)


def pin_model(version: int) -> None:
    """Serve (and export) model `version` until unpinned."""
    pin_version(warehouse().path, version)


def unpin_model() -> None:
    """Serve the newest good model version again."""
    unpin(warehouse().path)


def model_status() -> dict[str, Any] | None:
    """The serving model's version and metrics (never cached: a training may finish)."""
    return recsys_service.model_status(warehouse().path)


def no_model_text() -> str:
    """Why the Recommendations page has no list: the data cannot feed recommendations (no
    customer ids), or no model was trained yet."""
    reason = on_path(customers_missing)
    if reason:
        return f"No recommendations for this data: {reason}."
    return "No model yet: run `python -m recsys train`."


def recommend(customer_id: str, k: int, rules: BusinessRules, version: str) -> pl.DataFrame:
    """Top-`k` for one customer under `rules` from model `version`."""
    return on_model(version, recsys_service.recommend_for_customer, customer_id, k=k, rules=rules)


def customer_history(customer_id: str) -> pl.DataFrame:
    """What one customer bought, as shown (`services.display.purchase_lines`)."""
    return display.purchase_lines(on_path(recsys_service.customer_history, customer_id))


def similar_products(product_id: str, k: int, rules: BusinessRules, version: str) -> pl.DataFrame:
    """Products most like `product_id` under the same business rules as the other tabs."""
    return on_model(version, merch.similar_under_rules, product_id, k, rules)


def complete_basket(
    basket: tuple[str, ...], k: int, rules: BusinessRules, version: str
) -> pl.DataFrame:
    """Products that complete a basket."""
    return on_model(version, recsys_service.complete_basket, basket, k=k, rules=rules)


def bulk_recommendations(
    ids: tuple[str, ...] | None, segment: str | None, k: int, rules: BusinessRules, version: str
) -> pl.DataFrame:
    """Top-`k` lists for uploaded customer ids or a segment, with category and price."""
    return on_model(version, merch.bulk_with_catalogue, ids, segment, k, rules)


def customer_profile() -> pl.DataFrame:
    """One row per customer with RFM scores, spend, country and top category."""
    return on_cursor(segments.customer_profile)


def saved_segments(user: str) -> dict[str, segments.SegmentRule]:
    """The user's saved segments (never cached: the user saves new ones)."""
    return segments.saved_segments(warehouse().path, user)


def save_segment(user: str, name: str, rule: segments.SegmentRule) -> None:
    """Save segment `name` for `user` next to the warehouse."""
    segments.save_segment(warehouse().path, user, name, rule)


def draft_orders(store_id: str | None) -> pl.DataFrame:
    """Draft purchase orders per supplier x store (None: every store), most urgent first."""
    return on_path(orders.draft_orders_for, store_id)


def reorder_levels(store_id: str | None) -> levels.ReorderLevels:
    """The plan's levels of one store (None: every store) and how many pairs lack stock."""
    return on_path(levels.reorder_levels_for, store_id)


def product_levels(store_id: str, product_id: str) -> dict[str, Any] | None:
    """One store x product's levels in the plan, or None when it is not planned."""
    return on_path(levels.product_levels, store_id, product_id)
