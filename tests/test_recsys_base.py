"""The shared contract every recommender honours (two-tower, blend and each baseline)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from recsys.base import NO_ITEM, BaseRecommender, Filters, Recommender, top_k
from recsys.baselines import BuyAgain, Ease, ItemKNN, PopularityRecent
from recsys.blend import BlendRecommender
from recsys.data import TrainData, build_train_data, end_of_day_days
from recsys.train import TwoTowerConfig, TwoTowerRecommender

N_USERS, N_ITEMS = 40, 15
UNTIL = dt.date(2025, 3, 31)


def small_data(seed: int = 0) -> TrainData:
    """Two taste groups (even / odd items), 40 customers, 90 days, items 13-14 never sold."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(N_USERS):
        group = user % 2
        for order in range(int(rng.integers(2, 6))):
            day = dt.datetime(2025, 1, 1) + dt.timedelta(days=int(rng.integers(0, 90)), hours=order)
            for item in rng.choice(np.arange(group, 13, 2), size=2, replace=False):
                rows.append((f"C{user:03d}", f"P{item:02d}", f"O{user}-{order}", day, 1.0))
    interactions = pl.DataFrame(
        rows, schema=["customer_id", "product_id", "order_id", "sold_at", "quantity"], orient="row"
    )
    products = pl.DataFrame(
        {
            "product_id": [f"P{i:02d}" for i in range(N_ITEMS)],
            "description": [f"{'RED' if i % 2 else 'BLUE'} THING {i}" for i in range(N_ITEMS)],
            "category": ["odd" if i % 2 else "even" for i in range(N_ITEMS)],
            "unit_price": [1.0 + i for i in range(N_ITEMS)],
            "first_sold_on": [dt.date(2025, 1, 1)] * N_ITEMS,
        }
    )
    return build_train_data(interactions, products, end_of_day_days(UNTIL))


def tiny_two_tower() -> TwoTowerRecommender:
    return TwoTowerRecommender(
        TwoTowerConfig(dim=8, epochs=3, batch_size=16, val_days=0, show_progress=False, seed=3)
    )


MODELS = {
    "popularity-recent": lambda: PopularityRecent(window_days=30),
    "buy-again": BuyAgain,
    "item-knn": lambda: ItemKNN(neighbours=5),
    "ease": Ease,
    "two-tower": tiny_two_tower,
    "blend": lambda: BlendRecommender(tiny_two_tower()),
}


@pytest.fixture(scope="module")
def data() -> TrainData:
    return small_data()


@pytest.fixture(scope="module", params=sorted(MODELS))
def fitted(request: pytest.FixtureRequest, data: TrainData) -> BaseRecommender:
    return MODELS[request.param]().fit(data)


def test_is_a_recommender(fitted: BaseRecommender) -> None:
    assert isinstance(fitted, Recommender)
    assert fitted.name


def test_scores_cover_the_catalogue(fitted: BaseRecommender, data: TrainData) -> None:
    scores = fitted.score(data, np.array([0, 1, 2]))
    assert scores.shape == (3, N_ITEMS)
    assert np.isfinite(scores).all()


def test_recommend_shapes_and_order(fitted: BaseRecommender, data: TrainData) -> None:
    users = np.arange(N_USERS)
    ids, scores = fitted.recommend(data, users, k=5)
    assert ids.shape == scores.shape == (N_USERS, 5)
    assert (ids >= 0).all() and (ids < N_ITEMS).all()
    assert (np.diff(scores, axis=1) <= 1e-6).all(), "best first"
    assert all(len(set(row)) == 5 for row in ids), "no duplicates"
    # the list is the top of the score row
    full = fitted.score(data, users)
    assert np.allclose(np.sort(full, axis=1)[:, ::-1][:, :5], scores, atol=1e-5)


def test_exclude_seen_is_honoured(fitted: BaseRecommender, data: TrainData) -> None:
    users = np.arange(N_USERS)
    ids, _ = fitted.recommend(data, users, k=N_ITEMS, filters=Filters(exclude_seen=True))
    seen = data.counts()
    for user in users:
        bought = set(seen[user].indices)
        listed = set(ids[user][ids[user] != NO_ITEM])
        assert not bought & listed
        assert len(listed) == N_ITEMS - len(bought), "every other item is still ranked"


def test_item_mask_is_honoured(fitted: BaseRecommender, data: TrainData) -> None:
    mask = np.zeros(N_ITEMS, dtype=bool)
    mask[[1, 4, 14]] = True
    ids, scores = fitted.recommend(data, np.arange(5), k=6, filters=Filters(item_mask=mask))
    assert set(ids[ids != NO_ITEM].tolist()) <= {1, 4, 14}
    assert (ids[:, 3:] == NO_ITEM).all() and np.isneginf(scores[:, 3:]).all()


def test_similar_items_exclude_the_query(fitted: BaseRecommender, data: TrainData) -> None:
    ids, scores = fitted.similar_items(data, np.array([0, 3]), k=4)
    assert ids.shape == (2, 4)
    assert 0 not in ids[0] and 3 not in ids[1]


def test_deterministic(data: TrainData) -> None:
    for name, make in MODELS.items():
        a = make().fit(data).score(data, np.arange(N_USERS))
        b = make().fit(data).score(data, np.arange(N_USERS))
        assert np.allclose(a, b, atol=1e-6), name


def test_buy_again_ranks_own_items_first(data: TrainData) -> None:
    model = BuyAgain().fit(data)
    ids, _ = model.recommend(data, np.array([0]), k=N_ITEMS)
    bought = set(data.counts()[0].indices)
    assert set(ids[0][: len(bought)]) == bought


def test_top_k_pads_and_breaks_ties_by_id() -> None:
    ids, scores = top_k(np.array([[1.0, 3.0, 3.0, -np.inf]]), 5)
    assert ids.tolist() == [[1, 2, 0, NO_ITEM, NO_ITEM]]
    assert scores[0, :3].tolist() == [3.0, 3.0, 1.0]


def test_blend_puts_own_items_first_in_buy_again_order(data: TrainData) -> None:
    blend = BlendRecommender(tiny_two_tower()).fit(data)
    buy_again = BuyAgain().fit(data)
    users = np.arange(N_USERS)
    ids_blend, _ = blend.recommend(data, users, k=N_ITEMS)
    again = buy_again.score(data, users)
    for user in users:
        own = set(data.counts()[user].indices.tolist())
        first = ids_blend[user][: len(own)]
        assert set(first.tolist()) == own
        assert (np.diff(again[user][first]) <= 0).all(), "buy-again order (ties: model)"
    # new-item lists (own excluded) are the model's, not popularity's
    new_blend, _ = blend.recommend(data, users, k=3, filters=Filters(exclude_seen=True))
    model_only = blend.model_scores(data, users)
    assert new_blend[0, 0] == max(
        set(range(N_ITEMS)) - set(data.counts()[0].indices), key=lambda i: model_only[0, i]
    )
