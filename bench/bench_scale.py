"""Forecast and plan fan-out on synthetic store x product series: `local` beside `ray`.

Usage:
    python bench/bench_scale.py --sizes 10000,100000 [--engines local,ray] [--cpus 2]

Each chunk of `--chunk` series is generated inside the task from its seed (the driver holds
no history: memory is bounded by the chunk, not the number of series), then
- forecast: the per-series models of `forecasting.fanout.run_chunk` (`--models`, default
  moving_average, seasonal_naive and croston_sba; fitted at the calibration origin and the
  cutoff, as `forecasting run` does) on 112 days of history, horizon 14;
- plan: the Monte Carlo sampling of `forecasting.inventory.sampling.sample_chunk` (1,000
  samples per pair, moving-block bootstrap of a 56-day window, lead time 7 +- 2 days,
  undershoot, reorder point at 95% and stock-out risk), the per-pair work of `forecasting plan`.
Engines: `local` = `InlineExecutor` (this process, one core, what `--executor local` runs),
`ray` = `RayExecutor` on a local runtime of `--cpus` CPUs (its start is retried, see
`warehouse.executors.start_local_ray`; a runtime that never starts is reported as not
measured). `--deadline-s` stops a long run and prints the rate of the chunks done (PARTIAL).
Printed per engine and size: wall time, series/s, cost per series (ms), peak RSS of the
driver and the largest worker, and a projection to a 10-node cluster (from the measured
per-chunk cost; a PROJECTION, not a run).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from forecasting.data import Panel
from forecasting.fanout import ChunkJob, run_chunk
from forecasting.inventory.demand_dist import DemandInputs
from forecasting.inventory.sampling import SampleChunk, sample_chunk
from warehouse.executors import (
    START_ATTEMPTS,
    Executor,
    ExecutorError,
    InlineExecutor,
    RayExecutor,
    start_local_ray,
)

T, H, WINDOW = 112, 14, 56


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _demand(seed: int, n: int, days: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rate = rng.lognormal(0.0, 1.0, n)[:, None]
    week = 1 + 0.3 * np.sin(2 * np.pi * np.arange(days) / 7)[None, :]
    return rng.poisson(rate * week).astype(np.float32)


def forecast_chunk(job: tuple[int, int, str]) -> tuple[float, float]:
    """(sum of forecasts, worker peak RSS MB) of one synthetic chunk."""
    seed, n, models = job
    y = _demand(seed, n, T)
    ids = np.array([f"P{seed}_{i}" for i in range(n)])
    panel = Panel(
        np.full(n, "S1"),
        ids,
        np.full(n, "C1"),
        np.datetime64("2026-01-01") + np.arange(T),
        y,
        np.zeros(n, dtype=np.int64),
        "D",
        np.zeros((n, T + H), dtype=np.float32),
        np.zeros(T + H, dtype=bool),
    )
    total = 0.0
    for name in models.split(","):
        cal, fut = run_chunk(ChunkJob(name, panel, T - 1 - H, T - 1, H))
        total += float(np.nansum(fut))
    return total, _rss_mb()


def plan_chunk(job: tuple[int, int, str]) -> tuple[float, float]:
    """(sum of reorder points, worker peak RSS MB) of one synthetic chunk."""
    seed, n, _ = job
    hist = _demand(seed, n, WINDOW)
    out = sample_chunk(
        SampleChunk(
            seed,
            DemandInputs(hist),
            np.full(n, 7.0),
            np.full(n, 2.0),
            hist.mean(1) * 14,
            np.full(n, 0.95),
            np.zeros(n, dtype=bool),
            np.ones(n),
            hist.mean(1) * 10,
            None,
            None,
            1000,
            extra_days=0,
            undershoot=True,
            method="block",
            fill=False,
            portfolio=False,
        )
    )
    return float(np.nansum(out["level"])), _rss_mb()


def _run(
    executor: Executor,
    fn: Callable[[Any], Any],
    size: int,
    chunk: int,
    models: str,
    deadline: float = float("inf"),
    report_every: int = 0,
) -> dict[str, float]:
    """Run every chunk of `size` series, or stop at `deadline` (time.monotonic) with a partial
    result; prints the running rate every `report_every` chunks (0: never)."""
    jobs = [(i, min(chunk, size - lo), models) for i, lo in enumerate(range(0, size, chunk))]
    start = time.perf_counter()
    total, worker_peak, done, series = 0.0, 0.0, 0, 0
    for i, result in executor.map(fn, jobs, desc=f"{fn.__name__} {size:,}"):
        if isinstance(result, Exception):
            raise result
        total += result[0]
        worker_peak = max(worker_peak, result[1])
        done, series = done + 1, series + jobs[i][1]
        if report_every and done % report_every == 0:
            secs = time.perf_counter() - start
            print(
                f"  ... {fn.__name__} {size:,}: {done}/{len(jobs)} chunks, {series:,} series in "
                f"{secs:.0f} s ({series / secs:,.0f} series/s), driver peak {_rss_mb():,.0f} MB, "
                f"worker peak {worker_peak:,.0f} MB, load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        if time.monotonic() > deadline and done < len(jobs):
            break  # the executor cancels what is still in flight
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "chunks": done,
        "series": series,
        "partial": float(done < len(jobs)),
        "total": total,
        "worker_mb": worker_peak,
    }


def main() -> None:
    """Print the table (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--tasks", default="forecast,plan", help="forecast, plan or both")
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--models", default="moving_average,seasonal_naive,croston_sba")
    parser.add_argument("--nodes", type=int, default=10, help="nodes of the projection")
    parser.add_argument("--node-cpus", type=int, default=16, help="CPUs per projected node")
    parser.add_argument(
        "--deadline-s",
        type=float,
        default=float("inf"),
        help="stop submitting after this many seconds and print the partial rate",
    )
    parser.add_argument("--report-every", type=int, default=0, help="progress every N chunks")
    parser.add_argument("--ray-attempts", type=int, default=START_ATTEMPTS)
    args = parser.parse_args()
    deadline = time.monotonic() + args.deadline_s
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average at start: {os.getloadavg()}; cpus {os.cpu_count()}", flush=True)
    rows = []
    for engine in args.engines.split(","):
        if engine == "ray":
            import ray

            t0 = time.perf_counter()
            try:
                attempts = start_local_ray(args.cpus, args.ray_attempts)
            except ExecutorError as exc:
                print(f"ray: NOT MEASURED: {exc} (load {os.getloadavg()})", flush=True)
                continue
            print(
                f"ray: local runtime of {args.cpus} CPUs started in "
                f"{time.perf_counter() - t0:.1f} s (attempt {attempts}), load {os.getloadavg()}",
                flush=True,
            )
            executor: Executor = RayExecutor(progress=False)
            _run(executor, forecast_chunk, args.chunk, args.chunk, args.models)  # warm workers
        else:
            executor = InlineExecutor()
        for task, fn in (("forecast", forecast_chunk), ("plan", plan_chunk)):
            if task not in args.tasks.split(","):
                continue
            for size in sizes:
                r = _run(executor, fn, size, args.chunk, args.models, deadline, args.report_every)
                rows.append((engine, task, size, r, _rss_mb()))
                per_chunk = r["seconds"] / r["chunks"] * (args.cpus if engine == "ray" else 1)
                done = r["series"]
                # wall x CPUs given: an upper bound of the CPU time on a shared machine
                print(
                    ("PARTIAL (deadline) " if r["partial"] else "")
                    + f"{engine:5} {task:8} {size:>9,} series ({done:,.0f} done): "
                    f"{r['seconds']:8.1f} s ({done / r['seconds']:8,.0f} series/s, "
                    f"{1000 * r['seconds'] / done:.3f} ms/series wall), driver peak "
                    f"{_rss_mb():,.0f} MB, worker peak {r['worker_mb']:,.0f} MB; wall x cpus "
                    f"per chunk {per_chunk:.2f} s; load {os.getloadavg()}",
                    flush=True,
                )
        if engine == "ray":
            import ray

            ray.shutdown()
    print(f"\nPROJECTION (not measured): {args.nodes} nodes x {args.node_cpus} CPUs, from the")
    print("measured cpu-seconds per chunk of the ray runs, assuming linear scaling (no overhead):")
    for engine, task, size, r, _ in rows:
        if engine != "ray" or size != max(sizes):
            continue
        cpu_s_per_series = r["seconds"] * args.cpus / r["series"]
        for target in (1_000_000, 100_000_000):
            secs = cpu_s_per_series * target / (args.nodes * args.node_cpus)
            print(
                f"  {task:8} {target:>11,} series: {secs / 60:8.1f} min "
                f"({cpu_s_per_series * 1000:.3f} cpu-ms/series)"
            )


if __name__ == "__main__":
    main()
