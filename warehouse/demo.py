"""Deterministic demo retailer: stores, products, customers, two years of sales, stock and supply.

At scale 1: 10 stores, 1,000 products in 13 categories, 20,000 customers, 730 days. Sales
carry weekly and yearly seasonality, a trend, UK holidays (closed on Christmas Day), price
promotions with uplift, a long tail of intermittent items, and customers with category tastes
and staple products they buy again. Stock is simulated day by day with a deliberately imperfect
(s, S) policy, so stockouts happen and cap sales (lost sales), as in a real shop.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import holidays
import numpy as np
import polars as pl
from tqdm import tqdm

from warehouse.build import MART_KEYS, build_marts, check_mart_keys
from warehouse.db import WarehouseError, execute, row_count, writing
from warehouse.demo_catalog import (
    CATEGORIES,
    WEEKDAY_PROFILE,
    category_season,
)
from warehouse.demo_entities import (
    BASKETS_PER_STORE_DAY,
    IDENTIFIED_SHARE,
    N_STAPLES,
    REPEAT_SHARE,
    SNAPSHOT_DAILY_TAIL,
    SOURCE,
    Catalogue,
    Customers,
    DemoConfig,
    Promotions,
    make_customers,
    make_products,
    make_promotions,
    make_stores,
)
from warehouse.load import new_load_id


def _calendar(cfg: DemoConfig) -> tuple[list[date], np.ndarray, np.ndarray]:
    """(dates, trip multiplier per day, category season [n_cat, n_days])."""
    days = [cfg.first_day + timedelta(days=i) for i in range(cfg.n_days)]
    uk = holidays.country_holidays("GB", years={d.year for d in days})
    doy = np.array([d.timetuple().tm_yday for d in days], dtype=np.float64)
    to_xmas = np.array([(date(d.year, 12, 25) - d).days for d in days], dtype=np.float64)
    weekday = WEEKDAY_PROFILE[[d.weekday() for d in days]]
    trend = 1.0 + 0.08 * np.arange(cfg.n_days) / 365.0
    yearly = 1.0 + 0.18 * np.cos(2 * np.pi * (doy - 350) / 365.25)
    holiday = np.array([1.25 if d in uk else 1.0 for d in days])
    holiday[[i for i, d in enumerate(days) if d.month == 12 and d.day == 25]] = 0.0
    return days, weekday * trend * yearly * holiday, category_season(doy, to_xmas)


def _sample_in_category(
    rng: np.random.Generator, cats: np.ndarray, by_cat: list[np.ndarray], cum: list[np.ndarray]
) -> np.ndarray:
    out = np.empty(len(cats), dtype=np.int64)
    for c in np.unique(cats):
        mask = cats == c
        pick = np.searchsorted(cum[c], rng.random(mask.sum()))
        out[mask] = by_cat[c][np.minimum(pick, len(by_cat[c]) - 1)]
    return out


def _simulate_stock(
    rng: np.random.Generator, demand: np.ndarray, cat: Catalogue
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day-by-day (s, S) replenishment with random lead times and lost sales.

    Args:
        demand: units wanted, [n_products, n_days].
    Returns:
        (units sold, on-hand at end of day, on-order at end of day), each [n_products, n_days].
    """
    n_p, n_d = demand.shape
    level = demand[:, :28].mean(axis=1) + 1e-3  # the shop's view of demand: 4-week EWMA
    lead = cat.lead_time_mean.astype(np.float64)
    # a deliberately imperfect policy: some items under-stocked, some over-stocked
    cover = rng.uniform(0.5, 1.6, size=n_p)
    cycle_days = rng.uniform(7, 21, size=n_p)
    on_hand = np.ceil(level * (lead + 1 + cycle_days))
    arrivals = np.zeros((n_p, n_d + 40))
    on_order = np.zeros(n_p)
    sold = np.zeros_like(demand, dtype=np.float32)
    hand_hist = np.zeros((n_p, n_d), dtype=np.float32)
    order_hist = np.zeros((n_p, n_d), dtype=np.float32)
    pack = cat.case_pack.astype(np.float64)
    for d in range(n_d):
        on_hand += arrivals[:, d]
        on_order -= arrivals[:, d]
        sold_d = np.minimum(demand[:, d], np.maximum(on_hand, 0))
        on_hand -= sold_d
        sold[:, d] = sold_d
        level += (demand[:, d] - level) / 28.0
        reorder_point = np.ceil(level * (lead + 1) * cover)
        order_up_to = reorder_point + np.ceil(level * cycle_days)
        position = on_hand + on_order
        need = position <= reorder_point
        if need.any():
            qty = np.ceil((order_up_to[need] - position[need]) / pack[need]) * pack[need]
            lt = np.clip(np.round(rng.normal(lead[need], 0.3 * lead[need])), 1, 39).astype(int)
            idx = np.flatnonzero(need)
            np.add.at(arrivals, (idx, d + lt), qty)
            on_order[need] += qty
        hand_hist[:, d] = on_hand
        order_hist[:, d] = on_order
    return sold, hand_hist, order_hist


