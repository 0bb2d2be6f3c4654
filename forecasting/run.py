"""`python -m forecasting run`: forecast every active store x product and write the tables.

Writes `forecasts` (latest run only), `forecast_drivers` and a row of `forecast_runs` in one
atomic warehouse transaction, and the LightGBM model (versioned, atomic) under
`warehouse.paths.artifacts_dir(db, "forecasting")/vNNNN/`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from forecasting.data import load_panel
from forecasting.engine import AUTO, EngineConfig, EngineResult, forecast_panel
from forecasting.features import DRIVER_GROUPS
from forecasting.intervals import interval
from forecasting.schemas import FORECAST_SCHEMA, QUANTILES
from warehouse.db import execute, sql_text, writing
from warehouse.executors import Executor
from warehouse.paths import artifacts_dir


@dataclass(frozen=True)
class RunConfig:
    """Options of a forecast run.

    Attributes:
        until: last day of history (None: the last sale).
        active_days: forecast series that sold in this many days up to `until`.
        engine: horizon, levels and models.
    """

    until: dt.date | None = None
    active_days: int = 90
    engine: EngineConfig = field(default_factory=EngineConfig)

    def __post_init__(self) -> None:
        if self.active_days < 1:
            raise ValueError(f"--active-days must be >= 1, got {self.active_days}")
        if not {80, 95} <= set(self.engine.levels):
            raise ValueError("--levels must include 80 and 95 (the forecasts table stores both)")


def forecast_frame(result: EngineResult, run_id: str) -> pl.DataFrame:
    """The auto forecaster's rows in `FORECAST_SCHEMA` (n_series x h rows)."""
    fc = result.forecasts[AUTO]
    panel = result.panel
    n, h = fc.yhat.shape
    dates = panel.future_dates(result.end, h)
    cols: dict[str, object] = {
        "store_id": np.repeat(panel.store_id, h),
        "product_id": np.repeat(panel.product_id, h),
        "date": np.tile(dates, n),
        "model": np.repeat(fc.model, h),
        "yhat": fc.yhat.ravel(),
    }
    for lv in (80, 95):
        lo, hi = interval(fc.quantiles, fc.yhat, lv)
        cols[f"yhat_lo_{lv}"], cols[f"yhat_hi_{lv}"] = lo.ravel(), hi.ravel()
    for p, name in QUANTILES.items():
        cols[name] = fc.quantiles[p].ravel()
    cols["run_id"] = run_id
    return pl.DataFrame(cols).select([pl.col(c).cast(t) for c, t in FORECAST_SCHEMA.items()])


def drivers_frame(result: EngineResult, run_id: str, max_series: int = 3000) -> pl.DataFrame:
    """Readable LightGBM drivers of the next period's forecast, for the `max_series` series
    with the largest forecast volume (SHAP values cost about a millisecond per series)."""
    empty = pl.DataFrame(
        schema={
            "store_id": pl.String,
            "product_id": pl.String,
            "driver": pl.String,
            "contribution": pl.Float64,
            "run_id": pl.String,
        }
    )
    if result.lightgbm is None:
        return empty
    volume = result.forecasts[AUTO].yhat.sum(1)
    series = np.sort(np.argsort(-volume, kind="stable")[:max_series])
    values = result.lightgbm.drivers(series)
    panel, names = result.panel, list(DRIVER_GROUPS)
    return pl.DataFrame(
        {
            "store_id": np.repeat(panel.store_id[series], len(names)),
            "product_id": np.repeat(panel.product_id[series], len(names)),
            "driver": np.tile(names, series.size),
            "contribution": values.ravel(),
            "run_id": run_id,
        }
    )


def save_model(db: str | os.PathLike[str], result: EngineResult, meta: dict[str, object]) -> str:
    """Write the LightGBM booster and metadata to a new version folder atomically; its name."""
    root = artifacts_dir(db, "forecasting")
    root.mkdir(parents=True, exist_ok=True)
    existing = [int(p.name[1:]) for p in root.glob("v[0-9][0-9][0-9][0-9]") if p.is_dir()]
    version = f"v{max(existing, default=0) + 1:04d}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        if result.lightgbm is not None:
            result.lightgbm.booster.save_model(str(tmp / "lightgbm.txt"))
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
        os.replace(tmp, root / version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return version


def run_forecast(
    db: str | os.PathLike[str],
    cfg: RunConfig,
    progress: bool = False,
    executor: Executor | None = None,
) -> dict[str, object]:
    """Forecast, save the model, write the tables; returns a summary of the run.

    The driver reads the warehouse once and writes it once (one transaction); with an
    `executor` the per-series models run by series chunks on it (`forecasting.fanout`).
    """
    h = cfg.engine.horizon
    panel = load_panel(db, cfg.until, horizon=h, active_days=cfg.active_days)
    end = panel.y.shape[1] - 1
    result = forecast_panel(panel, end, cfg.engine, progress=progress, executor=executor)
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    frame = forecast_frame(result, run_id)
    drivers = drivers_frame(result, run_id)
    models = sorted(set(result.forecasts[AUTO].model))
    until = panel.dates[end].astype(dt.date)
    meta = {
        "run_id": run_id,
        "until": until,
        "horizon": h,
        "choice": result.choice,
        "n_series": panel.n,
        "frequency": panel.freq,
        "calibration": result.calibration,
    }
    version = save_model(db, result, meta)
    run_row = pl.DataFrame(
        {
            "run_id": [run_id],
            "created_at": [dt.datetime.now(dt.UTC).replace(tzinfo=None)],
            "until": [until],
            "horizon": [h],
            "models": [",".join(models)],
            "n_series": [panel.n],
            "frequency": [panel.freq],
            "model_version": [version],
            "choice": [json.dumps(result.choice)],
            "calibration": [result.calibration],
        }
    )
    with writing(db) as con:
        con.execute(sql_text("forecasting/create_tables")).fetchall()
        con.register("_new_forecasts", frame.to_arrow())
        con.register("_new_drivers", drivers.to_arrow())
        con.register("_new_run", run_row.to_arrow())
        for statement in sql_text("forecasting/replace_forecasts").split(";"):
            if statement.strip():
                execute(con, statement)
        for name in ("_new_forecasts", "_new_drivers", "_new_run"):
            con.unregister(name)
    return {**meta, "rows": frame.height, "model_version": version, "models": models}
