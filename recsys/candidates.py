"""Candidate sources for the ranker: each returns a customer's top-N items with score and rank.

Sources (all fitted on a `TrainData`, so on data strictly before a cutoff when the ranker
builds its training windows):
- `buy_again`: the customer's own items by recency-weighted purchase count;
- `ease`: EASE over the most bought recent items (`ease_items`), l2 `ease_l2`;
- `knn`: item-kNN (cosine of buyer sets);
- `together`: bought in the same order, P(j | i) over orders, recency-weighted over own items;
- `popular`: most distinct buyers in the last `popular_days`;
- `trending`: buyers in the last `popular_days` against the `popular_days` before (growth);
- `category`: the customer's category shares x each category's recent best sellers;
- `uknn`: user-kNN over TIFU vectors (`recsys.uknn`); its score is given for every candidate
  (0 = none of the neighbours bought it), its rank only for its own top-N;
- `two_tower`: the two-tower model's scores (retrieved through `recsys.index` for serving).
The union of the sources is the ranker's candidate set (the ceiling of its recall).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.base import top_k
from recsys.baselines import ItemKNN, ease_weights
from recsys.data import TrainData
from recsys.errors import RecsysError
from recsys.feature_names import EVERY_ROW, SOURCES
from recsys.uknn import UserKNN


@dataclass(frozen=True)
class SourceConfig:
    """Per-source depth and settings (days are calendar days before the cutoff)."""

    n: int = 40
    n_buy_again: int = 150
    n_popular: int = 20
    ease_l2: float = 250.0
    ease_items: int = 2000
    knn_neighbours: int = 100
    together_neighbours: int = 50
    together_half_life_days: float = 60.0
    popular_days: float = 14.0
    category_days: float = 30.0
    uknn_k: int = 50
    use_two_tower: bool = False

    def __post_init__(self) -> None:
        if (
            min(
                self.n,
                self.n_popular,
                self.ease_items,
                self.knn_neighbours,
                self.together_neighbours,
                self.uknn_k,
            )
            < 1
        ):
            raise RecsysError("SourceConfig: depths and neighbour counts must be at least 1")


def _buyers(data: TrainData, since: float, until: float) -> np.ndarray:
    ev = data.events.filter((pl.col("t_days") >= since) & (pl.col("t_days") < until))
    per_item = ev.select("user", "item").unique().group_by("item").len()
    out = np.zeros(data.n_items, np.float32)
    out[per_item["item"].to_numpy()] = per_item["len"].to_numpy()
    return out


def together_matrix(data: TrainData, neighbours: int) -> sp.csr_matrix:
    """[n_items, n_items] P(j in order | i in order), top `neighbours` per row, no diagonal."""
    ev = data.events
    orders = sp.csr_matrix(
        (np.ones(ev.height, np.float32), (ev["order"].to_numpy(), ev["item"].to_numpy())),
        shape=(int(ev["order"].to_numpy().max(initial=0)) + 1, data.n_items),
    )
    orders.data[:] = 1.0
    co = (orders.T @ orders).tocsr().astype(np.float32)
    freq = co.diagonal().copy()
    co.setdiag(0)
    co.eliminate_zeros()
    co = sp.diags(1.0 / np.maximum(freq, 1.0)).astype(np.float32) @ co
    co = co.tocsr()
    rows, cols, vals = [], [], []
    for i in range(co.shape[0]):
        lo, hi = co.indptr[i], co.indptr[i + 1]
        if hi == lo:
            continue
        keep = np.argsort(-co.data[lo:hi])[:neighbours]
        rows.append(np.full(keep.size, i))
        cols.append(co.indices[lo:hi][keep])
        vals.append(co.data[lo:hi][keep])
    if not rows:
        return sp.csr_matrix(co.shape, dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=co.shape
    )


@dataclass
class Sources:
    """Fitted candidate sources over one `TrainData` (`fit_sources`)."""

    config: SourceConfig
    as_of: float
    ease: np.ndarray
    knn: ItemKNN
    together: sp.csr_matrix
    popular: np.ndarray
    trending: np.ndarray
    category_best: np.ndarray  # [n_items] recent buyers share within the item's category
    category_codes: np.ndarray  # [n_items] int category code
    uknn: UserKNN
    two_tower: object | None = None
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the sources this set runs (two-tower only when a model is given)."""
        return tuple(s for s in SOURCES if s != "two_tower" or self.two_tower is not None)

    def sparse_scorers(self, data: TrainData) -> dict[str, Callable[[np.ndarray], sp.spmatrix]]:
        """Sources whose scores are sparse enough to rank without a dense matrix: users [n] ->
        [n, n_items] sparse (0 = not retrieved), the same values as `scorers`."""
        weighted = data.weighted()
        return {"buy_again": lambda u: weighted[u], "uknn": lambda u: self.uknn.scores(data, u)}

    def _recent(self, data: TrainData) -> sp.csr_matrix:
        key = f"recent-{self.config.together_half_life_days}"
        if key not in data._cache:
            ages = data.events.select(
                "user",
                "item",
                w=0.5 ** ((data.as_of - pl.col("t_days")) / self.config.together_half_life_days),
            )
            data._cache[key] = sp.csr_matrix(
                (
                    ages["w"].to_numpy().astype(np.float32),
                    (ages["user"].to_numpy(), ages["item"].to_numpy()),
                ),
                shape=(data.n_users, data.n_items),
            )
        out = data._cache[key]
        assert isinstance(out, sp.csr_matrix)
        return out

    def scorers(self, data: TrainData) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
        """Per source, users [n] -> dense scores [n, n_items] (0 or -inf = not retrieved)."""
        weighted = data.weighted()
        binary = (data.counts() > 0).astype(np.float32)
        recent = self._recent(data)
        n_cats = int(self.category_codes.max()) + 1 if self.category_codes.size else 1
        onehot = sp.csr_matrix(
            (np.ones(data.n_items, np.float32), (np.arange(data.n_items), self.category_codes)),
            shape=(data.n_items, n_cats),
        )
        cat_counts = (data.counts() @ onehot).tocsr()

        def dense(m: sp.spmatrix) -> np.ndarray:
            return np.asarray(m.todense(), dtype=np.float32)

        def category(users: np.ndarray) -> np.ndarray:
            shares = dense(cat_counts[users])
            shares /= np.maximum(shares.sum(axis=1, keepdims=True), 1.0)
            return shares[:, self.category_codes] * self.category_best[None, :]

        out: dict[str, Callable[[np.ndarray], np.ndarray]] = {
            "buy_again": lambda u: dense(weighted[u]),
            "ease": lambda u: np.asarray(binary[u] @ self.ease, dtype=np.float32),
            "knn": lambda u: dense(weighted[u] @ self.knn.similarity),
            "together": lambda u: dense(recent[u] @ self.together),
            "popular": lambda u: np.broadcast_to(self.popular, (len(u), data.n_items)),
            "trending": lambda u: np.broadcast_to(self.trending, (len(u), data.n_items)),
            "category": category,
            "uknn": lambda u: dense(self.uknn.scores(data, u)),
        }
        if self.two_tower is not None:
            tower = self.two_tower
            out["two_tower"] = lambda u: tower.score(data, u)  # type: ignore[attr-defined]
        return out