def _store_sales(
    cfg: DemoConfig,
    rng: np.random.Generator,
    store: int,
    size: float,
    opening: int,
    trips: np.ndarray,
    season: np.ndarray,
    cat: Catalogue,
    cust: Customers,
    promo: Promotions,
    days: list[date],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sale lines and stock snapshots of one store."""
    n_d, n_cat, n_p = cfg.n_days, len(CATEGORIES), cfg.n_products
    rate = BASKETS_PER_STORE_DAY * size * trips
    rate[:opening] = 0.0
    baskets_per_day = rng.poisson(rate)
    basket_day = np.repeat(np.arange(n_d), baskets_per_day)
    n_b = len(basket_day)
    # who shops: mostly local customers, some from other stores; must have signed up
    local = np.flatnonzero(cust.home_store == store)
    pool = np.concatenate([local, rng.choice(len(cust.codes), size=max(1, len(local) // 4))])
    weights = cust.activity[pool] / cust.activity[pool].sum()
    customer = pool[np.searchsorted(np.cumsum(weights), rng.random(n_b)).clip(0, len(pool) - 1)]
    known = (rng.random(n_b) < IDENTIFIED_SHARE) & (cust.signup_day[customer] <= basket_day)
    customer = np.where(known, customer, -1)
    size_b = 1 + rng.poisson(1.9, size=n_b)
    slot_basket = np.repeat(np.arange(n_b), size_b)
    slot_day = basket_day[slot_basket]
    slot_cust = customer[slot_basket]
    n_s = len(slot_basket)
    product = np.empty(n_s, dtype=np.int64)
    repeat = (slot_cust >= 0) & (rng.random(n_s) < REPEAT_SHARE)
    product[repeat] = cust.staples[slot_cust[repeat], rng.integers(0, N_STAPLES, repeat.sum())]
    # category by taste (or the average shopper) x season, then product by popularity x promo
    fresh = ~repeat
    base = np.array([c.share for c in CATEGORIES]) * (
        np.bincount(cat.category, minlength=n_cat) > 0
    )
    taste = np.where((slot_cust[fresh] >= 0)[:, None], cust.taste[slot_cust[fresh].clip(0)], base)
    w = taste * season[:, slot_day[fresh]].T
    cum = np.cumsum(w, axis=1)
    u = rng.random(len(cum)) * cum[:, -1]
    cats = (u[:, None] > cum).sum(axis=1).clip(0, n_cat - 1)
    by_cat = [np.flatnonzero(cat.category == c) for c in range(n_cat)]
    cum_pop = [np.cumsum(cat.popularity[i]) / cat.popularity[i].sum() for i in by_cat]
    drawn = _sample_in_category(rng, cats, by_cat, cum_pop)
    # promotions pull demand: redraw from promoted items with probability = their boosted share
    disc = promo.discount[drawn, slot_day[fresh]]
    uplift = (1.0 - disc) ** -2.5 - 1.0
    extra = rng.random(len(drawn)) < uplift / (1.0 + uplift)
    product[fresh] = drawn
    qty_mean = np.array([c.qty_mean for c in CATEGORIES])[cat.category[product]]
    quantity = 1 + rng.poisson(qty_mean)
    # promoted items bought on promotion also get extra units (stock-up)
    fresh_idx = np.flatnonzero(fresh)
    quantity[fresh_idx[extra]] += rng.poisson(1.0, size=extra.sum())
    # stock: demand matrix -> simulation -> keep lines until the day's sellable units run out
    demand = np.bincount(product * n_d + slot_day, weights=quantity, minlength=n_p * n_d)
    demand = demand.reshape(n_p, n_d)
    sold, on_hand, on_order = _simulate_stock(rng, demand, cat)
    minute = np.clip(rng.normal(14 * 60, 150, size=n_b), 8 * 60, 21 * 60 - 1).astype(np.int64)
    order = np.lexsort((minute[slot_basket], slot_day, product))
    key = product[order] * n_d + slot_day[order]
    cum_qty = np.cumsum(quantity[order])
    group_start = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    starts = np.repeat(
        cum_qty[group_start] - quantity[order][group_start], np.diff(np.r_[group_start, len(key)])
    )
    keep_sorted = (cum_qty - starts) <= sold.reshape(-1)[key] + 1e-9
    keep = np.empty(n_s, dtype=bool)
    keep[order] = keep_sorted
    idx = np.flatnonzero(keep)
    first_rise = next((i for i, d in enumerate(days) if d.month == 1 and d.day == 1), n_d)
    list_price = cat.price[product[idx]] * (
        1 + cat.price_rise[product[idx]] * (slot_day[idx] >= first_rise)
    )
    paid = np.round(list_price * (1 - promo.discount[product[idx], slot_day[idx]]), 2)
    code = f"S{store + 1:03d}"
    b = slot_basket[idx]
    lines = pl.DataFrame(
        {
            "basket": b,
            "day": slot_day[idx],
            "minute": minute[b],
            "customer": slot_cust[idx],
            "product": product[idx],
            "quantity": quantity[idx].astype(np.float64),
            "unit_price": paid,
            "list_price": np.round(list_price, 2),
        }
    ).with_columns(
        (
            pl.lit(datetime.combine(days[0], datetime.min.time()))
            + pl.duration(days=pl.col("day"), minutes=pl.col("minute"))
        )
        .cast(pl.Datetime("us"))
        .alias("sold_at"),
        pl.concat_str([pl.lit(f"{code}-"), pl.col("basket").cast(pl.String).str.zfill(7)]).alias(
            "order_id"
        ),
    )
    # beyond scale 2 (100,000s of store x product pairs): the last quarter weekly, 4 weeks daily
    weekly_from, daily_tail = (0, SNAPSHOT_DAILY_TAIL) if cfg.scale <= 2 else (n_d - 91, 28)
    snap_days = [
        d
        for d in range(n_d)
        if d >= n_d - daily_tail or (days[d].weekday() == 6 and d >= weekly_from)
    ]
    snap_days = [d for d in snap_days if d >= opening]
    p_idx, d_idx = np.meshgrid(np.arange(n_p), np.array(snap_days), indexing="ij")
    stocked = (demand.sum(axis=1) > 0)[p_idx.ravel()]
    snapshots = pl.DataFrame(
        {
            "product": p_idx.ravel()[stocked],
            "day": d_idx.ravel()[stocked],
            "on_hand_units": on_hand[p_idx, d_idx].ravel()[stocked].astype(np.float64),
            "on_order_units": on_order[p_idx, d_idx].ravel()[stocked].astype(np.float64),
        }
    )
    return lines.with_columns(pl.lit(code).alias("store_code")), snapshots.with_columns(
        pl.lit(code).alias("store_code")
    )


#: Suppliers of the demo retailer (SUP01..SUP04), assigned by category.
DEMO_SUPPLIERS = 4


def _supply(
    cfg: DemoConfig, rng: np.random.Generator, cat: Catalogue, store_codes: list[str]
) -> pl.DataFrame:
    n = cfg.n_products
    product_rows = pl.DataFrame(
        {
            "source": SOURCE,
            "store_code": pl.Series([None] * n, dtype=pl.String),
            "product_code": cat.codes,
            "lead_time_mean_days": cat.lead_time_mean.astype(float),
            "lead_time_sd_days": np.round(cat.lead_time_mean * 0.3, 1),
            "order_cost": rng.choice([10.0, 15.0, 25.0, 40.0], size=n),
            "holding_cost_rate": rng.choice([0.2, 0.25, 0.3], size=n),
            "min_order_qty": np.where(rng.random(n) < 0.2, cat.case_pack * 2, cat.case_pack).astype(
                float
            ),
            "case_pack": cat.case_pack.astype(float),
            # four suppliers, each serving whole categories (no random draw: data unchanged)
            "supplier_code": [f"SUP{c % DEMO_SUPPLIERS + 1:02d}" for c in cat.category],
        }
    )
    # the last store is remote: two extra days of lead time on everything
    remote = product_rows.with_columns(
        pl.lit(store_codes[-1]).alias("store_code"),
        (pl.col("lead_time_mean_days") + 2).alias("lead_time_mean_days"),
    )
    return pl.concat([product_rows, remote])


def iter_tables(cfg: DemoConfig) -> Iterator[tuple[str, pl.DataFrame]]:
    """Raw tables of the demo retailer as (raw table name, frame) parts, store by store.

    Streaming the sales store by store keeps memory flat at large scales.
    """
    rng = np.random.default_rng(cfg.seed)
    cat, products = make_products(cfg, rng)
    size, opening, stores = make_stores(cfg, rng)
    cust, customers = make_customers(cfg, rng, size, cat)
    promo = make_promotions(cfg, rng, cat)
    days, trips, season = _calendar(cfg)
    yield "raw_store", stores
    yield "raw_product", products
    yield "raw_customer", customers
    yield "raw_promotion", promo.frame
    yield "raw_supply", _supply(cfg, rng, cat, stores["store_code"].to_list())
    product_codes = pl.Series("product_code", cat.codes, dtype=pl.String)
    customer_codes = pl.Series("customer_code", [None, *cust.codes], dtype=pl.String)
    for s in tqdm(range(cfg.n_stores), desc="demo stores", unit="store", leave=False):
        lines, snaps = _store_sales(
            cfg, rng, s, size[s], opening[s], trips, season, cat, cust, promo, days
        )
        lines = lines.sort("sold_at", "basket")
        yield (
            "raw_sales_line",
            lines.select(
                pl.format(
                    "D{}-{}",
                    pl.col("store_code"),
                    pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(8),
                ).alias("line_key"),
                pl.lit(SOURCE).alias("source"),
                "order_id",
                "sold_at",
                "store_code",
                customer_codes.gather(lines["customer"] + 1),
                product_codes.gather(lines["product"]),
                pl.lit(None, pl.String).alias("description"),
                "quantity",
                "unit_price",
                "list_price",
            ),
        )
        yield (
            "raw_inventory",
            snaps.select(
                pl.lit(SOURCE).alias("source"),
                "store_code",
                product_codes.gather(snaps["product"]),
                (pl.lit(days[0]) + pl.duration(days=pl.col("day")))
                .cast(pl.Date)
                .alias("snapshot_date"),
                "on_hand_units",
                "on_order_units",
            ),
        )


def generate(cfg: DemoConfig) -> dict[str, pl.DataFrame]:
    """All raw tables of the demo retailer in memory (small scales), keyed by raw table name."""
    parts: dict[str, list[pl.DataFrame]] = {}
    for name, frame in iter_tables(cfg):
        parts.setdefault(name, []).append(frame)
    return {name: pl.concat(frames) for name, frames in parts.items()}


def build_demo(db: str | os.PathLike[str] | None, cfg: DemoConfig) -> dict[str, int]:
    """Generate the demo retailer into a new warehouse file (replacing any, atomically).

    Returns:
        Row counts of the marts.
    """
    load_id = new_load_id()  # time-ordered, so later loads into this warehouse win
    with writing(db, fresh=True) as con:
        for name, frame in iter_tables(cfg):
            con.register("_frame", frame.with_columns(pl.lit(load_id).alias("load_id")))
            execute(con, f"INSERT INTO {name} BY NAME SELECT * FROM _frame")
            con.unregister("_frame")
            # Commit each part so memory stays flat at large scales (an open transaction holds
            # its inserts in memory). Atomicity is kept: this is writing()'s private copy,
            # which replaces the live file only when everything succeeded.
            execute(con, "COMMIT")
            execute(con, "BEGIN TRANSACTION")
        execute(con, "INSERT OR REPLACE INTO source_frequency VALUES ('demo', 'D')")
        build_marts(con)
        failures = check_mart_keys(con)
        if failures:
            raise WarehouseError("demo mart key tests failed: " + "; ".join(map(str, failures)))
        return {m: row_count(con, m) for m in MART_KEYS}


__all__ = ["DemoConfig", "build_demo", "generate", "iter_tables"]
