"""The reorder plan: policies per store x product as of a date, and the `reorder_plan` table.

Reads through `forecasting.inventory.inputs`, computes with `forecasting.inventory.policies`,
and writes `reorder_plan` atomically, with each row's suggestion and its reason.
"""

from __future__ import annotations

import os
from datetime import date

import numpy as np
import polars as pl

from forecasting.inventory.config import PlanConfig
from forecasting.inventory.inputs import PlanInputs, column_array, load_inputs
from forecasting.inventory.level import LEVEL_WEEKS, MIN_WEEKS
from forecasting.inventory.maths import round_order_quantity
from forecasting.inventory.policies import (
    order_quantities,
    pooled_sizes,
    service_targets,
    shelfwise_policy,
)
from warehouse.db import sql_text, writing
from warehouse.executors import Executor


def _fmt(values: np.ndarray) -> pl.Series:
    return pl.Series(values).round(1).cast(pl.String).str.replace(r"\.0$", "")


def build_plan(
    inputs: PlanInputs, cfg: PlanConfig, executor: Executor | None = None
) -> pl.DataFrame:
    """The `reorder_plan` frame: one row per pair with the policy, the suggestion and why;
    the Monte Carlo sampling runs by chunks of pairs on `executor` (this process when None)."""
    pairs, hist = inputs.pairs, inputs.demand.history
    rng = np.random.default_rng(cfg.seed)
    mean_daily = hist.mean(axis=1)
    order_qty = order_quantities(pairs, mean_daily, cfg)
    target, label = service_targets(pairs, hist, order_qty, cfg)
    first_sale = pairs["first_sale_date"]
    no_history = (first_sale.is_null() | (first_sale > inputs.until)).to_numpy()
    no_demand = (mean_daily <= 0) & ~no_history
    no_stock = pairs["on_hand_units"].is_null().to_numpy()
    on_hand = column_array(pairs, "on_hand_units", 0.0)
    on_order = column_array(pairs, "on_order_units", 0.0)
    position = on_hand + on_order
    policy, risk_all = shelfwise_policy(
        inputs, cfg, target, order_qty, rng, position, pooled=label != "cost", executor=executor
    )
    inactive = no_history | no_demand
    s = np.where(inactive, 0.0, policy.reorder_point)
    q = np.where(inactive, 0.0, order_qty)
    up_to = np.where(inactive, 0.0, policy.order_up_to)
    if cfg.policy == "RS":
        raw = np.maximum(up_to - position, 0.0)
        suggested = round_order_quantity(
            raw, column_array(pairs, "case_pack", 1.0), column_array(pairs, "min_order_qty", 1.0)
        )
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            n_orders = np.where(q > 0, np.floor((s - position) / np.where(q > 0, q, 1)) + 1, 0)
        suggested = np.where(position <= s, np.maximum(n_orders, 0) * q, 0.0)
    suggested = np.where(inactive | no_stock, 0.0, suggested)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(mean_daily > 0, np.maximum(on_hand, 0) / mean_daily, np.nan)
    risk = np.where(inactive | no_stock, np.nan, risk_all)
    fc_mask = inputs.demand.forecast_mask()
    days = cfg.window_days if inputs.level is None else cfg.shape_days
    history_text = np.full(
        pairs.height,
        f"{days}-day history bootstrap"
        if inputs.period_days == 1
        else f"{days // inputs.period_days} weeks of weekly sales spread over their days, "
        "bootstrapped",
    )
    if inputs.weekly is not None:
        history_text = np.where(
            inputs.weekly.rows,
            f"{cfg.weekly_shape_days // 7} weeks of weekly sales, each relative to its "
            f"neighbours' level, at the last {cfg.window_days // 7} weeks' level, bootstrapped",
            history_text,
        )
    if inputs.season is not None:
        factor = np.char.mod("%.2f", inputs.season)
        history_text = np.char.add(
            np.char.add(history_text, " x "), np.char.add(factor, " (category's season a year ago)")
        )
    if inputs.level is not None:
        level_text = np.where(
            inputs.level.known,
            np.char.add(
                np.char.add(" x ", np.char.mod("%.2f", inputs.level.factor)),
                f" (as-of level and damped trend of the last {LEVEL_WEEKS} weeks)",
            ),
            f" (no level estimate: under {MIN_WEEKS} weeks of sales; window as is)",
        )
        history_text = np.char.add(history_text, level_text)
    if inputs.errors is not None:
        history_text = np.char.add(
            history_text,
            np.char.add(
                " x the level's recent misses (mean x",
                np.char.add(np.char.mod("%.2f", inputs.errors.mean), ")"),
            ),
        )
    if pooled_sizes(inputs, inputs.demand.history, cfg) is not None:
        history_text = np.char.add(history_text, "; sale sizes shrunk to the category's")
    source = np.where(fc_mask, f"forecast quantiles (run {inputs.forecast_run})", history_text)
    measure = "fill rate" if cfg.measure == "fill" else "cycle service"
    basis = label.astype(str)
    if cfg.scope == "portfolio" and cfg.measure == "cycle":
        basis = np.where(basis != "cost", np.char.add(basis, ", pooled over items"), basis)
    pct = _fmt(target * 100)
    policy_text = ("reorder point " if cfg.policy == "sQ" else "order-up-to ") + _fmt(
        s if cfg.policy == "sQ" else up_to
    )
    frame = (
        pairs.select("store_id", "product_id", "description", "category")
        .with_columns(
            pl.lit(inputs.until).alias("as_of"),
            pl.Series("on_hand", np.where(no_stock, np.nan, on_hand)).fill_nan(None),
            pl.Series("on_order", on_order),
            pl.Series("reorder_point", s),
            pl.Series("safety_stock", np.where(inactive, 0.0, np.round(policy.safety_stock, 2))),
            pl.Series("order_up_to", up_to),
            pl.Series("order_qty", q),
            pl.Series("suggested_order_qty", suggested),
            pl.Series("days_of_cover", np.round(cover, 1)).fill_nan(None),
            pl.Series("stockout_risk", np.round(risk, 4)).fill_nan(None),
            pl.Series("mean_daily_demand", np.round(mean_daily, 3)),
            pl.Series("service_target", target),
            pl.Series("target_basis", label),
            pl.lit(cfg.policy).alias("policy"),
            pl.Series("demand_source", np.where(fc_mask, "forecast", "history")),
            pairs["unit_cost"].alias("unit_cost"),
        )
        .with_columns(
            (pl.col("suggested_order_qty") * pl.col("unit_cost")).round(2).alias("order_value"),
        )
    )
    reason = pl.concat_str(
        [
            pl.when(pl.Series(no_history))
            .then(
                pl.lit(
                    f"no sales on or before {inputs.until}: no demand estimate, nothing suggested; "
                    "set this item manually"
                )
            )
            .when(pl.Series(no_demand))
            .then(pl.lit(f"no sales in the last {cfg.window_days} days: no order"))
            .when(pl.Series(no_stock))
            .then(
                pl.lit(
                    f"no stock snapshot on or before {inputs.until}: load stock with `python -m "
                    "warehouse ingest inventory`; nothing suggested"
                )
            )
            .when(pl.Series(suggested > 0))
            .then(
                pl.concat_str(
                    [pl.lit("position "), _fmt(position), pl.lit(" at or below "), policy_text]
                )
            )
            .otherwise(
                pl.concat_str([pl.lit("position "), _fmt(position), pl.lit(" above "), policy_text])
            ),
            pl.concat_str(
                [
                    pl.lit("; "),
                    pl.lit(measure),
                    pl.lit(" target "),
                    pct,
                    pl.lit("% ("),
                    pl.Series(basis),
                    pl.lit("); demand from "),
                    pl.Series(source),
                ]
            ),
            pl.when(pl.Series(on_hand < 0))
            .then(
                pl.concat_str(
                    [
                        pl.lit("; negative on-hand "),
                        _fmt(on_hand),
                        pl.lit(" counted as is (check the count)"),
                    ]
                )
            )
            .otherwise(pl.lit("")),
            pl.when(pairs["param_source"] == "default")
            .then(
                pl.lit(
                    "; supply parameters missing: documented defaults used (lead time 7 +- 2 days, "
                    "order cost 20, case pack 1)"
                )
            )
            .otherwise(pl.lit("")),
            pl.when(pairs["unit_cost"].is_null())
            .then(
                pl.lit(
                    f"; no unit cost: order quantity = {cfg.no_cost_cover_days:g} days of demand"
                )
            )
            .when(pairs["is_cost_estimated"].fill_null(False))
            .then(pl.lit("; unit cost estimated (0.6 x price)"))
            .otherwise(pl.lit("")),
        ]
    ).alias("reason")
    return frame.with_columns(reason)


def write_plan(db: str | os.PathLike[str], frame: pl.DataFrame) -> None:
    """Replace the `reorder_plan` table atomically."""
    with writing(db) as con:
        con.register("plan_frame", frame.to_arrow())
        con.execute(sql_text("inventory/write_plan")).fetchall()
        con.unregister("plan_frame")


def run_plan(
    db: str | os.PathLike[str],
    until: date | None = None,
    cfg: PlanConfig | None = None,
    executor: Executor | None = None,
) -> pl.DataFrame:
    """Compute the plan as of `until` (default: the last sale date) and write `reorder_plan`
    (the driver reads the warehouse once, `executor` samples, the driver writes once)."""
    cfg = cfg or PlanConfig()
    frame = build_plan(load_inputs(db, until, cfg), cfg, executor)
    write_plan(db, frame)
    return frame
