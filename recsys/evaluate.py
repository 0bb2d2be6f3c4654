"""Time-split evaluation of every recommender in one harness.

Train on sales on or before `until`; test on the next `horizon_days`. Customers evaluated are
those who bought both before and after `until`. Every list ranks the full catalogue:
- repeat: relevant = test items the customer had bought before; nothing excluded;
- new: relevant = test items the customer never bought before; already-bought items excluded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.base import BaseRecommender, Filters
from recsys.baselines import Ease, all_baselines
from recsys.blend import BlendRecommender
from recsys.data import (
    TrainData,
    build_train_data,
    end_of_day_days,
    load_interactions,
    load_products,
)
from recsys.errors import RecsysError
from recsys.metrics import METRICS, coverage, ranking_metrics
from recsys.train import TwoTowerConfig, TwoTowerRecommender

SEGMENTS = ("repeat", "new")


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation split and list length."""

    until: dt.date
    k: int = 20
    horizon_days: int = 30
    max_users: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.k < 1:
            raise RecsysError(f"--k: must be at least 1, got {self.k}")
        if self.horizon_days < 1:
            raise RecsysError(f"--horizon-days: must be at least 1, got {self.horizon_days}")


@dataclass(frozen=True)
class EvalSplit:
    """Training data and the test relevance of the evaluated users (rows align with `users`)."""

    train: TrainData
    users: np.ndarray
    relevant: dict[str, sp.csr_matrix]
    test_start: dt.date
    test_end: dt.date


def make_split(db: str | os.PathLike[str] | None, cfg: EvalConfig) -> EvalSplit:
    """Load the warehouse and split it at `cfg.until` (see module docstring)."""
    test_end = cfg.until + dt.timedelta(days=cfg.horizon_days)
    interactions = load_interactions(db, until=test_end)
    products = load_products(db)
    cut = dt.datetime.combine(cfg.until + dt.timedelta(days=1), dt.time())
    train_rows = interactions.filter(pl.col("sold_at") < cut)
    test_rows = interactions.filter(pl.col("sold_at") >= cut)
    if train_rows.is_empty() or test_rows.is_empty():
        raise RecsysError(
            f"--until {cfg.until}: need purchases both on/before it and in the "
            f"{cfg.horizon_days} days after it (train {train_rows.height}, test {test_rows.height})"
        )
    train = build_train_data(train_rows, products, end_of_day_days(cfg.until))
    return split_from(train, test_rows, cfg, test_end)


def split_from(
    train: TrainData, test_rows: pl.DataFrame, cfg: EvalConfig, test_end: dt.date
) -> EvalSplit:
    """Relevance matrices for customers present in both periods."""
    user_map = pl.DataFrame(
        {"customer_id": train.user_ids, "user": np.arange(train.n_users, dtype=np.int64)}
    )
    item_map = pl.DataFrame(
        {"product_id": train.catalogue.item_ids, "item": np.arange(train.n_items, dtype=np.int64)}
    )
    test = (
        test_rows.join(user_map, on="customer_id")
        .join(item_map, on="product_id")
        .select("user", "item")
        .unique()
    )
    users = np.sort(test["user"].unique().to_numpy())
    if cfg.max_users is not None and users.size > cfg.max_users:
        rng = np.random.default_rng(cfg.seed)
        users = np.sort(rng.choice(users, cfg.max_users, replace=False))
    if users.size == 0:
        raise RecsysError(f"--until {cfg.until}: no customer bought both before and after it")
    row_of = np.full(train.n_users, -1)
    row_of[users] = np.arange(users.size)
    test = test.filter(pl.Series(row_of[test["user"].to_numpy()] >= 0))
    target = sp.csr_matrix(
        (
            np.ones(test.height, np.float32),
            (row_of[test["user"].to_numpy()], test["item"].to_numpy()),
        ),
        shape=(users.size, train.n_items),
    )
    seen = (train.counts()[users] > 0).astype(np.float32)
    repeat = target.multiply(seen).tocsr()
    new = (target - repeat).tocsr()
    repeat.eliminate_zeros()
    new.eliminate_zeros()
    return EvalSplit(
        train, users, {"repeat": repeat, "new": new}, cfg.until + dt.timedelta(days=1), test_end
    )


def evaluate_model(model: BaseRecommender, split: EvalSplit, k: int) -> list[dict[str, Any]]:
    """Metric rows (one per segment) of a fitted model."""
    rows = []
    for segment in SEGMENTS:
        relevant = split.relevant[segment]
        ids, _ = model.recommend(
            split.train, split.users, k, Filters(exclude_seen=segment == "new")
        )
        has = np.diff(relevant.indptr) > 0
        rows.append(
            {
                "model": model.name,
                "segment": segment,
                "users": int(has.sum()),
                **ranking_metrics(ids, relevant),
                "coverage": coverage(ids[has], split.train.n_items),
            }
        )
    return rows


