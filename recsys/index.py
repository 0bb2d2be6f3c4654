"""Retrieval over item vectors: exact inner-product top-K, or faiss IVF above a size threshold.

Vectors are L2-normalised, so inner product = cosine. The approximate index's recall@K against
exact search is measured by `recall_against_exact` (and reported by bench/bench_recsys.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from recsys.base import top_k
from recsys.errors import RecsysError


@dataclass(frozen=True)
class IndexConfig:
    """When and how to go approximate.

    Attributes:
        exact_max_items: catalogues up to this size use exact search.
        ivf_probe: IVF cells searched per query (the index used above the threshold).
        hnsw_m: HNSW graph degree; ef_construction / ef_search: build / query beam widths.
    """

    exact_max_items: int = 50_000
    ivf_probe: int = 64
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 128

    def __post_init__(self) -> None:
        if (
            min(
                self.exact_max_items,
                self.ivf_probe,
                self.hnsw_m,
                self.ef_construction,
                self.ef_search,
            )
            < 1
        ):
            raise RecsysError("IndexConfig: every value must be at least 1")


class VectorIndex(Protocol):
    name: str

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """ids [n, k] (-1 padding) and inner products [n, k] of the best items per query."""
        ...


class ExactIndex:
    """Brute-force matrix product in blocks of queries."""

    name = "exact"

    def __init__(self, vectors: np.ndarray, block: int = 256) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.block = block

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        ids = np.empty((len(queries), k), np.int64)
        scores = np.empty((len(queries), k), np.float32)
        for start in range(0, len(queries), self.block):
            part = queries[start : start + self.block] @ self.vectors.T
            ids[start : start + len(part)], scores[start : start + len(part)] = top_k(part, k)
        return ids, scores


class HnswIndex:
    """faiss `IndexHNSWFlat` with the inner-product metric."""

    name = "faiss-hnsw"

    def __init__(self, vectors: np.ndarray, config: IndexConfig = IndexConfig()) -> None:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index = faiss.IndexHNSWFlat(
            vectors.shape[1], config.hnsw_m, faiss.METRIC_INNER_PRODUCT
        )
        self.index.hnsw.efConstruction = config.ef_construction
        self.index.hnsw.efSearch = config.ef_search
        self.index.add(vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        scores, ids = self.index.search(queries, k)
        return ids.astype(np.int64), scores.astype(np.float32)


class IvfIndex:
    """faiss `IndexIVFFlat` (inner product): k-means cells, `nprobe` cells searched per query."""

    name = "faiss-ivf"

    def __init__(
        self,
        vectors: np.ndarray,
        n_lists: int | None = None,
        n_probe: int = 16,
        train_sample: int = 100_000,
        seed: int = 0,
    ) -> None:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n_lists = n_lists or max(1, int(4 * np.sqrt(len(vectors))))
        quantiser = faiss.IndexFlatIP(vectors.shape[1])
        self.index = faiss.IndexIVFFlat(
            quantiser, vectors.shape[1], n_lists, faiss.METRIC_INNER_PRODUCT
        )
        rng = np.random.default_rng(seed)
        sample = vectors[rng.choice(len(vectors), min(train_sample, len(vectors)), replace=False)]
        self.index.train(sample)
        self.index.add(vectors)
        self.index.nprobe = n_probe
        self._quantiser = quantiser  # keep alive

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        scores, ids = self.index.search(queries, k)
        return ids.astype(np.int64), scores.astype(np.float32)


def build_index(vectors: np.ndarray, config: IndexConfig = IndexConfig()) -> VectorIndex:
    """Exact for small catalogues; IVF (nprobe 64) above `config.exact_max_items`.

    IVF, not HNSW: in bench/bench_recsys.py at 100k items IVF nprobe=64 reached recall@20 0.988
    at 1.3 ms/query, HNSW (M=16, ef=256) 0.848 at 1.9 ms, and IVF built 6x faster at 1M.
    """
    if len(vectors) <= config.exact_max_items:
        return ExactIndex(vectors)
    return IvfIndex(vectors, n_probe=config.ivf_probe)


def recall_against_exact(approx_ids: np.ndarray, exact_ids: np.ndarray) -> float:
    """Mean share of the exact top-K ids that the approximate search also returned."""
    hits = [
        len(set(a[a >= 0]) & set(e[e >= 0])) / max((e >= 0).sum(), 1)
        for a, e in zip(approx_ids, exact_ids, strict=True)
    ]
    return float(np.mean(hits)) if hits else float("nan")
