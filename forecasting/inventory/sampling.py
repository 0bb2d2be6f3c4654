"""The plan's Monte Carlo sampling by store x product chunks, on any `Executor`.

Each chunk of `CHUNK_PAIRS` pairs carries its own seed (drawn from the plan's generator before
any chunk runs), so the samples, and the plan, are the same whichever engine runs the chunks
and in whatever order they finish. A chunk travels as column arrays and comes back as its
reduced statistics (`[rows]` and `[rows, grid]` arrays); the `[rows, n_samples]` samples
never leave the worker, so memory is bounded by the chunk size, not the number of pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.inventory.allocation import reorder_point_grid
from forecasting.inventory.demand_dist import DemandInputs, iter_lead_time_demand_samples
from forecasting.inventory.level_error import ErrorPool
from forecasting.inventory.maths import fill_rate_reorder_point, quantile_reorder_point
from forecasting.inventory.order_sizes import SizePool
from warehouse.executors import Executor, ExecutorError, InlineExecutor

#: Pairs per chunk: fixed, so the seeds and the split do not depend on the engine.
CHUNK_PAIRS = 2000


@dataclass(frozen=True)
class SampleChunk:
    """One chunk's inputs (every array `[rows]` unless named) and options.

    Attributes:
        seed: the chunk's own random seed.
        demand: the chunk's demand evidence.
        lt_mean, lt_sd: lead time in days.
        cycle_qty, period_target, shared, periods: see `policies.shelfwise_policy`.
        position: on hand + on order (None: no stock-out risk).
        scale, scale_sd: the history's level factor and its relative sd (or None).
        sizes: the category-pooled sale-day sizes of the chunk's rows (or None).
        level_error: the level's recent misses for the chunk's rows (or None).
    """

    seed: int
    demand: DemandInputs
    lt_mean: np.ndarray
    lt_sd: np.ndarray
    cycle_qty: np.ndarray
    period_target: np.ndarray
    shared: np.ndarray
    periods: np.ndarray
    position: np.ndarray | None
    scale: np.ndarray | None
    scale_sd: np.ndarray | None
    n_samples: int
    extra_days: int
    undershoot: bool
    method: str
    fill: bool
    portfolio: bool
    sizes: SizePool | None = None
    level_error: ErrorPool | None = None


def _rows(value: np.ndarray | None, sl: slice) -> np.ndarray | None:
    return None if value is None else value[sl]


def sample_chunk(job: SampleChunk) -> dict[str, np.ndarray]:
    """Reduced statistics of one chunk (runs on a worker).

    Returns:
        {"level": [rows] reorder level (NaN where pooled), "mean_ltd": [rows],
        "risk": [rows] P(demand > position) or NaN, and with `portfolio` "grid_s",
        "grid_service": [rows, len(SERVICE_GRID)]}.
    """
    n = job.demand.n_pairs
    rng = np.random.default_rng(job.seed)
    out: dict[str, np.ndarray] = {
        "level": np.full(n, np.nan),
        "mean_ltd": np.empty(n),
        "risk": np.full(n, np.nan),
    }
    for _, samples in iter_lead_time_demand_samples(
        rng,
        job.demand,
        job.lt_mean,
        job.lt_sd,
        job.n_samples,
        extra_days=job.extra_days,
        undershoot=job.undershoot,
        chunk=max(n, 1),
        method=job.method,
        scale=job.scale,
        scale_sd=job.scale_sd,
        sizes=job.sizes,
        level_error=job.level_error,
    ):
        if job.fill:
            out["level"] = fill_rate_reorder_point(samples, job.cycle_qty, job.period_target)
        else:
            own = ~job.shared
            if own.any():
                out["level"][own] = quantile_reorder_point(samples[own], job.period_target[own])
            if job.portfolio:
                grid_s, per_period = reorder_point_grid(samples)
                out["grid_s"] = grid_s
                out["grid_service"] = np.clip(1.0 - job.periods[:, None] * (1.0 - per_period), 0, 1)
        out["mean_ltd"] = samples.mean(axis=1)
        if job.position is not None:
            out["risk"] = (samples > job.position[:, None]).mean(axis=1)
    return out


def split(job: SampleChunk, rng: np.random.Generator, size: int | None = None) -> list[SampleChunk]:
    """`job` (all pairs) as chunks of `size` pairs (default `CHUNK_PAIRS`), each seeded from
    `rng` in order."""
    n = job.demand.n_pairs
    size = size or CHUNK_PAIRS
    bounds = [slice(lo, min(n, lo + size)) for lo in range(0, n, size)]
    seeds = rng.integers(0, 2**63 - 1, size=len(bounds))
    d = job.demand
    return [
        SampleChunk(
            int(seed),
            DemandInputs(d.history[sl], _rows(d.forecast_q, sl), _rows(d.has_forecast, sl)),
            job.lt_mean[sl],
            job.lt_sd[sl],
            job.cycle_qty[sl],
            job.period_target[sl],
            job.shared[sl],
            job.periods[sl],
            _rows(job.position, sl),
            _rows(job.scale, sl),
            _rows(job.scale_sd, sl),
            job.n_samples,
            job.extra_days,
            job.undershoot,
            job.method,
            job.fill,
            job.portfolio,
            None if job.sizes is None else job.sizes.take(sl),
            None if job.level_error is None else job.level_error.take(sl),
        )
        for seed, sl in zip(seeds, bounds, strict=True)
    ]


def run_chunks(
    job: SampleChunk,
    rng: np.random.Generator,
    executor: Executor | None = None,
    size: int | None = None,
) -> dict[str, np.ndarray]:
    """Sample every chunk of `job` on `executor` (in this process when None); joined results.

    Raises:
        ExecutorError: a chunk failed after the engine's retries (the plan is then not written).
    """
    parts = split(job, rng, size)
    results: list[dict[str, np.ndarray] | None] = [None] * len(parts)
    for i, result in (executor or InlineExecutor()).map(sample_chunk, parts, desc="plan chunks"):
        if isinstance(result, Exception):
            raise ExecutorError(f"plan sampling chunk {i} failed: {result}") from result
        results[i] = result
    done = [r for r in results if r is not None]
    if not done:
        return {k: np.empty(0) for k in ("level", "mean_ltd", "risk")}
    return {k: np.concatenate([r[k] for r in done]) for k in done[0]}
