"""Fit every model twice (calibration origin and cutoff), add conformal intervals, fall back on
failures, and choose a model or small ensemble per segment ("auto", `forecasting.choice`) from
the calibration window.

`forecast_panel` is the one entry point used by both `run` and `backtest`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from tqdm import tqdm

from forecasting.choice import choose, ensemble_arrays
from forecasting.data import Panel
from forecasting.fanout import (
    fans_out,
    fit_lightgbm_fanned_out,
    fit_predict_chunks,
    prophet_model,
)
from forecasting.intervals import (
    MIN_POOLED_POINTS,
    ConformalTable,
    horizon_buckets,
    interval,
    level,
    probabilities,
    residual_scale,
    scale_groups,
    segments,
)
from forecasting.models.base import Forecaster, make_model
from forecasting.models.lgbm import LightGBMConfig, LightGBMGlobal
from warehouse.executors import Executor

log = logging.getLogger(__name__)

FALLBACK = "moving_average"
#: Models every series gets (the candidates of the per-segment choice).
DEFAULT_MODELS: tuple[str, ...] = (
    "seasonal_naive",
    "moving_average",
    "croston_sba",
    "tsb",
    "ets",
    "lightgbm",
    "lightgbm_median",
)
AUTO = "auto"
#: `prophet_series` value meaning every series.
PROPHET_ALL = -1
#: The objective of each LightGBM variant.
LIGHTGBM_OBJECTIVES: dict[str, str] = {"lightgbm": "tweedie", "lightgbm_median": "l1"}


@dataclass(frozen=True)
class EngineConfig:
    """What to forecast and with which models.

    Attributes:
        horizon: periods ahead.
        levels: central interval levels in percent.
        models: models run on every series (must include FALLBACK).
        prophet_series: how many smooth, high-volume series also get Prophet (0 = none,
            PROPHET_ALL = every series, in parallel processes; it then joins the choice).
        lightgbm: options of the global model.
        refit: refit LightGBM at the cutoff; by default the booster fitted at the calibration
            origin also forecasts from the cutoff (half the cost; residuals stay out-of-sample).
    """

    horizon: int = 28
    levels: tuple[int, ...] = (80, 95)
    models: tuple[str, ...] = DEFAULT_MODELS
    prophet_series: int = 20
    lightgbm: LightGBMConfig = field(default_factory=LightGBMConfig)
    refit: bool = False

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError(f"--horizon must be >= 1, got {self.horizon}")
        if FALLBACK not in self.models:
            raise ValueError(f"models must include the fallback {FALLBACK!r}")
        if self.prophet_series < PROPHET_ALL:
            raise ValueError(f"prophet_series must be >= 0 or 'all', got {self.prophet_series}")
        if "prophet" in self.models:
            raise ValueError("prophet runs on a subset: set prophet_series instead")
        probabilities(self.levels)


@dataclass
class ModelForecast:
    """One model's forecast with quantiles, for the series in `rows` of the panel.

    Attributes:
        rows: (m,) panel rows covered.
        model: (m,) model actually used per series (the fallback where the model failed).
        yhat: (m, h); quantiles: {p: (m, h)}; cal_yhat: (m, h) calibration-window forecast.
        calibration: how the intervals were calibrated (`ConformalTable.method`).
    """

    rows: np.ndarray
    model: np.ndarray
    yhat: np.ndarray
    quantiles: dict[float, np.ndarray]
    cal_yhat: np.ndarray
    seconds: float = 0.0
    calibration: str = ""

    def interval(self, level_pct: int) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) of the central `level_pct`% interval."""
        return interval(self.quantiles, self.yhat, level_pct)


@dataclass
class EngineResult:
    """Every model's forecast, the auto choice, and the fitted LightGBM (for drivers)."""

    panel: Panel
    end: int
    forecasts: dict[str, ModelForecast]
    segment: np.ndarray
    choice: dict[str, str]
    prophet_rows: np.ndarray
    lightgbm: LightGBMGlobal | None

    @property
    def calibration(self) -> str:
        """How the chosen forecaster's intervals were calibrated (one line)."""
        return self.forecasts[AUTO].calibration