def default_models(two_tower_config: TwoTowerConfig) -> list[BaseRecommender]:
    """Every baseline, the two-tower model and the blend (sharing the fitted two-tower)."""
    baselines = all_baselines()
    ease = next(m for m in baselines if isinstance(m, Ease))
    two_tower = TwoTowerRecommender(two_tower_config)
    return [
        *baselines,
        two_tower,
        BlendRecommender(two_tower),
        BlendRecommender(two_tower, ease=ease),
    ]


def run_evaluation(
    split: EvalSplit, models: list[BaseRecommender], k: int, progress: bool = True
) -> list[dict[str, Any]]:
    """Fit each model on the training data and evaluate it; rows carry `fit_s`."""
    rows: list[dict[str, Any]] = []
    for model in models:
        start = time.perf_counter()
        model.fit(split.train)
        fit_s = time.perf_counter() - start
        if progress:
            print(f"  fitted {model.name} in {fit_s:.1f} s", flush=True)
        for row in evaluate_model(model, split, k):
            rows.append({**row, "fit_s": round(fit_s, 2)})
        if isinstance(model, BlendRecommender) and model.tuning and progress:
            print(
                f"    {model.name}: ease_weight {model.ease_weight} chosen on validation "
                + str([(t["ease_weight"], round(t["val_recall"], 4)) for t in model.tuning])
            )
    return rows


def format_table(rows: list[dict[str, Any]], k: int) -> str:
    """A plain-text table, repeat purchases first, then new items."""
    names = ["model", "users"] + [f"{m}@{k}" for m in METRICS] + ["coverage"]
    lines = []
    for segment in SEGMENTS:
        lines.append(
            f"\n{segment} purchases"
            if segment == "repeat"
            else "\nnew items (already-bought items excluded)"
        )
        lines.append(f"{names[0]:<33}{names[1]:>7}" + "".join(f"{n:>12}" for n in names[2:]))
        for row in (r for r in rows if r["segment"] == segment):
            lines.append(
                f"{row['model']:<33}{row['users']:>7}"
                + "".join(f"{row[m]:>12.4f}" for m in METRICS)
                + f"{row['coverage']:>12.4f}"
            )
    return "\n".join(lines)


def write_report(
    path: Path,
    cfg: EvalConfig,
    split: EvalSplit,
    rows: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
) -> None:
    """The evaluation as JSON (written atomically)."""
    payload = {
        "config": {**asdict(cfg), "until": cfg.until.isoformat()},
        "train_range": {"until": cfg.until.isoformat()},
        "test_range": {"start": split.test_start.isoformat(), "end": split.test_end.isoformat()},
        "catalogue_items": split.train.n_items,
        "train_customers": split.train.n_users,
        "evaluated_customers": int(split.users.size),
        "rows": rows,
        **(extra or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    os.replace(tmp, path)


def served_ids(frame: pl.DataFrame, split: EvalSplit, k: int) -> np.ndarray:
    """[len(split.users), k] item indices of served lists (BULK_COLUMNS rows), -1 padding."""
    user_of = {c: r for r, c in enumerate(np.array(split.train.user_ids)[split.users])}
    ids = np.full((split.users.size, k), -1, np.int64)
    index = split.train.catalogue.index
    for cust, rank, prod in frame.select("customer_id", "rank", "product_id").iter_rows():
        row = user_of.get(cust)
        if row is not None and rank <= k:
            ids[row, rank - 1] = index[prod]
    return ids


def evaluate_served(
    db: str | os.PathLike[str] | None, split: EvalSplit, k: int, as_of: dt.date
) -> list[dict[str, Any]]:
    """Metric rows of the registry's served lists made as of `as_of` (the export path):
    repeat from lists with purchased items allowed, new from lists with them excluded."""
    from recsys.service import BusinessRules, bulk_recommendations

    customers = [split.train.user_ids[u] for u in split.users]
    rows = []
    for segment in SEGMENTS:
        frame = bulk_recommendations(
            db, customers, k=k, as_of=as_of, rules=BusinessRules(exclude_purchased=segment == "new")
        )
        ids = served_ids(frame, split, k)
        relevant = split.relevant[segment]
        has = np.diff(relevant.indptr) > 0
        model = frame["model"][0] if frame.height else "served"
        rows.append(
            {
                "model": f"served {model}",
                "segment": segment,
                "users": int(has.sum()),
                **ranking_metrics(ids, relevant),
                "coverage": coverage(ids[has], split.train.n_items),
            }
        )
    return rows
