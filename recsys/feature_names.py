"""The ranker's feature and source names: what a saved ranker was trained on.

Plain tuples with no imports, so that the registry's light readers (`recsys.manifest`, asked by
the app's sidebar on every page run) can tell whether a saved ranker fits this code without
importing numpy, scipy or LightGBM. `recsys.features` and `recsys.candidates` re-export them.
"""

from __future__ import annotations

SOURCES = (
    "buy_again",
    "ease",
    "knn",
    "together",
    "popular",
    "trending",
    "category",
    "uknn",
    "two_tower",
)
#: Sources whose score is a feature of every candidate, not only of the ones they retrieve.
EVERY_ROW = ("uknn",)

PAIR = (
    "ux_orders",
    "ux_quantity",
    "ux_days_since_last",
    "ux_days_since_first",
    "ux_mean_gap",
    "ux_cycle_ratio",
    "ux_weighted",
    "ux_bought",
    "ux_order_share",
    "ux_orders_90",
    "ux_orders_30",
    "ux_in_last_orders",
)
ITEM = (
    "i_buyers_7",
    "i_buyers_30",
    "i_buyers_90",
    "i_trend",
    "i_price",
    "i_category",
    "i_buyers_all",
    "i_age",
    "i_repeat_share",
    "i_mean_quantity",
)
USER = (
    "u_orders",
    "u_days_since_last",
    "u_basket_size",
    "u_items",
    "u_spend",
    "u_days_active",
    "u_category_share",
)
SOURCE_FEATURES = tuple(f"{s}_{kind}" for s in SOURCES for kind in ("score", "rank"))
FEATURES = PAIR + ITEM + USER + SOURCE_FEATURES
CATEGORICAL = ("i_category",)
