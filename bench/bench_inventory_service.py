"""Achieved service of the inventory policies: replay actual demand at targets 90/95/99%.

Usage:
    python bench/bench_inventory_service.py --db NAME=PATH:UNTIL [--db ...] [--days 90]

For each warehouse and target, `forecasting.simulate` replays the `--days` days after UNTIL with
three (s, Q) policies sharing the same Q and the same lead-time draws: shelfwise (empirical
compound distribution), normal_approx (textbook formula) and rule_of_thumb (two weeks of sales).
Prints one table with the stock ratio shelfwise / normal_approx. Nothing is written.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from forecasting.simulate import POLICIES, SimConfig, load_sim_data, simulate

TARGETS = (0.90, 0.95, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", required=True, help="NAME=PATH:UNTIL")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--demand-mode", default="lost_sales")
    args = parser.parse_args()
    print("| warehouse | target | policy | cycle service | gap (pts) | fill rate | "
          "avg on hand | stock vs normal | stockout days | orders |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    gaps: dict[str, list[float]] = {}
    for spec in args.db:
        name, rest = spec.split("=", 1)
        path, until = rest.rsplit(":", 1)
        for target in TARGETS:
            cfg = SimConfig(until=date.fromisoformat(until), days=args.days,
                            service_level=target, n_samples=args.samples,
                            demand_mode=args.demand_mode)
            start = time.perf_counter()
            result = simulate(load_sim_data(path, cfg), cfg, progress=False)
            elapsed = time.perf_counter() - start
            normal_stock = result.overall["normal_approx"]["avg_on_hand_units"]
            for policy in POLICIES:
                m = result.overall[policy]
                gap = (m["cycle_service_level"] - target) * 100
                gaps.setdefault(f"{name} {policy}", []).append(abs(gap))
                print(f"| {name} | {target:.2f} | {policy} | {m['cycle_service_level']:.4f} | "
                      f"{gap:+.2f} | {m['fill_rate']:.4f} | {m['avg_on_hand_units']:.2f} | "
                      f"{m['avg_on_hand_units'] / normal_stock:.3f} | {m['stockout_days']:,} | "
                      f"{m['orders']:,} |")
            for note in result.notes:
                print(f"<!-- {name} {target}: {note} ({elapsed:.0f} s) -->")
    print()
    print("| warehouse policy | mean abs gap to target (pts) |")
    print("|---|---|")
    for key, values in gaps.items():
        print(f"| {key} | {sum(values) / len(values):.2f} |")


if __name__ == "__main__":
    main()
