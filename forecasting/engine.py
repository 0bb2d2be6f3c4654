"""Fit every model twice (calibration origin and cutoff), add conformal intervals, fall back on
failures, and choose a model or small ensemble per segment ("auto", `forecasting.choice`) from
the calibration window.

`forecast_panel` is the one entry point used by both `run` and `backtest`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
from tqdm import tqdm

from forecasting.choice import choose, ensemble_arrays
from forecasting.data import Panel
from forecasting.errors import ForecastInputError
from forecasting.fanout import (
    fans_out,
    fit_lightgbm_fanned_out,
    fit_predict_chunks,
    prophet_model,
)
from forecasting.intervals import (
    conformal,
    horizon_buckets,
    interval,
    level,
    mean_forecasts,
    probabilities,
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
#: Validation windows by frequency when `EngineConfig.windows` is 0. One: older origins fit on
#: shorter histories; on the weekly panels of BENCHMARKS.md (#13) choosing on 3 windows made OR II
#: weekly worse (WAPE 0.661 -> 0.694), and intervals on 2 moved store-item's 80% coverage from
#: 0.803 to 0.731 (to 0.850 from 0.711 on its 91-week cut).
AUTO_WINDOWS: dict[str, int] = {"D": 1, "W": 1}
#: The model whose forecast level scales every model's interval residuals (demand spreads with
#: its mean; see `forecasting.intervals`).
MEAN_MODEL = "lightgbm"
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
        refit: refit LightGBM at the cutoff; False: the booster fitted at the calibration
            origin also forecasts from the cutoff (half the cost; residuals stay out-of-sample);
            None (default): refit only where that booster lacks the yearly shape the cutoff's
            history holds (`needs_refit`).
        windows: validation windows (rolling origins a horizon apart, each model fitted at
            each) pooled by the intervals (the choice reads the newest: its models fit on the
            most history); 0 = `AUTO_WINDOWS` by frequency. Capped by the history
            (`validation_windows`).
    """

    horizon: int = 28
    levels: tuple[int, ...] = (80, 95)
    models: tuple[str, ...] = DEFAULT_MODELS
    prophet_series: int = 20
    lightgbm: LightGBMConfig = field(default_factory=LightGBMConfig)
    refit: bool | None = None
    windows: int = 0

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError(f"--horizon must be >= 1, got {self.horizon}")
        if FALLBACK not in self.models:
            raise ValueError(f"models must include the fallback {FALLBACK!r}")
        if self.prophet_series < PROPHET_ALL:
            raise ValueError(f"prophet_series must be >= 0 or 'all', got {self.prophet_series}")
        if "prophet" in self.models:
            raise ValueError("prophet runs on a subset: set prophet_series instead")
        if self.windows < 0:
            raise ValueError(f"windows must be >= 0 (0 = auto), got {self.windows}")
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
        log.warning("%s failed on %d periods (%s); uses %s", model.name, end + 1, exc, FALLBACK)
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
        raise ForecastInputError(
            f"--horizon {h}: needs at least {need} {unit} of history up to the cutoff (two "
            f"horizons: one to fit, one to calibrate the intervals), found {end + 1}"
        )
    probs = probabilities(cfg.levels)
    w = validation_windows(panel.freq, end, h, cfg.windows)
    origins = [end - k * h for k in range(1, w + 1)]  # newest first: origins[0] == cal_end
    refit = cfg.refit if cfg.refit is not None else needs_refit(panel.season, cal_end, end, h)
    seg_cal, seg = segments(panel, cal_end), segments(panel, end)
    scale_cal = np.concatenate([level(panel, o) for o in origins])
    scale = level(panel, end)
    buckets = horizon_buckets(h, panel.freq)
    actual_cal = np.vstack([panel.y[:, o + 1 : o + 1 + h] for o in origins]).astype(np.float64)
    n, all_rows = panel.n, np.arange(panel.n)

    raw: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float]] = {}
    lgbm: LightGBMGlobal | None = None
    bar = tqdm(total=n * len(cfg.models), desc="forecast series x models", disable=not progress)
    for name in cfg.models:
        bar.set_postfix_str(name)
        t0 = time.perf_counter()
        # trained here, chunks predict (one validation window; older windows: the path below)
        if name in LIGHTGBM_OBJECTIVES and fans_out(executor) and len(origins) == 1:
            cal, fut, fitted = fit_lightgbm_fanned_out(
                partial(_lightgbm, name, cfg), panel, cal_end, end, h, refit, executor, chunk
            )
            lgbm = fitted if name == "lightgbm" and np.isfinite(fut).any() else lgbm
            raw[name] = (all_rows, cal, fut, time.perf_counter() - t0)
            bar.update(panel.n)
            continue
        if executor is not None and name not in LIGHTGBM_OBJECTIVES:
            back = tuple(origins[1:])
            cal, fut = fit_predict_chunks(name, panel, cal_end, end, h, executor, chunk, back)
            raw[name] = (all_rows, cal, fut, time.perf_counter() - t0)
            bar.update(n)
            continue
        older = [_build(name, cfg) for _ in origins[1:]]
        older_cal = [_fit_predict(m, panel, o, h) for m, o in zip(older, origins[1:], strict=True)]
        model = _build(name, cfg)
        cal = _fit_predict(model, panel, cal_end, h)
        if name in LIGHTGBM_OBJECTIVES and not refit and np.isfinite(cal).any():
            fut = _predict_from(model, panel, end, h)  # type: ignore[arg-type]
        else:
            model = _build(name, cfg)
            fut = _fit_predict(model, panel, end, h)
        if name == "lightgbm" and np.isfinite(fut).any():
            lgbm = model  # type: ignore[assignment]
        raw[name] = (all_rows, np.vstack([cal, *older_cal]), fut, time.perf_counter() - t0)
        bar.update(n)
    bar.close()
    prophet_rows = select_prophet_rows(panel, end, seg, cfg.prophet_series)
    if prophet_rows.size:
        t0 = time.perf_counter()
        sub = panel.subset(prophet_rows)
        cal = _fit_predict(prophet_model(executor), sub, cal_end, h)
        fut = _fit_predict(prophet_model(executor), sub, end, h)
        raw["prophet"] = (prophet_rows, cal, fut, time.perf_counter() - t0)

    fb_cal, fb_fut = raw[FALLBACK][1], raw[FALLBACK][2]
    means = mean_forecasts(raw.get(MEAN_MODEL), n)  # the level the residual scale reads
    mean_cal, mean_fut = means
    forecasts: dict[str, ModelForecast] = {}
    for name, (rows, cal, fut, secs) in raw.items():
        wins = cal.shape[0] // rows.size  # Prophet (a subset) has the newest window only
        stack = (np.arange(wins)[:, None] * n + rows[None, :]).ravel()
        failed = ~np.isfinite(fut).all(1) | ~np.isfinite(cal[: rows.size]).all(1)
        bad_cal = np.tile(failed, wins) | ~np.isfinite(cal).all(1)
        cal, _ = apply_fallback(name, cal, fb_cal[stack], bad_cal, "validation window")
        fut, used = apply_fallback(name, fut, fb_fut[rows], failed, "forecast")
        quant, method = conformal(
            panel,
            end,
            actual_cal[stack],
            cal,
            fut,
            scale_cal[stack],
            scale[rows],
            buckets,
            probs,
            wins,
            None if mean_cal is None else mean_cal[stack],
            None if mean_fut is None else mean_fut[rows],
        )
        forecasts[name] = ModelForecast(rows, used, fut, quant, cal, secs, method)

    newest = {k: replace(v, cal_yhat=v.cal_yhat[: v.rows.size]) for k, v in forecasts.items()}
    choice = choose(newest, actual_cal[:n], seg_cal, prophet_rows)  # older windows: intervals
    for name in sorted(set(choice.values()) - set(forecasts)):  # an ensemble of models
        fut, cal, used = ensemble_arrays(forecasts, name)
        quant, method = conformal(
            panel, end, actual_cal, cal, fut, scale_cal, scale, buckets, probs, w, *means
        )
        secs = sum(forecasts[m].seconds for m in name.split("+"))
        forecasts[name] = ModelForecast(all_rows, used, fut, quant, cal, secs, method)
    forecasts[AUTO] = assemble_auto(forecasts, choice, seg, prophet_rows, n)
    methods = sorted({forecasts[name].calibration for name in set(choice.values())})
    forecasts[AUTO].calibration = "; ".join(methods)
    log.info("choice per segment: %s", choice)
    log.info("intervals: %s", forecasts[AUTO].calibration)
    return EngineResult(panel, end, forecasts, seg, choice, prophet_rows, lgbm)