def _build(name: str, cfg: EngineConfig) -> Forecaster:
    return _lightgbm(name, cfg) if name in LIGHTGBM_OBJECTIVES else make_model(name)


def _lightgbm(name: str, cfg: EngineConfig) -> LightGBMGlobal:
    opts = {
        **cfg.lightgbm.__dict__,
        "horizon": cfg.horizon,
        "objective": LIGHTGBM_OBJECTIVES[name],
    }
    if name == "lightgbm_median":  # picked on the OR II validation window, see FORECASTING.md
        opts.update(
            max_rows=min(cfg.lightgbm.max_rows, 120_000),
            bags=3,
            n_estimators=min(cfg.lightgbm.n_estimators, 150),
            learning_rate=0.1,
        )
    return LightGBMGlobal(LightGBMConfig(**opts), name=name)


def _fit_predict(model: Forecaster, panel: Panel, end: int, h: int) -> np.ndarray:
    try:
        out = np.asarray(model.fit(panel, end).predict(h), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - a failing model falls back, never kills the run
        log.warning("%s failed (%s); its series fall back to %s", model.name, exc, FALLBACK)
        return np.full((panel.n, h), np.nan)
    out[~np.isfinite(out).all(1)] = np.nan
    return out


def _predict_from(model: LightGBMGlobal, panel: Panel, end: int, h: int) -> np.ndarray:
    try:
        out = model.with_origin(panel, end).predict(h)
    except Exception as exc:  # noqa: BLE001 - falls back like any failing model
        log.warning("lightgbm failed at the cutoff (%s); falling back to %s", exc, FALLBACK)
        return np.full((panel.n, h), np.nan)
    out[~np.isfinite(out).all(1)] = np.nan
    return out


def select_prophet_rows(panel: Panel, end: int, segment: np.ndarray, k: int) -> np.ndarray:
    """Up to `k` smooth series with at least a year of history, highest volume first
    (every series when `k` is PROPHET_ALL)."""
    if k == PROPHET_ALL:
        return np.arange(panel.n)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    volume = panel.y[:, max(0, end - 363) : end + 1].sum(1)
    old = (end - panel.start) >= min(365, end // 2)
    smooth = np.flatnonzero((segment == "smooth") & old)
    pool = smooth if smooth.size else np.flatnonzero(old)
    return pool[np.argsort(-volume[pool], kind="stable")][:k]


def forecast_panel(
    panel: Panel,
    end: int,
    cfg: EngineConfig,
    progress: bool = False,
    executor: Executor | None = None,
    chunk: int | None = None,
) -> EngineResult:
    """Forecast periods end+1..end+h for every series with every model, plus the auto choice.

    Calibration fits every model at `end - h` and scores the last `h` known periods, so the
    history must hold two horizons (`min_history`); the intervals adapt to what there is
    (`ConformalTable.fit` pools, `ConformalTable.model_based` is the last resort).
    With `progress`, a tqdm bar counts series x models done. With an `executor`, the
    per-series models run by chunks of `chunk` series (default
    `CHUNK_SERIES`) on it (`forecasting.fanout`) and Prophet's
    fits too; LightGBM trains here (global) and, on an engine other than the inline one,
    predicts by the same chunks on it.
    """
    h = cfg.horizon
    cal_end = end - h
    need = min_history(h)
    if end + 1 < need:
        unit = "days" if panel.freq == "D" else "weeks"
        raise ValueError(
            f"--horizon {h}: needs at least {need} {unit} of history up to the cutoff (two "
            f"horizons: one to fit, one to calibrate the intervals), found {end + 1}"
        )
    probs = probabilities(cfg.levels)
    seg_cal, seg = segments(panel, cal_end), segments(panel, end)
    scale_cal, scale = level(panel, cal_end), level(panel, end)
    buckets = horizon_buckets(h, panel.freq)
    actual_cal = panel.y[:, cal_end + 1 : end + 1].astype(np.float64)
    all_rows = np.arange(panel.n)

    raw: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float]] = {}
    lgbm: LightGBMGlobal | None = None
    bar = tqdm(
        total=panel.n * len(cfg.models),
        desc="forecast series x models",
        unit="series",
        disable=not progress,
    )
    for name in cfg.models:
        bar.set_postfix_str(name)
        t0 = time.perf_counter()
        model = _build(name, cfg)
        if name in LIGHTGBM_OBJECTIVES and fans_out(executor):  # trained here, chunks predict
            cal, fut, fitted = fit_lightgbm_fanned_out(
                partial(_lightgbm, name, cfg), panel, cal_end, end, h, cfg.refit, executor, chunk
            )
            lgbm = fitted if name == "lightgbm" and np.isfinite(fut).any() else lgbm
            raw[name] = (all_rows, cal, fut, time.perf_counter() - t0)
            bar.update(panel.n)
            continue
        if executor is not None and name not in LIGHTGBM_OBJECTIVES:
            cal, fut = fit_predict_chunks(name, panel, cal_end, end, h, executor, chunk)
            raw[name] = (all_rows, cal, fut, time.perf_counter() - t0)
            bar.update(panel.n)
            continue
        cal = _fit_predict(model, panel, cal_end, h)
        if name in LIGHTGBM_OBJECTIVES and not cfg.refit and np.isfinite(cal).any():
            fut = _predict_from(model, panel, end, h)  # type: ignore[arg-type]
        else:
            model = _build(name, cfg)
            fut = _fit_predict(model, panel, end, h)
        if name == "lightgbm" and np.isfinite(fut).any():
            lgbm = model  # type: ignore[assignment]
        raw[name] = (all_rows, cal, fut, time.perf_counter() - t0)
        bar.update(panel.n)
    bar.close()
    prophet_rows = select_prophet_rows(panel, end, seg, cfg.prophet_series)
    if prophet_rows.size:
        t0 = time.perf_counter()
        sub = panel.subset(prophet_rows)
        cal = _fit_predict(prophet_model(executor), sub, cal_end, h)
        fut = _fit_predict(prophet_model(executor), sub, end, h)
        raw["prophet"] = (prophet_rows, cal, fut, time.perf_counter() - t0)

    fb_rows, fb_cal, fb_fut, _ = raw[FALLBACK]
    forecasts: dict[str, ModelForecast] = {}
    for name, (rows, cal, fut, secs) in raw.items():
        failed = ~np.isfinite(fut).all(1) | ~np.isfinite(cal).all(1)
        cal, _ = apply_fallback(name, cal, fb_cal[rows], failed)
        fut, used = apply_fallback(name, fut, fb_fut[rows], failed)
        quant, method = conformal(
            panel, end, actual_cal[rows], cal, fut, scale_cal[rows], scale[rows], buckets, probs
        )
        forecasts[name] = ModelForecast(rows, used, fut, quant, cal, secs, method)

    choice = choose(forecasts, actual_cal, seg_cal, prophet_rows)
    for name in sorted(set(choice.values()) - set(forecasts)):  # an ensemble of models
        fut, cal, used = ensemble_arrays(forecasts, name)
        quant, method = conformal(
            panel, end, actual_cal, cal, fut, scale_cal, scale, buckets, probs
        )
        secs = sum(forecasts[m].seconds for m in name.split("+"))
        forecasts[name] = ModelForecast(all_rows, used, fut, quant, cal, secs, method)
    forecasts[AUTO] = assemble_auto(forecasts, choice, seg, prophet_rows, panel.n)
    methods = sorted({forecasts[name].calibration for name in set(choice.values())})
    forecasts[AUTO].calibration = "; ".join(methods)
    log.info("choice per segment: %s", choice)
    log.info("intervals: %s", forecasts[AUTO].calibration)
    return EngineResult(panel, end, forecasts, seg, choice, prophet_rows, lgbm)


