"""Entities of the demo retailer: its size (`DemoConfig`), products, stores, customers, promotions.

`warehouse.demo` draws the sales and stock of these entities day by day and builds the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from warehouse.db import WarehouseError
from warehouse.demo_catalog import (
    ADJECTIVES,
    CATEGORIES,
    REGIONS,
    TOWNS,
    VARIANTS,
)

SOURCE = "demo"
N_DAYS = 730
FIRST_DAY = date(2024, 11, 1)
BASKETS_PER_STORE_DAY = 95.0
IDENTIFIED_SHARE = 0.72
REPEAT_SHARE = 0.38
N_STAPLES = 8
SNAPSHOT_DAILY_TAIL = 91  # daily stock snapshots for the last 91 days, weekly (Sundays) before


@dataclass(frozen=True)
class DemoConfig:
    """Size and seed of the demo retailer."""

    scale: float = 1.0
    seed: int = 42
    first_day: date = FIRST_DAY
    n_days: int = N_DAYS

    def __post_init__(self) -> None:
        if not 0.01 <= self.scale <= 100:
            raise WarehouseError(f"--scale must be between 0.01 and 100, got {self.scale}")
        if self.n_days < 60:
            raise WarehouseError(f"n_days must be at least 60, got {self.n_days}")

    @property
    def n_stores(self) -> int:
        """Stores at this scale (10 at scale 1, at least 2)."""
        return max(2, round(10 * self.scale))

    @property
    def n_products(self) -> int:
        """Products at this scale (1,000 at scale 1, at least 50)."""
        return max(50, round(1000 * self.scale))

    @property
    def n_customers(self) -> int:
        """Customers at this scale (20,000 at scale 1, at least 200)."""
        return max(200, round(20000 * self.scale))


@dataclass
class Catalogue:
    """Products as arrays (index = product number)."""

    codes: list[str]
    category: np.ndarray  # int, [n_products]
    popularity: np.ndarray  # within-category draw weight, [n_products]
    price: np.ndarray  # list price GBP before the 2026 price rise
    price_rise: np.ndarray  # share added to list price from the first January in the data
    cost: np.ndarray
    lead_time_mean: np.ndarray  # days
    case_pack: np.ndarray


def make_products(cfg: DemoConfig, rng: np.random.Generator) -> tuple[Catalogue, pl.DataFrame]:
    """(products as arrays, raw_product frame): `cfg.n_products` products in 13 categories."""
    n = cfg.n_products
    shares = np.array([c.share for c in CATEGORIES])
    category = rng.choice(len(CATEGORIES), size=n, p=shares / shares.sum())
    popularity = rng.lognormal(0.0, 1.35, size=n)
    lo = np.array([CATEGORIES[c].price_range[0] for c in category])
    hi = np.array([CATEGORIES[c].price_range[1] for c in category])
    price = np.round(np.exp(rng.uniform(np.log(lo), np.log(hi))), 1) - 0.01
    price = np.maximum(price, 0.49)
    cost = np.round(price * rng.uniform(0.45, 0.72, size=n), 2)
    names = [
        f"{ADJECTIVES[rng.integers(len(ADJECTIVES))]} "
        f"{CATEGORIES[c].nouns[rng.integers(len(CATEGORIES[c].nouns))]} "
        f"{VARIANTS[rng.integers(len(VARIANTS))]}"
        for c in category
    ]
    codes = [f"P{i + 1:05d}" for i in range(n)]
    catalogue = Catalogue(
        codes=codes,
        category=category,
        popularity=popularity,
        price=price,
        price_rise=rng.choice([0.0, 0.0, 0.03, 0.05, 0.08], size=n),
        cost=cost,
        lead_time_mean=rng.choice(
            [2, 3, 5, 7, 10, 14], size=n, p=[0.1, 0.2, 0.25, 0.25, 0.12, 0.08]
        ),
        case_pack=rng.choice([1, 4, 6, 12, 24], size=n, p=[0.3, 0.15, 0.3, 0.2, 0.05]),
    )
    frame = pl.DataFrame(
        {
            "source": SOURCE,
            "product_code": codes,
            "description": names,
            "category": [CATEGORIES[c].name for c in category],
            "unit_price": price,
            "unit_cost": cost,
        }
    )
    return catalogue, frame


def make_stores(
    cfg: DemoConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, pl.DataFrame]:
    """(size factor, opening day index, raw_store frame)."""
    n = cfg.n_stores
    size = rng.lognormal(0.0, 0.35, size=n)
    opening = np.zeros(n, dtype=np.int64)
    opening[-1] = cfg.n_days // 4  # the newest store opens a quarter of the way in
    codes = [f"S{i + 1:03d}" for i in range(n)]
    names = [
        f"{TOWNS[i % len(TOWNS)]}{'' if i < len(TOWNS) else f' {i // len(TOWNS) + 1}'}"
        for i in range(n)
    ]
    frame = pl.DataFrame(
        {
            "source": SOURCE,
            "store_code": codes,
            "store_name": names,
            "region": [REGIONS[i % len(REGIONS)] for i in range(n)],
        }
    )
    return size, opening, frame


@dataclass
class Customers:
    """Customers as arrays."""

    codes: list[str]
    home_store: np.ndarray
    activity: np.ndarray
    signup_day: np.ndarray
    taste: np.ndarray  # [n_customers, n_categories], rows sum to 1
    staples: np.ndarray  # [n_customers, N_STAPLES] product numbers


def make_customers(
    cfg: DemoConfig, rng: np.random.Generator, store_size: np.ndarray, cat: Catalogue
) -> tuple[Customers, pl.DataFrame]:
    """(customers as arrays, raw_customer frame): home stores, tastes and staple products."""
    n, n_cat = cfg.n_customers, len(CATEGORIES)
    home = rng.choice(len(store_size), size=n, p=store_size / store_size.sum())
    activity = rng.lognormal(0.0, 0.8, size=n)
    signup = np.where(rng.random(n) < 0.6, 0, rng.integers(0, int(cfg.n_days * 0.8), size=n))
    shares = np.array([c.share for c in CATEGORIES])
    stocked = np.bincount(cat.category, minlength=n_cat) > 0  # tiny scales may leave one empty
    taste = (rng.gamma(shape=0.35 * shares * n_cat, size=(n, n_cat)) + 1e-6) * stocked
    taste /= taste.sum(axis=1, keepdims=True)
    # staples: products from the customer's favourite categories, weighted by popularity
    staple_cat = np.array([rng.choice(n_cat, size=N_STAPLES, p=t) for t in taste])
    staples = np.empty_like(staple_cat)
    by_cat = [np.flatnonzero(cat.category == c) for c in range(n_cat)]
    cum = [np.cumsum(cat.popularity[idx]) / cat.popularity[idx].sum() for idx in by_cat]
    for c in range(n_cat):
        mask = staple_cat == c
        if mask.any() and len(by_cat[c]):
            pick = np.searchsorted(cum[c], rng.random(mask.sum()))
            staples[mask] = by_cat[c][np.minimum(pick, len(by_cat[c]) - 1)]
    codes = [f"C{i + 1:06d}" for i in range(n)]
    segments = np.where(activity > 2.0, "loyal", np.where(activity < 0.5, "occasional", "regular"))
    frame = pl.DataFrame(
        {
            "source": SOURCE,
            "customer_code": codes,
            "home_store_code": [f"S{h + 1:03d}" for h in home],
            "region": [REGIONS[h % len(REGIONS)] for h in home],
            "segment": segments,
        }
    )
    return Customers(codes, home, activity, signup, taste, staples), frame


@dataclass
class Promotions:
    """Promotion events (every store) and the daily boost lookup."""

    frame: pl.DataFrame
    discount: np.ndarray  # [n_products, n_days], 0 when not on promotion


def make_promotions(cfg: DemoConfig, rng: np.random.Generator, cat: Catalogue) -> Promotions:
    """Price cuts of 10-50 % for 7 or 14 days on popular products, in every store."""
    n_p, n_d = cfg.n_products, cfg.n_days
    discount = np.zeros((n_p, n_d), dtype=np.float32)
    eligible = np.flatnonzero(cat.popularity > np.quantile(cat.popularity, 0.35))
    n_events = int(len(eligible) * 1.6)
    prods = rng.choice(eligible, size=n_events)
    starts = rng.integers(0, n_d - 14, size=n_events)
    lengths = rng.choice([7, 14], size=n_events, p=[0.7, 0.3])
    cuts = rng.choice([0.1, 0.2, 0.25, 0.33, 0.5], size=n_events, p=[0.25, 0.3, 0.2, 0.15, 0.1])
    for p, s, length, cut in zip(prods, starts, lengths, cuts, strict=True):
        discount[p, s : s + length] = np.maximum(discount[p, s : s + length], cut)
    frame = pl.DataFrame(
        {
            "source": SOURCE,
            "promotion_code": [f"PR{i + 1:05d}" for i in range(n_events)],
            "store_code": pl.Series([None] * n_events, dtype=pl.String),
            "product_code": [cat.codes[p] for p in prods],
            "start_date": [cfg.first_day + timedelta(days=int(s)) for s in starts],
            "end_date": [
                cfg.first_day + timedelta(days=int(s + ln - 1))
                for s, ln in zip(starts, lengths, strict=True)
            ],
            "discount_pct": (cuts * 100).round(0),
        }
    )
    # overlapping events of one product keep the deeper cut; drop events fully shadowed
    return Promotions(frame, discount)
