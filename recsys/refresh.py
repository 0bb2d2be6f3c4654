"""Batch jobs of the recommender: train and register a model, write the recommendations table.

Called by the `python -m recsys` CLI and by the refresh pipeline (`services.pipeline`).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from recsys.baselines import Ease
from recsys.blend import BlendRecommender
from recsys.data import catalogue_fingerprint, load_train_data
from recsys.export import write_table
from recsys.registry import latest_manifest, save_model
from recsys.service import BusinessRules, bulk_recommendations
from recsys.train import TwoTowerConfig, TwoTowerRecommender
from warehouse.db import reading, resolve_db_path, table_exists
from warehouse.freshness import read_data_state


def train_and_register(
    db: str | os.PathLike[str] | None,
    until: dt.date | None,
    progress: bool = True,
    config: TwoTowerConfig | None = None,
) -> Path:
    """Fit the two-tower model on sales through `until` and save a new registry version."""
    config = config or TwoTowerConfig(show_progress=progress)
    generation = read_data_state(resolve_db_path(db)).generations["sales"]  # before reading
    data = load_train_data(db, until=until)
    model = TwoTowerRecommender(config).fit(data)
    ease = Ease() if data.n_items <= Ease().config.max_items else None
    blend = BlendRecommender(model, ease=ease).fit(data)
    t = data.events["t_days"]
    first = dt.date(1970, 1, 1) + dt.timedelta(days=int(t.min()))
    last = dt.date(1970, 1, 1) + dt.timedelta(days=int(t.max()))
    metrics: dict[str, Any] = {
        "epochs": model.history,
        "train_examples_per_s": round(model.examples_per_s, 1),
        "customers": data.n_users,
        "items": data.n_items,
        "purchases": data.events.height,
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
    )


def has_model(db: str | os.PathLike[str]) -> bool:
    """Whether the registry next to `db` holds a loadable model version."""
    return latest_manifest(db) is not None


def has_recommendations(db: str | os.PathLike[str]) -> bool:
    """Whether the warehouse has a `recommendations` table (an empty one counts as written)."""
    if not Path(db).exists():
        return False
    with reading(db) as con:
        return table_exists(con, "recommendations")


def export_recommendations(db: str | os.PathLike[str], k: int = 20, progress: bool = True) -> int:
    """Write top-`k` lists for every customer under the default rules; returns the row count."""
    return write_table(db, bulk_recommendations(db, k=k, rules=BusinessRules(), progress=progress))
