"""Recommendations benchmarks: training speed, serving latency, export speed, retrieval.

Usage:
    python bench/bench_recsys.py --db /tmp/demo.duckdb [--sizes 100000 1000000] [--queries 200]
    python bench/bench_recsys.py --db /tmp/or.duckdb --until 2010-09-30 --test-end 2010-12-09 \
        --seeds 0 1 2 --parts baselines served --skip training retrieval serving export
    python bench/bench_recsys.py --db /tmp/or.duckdb --until 2010-09-30 --parts \
        --skip training retrieval   # speed only: train the serving model, then serve and export

With `--until` the accuracy part runs first (bench/recsys_accuracy.py: tuned baselines, every
candidate source, the ranker and its ablations, the served list made by the export path as of
`--until`), and serving / export are measured as of `--until` too.

The warehouse is copied to a temporary folder first (the bench trains and writes there).
Prints one table per part with the baselines or exact search side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from recsys import service
from recsys.baselines import Ease, ItemKNN
from recsys.data import load_train_data
from recsys.index import ExactIndex, HnswIndex, IndexConfig, IvfIndex, recall_against_exact
from recsys.reasons import explained_feature
from recsys.refresh import train_and_register
from recsys.service import BusinessRules
from recsys.train import TwoTowerConfig, TwoTowerRecommender


def bench_training(db: Path, examples: int) -> None:
    data = load_train_data(db)
    rows = []
    for threads in (1, 2):
        cfg = TwoTowerConfig(
            epochs=1,
            max_examples_per_epoch=examples,
            val_days=0,
            show_progress=False,
            num_threads=threads,
        )
        model = TwoTowerRecommender(cfg)
        start = time.perf_counter()
        model.fit(data)
        rows.append(
            (f"two-tower, {threads} thread(s)", model.examples_per_s, time.perf_counter() - start)
        )
    for baseline in (ItemKNN(), Ease()):
        start = time.perf_counter()
        baseline.fit(data)
        seconds = time.perf_counter() - start
        rows.append((f"{baseline.name} (full fit)", data.events.height / seconds, seconds))
    print(
        f"\n## Training ({data.events.height:,} purchases, {data.n_users:,} customers, "
        f"{data.n_items:,} products)"
    )
    print(f"{'model':<32}{'examples/s':>14}{'wall s':>10}")
    for name, rate, seconds in rows:
        print(f"{name:<32}{rate:>14,.0f}{seconds:>10.1f}")


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ms = np.array(samples) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def bench_serving(db: Path, queries: int, as_of: dt.date | None = None) -> None:
    state = service.serving_state(db, as_of)
    rng = np.random.default_rng(0)
    customers = rng.choice(state.data.user_ids, size=queries, replace=False)
    categories = state.products["category"].unique().sort().to_list()
    all_rules = BusinessRules(
        exclude_purchased=True,
        in_stock_only=True,
        include_categories=tuple(categories[:-1]),
        exclude_categories=(categories[0],),
        min_price=1.0,
        max_price=50.0,
        block_list=tuple(state.data.catalogue.item_ids[:10]),
        max_per_category=5,
    )
    cases = {"no rules (exclude purchased only)": BusinessRules(), "all filters on": all_rules}
    print(
        f"\n## Single-customer top-20 latency ({queries} customers, warm state; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(f"{'rules':<36}{'p50 ms':>10}{'p95 ms':>10}{'CPU ms/query':>14}")
    service.recommend_for_customer(db, str(customers[0]), 20, all_rules, as_of)  # warm-up
    if state.rank_model is not None:  # warm = every customer ranked (the first request after
        state.ranked_for(state.data)  # a start ranks just its customers meanwhile)
    for name, rules in cases.items():
        times = []
        cpu = time.process_time()
        for customer in customers:
            start = time.perf_counter()
            service.recommend_for_customer(db, str(customer), 20, rules, as_of)
            times.append(time.perf_counter() - start)
        cpu_ms = (time.process_time() - cpu) / len(customers) * 1000
        p50, p95 = _percentiles(times)
        print(f"{name:<36}{p50:>10.2f}{p95:>10.2f}{cpu_ms:>14.2f}")
    times = []
    for customer in customers[:50]:
        start = time.perf_counter()
        service.similar_products(db, state.data.catalogue.item_ids[hash(customer) % 100], 10)
        times.append(time.perf_counter() - start)
    p50, p95 = _percentiles(times)
    print(f"{'similar products (k=10)':<36}{p50:>10.2f}{p95:>10.2f}")


def bench_export(db: Path, as_of: dt.date | None = None) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    state = service.serving_state(db, as_of)
    state.ranked_for(state.data) if state.rank_model is not None else None
    print(
        f"\n## Export (all customers, k = 20, as of {as_of or 'the last sale'}; serving state "
        f"with the ranker's candidates for every customer built in "
        f"{time.perf_counter() - start:.1f} s wall, {time.process_time() - cpu:.1f} s CPU, once "
        f"per model version and date; load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"{'rules':<36}{'customers':>10}{'rows':>11}{'wall s':>9}{'CPU s':>8}"
        f"{'customers/s':>13}{'per CPU-s':>11}"
    )
    for name, rules in {
        "exclude purchased (first: reasons)": BusinessRules(),
        "exclude purchased (reasons cached)": BusinessRules(),
        "+ max 3 per category": BusinessRules(max_per_category=3),
        "purchased allowed": BusinessRules(exclude_purchased=False),
    }.items():
        start, cpu = time.perf_counter(), time.process_time()
        frame = service.bulk_recommendations(db, k=20, rules=rules, as_of=as_of)
        seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        n = frame["customer_id"].n_unique()
        print(
            f"{name:<36}{n:>10,}{frame.height:>11,}{seconds:>9.2f}{cpu_s:>8.2f}"
            f"{n / seconds:>13,.0f}{n / cpu_s:>11,.0f}"
        )
    if state.rank_model is not None:
        bench_reasons(state)


def bench_reasons(state: service.ServingState, rows: int = 2000) -> None:
    """Path contributions (served reasons) against TreeSHAP: time per row and agreement."""
    ranked = state.ranked_for(state.data)
    model = state.rank_model.model
    pick = np.random.default_rng(0).choice(len(ranked.item), min(rows, len(ranked.item)), False)
    x = ranked.x[np.sort(pick)]
    start = time.process_time()
    path = explained_feature(model.contributions(x))
    path_s = time.process_time() - start
    start = time.process_time()
    shap = explained_feature(model.shap_contributions(x))
    shap_s = time.process_time() - start
    print(f"\n## Reasons: the named feature of {len(x):,} random candidates")
    print(f"{'attribution':<36}{'CPU ms/row':>12}{'same feature as TreeSHAP':>26}")
    print(
        f"{'path contributions (served)':<36}{path_s / len(x) * 1000:>12.3f}"
        f"{np.mean(path == shap):>26.1%}"
    )
    print(f"{'TreeSHAP (pred_contrib)':<36}{shap_s / len(x) * 1000:>12.3f}{1.0:>26.1%}")


def synthetic_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    """Clustered unit vectors (1,000 centres), like item embeddings."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((1000, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, 1000, n)] + 0.6 * rng.standard_normal((n, dim)).astype(
        np.float32
    )
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def bench_retrieval(sizes: list[int], dim: int, queries: int, k: int) -> None:
    print(f"\n## Retrieval top-{k}, {dim}-d, {queries} queries (recall against exact)")
    print(
        f"{'items':>10}  {'index':<26}{'build s':>9}{'ms/query':>10}{'speed-up':>10}"
        f"{f'recall@{k}':>11}"
    )
    for n in sizes:
        vectors = synthetic_vectors(n, dim, seed=1)
        query = synthetic_vectors(queries, dim, seed=2)
        exact = ExactIndex(vectors)
        start = time.perf_counter()
        exact_ids = np.vstack([exact.search(q[None, :], k)[0] for q in query])
        exact_ms = (time.perf_counter() - start) / queries * 1000
        print(
            f"{n:>10,}  {'exact (numpy)':<26}{0.0:>9.1f}{exact_ms:>10.2f}{1.0:>10.1f}{1.0:>11.3f}"
        )
        builders = {
            "faiss HNSW M=16": lambda v: HnswIndex(v, IndexConfig(hnsw_m=16, ef_construction=40)),
            "faiss IVF": lambda v: IvfIndex(v),
        }
        for name, build in builders.items():
            start = time.perf_counter()
            index = build(vectors)
            build_s = time.perf_counter() - start
            knobs = (
                [("ef", ef) for ef in (64, 256)]
                if isinstance(index, HnswIndex)
                else [("nprobe", p) for p in (16, 64)]
            )
            for knob, value in knobs:
                if knob == "ef":
                    index.index.hnsw.efSearch = value
                else:
                    index.index.nprobe = value
                start = time.perf_counter()
                ids = np.vstack([index.search(q[None, :], k)[0] for q in query])
                ms = (time.perf_counter() - start) / queries * 1000
                recall = recall_against_exact(ids, exact_ids)
                label = f"{name} {knob}={value}"
                print(
                    f"{n:>10,}  {label:<26}{build_s:>9.1f}{ms:>10.2f}{exact_ms / ms:>10.1f}"
                    f"{recall:>11.3f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a warehouse (copied, never written)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--train-examples", type=int, default=60_000)
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["training", "serving", "export", "retrieval"]
    )
    parser.add_argument("--until", help="accuracy part: train through this date")
    parser.add_argument("--test-end", help="accuracy part: last test day")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--parts",
        nargs="*",
        default=["baselines", "sources", "ranker", "served"],
        choices=["baselines", "sources", "ranker", "served", "gap"],
    )
    args = parser.parse_args()
    import faiss

    faiss.omp_set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / Path(args.db).name
        shutil.copyfile(args.db, db)
        if "training" not in args.skip:
            bench_training(db, args.train_examples)
        until = dt.date.fromisoformat(args.until) if args.until else None
        if until is not None and args.parts:
            from recsys_accuracy import run

            test_end = (
                dt.date.fromisoformat(args.test_end)
                if args.test_end
                else until + dt.timedelta(days=30)
            )
            run(db, until, test_end, args.seeds, tuple(args.parts))
        elif not {"serving", "export"} <= set(args.skip):
            start, cpu = time.perf_counter(), time.process_time()
            path = train_and_register(
                db,
                until,
                False,
                TwoTowerConfig(
                    epochs=1, max_examples_per_epoch=args.train_examples, show_progress=False
                ),
            )
            ranker = json.loads((path / "manifest.json").read_text())["metrics"]["ranker"]
            print(
                f"\n## Training the serving model through {until or 'the last sale'} (load "
                f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n"
                f"{'part':<44}{'wall s':>9}{'CPU s':>9}\n"
                f"{'ranker (sources + windows + LightGBM)':<44}{ranker['fit_s']:>9.1f}"
                f"{ranker['cpu_s']:>9.1f}\n"
                f"{'all (+ two-tower for similar products)':<44}"
                f"{time.perf_counter() - start:>9.1f}{time.process_time() - cpu:>9.1f}"
            )
        if "serving" not in args.skip:
            bench_serving(db, args.queries, until)
        if "export" not in args.skip:
            bench_export(db, until)
    if "retrieval" not in args.skip:
        bench_retrieval(args.sizes, args.dim, args.queries, 20)


if __name__ == "__main__":
    main()
