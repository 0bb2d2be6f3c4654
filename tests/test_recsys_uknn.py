"""User-kNN over TIFU vectors (the `uknn` candidate source): the weights, no customer as their
own neighbour, a customer outside the pool (a basket), and leakage through the source."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from recsys.candidates import SourceConfig, fit_sources, generate
from recsys.data import TrainData, build_train_data, cut_before, end_of_day_days
from recsys.uknn import UserKNN, tifu_vectors

UNTIL = dt.date(2025, 3, 31)


def _data(orders: list[tuple[str, list[int]]]) -> TrainData:
    """Customers' orders in the given sequence, one day apart; 6 products."""
    rows = []
    for n, (customer, items) in enumerate(orders):
        day = dt.datetime(2025, 1, 1) + dt.timedelta(days=n)
        rows += [(customer, f"P{i}", f"O{n}", day, 1.0) for i in items]
    interactions = pl.DataFrame(
        rows, schema=["customer_id", "product_id", "order_id", "sold_at", "quantity"], orient="row"
    )
    products = pl.DataFrame(
        {
            "product_id": [f"P{i}" for i in range(6)],
            "description": [f"THING {i}" for i in range(6)],
            "category": ["a", "a", "a", "b", "b", "b"],
            "unit_price": [1.0] * 6,
            "first_sold_on": [dt.date(2025, 1, 1)] * 6,
        }
    )
    return build_train_data(interactions, products, end_of_day_days(UNTIL))


def test_tifu_weights_decay_within_and_across_groups() -> None:
    # orders oldest -> newest: {0}, {1}, {2}; groups of 2 from the newest: [{2}, {1}], [{0}]
    data = _data([("A", [0]), ("A", [1]), ("A", [2])])
    got = tifu_vectors(data, group=2, r_b=0.5, r_g=0.25).toarray()[0]
    # newest group: (1 * {2} + 0.5 * {1}) / 2; older group: 0.25 * {0} / 1; mean of 2 groups
    np.testing.assert_allclose(got[:3], [0.25 / 2, 0.5 / 2 / 2, 1.0 / 2 / 2])
    assert got[3:].sum() == 0


def test_a_customer_is_never_their_own_neighbour_and_a_basket_has_no_self() -> None:
    data = _data([("A", [0, 1]), ("B", [0, 1, 2]), ("C", [3, 4]), ("D", [0, 5])])
    knn = UserKNN.fit(data, k=1)
    scores = knn.scores(data, np.arange(4)).toarray()
    # A's nearest other customer is B (same items plus 2); C has no neighbour sharing an item
    np.testing.assert_allclose(scores[0], tifu_vectors(data, *knn.params).toarray()[1])
    assert scores[2].sum() == 0
    basket = _data([("__basket__", [0, 1])])  # same items as A, not in the pool: A is nearest
    np.testing.assert_allclose(
        knn.scores(basket, np.array([0])).toarray()[0], tifu_vectors(data, *knn.params).toarray()[0]
    )


def test_uknn_scores_every_candidate_and_ignores_sales_after_the_cutoff() -> None:
    orders = [(c, [i % 6, (i + 1) % 6]) for i, c in enumerate("ABCDEFABCDEF")]
    data = _data(orders)
    cutoff = data.events["t_days"].min() + 8.0
    late = _data([*orders, ("A", [3, 4, 5]), ("B", [5])])  # later sales only
    got = []
    for source in (data, late):
        before = cut_before(source, cutoff)
        sources = fit_sources(before, SourceConfig(n=2, n_popular=2))
        cands = generate(sources, before, np.arange(before.n_users))
        got.append((cands.user, cands.item, cands.scores["uknn"], cands.ranks["uknn"]))
    for a, b in zip(*got, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.isnan(got[0][2]).any()  # a score for every candidate, retrieved or not
    assert (got[0][3] == 0).any() and (got[0][3] > 0).any()
