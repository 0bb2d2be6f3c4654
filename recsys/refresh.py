"""Batch jobs of the recommender: train and register a model, write the recommendations table.

Called by the `python -m recsys` CLI and by the refresh pipeline (`services.pipeline`).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any, Literal

import polars as pl

from recsys.baselines import Ease
from recsys.blend import BlendRecommender
from recsys.data import catalogue_fingerprint, load_train_data
from recsys.ddp import fit_ddp
from recsys.export import write_table
from recsys.ranker import RankerConfig, RankerModel
from recsys.registry import save_model
from recsys.service import BusinessRules, bulk_recommendations
from recsys.train import TwoTowerConfig
from warehouse.db import resolve_db_path
from warehouse.freshness import read_data_state


def train_and_register(
    db: str | os.PathLike[str] | None,
    until: dt.date | None,
    progress: bool = True,
    config: TwoTowerConfig | None = None,
    ranker_config: RankerConfig | Literal[False] | None = None,
    workers: int = 1,
) -> Path:
    """Fit the two-tower model, the blend and the LightGBM ranker on sales through `until`.

    `ranker_config` None means `RankerConfig()`, False means no ranker (the blend serves).
    Saves one new registry version holding all of them. With `workers` > 1 the two-tower
    trains in that many processes under torch DDP (`recsys.ddp`).
    """
    config = config or TwoTowerConfig(show_progress=progress)
    generation = read_data_state(resolve_db_path(db)).generations["sales"]  # before reading
    data = load_train_data(db, until=until)
    ranker = None
    ranker_s = 0.0
    if ranker_config is not False:
        start = time.perf_counter()
        ranker = RankerModel.fit(data, ranker_config or RankerConfig(), progress)
        ranker_s = time.perf_counter() - start
    model = fit_ddp(data, config, workers)
    # the blend (and its EASE) only serves versions without a ranker
    ease = Ease() if ranker is None and data.n_items <= Ease().config.max_items else None
    blend = BlendRecommender(model, ease=ease).fit(data)
    t = pl.col("t_days")
    t_min, t_max = data.events.select(t.min().alias("min"), t.max().alias("max")).row(0)
    first = dt.date(1970, 1, 1) + dt.timedelta(days=int(t_min))
    last = dt.date(1970, 1, 1) + dt.timedelta(days=int(t_max))
    metrics: dict[str, Any] = {
        "epochs": model.history,
        "train_examples_per_s": round(model.examples_per_s, 1),
        "customers": data.n_users,
        "items": data.n_items,
        "purchases": data.events.height,
        "ranker_fit_s": round(ranker_s, 2),
        "ranker": ranker.stats if ranker else None,
    }
    return save_model(
        db,
        model,
        data_range={
            "first_sale": first.isoformat(),
            "last_sale": last.isoformat(),
            "until": until.isoformat() if until else None,
        },
        metrics={**metrics, "ease_weight_tuning": blend.tuning},
        extra={
            "buy_again_weight": blend.buy_again_weight,
            "ease_weight": blend.ease_weight,
            "serving_model": blend.name,
            "catalogue_sha256": catalogue_fingerprint(data.catalogue.item_ids),
            "data_generation": generation,
        },
        ease=ease,
        ranker=ranker,
    )


def export_recommendations(db: str | os.PathLike[str], k: int = 20, progress: bool = True) -> int:
    """Write top-`k` lists for every customer under the default rules; returns the row count."""
    return write_table(db, bulk_recommendations(db, k=k, rules=BusinessRules(), progress=progress))
