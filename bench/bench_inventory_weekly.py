"""Reorder points from weekly sales: replayed against the daily demand they must serve.

Usage:
    python bench/bench_inventory_weekly.py --db NAME=PATH:UNTIL[:DAYS] [--db ...]
        [--days 91] [--samples 500] [--targets 0.9,0.95,0.99] [--window-days N]
        [--weekly-shape-days N]

A retailer who keeps only weekly sales gets reorder points from weeks spread evenly over their
days (`warehouse/sql/inventory/daily_units.sql` with `period_days` 7). Whether that holds is a
question about the daily demand the shelf really meets, so each daily warehouse is replayed
twice with the same lead-time draws: the plans (first and every weekly re-plan) read either the
daily history (`daily`) or the same history summed to weeks ending on UNTIL's weekday and spread
over their days (`weekly`); both serve the true daily demand after UNTIL. UNTIL should be the
weekday a retailer's weeks end on (a Friday here: the weekly panels of `bench/forecast_cuts.py`),
so every re-plan (every 7 days) reads whole weeks only. No forecast run is used by either.

Prints, per warehouse, target and history: shelfwise's achieved cycle service, its gap to the
target, complete cycles and standard error, fill rate and average stock; the normal formula's
service on the same history beside it; then the mean absolute gap per warehouse and history.
Nothing is written to the warehouse.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from datetime import date

import numpy as np

from forecasting.inventory.config import PlanConfig
from forecasting.inventory.simulate import SimConfig, SimData, load_sim_data, simulate

WEEK = 7


def spread_weeks(matrix: np.ndarray, end_col: int) -> np.ndarray:
    """Daily units `[n, days]` summed to weeks ending on the columns `end_col` + 7k and spread
    evenly over each week's days (a week cut by the matrix's edge over the days it has)."""
    out = np.empty_like(matrix)
    n_cols = matrix.shape[1]
    first_end = end_col % WEEK
    starts = [0, *range(first_end + 1, n_cols, WEEK)]
    for lo, hi in zip(starts, [*starts[1:], n_cols], strict=True):
        if hi > lo:
            block = np.nan_to_num(matrix[:, lo:hi])
            mean = block.sum(axis=1, keepdims=True) / (WEEK if hi - lo == WEEK else hi - lo)
            out[:, lo:hi] = np.where(np.isnan(matrix[:, lo:hi]), np.nan, mean)
    return out


def weekly_view(data: SimData, back: int, window_days: int) -> SimData:
    """`data` whose plans read weekly sums spread over their days (weeks ending on UNTIL's
    weekday) and whose replay serves the original daily demand."""
    year_ago = data.year_ago
    if year_ago is not None:  # from 364 days (52 weeks) before the window's start
        year_ago = spread_weeks(year_ago, window_days - 1)
    return dataclasses.replace(
        data,
        demand=spread_weeks(data.demand, back - 1),
        actual=data.demand[:, back:],
        year_ago=year_ago,
        forecast=(None, None, None),
        period_days=WEEK,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", required=True, help="NAME=PATH:UNTIL[:DAYS]")
    parser.add_argument("--days", type=int, default=91)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--targets", default="0.9,0.95,0.99")
    parser.add_argument(
        "--window-days", type=int, default=None, help="history window of both views' plans"
    )
    parser.add_argument(
        "--weekly-shape-days",
        type=int,
        default=None,
        help="weekly view: days of weeks relative to their neighbours' level (0: the window)",
    )
    args = parser.parse_args()
    targets = [float(t) for t in args.targets.split(",") if t]
    rows: list[str] = []
    gaps: dict[str, list[float]] = {}
    notes: list[str] = []
    for spec in args.db:
        name, rest = spec.split("=", 1)
        path, until, *own_days = rest.split(":")
        days = int(own_days[0]) if own_days else args.days
        plan = PlanConfig(n_samples=args.samples)
        if args.window_days:
            plan = dataclasses.replace(plan, window_days=args.window_days)
        if args.weekly_shape_days is not None:
            plan = dataclasses.replace(plan, weekly_shape_days=args.weekly_shape_days)
        base = SimConfig(until=date.fromisoformat(until), days=days, plan=plan)
        start = time.perf_counter()
        daily = load_sim_data(path, base)
        daily = dataclasses.replace(daily, forecast=(None, None, None))
        back = daily.back(base)
        views = {"daily": daily, "weekly": weekly_view(daily, back, base.plan.window_days)}
        for target in targets:
            cfg = base.with_plan(service_level=target)
            for history, data in views.items():
                result = simulate(data, cfg, progress=False)
                shelf, normal = result.overall["shelfwise"], result.overall["normal_approx"]
                extra = (result.breakdown or {})["shelfwise"]
                gap = (shelf["cycle_service_level"] - target) * 100
                gaps.setdefault(f"{name} {history}", []).append(abs(gap))
                rows.append(
                    f"| {name} | {target:.2f} | {history} | {shelf['cycle_service_level']:.4f} | "
                    f"{gap:+.2f} | {extra['cycles']:,} | "
                    f"{100 * float(extra['cycle_service_se']):.2f} | "  # type: ignore[arg-type]
                    f"{shelf['fill_rate']:.4f} | {shelf['avg_on_hand_units']:.2f} | "
                    f"{normal['cycle_service_level']:.4f} | {normal['avg_on_hand_units']:.2f} |"
                )
        notes.append(
            f"{name}: {daily.pairs.height:,} pairs, {days} days after {until}, "
            f"{time.perf_counter() - start:.0f} s"
        )
    print(
        "| warehouse | target | plans read | shelfwise service | gap (pts) | cycles | se (pts) "
        "| fill rate | avg on hand | normal service | normal on hand |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n| warehouse, plans read | mean abs gap (pts) | largest (pts) |\n|---|---|---|")
    for key, values in gaps.items():
        print(f"| {key} | {np.mean(values):.2f} | {max(values):.2f} |")
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()
