"""Refresh jobs of the inventory optimizer: the reorder plan and a replay of recent days.

Called by the refresh pipeline (`services.pipeline`); the CLI offers the full options.
"""

from __future__ import annotations

import os
from datetime import timedelta

from forecasting.errors import NotEnoughHistoryError
from forecasting.inventory.config import PlanConfig
from forecasting.inventory.inputs import sales_range
from forecasting.inventory.plan import run_plan

__all__ = ["SIM_DAYS", "SIM_SAMPLES", "plan_latest", "simulate_recent"]
from forecasting.inventory.sim_report import write_results
from forecasting.inventory.simulate import SimConfig, load_sim_data, simulate
from warehouse.db import reading

#: The refresh's simulation summary: the last `SIM_DAYS` days, replayed from before.
SIM_DAYS = 56
SIM_SAMPLES = 500


def plan_latest(db: str | os.PathLike[str]) -> None:
    """Write today's reorder plan with the default options."""
    run_plan(db)


def simulate_recent(db: str | os.PathLike[str], progress: bool = True) -> None:
    """Replay the last `SIM_DAYS` days and save the summary; with `progress`, a bar over the
    replayed days. Raises NotEnoughHistoryError under `2 * SIM_DAYS` days of sales."""
    with reading(db) as con:
        first, last = sales_range(con)
    until = last - timedelta(days=SIM_DAYS)
    if until < first + timedelta(days=SIM_DAYS):  # the pipeline logs it as skipped
        raise NotEnoughHistoryError(f"less than {2 * SIM_DAYS} days of sales to replay")
    cfg = SimConfig(until=until, days=SIM_DAYS, plan=PlanConfig(n_samples=SIM_SAMPLES))
    result = simulate(load_sim_data(db, cfg), cfg, progress=progress)
    write_results(db, result, cfg)
