"""Path contributions (`recsys.paths`): exact sums, and equal to TreeSHAP where they must be."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from recsys.paths import path_contributions, path_tables


def _booster(leaves: int, objective: str = "regression") -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2_000, 6))
    x[rng.random(x.shape) < 0.1] = np.nan
    y = np.nan_to_num(x[:, 0]) * 2 + np.nan_to_num(x[:, 1] * x[:, 2]) + rng.normal(0, 0.1, 2000)
    if objective == "binary":
        y = (y > 0).astype(float)
    params = {"objective": objective, "num_leaves": leaves, "verbose": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=30)
    return booster, x


def test_contributions_sum_to_the_raw_score() -> None:
    for objective in ("regression", "binary"):
        booster, x = _booster(15, objective)
        tables = path_tables(booster)
        contrib = path_contributions(booster, tables, x[:300])
        raw = booster.predict(x[:300], raw_score=True)
        np.testing.assert_allclose(tables.bias + contrib.sum(axis=1), raw, rtol=1e-5, atol=1e-5)
        big = path_contributions(booster, tables, np.tile(x, (20, 1)))  # the looped path
        np.testing.assert_allclose(big[: len(x)][:300], contrib, rtol=1e-6, atol=1e-6)


def test_stumps_equal_treeshap() -> None:
    """With one split per tree both methods credit the split's feature with the same move."""
    booster, x = _booster(2)
    contrib = path_contributions(booster, path_tables(booster), x[:200])
    shap = booster.predict(x[:200], pred_contrib=True)[:, :-1]
    np.testing.assert_allclose(contrib, shap, rtol=1e-5, atol=1e-6)
