"""Interactions and catalogue from the warehouse, as index arrays the models share.

`--until DATE` everywhere means "use only sales dated on or before DATE". Times are kept as
float days since 1970-01-01 (`t_days`); `as_of` is the end of the last day of data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.errors import NoCustomerPurchasesError, RecsysError
from warehouse.db import reading, run_named

#: The data contract at the warehouse -> recsys boundary.
INTERACTIONS_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "product_id": pl.String(),
        "order_id": pl.String(),
        "sold_at": pl.Datetime("us"),
        "quantity": pl.Float64(),
    }
)
PRODUCTS_SCHEMA = pl.Schema(
    {
        "product_id": pl.String,
        "description": pl.String,
        "category": pl.String,
        "unit_price": pl.Float64,
        "first_sold_on": pl.Date,
    }
)
_DAY_US = 86_400 * 1_000_000


def catalogue_fingerprint(item_ids: list[str]) -> str:
    """SHA-256 of the ordered product ids (models indexed by catalogue row must match it)."""
    return hashlib.sha256("\n".join(item_ids).encode()).hexdigest()


def parse_date(value: str | dt.date | None, name: str = "--until") -> dt.date | None:
    """A date from `YYYY-MM-DD` (None passes through); a clear error names the parameter."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise RecsysError(f"{name}: {value!r} is not a date (expected YYYY-MM-DD)") from exc


def _conform(frame: pl.DataFrame, schema: pl.Schema, what: str) -> pl.DataFrame:
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise RecsysError(f"{what}: missing column(s) {', '.join(missing)}")
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()])


def load_interactions(
    db: str | os.PathLike[str] | None, until: dt.date | None = None, since: dt.date | None = None
) -> pl.DataFrame:
    """Customer x product x order rows (INTERACTIONS_SCHEMA), sales in (since, until]."""
    params = {
        "until": until.isoformat() if until else None,
        "since": since.isoformat() if since else None,
    }
    with reading(db) as con:
        frame = run_named(con, "recsys/interactions", params)
    return _conform(frame, INTERACTIONS_SCHEMA, "recsys/interactions")


def load_products(db: str | os.PathLike[str] | None) -> pl.DataFrame:
    """The whole catalogue (PRODUCTS_SCHEMA), sorted by product_id."""
    with reading(db) as con:
        frame = run_named(con, "recsys/products")
    return _conform(frame, PRODUCTS_SCHEMA, "recsys/products")


def days_since_epoch(column: str = "sold_at") -> pl.Expr:
    """Timestamp column as float days since 1970-01-01."""
    return pl.col(column).cast(pl.Datetime("us")).dt.epoch("us").cast(pl.Float64) / _DAY_US


def end_of_day_days(day: dt.date) -> float:
    """Days since epoch at the end of `day` (midnight after it)."""
    return float((day - dt.date(1970, 1, 1)).days + 1)


@dataclass(frozen=True)
class Catalogue:
    """Items in index order 0..n_items-1 (the full catalogue, whether sold or not)."""

    products: pl.DataFrame

    @cached_property
    def item_ids(self) -> list[str]:
        return self.products["product_id"].to_list()

    @cached_property
    def index(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.item_ids)}

    @property
    def n_items(self) -> int:
        return self.products.height


