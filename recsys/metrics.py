"""Top-K ranking metrics with binary relevance (one row per user)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

METRICS = ("recall", "ndcg", "hit_rate", "map")


def hit_matrix(rec_ids: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """[n, k] bool: whether rec_ids[i, j] is relevant to user i (NO_ITEM = -1 never is)."""
    n, k = rec_ids.shape
    rows = np.repeat(np.arange(n), k)
    cols = rec_ids.ravel()
    valid = cols >= 0
    out = np.zeros(n * k, dtype=bool)
    out[valid] = np.asarray(relevant[rows[valid], cols[valid]]).ravel() > 0
    return out.reshape(n, k)


def ranking_metrics(rec_ids: np.ndarray, relevant: sp.csr_matrix) -> dict[str, float]:
    """Mean recall@K, NDCG@K, hit-rate@K and MAP@K over users with at least one relevant item.

    recall@K = hits / min(K, |relevant|) (so a perfect list scores 1); NDCG@K uses binary gains
    and the ideal DCG of min(K, |relevant|) hits; MAP@K = mean precision at each hit, divided by
    min(K, |relevant|).
    """
    n, k = rec_ids.shape
    n_rel = np.diff(relevant.indptr)
    keep = n_rel > 0
    if not keep.any():
        return {m: float("nan") for m in METRICS}
    hits = hit_matrix(rec_ids[keep], relevant[keep]).astype(np.float64)
    denom = np.minimum(n_rel[keep], k).astype(np.float64)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)[denom.astype(int) - 1]
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return {
        "recall": float(np.mean(hits.sum(axis=1) / denom)),
        "ndcg": float(np.mean((hits * discounts).sum(axis=1) / ideal)),
        "hit_rate": float(np.mean(hits.any(axis=1))),
        "map": float(np.mean((precision_at * hits).sum(axis=1) / denom)),
    }


def coverage(rec_ids: np.ndarray, n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    ids = rec_ids[rec_ids >= 0]
    return float(np.unique(ids).size / n_items) if n_items else float("nan")
