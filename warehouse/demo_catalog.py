"""Static catalogue of the demo retailer: categories, their seasonality, names and towns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Category:
    """One product category of the demo retailer.

    Attributes:
        name: category name shown to users.
        share: share of shopping trips that pick this category (before tastes).
        price_range: (low, high) list price in GBP.
        peak_day: day of year of the yearly peak (None: flat).
        amplitude: yearly seasonal swing (0.5 means +-50% around the mean).
        december_boost: extra multiplier in the four weeks before Christmas.
        qty_mean: mean extra units per line beyond the first.
        nouns: product nouns used to name items.
    """

    name: str
    share: float
    price_range: tuple[float, float]
    peak_day: int | None
    amplitude: float
    december_boost: float
    qty_mean: float
    nouns: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "Grocery",
        0.16,
        (0.8, 8),
        None,
        0.0,
        0.15,
        0.8,
        ("Pasta", "Rice", "Coffee", "Tea", "Cereal", "Olive Oil", "Soup", "Jam", "Honey"),
    ),
    Category(
        "Beverages",
        0.10,
        (0.9, 12),
        196,
        0.30,
        0.25,
        0.9,
        ("Sparkling Water", "Cola", "Lemonade", "Juice", "Iced Tea", "Cordial", "Tonic"),
    ),
    Category(
        "Snacks",
        0.09,
        (0.7, 6),
        None,
        0.0,
        0.30,
        0.6,
        ("Crisps", "Biscuits", "Chocolate Bar", "Popcorn", "Nuts", "Crackers", "Flapjack"),
    ),
    Category(
        "Household",
        0.10,
        (1.5, 18),
        None,
        0.0,
        0.05,
        0.4,
        ("Washing Liquid", "Sponges", "Bin Bags", "Kitchen Roll", "Bleach", "Dish Tabs"),
    ),
    Category(
        "Personal Care",
        0.09,
        (1.5, 25),
        None,
        0.0,
        0.20,
        0.3,
        ("Shampoo", "Toothpaste", "Body Wash", "Deodorant", "Hand Cream", "Razor"),
    ),
    Category(
        "Baby",
        0.04,
        (2.5, 30),
        None,
        0.0,
        0.05,
        0.5,
        ("Nappies", "Baby Wipes", "Baby Food", "Bottle", "Bib", "Baby Lotion"),
    ),
    Category(
        "Pet",
        0.05,
        (1.5, 40),
        None,
        0.0,
        0.10,
        0.6,
        ("Dog Food", "Cat Food", "Cat Litter", "Dog Treats", "Pet Toy", "Bird Seed"),
    ),
    Category(
        "Garden",
        0.06,
        (3, 60),
        150,
        0.75,
        0.0,
        0.3,
        ("Compost", "Plant Pot", "Seeds", "Hose", "Trowel", "Bird Feeder", "Solar Light"),
    ),
    Category(
        "Toys",
        0.06,
        (4, 50),
        355,
        0.35,
        1.10,
        0.1,
        ("Puzzle", "Building Blocks", "Board Game", "Plush Bear", "Toy Car", "Kite"),
    ),
    Category(
        "Kitchen",
        0.07,
        (3, 80),
        340,
        0.15,
        0.50,
        0.1,
        ("Mug", "Plate Set", "Frying Pan", "Mixing Bowl", "Cafetiere", "Tea Towel"),
    ),
    Category(
        "Home Decor",
        0.07,
        (4, 60),
        330,
        0.20,
        0.60,
        0.1,
        ("Candle", "Cushion", "Photo Frame", "Vase", "Throw", "Wall Clock", "Lantern"),
    ),
    Category(
        "Seasonal",
        0.04,
        (2, 40),
        352,
        1.20,
        2.50,
        0.3,
        (
            "Advent Calendar",
            "Wrapping Paper",
            "Christmas Card",
            "Bauble",
            "Tinsel",
            "Easter Egg",
            "Sunscreen",
        ),
    ),
    Category(
        "Stationery",
        0.07,
        (0.8, 15),
        245,
        0.35,
        0.20,
        0.3,
        ("Notebook", "Pen Set", "Pencils", "Sticky Notes", "Folder", "Glue Stick"),
    ),
)

ADJECTIVES: tuple[str, ...] = (
    "Classic",
    "Organic",
    "Premium",
    "Everyday",
    "Family",
    "Eco",
    "Deluxe",
    "Mini",
    "Large",
    "Vintage",
    "Fresh",
    "Natural",
    "Bright",
    "Cosy",
    "Smart",
    "Original",
    "Value",
    "Signature",
)
VARIANTS: tuple[str, ...] = (
    "Red",
    "Blue",
    "Green",
    "White",
    "Black",
    "Pink",
    "Lemon",
    "Mint",
    "Vanilla",
    "Berry",
    "x2",
    "x4",
    "x6",
    "x12",
    "250g",
    "500g",
    "1kg",
    "1L",
    "2L",
    "Small",
    "Medium",
    "Large",
)
TOWNS: tuple[str, ...] = (
    "Leeds",
    "York",
    "Bristol",
    "Bath",
    "Norwich",
    "Exeter",
    "Chester",
    "Durham",
    "Oxford",
    "Cambridge",
    "Brighton",
    "Harrogate",
    "Lincoln",
    "Ipswich",
    "Truro",
    "Carlisle",
    "Kendal",
    "Salisbury",
    "Winchester",
    "Hereford",
)
REGIONS: tuple[str, ...] = ("North", "South West", "East", "South East", "Midlands")

#: Mon..Sun multipliers of shopping trips.
WEEKDAY_PROFILE = np.array([0.86, 0.84, 0.90, 0.96, 1.12, 1.34, 0.98])


def category_season(day_of_year: np.ndarray, days_to_christmas: np.ndarray) -> np.ndarray:
    """Seasonal multiplier per category and day, shape [n_categories, n_days]."""
    rows = []
    for cat in CATEGORIES:
        season = np.ones_like(day_of_year, dtype=np.float64)
        if cat.peak_day is not None:
            season = season + cat.amplitude * np.cos(
                2 * np.pi * (day_of_year - cat.peak_day) / 365.25
            )
        ramp = np.clip(1 - days_to_christmas / 28.0, 0, 1) * (days_to_christmas >= 0)
        season = season * (1 + cat.december_boost * ramp)
        rows.append(np.clip(season, 0.05, None))
    return np.vstack(rows)
