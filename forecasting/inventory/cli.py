"""`python -m forecasting plan|simulate`: order suggestions and the service-level replay.

Registered by `forecasting.cli`; the refresh pipeline's jobs are in
`forecasting.inventory.refresh`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from forecasting.inventory.config import PlanConfig
from forecasting.inventory.orders import purchase_orders, write_purchase_orders
from forecasting.inventory.plan import run_plan
from forecasting.inventory.sim_report import print_table, write_results
from forecasting.inventory.simulate import SimConfig, load_sim_data, simulate
from warehouse.executors import add_executor_option, open_executor
from warehouse.files import check_output_path


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _level(text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `plan` and `simulate` subcommands."""
    plan = subparsers.add_parser(
        "plan",
        help="reorder points and order suggestions per store x product (writes reorder_plan)",
        description="Reorder points, safety stock and today's order suggestions per store x "
        "product, written to reorder_plan. A weekly panel is planned from each week spread "
        "evenly over its days (a row's date is its week's last day). Pairs without a stock "
        "snapshot get their levels but no suggestion (load stock: python -m warehouse ingest "
        "inventory FILE).",
    )
    plan.add_argument("--until", type=_date, help="plan date (default: the last sale date)")
    plan.add_argument(
        "--service-level",
        type=_level,
        default=0.95,
        help="target, a share in [0.5, 0.999] (default 0.95)",
    )
    plan.add_argument(
        "--targets",
        choices=("fixed", "class", "cost"),
        default="fixed",
        help="one target for all, ABC/XYZ class targets, or cost-based",
    )
    plan.add_argument(
        "--measure",
        choices=("cycle", "fill"),
        default="cycle",
        help="cycle service level or fill rate",
    )
    plan.add_argument(
        "--policy",
        choices=("sQ", "RS"),
        default="sQ",
        help="continuous review (s, Q) or periodic review (R, S)",
    )
    plan.add_argument("--review-days", type=int, default=7, help="R of the (R, S) policy")
    plan.add_argument("--window-days", type=int, default=56, help="days of history used")
    _add_target_options(plan)
    plan.add_argument(
        "--export",
        type=Path,
        help="also write purchase orders per supplier x store (.xlsx: summary + a sheet per "
        "supplier; .csv: lines)",
    )
    plan.add_argument(
        "--raw-csv",
        action="store_true",
        help="CSV cells as they are (no ' before =, +, -, @): for programs",
    )
    plan.set_defaults(handler=_cmd_plan)

    sim = subparsers.add_parser(
        "simulate", help="replay actual demand after --until with the policy and two baselines"
    )
    sim.add_argument("--until", type=_date, required=True, help="last day of known history")
    sim.add_argument("--days", type=int, required=True, help="days replayed after --until")
    sim.add_argument("--service-level", type=_level, default=0.95, help="target (default 0.95)")
    sim.add_argument("--demand-mode", choices=("lost_sales", "backorders"), default="lost_sales")
    sim.add_argument("--replan-days", type=int, default=7, help="re-estimate policies every N days")
    sim.add_argument("--window-days", type=int, default=56, help="days of history used")
    sim.add_argument("--samples", type=int, default=1000, help="Monte Carlo samples per pair")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument(
        "--policy",
        choices=("sQ", "RS"),
        default="sQ",
        help="continuous review (s, Q) or periodic review (R, S) for all policies",
    )
    sim.add_argument("--review-days", type=int, default=7, help="R of the (R, S) policy")
    _add_target_options(sim)
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.set_defaults(handler=_cmd_simulate)


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    add_executor_option(parser)
    parser.add_argument(
        "--scope",
        choices=("portfolio", "item"),
        default="portfolio",
        help="portfolio (default): the cycle service target holds over all replenishment "
        "cycles of the items sharing it, met with the least stock; item: each item on "
        "its own",
    )
    parser.add_argument(
        "--item-floor-gap",
        type=_level,
        default=0.10,
        help="portfolio scope: no item planned more than this below its target (default 0.10)",
    )
    parser.add_argument(
        "--no-seasonal",
        dest="seasonal",
        action="store_false",
        help="do not scale the history by last year's seasonal ratio",
    )
    parser.add_argument(
        "--level",
        choices=("auto", "trend", "off"),
        default="auto",
        help="rescale the history window to an as-of level with a damped trend: auto (default) "
        "where there is no seasonal ratio (under a year of sales), trend always, off never",
    )
    parser.add_argument(
        "--weekly-shape-days",
        type=int,
        default=168,
        help="weekly panels: bootstrap this many days of weeks, each relative to its neighbours' "
        "level, at the window's level (default 168 = 24 weeks; 0: the window's weeks as is)",
    )


