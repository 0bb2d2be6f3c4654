"""Recommendation lists for the merchandising page, with the business rules on every list.

Thin wrappers over `recsys.service` (no streamlit): similar products filtered by the same
rules as the other tabs, and bulk lists with each product's category and price so the file
can be checked against the rules.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import polars as pl

from recsys import service as recsys_service
from recsys.export import customer_ids_from_bytes
from recsys.service import BusinessRules
from warehouse.db import reading, run_named


def similar_under_rules(
    db: str | os.PathLike[str] | None, product_id: str, k: int, rules: BusinessRules
) -> pl.DataFrame:
    """Top-`k` products most like `product_id` that pass `rules`, re-ranked 1..k.

    Category, price, allow/block lists, in-stock and the per-category cap apply; "exclude
    already purchased" does not (there is no customer).
    """
    state = recsys_service.serving_state(db)
    allowed = state.products["product_id"].filter(
        pl.Series(recsys_service.rules_mask(state, rules))
    )
    pool = min(state.products.height - 1, max(10 * k, 200))
    frame = recsys_service.similar_products(db, product_id, k=max(pool, 1))
    frame = frame.filter(pl.col("product_id").is_in(allowed.implode()))
    if rules.max_per_category:
        frame = frame.filter(pl.int_range(pl.len()).over("category") < rules.max_per_category)
    return frame.head(k).with_columns(pl.int_range(1, pl.len() + 1).cast(pl.Int32).alias("rank"))


def with_catalogue(db: str | os.PathLike[str] | None, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with each product's category and list price (GBP) after its description."""
    with reading(db) as con:
        catalogue = run_named(con, "app/product_catalogue")
    extra = [c for c in ("category", "unit_price") if c not in frame.columns]
    if not extra:
        return frame
    joined = frame.join(catalogue.select("product_id", *extra), on="product_id", how="left")
    cols = list(frame.columns)
    at = cols.index("description") + 1 if "description" in cols else len(cols)
    return joined.select(cols[:at] + extra + cols[at:])


def bulk_with_catalogue(
    db: str | os.PathLike[str] | None,
    customer_ids: Sequence[str] | None,
    segment: str | None,
    k: int,
    rules: BusinessRules,
) -> pl.DataFrame:
    """Top-`k` lists per customer (ids or a warehouse segment) with category and price."""
    frame = recsys_service.bulk_recommendations(
        db, customer_ids=customer_ids, segment=segment, k=k, rules=rules
    )
    return with_catalogue(db, frame)


def customer_ids_from_upload(data: bytes, name: str) -> tuple[str, ...]:
    """Customer ids of an uploaded list (`recsys.export.customer_ids_from_bytes`: a CSV with a
    customer id column, any separator, or one id per line); RecsysError names the file."""
    return customer_ids_from_bytes(data, name)
