"""Accuracy part of bench/bench_recsys.py: tuned baselines, candidate sources, the ranker and its
ablations, and the served list (`export --as-of`), repeat and new-item modes, over seeds.

Baselines are tuned on an inner validation split (train before `until - horizon`, validate on
the `horizon` days before `until`), never on the test period.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from recsys.base import Filters, apply_filters, top_k
from recsys.baselines import BuyAgain, Ease, EaseConfig, ItemKNN, PopularityRecent
from recsys.candidates import SourceConfig, fit_sources, generate, source_recall
from recsys.cli import train_and_register
from recsys.data import TrainData, cut_before
from recsys.evaluate import SEGMENTS, EvalConfig, EvalSplit, evaluate_served, make_split, split_from
from recsys.features import FEATURES, feature_matrix
from recsys.metrics import ranking_metrics
from recsys.ranker import (
    RankerConfig,
    RankerModel,
    RankerRecommender,
    _train_booster,
    rank_unit,
    window_rows,
)
from recsys.train import TwoTowerConfig

K = 20


def _with_half_life(data: TrainData, half_life: float) -> TrainData:
    return TrainData(data.catalogue, data.user_ids, data.events, data.as_of, half_life)


def _metrics(scores: np.ndarray, split: EvalSplit, data: TrainData, segment: str) -> dict:
    scores = apply_filters(scores, data, split.users, Filters(exclude_seen=segment == "new"))
    ids, _ = top_k(scores, K)
    return ranking_metrics(ids, split.relevant[segment])


def _inner_split(split: EvalSplit, horizon: float) -> EvalSplit:
    train = split.train
    cut = train.as_of - horizon
    inner = cut_before(train, cut)
    after = train.events.filter(pl.col("t_days") >= cut)
    rows = pl.DataFrame(
        {
            "customer_id": np.array(train.user_ids)[after["user"].to_numpy()],
            "product_id": np.array(train.catalogue.item_ids)[after["item"].to_numpy()],
        }
    )
    cfg = EvalConfig(until=dt.date(1970, 1, 1) + dt.timedelta(days=int(cut) - 1))
    return split_from(inner, rows, cfg, cfg.until)


def baselines(split: EvalSplit, horizon: float) -> list[dict[str, Any]]:
    """Each baseline tuned per mode on the inner split, then scored on test."""
    inner = _inner_split(split, horizon)
    grids = {
        "popularity-recent": [{"window_days": w} for w in (7, 14, 30, 90)],
        "buy-again": [
            {"window_days": 30, "half_life": h} for h in (30, 60, 120, 365, 10_000, float("inf"))
        ],
        "item-knn": [{"neighbours": n, "half_life": h} for n in (25, 100, 400) for h in (60, 365)],
        "ease": [{"l2": v} for v in (50.0, 250.0, 1000.0)],
    }

    def build(name: str, params: dict) -> Any:
        if name == "popularity-recent":
            return PopularityRecent(params["window_days"])
        if name == "buy-again":
            return BuyAgain(params["window_days"])
        if name == "item-knn":
            return ItemKNN(params["neighbours"])
        return Ease(EaseConfig(l2=params["l2"]))

    rows = []
    for name, grid in grids.items():
        scored = []
        for params in grid:
            data = _with_half_life(inner.train, params.get("half_life", 120.0))
            model = build(name, params).fit(data)
            scores = model.score(data, inner.users)
            scored.append(
                (params, {s: _metrics(scores, inner, data, s)["recall"] for s in SEGMENTS})
            )
        for segment in SEGMENTS:
            params, val = max(scored, key=lambda p: p[1][segment])
            data = _with_half_life(split.train, params.get("half_life", 120.0))
            model = build(name, params).fit(data)
            m = _metrics(model.score(data, split.users), split, data, segment)
            rows.append(
                {
                    "model": f"{name} {params}",
                    "kind": "baseline",
                    "segment": segment,
                    "val_recall": val[segment],
                    **m,
                }
            )
    return rows


def sources_rows(split: EvalSplit) -> list[dict[str, Any]]:
    """Each source as a ranker (recall / NDCG @20) and its candidate recall@N."""
    sources = fit_sources(split.train, RankerConfig().sources)
    cands = generate(sources, split.train, split.users)
    rows = []
    scorers = sources.scorers(split.train)
    for segment in SEGMENTS:
        recall_n = source_recall(cands, split.relevant[segment], split.users, split.train.n_items)
        for name in sources.names:
            m = _metrics(np.array(scorers[name](split.users)), split, split.train, segment)
            rows.append(
                {
                    "model": f"source {name}",
                    "kind": "source",
                    "segment": segment,
                    "cand_recall": recall_n[name],
                    **m,
                }
            )
        rows.append(
            {
                "model": "union of sources",
                "kind": "source",
                "segment": segment,
                "cand_recall": recall_n["union"],
                "recall": float("nan"),
                "ndcg": float("nan"),
            }
        )
    return rows


def ranker_rows(split: EvalSplit, seed: int) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Windows built once; variants trained on them and scored on test candidates."""
    cfg = RankerConfig(seed=seed, sources=SourceConfig(use_two_tower=True))
    rng = np.random.default_rng(seed)
    start, cpu = time.perf_counter(), time.process_time()
    parts = [window_rows(split.train, split.train.as_of - c, cfg, rng) for c in cfg.cutoffs]
    parts = [p for p in parts if p is not None]
    x = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    g = np.concatenate([p[2] for p in parts])
    windows_s = time.perf_counter() - start
    tt = RankerModel.fit.__globals__["_two_tower"](split.train, cfg)
    sources = fit_sources(split.train, cfg.sources, tt)
    cands = generate(sources, split.train, split.users)
    xt = feature_matrix(split.train, cands, sources.category_codes)
    tt_cols = [i for i, f in enumerate(FEATURES) if f.startswith("two_tower")]
    tt_only_train = _only_two_tower(x)
    tt_only_test = _only_two_tower(xt)
    one = replace(cfg, split_models=False)
    variants = {
        "ranker lambdarank (one model)": (one, None),
        "ranker binary (one model)": (replace(one, objective="binary"), None),
        "ranker lambdarank (two models)": (cfg, None),
        "ranker lambdarank (two models) without two-tower": (cfg, tt_cols),
    }
    rows, timing = [], {"windows_s": windows_s}
    for name, (vcfg, drop) in variants.items():
        xs, ys, gs, xte, keep_test = x, y, g, xt, np.ones(cands.size, bool)
        if drop is not None:
            xs, ys, gs = x[~tt_only_train].copy(), y[~tt_only_train], g[~tt_only_train]
            xs[:, drop] = np.nan
            keep_test = ~tt_only_test
            xte = xt.copy()
            xte[:, drop] = np.nan
        t0 = time.perf_counter()
        model = RankerModel(vcfg, {}, {})
        if vcfg.split_models:
            bought = xs[:, FEATURES.index("ux_bought")] == 1
            model.boosters = {
                n: _train_booster(xs[m], ys[m], gs[m], vcfg)
                for n, m in (("own", bought), ("new", ~bought))
            }
        else:
            model.boosters = {"all": _train_booster(xs, ys, gs, vcfg)}
        timing[f"{name} booster_s"] = time.perf_counter() - t0
        pred = model.predict(xte)
        user_row = np.searchsorted(split.users, cands.user)
        for segment in SEGMENTS:
            scores = np.full((split.users.size, split.train.n_items), -np.inf, np.float32)
            pop = sources.popular / sources.popular.max() * 0.999
            scores[:] = pop[None, :]
            unit = rank_unit(cands.user[keep_test], pred[keep_test])
            scores[user_row[keep_test], cands.item[keep_test]] = 10.0 + unit
            rows.append(
                {
                    "model": name,
                    "kind": "ranker",
                    "segment": segment,
                    **_metrics(scores, split, split.train, segment),
                }
            )
    timing["cpu_s"] = time.process_time() - cpu
    return rows, timing


