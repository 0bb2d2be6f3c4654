"""`bench/bench_inventory_weekly.py`: its weekly view of a daily warehouse is what the product
reads from the same sales loaded as a weekly panel, and the replay serves the daily demand."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from forecasting.inventory.config import PlanConfig
from forecasting.inventory.inputs import daily_matrix, store_pairs
from forecasting.inventory.simulate import SimConfig, load_sim_data, simulate
from warehouse.cli import main as warehouse_main
from warehouse.db import reading
from warehouse.ingest.sales_panel import PanelColumns, ingest_args

SPEC = importlib.util.spec_from_file_location(
    "bench_inventory_weekly",
    Path(__file__).resolve().parents[1] / "bench" / "bench_inventory_weekly.py",
)
assert SPEC is not None and SPEC.loader is not None
bench = importlib.util.module_from_spec(SPEC)
sys.modules["bench_inventory_weekly"] = bench
SPEC.loader.exec_module(bench)

FIRST = date(2024, 1, 6)  # a Saturday: the first day of a week ending on Friday
DAYS = 7 * 30


def _panels(folder: Path) -> tuple[Path, Path]:
    """The same random daily sales of 3 items loaded as a daily and as a Friday-weekly panel."""
    rng = np.random.default_rng(3)
    daily = pl.DataFrame(
        {
            "date": [FIRST + timedelta(days=d) for d in range(DAYS) for _ in range(3)],
            "store": ["1"] * (3 * DAYS),
            "item": ["a", "b", "c"] * DAYS,
            "sales": rng.poisson([4.0, 0.5, 12.0] * DAYS).astype(float),
        }
    )
    weekly = (
        daily.with_columns(
            (pl.col("date") + pl.duration(days=(12 - pl.col("date").dt.weekday()) % 7)).alias(
                "date"
            )
        )
        .group_by("date", "store", "item")
        .agg(pl.col("sales").sum())
        .sort("date", "item")
    )
    paths = []
    for name, frame in (("daily", daily), ("weekly", weekly)):
        frame.write_csv(folder / f"{name}.csv")
        db = folder / f"{name}.duckdb"
        columns = PanelColumns("date", "store", "item", "sales")
        assert warehouse_main(ingest_args(db, folder / f"{name}.csv", columns)) == 0
        paths.append(db)
    return paths[0], paths[1]


def test_the_weekly_view_reads_what_a_weekly_panel_gives_and_serves_daily_demand(
    tmp_path: Path,
) -> None:
    daily_db, weekly_db = _panels(tmp_path)
    until = FIRST + timedelta(days=7 * 24 - 1)  # a Friday, six weeks before the end
    cfg = SimConfig(until=until, days=35, plan=PlanConfig(n_samples=100))
    daily = load_sim_data(daily_db, cfg)
    back = daily.back(cfg)
    view = bench.weekly_view(daily, back, cfg.plan.window_days)
    with reading(weekly_db) as con:
        pairs = store_pairs(con, until)
        product = daily_matrix(con, pairs, until - timedelta(days=back), back + cfg.days)
    np.testing.assert_allclose(view.demand, product)  # every week whole: identical
    np.testing.assert_array_equal(view.actual, daily.demand[:, back:])
    weekly_data = dataclasses.replace(view, actual=None)
    served = simulate(view, cfg, progress=False).overall["shelfwise"]
    spread = simulate(weekly_data, cfg, progress=False).overall["shelfwise"]
    assert served["fill_rate"] <= 1.0 and 0.0 <= served["cycle_service_level"] <= 1.0
    # the same total demand is served either way; only its days differ
    assert served != spread
