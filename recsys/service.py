"""The recommendations service the app and the export use (see docs/CONTRACTS.md).

The latest good model version is loaded once per (warehouse file generation, model version,
as-of date) together with the purchase histories up to that date; every list (one customer, a
basket, a batch) then goes through `recsys.lists.rank_lists`: the learned ranker over the
candidate sources (or the legacy blend for a version without a ranker), the business rules,
diversity, and the ranker's reasons.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

import numpy as np
import polars as pl

from recsys.base import Filters, apply_filters
from recsys.batch import bulk_frame
from recsys.data import (
    TrainData,
    build_train_data,
)
from recsys.errors import RecsysError
from recsys.features import ITEM_TABLE_KEY, tables
from recsys.lists import rank_lists
from recsys.manifest import model_status
from recsys.schemas import BULK_SCHEMA, CUSTOMER_HISTORY_SCHEMA, REC_SCHEMA, SIMILAR_SCHEMA
from recsys.serving import (
    BULK_COLUMNS,
    DEFAULT_RULES,
    POPULAR_MODEL,
    REC_COLUMNS,
    BusinessRules,
    ServingState,
    blend_reasons,
    model_name,
    pick_top,
    popular_scores,
    rules_mask,
    serve_stale_while_reloading,
    serving_state,
)
from warehouse.contracts import returns
from warehouse.db import reading, run_named
from warehouse.executors import Executor


def _frame(
    state: ServingState,
    data: TrainData,
    items: np.ndarray,
    scores: np.ndarray,
    reasons: list[str],
    model: str,
) -> pl.DataFrame:
    products = (
        data.catalogue.products[items.tolist()] if len(items) else data.catalogue.products.clear()
    )
    return pl.DataFrame(
        {
            "rank": np.arange(1, len(items) + 1, dtype=np.int32),
            "product_id": products["product_id"],
            "description": products["description"],
            "category": products["category"],
            "unit_price": products["unit_price"],
            "score": np.asarray(scores, dtype=np.float64),
            "reason": pl.Series(reasons, dtype=pl.String),
            "model": pl.Series([model] * len(items), dtype=pl.String),
        }
    ).select(REC_COLUMNS)


@returns(REC_SCHEMA)
def recommend_for_customer(
    db: str | os.PathLike[str] | None,
    customer_id: str,
    k: int = 20,
    rules: BusinessRules = DEFAULT_RULES,
    as_of: str | dt.date | None = None,
) -> pl.DataFrame:
    """Top-k products for one customer (columns REC_COLUMNS), best first, as of a date."""
    if k < 1:
        raise RecsysError(f"k: must be at least 1, got {k}")
    state = serving_state(db, as_of)
    mask = rules_mask(state, rules, str(customer_id))
    user = state.data.user_index.get(str(customer_id))
    if user is None:
        _require_customer(db, str(customer_id))
        return _popular(state, mask, k, rules)
    ids, best, reasons, _ = rank_lists(state, state.data, np.array([user]), k, rules, mask)
    keep = ids[0] >= 0
    return _frame(state, state.data, ids[0][keep], best[0][keep], reasons[0], model_name(state))


def _popular(state: ServingState, mask: np.ndarray, k: int, rules: BusinessRules) -> pl.DataFrame:
    scores = np.where(mask, popular_scores(state), -np.inf)
    items, best = pick_top(scores, k, state.categories, rules.max_per_category)
    return _frame(
        state,
        state.data,
        items,
        best,
        ["no purchases yet: popular with customers now"] * len(items),
        POPULAR_MODEL,
    )


def popular_products(
    db: str | os.PathLike[str] | None,
    k: int = 20,
    rules: BusinessRules = DEFAULT_RULES,
    customer_id: str | None = None,
) -> pl.DataFrame:
    """The cold-start list: top-k products popular with customers now (REC_COLUMNS, model
    POPULAR_MODEL), for a customer the model does not know (even one not in the warehouse)."""
    if k < 1:
        raise RecsysError(f"k: must be at least 1, got {k}")
    state = serving_state(db)
    cid = None if customer_id is None else str(customer_id)
    return _popular(state, rules_mask(state, rules, cid), k, rules)


def is_known_customer(db: str | os.PathLike[str] | None, customer_id: str) -> bool:
    """Whether the served model has a purchase history for `customer_id`."""
    return str(customer_id) in serving_state(db).data.user_index


def _require_customer(db: str | os.PathLike[str] | None, customer_id: str) -> None:
    with reading(db) as con:
        found = run_named(con, "recsys/customer_exists", {"customer_id": customer_id})
    if found.is_empty():
        raise RecsysError(f"customer_id: {customer_id!r} is not a customer of this warehouse")


@returns(REC_SCHEMA)
def complete_basket(
    db: str | os.PathLike[str] | None,
    product_ids: Sequence[str],
    k: int = 10,
    rules: BusinessRules = DEFAULT_RULES,
    as_of: str | dt.date | None = None,
) -> pl.DataFrame:
    """Products that go with an ad-hoc basket (a cold-start customer); basket items excluded."""
    if isinstance(product_ids, str):
        raise RecsysError("product_ids: give a list of product ids, not one string")
    state = serving_state(db, as_of)
    index = state.data.catalogue.index
    unknown = [p for p in product_ids if p not in index]
    if unknown:
        raise RecsysError(f"product_ids: unknown product(s) {', '.join(map(str, unknown[:5]))}")
    if not product_ids:
        raise RecsysError("product_ids: the basket is empty")
    basket = pl.DataFrame(
        {
            "customer_id": ["__basket__"] * len(product_ids),
            "product_id": list(product_ids),
            "order_id": ["basket"] * len(product_ids),
            "sold_at": pl.Series([None] * len(product_ids), dtype=pl.Datetime("us")),
            "quantity": [1.0] * len(product_ids),
        }
    ).with_columns(
        sold_at=pl.from_epoch(pl.lit(int((state.data.as_of - 1) * 86_400)), time_unit="s").cast(
            pl.Datetime("us")
        )
    )
    if state.rank_model is not None:
        return _ranked_basket(state, [index[p] for p in product_ids], k, rules)
    data = build_train_data(basket, state.products, state.data.as_of)
    data.catalogue.__dict__["item_ids"] = state.data.catalogue.item_ids  # share cached ids
    scores = state.loaded.model.score(data, np.array([0]))
    scores = apply_filters(
        scores, data, np.array([0]), Filters(exclude_seen=True, item_mask=rules_mask(state, rules))
    )[0]
    items, best = pick_top(scores, k, state.categories, rules.max_per_category)
    reasons = [r.replace("like ", "goes with ", 1) for r in blend_reasons(state, data, 0, items)]
    return _frame(state, data, items, best, reasons, state.loaded.model.name)


def _ranked_basket(
    state: ServingState, items: list[int], k: int, rules: BusinessRules
) -> pl.DataFrame:
    """The basket as a customer of its own (one order just before as-of) through the same
    ranking path; basket items excluded. Its data holds the basket's events only and borrows
    the serving data's per-item statistics, so a call costs the basket, not the catalogue."""
    base = state.data
    extra = pl.DataFrame(
        {
            "user": [0] * len(items),
            "item": items,
            "order": [0] * len(items),
            "t_days": [base.as_of - 0.5] * len(items),
            "quantity": [1.0] * len(items),
        },
        schema=base.events.schema,
    )
    data = TrainData(base.catalogue, ["__basket__"], extra, base.as_of, base.half_life_days)
    assert state.rank_model is not None and state.rank_model.sources is not None
    data._cache[ITEM_TABLE_KEY] = tables(base, state.rank_model.sources.category_codes).item
    users = np.array([0])
    rules = BusinessRules(**{**rules.__dict__, "exclude_purchased": True})
    state.ranked_for(data, users)
    ids, best, reasons, _ = rank_lists(state, data, users, k, rules, rules_mask(state, rules))
    keep = ids[0] >= 0
    return _frame(state, data, ids[0][keep], best[0][keep], reasons[0], model_name(state))


