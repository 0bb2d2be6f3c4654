"""The one ranking path: single-customer, basket and batch lists all go through `rank_lists`.

Steps, the same for one customer or ten thousand: model scores (the ranker's candidates above
everything else, or the legacy blend for a model version without a ranker) -> business rules
(exclude purchased, in stock, categories, price, allow / block) -> diversity (at most N per
category) -> top-k -> reasons. The ranker's candidates and predictions for every customer of
the serving data are computed once per serving state (`serving_ranked`, in chunks by
`recsys.ranked.RankBuild`), so a list is a lookup plus the rules.
"""

from __future__ import annotations

import threading
import weakref
from functools import partial
from typing import Any

import numpy as np

from recsys.base import Filters, apply_filters, top_k
from recsys.data import TrainData
from recsys.features import FEATURES
from recsys.ranked import RankBuild
from recsys.ranked import Ranked as Ranked  # re-exported: the ranking path's types
from recsys.ranked import rank_all as rank_all
from recsys.ranker import RankerRecommender
from recsys.reasons import explained_feature, partners, reason_text


def serving_ranked(state: Any, users: np.ndarray | None) -> Ranked:
    """`Ranked` of the serving data: every customer (built once per state, in chunks), or,
    while that is not built, just `users` when they are fewer than the customers left to rank
    (a page or API request right after start-up or a refresh, a segment's bulk list); the
    build is paused meanwhile and, in a server, runs in the background (`RankBuild`)."""
    return rank_build(state).ranked(users, background=_BACKGROUND)


_BUILD_LOCK = threading.Lock()  # guards the creation of a state's RankBuild


def rank_build(state: Any) -> RankBuild:
    """The state's `RankBuild` over every customer of its serving data (made once)."""
    build: RankBuild | None = state.__dict__.get("_rank_build")
    if build is None:
        with _BUILD_LOCK:
            build = state.__dict__.get("_rank_build")
            if build is None:
                build = RankBuild(
                    partial(rank_all, state.rank_model, state.data),
                    np.unique(state.data.events["user"].to_numpy()),
                )
                state.__dict__["_rank_build"] = build
                weakref.finalize(state, build.stop)  # a replaced state, once unused, stops it
    return build


_BACKGROUND = False


def rank_in_background(enabled: bool = True) -> None:
    """Let a request start the ranking of every customer in a background thread
    (`serving_ranked`). Long-lived servers only (the app launcher, the API): a command line
    exits long before it would finish (`recsys.ranked` stops a build between two chunks at
    exit, but a command has no use for it)."""
    global _BACKGROUND
    _BACKGROUND = enabled


