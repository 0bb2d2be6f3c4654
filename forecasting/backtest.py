"""Rolling-origin backtest: every model beside every baseline, by segment and at weekly level.

Windows end at `until`, `until - h`, `until - 2h`, ... (history through the cutoff inclusive;
the next h periods are scored). Each window forecasts the series that sold in the `active_days`
before its cutoff, exactly as `run` would. Metrics: `forecasting.metrics`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from tqdm import tqdm

from forecasting.data import STEP_DAYS, Panel, last_sale_day, load_panel, warehouse_frequency
from forecasting.engine import EngineConfig, EngineResult, forecast_panel
from forecasting.errors import ForecastInputError
from forecasting.metrics import insample_scales, pool, series_stats
from forecasting.schemas import BACKTEST_SCHEMA
from warehouse.db import execute, sql_text, writing
from warehouse.executors import Executor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacktestConfig:
    """Options of a backtest.

    Attributes:
        until: cutoff of the last window (history through it; the next `horizon` periods scored).
        windows: number of rolling origins, `horizon` periods apart.
        active_days: series that sold in this many days before a cutoff are forecast.
        engine: models, levels and the horizon.
    """

    until: dt.date
    windows: int = 2
    active_days: int = 90
    engine: EngineConfig = field(default_factory=EngineConfig)

    def __post_init__(self) -> None:
        if self.windows < 1:
            raise ValueError(f"--windows must be >= 1, got {self.windows}")
        if self.active_days < 1:
            raise ValueError(f"--active-days must be >= 1, got {self.active_days}")


@dataclass
class BacktestReport:
    """Pooled metrics (`BACKTEST_SCHEMA` plus `seconds`) and per-window metadata."""

    table: pl.DataFrame
    windows: list[dict[str, object]]

    def to_json(self) -> dict[str, object]:
        """JSON-ready dict: the rows and the windows."""
        return {"results": self.table.to_dicts(), "windows": self.windows}


def _weekly(x: np.ndarray) -> np.ndarray:
    """(n, h) daily -> (n, h // 7) weekly sums from the first column."""
    w = x.shape[1] // 7
    return x[:, : w * 7].reshape(x.shape[0], w, 7).sum(2)


def window_stats(result: EngineResult, actual: np.ndarray) -> pl.DataFrame:
    """Per-series statistics of every model of one window, at native and weekly frequency."""
    panel, end = result.panel, result.end
    hist = panel.y[:, : end + 1].astype(np.float64)
    mae_s, mse_s = insample_scales(hist, panel.start, panel.season)
    weekly = panel.freq == "D" and actual.shape[1] >= 7
    if weekly:
        cut = (end + 1) % 7
        wk_hist = _weekly(hist[:, cut:])
        wk_start = np.maximum(panel.start - cut, 0) // 7
        wk_season = 52 if wk_hist.shape[1] >= 104 else 1  # under 2 years: naive scale
        wk_mae, wk_mse = insample_scales(wk_hist, wk_start, wk_season)
    frames = []
    for name, fc in result.forecasts.items():
        rows = fc.rows
        ints = {lv: fc.interval(lv) for lv in (80, 95) if _has_level(fc, lv)}
        stats = series_stats(actual[rows], fc.yhat, mae_s[rows], mse_s[rows], fc.quantiles, ints)
        frames.append(_frame(name, panel.freq, rows, result.segment, stats))
        if weekly:
            wk = series_stats(_weekly(actual[rows]), _weekly(fc.yhat), wk_mae[rows], wk_mse[rows])
            frames.append(_frame(name, "W", rows, result.segment, wk))
    return pl.concat(frames)


def _has_level(fc: object, level_pct: int) -> bool:
    lo = round((1 - level_pct / 100) / 2, 6)
    return lo in fc.quantiles  # type: ignore[attr-defined]


def _frame(
    name: str, freq: str, rows: np.ndarray, segment: np.ndarray, stats: dict[str, np.ndarray]
) -> pl.DataFrame:
    return pl.DataFrame(
        {"model": name, "frequency": freq, "row": rows, "segment": segment[rows], **stats}
    )


def summarise(stats: pl.DataFrame, prophet_keys: pl.DataFrame | None) -> pl.DataFrame:
    """Pooled rows per model x segment ('all', each segment, 'prophet_subset') x frequency."""
    parts = [
        pool(stats.with_columns(pl.lit("all").alias("segment")), ["model", "segment", "frequency"]),
        pool(stats, ["model", "segment", "frequency"]),
    ]
    if prophet_keys is not None and prophet_keys.height:
        sub = stats.join(prophet_keys, on=["window", "row"], how="semi")
        parts.append(
            pool(
                sub.with_columns(pl.lit("prophet_subset").alias("segment")),
                ["model", "segment", "frequency"],
            )
        )
    order = {
        "all": 0,
        "smooth": 1,
        "erratic": 2,
        "intermittent": 3,
        "lumpy": 4,
        "prophet_subset": 5,
    }
    table = pl.concat(parts).with_columns(
        pl.col("segment").replace_strict(order, default=9).alias("_o")
    )
    return table.sort("frequency", "_o", "wape").drop("_o").select(list(BACKTEST_SCHEMA))


def run_backtest(
    db: str | os.PathLike[str],
    cfg: BacktestConfig,
    progress: bool = True,
    executor: Executor | None = None,
) -> BacktestReport:
    """Run every window and pool the metrics (see the module docstring); with an `executor`
    the per-series models of each window run by series chunks on it."""
    h = cfg.engine.horizon
    step = STEP_DAYS[warehouse_frequency(db)]
    last_needed = cfg.until + dt.timedelta(days=step * h)
    last_sale = last_sale_day(db)
    if last_sale is None or last_sale < last_needed - dt.timedelta(days=step - 1):
        raise ForecastInputError(
            f"--until {cfg.until} --horizon {h}: actuals end on {last_sale}, the last window "
            f"needs them through {last_needed}"
        )
    panel = load_panel(
        db,
        last_needed,
        horizon=h,
        active_days=None,
        lookback_days=1100 + step * h * (cfg.windows + 1),
    )
    until_idx = panel.index_of(cfg.until)
    frames, windows, keys = [], [], []
    for w in tqdm(range(cfg.windows - 1, -1, -1), desc="backtest windows", disable=not progress):
        end = until_idx - w * h
        sub = _active(panel, end, cfg.active_days // step)
        result = forecast_panel(sub, end, cfg.engine, executor=executor)
        actual = sub.y[:, end + 1 : end + 1 + h].astype(np.float64)
        frames.append(window_stats(result, actual).with_columns(pl.lit(w).alias("window")))
        keys.append(pl.DataFrame({"window": w, "row": result.prophet_rows}))
        windows.append(
            {
                "cutoff": str(sub.dates[end]),
                "n_series": sub.n,
                "choice": result.choice,
                "seconds": {k: round(v.seconds, 2) for k, v in result.forecasts.items()},
            }
        )
    stats = pl.concat(frames)
    prophet_keys = pl.concat(keys).with_columns(
        pl.col("row").cast(pl.Int64), pl.col("window").cast(pl.Int32)
    )
    stats = stats.with_columns(pl.col("row").cast(pl.Int64), pl.col("window").cast(pl.Int32))
    return BacktestReport(summarise(stats, prophet_keys), windows)


def _active(panel: Panel, end: int, periods: int) -> Panel:
    lo = max(0, end + 1 - periods)
    return panel.subset(np.flatnonzero(panel.y[:, lo : end + 1].sum(1) > 0))


def save_backtest(db: str | os.PathLike[str], report: BacktestReport, cfg: BacktestConfig) -> None:
    """Replace `backtest_results` with this report (atomic)."""
    frame = report.table.with_columns(
        pl.lit(cfg.until).alias("until"),
        pl.lit(cfg.engine.horizon).alias("horizon"),
        pl.lit(cfg.windows).alias("windows"),
        pl.lit(dt.datetime.now(dt.UTC).replace(tzinfo=None)).alias("created_at"),
    )
    with writing(db) as con:
        con.execute(sql_text("forecasting/create_tables")).fetchall()
        con.register("_new_backtest", frame.to_arrow())
        for statement in sql_text("forecasting/replace_backtest").split(";"):
            if statement.strip():
                execute(con, statement)
        con.unregister("_new_backtest")