def _cmd_plan(db: Path, args: argparse.Namespace) -> int:
    cfg = PlanConfig(
        service_level=args.service_level,
        targets=args.targets,
        measure=args.measure,
        policy=args.policy,
        review_days=args.review_days,
        window_days=args.window_days,
        scope=args.scope,
        item_floor_gap=args.item_floor_gap,
        seasonal=args.seasonal,
        level=args.level,
        weekly_shape_days=args.weekly_shape_days,
    )
    if args.export is not None:  # before reorder_plan is replaced, not after
        check_output_path(args.export, flag="--export", suffixes=(".csv", ".xlsx"))
    start = time.perf_counter()
    with open_executor(args.executor, progress=not args.quiet) as executor:
        frame = run_plan(db, args.until, cfg, executor)
    to_order = frame.filter(frame["suggested_order_qty"] > 0)
    value = to_order["order_value"].sum() or 0.0
    print(
        f"reorder_plan: {frame.height:,} store x product rows as of {frame['as_of'][0]}; "
        f"{to_order.height:,} to order now (value {value:,.2f}); "
        f"{time.perf_counter() - start:.1f} s"
    )
    if cfg.scope == "portfolio" and cfg.measure == "cycle" and cfg.targets != "cost":
        print(
            f"  cycle service target pooled over each target's items (least stock), no item "
            f"more than {cfg.item_floor_gap:.0%} below its target; --scope item: each item "
            "on its own"
        )
    no_stock = int(frame["on_hand"].is_null().sum())
    if no_stock:
        print(
            f"  {no_stock:,} pairs have no stock snapshot on or before {frame['as_of'][0]}: "
            "their reorder points are set but nothing is suggested; load stock with "
            "`python -m warehouse ingest inventory FILE`"
        )
    sources = frame["demand_source"].value_counts(sort=True)
    for source, count in sources.iter_rows():
        print(f"  demand source {source}: {count:,} pairs")
    if args.export is not None:
        orders = purchase_orders(db, plan=frame)
        path = write_purchase_orders(orders, args.export, raw_csv=args.raw_csv)
        print(
            f"purchase orders: {orders.orders.height:,} orders (supplier x store), "
            f"{orders.lines.height:,} lines written to {path}"
        )
    return 0


def _cmd_simulate(db: Path, args: argparse.Namespace) -> int:
    plan = PlanConfig(
        service_level=args.service_level,
        n_samples=args.samples,
        window_days=args.window_days,
        seed=args.seed,
        scope=args.scope,
        item_floor_gap=args.item_floor_gap,
        seasonal=args.seasonal,
        level=args.level,
        weekly_shape_days=args.weekly_shape_days,
        policy=args.policy,
        review_days=args.review_days,
    )
    cfg = SimConfig(
        until=args.until,
        days=args.days,
        plan=plan,
        replan_days=args.replan_days,
        demand_mode=args.demand_mode,
    )
    data = load_sim_data(db, cfg)
    bars = not (args.json or args.quiet)
    with open_executor(args.executor, progress=bars) as executor:
        result = simulate(data, cfg, progress=bars, executor=executor)
    write_results(db, result, cfg)
    if args.json:
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
        print(json.dumps(result.as_json()))
    else:
        print_table(result)
    return 0