def min_history(horizon: int) -> int:
    """The shortest history (periods up to the cutoff) a forecast accepts: two horizons."""
    return 2 * horizon


def conformal(
    panel: Panel,
    end: int,
    actual_cal: np.ndarray,
    cal: np.ndarray,
    fut: np.ndarray,
    level_cal: np.ndarray,
    level_now: np.ndarray,
    buckets: np.ndarray,
    probs: list[float],
) -> tuple[dict[float, np.ndarray], str]:
    """Quantiles {p: (n, h)} of the forecast `fut` from the validation residuals of `cal`, and
    the method used.

    Residuals are divided by `residual_scale` (recent level x the forecast's own level) and
    pooled per scale group (`scale_groups`: quintiles of that scale) x horizon bucket.
    """
    s_cal, s_now = residual_scale(level_cal, cal), residual_scale(level_now, fut)
    g_cal, g_now = scale_groups(s_cal, s_now)
    table = calibrate(panel, end, actual_cal, cal, s_cal, g_cal, buckets, probs)
    return table.apply(fut, s_now, g_now, buckets), table.method


def calibrate(
    panel: Panel,
    end: int,
    actual: np.ndarray,
    cal: np.ndarray,
    scale: np.ndarray,
    segment: np.ndarray,
    buckets: np.ndarray,
    probs: list[float],
) -> ConformalTable:
    """Conformal table from the calibration window (pooled as far as needed), or model-based
    intervals when the window holds under `MIN_POOLED_POINTS` residuals."""
    if np.isfinite(cal).all(1).sum() * cal.shape[1] < MIN_POOLED_POINTS:
        table = ConformalTable.model_based(panel, end, probs)
    else:
        table = ConformalTable.fit(actual, cal, scale, segment, buckets, probs, "scale group")
    return table.with_floor(panel.floor)


