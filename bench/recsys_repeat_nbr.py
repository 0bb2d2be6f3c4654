"""Repeat-mode (own-items) variants from next-basket recommendation, on the inner validation
split only (issue 14, fourth iteration): TIFU-KNN (Hu et al., SIGIR 2020), an empirical-Bayes
gamma-Poisson repurchase model, heavy-buyer trends, and training on heavy customers only.

Usage:
    python bench/recsys_repeat_nbr.py --db /tmp/or.duckdb --until 2010-09-30 --seeds 0 1 2

Same harness as `bench/recsys_repeat_variants.py`: the inner split trains on sales before
`until - horizon` and validates on the `horizon` days before `until` (the test period is never
read); each inner window's sources and features are fitted strictly before its cutoff; only
the customer's own candidates are ordered (the served repeat list). The extra features live
here because they are measured here first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

import numpy as np
import polars as pl
import scipy.sparse as sp
from recsys_accuracy import _inner_split
from recsys_repeat_variants import inner_parser, own_rows, repeat_metrics

from recsys.candidates import Candidates
from recsys.data import TrainData, cut_before
from recsys.evaluate import EvalConfig, make_split
from recsys.features import FEATURES
from recsys.ranker import RankerConfig, _train_booster
from recsys.uknn import tifu_vectors

HEAVY = 20  # own items above which a customer is "heavy" (96% of repeat purchases)


def tifu_neighbours(personal: sp.csr_matrix, users: np.ndarray, k: int) -> sp.csr_matrix:
    """[len(users), n_items] mean personal vector of each user's k most cosine-similar others
    (as `recsys.uknn.UserKNN.scores`, except that neighbours of similarity 0 count here)."""
    norm = np.sqrt(np.asarray(personal.multiply(personal).sum(axis=1)).ravel())
    unit = sp.diags(1.0 / np.maximum(norm, 1e-12)).astype(np.float32) @ personal
    sim = np.asarray((unit[users] @ unit.T).todense(), dtype=np.float32)
    sim[np.arange(len(users)), users] = -np.inf
    k = min(k, sim.shape[1] - 1)
    top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    pick = sp.csr_matrix(
        (
            np.full(top.size, 1.0 / k, np.float32),
            (np.repeat(np.arange(len(users)), k), top.ravel()),
        ),
        shape=(len(users), personal.shape[0]),
    )
    return (pick @ personal).tocsr()


def pair_values(m: sp.csr_matrix, rows: np.ndarray, cands: Candidates) -> np.ndarray:
    """Entries of `m` (rows indexed by position in `rows`) at each candidate."""
    pos = np.searchsorted(rows, cands.user)
    return np.asarray(m[pos, cands.item]).ravel().astype(np.float32)


def gamma_poisson(
    data: TrainData, cands: Candidates, horizon: float, shape: float, by_quantity: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(P(>= 1 purchase in the next `horizon` days), expected purchases) per own candidate.

    Repurchases after the first purchase are Poisson at a customer x item rate with a
    Gamma(shape, shape / item rate) prior; the item rate pools every customer's repurchases
    over their exposure (days since first bought), shrunk to all items with 30 days.
    `by_quantity` counts units instead of orders (the rate of units over the same exposure).
    """
    now = data.as_of
    pair = (
        data.events.group_by("user", "item")
        .agg(n=pl.len(), q=pl.col("quantity").clip(0).sum(), first=pl.col("t_days").min())
        .with_columns(
            exposure=(now - pl.col("first")).clip(1.0),
            rep=(pl.col("q") - pl.col("q") / pl.col("n")) if by_quantity else pl.col("n") - 1.0,
        )
    )
    per_item = pair.group_by("item").agg(rep=pl.col("rep").sum(), exp=pl.col("exposure").sum())
    total = float(per_item["rep"].sum()) / max(float(per_item["exp"].sum()), 1.0)
    rate = np.full(data.n_items, total)
    it = per_item["item"].to_numpy()
    rate[it] = (per_item["rep"].to_numpy() + 30.0 * total) / (per_item["exp"].to_numpy() + 30.0)
    pair = pair.with_columns(key=pl.col("user").cast(pl.Int64) * data.n_items + pl.col("item"))
    pair = pair.sort("key")
    keys = cands.user * data.n_items + cands.item
    pos = np.clip(np.searchsorted(pair["key"].to_numpy(), keys), 0, pair.height - 1)
    rep, exposure = pair["rep"].to_numpy()[pos], pair["exposure"].to_numpy()[pos]
    a = shape + rep
    b = shape / np.maximum(rate[cands.item], 1e-6) + exposure
    p_any = 1.0 - (b / (b + horizon)) ** a
    return p_any.astype(np.float32), (a / b * horizon).astype(np.float32)


