"""Per-series models fanned out by series chunks through an `Executor` (local or Ray).

Every statistical model forecasts each series from that series alone, so a panel split into
chunks of `chunk` series gives the same forecasts as the whole panel. Each chunk travels as a
`Panel` of column arrays (numpy, zero-copy in Ray's object store), never as row lists, and
comes back as two `(rows, h)` arrays. LightGBM is global: it trains on the driver (its
training rows pool across series), and its prediction fans out by the same chunks: the
boosters travel once as LightGBM model strings (bound into the task function, which
`RayExecutor` puts in the object store once), each chunk's sub-panel as column arrays, and
the worker builds that chunk's features (every feature reads its own series' history; the
panel-wide store/category codes and floor travel with the chunk) and predicts.
Prophet gets the executor for its per-series fits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TypeGuard

import lightgbm as lgb
import numpy as np

from forecasting.data import Panel
from forecasting.features import PanelStats, blank_unseen_year_ago, build_features
from forecasting.models.base import Forecaster, make_model
from forecasting.models.lgbm import LightGBMGlobal, median_forecast
from forecasting.models.prophet import ProphetModel
from warehouse.executors import Executor, InlineExecutor

log = logging.getLogger(__name__)

#: Series per chunk: fixed, so the split does not depend on the engine.
CHUNK_SERIES = 2000


@dataclass(frozen=True)
class ChunkJob:
    """One chunk: the model name, the sub-panel and the origins (validation, cutoff, and the
    older validation origins `older`, newest first)."""

    name: str
    panel: Panel
    cal_end: int
    end: int
    h: int
    older: tuple[int, ...] = ()


def _one(model: Forecaster, panel: Panel, end: int, h: int) -> np.ndarray:
    try:
        out = np.asarray(model.fit(panel, end).predict(h), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - a failing model falls back, never kills the run
        log.warning("%s failed on a chunk (%s)", model.name, exc)
        return np.full((panel.n, h), np.nan)
    out[~np.isfinite(out).all(1)] = np.nan
    return out


def run_chunk(job: ChunkJob) -> tuple[np.ndarray, np.ndarray]:
    """(validation forecasts (windows x chunk series, h), newest window first; cutoff forecast
    (chunk series, h)); runs on a worker."""
    cal = [_one(make_model(job.name), job.panel, o, job.h) for o in (job.cal_end, *job.older)]
    fut = _one(make_model(job.name), job.panel, job.end, job.h)
    return np.vstack(cal), fut


def chunks(n: int, size: int = CHUNK_SERIES) -> list[np.ndarray]:
    """Row indices of consecutive chunks of `size` series (the last one shorter)."""
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}")
    return [np.arange(lo, min(n, lo + size)) for lo in range(0, n, size)]


def fit_predict_chunks(
    name: str,
    panel: Panel,
    cal_end: int,
    end: int,
    h: int,
    executor: Executor,
    size: int | None = None,
    older: tuple[int, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """`name` fitted at `cal_end` (and the `older` validation origins) and at `end` on every
    series, by chunks of `size` series (default `CHUNK_SERIES`).

    Returns:
        (cal (w x n, h): the validation windows stacked, newest first; fut (n, h)); NaN rows
        where the model (or its chunk) failed.
    """
    n, w = panel.n, 1 + len(older)
    parts = chunks(n, size or CHUNK_SERIES)
    jobs = [ChunkJob(name, panel.subset(rows), cal_end, end, h, older) for rows in parts]
    cal, fut = np.full((w * n, h), np.nan), np.full((n, h), np.nan)
    for i, result in executor.map(run_chunk, jobs, desc=f"{name} chunks"):
        if isinstance(result, Exception):
            log.warning("%s: chunk %d failed (%s); its series fall back", name, i, result)
            continue
        m = parts[i].size
        for k in range(w):
            cal[k * n + parts[i]] = result[0][k * m : (k + 1) * m]
        fut[parts[i]] = result[1]
    return cal, fut


def fans_out(executor: Executor | None) -> TypeGuard[Executor]:
    """Whether `executor` runs chunks elsewhere (not None, not this process inline)."""
    return executor is not None and not isinstance(executor, InlineExecutor)


def prophet_model(executor: Executor | None) -> Forecaster:
    """Prophet with its per-series fits on `executor` (local processes when None or inline)."""
    if executor is None or isinstance(executor, InlineExecutor):
        return make_model("prophet")
    return ProphetModel(executor=executor)


@dataclass(frozen=True)
class LightGBMChunk:
    """One chunk of LightGBM prediction: the sub-panel, its rows' panel-wide store and category
    codes, the origin, the horizon and the panel's floor (0, or -inf with returns)."""

    panel: Panel
    stores: np.ndarray
    cats: np.ndarray
    origin: int
    h: int
    floor: float
    year_ago_months: tuple[int, ...] = ()