def _only_two_tower(x: np.ndarray) -> np.ndarray:
    """Rows retrieved by the two-tower source alone."""
    src = [i for i, f in enumerate(FEATURES) if f.endswith("_score")]
    tt = FEATURES.index("two_tower_score")
    others = [i for i in src if i != tt]
    return ~np.isnan(x[:, tt]) & np.all(np.isnan(x[:, others]), axis=1)


def served_rows(
    db: Path, split: EvalSplit, until: dt.date, seed: int
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """train_and_register (sources + ranker + two-tower) then the export path as of `until`."""
    start, cpu = time.perf_counter(), time.process_time()
    path = train_and_register(
        db,
        until,
        False,
        TwoTowerConfig(epochs=1, max_examples_per_epoch=60_000, seed=seed, show_progress=False),
        RankerConfig(seed=seed),
    )
    train_s, train_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    rows = evaluate_served(db, split, K, until)
    served_s = time.perf_counter() - start
    for row in rows:
        row["kind"] = "served"
    ranker = json.loads((path / "manifest.json").read_text())["metrics"]["ranker"]
    return rows, {
        "ranker_fit_s": float(ranker["fit_s"]),
        "ranker_cpu_s": float(ranker["cpu_s"]),
        "train_and_register_s": train_s,
        "train_and_register_cpu_s": train_cpu,
        "load_average": os.getloadavg()[0],
        "served_eval_s": served_s,
        "version": path.name,
    }


def repeat_gap(split: EvalSplit, horizon: float, seed: int) -> None:
    """Where the repeat gap is: customers by number of own items, the own candidates' recall
    ceiling at 20 (best order), buy-again (half-life tuned on the inner split) vs the ranker."""
    inner = _inner_split(split, horizon)
    best = max(
        (float("inf"), 10_000.0, 365.0, 120.0, 60.0, 30.0),
        key=lambda h: _metrics(
            BuyAgain(30).fit(d := _with_half_life(inner.train, h)).score(d, inner.users),
            inner,
            d,
            "repeat",
        )["recall"],
    )
    data = _with_half_life(split.train, best)
    ids = {"buy-again": top_k(BuyAgain(30).fit(data).score(data, split.users), K)[0]}
    ranker = RankerRecommender(RankerConfig(seed=seed)).fit(split.train)
    ids["ranker"] = top_k(ranker.score(split.train, split.users), K)[0]
    rel = split.relevant["repeat"].tocsr()
    n_rel = np.diff(rel.indptr)
    denom = np.maximum(np.minimum(n_rel, K), 1)
    recall = {n: ranking_hits(i, rel) / denom for n, i in ids.items()}
    cands = generate(ranker.sources, split.train, split.users)  # type: ignore[arg-type]
    counts = split.train.counts()
    own = np.asarray(counts[cands.user, cands.item]).ravel() > 0
    row = np.searchsorted(split.users, cands.user[own])
    got = np.asarray(rel[row, cands.item[own]]).ravel() > 0
    ceiling = np.minimum(np.bincount(row, weights=got, minlength=n_rel.size), K) / denom
    n_own = np.diff((counts[split.users] > 0).tocsr().indptr)
    has = n_rel > 0
    print(
        f"\n## Repeat gap (seed {seed}; buy-again half-life {best:g} d tuned on the inner "
        f"split; {has.sum():,} customers with repeat purchases)\n"
        f"{'own items':<12}{'customers':>10}{'share':>8}{'repeat buys':>12}{'share':>8}"
        f"{'ceiling@20':>11}{'buy-again':>10}{'ranker':>8}{'ratio':>7}"
    )
    for name, lo, hi in (
        ("all", 0, 10**9),
        ("<= 20", 0, 20),
        ("> 20", 20, 10**9),
        ("21-50", 20, 50),
        ("51-150", 50, 150),
        ("> 150", 150, 10**9),
    ):
        m = has & (n_own > lo) & (n_own <= hi)
        ba, rk = recall["buy-again"][m].mean(), recall["ranker"][m].mean()
        print(
            f"{name:<12}{m.sum():>10,}{m.sum() / has.sum():>8.1%}{n_rel[m].sum():>12,}"
            f"{n_rel[m].sum() / n_rel[has].sum():>8.1%}{ceiling[m].mean():>11.4f}"
            f"{ba:>10.4f}{rk:>8.4f}{rk / ba:>7.3f}"
        )


def ranking_hits(ids: np.ndarray, relevant: Any) -> np.ndarray:
    """[n] relevant items among each row's `ids` (-1 = none)."""
    rows = np.repeat(np.arange(ids.shape[0]), ids.shape[1])
    ok = ids.ravel() >= 0
    hit = np.zeros(ids.size, bool)
    hit[ok] = np.asarray(relevant[rows[ok], ids.ravel()[ok]]).ravel() > 0
    return hit.reshape(ids.shape).sum(axis=1).astype(np.float64)


PARTS = ("baselines", "sources", "ranker", "served", "gap")


def run(
    db: Path, until: dt.date, test_end: dt.date, seeds: list[int], parts: tuple[str, ...] = PARTS
) -> list[dict[str, Any]]:
    """Every table of the accuracy part (or `parts` of it); returns all rows (with `seed`)."""
    horizon = (test_end - until).days
    split = make_split(db, EvalConfig(until=until, horizon_days=horizon))
    print(
        f"\n## Accuracy: train through {until}, test {split.test_start}..{split.test_end} "
        f"({split.users.size:,} customers, all {split.train.n_items:,} products), k = {K}"
    )
    t = time.perf_counter()
    rows = [{**r, "seed": -1} for r in baselines(split, horizon)] if "baselines" in parts else []
    print(f"(baselines tuned and scored in {time.perf_counter() - t:.0f} s)", flush=True)
    for r in rows:
        print(
            f"  {r['segment']:<7}{r['model']:<60} val {r['val_recall']:.4f} "
            f"test recall {r['recall']:.4f} ndcg {r['ndcg']:.4f}",
            flush=True,
        )
    rows += [{**r, "seed": -1} for r in sources_rows(split)] if "sources" in parts else []
    if "gap" in parts:
        repeat_gap(split, horizon, seeds[0])
    for seed in seeds:
        rr, timing = ranker_rows(split, seed) if "ranker" in parts else ([], {})
        sr, stiming = served_rows(db, split, until, seed) if "served" in parts else ([], {})
        rows += [{**r, "seed": seed} for r in rr + sr]
        for r in rr + sr:
            print(
                f"  seed {seed} {r['segment']:<7}{r['model']:<45} recall {r['recall']:.4f} "
                f"ndcg {r['ndcg']:.4f}",
                flush=True,
            )
        print(
            f"seed {seed}: "
            + ", ".join(
                f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in {**timing, **stiming}.items()
            ),
            flush=True,
        )
    if rows:
        report(rows)
    return rows


def report(rows: list[dict[str, Any]]) -> None:
    """Mean (and spread over seeds) per model and mode, and the served / best-baseline ratio."""
    frame = pl.DataFrame(
        [
            {
                k: r.get(k)
                for k in ("model", "kind", "segment", "seed", "recall", "ndcg", "cand_recall")
            }
            for r in rows
        ]
    )
    for segment in SEGMENTS:
        part = frame.filter(pl.col("segment") == segment)
        agg = part.group_by("model", "kind", maintain_order=True).agg(
            recall=pl.col("recall").mean(),
            recall_sd=pl.col("recall").std(),
            ndcg=pl.col("ndcg").mean(),
            cand=pl.col("cand_recall").mean(),
            seeds=pl.len(),
        )
        print(f"\n{segment} mode (recall@{K}, NDCG@{K}; candidate recall@N for sources)")
        print(f"{'model':<62}{'recall':>9}{'+-sd':>8}{'ndcg':>9}{'cand@N':>9}")
        for r in agg.iter_rows(named=True):
            sd = "" if r["recall_sd"] is None else f"{r['recall_sd']:.4f}"
            cand = "" if r["cand"] is None else f"{r['cand']:.4f}"
            print(
                f"{r['model'][:61]:<62}{r['recall'] or float('nan'):>9.4f}{sd:>8}"
                f"{r['ndcg'] or float('nan'):>9.4f}{cand:>9}"
            )
        base = agg.filter(pl.col("kind") == "baseline")
        if not base.height:
            continue
        best = base.sort("recall", descending=True).row(0, named=True)
        best_ndcg = base.sort("ndcg", descending=True).row(0, named=True)
        served = agg.filter(pl.col("kind") == "served")
        if served.height and base.height:
            s = served.row(0, named=True)
            print(
                f"served / best baseline: recall {s['recall'] / best['recall']:.3f}x "
                f"({best['model']}), NDCG {s['ndcg'] / best_ndcg['ndcg']:.3f}x "
                f"({best_ndcg['model']})"
            )
