"""Exact and approximate retrieval agree; approximate recall is measured, not assumed."""

from __future__ import annotations

import numpy as np

from recsys.index import (
    ExactIndex,
    HnswIndex,
    IndexConfig,
    IvfIndex,
    build_index,
    recall_against_exact,
)


def _unit(n: int, dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_matches_brute_force() -> None:
    items, queries = _unit(500, 16, 0), _unit(7, 16, 1)
    ids, scores = ExactIndex(items, block=3).search(queries, 5)
    expected = np.argsort(-(queries @ items.T), axis=1)[:, :5]
    assert (ids == expected).all()
    assert np.allclose(scores, np.take_along_axis(queries @ items.T, expected, axis=1))


def test_approximate_indexes_find_most_exact_neighbours() -> None:
    items, queries = _unit(5000, 16, 2), _unit(50, 16, 3)
    exact, _ = ExactIndex(items).search(queries, 10)
    for index in (HnswIndex(items), IvfIndex(items, n_probe=32)):
        approx, _ = index.search(queries, 10)
        assert recall_against_exact(approx, exact) > 0.8, index.name
    assert recall_against_exact(exact[:, ::-1], exact) == 1.0
    assert recall_against_exact(np.full_like(exact, -1), exact) == 0.0


def test_threshold_picks_the_index() -> None:
    items = _unit(2000, 8, 4)
    assert build_index(items, IndexConfig(exact_max_items=2000)).name == "exact"
    approx = build_index(items, IndexConfig(exact_max_items=1999))
    assert approx.name == "faiss-ivf"
    exact, _ = ExactIndex(items).search(items[:20], 5)
    assert recall_against_exact(approx.search(items[:20], 5)[0], exact) > 0.9
