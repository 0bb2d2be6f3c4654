"""The one ranking path: single-customer, basket and batch lists all go through `rank_lists`.

Steps, the same for one customer or ten thousand: model scores (the ranker's candidates above
everything else, or the legacy blend for a model version without a ranker) -> business rules
(exclude purchased, in stock, categories, price, allow / block) -> diversity (at most N per
category) -> top-k -> reasons. The ranker's candidates and predictions for every customer of
the serving data are computed once per serving state (`serving_ranked`), so a list is a lookup
plus the rules.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from recsys.base import Filters, apply_filters, top_k
from recsys.data import TrainData
from recsys.features import FEATURES, feature_matrix
from recsys.ranker import BAND, RankerRecommender, rank_unit
from recsys.reasons import explained_feature, partners, reason_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ranked:
    """Candidates of every user of one `TrainData`, sorted by user; `ptr` [n_users + 1]."""

    item: np.ndarray
    unit: np.ndarray  # BAND + unit score per candidate
    x: np.ndarray  # [rows, F] features
    ptr: np.ndarray
    keys: np.ndarray  # [rows] user * n_items + item, sorted
    named: np.ndarray  # [rows] named feature of the reason (-1 = not explained yet)
    text: np.ndarray  # [rows] object: the reason (None = not explained yet)


def rank_all(ranker: RankerRecommender, data: TrainData, users: np.ndarray) -> Ranked:
    """Candidates, features and ranker scores of `users` (sorted) of `data`."""
    users = np.sort(np.asarray(users, dtype=np.int64))
    assert ranker.model is not None and ranker.sources is not None
    from recsys.candidates import generate

    cands = generate(ranker.sources, data, users)
    x = feature_matrix(data, cands, ranker.sources.category_codes)
    pred = ranker.model.predict(x)
    ptr = np.zeros(data.n_users + 1, np.int64)
    np.add.at(ptr, cands.user + 1, 1)
    return Ranked(
        cands.item,
        BAND + rank_unit(cands.user, pred),
        x,
        np.cumsum(ptr),
        cands.user * data.n_items + cands.item,
        np.full(cands.size, -1, np.int64),
        np.full(cands.size, None, dtype=object),
    )


#: A list for at most this many customers, asked before every customer is ranked, ranks just
#: them (the same `rank_all`, milliseconds) while the full ranking builds in the background.
SUBSET_MAX_USERS = 256


def serving_ranked(state: Any, users: np.ndarray | None) -> Ranked:
    """`Ranked` of the serving data: every customer (built once per state; a bulk request waits
    for it), or, while that is not built, just `users` when they are few (a page or API request
    right after start-up or a refresh; it starts the full build in the background)."""
    cache = state.__dict__
    ranked: Ranked | None = cache.get("_ranked")
    if ranked is not None:
        return ranked
    lock: threading.Lock = cache.setdefault("_ranked_lock", threading.Lock())
    if users is not None and len(users) <= SUBSET_MAX_USERS:
        if _BACKGROUND and lock.acquire(blocking=False):
            threading.Thread(
                target=_rank_everyone, args=(state, lock), daemon=True, name="recsys-rank-all"
            ).start()
        return rank_all(state.rank_model, state.data, users)
    with lock:
        if "_ranked" not in cache:
            cache["_ranked"] = _rank_every_customer(state)
    return cast(Ranked, cache["_ranked"])


_BACKGROUND = False


def rank_in_background(enabled: bool = True) -> None:
    """Let a request for a few customers start the ranking of every customer in a background
    thread (`serving_ranked`). Long-lived servers only (the app launcher, the API): a command
    line exits long before it would finish, and a process that exits while a daemon thread is
    inside LightGBM or BLAS can abort ("terminate called without an active exception")."""
    global _BACKGROUND
    _BACKGROUND = enabled


def _rank_every_customer(state: Any) -> Ranked:
    """`rank_all` over every customer of the serving data."""
    return rank_all(state.rank_model, state.data, np.unique(state.data.events["user"].to_numpy()))


def _rank_everyone(state: Any, release: threading.Lock) -> None:
    """Background: rank every customer of the serving data into the state, then `release`."""
    try:
        if "_ranked" not in state.__dict__:
            state.__dict__["_ranked"] = _rank_every_customer(state)
    except Exception as exc:  # noqa: BLE001 - requests rank their own customers meanwhile
        log.warning("recsys: ranking every customer failed: %s", exc)
    finally:
        release.release()


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
