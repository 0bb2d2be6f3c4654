"""Kept forecast runs: list them, and an earlier run's forecast beside what actually sold.

Every `run_forecast` archives its point forecasts and 80% intervals in `forecast_archive`
(the newest 12 runs); `forecasts` keeps only the latest run in full.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import polars as pl

from forecasting.errors import NoForecastError
from warehouse.db import reading, run_named, table_exists


def list_runs(db: str | os.PathLike[str]) -> pl.DataFrame:
    """Forecast runs, newest first: run_id, created_at, until, horizon, models, n_series,
    model_version, kept (whether its forecasts are still in the archive)."""
    with reading(db) as con:
        if not table_exists(con, "forecast_runs") or not table_exists(con, "forecast_archive"):
            raise NoForecastError(f"{db}: no forecast runs; run `python -m forecasting run`")
        return run_named(con, "forecasting/runs")


def forecast_vs_actuals(
    db: str | os.PathLike[str],
    run_id: str | None = None,
    *,
    store_id: str | None = None,
    product_id: str | None = None,
    category: str | None = None,
) -> pl.DataFrame:
    """An earlier run's forecast beside what sold ("last week's forecast vs what happened").

    Args:
        db: the warehouse.
        run_id: the run to show; default the newest kept run before the latest one (the latest
            when only one is kept).
        store_id, product_id, category: filters (None = all), summed bottom-up.

    Returns:
        date, yhat, yhat_lo_80, yhat_hi_80 (units per period), model, actual (units; NULL after
        the last sale), run_id.
    """
    runs = list_runs(db).filter(pl.col("kept"))
    if runs.height == 0:
        raise NoForecastError(f"{db}: no kept forecast runs; run `python -m forecasting run`")
    if run_id is None:
        run_id = str(runs["run_id"][1] if runs.height > 1 else runs["run_id"][0])
    elif run_id not in runs["run_id"].to_list():
        raise NoForecastError(f"run {run_id}: not kept (see `python -m forecasting runs`)")
    params = {
        "run_id": run_id,
        "store_id": store_id,
        "product_id": product_id,
        "category": category,
    }
    with reading(db) as con:
        frame = run_named(con, "forecasting/run_vs_actuals", params)
    return frame.with_columns(pl.lit(run_id).alias("run_id"))


def _cmd_runs(db: Path, args: argparse.Namespace) -> int:
    runs = list_runs(db)
    with pl.Config(tbl_rows=50, tbl_width_chars=200, fmt_str_lengths=40):
        print(runs)
    if args.vs_actuals:
        with pl.Config(tbl_rows=120, tbl_width_chars=200):
            print(forecast_vs_actuals(db, args.run, store_id=args.store, product_id=args.product))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `runs` sub-command."""
    runs = subparsers.add_parser("runs", help="list kept forecast runs (and one vs actuals)")
    runs.add_argument(
        "--vs-actuals", action="store_true", help="also print a run's forecast beside what sold"
    )
    runs.add_argument("--run", help="run id (default: the run before the latest)")
    runs.add_argument("--store", help="store id filter")
    runs.add_argument("--product", help="product id filter")
    runs.set_defaults(handler=_cmd_runs)
