"""Reporting of a replay: the printed table, the saved results, stock read off a curve.

Reads `SimResult` from `forecasting.inventory.simulate`; writes `simulation_results`.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import polars as pl

from forecasting.inventory.simulate import METRICS, SimConfig, SimResult
from warehouse.db import execute, sql_text, writing


def stock_at_service(curve: list[tuple[float, float]], service: float) -> float:
    """A policy's average stock at `service`, linear between its measured points.

    Args:
        curve: (cycle service, average on hand) of the same policy run at several levels.
    Returns:
        Units, or NaN when `service` is above every measured point (the policy never got there).
    """
    points = sorted(curve)
    services = np.array([p[0] for p in points])
    if service > services.max():
        return float("nan")
    return float(np.interp(service, services, np.array([p[1] for p in points])))


def write_results(db: str | os.PathLike[str], result: SimResult, cfg: SimConfig) -> None:
    """Replace this target's rows of `simulation_results` (overall + per product)."""
    overall = pl.DataFrame(
        [
            {"policy": name, "target": result.target, "scope": "overall", **metrics}
            for name, metrics in result.overall.items()
        ]
    )
    frame = pl.concat([overall, result.per_product], how="vertical_relaxed").with_columns(
        pl.lit(cfg.until).alias("until"),
        pl.lit(cfg.days).alias("days"),
        pl.lit(cfg.demand_mode).alias("demand_mode"),
    )
    with writing(db) as con:
        con.register("simulation_frame", frame.to_arrow())
        execute(con, sql_text("inventory/write_simulation"))
        execute(con, sql_text("inventory/delete_simulation_target"), {"target": result.target})
        execute(con, sql_text("inventory/insert_simulation"))
        con.unregister("simulation_frame")


def print_table(result: SimResult) -> None:
    """Human-readable comparison on stdout, notes on stderr."""
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"target cycle service level {result.target:.0%}")
    print(f"{'policy':<15}" + "".join(f"{m:>21}" for m in METRICS))
    for name, metrics in result.overall.items():
        print(f"{name:<15}" + "".join(f"{metrics[m]:>21}" for m in METRICS))
