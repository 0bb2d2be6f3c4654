"""Repeat-mode (own-items) ranker variants on the inner validation split only (issue 14, third
iteration): more stacked windows, lambdarank vs binary, and candidate features of purchase
rhythm, repurchase-cycle hazards and several recency half-lives.

Usage:
    python bench/recsys_repeat_variants.py --db /tmp/or.duckdb --until 2010-09-30 --seeds 0 1 2

The inner split trains on sales before `until - horizon` and validates on the `horizon` days
before `until` (the test period is never read). For each inner cutoff c the served sources and
features are fitted on sales strictly before c (`cut_before`), then the extra features below;
only the customer's own candidates are kept (the own-items model, which sets the repeat list).
Validation: repeat recall@20 / NDCG@20 of the own candidates of the inner customers ordered by
each variant (own items always rank above new ones in the served list, so this is the repeat
list). The extra features live here and not in `recsys/features.py` because none was kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from dataclasses import replace

import numpy as np
import polars as pl
from recsys_accuracy import _inner_split

from recsys.candidates import Candidates, fit_sources, generate
from recsys.data import TrainData, cut_before
from recsys.evaluate import EvalConfig, EvalSplit, make_split
from recsys.features import FEATURES, feature_matrix
from recsys.ranker import RankerConfig, _train_booster

EXTRA = (
    "u_mean_gap",  # the customer's mean days between orders
    "u_gap_ratio",  # days since the customer's last order / mean gap
    "u_p_order",  # 1 - exp(-horizon x orders per day since the first order)
    "u_orders_90",  # the customer's orders in the last 90 days
    "ux_orders_since_last",  # the customer's orders after the last one holding the item
    "ux_w30",  # recency-weighted orders, half-life 30 days
    "ux_w365",  # the same, half-life 365 days
    "ux_in_last10",  # orders holding the item among the customer's last 10
    "ux_since_over_user_gap",  # days since last bought the item / customer's mean gap
    "i_rebuy",  # P(rebuy within horizon | bought), per item, shrunk to category, pooled
    "ux_hazard",  # P(rebuy in (s, s + horizon] | none by s), per item and s bucket, shrunk
)
GROUPS = {
    "rhythm": ("u_mean_gap", "u_gap_ratio", "u_p_order", "u_orders_90", "ux_since_over_user_gap"),
    "hazard": ("i_rebuy", "ux_hazard"),
    "recency": ("ux_orders_since_last", "ux_w30", "ux_w365", "ux_in_last10"),
}
EDGES = np.array([0.0, 14, 30, 60, 90, 150, 250, 1e9])  # days-since-last buckets of the hazard
PRIOR = 5.0  # pseudo-observations of the shrinkage item -> category -> all


def _hazards(data: TrainData, codes: np.ndarray, horizon: float) -> np.ndarray:
    """[n_items, len(EDGES) - 1] P(next purchase of the item by the same customer in
    (s, s + horizon] | none by s) for s = each bucket's lower edge, from purchases strictly
    before `data.as_of` (right-censored at as_of), shrunk item -> category -> all items."""
    pe = (
        data.events.select("user", "item", "t_days")
        .unique()
        .sort("user", "item", "t_days")
        .with_columns(nxt=pl.col("t_days").shift(-1).over("user", "item"))
    )
    t, nxt, item = (pe[c].to_numpy() for c in ("t_days", "nxt", "item"))
    gap = np.where(np.isnan(nxt), np.inf, nxt - t)
    seen = data.as_of - t
    nb = len(EDGES) - 1
    risk, hit = np.zeros((data.n_items, nb)), np.zeros((data.n_items, nb))
    for b in range(nb):
        s = EDGES[b]
        observed = (np.minimum(gap, seen) > s) & ((seen >= s + horizon) | (gap <= s + horizon))
        np.add.at(risk[:, b], item[observed], 1.0)
        np.add.at(hit[:, b], item[observed & (gap <= s + horizon)], 1.0)
    n_cats = int(codes.max()) + 1
    risk_c, hit_c = np.zeros((n_cats, nb)), np.zeros((n_cats, nb))
    np.add.at(risk_c, codes, risk)
    np.add.at(hit_c, codes, hit)
    p_all = hit.sum(0) / np.maximum(risk.sum(0), 1.0)
    p_cat = (hit_c + PRIOR * p_all) / (risk_c + PRIOR)
    return (hit + PRIOR * p_cat[codes]) / (risk + PRIOR)


def extra_features(
    data: TrainData, cands: Candidates, codes: np.ndarray, horizon: float
) -> np.ndarray:
    """[cands.size, len(EXTRA)] float32 from `data.events` only (sales before `as_of`)."""
    ev, now, n_items = data.events, data.as_of, data.n_items
    orders = ev.group_by("user", "order").agg(t=pl.col("t_days").min())
    per_user = orders.group_by("user").agg(
        n=pl.len(),
        first=pl.col("t").min(),
        last=pl.col("t").max(),
        o90=(pl.col("t") >= now - 90).sum(),
    )
    cols = np.full((data.n_users, 4), np.nan, np.float64)
    rows, n = per_user["user"].to_numpy(), per_user["n"].to_numpy().astype(np.float64)
    first, last = per_user["first"].to_numpy(), per_user["last"].to_numpy()
    cols[rows, 0] = np.where(n > 1, (last - first) / np.maximum(n - 1, 1), np.nan)
    cols[rows, 1] = (now - last) / cols[rows, 0]
    cols[rows, 2] = 1 - np.exp(-n / np.maximum(now - first, 30.0) * horizon)
    cols[rows, 3] = per_user["o90"].to_numpy()
    back = (
        ev.select("user", "order")
        .unique()
        .with_columns(back=pl.col("order").rank("dense", descending=True).over("user"))
    )
    pair = (
        ev.join(back, on=["user", "order"])
        .group_by("user", "item")
        .agg(
            since_orders=pl.col("back").min() - 1,
            w30=(0.5 ** ((now - pl.col("t_days")) / 30)).sum(),
            w365=(0.5 ** ((now - pl.col("t_days")) / 365)).sum(),
            last10=(pl.col("back") <= 10).sum(),
            last=pl.col("t_days").max(),
        )
        .with_columns(key=pl.col("user").cast(pl.Int64) * n_items + pl.col("item"))
        .sort("key")
    )
    keys = cands.user * n_items + cands.item
    pk = pair["key"].to_numpy()
    pos = np.clip(np.searchsorted(pk, keys), 0, max(pk.size - 1, 0))
    found = pk[pos] == keys

    def col(name: str) -> np.ndarray:
        out = np.full(keys.size, np.nan, np.float64)
        out[found] = pair[name].to_numpy()[pos[found]]
        return out

    since_item = now - col("last")
    hazard = _hazards(data, codes, horizon)
    bucket = np.clip(np.searchsorted(EDGES, np.nan_to_num(since_item), side="right") - 1, 0, 6)
    u = cands.user
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.column_stack(
            [
                cols[u],
                col("since_orders"),
                col("w30"),
                col("w365"),
                col("last10"),
                since_item / cols[u, 0],
                hazard[cands.item, 0],
                np.where(found, hazard[cands.item, bucket], np.nan),
            ]
        ).astype(np.float32)


def own_rows(
    data: TrainData, cutoff: float, horizon: float, users: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, Candidates]:
    """(features [n, F + E], labels [n], own candidates) of customers at inner cutoff `cutoff`."""
    before = cut_before(data, cutoff)
    after = data.events.filter((pl.col("t_days") >= cutoff) & (pl.col("t_days") < cutoff + horizon))
    if users is None:
        users = np.intersect1d(
            before.events["user"].unique().to_numpy(), after["user"].unique().to_numpy()
        )
    sources = fit_sources(before, RankerConfig().sources)
    cands = generate(sources, before, users)
    x = feature_matrix(before, cands, sources.category_codes)
    own = x[:, FEATURES.index("ux_bought")] == 1
    cands = Candidates(
        cands.user[own],
        cands.item[own],
        {k: v[own] for k, v in cands.scores.items()},
        {k: v[own] for k, v in cands.ranks.items()},
    )
    x = np.hstack([x[own], extra_features(before, cands, sources.category_codes, horizon)])
    target = after["user"].to_numpy().astype(np.int64) * data.n_items + after["item"].to_numpy()
    y = np.isin(cands.user * data.n_items + cands.item, target).astype(np.float32)
    return x, y, cands


def top20_metrics(
    cands: Candidates, pred: np.ndarray, split: EvalSplit, mode: str
) -> tuple[float, float]:
    """(recall@20, NDCG@20) of each customer's candidates ordered by `pred` (n_candidates,),
    against `split.relevant[mode]` (`mode`: "repeat" or "new")."""
    order = np.lexsort((-pred, cands.user))
    users = cands.user[order]
    starts = np.r_[0, np.flatnonzero(np.diff(users)) + 1]
    rank = np.arange(users.size) - np.repeat(starts, np.diff(np.r_[starts, users.size]))
    top = order[rank < 20]
    row = np.searchsorted(split.users, cands.user[top])
    rel = split.relevant[mode].tocsr()
    hits = np.asarray(rel[row, cands.item[top]]).ravel() > 0
    n_rel = np.diff(rel.indptr)
    per = np.bincount(row, weights=hits, minlength=split.users.size)
    dcg = np.bincount(row, weights=hits / np.log2(rank[rank < 20] + 2), minlength=per.size)
    keep, denom = n_rel > 0, np.minimum(n_rel, 20)
    ideal = np.cumsum(1 / np.log2(np.arange(2, 22)))[np.maximum(denom, 1) - 1]
    return float(np.mean(per[keep] / denom[keep])), float(np.mean(dcg[keep] / ideal[keep]))


def repeat_metrics(cands: Candidates, pred: np.ndarray, split: EvalSplit) -> tuple[float, float]:
    """(recall@20, NDCG@20) of each customer's own candidates ordered by `pred`."""
    return top20_metrics(cands, pred, split, "repeat")