@lru_cache(maxsize=4)
def _booster(model_str: str) -> lgb.Booster:
    """A booster parsed once per worker process and model (chunks reuse it)."""
    return lgb.Booster(model_str=model_str)


def predict_lightgbm_chunk(models: tuple[str, ...], job: LightGBMChunk) -> np.ndarray:
    """(chunk series, h) forecasts from `job.origin`: the median over the boosters (model
    strings) of prediction x scale, floored; NaN rows where not finite. Runs on a worker."""
    panel, h = job.panel, job.h
    rows = np.repeat(np.arange(panel.n), h)
    hor = np.tile(np.arange(1, h + 1), panel.n)
    orig = np.full(rows.size, job.origin)
    x, scale = build_features(panel, PanelStats(panel), rows, orig, hor, job.stores, job.cats)
    x = blank_unseen_year_ago(x, job.year_ago_months)  # as `LightGBMGlobal.predict` does
    out = median_forecast([_booster(m) for m in models], x, scale, h, job.floor, threads=1)
    return np.asarray(out, dtype=np.float64)


def predict_lightgbm_chunks(
    model: LightGBMGlobal,
    panel: Panel,
    origin: int,
    h: int,
    executor: Executor,
    size: int | None = None,
) -> np.ndarray:
    """The fitted `model`'s (n, h) forecasts from `origin`, predicted by chunks on `executor`.

    Same numbers as `model.with_origin(panel, origin).predict(h)` (the boosters round-trip
    through their model strings); NaN rows where a chunk failed.
    """
    stores, cats = model._codes(panel)
    fn = partial(predict_lightgbm_chunk, tuple(b.model_to_string() for b in model.boosters))
    parts = chunks(panel.n, size or CHUNK_SERIES)
    jobs = [
        LightGBMChunk(
            panel.subset(r), stores[r], cats[r], origin, h, panel.floor, model.year_ago_months
        )
        for r in parts
    ]
    out = np.full((panel.n, h), np.nan)
    for i, result in executor.map(fn, jobs, desc=f"{model.name} chunks"):
        if isinstance(result, Exception):
            log.warning("%s: chunk %d failed (%s); its series fall back", model.name, i, result)
            continue
        out[parts[i]] = result
    return out


def fit_lightgbm_fanned_out(
    build: Callable[[], LightGBMGlobal],
    panel: Panel,
    cal_end: int,
    end: int,
    h: int,
    refit: bool,
    executor: Executor,
    size: int | None = None,
) -> tuple[np.ndarray, np.ndarray, LightGBMGlobal | None]:
    """Train on this process (at `cal_end`; again at `end` with `refit`), predict by chunks.

    Returns:
        (cal, fut, model): (n, h) forecasts from `cal_end` and `end` (NaN where failed), and
        the model that made `fut`, set at origin `end` (None when it failed).
    """
    nan = np.full((panel.n, h), np.nan)
    model = _fit_lightgbm(build, panel, cal_end)
    cal = nan
    if model is not None:
        cal = predict_lightgbm_chunks(model, panel, cal_end, h, executor, size)
    if model is None or refit or not np.isfinite(cal).any():
        model = _fit_lightgbm(build, panel, end)
    if model is None:
        return cal, nan.copy(), None
    fut = predict_lightgbm_chunks(model, panel, end, h, executor, size)
    return cal, fut, model.with_origin(panel, end)


def _fit_lightgbm(
    build: Callable[[], LightGBMGlobal], panel: Panel, end: int
) -> LightGBMGlobal | None:
    model = build()
    try:
        return model.fit(panel, end)
    except Exception as exc:  # noqa: BLE001 - a failing model falls back, never kills the run
        log.warning("%s failed at %d (%s); its series fall back", model.name, end, exc)
        return None
