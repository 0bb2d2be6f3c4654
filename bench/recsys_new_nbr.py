"""New-item ranker variants on the inner validation split only (issue 14, fourth iteration):
the TIFU-KNN neighbour vector (user-kNN over time-decayed baskets) and heavy-buyer trends as
extra features of the new-items model.

Usage:
    python bench/recsys_new_nbr.py --db /tmp/or.duckdb --until 2010-09-30 --seeds 0 1 2

Each inner window is built as the served `recsys.ranker.window_rows` builds it (sources and
features fitted strictly before the cutoff, every positive and 60 random negatives per
customer), keeping the rows of items the customer never bought (the new-items model).
Validation: new-item recall@20 / NDCG@20 of the inner customers' new candidates ordered by
each variant (own items are excluded from new-item lists, as in the served bench).
"""

from __future__ import annotations

import datetime as dt
import os
import time

import numpy as np
import polars as pl
from recsys_accuracy import _inner_split
from recsys_repeat_nbr import heavy_trend, pair_values, tifu_neighbours
from recsys_repeat_variants import inner_parser, top20_metrics

from recsys.candidates import Candidates, fit_sources, generate
from recsys.data import TrainData, cut_before
from recsys.evaluate import EvalConfig, EvalSplit, make_split
from recsys.features import FEATURES, feature_matrix
from recsys.ranker import RankerConfig, _train_booster
from recsys.uknn import tifu_vectors

TIFU = (15, 1.0, 0.8)  # group, r_b, r_g: the best personal TIFU of recsys_repeat_nbr (inner)


def _subset(c: Candidates, keep: np.ndarray) -> Candidates:
    return Candidates(
        c.user[keep],
        c.item[keep],
        {k: v[keep] for k, v in c.scores.items()},
        {k: v[keep] for k, v in c.ranks.items()},
    )


def extra(data: TrainData, cands: Candidates, ks: tuple[int, ...]) -> np.ndarray:
    """[n, len(ks) + 2] user-kNN (TIFU neighbour mean, one column per k) and heavy trends."""
    users = np.unique(cands.user)
    personal = tifu_vectors(data, *TIFU)
    cols = [pair_values(tifu_neighbours(personal, users, k), users, cands) for k in ks]
    return np.column_stack([*cols, heavy_trend(data, cands)]).astype(np.float32)


def new_rows(
    data: TrainData,
    cutoff: float,
    horizon: float,
    rng: np.random.Generator,
    ks: tuple[int, ...],
    users: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, Candidates]:
    """(served features + extras [n, F + E], labels [n], new candidates) at `cutoff`;
    training windows (users None) keep positives and 60 random negatives per customer."""
    before = cut_before(data, cutoff)
    after = data.events.filter((pl.col("t_days") >= cutoff) & (pl.col("t_days") < cutoff + horizon))
    train = users is None
    if users is None:
        users = np.intersect1d(
            before.events["user"].unique().to_numpy(), after["user"].unique().to_numpy()
        )
    sources = fit_sources(before, RankerConfig().sources)
    cands = generate(sources, before, users)
    target = after["user"].to_numpy().astype(np.int64) * data.n_items + after["item"].to_numpy()
    y = np.isin(cands.user * data.n_items + cands.item, target).astype(np.float32)
    own = np.asarray(before.counts()[cands.user, cands.item]).ravel() > 0
    keep = ~own
    if train:
        noise = rng.random(cands.size)
        rank = (
            pl.DataFrame({"u": cands.user, "r": noise})
            .with_columns(k=pl.col("r").rank("ordinal").over("u"))["k"]
            .to_numpy()
        )
        keep &= (y > 0) | (rank <= RankerConfig().negatives_per_user)
        keep &= np.isin(cands.user, cands.user[(y > 0) & ~own])
    cands = _subset(cands, keep)
    x = feature_matrix(before, cands, sources.category_codes)
    return np.hstack([x, extra(before, cands, ks)]), y[keep], cands


def new_metrics(cands: Candidates, pred: np.ndarray, split: EvalSplit) -> tuple[float, float]:
    """(recall@20, NDCG@20) of each customer's new candidates ordered by `pred`."""
    return top20_metrics(cands, pred, split, "new")


def main() -> None:
    parser = inner_parser(__doc__)
    args = parser.parse_args()
    split = make_split(args.db, EvalConfig(until=dt.date.fromisoformat(args.until)))
    inner = _inner_split(split, args.horizon)
    data, h, ks = inner.train, args.horizon, (50, 300)
    start = time.process_time()
    rng = np.random.default_rng(0)
    xv, _, cv = new_rows(data, data.as_of, h, rng, ks, inner.users)
    four = [70, 105, 140, 175]
    windows = {c: new_rows(data, data.as_of - c, h, rng, ks) for c in four}
    print(
        f"inner split: {inner.users.size:,} validation customers; rows built in "
        f"{time.process_time() - start:.1f} CPU-s (load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    f = len(FEATURES)
    names = (*FEATURES, *(f"uknn_{k}" for k in ks), "i_heavy_buyers_30", "i_heavy_trend")
    for j, k in enumerate(ks):
        got = new_metrics(cv, xv[:, f + j], inner)
        print(f"{f'user-kNN k={k} alone (new candidates)':<48}{got[0]:>9.4f}{got[1]:>9.4f}")
    base = list(range(f))
    variants = [
        ("served features (the served new model)", base),
        ("+ user-kNN (TIFU neighbours, k 50 / 300)", base + [f, f + 1]),
        ("+ heavy-buyer trend", base + [f + 2, f + 3]),
        ("+ both", base + [f, f + 1, f + 2, f + 3]),
    ]
    print(f"{'variant (new-items model, 4 windows)':<48}{'recall':>9}{'NDCG':>9}{'+-sd':>8}")
    for name, cols in variants:
        x = np.vstack([windows[c][0] for c in four])[:, cols]
        y = np.concatenate([windows[c][1] for c in four])
        g = np.concatenate([windows[c][2].user + c * 10_000_000 for c in four])
        got = []
        for seed in args.seeds:
            booster = _train_booster(
                x, y, g, RankerConfig(seed=seed), tuple(names[i] for i in cols)
            )
            got.append(new_metrics(cv, booster.predict(xv[:, cols]), inner))
        r = np.array(got)
        sd = r[:, 0].std(ddof=1) if len(r) > 1 else 0.0
        print(f"{name:<48}{r[:, 0].mean():>9.4f}{r[:, 1].mean():>9.4f}{sd:>8.4f}", flush=True)


if __name__ == "__main__":
    main()