def inner_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every inner-split variant script takes: --db, --until, --horizon, --seeds."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--until", required=True)
    parser.add_argument("--horizon", type=float, default=70.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    return parser


def main() -> None:
    parser = inner_parser(__doc__)
    args = parser.parse_args()
    until = dt.date.fromisoformat(args.until)
    split = make_split(args.db, EvalConfig(until=until, horizon_days=int(args.horizon)))
    inner = _inner_split(split, args.horizon)
    data = inner.train
    four, rolling = [70, 105, 140, 175], list(range(70, 197, 14))
    start = time.process_time()
    windows = {c: own_rows(data, data.as_of - c, args.horizon) for c in sorted({*four, *rolling})}
    xv, _, cv = own_rows(data, data.as_of, args.horizon, inner.users)
    print(
        f"inner split: train before day {data.as_of:.0f}, {inner.users.size:,} validation "
        f"customers; windows and features built in {time.process_time() - start:.1f} CPU-s "
        f"(load average {os.getloadavg()[0]:.1f})"
    )
    counts = np.asarray(data.counts()[cv.user, cv.item]).ravel()
    popular = data.item_popularity(30.0)[cv.item]
    ref = repeat_metrics(cv, counts + 1e-3 * popular / max(popular.max(), 1.0), inner)
    label = "buy-again (counts, popularity ties), own candidates"
    print(f"{label:<58}{ref[0]:>9.4f}{ref[1]:>9.4f}")
    names = FEATURES + EXTRA
    base = [i for i, f in enumerate(names) if f not in EXTRA]
    groups = [(g, base + [names.index(f) for f in fs]) for g, fs in GROUPS.items()]
    every = list(range(len(names)))
    variants = [
        ("served features, 4 windows (the served own model)", four, base, "lambdarank"),
        ("served features, 8 rolling windows (14-day steps)", rolling[:8], base, "lambdarank"),
        ("served features, 10 rolling windows", rolling, base, "lambdarank"),
        ("+ all extra, 4 windows", four, every, "lambdarank"),
        ("+ all extra, 8 rolling windows", rolling[:8], every, "lambdarank"),
        ("+ all extra, 10 rolling windows", rolling, every, "lambdarank"),
        ("+ all extra, 8 rolling windows, binary", rolling[:8], every, "binary"),
        ("served features, 8 rolling windows, binary", rolling[:8], base, "binary"),
        *((f"+ {g} only, 8 rolling windows", rolling[:8], c, "lambdarank") for g, c in groups),
    ]
    print(f"{'variant (own-items model)':<58}{'recall':>9}{'NDCG':>9}{'+-sd':>8}{'CPU s':>8}")
    for name, cuts, cols, objective in variants:
        x = np.vstack([windows[c][0] for c in cuts])[:, cols]
        y = np.concatenate([windows[c][1] for c in cuts])
        g = np.concatenate([windows[c][2].user + c * 10_000_000 for c in cuts])
        has = np.isin(g, g[y > 0])
        got, cpu = [], time.process_time()
        for seed in args.seeds:
            cfg = replace(RankerConfig(seed=seed), objective=objective)
            booster = _train_booster(x[has], y[has], g[has], cfg, tuple(names[i] for i in cols))
            got.append(repeat_metrics(cv, booster.predict(xv[:, cols]), inner))
        r = np.array(got)
        sd = r[:, 0].std(ddof=1) if len(r) > 1 else 0.0
        print(
            f"{name:<58}{r[:, 0].mean():>9.4f}{r[:, 1].mean():>9.4f}{sd:>8.4f}"
            f"{(time.process_time() - cpu) / len(r):>8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
