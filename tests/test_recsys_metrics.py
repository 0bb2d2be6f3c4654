"""Ranking metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.metrics import coverage, ranking_metrics


def test_metrics_by_hand() -> None:
    # user 0: relevant {1, 4}; list [1, 2, 4] -> hits at ranks 1 and 3
    # user 1: relevant {0}; list [3, 2, 1] -> no hit; user 2 has nothing relevant (skipped)
    relevant = sp.csr_matrix(np.array([[0, 1, 0, 0, 1], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]))
    recs = np.array([[1, 2, 4], [3, 2, 1], [0, 1, 2]])
    m = ranking_metrics(recs, relevant)
    assert m["recall"] == pytest.approx((2 / 2 + 0) / 2)
    dcg = 1 + 1 / math.log2(4)
    assert m["ndcg"] == pytest.approx((dcg / (1 + 1 / math.log2(3)) + 0) / 2)
    assert m["hit_rate"] == pytest.approx(0.5)
    assert m["map"] == pytest.approx(((1 / 1 + 2 / 3) / 2 + 0) / 2)


def test_padding_never_hits_and_coverage() -> None:
    relevant = sp.csr_matrix(np.array([[1, 0, 0]]))
    recs = np.array([[-1, -1, 0]])
    assert ranking_metrics(recs, relevant)["recall"] == pytest.approx(1.0)
    assert coverage(np.array([[0, 1], [1, -1]]), 4) == pytest.approx(0.5)
