"""The recommendations service the app and the export use (see docs/CONTRACTS.md).

The latest good model version is loaded once per (warehouse file generation, model version)
together with today's purchase histories; every call then ranks the whole catalogue with the
blended ranker (buy-again + two-tower), applies the business rules, and explains each item.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from recsys.base import Filters, apply_filters
from recsys.blend import BlendRecommender
from recsys.data import TrainData, build_train_data, catalogue_fingerprint, load_train_data
from recsys.errors import RecsysError
from recsys.index import IndexConfig, VectorIndex, build_index
from recsys.pin import read_pin
from recsys.registry import LoadedModel, latest_manifest, list_versions, load_latest
from warehouse.db import generation, reading, resolve_db_path, run_named

REC_COLUMNS = ("rank", "product_id", "description", "category", "unit_price", "score", "reason",
               "model")
BULK_COLUMNS = ("customer_id", "rank", "product_id", "description", "score", "reason", "model")
POPULAR_MODEL = "popularity-recent"


@dataclass(frozen=True)
class BusinessRules:
    """Rules applied to every list (see docs/CONTRACTS.md)."""

    exclude_purchased: bool = True
    in_stock_only: bool = False
    include_categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    min_price: float | None = None
    max_price: float | None = None
    allow_list: tuple[str, ...] = ()
    block_list: tuple[str, ...] = ()
    max_per_category: int | None = None

    def __post_init__(self) -> None:
        for name in ("include_categories", "exclude_categories", "allow_list", "block_list"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise RecsysError(f"{name}: give a tuple of strings, not the string {value!r}")
            object.__setattr__(self, name, tuple(value))
        for name in ("min_price", "max_price"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise RecsysError(f"{name}: must be >= 0, got {value}")
        if (self.min_price is not None and self.max_price is not None
                and self.min_price > self.max_price):
            raise RecsysError(f"min_price {self.min_price} is above max_price {self.max_price}")
        if self.max_per_category is not None and self.max_per_category < 1:
            raise RecsysError(f"max_per_category: must be at least 1, got {self.max_per_category}")


DEFAULT_RULES = BusinessRules()


@dataclass
class ServingState:
    """A loaded model with the warehouse data it serves."""

    loaded: LoadedModel
    data: TrainData
    out_of_stock: dict[str, np.ndarray]  # store_id -> [n_items] bool, stores with stock data
    home_store: dict[str, str]  # customer_id -> home_store_id

    def out_of_stock_for(self, customer_id: str | None) -> np.ndarray:
        """[n_items] bool: out of stock at the customer's home store; without a known home
        store, out of stock in every store that reports stock for the item."""
        store = self.home_store.get(customer_id) if customer_id is not None else None
        if store in self.out_of_stock:
            return self.out_of_stock[store]
        if store is not None or not self.out_of_stock:
            return np.zeros(self.data.n_items, dtype=bool)
        return np.logical_and.reduce(list(self.out_of_stock.values()))

    @cached_property
    def ranker(self) -> BlendRecommender:
        """The blend of the manifest; EASE only when the catalogue is the one it was fit on."""
        manifest = self.loaded.manifest
        same_catalogue = manifest.get("catalogue_sha256") == catalogue_fingerprint(
            self.data.catalogue.item_ids)
        ease = self.loaded.ease if same_catalogue else None
        blend = BlendRecommender(self.loaded.model, ease=ease,
                                 ease_weight=manifest.get("ease_weight") if ease else None,
                                 buy_again_weight=float(manifest.get("buy_again_weight", 1)))
        blend.buy_again.fit(self.data)
        return blend

    @property
    def products(self) -> pl.DataFrame:
        return self.data.catalogue.products

    @cached_property
    def item_vectors(self) -> np.ndarray:
        return self.loaded.model.item_vectors(self.data).cpu().numpy()

    @cached_property
    def index(self) -> VectorIndex:
        return build_index(self.item_vectors, IndexConfig())

    @cached_property
    def categories(self) -> np.ndarray:
        return self.products["category"].to_numpy()

    @cached_property
    def descriptions(self) -> list[str]:
        return self.products["description"].to_list()


_STATES: dict[Path, tuple[tuple[Any, ...], ServingState]] = {}
_LOCK = threading.Lock()


def serving_state(db: str | os.PathLike[str] | None) -> ServingState:
    """The cached state for `db`, reloaded when the file or the newest model version changes."""
    path = resolve_db_path(db).resolve()
    versions = list_versions(path)
    key = (generation(path) if path.exists() else None, versions[0].name if versions else None,
           read_pin(path))
    with _LOCK:
        cached = _STATES.get(path)
        if cached and cached[0] == key:
            return cached[1]
        loaded = load_latest(path)
        data = load_train_data(path, half_life_days=120.0)
        with reading(path) as con:
            out = run_named(con, "recsys/out_of_stock")
            homes = run_named(con, "recsys/home_stores").drop_nulls()
        out_of_stock: dict[str, np.ndarray] = {}
        for (store,), rows in out.group_by(["store_id"]):
            mask = np.zeros(data.n_items, dtype=bool)
            rows_idx = [data.catalogue.index[p] for p in rows["product_id"].to_list()
                        if p in data.catalogue.index]
            mask[rows_idx] = True
            out_of_stock[str(store)] = mask
        home_store = dict(zip(homes["customer_id"].to_list(), homes["home_store_id"].to_list(),
                              strict=True))
        state = ServingState(loaded, data, out_of_stock, home_store)
        _STATES[path] = (key, state)
        return state


def rules_mask(state: ServingState, rules: BusinessRules,
               customer_id: str | None = None) -> np.ndarray:
    """[n_items] bool: items the rules allow for this customer (None = no home store).

    Purchase history is handled separately (Filters.exclude_seen).
    """
    products = state.products
    mask = np.ones(products.height, dtype=bool)
    if rules.in_stock_only:
        mask &= ~state.out_of_stock_for(customer_id)
    categories = products["category"]
    if rules.include_categories:
        mask &= categories.is_in(list(rules.include_categories)).to_numpy()
    if rules.exclude_categories:
        mask &= ~categories.is_in(list(rules.exclude_categories)).to_numpy()
    price = products["unit_price"].to_numpy().astype(float)
    if rules.min_price is not None:
        mask &= np.nan_to_num(price, nan=-1.0) >= rules.min_price
    if rules.max_price is not None:
        mask &= np.nan_to_num(price, nan=np.inf) <= rules.max_price
    ids = products["product_id"]
    if rules.allow_list:
        mask &= ids.is_in(list(rules.allow_list)).to_numpy()
    if rules.block_list:
        mask &= ~ids.is_in(list(rules.block_list)).to_numpy()
    return mask


def _pick(scores: np.ndarray, k: int, categories: np.ndarray,
          max_per_category: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Best-first ids [<= k] and scores of one row, with at most N items per category."""
    finite = np.flatnonzero(np.isfinite(scores))
    if max_per_category is None:
        take = finite[np.argsort(-scores[finite], kind="stable")[:k]]
        return take, scores[take]
    order = finite[np.argsort(-scores[finite], kind="stable")]
    taken: list[int] = []
    per_category: dict[Any, int] = {}
    for item in order:
        cat = categories[item]
        if per_category.get(cat, 0) < max_per_category:
            taken.append(int(item))
            per_category[cat] = per_category.get(cat, 0) + 1
            if len(taken) == k:
                break
    take = np.array(taken, dtype=np.int64)
    return take, scores[take]