def heavy_trend(data: TrainData, cands: Candidates) -> np.ndarray:
    """[n, 2] the item's distinct heavy buyers (> HEAVY own items) in the last 30 days and
    their growth against the 30 days before ((now + 1) / (before + 1))."""
    ev, now = data.events, data.as_of
    own = ev.select("user", "item").unique().group_by("user").len()
    heavy = own.filter(pl.col("len") > HEAVY)["user"]
    hev = ev.filter(pl.col("user").is_in(heavy.implode()))
    out = []
    for lo, hi in ((now - 30, now), (now - 60, now - 30)):
        per = (
            hev.filter((pl.col("t_days") >= lo) & (pl.col("t_days") < hi))
            .select("user", "item")
            .unique()
            .group_by("item")
            .len()
        )
        arr = np.zeros(data.n_items, np.float32)
        arr[per["item"].to_numpy()] = per["len"].to_numpy()
        out.append(arr)
    return np.column_stack([out[0], (out[0] + 1) / (out[1] + 1)])[cands.item]


EXTRA = (
    "tifu_personal",
    "tifu_neighbour",
    "tifu_blend",
    "gp_p_any",
    "gp_expected",
    "gp_q_expected",
    "i_heavy_buyers_30",
    "i_heavy_trend",
)


def nbr_features(
    data: TrainData, cands: Candidates, horizon: float, tifu: tuple, shape: float
) -> np.ndarray:
    """[cands.size, len(EXTRA)] from `data.events` only (sales before `data.as_of`)."""
    group, r_b, r_g, k, alpha = tifu
    users = np.unique(cands.user)
    personal = tifu_vectors(data, group, r_b, r_g)
    p = pair_values(personal[users], users, cands)
    q = pair_values(tifu_neighbours(personal, users, k), users, cands)
    gp = gamma_poisson(data, cands, horizon, shape)
    gq = gamma_poisson(data, cands, horizon, shape, by_quantity=True)
    return np.column_stack(
        [p, q, alpha * p + (1 - alpha) * q, gp[0], gp[1], gq[1], heavy_trend(data, cands)]
    ).astype(np.float32)