def apply_fallback(
    name: str, values: np.ndarray, fallback: np.ndarray, failed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Replace failed rows (default: any non-finite value) by the fallback baseline.

    Returns:
        (values (n, h), model used per series (n,): `name` or "moving_average (fallback)").
    """
    if failed is None:
        failed = ~np.isfinite(values).all(1)
    used = np.where(failed, f"{FALLBACK} (fallback)", name).astype(str)
    if failed.any():
        log.warning("%s: %d series fell back to %s", name, int(failed.sum()), FALLBACK)
        values = values.copy()
        values[failed] = fallback[failed]
    return values, used


def assemble_auto(
    forecasts: dict[str, ModelForecast],
    choice: dict[str, str],
    seg: np.ndarray,
    prophet_rows: np.ndarray,
    n: int,
) -> ModelForecast:
    """The auto forecaster: each series takes its segment's chosen model (with its intervals)."""
    first = next(iter(forecasts.values()))
    h = first.yhat.shape[1]
    yhat, cal = np.zeros((n, h)), np.zeros((n, h))
    quant = {p: np.zeros((n, h)) for p in first.quantiles}
    used = np.empty(n, dtype=object)
    pick = np.array([choice.get(str(s), FALLBACK) for s in seg], dtype=object)
    if "prophet_subset" in choice:
        pick[prophet_rows] = choice["prophet_subset"]
    for name in np.unique(pick.astype(str)):
        fc = forecasts[name]
        where = np.flatnonzero(pick == name)
        pos = where
        if fc.rows.size != n:  # a subset model: map panel rows to its own rows
            order = {r: i for i, r in enumerate(fc.rows)}
            pos = np.array([order[r] for r in where])
        yhat[where], cal[where] = fc.yhat[pos], fc.cal_yhat[pos]
        for p in quant:
            quant[p][where] = fc.quantiles[p][pos]
        used[where] = fc.model[pos]
    return ModelForecast(np.arange(n), used.astype(str), yhat, quant, cal)
