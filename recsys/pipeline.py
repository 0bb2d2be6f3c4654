"""`make run` steps: train a model when none is loadable, then write the `recommendations` table."""

from __future__ import annotations

from pathlib import Path

from recsys.registry import latest_manifest
from warehouse.db import reading, table_exists
from warehouse.pipeline import PipelineStep


def _has_model(db: Path) -> bool:
    return latest_manifest(db) is not None


#: `make run` must finish in a few minutes on 2 cores: fewer, capped epochs than the CLI default.
PIPELINE_CONFIG_OVERRIDES = {"epochs": 3, "max_examples_per_epoch": 100_000}


def _train(db: Path) -> None:
    from recsys.cli import train_and_register
    from recsys.train import TwoTowerConfig

    train_and_register(db, until=None, progress=True,
                       config=TwoTowerConfig(**PIPELINE_CONFIG_OVERRIDES))


def _has_table(db: Path) -> bool:
    if not db.exists():
        return False
    with reading(db) as con:
        return table_exists(con, "recommendations")


def _export(db: Path) -> None:
    from recsys.export import write_table
    from recsys.service import BusinessRules, bulk_recommendations

    write_table(db, bulk_recommendations(db, k=20, rules=BusinessRules(), progress=True))


STEPS: list[PipelineStep] = [
    PipelineStep("recsys train", _has_model, _train),
    PipelineStep("recsys export", _has_table, _export),
]
