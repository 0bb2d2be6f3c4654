"""The recommender contract every model honours (two-tower, baselines, blend).

A model is fitted on a `TrainData` and then scores users of any `TrainData` over the same
catalogue (the training data for evaluation, today's data when serving, or a one-user basket).
Scores are "higher is better" and comparable only within one user's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Self, runtime_checkable

import numpy as np

from recsys.data import TrainData
from recsys.errors import RecsysError

NO_ITEM = -1


@dataclass(frozen=True)
class Filters:
    """Which items may be returned.

    Attributes:
        exclude_seen: drop items the user bought in the scoring data.
        item_mask: [n_items] bool, True = allowed (None = all).
    """

    exclude_seen: bool = False
    item_mask: np.ndarray | None = None


@runtime_checkable
class Recommender(Protocol):
    """fit once; score / recommend users; similar items."""

    name: str

    def fit(self, data: TrainData) -> Self: ...

    def score(self, data: TrainData, users: np.ndarray) -> np.ndarray:
        """[len(users), data.n_items] float32 scores for user indices of `data`."""
        ...

    def recommend(
        self, data: TrainData, users: np.ndarray, k: int, filters: Filters | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def similar_items(
        self, data: TrainData, items: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]: ...


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-k of [n, m] scores, best first; -inf entries become NO_ITEM.

    Returns:
        ids [n, k] int64 (NO_ITEM padding), scores [n, k] float32 (-inf padding).
    """
    n, m = scores.shape
    k_eff = min(k, m)
    if k_eff == 0:
        return np.full((n, k), NO_ITEM, np.int64), np.full((n, k), -np.inf, np.float32)
    part = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)  # by score desc, then id asc (stable ties)
    ids = np.take_along_axis(part, order, axis=1).astype(np.int64)
    best = np.take_along_axis(part_scores, order, axis=1).astype(np.float32)
    ids[~np.isfinite(best)] = NO_ITEM
    if k_eff < k:
        ids = np.pad(ids, ((0, 0), (0, k - k_eff)), constant_values=NO_ITEM)
        best = np.pad(best, ((0, 0), (0, k - k_eff)), constant_values=-np.inf)
    return ids, best


def apply_filters(
    scores: np.ndarray, data: TrainData, users: np.ndarray, filters: Filters
) -> np.ndarray:
    """Scores with disallowed items set to -inf (in place on a float copy)."""
    out = np.array(scores, dtype=np.float32, copy=True)
    if filters.item_mask is not None:
        if filters.item_mask.shape != (data.n_items,):
            raise RecsysError(
                f"filters.item_mask: shape {filters.item_mask.shape}, expected ({data.n_items},)"
            )
        out[:, ~filters.item_mask] = -np.inf
    if filters.exclude_seen:
        seen = data.counts()[users]
        rows = np.repeat(np.arange(len(users)), np.diff(seen.indptr))
        out[rows, seen.indices] = -np.inf
    return out


class BaseRecommender:
    """Shared `recommend` (score, filter, top-k) and a co-purchase `similar_items`."""

    name = "base"

    def fit(self, data: TrainData) -> Self:  # pragma: no cover - overridden
        raise NotImplementedError

    def score(self, data: TrainData, users: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def recommend(
        self,
        data: TrainData,
        users: np.ndarray,
        k: int,
        filters: Filters | None = None,
        batch_size: int = 4096,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items per user: ids [n, k] (NO_ITEM padding), scores [n, k]."""
        if k < 1:
            raise RecsysError(f"k: must be at least 1, got {k}")
        users = np.asarray(users, dtype=np.int64)
        filters = filters or Filters()
        ids = np.empty((len(users), k), np.int64)
        best = np.empty((len(users), k), np.float32)
        for start in range(0, len(users), batch_size):
            chunk = users[start : start + batch_size]
            scores = apply_filters(self.score(data, chunk), data, chunk, filters)
            ids[start : start + len(chunk)], best[start : start + len(chunk)] = top_k(scores, k)
        return ids, best

    def item_similarity(self, data: TrainData, items: np.ndarray) -> np.ndarray:
        """[len(items), n_items] cosine similarity of buyer sets (co-purchase)."""
        counts = data.counts()
        binary = (counts > 0).astype(np.float32).tocsc()
        norms = np.sqrt(np.asarray(binary.sum(axis=0)).ravel()) + 1e-9
        cols = binary[:, items]
        sims = np.asarray((cols.T @ binary).todense(), dtype=np.float32)
        return sims / norms[items][:, None] / norms[None, :]

    def similar_items(
        self, data: TrainData, items: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k other items per query item: ids [n, k], scores [n, k]."""
        items = np.asarray(items, dtype=np.int64)
        sims = self.item_similarity(data, items).astype(np.float32)
        sims[np.arange(len(items)), items] = -np.inf
        return top_k(sims, k)
