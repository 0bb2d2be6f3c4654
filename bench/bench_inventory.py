"""Plan time for 10,000 and 100,000 store x product pairs, beside the baselines.

Usage:
    python bench/bench_inventory.py --db PATH [--sizes 10000,100000]

Inputs are the demo warehouse's real pairs (supply, stock, 56-day demand window), tiled with
renamed stores to reach each size. Timed in the same run:
- `shelfwise`: the full plan (`forecasting.inventory.plan.build_plan`: EOQ, seasonal ratio, compound
  Monte Carlo with 1,000 samples per pair, the pooled-target allocation, stockout risk,
  reasons), vectorised over pairs; and the same with `scope="item"` (no allocation);
- `normal formula`: EOQ + the closed-form normal reorder point only (the cheap baseline);
- `per-pair loop`: the same Monte Carlo written as a Python loop over pairs, timed on 500 pairs
  and scaled linearly (what the vectorised code avoids).
- `as-of level`: the level estimator (`forecasting.inventory.level`, half a year of daily sales
  per pair) alone, and the full plan with its factor applied (`level="trend"`);
Also the warehouse read (`load_inputs`) for the real 10,000 pairs and, when the warehouse has a
forecast run as of its last sale date, the plan of those pairs with the forecast source (the
size tables then use the history source).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from datetime import timedelta

import numpy as np
import polars as pl

from forecasting.inventory.config import PlanConfig
from forecasting.inventory.demand_dist import DemandInputs, lead_time_demand_samples
from forecasting.inventory.inputs import (
    PlanInputs,
    daily_matrix,
    first_sale_index,
    level_estimate,
    load_inputs,
    lookback_days,
)
from forecasting.inventory.maths import quantile_reorder_point
from forecasting.inventory.plan import build_plan
from forecasting.inventory.policies import normal_policy, order_quantities
from warehouse.db import reading


def tiled(inputs: PlanInputs, n_pairs: int) -> PlanInputs:
    """`n_pairs` rows: the real pairs repeated, each copy under new store ids."""
    reps = -(-n_pairs // inputs.pairs.height)
    frames = [
        inputs.pairs.with_columns((pl.col("store_id") + f"-{r}").alias("store_id"))
        for r in range(reps)
    ]
    pairs = pl.concat(frames).head(n_pairs)
    history = np.tile(inputs.demand.history, (reps, 1))[:n_pairs]
    season = None if inputs.season is None else np.tile(inputs.season, reps)[:n_pairs]
    return PlanInputs(pairs, DemandInputs(history), inputs.until, season=season)


def per_pair_loop(inputs: PlanInputs, cfg: PlanConfig, n: int) -> float:
    """Seconds for the same Monte Carlo pair by pair (first `n` pairs)."""
    rng = np.random.default_rng(0)
    hist = inputs.demand.history
    lt = inputs.pairs["lead_time_mean_days"].to_numpy()
    sd = inputs.pairs["lead_time_sd_days"].to_numpy()
    start = time.perf_counter()
    for i in range(n):
        one = DemandInputs(hist[i : i + 1])
        samples = lead_time_demand_samples(rng, one, lt[i : i + 1], sd[i : i + 1], cfg.n_samples)
        quantile_reorder_point(samples, np.array([cfg.service_level]))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    cfg = PlanConfig()
    start = time.perf_counter()
    real = load_inputs(args.db, None, cfg)
    load_s = time.perf_counter() - start
    print(
        f"warehouse read (load_inputs, {real.pairs.height:,} real pairs, "
        f"window {cfg.window_days} days to {real.until}): {load_s:.2f} s"
    )
    if real.forecast_run:
        start = time.perf_counter()
        build_plan(real, cfg)
        print(
            f"plan with the forecast source (run {real.forecast_run}, "
            f"{int(real.demand.forecast_mask().sum()):,} of {real.pairs.height:,} pairs from "
            f"forecast quantiles): {time.perf_counter() - start:.1f} s"
        )
        real = PlanInputs(
            real.pairs, DemandInputs(real.demand.history), real.until, season=real.season
        )
    trend_cfg = dataclasses.replace(cfg, level="trend")
    back = lookback_days(trend_cfg)
    with reading(args.db) as con:
        long_history = daily_matrix(con, real.pairs, real.until - timedelta(days=back), back)
    first_day = first_sale_index(real.pairs, real.until - timedelta(days=back), back)
    loop_n = 500
    loop_s = per_pair_loop(real, cfg, loop_n)
    print()
    print(
        "| pairs | shelfwise plan (s) | item scope (s) | normal formula (s) | "
        "per-pair loop (s, scaled) | loop / shelfwise | pairs per s | as-of level (s) | "
        "plan with level (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in [int(x) for x in args.sizes.split(",")]:
        inputs = tiled(real, n)
        start = time.perf_counter()
        plan = build_plan(inputs, cfg)
        plan_s = time.perf_counter() - start
        start = time.perf_counter()
        build_plan(inputs, dataclasses.replace(cfg, scope="item"))
        item_s = time.perf_counter() - start
        start = time.perf_counter()
        mean = inputs.demand.history.mean(axis=1)
        q = order_quantities(inputs.pairs, mean, cfg)
        normal_policy(inputs, np.full(n, cfg.service_level), q)
        normal_s = time.perf_counter() - start
        reps = -(-n // real.pairs.height)
        start = time.perf_counter()
        level = level_estimate(
            inputs.pairs,
            np.tile(long_history, (reps, 1))[:n],
            np.tile(first_day, reps)[:n],
            trend_cfg,
            True,
        )
        level_s = time.perf_counter() - start
        start = time.perf_counter()
        build_plan(dataclasses.replace(inputs, level=level), trend_cfg)
        with_level_s = time.perf_counter() - start
        loop_scaled = loop_s * n / loop_n
        assert plan.height == n
        print(
            f"| {n:,} | {plan_s:.2f} | {item_s:.2f} | {normal_s:.3f} | {loop_scaled:.1f} | "
            f"{loop_scaled / plan_s:.1f}x | {n / plan_s:,.0f} | {level_s:.2f} | "
            f"{with_level_s:.2f} |"
        )
    print(
        f"\nper-pair loop measured on {loop_n} pairs: {loop_s:.2f} s; "
        f"{cfg.n_samples} Monte Carlo samples per pair"
    )


if __name__ == "__main__":
    main()