def fit_sources(
    data: TrainData, config: SourceConfig = SourceConfig(), two_tower: object | None = None
) -> Sources:
    """Fit every source on `data` (only events before `data.as_of` exist in it)."""
    end = data.as_of
    recent90 = _buyers(data, end - 90, end)
    n_ease = min(config.ease_items, int((recent90 > 0).sum()) or 1)
    ease_items = np.argsort(-recent90, kind="stable")[:n_ease]
    ease = ease_weights(data.counts(), config.ease_l2, ease_items)
    knn = ItemKNN(config.knn_neighbours).fit(data)
    together = together_matrix(data, config.together_neighbours)
    now = _buyers(data, end - config.popular_days, end)
    before = _buyers(data, end - 2 * config.popular_days, end - config.popular_days)
    popular = now + 1e-3 * recent90
    trending = (now + 1.0) / (before + 1.0) * np.log1p(now)
    codes = data.catalogue.products["category"].cast(pl.Categorical).to_physical().to_numpy()
    codes = np.nan_to_num(codes.astype(np.float64), nan=0).astype(np.int64)
    month = _buyers(data, end - config.category_days, end)
    cat_total = np.bincount(codes, weights=month, minlength=codes.max() + 1)
    category_best = (month / np.maximum(cat_total[codes], 1.0)).astype(np.float32)
    return Sources(
        config,
        end,
        ease,
        knn,
        together,
        popular.astype(np.float32),
        trending.astype(np.float32),
        category_best,
        codes,
        UserKNN.fit(data, config.uknn_k),
        two_tower if config.use_two_tower else None,
    )


def _depth(cfg: SourceConfig, name: str) -> int:
    if name == "buy_again":
        return cfg.n_buy_again
    return cfg.n_popular if name in ("popular", "trending") else cfg.n


@dataclass(frozen=True)
class Candidates:
    """The union of the sources' top-N lists, one row per (user, item).

    Attributes:
        user, item: [rows] int64, sorted by user then item.
        scores, ranks: source name -> [rows] float32 (NaN / 0 when the source did not
            retrieve the item; ranks start at 1).
    """

    user: np.ndarray
    item: np.ndarray
    scores: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]

    @property
    def size(self) -> int:
        """Number of (customer, product) candidate rows."""
        return int(self.user.size)


def _sparse_top(m: sp.csr_matrix, rows: np.ndarray, depth: int) -> tuple[np.ndarray, ...]:
    """Per row of a sparse [len(rows), n_items] score matrix: its top `depth` positive entries,
    best first (ties: lower item id), as (row position, item, score, rank from 1)."""
    m = m.tocsr()
    m.sum_duplicates()
    lens = np.diff(m.indptr)
    row = np.repeat(np.arange(m.shape[0]), lens)
    keep = m.data > 0
    row, col, val = row[keep], m.indices[keep].astype(np.int64), m.data[keep].astype(np.float32)
    order = np.lexsort((col, -val, row))
    row, col, val = row[order], col[order], val[order]
    starts = np.r_[0, np.flatnonzero(np.diff(row)) + 1] if row.size else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, row.size])
    rank = np.arange(row.size) - np.repeat(starts, sizes) + 1
    top = rank <= depth
    return rows[row[top]], col[top], val[top], rank[top]