def _reasons(state: ServingState, data: TrainData, user: int, items: np.ndarray,
             bought_prefix: str = "you bought it") -> list[str]:
    """Per item: how often the customer bought it, or the past purchases most like it."""
    hist, ages = state.loaded.model.user_history(data)
    row_items, row_ages = hist[user], ages[user]
    valid = row_items >= 0
    counts = data.counts()[user].toarray().ravel()
    if not valid.any():
        return ["popular with customers now"] * len(items)
    past = row_items[valid]
    weight = 0.5 ** (row_ages[valid] / 60.0)
    past_vectors = state.item_vectors[past] if data is state.data else \
        state.loaded.model.item_vectors(data).cpu().numpy()[past]
    vectors = state.item_vectors if data is state.data else \
        state.loaded.model.item_vectors(data).cpu().numpy()
    sims = (vectors[items] @ past_vectors.T) * weight[None, :]
    names = data.catalogue.products["description"].to_list()
    out = []
    for row, item in enumerate(items):
        if counts[item] > 0:
            out.append(f"{bought_prefix} {int(counts[item])}x before")
            continue
        best: list[str] = []
        for col in np.argsort(-sims[row]):
            name = names[past[col]]
            if name not in best:
                best.append(name)
            if len(best) == 2:
                break
        out.append("like " + "; ".join(best))
    return out


def _frame(state: ServingState, data: TrainData, items: np.ndarray, scores: np.ndarray,
           reasons: list[str], model: str) -> pl.DataFrame:
    products = data.catalogue.products[items.tolist()] if len(items) else \
        data.catalogue.products.clear()
    return pl.DataFrame({
        "rank": np.arange(1, len(items) + 1, dtype=np.int32),
        "product_id": products["product_id"],
        "description": products["description"],
        "category": products["category"],
        "unit_price": products["unit_price"],
        "score": np.asarray(scores, dtype=np.float64),
        "reason": pl.Series(reasons, dtype=pl.String),
        "model": pl.Series([model] * len(items), dtype=pl.String),
    }).select(REC_COLUMNS)


def _popular_scores(state: ServingState) -> np.ndarray:
    return state.ranker.buy_again.popular.popularity.astype(np.float32)


