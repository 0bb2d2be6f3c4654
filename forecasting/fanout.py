"""Per-series models fanned out by series chunks through an `Executor` (local or Ray).

Every statistical model forecasts each series from that series alone, so a panel split into
chunks of `chunk` series gives the same forecasts as the whole panel. Each chunk travels as a
`Panel` of column arrays (numpy, zero-copy in Ray's object store), never as row lists, and
comes back as two `(rows, h)` arrays. LightGBM stays global on the driver (its features pool
across series); Prophet gets the executor for its per-series fits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from forecasting.data import Panel
from forecasting.models.base import Forecaster, make_model
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


def prophet_model(executor: Executor | None) -> Forecaster:
    """Prophet with its per-series fits on `executor` (local processes when None or inline)."""
    if executor is None or isinstance(executor, InlineExecutor):
        return make_model("prophet")
    return ProphetModel(executor=executor)