def _dense_top(scores: np.ndarray, rows: np.ndarray, depth: int) -> tuple[np.ndarray, ...]:
    """`_sparse_top` of dense [len(rows), n_items] scores (entries <= 0 never retrieved)."""
    scores = np.array(scores, dtype=np.float32)
    scores[scores <= 0] = -np.inf
    ids, best = top_k(scores, depth)
    ok = ids >= 0
    rank = np.broadcast_to(np.arange(1, depth + 1), ids.shape)
    return np.repeat(rows, depth)[ok.ravel()], ids[ok], best[ok], rank[ok]


def generate(
    sources: Sources,
    data: TrainData,
    users: np.ndarray,
    exclude: dict[str, bool] | None = None,
    batch_size: int = 2048,
) -> Candidates:
    """Top-N per source for `users` (index of `data`) and their union."""
    users = np.asarray(users, dtype=np.int64)
    names = [s for s in sources.names if not (exclude or {}).get(s)]
    scorers = sources.scorers(data)
    sparse = sources.sparse_scorers(data)
    cfg = sources.config
    parts: dict[str, list[tuple[np.ndarray, ...]]] = {s: [] for s in names}
    every: dict[str, list[sp.csr_matrix]] = {s: [] for s in names if s in EVERY_ROW}
    shared = {  # the same list for every customer: computed once
        name: _dense_top(scorers[name](users[:1]), np.zeros(1, np.int64), _depth(cfg, name))
        for name in names
        if name in ("popular", "trending")
    }
    for start in range(0, len(users), batch_size):
        chunk = users[start : start + batch_size]
        for name in names:
            depth = _depth(cfg, name)
            if name in shared:
                _, col, val, rank = shared[name]
                got = (
                    np.repeat(chunk, col.size),
                    *(np.tile(a, len(chunk)) for a in shared[name][1:]),
                )
            elif name in sparse:
                matrix = sparse[name](chunk)
                if name in every:
                    every[name].append(sp.csr_matrix(matrix))
                got = _sparse_top(matrix, chunk, depth)
            else:
                got = _dense_top(scorers[name](chunk), chunk, depth)
            parts[name].append(got)
    flat: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name in names:
        u, i, v, r = (np.concatenate([p[j] for p in parts[name]]) for j in range(4))
        flat[name] = (u.astype(np.int64) * data.n_items + i, v, r)
    union = (
        np.unique(np.concatenate([f[0] for f in flat.values()])) if flat else np.zeros(0, np.int64)
    )
    scores_out: dict[str, np.ndarray] = {}
    ranks_out: dict[str, np.ndarray] = {}
    for name in names:
        k, v, r = flat[name]
        score = np.full(union.size, np.nan, np.float32)
        rank = np.zeros(union.size, np.float32)
        if k.size:
            pos = np.searchsorted(union, k)
            score[pos] = v
            rank[pos] = r.astype(np.float32)
        if name in every and union.size:
            order = np.argsort(users)  # row of each candidate's customer in `users`
            rows = order[np.searchsorted(users, union // data.n_items, sorter=order)]
            stacked = sp.vstack(every[name]).tocsr()
            score = np.asarray(stacked[rows, union % data.n_items], np.float32).ravel()
        scores_out[name] = score
        ranks_out[name] = rank
    return Candidates(union // data.n_items, union % data.n_items, scores_out, ranks_out)


def source_recall(
    cands: Candidates, relevant: sp.csr_matrix, users: np.ndarray, n_items: int
) -> dict[str, float]:
    """Per source and for the union: mean share of a user's relevant items retrieved.

    `relevant` rows align with `users`; users without relevant items are skipped.
    """
    row_of = {int(u): r for r, u in enumerate(users)}
    rel = relevant.tocsr()
    n_rel = np.diff(rel.indptr)
    keep = n_rel > 0
    rel_keys = (
        np.concatenate(
            [
                users[r] * n_items + rel.indices[rel.indptr[r] : rel.indptr[r + 1]]
                for r in range(len(users))
            ]
        )
        if len(users)
        else np.zeros(0)
    )
    out: dict[str, float] = {}
    cand_keys = cands.user * n_items + cands.item
    for name in [*cands.scores, "union"]:
        got = cand_keys if name == "union" else cand_keys[cands.ranks[name] > 0]
        hit = np.isin(rel_keys, got)
        per_user = np.zeros(len(users))
        np.add.at(
            per_user,
            np.array([row_of[int(k // n_items)] for k in rel_keys], np.int64)
            if rel_keys.size
            else np.zeros(0, np.int64),
            hit,
        )
        out[name] = float(np.mean(per_user[keep] / n_rel[keep])) if keep.any() else float("nan")
    return out