@dataclass(frozen=True)
class TrainData:
    """Interactions in index space.

    Attributes:
        catalogue: the items (columns of every matrix).
        user_ids: customer ids in index order.
        events: one row per user x item x order, sorted by user then time, columns
            user (Int32), item (Int32), order (Int32, a running order number), t_days (Float64),
            quantity (Float64, units in that order line).
        as_of: days since epoch at the end of the data (recency is measured from here).
        half_life_days: half-life of the recency weight of a purchase.
    """

    catalogue: Catalogue
    user_ids: list[str]
    events: pl.DataFrame
    as_of: float
    half_life_days: float = 120.0
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return self.catalogue.n_items

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.user_ids)}

    def counts(self) -> sp.csr_matrix:
        """[n_users, n_items] number of orders with the item (float32)."""
        return self._matrix(weighted=False)

    def weighted(self) -> sp.csr_matrix:
        """[n_users, n_items] sum over orders of 0.5 ** (age_days / half_life)."""
        return self._matrix(weighted=True)

    def _matrix(self, weighted: bool) -> sp.csr_matrix:
        key = f"matrix-{weighted}"
        if key not in self._cache:
            ev = self.events
            values = (
                0.5 ** ((self.as_of - ev["t_days"].to_numpy()) / self.half_life_days)
                if weighted
                else np.ones(ev.height)
            )
            matrix = sp.csr_matrix(
                (values.astype(np.float32), (ev["user"].to_numpy(), ev["item"].to_numpy())),
                shape=(self.n_users, self.n_items),
            )
            matrix.sum_duplicates()
            self._cache[key] = matrix
        return self._cache[key]

    def item_popularity(self, window_days: float | None = None) -> np.ndarray:
        """[n_items] distinct buyers per item, over the last `window_days` (None = all)."""
        ev = self.events
        if window_days is not None:
            ev = ev.filter(pl.col("t_days") > self.as_of - window_days)
        per_item = ev.select("user", "item").unique().group_by("item").len()
        pop = np.zeros(self.n_items, dtype=np.float64)
        pop[per_item["item"].to_numpy()] = per_item["len"].to_numpy()
        return pop

    def last_events(self, max_len: int, before: float | None = None) -> tuple[np.ndarray, ...]:
        """Each user's last `max_len` events before time `before` (default as_of).

        Returns:
            items [n_users, max_len] int64 (padding -1, newest last), ages [n_users, max_len]
            float32 in days from `before` (padding 0).
        """
        cutoff = self.as_of if before is None else before
        tail = (
            self.events.filter(pl.col("t_days") < cutoff)
            .group_by("user", maintain_order=True)
            .agg(pl.col("item").tail(max_len), pl.col("t_days").tail(max_len))
        )
        items = np.full((self.n_users, max_len), -1, dtype=np.int64)
        ages = np.zeros((self.n_users, max_len), dtype=np.float32)
        users = tail["user"].to_numpy().astype(np.int64)
        lengths = tail["item"].list.len().to_numpy().astype(np.int64)
        flat_items = tail["item"].explode().to_numpy()
        flat_t = tail["t_days"].explode().to_numpy()
        rows = np.repeat(users, lengths)
        ends = np.cumsum(lengths)
        pos_in_row = np.arange(lengths.sum()) - np.repeat(ends - lengths, lengths)
        cols = pos_in_row + np.repeat(max_len - lengths, lengths)  # right-aligned
        items[rows, cols] = flat_items
        ages[rows, cols] = (cutoff - flat_t).astype(np.float32)
        return items, ages


def cut_before(data: TrainData, cutoff: float) -> TrainData:
    """The same users and catalogue with only events strictly before `cutoff` (as_of = cutoff)."""
    return TrainData(
        data.catalogue,
        data.user_ids,
        data.events.filter(pl.col("t_days") < cutoff),
        cutoff,
        data.half_life_days,
    )


def build_train_data(
    interactions: pl.DataFrame,
    products: pl.DataFrame,
    as_of: float,
    half_life_days: float = 120.0,
) -> TrainData:
    """Index the interactions against the catalogue; products missing from it are dropped."""
    catalogue = Catalogue(products)
    item_map = pl.DataFrame(
        {"product_id": catalogue.item_ids, "item": np.arange(catalogue.n_items, dtype=np.int32)}
    )
    frame = interactions.join(item_map, on="product_id", how="inner")
    user_ids = sorted(frame["customer_id"].unique().to_list())
    user_map = pl.DataFrame(
        {"customer_id": user_ids, "user": np.arange(len(user_ids), dtype=np.int32)}
    )
    events = (
        frame.join(user_map, on="customer_id")
        .with_columns(t_days=days_since_epoch())
        .sort("user", "t_days", "order_id", "item")
        .with_columns(
            order=(
                (pl.col("user") != pl.col("user").shift(1))
                | (pl.col("order_id") != pl.col("order_id").shift(1))
            )
            .fill_null(True)
            .cum_sum()
            .cast(pl.Int32)
        )
        .select("user", "item", "order", "t_days", "quantity")
    )
    return TrainData(catalogue, user_ids, events, as_of, half_life_days)


def load_train_data(
    db: str | os.PathLike[str] | None,
    until: dt.date | None = None,
    half_life_days: float = 120.0,
) -> TrainData:
    """Interactions on or before `until` (all when None) indexed against the full catalogue."""
    interactions = load_interactions(db, until=until)
    if interactions.is_empty():
        raise NoCustomerPurchasesError(
            f"{db}: no identified customer purchases"
            + (f" on or before {until}" if until else "")
            + "; nothing to learn from"
        )
    if until is None:
        last = interactions["sold_at"].max()
        until = last.date() if isinstance(last, dt.datetime) else dt.date.today()
    return build_train_data(interactions, load_products(db), end_of_day_days(until), half_life_days)
