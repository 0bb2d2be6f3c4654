"""The recommendations service the app and the export use (see docs/CONTRACTS.md).

The latest good model version is loaded once per (warehouse file generation, model version,
as-of date) together with the purchase histories up to that date; every list (one customer, a
basket, a batch) then goes through `recsys.lists.rank_lists`: the learned ranker over the
candidate sources (or the legacy blend for a version without a ranker), the business rules,
diversity, and the ranker's reasons.
"""

from __future__ import annotations

import datetime as dt
import logging
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
from recsys.data import (
    TrainData,
    build_train_data,
    catalogue_fingerprint,
    load_train_data,
    parse_date,
)
from recsys.errors import RecsysError
from recsys.index import IndexConfig, VectorIndex, build_index
from recsys.pin import read_pin
from recsys.registry import LoadedModel, latest_manifest, list_versions, load_latest
from recsys.schemas import BULK_SCHEMA, CUSTOMER_HISTORY_SCHEMA, REC_SCHEMA, SIMILAR_SCHEMA
from warehouse.contracts import returns
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
    as_of: dt.date | None = None  # histories cut at this date (None = all sales)

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

    @cached_property
    def rank_model(self) -> Any:
        """The version's `RankerRecommender` with its sources fitted on the serving data
        (None for a version saved without a ranker)."""
        ranker = self.loaded.ranker
        if ranker is None:
            return None
        from recsys.candidates import fit_sources
        from recsys.ranker import RankerRecommender

        model = RankerRecommender(ranker.config)
        model.model = ranker
        model.sources = fit_sources(self.data, ranker.config.sources,
                                    self.loaded.model if ranker.config.sources.use_two_tower
                                    else None)
        return model

    def ranked_for(self, data: TrainData, users: np.ndarray | None = None) -> Any:
        """`recsys.lists.Ranked` of `data`: every customer of the serving data (computed once),
        or just `users` of another data (a basket)."""
        from recsys.lists import rank_all

        if data is self.data:
            if "_ranked" not in self.__dict__:
                users_all = np.unique(self.data.events["user"].to_numpy())
                self.__dict__["_ranked"] = rank_all(self.rank_model, data, users_all)
            return self.__dict__["_ranked"]
        key = ("_ranked_other", id(data))
        cached = data._cache.get(str(key))
        if cached is None:
            assert users is not None
            cached = rank_all(self.rank_model, data, users)
            data._cache[str(key)] = cached
        return cached

    def legacy_reasons(self, data: TrainData, users: np.ndarray,
                       ids: np.ndarray) -> list[list[str]]:
        """Reasons of a version without a ranker (own purchases, or the closest past items)."""
        return [_reasons(self, data, int(u), row[row >= 0]) for u, row in zip(users, ids,
                                                                                strict=True)]

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


_STATES: dict[tuple[Path, dt.date | None], tuple[tuple[Any, ...], ServingState]] = {}
_LOCK = threading.Lock()  # guards _STATES and _LOADING (never held while loading)
_LOADING: dict[tuple[Path, dt.date | None], threading.Lock] = {}
_STALE_OK = False
log = logging.getLogger(__name__)


def serve_stale_while_reloading(enabled: bool = True) -> None:
    """Let callers keep the previous state while a newer one loads in a background thread.

    Off by default (the app reloads in the request that notices the change). A server answering
    many requests turns it on: after a refresh, calls answer from the previous (consistent)
    warehouse generation and model until the new state is ready, instead of all waiting.
    """
    global _STALE_OK
    _STALE_OK = enabled


def _state_key(path: Path, as_of: dt.date | None) -> tuple[Any, ...]:
    versions = list_versions(path)
    return (generation(path) if path.exists() else None, versions[0].name if versions else None,
            as_of, read_pin(path))


def serving_state(db: str | os.PathLike[str] | None,
                  as_of: str | dt.date | None = None) -> ServingState:
    """The cached state for `db` as of a date (None = all sales), reloaded when the file or the
    newest model version changes."""
    as_of = parse_date(as_of, "--as-of")
    path = resolve_db_path(db).resolve()
    key = _state_key(path, as_of)
    slot = (path, as_of)
    with _LOCK:
        cached = _STATES.get(slot)
        if cached and cached[0] == key:
            return cached[1]
        load_lock = _LOADING.setdefault(slot, threading.Lock())
    if cached and _STALE_OK:
        if load_lock.acquire(blocking=False):
            threading.Thread(target=_reload, args=(slot, key, load_lock), daemon=True,
                             name="recsys-reload").start()
        return cached[1]
    with load_lock:
        with _LOCK:
            cached = _STATES.get(slot)
        if cached and cached[0] == key:
            return cached[1]
        return _load_state(slot, key)


def _reload(slot: tuple[Path, dt.date | None], key: tuple[Any, ...],
            lock: threading.Lock) -> None:
    """Background reload: load and warm a new state, then publish it (errors: logged, retried
    by the next call)."""
    try:
        state = _load_state(slot, key, publish=False)
        _ = state.ranker, state.index, state.descriptions
        with _LOCK:
            _STATES[slot] = (key, state)
    except Exception as exc:  # noqa: BLE001 - the previous state keeps serving
        log.warning("recsys: background reload of %s failed: %s", slot[0], exc)
    finally:
        lock.release()