def recommend_for_customer(
    db: str | os.PathLike[str] | None, customer_id: str, k: int = 20,
    rules: BusinessRules = DEFAULT_RULES,
) -> pl.DataFrame:
    """Top-k products for one customer (columns REC_COLUMNS), best first."""
    if k < 1:
        raise RecsysError(f"k: must be at least 1, got {k}")
    state = serving_state(db)
    mask = rules_mask(state, rules, str(customer_id))
    user = state.data.user_index.get(str(customer_id))
    if user is None:
        _require_customer(db, str(customer_id))
        scores = np.where(mask, _popular_scores(state), -np.inf)
        items, best = _pick(scores, k, state.categories, rules.max_per_category)
        return _frame(state, state.data, items, best,
                      ["no purchases yet: popular with customers now"] * len(items),
                      POPULAR_MODEL)
    users = np.array([user])
    raw = state.ranker.score(state.data, users)
    scores = apply_filters(raw, state.data, users,
                           Filters(exclude_seen=rules.exclude_purchased, item_mask=mask))[0]
    items, best = _pick(scores, k, state.categories, rules.max_per_category)
    return _frame(state, state.data, items, best, _reasons(state, state.data, user, items),
                  state.ranker.name)


def _require_customer(db: str | os.PathLike[str] | None, customer_id: str) -> None:
    with reading(db) as con:
        found = run_named(con, "recsys/customer_exists", {"customer_id": customer_id})
    if found.is_empty():
        raise RecsysError(f"customer_id: {customer_id!r} is not a customer of this warehouse")


def complete_basket(
    db: str | os.PathLike[str] | None, product_ids: Sequence[str], k: int = 10,
    rules: BusinessRules = DEFAULT_RULES,
) -> pl.DataFrame:
    """Products that go with an ad-hoc basket (a cold-start customer); basket items excluded."""
    if isinstance(product_ids, str):
        raise RecsysError("product_ids: give a list of product ids, not one string")
    state = serving_state(db)
    index = state.data.catalogue.index
    unknown = [p for p in product_ids if p not in index]
    if unknown:
        raise RecsysError(f"product_ids: unknown product(s) {', '.join(map(str, unknown[:5]))}")
    if not product_ids:
        raise RecsysError("product_ids: the basket is empty")
    basket = pl.DataFrame({
        "customer_id": ["__basket__"] * len(product_ids), "product_id": list(product_ids),
        "order_id": ["basket"] * len(product_ids),
        "sold_at": pl.Series([None] * len(product_ids), dtype=pl.Datetime("us")),
        "quantity": [1.0] * len(product_ids),
    }).with_columns(sold_at=pl.from_epoch(
        pl.lit(int((state.data.as_of - 1) * 86_400)), time_unit="s").cast(pl.Datetime("us")))
    data = build_train_data(basket, state.products, state.data.as_of)
    data.catalogue.__dict__["item_ids"] = state.data.catalogue.item_ids  # share cached ids
    scores = state.loaded.model.score(data, np.array([0]))
    scores = apply_filters(scores, data, np.array([0]),
                           Filters(exclude_seen=True, item_mask=rules_mask(state, rules)))[0]
    items, best = _pick(scores, k, state.categories, rules.max_per_category)
    reasons = [r.replace("like ", "goes with ", 1) for r in _reasons(state, data, 0, items)]
    return _frame(state, data, items, best, reasons, state.loaded.model.name)


def similar_products(db: str | os.PathLike[str] | None, product_id: str,
                     k: int = 10) -> pl.DataFrame:
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
    frame = _frame(state, state.data, items, best, [""] * len(items),
                   f"{state.loaded.model.name} ({state.index.name})")
    return frame.drop("reason")


def customer_history(db: str | os.PathLike[str] | None, customer_id: str) -> pl.DataFrame:
    """One customer's purchase lines, newest first."""
    with reading(db) as con:
        return run_named(con, "recsys/customer_history", {"customer_id": str(customer_id)})


def bulk_recommendations(
    db: str | os.PathLike[str] | None, customer_ids: Sequence[str] | None = None,
    segment: str | None = None, k: int = 20, rules: BusinessRules = DEFAULT_RULES,
    progress: bool = False,
) -> pl.DataFrame:
    """Top-k lists for many customers (BULK_COLUMNS); all customers with purchases by default."""
    from recsys.export import bulk_frame  # the batch path lives with the export

    return bulk_frame(serving_state(db), db, customer_ids, segment, k, rules, progress)


def model_status(db: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """The latest good model's version, trained_at, data range and metrics (None = no model)."""
    manifest = latest_manifest(db)
    if manifest is None:
        return None
    keys = ("version", "model", "trained_at", "data_range", "metrics", "buy_again_weight")
    return {key: manifest.get(key) for key in keys}