def dense_scores(state: Any, data: TrainData, users: np.ndarray) -> np.ndarray:
    """[n, n_items] float32: ranker candidates in (BAND, BAND + 1], popularity below."""
    ranker: RankerRecommender | None = state.rank_model
    if ranker is None:
        return state.ranker.score(data, users)
    ranked: Ranked = state.ranked_for(data, users)
    assert ranker.sources is not None
    pop = ranker.sources.popular / max(float(ranker.sources.popular.max()), 1e-9) * 0.999
    out = np.broadcast_to(pop.astype(np.float32), (len(users), data.n_items)).copy()
    lo, sizes = ranked.ptr[users], ranked.ptr[users + 1] - ranked.ptr[users]
    rows = np.repeat(np.arange(len(users)), sizes)
    at = np.repeat(lo - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
    out[rows, ranked.item[at]] = ranked.unit[at]
    return out


def pick(
    scores: np.ndarray, k: int, categories: np.ndarray, max_per_category: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Best-first ids [n, k] (-1 padding) and scores of each row, at most N per category."""
    if max_per_category is None:
        return top_k(scores, k)
    n = len(scores)
    ids = np.full((n, k), -1, np.int64)
    best = np.full((n, k), -np.inf, np.float32)
    depth = min(scores.shape[1], k * 20)
    cand, _ = top_k(scores, depth)
    for row in range(n):
        per: dict[Any, int] = {}
        j = 0
        order = cand[row][cand[row] >= 0]
        if order.size == depth and depth < scores.shape[1]:  # rare: need the whole row
            finite = np.flatnonzero(np.isfinite(scores[row]))
            order = finite[np.lexsort((finite, -scores[row, finite]))]
        for item in order:
            cat = categories[item]
            if per.get(cat, 0) < max_per_category:
                ids[row, j], best[row, j] = item, scores[row, item]
                per[cat] = per.get(cat, 0) + 1
                j += 1
                if j == k:
                    break
    return ids, best


def rank_lists(
    state: Any, data: TrainData, users: np.ndarray, k: int, rules: Any, masks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[list[str]], np.ndarray]:
    """Top-k lists of `users` of `data` after every rule.

    Args:
        masks: [n, n_items] or [n_items] bool, items the rules allow (`service.rules_mask`).

    Returns:
        ids [n, k] (-1 padding), scores [n, k], reasons (one list per user), and the named
        feature index per row [n, k] (-1 = no ranker reason).
    """
    users = np.asarray(users, dtype=np.int64)
    scores = apply_filters(
        dense_scores(state, data, users), data, users, Filters(exclude_seen=rules.exclude_purchased)
    )
    scores[~np.broadcast_to(masks, scores.shape)] = -np.inf
    ids, best = pick(scores, k, state.categories, rules.max_per_category)
    reasons, named = explain(state, data, users, ids)
    return ids, best, reasons, named


def explain(
    state: Any, data: TrainData, users: np.ndarray, ids: np.ndarray
) -> tuple[list[list[str]], np.ndarray]:
    """Reasons of [n, k] recommended ids: the ranker's largest contribution, in words.

    A candidate's reason depends only on its features and the customer's own items, so it is
    computed the first time the candidate is listed and kept in the `Ranked` state.
    """
    n, k = ids.shape
    named = np.full((n, k), -1, np.int64)
    ranker: RankerRecommender | None = state.rank_model
    if ranker is None:
        return state.legacy_reasons(data, users, ids), named
    ranked: Ranked = state.ranked_for(data, users)
    rr, cc = np.nonzero(ids >= 0)
    keys = users[rr] * data.n_items + ids[rr, cc]
    all_keys = ranked.keys
    pos = np.minimum(np.searchsorted(all_keys, keys), max(all_keys.size - 1, 0))
    hit = all_keys[pos] == keys if all_keys.size else np.zeros(len(keys), bool)
    todo = np.unique(pos[hit][ranked.named[pos[hit]] < 0])
    if todo.size:
        _explain_rows(state, ranker, data, ranked, todo)
    text = np.full((n, k), None, dtype=object)
    text[rr, cc] = "popular with customers now"
    named[rr[hit], cc[hit]] = ranked.named[pos[hit]]
    text[rr[hit], cc[hit]] = ranked.text[pos[hit]]
    counts = (ids >= 0).sum(axis=1).tolist()
    flat = text[rr, cc].tolist()  # row-major: each row's listed items, best first
    ends = np.cumsum(counts).tolist()
    return [flat[e - c : e] for c, e in zip(counts, ends, strict=True)], named


def _explain_rows(
    state: Any, ranker: RankerRecommender, data: TrainData, ranked: Ranked, rows: np.ndarray
) -> None:
    """Fill `ranked.named` / `ranked.text` of candidate `rows` (path contributions)."""
    assert ranker.model is not None and ranker.sources is not None
    x = ranked.x[rows]
    feat = explained_feature(ranker.model.contributions(x))
    ranked.named[rows] = feat
    users = ranked.keys[rows] // data.n_items
    items = ranked.item[rows]
    own = data.counts()
    names = [FEATURES[f] for f in feat]
    prefix = np.array([f.split("_")[0] for f in names])
    partner = np.full(len(rows), -1, np.int64)
    for src, weights in (
        ("together", ranker.sources.together),
        ("ease", ranker.sources.ease),
        ("knn", ranker.sources.knn.similarity),
    ):
        sel = prefix == src
        if src == "ease":
            sel |= prefix == "two"
        if sel.any():
            partner[sel] = partners(own, users[sel], items[sel], weights)
    desc, cats = state.descriptions, state.categories
    for t in range(len(rows)):
        item = items[t]
        ranked.text[rows[t]] = reason_text(
            names[t], x[t], str(cats[item]), desc[partner[t]] if partner[t] >= 0 else None
        )
