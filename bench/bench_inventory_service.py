"""Achieved service of the inventory policies: replay actual demand at targets 90/95/99%.

Usage:
    python bench/bench_inventory_service.py --db NAME=PATH:UNTIL [--db ...] [--days 90]

For each warehouse and target, `forecasting.simulate` replays the `--days` days after UNTIL with
three (s, Q) policies sharing the same Q and the same lead-time draws: shelfwise (empirical
compound distribution), normal_approx (textbook formula) and rule_of_thumb (two weeks of sales).
Prints:
1. achieved cycle service, gap to target, fill rate, average stock (ratio to normal_approx);
2. stock at equal service: the normal formula's stock / service curve (its runs at 0.85, 0.90,
   0.95, 0.99, 0.995) interpolated at the service shelfwise achieved;
3. the same by demand segment: intermittent pairs (more than half of the window's days without
   sales) versus smooth ones.
Nothing is written to the warehouse.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np

from forecasting.simulate import POLICIES, SimConfig, SimData, load_sim_data, simulate, summarise

TARGETS = (0.90, 0.95, 0.99)
EXTRA_NORMAL_LEVELS = (0.85, 0.995)


def _interp_stock(curve: list[tuple[float, float]], service: float) -> float:
    """Stock of the normal policy at `service`, linear between its measured points."""
    points = sorted(curve)
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    if service > xs.max():  # beyond the normal formula's best measured service
        return float("nan")
    return float(np.interp(service, xs, ys))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", required=True, help="NAME=PATH:UNTIL")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--demand-mode", default="lost_sales")
    args = parser.parse_args()
    main_rows, iso_rows, seg_rows, notes = [], [], [], []
    gaps: dict[str, list[float]] = {}
    for spec in args.db:
        name, rest = spec.split("=", 1)
        path, until = rest.rsplit(":", 1)
        base = SimConfig(until=date.fromisoformat(until), days=args.days,
                         n_samples=args.samples, demand_mode=args.demand_mode)
        data: SimData = load_sim_data(path, base)
        window = data.demand[:, :base.window_days]
        intermittent = (window == 0).mean(axis=1) > 0.5
        curve: list[tuple[float, float]] = []
        shelf: dict[float, dict[str, float]] = {}
        for target in TARGETS + EXTRA_NORMAL_LEVELS:
            extra = target in EXTRA_NORMAL_LEVELS
            level = 0.95 if extra else target
            cfg = SimConfig(until=base.until, days=args.days, service_level=level,
                            n_samples=100 if extra else args.samples,
                            demand_mode=args.demand_mode, normal_level=target)
            start = time.perf_counter()
            result = simulate(data, cfg, progress=False)
            notes.append(f"{name} {target}: {time.perf_counter() - start:.0f} s; "
                         + "; ".join(result.notes))
            normal = result.overall["normal_approx"]
            curve.append((normal["cycle_service_level"], normal["avg_on_hand_units"]))
            if extra:
                continue
            shelf[target] = result.overall["shelfwise"]
            for policy in POLICIES:
                m = result.overall[policy]
                gap = (m["cycle_service_level"] - target) * 100
                gaps.setdefault(f"{name} {policy}", []).append(abs(gap))
                main_rows.append(
                    f"| {name} | {target:.2f} | {policy} | {m['cycle_service_level']:.4f} | "
                    f"{gap:+.2f} | {m['fill_rate']:.4f} | {m['avg_on_hand_units']:.2f} | "
                    f"{m['avg_on_hand_units'] / normal['avg_on_hand_units']:.3f} | "
                    f"{m['stockout_days']:,} | {m['orders']:,} |")
            assert result.per_pair is not None
            for seg_name, mask in (("intermittent", intermittent), ("smooth", ~intermittent)):
                if not mask.any():
                    continue
                seg = summarise(result.per_pair, args.days, mask)
                cells = " | ".join(
                    f"{seg[p]['cycle_service_level']:.4f} / {seg[p]['avg_on_hand_units']:.2f}"
                    for p in POLICIES)
                seg_rows.append(f"| {name} | {target:.2f} | {seg_name} ({int(mask.sum()):,}) | "
                                f"{cells} |")
        for target, m in shelf.items():
            normal_stock = _interp_stock(curve, m["cycle_service_level"])
            iso_rows.append(
                f"| {name} | {target:.2f} | {m['cycle_service_level']:.4f} | "
                f"{m['avg_on_hand_units']:.2f} | {normal_stock:.2f} | "
                f"{m['avg_on_hand_units'] / normal_stock:.3f} |")
        pts = ", ".join(f"{s:.4f} -> {k:.2f}" for s, k in sorted(curve))
        notes.append(f"{name} normal_approx curve (service -> stock): {pts}")
    print("| warehouse | target | policy | cycle service | gap (pts) | fill rate | "
          "avg on hand | stock vs normal | stockout days | orders |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(main_rows))
    print("\n| warehouse policy | mean abs gap to target (pts) |\n|---|---|")
    for key, values in gaps.items():
        print(f"| {key} | {sum(values) / len(values):.2f} |")
    print("\n| warehouse | target | shelfwise service | shelfwise stock | normal stock at that "
          "service | ratio |\n|---|---|---|---|---|---|")
    print("\n".join(iso_rows))
    print("\n| warehouse | target | segment (pairs) | " + " | ".join(
        f"{p} service / stock" for p in POLICIES) + " |\n|---|---|---|---|---|---|")
    print("\n".join(seg_rows))
    print()
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