def validation_windows(freq: str, end: int, h: int, requested: int = 0) -> int:
    """Validation windows (rolling origins `h` apart before the cutoff `end`) for the choice and
    the intervals: `requested`, or `AUTO_WINDOWS[freq]` when 0, capped so that the oldest
    origin keeps at least `h` periods to fit on (1 at least: `min_history`)."""
    most = max(1, (end + 1) // h - 1)
    return max(1, min(requested or AUTO_WINDOWS[freq], most))


def min_history(horizon: int) -> int:
    """The shortest history (periods up to the cutoff) a forecast accepts: two horizons."""
    return 2 * horizon


def needs_refit(season: int, cal_end: int, end: int, h: int) -> bool:
    """Refit LightGBM at the cutoff when the cutoff's history holds a season plus a horizon
    (periods) and the validation origin's does not: only the refit then sees year-ago values
    for whole horizons (the yearly shape); otherwise reusing the validation booster costs half."""
    return cal_end + 1 < season + h <= end + 1


def apply_fallback(
    name: str,
    values: np.ndarray,
    fallback: np.ndarray,
    failed: np.ndarray | None = None,
    where: str = "forecast",
) -> tuple[np.ndarray, np.ndarray]:
    """Failed rows (default: non-finite) replaced by the fallback; the warning names `where`.
    Returns (values (n, h), model per series (n,): `name` or "moving_average (fallback)")."""
    if failed is None:
        failed = ~np.isfinite(values).all(1)
    used = np.where(failed, f"{FALLBACK} (fallback)", name).astype(str)
    if failed.any():
        log.warning("%s: %d series fell back to %s (%s)", name, int(failed.sum()), FALLBACK, where)
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
