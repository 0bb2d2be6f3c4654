"""Ranker features of (customer, product) candidates, computed only from a `TrainData`.

Customer x product features include the share of the customer's orders holding the item,
its orders in the last 90 / 30 days and in the customer's last 3 orders (buy-again's signals).
Every feature reads `data.events` (sales strictly before `data.as_of`) and the catalogue's
attributes (category, price); nothing reads `dim_product.first_sold_on` or any later sale, so
a sale at or after the cutoff cannot change a feature (tests/test_recsys_ranker.py plants one).
Times are days; "age" = days before `data.as_of`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from recsys.candidates import Candidates
from recsys.data import TrainData
from recsys.feature_names import CATEGORICAL as CATEGORICAL  # re-exported: the feature names
from recsys.feature_names import FEATURES as FEATURES
from recsys.feature_names import ITEM as ITEM
from recsys.feature_names import PAIR as PAIR
from recsys.feature_names import SOURCE_FEATURES as SOURCE_FEATURES
from recsys.feature_names import USER as USER


@dataclass(frozen=True)
class Tables:
    """Per pair / item / user statistics of one `TrainData` (see `tables`)."""

    pair_keys: np.ndarray  # sorted user * n_items + item
    pair: np.ndarray  # [n_pairs, len(PAIR)]
    item: np.ndarray  # [n_items, len(ITEM)]
    user: np.ndarray  # [n_users, len(USER) - 1]
    user_category: np.ndarray  # [n_users, n_categories] share of the customer's orders
    category_codes: np.ndarray  # [n_items]


def _per_item(ev: pl.DataFrame, n: int, since: float | None, as_of: float) -> np.ndarray:
    if since is not None:
        ev = ev.filter(pl.col("t_days") >= as_of - since)
    grouped = ev.select("user", "item").unique().group_by("item").len()
    out = np.zeros(n, np.float32)
    out[grouped["item"].to_numpy()] = grouped["len"].to_numpy()
    return out


#: `TrainData._cache` key of the per-item statistics `[n_items, n]`: a basket's data is seeded
#: with the serving data's, so one ad-hoc customer does not recount the whole catalogue.
ITEM_TABLE_KEY = "ranker-item-table"


def _item_table(
    data: TrainData, pair: pl.DataFrame, price: np.ndarray, category_codes: np.ndarray
) -> np.ndarray:
    """Per-item statistics of `data`, `[n_items, 10]` float32 (buyers in 7/30/90 days, trend,
    price, category, buyers, days since first sale, repeat share, mean quantity)."""
    ev, now, n_items = data.events, data.as_of, data.n_items
    b7, b30, b90 = (_per_item(ev, n_items, d, now) for d in (7.0, 30.0, 90.0))
    prev30 = _per_item(ev.filter(pl.col("t_days") < now - 30), n_items, 30.0, now - 30)
    first_sale = np.full(n_items, np.nan, np.float32)
    per_item = ev.group_by("item").agg(first=pl.col("t_days").min(), qty=pl.col("quantity").mean())
    first_sale[per_item["item"].to_numpy()] = now - per_item["first"].to_numpy()
    mean_qty = np.full(n_items, np.nan, np.float32)
    mean_qty[per_item["item"].to_numpy()] = per_item["qty"].to_numpy()
    buyers_all = _per_item(ev, n_items, None, now)
    repeaters = pair.filter(pl.col("orders") > 1).group_by("item").len()
    repeat = np.zeros(n_items, np.float32)
    repeat[repeaters["item"].to_numpy()] = repeaters["len"].to_numpy()
    return np.column_stack(
        [
            b7,
            b30,
            b90,
            (b30 + 1) / (prev30 + 1),
            price,
            category_codes.astype(np.float32),
            buyers_all,
            first_sale,
            repeat / np.maximum(buyers_all, 1),
            mean_qty,
        ]
    ).astype(np.float32)


def tables(data: TrainData, category_codes: np.ndarray) -> Tables:
    """Statistics of `data` the feature rows are read from (cached on `data`)."""
    cached = data._cache.get("ranker-tables")
    if isinstance(cached, Tables):
        return cached
    ev = data.events
    now = data.as_of
    n_items, n_users = data.n_items, data.n_users
    # the customer's order sequence: 1 = most recent order
    recency = (
        ev.select("user", "order")
        .unique()
        .with_columns(back=pl.col("order").rank("dense", descending=True).over("user"))
    )
    pair = (
        ev.join(recency, on=["user", "order"], how="left")
        .group_by("user", "item")
        .agg(
            orders=pl.len(),
            quantity=pl.col("quantity").sum(),
            last=pl.col("t_days").max(),
            first=pl.col("t_days").min(),
            weighted=(0.5 ** ((now - pl.col("t_days")) / data.half_life_days)).sum(),
            o90=(pl.col("t_days") >= now - 90).sum(),
            o30=(pl.col("t_days") >= now - 30).sum(),
            last3=(pl.col("back") <= 3).sum(),
        )
        .with_columns(key=pl.col("user").cast(pl.Int64) * n_items + pl.col("item"))
        .sort("key")
    )
    user_orders = np.zeros(n_users, np.float32)
    per_user_orders = recency.group_by("user").len()
    user_orders[per_user_orders["user"].to_numpy()] = per_user_orders["len"].to_numpy()
    orders = pair["orders"].to_numpy().astype(np.float32)
    since_last = (now - pair["last"].to_numpy()).astype(np.float32)
    since_first = (now - pair["first"].to_numpy()).astype(np.float32)
    gap = np.where(orders > 1, (since_first - since_last) / np.maximum(orders - 1, 1), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = since_last / gap
    pair_arr = np.column_stack(
        [
            orders,
            pair["quantity"].to_numpy(),
            since_last,
            since_first,
            gap,
            ratio,
            pair["weighted"].to_numpy(),
            np.ones_like(orders),
            orders / np.maximum(user_orders[pair["user"].to_numpy()], 1.0),
            pair["o90"].to_numpy(),
            pair["o30"].to_numpy(),
            pair["last3"].to_numpy(),
        ]
    ).astype(np.float32)

    price = data.catalogue.products["unit_price"].to_numpy().astype(np.float32)
    item_arr = data._cache.get(ITEM_TABLE_KEY)
    if not isinstance(item_arr, np.ndarray):
        item_arr = _item_table(data, pair, price, category_codes)

    spend = ev.with_columns(
        value=ev["quantity"].to_numpy() * np.nan_to_num(price)[ev["item"].to_numpy()]
    )
    per_user = spend.group_by("user").agg(
        orders=pl.col("order").n_unique(),
        last=pl.col("t_days").max(),
        first=pl.col("t_days").min(),
        lines=pl.len(),
        items=pl.col("item").n_unique(),
        spend=pl.col("value").sum(),
    )
    user_arr = np.full((n_users, len(USER) - 1), np.nan, np.float32)
    rows = per_user["user"].to_numpy()
    n_orders = per_user["orders"].to_numpy().astype(np.float32)
    user_arr[rows] = np.column_stack(
        [
            n_orders,
            now - per_user["last"].to_numpy(),
            per_user["lines"].to_numpy() / n_orders,
            per_user["items"].to_numpy(),
            per_user["spend"].to_numpy(),
            per_user["last"].to_numpy() - per_user["first"].to_numpy(),
        ]
    )
    n_cats = int(category_codes.max()) + 1 if category_codes.size else 1
    user_cat = np.zeros((n_users, n_cats), np.float32)
    np.add.at(user_cat, (ev["user"].to_numpy(), category_codes[ev["item"].to_numpy()]), 1.0)
    user_cat /= np.maximum(user_cat.sum(axis=1, keepdims=True), 1.0)
    out = Tables(pair["key"].to_numpy(), pair_arr, item_arr, user_arr, user_cat, category_codes)
    data._cache["ranker-tables"] = out
    return out


def feature_matrix(data: TrainData, cands: Candidates, category_codes: np.ndarray) -> np.ndarray:
    """[cands.size, len(FEATURES)] float32 (NaN = missing: never bought, not retrieved)."""
    tab = tables(data, category_codes)
    n = cands.size
    keys = cands.user * data.n_items + cands.item
    pos = np.searchsorted(tab.pair_keys, keys)
    pos_ok = np.minimum(pos, max(tab.pair_keys.size - 1, 0))
    found = (tab.pair_keys[pos_ok] == keys) if tab.pair_keys.size else np.zeros(n, bool)
    pair = np.full((n, len(PAIR)), np.nan, np.float32)
    pair[found] = tab.pair[pos_ok[found]]
    pair[~found, PAIR.index("ux_bought")] = 0.0
    for name in (
        "ux_orders",
        "ux_order_share",
        "ux_orders_90",
        "ux_orders_30",
        "ux_in_last_orders",
    ):
        pair[~found, PAIR.index(name)] = 0.0
    user = np.column_stack(
        [tab.user[cands.user], tab.user_category[cands.user, tab.category_codes[cands.item]]]
    )
    source = np.full((n, len(SOURCE_FEATURES)), np.nan, np.float32)
    for j, name in enumerate(SOURCE_FEATURES):
        src, kind = name.rsplit("_", 1)
        if src in cands.scores:
            if kind == "score":
                source[:, j] = cands.scores[src]
            else:  # rank 0 = not in the source's own top-N
                source[:, j] = np.where(cands.ranks[src] > 0, cands.ranks[src], np.nan)
    return np.hstack([pair, tab.item[cands.item], user, source]).astype(np.float32)
