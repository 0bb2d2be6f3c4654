"""What serving reads once per warehouse file and model version: the state, rules and helpers.

`serving_state(db, as_of)` caches one `ServingState` per (file, as-of) and reloads it when the
file's generation, the newest model version or the pin changes. `recsys.service` (single lists),
`recsys.batch` (bulk lists) and `recsys.lists` (the ranking path) all read through it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from recsys.blend import BlendRecommender
from recsys.data import TrainData, catalogue_fingerprint, load_train_data, parse_date
from recsys.errors import RecsysError
from recsys.features import tables
from recsys.index import IndexConfig, VectorIndex, build_index
from recsys.pin import read_pin
from recsys.registry import LoadedModel, list_versions, load_latest
from warehouse.db import generation, reading, resolve_db_path, run_named

REC_COLUMNS = (
    "rank",
    "product_id",
    "description",
    "category",
    "unit_price",
    "score",
    "reason",
    "model",
)
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
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
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
            self.data.catalogue.item_ids
        )
        ease = self.loaded.ease if same_catalogue else None
        blend = BlendRecommender(
            self.loaded.model,
            ease=ease,
            ease_weight=manifest.get("ease_weight") if ease else None,
            buy_again_weight=float(manifest.get("buy_again_weight", 1)),
        )
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
        model.sources = fit_sources(
            self.data,
            ranker.config.sources,
            self.loaded.model if ranker.config.sources.use_two_tower else None,
        )
        return model

    def ranked_for(self, data: TrainData, users: np.ndarray | None = None) -> Any:
        """`recsys.lists.Ranked` of `data`: every customer of the serving data (computed once),
        or just `users` of another data (a basket)."""
        from recsys.lists import rank_all, serving_ranked

        if data is self.data:
            return serving_ranked(self, users)
        key = ("_ranked_other", id(data))
        cached = data._cache.get(str(key))
        if cached is None:
            assert users is not None
            cached = rank_all(self.rank_model, data, users)
            data._cache[str(key)] = cached
        return cached

    def legacy_reasons(
        self, data: TrainData, users: np.ndarray, ids: np.ndarray
    ) -> list[list[str]]:
        """Reasons of a version without a ranker (own purchases, or the closest past items)."""
        return [
            blend_reasons(self, data, int(u), r[r >= 0]) for u, r in zip(users, ids, strict=True)
        ]

    def warm(self) -> None:
        """Build the lazy parts (blend, index, descriptions, ranker tables) before any request."""
        _ = self.ranker, self.index, self.descriptions
        if self.rank_model is not None:
            tables(self.data, self.rank_model.sources.category_codes)

    @property
    def products(self) -> pl.DataFrame:
        """The catalogue: one row per product, in item-index order."""
        return self.data.catalogue.products

    @cached_property
    def item_vectors(self) -> np.ndarray:
        """Two-tower item vectors `[n_items, dim]`."""
        return self.loaded.model.item_vectors(self.data).cpu().numpy()

    @cached_property
    def index(self) -> VectorIndex:
        """Nearest-neighbour index over the item vectors."""
        return build_index(self.item_vectors, IndexConfig())

    @cached_property
    def categories(self) -> np.ndarray:
        """Category per item `[n_items]`."""
        return self.products["category"].to_numpy()

    @cached_property
    def descriptions(self) -> list[str]:
        """Description per item, in item-index order."""
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
    return (
        generation(path) if path.exists() else None,
        versions[0].name if versions else None,
        as_of,
        read_pin(path),
    )


def serving_state(
    db: str | os.PathLike[str] | None, as_of: str | dt.date | None = None
) -> ServingState:
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
            threading.Thread(
                target=_reload, args=(slot, key, load_lock), daemon=True, name="recsys-reload"
            ).start()
        return cached[1]
    with load_lock:
        with _LOCK:
            cached = _STATES.get(slot)
        if cached and cached[0] == key:
            return cached[1]
        return _load_state(slot, key)


def _reload(slot: tuple[Path, dt.date | None], key: tuple[Any, ...], lock: threading.Lock) -> None:
    """Background reload: load and warm a new state, then publish it (errors: logged, retried
    by the next call)."""
    try:
        state = _load_state(slot, key, publish=False)
        state.warm()
        with _LOCK:
            _STATES[slot] = (key, state)
    except Exception as exc:  # noqa: BLE001 - the previous state keeps serving
        log.warning("recsys: background reload of %s failed: %s", slot[0], exc)
    finally:
        lock.release()


def _load_state(
    slot: tuple[Path, dt.date | None], key: tuple[Any, ...], publish: bool = True
) -> ServingState:
    path, as_of = slot
    loaded = load_latest(path)
    data = load_train_data(path, until=as_of, half_life_days=120.0)
    with reading(path) as con:
        out = run_named(con, "recsys/out_of_stock")
        homes = run_named(con, "recsys/home_stores").drop_nulls()
    out_of_stock: dict[str, np.ndarray] = {}
    for (store,), rows in out.group_by(["store_id"]):
        mask = np.zeros(data.n_items, dtype=bool)
        rows_idx = [
            data.catalogue.index[p]
            for p in rows["product_id"].to_list()
            if p in data.catalogue.index
        ]
        mask[rows_idx] = True
        out_of_stock[str(store)] = mask
    home_store = dict(
        zip(homes["customer_id"].to_list(), homes["home_store_id"].to_list(), strict=True)
    )
    state = ServingState(loaded, data, out_of_stock, home_store, as_of)
    if publish:
        with _LOCK:
            _STATES[slot] = (key, state)
    return state


def rules_mask(
    state: ServingState, rules: BusinessRules, customer_id: str | None = None
) -> np.ndarray:
    """[n_items] bool: items the rules allow for this customer (None = no home store).

    Purchase history is handled separately (Filters.exclude_seen). The catalogue part of the
    mask is kept per rules in the state (at most 256), so a request pays only the stock part.
    """
    key = replace(rules, in_stock_only=False, exclude_purchased=True, max_per_category=None)
    cache: dict[BusinessRules, np.ndarray] = state.__dict__.setdefault("_rule_masks", {})
    if key not in cache:
        if len(cache) >= 256:
            cache.clear()
        cache[key] = _catalogue_mask(state.products, rules)
    if rules.in_stock_only:
        return cache[key] & ~state.out_of_stock_for(customer_id)
    return cache[key].copy()


def _catalogue_mask(products: pl.DataFrame, rules: BusinessRules) -> np.ndarray:
    mask = np.ones(products.height, dtype=bool)
    for values, column, keep in (
        (rules.include_categories, "category", True),
        (rules.exclude_categories, "category", False),
        (rules.allow_list, "product_id", True),
        (rules.block_list, "product_id", False),
    ):
        if values:
            hit = products[column].is_in(list(values)).to_numpy()
            mask &= hit if keep else ~hit
    price = products["unit_price"].to_numpy().astype(float)
    if rules.min_price is not None:
        mask &= np.nan_to_num(price, nan=-1.0) >= rules.min_price
    if rules.max_price is not None:
        mask &= np.nan_to_num(price, nan=np.inf) <= rules.max_price
    return mask


def pick_top(
    scores: np.ndarray, k: int, categories: np.ndarray, max_per_category: int | None
) -> tuple[np.ndarray, np.ndarray]:
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


def popular_scores(state: ServingState) -> np.ndarray:
    """Recent popularity per item `[n_items]` (float32), the cold-start score."""
    return state.ranker.buy_again.popular.popularity.astype(np.float32)


def model_name(state: ServingState) -> str:
    """What produced the lists: the ranker or the legacy blend."""
    return "ranker(lightgbm)" if state.rank_model is not None else state.ranker.name


def blend_reasons(
    state: ServingState,
    data: TrainData,
    user: int,
    items: np.ndarray,
    bought_prefix: str = "you bought it",
) -> list[str]:
    """Per item: how often the customer bought it, or the past purchases most like it."""
    hist, ages = state.loaded.model.user_history(data)
    row_items, row_ages = hist[user], ages[user]
    valid = row_items >= 0
    counts = data.counts()[user].toarray().ravel()
    if not valid.any():
        return ["popular with customers now"] * len(items)
    past = row_items[valid]
    weight = 0.5 ** (row_ages[valid] / 60.0)
    vectors = (
        state.item_vectors
        if data is state.data
        else state.loaded.model.item_vectors(data).cpu().numpy()
    )  # a basket's data scores the item vectors once, not twice
    sims = (vectors[items] @ vectors[past].T) * weight[None, :]
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
