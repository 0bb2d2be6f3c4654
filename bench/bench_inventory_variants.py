"""Variants of the shelfwise history source, replayed beside the normal formula.

Usage:
    python bench/bench_inventory_variants.py DB UNTIL TARGET DAYS [--method block,nb]
        [--level-days 0,14] [--samples 500]

Prints one line per variant and policy (cycle service, fill rate, average on hand, ...).
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from forecasting.inventory.config import PlanConfig
from forecasting.inventory.simulate import SimConfig, load_sim_data, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("until", type=date.fromisoformat)
    parser.add_argument("target", type=float)
    parser.add_argument("days", type=int)
    parser.add_argument("--method", default="block")
    parser.add_argument("--level-days", default="0")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--no-undershoot", action="store_true")
    args = parser.parse_args()
    for method in args.method.split(","):
        for level_days in (int(x) for x in args.level_days.split(",")):
            plan = PlanConfig(
                service_level=args.target,
                method=method,  # type: ignore[arg-type]
                level_days=level_days,
                n_samples=args.samples,
                undershoot=not args.no_undershoot,
            )
            cfg = SimConfig(until=args.until, days=args.days, plan=plan)
            start = time.perf_counter()
            result = simulate(load_sim_data(args.db, cfg), cfg, progress=False)
            for policy, metrics in result.overall.items():
                print(
                    f"{method} level_days={level_days} undershoot={plan.undershoot} "
                    f"target={args.target} {policy} "
                    f"{metrics} {time.perf_counter() - start:.0f}s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