@returns(SIMILAR_SCHEMA)
def similar_products(
    db: str | os.PathLike[str] | None, product_id: str, k: int = 10
) -> pl.DataFrame:
    """Nearest products by two-tower item vectors (rank, product_id, ..., score, model)."""
    if k < 1:
        raise RecsysError(f"k: must be at least 1, got {k}")
    state = serving_state(db)
    item = state.data.catalogue.index.get(str(product_id))
    if item is None:
        raise RecsysError(f"product_id: {product_id!r} is not in the catalogue")
    ids, scores = state.index.search(state.item_vectors[item][None, :], k + 1)
    keep = (ids[0] >= 0) & (ids[0] != item)
    items, best = ids[0][keep][:k], scores[0][keep][:k]
    frame = _frame(
        state,
        state.data,
        items,
        best,
        [""] * len(items),
        f"{state.loaded.model.name} ({state.index.name})",
    )
    return frame.drop("reason")


@returns(CUSTOMER_HISTORY_SCHEMA)
def customer_history(db: str | os.PathLike[str] | None, customer_id: str) -> pl.DataFrame:
    """One customer's purchase lines, newest first."""
    with reading(db) as con:
        return run_named(con, "recsys/customer_history", {"customer_id": str(customer_id)})


@returns(BULK_SCHEMA)
def bulk_recommendations(
    db: str | os.PathLike[str] | None,
    customer_ids: Sequence[str] | None = None,
    segment: str | None = None,
    k: int = 20,
    rules: BusinessRules = DEFAULT_RULES,
    progress: bool = False,
    as_of: str | dt.date | None = None,
    executor: Executor | None = None,
) -> pl.DataFrame:
    """Top-k lists for many customers (BULK_COLUMNS); all customers with purchases by default;
    customer chunks run on `executor` when given (`recsys.batch.bulk_frame`)."""
    state = serving_state(db, as_of)
    return bulk_frame(state, db, customer_ids, segment, k, rules, progress, executor=executor)


__all__ = [
    "BULK_COLUMNS",
    "DEFAULT_RULES",
    "POPULAR_MODEL",
    "REC_COLUMNS",
    "BusinessRules",
    "ServingState",
    "bulk_recommendations",
    "complete_basket",
    "customer_history",
    "is_known_customer",
    "model_status",
    "popular_products",
    "recommend_for_customer",
    "rules_mask",
    "serve_stale_while_reloading",
    "serving_state",
    "similar_products",
]