def _load_state(slot: tuple[Path, dt.date | None], key: tuple[Any, ...],
                publish: bool = True) -> ServingState:
    path, as_of = slot
    loaded = load_latest(path)
    data = load_train_data(path, until=as_of, half_life_days=120.0)
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
    state = ServingState(loaded, data, out_of_stock, home_store, as_of)
    if publish:
        with _LOCK:
            _STATES[slot] = (key, state)
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


@returns(REC_SCHEMA)
def recommend_for_customer(
    db: str | os.PathLike[str] | None, customer_id: str, k: int = 20,
    rules: BusinessRules = DEFAULT_RULES, as_of: str | dt.date | None = None,
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
    from recsys.lists import rank_lists

    ids, best, reasons, _ = rank_lists(state, state.data, np.array([user]), k, rules, mask)
    keep = ids[0] >= 0
    return _frame(state, state.data, ids[0][keep], best[0][keep], reasons[0], model_name(state))


def model_name(state: ServingState) -> str:
    """What produced the lists: the ranker or the legacy blend."""
    return "ranker(lightgbm)" if state.rank_model is not None else state.ranker.name


def _popular(state: ServingState, mask: np.ndarray, k: int,
             rules: BusinessRules) -> pl.DataFrame:
    scores = np.where(mask, _popular_scores(state), -np.inf)
    items, best = _pick(scores, k, state.categories, rules.max_per_category)
    return _frame(state, state.data, items, best,
                  ["no purchases yet: popular with customers now"] * len(items), POPULAR_MODEL)


def popular_products(
    db: str | os.PathLike[str] | None, k: int = 20, rules: BusinessRules = DEFAULT_RULES,
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
    db: str | os.PathLike[str] | None, product_ids: Sequence[str], k: int = 10,
    rules: BusinessRules = DEFAULT_RULES, as_of: str | dt.date | None = None,
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
    basket = pl.DataFrame({
        "customer_id": ["__basket__"] * len(product_ids), "product_id": list(product_ids),
        "order_id": ["basket"] * len(product_ids),
        "sold_at": pl.Series([None] * len(product_ids), dtype=pl.Datetime("us")),
        "quantity": [1.0] * len(product_ids),
    }).with_columns(sold_at=pl.from_epoch(
        pl.lit(int((state.data.as_of - 1) * 86_400)), time_unit="s").cast(pl.Datetime("us")))
    if state.rank_model is not None:
        return _ranked_basket(state, [index[p] for p in product_ids], k, rules)
    data = build_train_data(basket, state.products, state.data.as_of)
    data.catalogue.__dict__["item_ids"] = state.data.catalogue.item_ids  # share cached ids
    scores = state.loaded.model.score(data, np.array([0]))
    scores = apply_filters(scores, data, np.array([0]),
                           Filters(exclude_seen=True, item_mask=rules_mask(state, rules)))[0]
    items, best = _pick(scores, k, state.categories, rules.max_per_category)
    reasons = [r.replace("like ", "goes with ", 1) for r in _reasons(state, data, 0, items)]
    return _frame(state, data, items, best, reasons, state.loaded.model.name)


def _ranked_basket(state: ServingState, items: list[int], k: int,
                   rules: BusinessRules) -> pl.DataFrame:
    """The basket as one more customer of the serving data (one order just before as-of),
    through the same ranking path; basket items excluded."""
    from recsys.lists import rank_lists

    base = state.data
    user = base.n_users
    order = int(base.events["order"].to_numpy().max(initial=0)) + 1
    extra = pl.DataFrame({
        "user": [user] * len(items), "item": items, "order": [order] * len(items),
        "t_days": [base.as_of - 0.5] * len(items), "quantity": [1.0] * len(items),
    }, schema=base.events.schema)
    data = TrainData(base.catalogue, [*base.user_ids, "__basket__"],
                     pl.concat([base.events, extra]), base.as_of, base.half_life_days)
    users = np.array([user])
    rules = BusinessRules(**{**rules.__dict__, "exclude_purchased": True})
    state.ranked_for(data, users)
    ids, best, reasons, _ = rank_lists(state, data, users, k, rules, rules_mask(state, rules))
    keep = ids[0] >= 0
    return _frame(state, data, ids[0][keep], best[0][keep], reasons[0], model_name(state))



@returns(SIMILAR_SCHEMA)
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


@returns(CUSTOMER_HISTORY_SCHEMA)
def customer_history(db: str | os.PathLike[str] | None, customer_id: str) -> pl.DataFrame:
    """One customer's purchase lines, newest first."""
    with reading(db) as con:
        return run_named(con, "recsys/customer_history", {"customer_id": str(customer_id)})


@returns(BULK_SCHEMA)
def bulk_recommendations(
    db: str | os.PathLike[str] | None, customer_ids: Sequence[str] | None = None,
    segment: str | None = None, k: int = 20, rules: BusinessRules = DEFAULT_RULES,
    progress: bool = False, as_of: str | dt.date | None = None,
) -> pl.DataFrame:
    """Top-k lists for many customers (BULK_COLUMNS); all customers with purchases by default."""
    from recsys.batch import bulk_frame

    return bulk_frame(serving_state(db, as_of), db, customer_ids, segment, k, rules, progress)


def model_status(db: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """The latest good model's version, trained_at, data range and metrics (None = no model)."""
    manifest = latest_manifest(db)
    if manifest is None:
        return None
    keys = ("version", "model", "trained_at", "data_range", "metrics", "buy_again_weight")
    return {key: manifest.get(key) for key in keys}
