"""Achieved service of the inventory policies: replay actual demand at targets 90/95/99%.

Usage:
    python bench/bench_inventory_service.py --db NAME=PATH:UNTIL[:DAYS] [--db ...] [--days 90]
        [--samples 1000] [--variants no_level,item,no_season] [--policy sQ|RS]
        [--targets 0.9,0.95,0.99] [--normal-levels 0.85,0.995,0.999]

For each warehouse and target, `forecasting.inventory.simulate` replays the `--days` days after
UNTIL with three (s, Q) policies sharing the same Q and the same lead-time draws: shelfwise
(empirical compound distribution, seasonal ratio or as-of level, pooled target met at least
stock), normal_approx (textbook formula) and rule_of_thumb (two weeks of sales). Shelfwise
variants rerun the same replay with one switch changed (`no_level`: no as-of level;
`level_trend`: the level also where a seasonal ratio exists; `item`: every item on its own
target; `no_season`: no seasonal ratio; `item_no_season`: both, the policy as it was before
either existed; `before`: neither the level's recent misses nor the category's order sizes,
`no_pool` / `no_errors`: one of them off). `--targets` and `--normal-levels ''` cut a run down
(one target per process on a busy machine; no stock-at-equal-service curve then).
Prints:
1. achieved cycle service, gap to target, complete cycles and the standard error, fill rate,
   average stock (ratio to normal_approx);
2. mean absolute gap to target per warehouse and policy;
3. stock at equal service: the normal formula's stock / service curve (its runs at 0.85, 0.90,
   0.95, 0.99, 0.995, 0.999) interpolated at the service shelfwise achieved;
4. the same by demand segment: intermittent pairs (more than half of the window's days without
   sales) versus smooth ones;
5. service by Syntetos-Boylan demand class and by month, with cycles and standard errors.
Nothing is written to the warehouse.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np

from forecasting.inventory.config import PlanConfig
from forecasting.inventory.service_check import (
    EXTRA_NORMAL_LEVELS,
    TARGETS,
    ServiceCheck,
    check_service,
)
from forecasting.inventory.simulate import (
    POLICIES,
    SimConfig,
    SimData,
    load_sim_data,
    simulate,
    summarise,
)

VARIANTS: dict[str, dict[str, object]] = {
    "no_level": {"level": "off"},  # the window as is where there is no seasonal ratio
    "level_trend": {"level": "trend"},  # the as-of level also where there is a seasonal ratio
    "item": {"scope": "item"},
    "no_season": {"seasonal": False},
    "item_no_season": {"scope": "item", "seasonal": False},  # shelfwise before both switches
    # the policy before the level's recent errors and the category's order sizes (issue 13)
    "before": {"pooled_sizes": "off", "level_errors": False},
    "no_pool": {"pooled_sizes": "off"},
    "no_errors": {"level_errors": False},
}


def _normal_stock_text(check: ServiceCheck, target: float) -> str:
    """The normal formula's stock at shelfwise's service, or why there is none."""
    stock = check.normal_stock_at_shelfwise_service(target)
    if np.isnan(stock):
        best = max(check.normal_curve)
        return f"never reached (best {best[0]:.4f} at {best[1]:.2f})"
    return f"{stock:.2f}"


def _row(
    name: str,
    target: float,
    label: str,
    m: dict[str, float],
    normal_stock: float,
    extra: dict[str, object],
) -> str:
    gap = (m["cycle_service_level"] - target) * 100
    return (
        f"| {name} | {target:.2f} | {label} | {m['cycle_service_level']:.4f} | {gap:+.2f} | "
        f"{extra['cycles']:,} | {100 * float(extra['cycle_service_se']):.2f} | "  # type: ignore[arg-type]
        f"{m['fill_rate']:.4f} | {m['avg_on_hand_units']:.2f} | "
        f"{m['avg_on_hand_units'] / normal_stock:.3f} | {m['stockout_days']:,} | "
        f"{m['orders']:,} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", action="append", required=True, help="NAME=PATH:UNTIL[:DAYS] (DAYS: --days)"
    )
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--demand-mode", default="lost_sales")
    parser.add_argument(
        "--policy",
        choices=("sQ", "RS"),
        default="sQ",
        help="continuous (s, Q) or periodic (R, S) review for every policy",
    )
    parser.add_argument(
        "--variants",
        default="no_level,item,no_season",
        help=f"comma-separated shelfwise variants of {sorted(VARIANTS)} or ''",
    )
    parser.add_argument(
        "--targets", default=",".join(str(t) for t in TARGETS), help="comma-separated targets"
    )
    parser.add_argument(
        "--normal-levels",
        default=",".join(str(t) for t in EXTRA_NORMAL_LEVELS),
        help="extra levels of the normal formula's stock / service curve ('' for none)",
    )
    args = parser.parse_args()
    targets = [float(t) for t in args.targets.split(",") if t]
    normal_levels = [float(t) for t in args.normal_levels.split(",") if t]
    variants = [v for v in args.variants.split(",") if v]
    main_rows, iso_rows, seg_rows, notes, verdicts = [], [], [], [], []
    class_rows: list[str] = []
    gaps: dict[str, list[float]] = {}
    for spec in args.db:
        name, rest = spec.split("=", 1)
        path, until, *own_days = rest.split(":")
        days = int(own_days[0]) if own_days else args.days
        plan = PlanConfig(n_samples=args.samples, policy=args.policy)  # type: ignore[arg-type]
        base = SimConfig(
            until=date.fromisoformat(until), days=days, plan=plan, demand_mode=args.demand_mode
        )  # type: ignore[arg-type]
        start = time.perf_counter()
        data: SimData = load_sim_data(path, base)
        read_s = time.perf_counter() - start
        check = check_service(data, base, targets, normal_levels)
        notes.append(
            f"{name}: warehouse read {read_s:.1f} s, {len(targets)} targets and "
            f"{len(normal_levels)} extra normal levels replayed in "
            f"{time.perf_counter() - start - read_s:.0f} s; "
            + "; ".join(check.results[targets[0]].notes)
        )
        back = data.back(base)
        window = data.demand[:, back - base.plan.window_days : back]
        intermittent = (window == 0).mean(axis=1) > 0.5
        for level, result in check.results.items():
            normal_stock = result.overall["normal_approx"]["avg_on_hand_units"]
            assert result.breakdown is not None
            for policy in POLICIES:
                m = result.overall[policy]
                gaps.setdefault(f"{name} {policy}", []).append(
                    abs(m["cycle_service_level"] - level) * 100
                )
                main_rows.append(
                    _row(name, level, policy, m, normal_stock, result.breakdown[policy])
                )
            for policy in ("shelfwise", "normal_approx"):
                for label, cell in (
                    {
                        **result.breakdown[policy]["by_class"],  # type: ignore[dict-item]
                        **result.breakdown[policy]["by_month"],
                    }
                ).items():  # type: ignore[dict-item]
                    class_rows.append(
                        f"| {name} | {level:.2f} | {policy} | {label} | "
                        f"{cell['cycle_service_level']:.4f} | {cell['cycles']:,} | "
                        f"{100 * cell['cycle_service_se']:.2f} | {cell['fill_rate']:.4f} |"
                    )
            for variant in variants:
                vcfg = base.with_plan(service_level=level, **VARIANTS[variant])
                vres = simulate(data, vcfg, progress=False)
                m = vres.overall["shelfwise"]
                label = f"shelfwise ({variant})"
                gaps.setdefault(f"{name} {label}", []).append(
                    abs(m["cycle_service_level"] - level) * 100
                )
                assert vres.breakdown is not None
                main_rows.append(
                    _row(name, level, label, m, normal_stock, vres.breakdown["shelfwise"])
                )
            assert result.per_pair is not None
            for seg_name, mask in (("intermittent", intermittent), ("smooth", ~intermittent)):
                if not mask.any():
                    continue
                seg = summarise(result.per_pair, days, mask)
                cells = " | ".join(
                    f"{seg[p]['cycle_service_level']:.4f} / {seg[p]['avg_on_hand_units']:.2f}"
                    for p in POLICIES
                )
                seg_rows.append(
                    f"| {name} | {level:.2f} | {seg_name} ({int(mask.sum()):,}) | {cells} |"
                )
            shelf, normal = result.overall["shelfwise"], result.overall["normal_approx"]
            stock_then = check.normal_stock_at_shelfwise_service(level)
            text = _normal_stock_text(check, level)
            dominates = (
                shelf["cycle_service_level"] >= normal["cycle_service_level"]
                and shelf["avg_on_hand_units"] < normal["avg_on_hand_units"]
            )
            less = check.less_stock_at_equal_or_better_service(level)
            ratio = (
                "-" if np.isnan(stock_then) else f"{shelf['avg_on_hand_units'] / stock_then:.3f}"
            )
            iso_rows.append(
                f"| {name} | {level:.2f} | {shelf['cycle_service_level']:.4f} | "
                f"{shelf['avg_on_hand_units']:.2f} | {text} | {ratio} | "
                f"{'yes' if dominates else 'no'} | {'yes' if less else 'no'} |"
            )
            verdicts.append(less)
        pts = ", ".join(f"{s:.4f} -> {k:.2f}" for s, k in sorted(check.normal_curve))
        notes.append(f"{name} normal_approx curve (service -> stock): {pts}")
    print(
        "| warehouse | target | policy | cycle service | gap (pts) | cycles | se (pts) | "
        "fill rate | avg on hand | stock vs normal | stockout days | orders |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(main_rows))
    print("\n| warehouse policy | mean abs gap to target (pts) |\n|---|---|")
    for key, values in gaps.items():
        print(f"| {key} | {sum(values) / len(values):.2f} |")
    print(
        "\n| warehouse | target | shelfwise service | shelfwise stock | normal stock at that "
        "service | ratio | more service and less stock than normal at this target | "
        "less stock at equal service |\n|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(iso_rows))
    print(
        f"\nless stock than the normal formula at equal or better service: "
        f"{sum(verdicts)} of {len(verdicts)} (warehouse, target) cases"
    )
    print(
        "\n| warehouse | target | segment (pairs) | "
        + " | ".join(f"{p} service / stock" for p in POLICIES)
        + " |\n|---|---|---|---|---|---|"
    )
    print("\n".join(seg_rows))
    print(
        "\n| warehouse | target | policy | demand class or month | cycle service | cycles | "
        "se (pts) | fill rate |\n|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(class_rows))
    print()
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