def main() -> None:
    parser = inner_parser(__doc__)
    parser.add_argument("--part", choices=("variants", "ceiling"), default="variants")
    args = parser.parse_args()
    if args.part == "ceiling":
        ceiling(args)
        return
    split = make_split(args.db, EvalConfig(until=dt.date.fromisoformat(args.until)))
    inner = _inner_split(split, args.horizon)
    data, h = inner.train, args.horizon
    start = time.process_time()
    xv, _, cv = own_rows(data, data.as_of, h, inner.users)
    xv = xv[:, : len(FEATURES)]  # the served features (own_rows appends the older extras)
    own_n = np.bincount(cv.user, minlength=data.n_users)
    heavy_v = own_n[inner.users] > HEAVY
    print(
        f"inner split: train before day {data.as_of:.0f}, {inner.users.size:,} validation "
        f"customers ({heavy_v.sum():,} heavy); load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )

    def show(name: str, got: list[tuple[float, float]], cpu: float | None = None) -> None:
        r = np.array(got)
        sd = r[:, 0].std(ddof=1) if len(r) > 1 else 0.0
        tail = f"{cpu:>8.1f}" if cpu is not None else ""
        print(f"{name:<60}{r[:, 0].mean():>9.4f}{r[:, 1].mean():>9.4f}{sd:>8.4f}{tail}", flush=True)

    counts = np.asarray(data.counts()[cv.user, cv.item]).ravel()
    popular = data.item_popularity(30.0)[cv.item]
    ties = 1e-3 * popular / max(popular.max(), 1.0)
    show("buy-again (counts, popularity ties)", [repeat_metrics(cv, counts + ties, inner)])
    units = gamma_poisson(data, cv, h, 1.0, by_quantity=True)[1]  # expected units (EB rate)
    qty = data.events.group_by("user", "item").agg(q=pl.col("quantity").clip(0).sum())
    q = sp.csr_matrix(
        (qty["q"].to_numpy(), (qty["user"].to_numpy(), qty["item"].to_numpy())),
        shape=(data.n_users, data.n_items),
    )
    q_own = np.asarray(q[cv.user, cv.item]).ravel()
    show("units bought (quantity-weighted frequency)", [repeat_metrics(cv, q_own + ties, inner)])
    show("gamma-Poisson expected units, shape 1", [repeat_metrics(cv, units + 1e-6 * ties, inner)])
    # 1) TIFU personal part, then neighbours, as a score on its own (tuned here, inner only)
    users_v = np.unique(cv.user)
    best = (-1.0, (7, 1.0, 0.8))
    for group in (3, 7, 15):
        for r_b in (0.9, 1.0):
            for r_g in (0.6, 0.8, 0.95):
                p = pair_values(tifu_vectors(data, group, r_b, r_g)[users_v], users_v, cv)
                got = repeat_metrics(cv, p + 1e-6 * ties, inner)
                show(f"TIFU personal m={group} r_b={r_b} r_g={r_g}", [got])
                if got[0] > best[0]:
                    best = (got[0], (group, r_b, r_g))
    group, r_b, r_g = best[1]
    personal = tifu_vectors(data, group, r_b, r_g)
    p = pair_values(personal[users_v], users_v, cv)
    best_knn = (best[0], (100, 1.0))
    for k in (50, 300, 1000):
        q = pair_values(tifu_neighbours(personal, users_v, k), users_v, cv)
        for alpha in (0.1, 0.3, 0.5, 0.7, 0.9):
            got = repeat_metrics(cv, alpha * p + (1 - alpha) * q + 1e-6 * ties, inner)
            show(f"TIFU-KNN m={group} r_b={r_b} r_g={r_g} k={k} alpha={alpha}", [got])
            if got[0] > best_knn[0]:
                best_knn = (got[0], (k, alpha))
    tifu = (group, r_b, r_g, *best_knn[1])
    # 2) gamma-Poisson repurchase model as a score on its own
    best_shape = (-1.0, 1.0)
    for shape in (0.3, 1.0, 3.0, 10.0):
        got = repeat_metrics(cv, gamma_poisson(data, cv, h, shape)[0] + 1e-6 * ties, inner)
        show(f"gamma-Poisson P(>=1 in {h:.0f} d) shape={shape}", [got])
        if got[0] > best_shape[0]:
            best_shape = (got[0], shape)
    shape = best_shape[1]
    print(f"chosen TIFU {tifu}, gamma-Poisson shape {shape}", flush=True)
    # 3) ranker variants with the extra features, and heavy-only training
    four = [70, 105, 140, 175]
    xe_v = np.hstack([xv, nbr_features(data, cv, h, tifu, shape)])
    windows = {}
    for c in four:
        cut = data.as_of - c
        x, y, cands = own_rows(data, cut, h)
        x = x[:, : len(FEATURES)]
        extra = nbr_features(cut_before(data, cut), cands, h, tifu, shape)
        n_own = np.bincount(cands.user, minlength=data.n_users)[cands.user]
        got = (
            data.events.filter((pl.col("t_days") >= cut) & (pl.col("t_days") < cut + h))
            .group_by("user", "item")
            .len()
            .with_columns(key=pl.col("user").cast(pl.Int64) * data.n_items + pl.col("item"))
            .sort("key")
        )
        keys = cands.user * data.n_items + cands.item
        at = np.clip(np.searchsorted(got["key"].to_numpy(), keys), 0, got.height - 1)
        hit = got["key"].to_numpy()[at] == keys
        graded = np.where(hit, np.minimum(got["len"].to_numpy()[at], 3), 0).astype(np.float32)
        windows[c] = (np.hstack([x, extra]), y, cands.user + c * 10_000_000, n_own > HEAVY, graded)
    print(f"features built in {time.process_time() - start:.1f} CPU-s", flush=True)
    names = FEATURES + EXTRA
    base = list(range(len(FEATURES)))
    ext = {n: len(FEATURES) + i for i, n in enumerate(EXTRA)}
    tifu_cols = [ext["tifu_personal"], ext["tifu_neighbour"], ext["tifu_blend"]]
    gp_cols = [ext["gp_p_any"], ext["gp_expected"], ext["gp_q_expected"]]
    trend_cols = [ext["i_heavy_buyers_30"], ext["i_heavy_trend"]]
    variants = [
        ("served features (the served own model)", base, False),
        ("served features, heavy customers only", base, True),
        ("+ TIFU-KNN", base + tifu_cols, False),
        ("+ gamma-Poisson", base + gp_cols, False),
        ("+ heavy-buyer trend", base + trend_cols, False),
        ("+ all three", base + tifu_cols + gp_cols + trend_cols, False),
        ("+ all three, heavy customers only", base + tifu_cols + gp_cols + trend_cols, True),
        ("served features, graded labels (orders in window, max 3)", base, "graded"),
    ]
    print(f"{'variant (own-items model, 4 windows)':<60}{'recall':>9}{'NDCG':>9}{'+-sd':>8}")
    for name, cols, heavy_only in variants:  # heavy_only: True, False or "graded" (labels)
        x = np.vstack([windows[c][0] for c in four])[:, cols]
        y = np.concatenate([windows[c][1] for c in four])
        g = np.concatenate([windows[c][2] for c in four])
        keep = np.isin(g, g[y > 0])
        if heavy_only == "graded":
            y = np.concatenate([windows[c][4] for c in four])
        elif heavy_only:
            keep &= np.concatenate([windows[c][3] for c in four])
        got, cpu = [], time.process_time()
        for seed in args.seeds:
            cfg = RankerConfig(seed=seed)
            booster = _train_booster(x[keep], y[keep], g[keep], cfg, tuple(names[i] for i in cols))
            got.append(repeat_metrics(cv, booster.predict(xe_v[:, cols]), inner))
        show(name, got, (time.process_time() - cpu) / len(got))


def ceiling(args: argparse.Namespace) -> None:
    """Diagnostic, not a model: how far would perfect knowledge of each item's demand in the
    label window (distinct other customers buying it: what an ideal seasonal / trend forecast
    of the item could know) lift the own-items ranker? Inner split only."""
    split = make_split(args.db, EvalConfig(until=dt.date.fromisoformat(args.until)))
    inner = _inner_split(split, args.horizon)
    data, h = inner.train, args.horizon
    full = split.train

    def future(cut: float, cands: Candidates) -> np.ndarray:
        ev = full.events.filter((pl.col("t_days") >= cut) & (pl.col("t_days") < cut + h))
        pairs = ev.select("user", "item").unique()
        per = pairs.group_by("item").len()
        arr = np.zeros(data.n_items, np.float32)
        arr[per["item"].to_numpy()] = per["len"].to_numpy()
        keys = pairs["user"].to_numpy().astype(np.int64) * data.n_items + pairs["item"].to_numpy()
        mine = np.isin(cands.user * data.n_items + cands.item, keys)
        return (arr[cands.item] - mine).reshape(-1, 1)  # other customers only

    xv, _, cv = own_rows(data, data.as_of, h, inner.users)
    xv = xv[:, : len(FEATURES)]
    fv = future(data.as_of, cv)
    counts = np.asarray(data.counts()[cv.user, cv.item]).ravel()
    pop = fv.ravel() / max(float(fv.max()), 1.0)
    for w in (0.0, 0.1, 1.0, 10.0):
        got = repeat_metrics(cv, counts + w * pop + 1e-6 * pop, inner)
        print(f"counts + {w} x future item buyers (oracle)      {got[0]:.4f} {got[1]:.4f}")
    four = [70, 105, 140, 175]
    rows = [(*own_rows(data, data.as_of - c, h), c) for c in four]
    x = np.vstack(
        [np.hstack([r[0][:, : len(FEATURES)], future(data.as_of - r[3], r[2])]) for r in rows]
    )
    y = np.concatenate([r[1] for r in rows])
    g = np.concatenate([r[2].user + r[3] * 10_000_000 for r in rows])
    keep = np.isin(g, g[y > 0])
    names = (*FEATURES, "oracle_item_buyers")
    for label, cols in (("served features", len(FEATURES)), ("+ oracle item demand", None)):
        got = []
        for seed in args.seeds:
            b = _train_booster(
                x[keep][:, :cols], y[keep], g[keep], RankerConfig(seed=seed), names[:cols]
            )
            xe = np.hstack([xv, fv])[:, :cols]
            got.append(repeat_metrics(cv, b.predict(xe), inner))
        r = np.array(got)
        print(f"ranker, {label:<40}{r[:, 0].mean():.4f} {r[:, 1].mean():.4f}", flush=True)


if __name__ == "__main__":
    main()
