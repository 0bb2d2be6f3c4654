"""The three reorder policies per pair (shelfwise, the normal formula, the rule of thumb).

Arrays are `[n_pairs]` in units (or days where named); never a Python loop per pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from forecasting.inventory.allocation import allocate_service
from forecasting.inventory.config import PlanConfig
from forecasting.inventory.demand_dist import DemandInputs
from forecasting.inventory.inputs import PlanInputs, column_array
from forecasting.inventory.maths import (
    DAYS_PER_YEAR,
    abc_xyz_classes,
    cost_based_cycle_service,
    eoq,
    normal_reorder_point,
    round_order_quantity,
)
from forecasting.inventory.order_sizes import SizePool, size_pool
from forecasting.inventory.sampling import SampleChunk, run_chunks
from warehouse.executors import Executor


@dataclass(frozen=True)
class Policy:
    """Policy parameters per pair (arrays `[n_pairs]`, units)."""

    reorder_point: np.ndarray
    order_qty: np.ndarray
    order_up_to: np.ndarray
    safety_stock: np.ndarray
    target: np.ndarray
    mean_daily: np.ndarray


def order_quantities(pairs: pl.DataFrame, mean_daily: np.ndarray, cfg: PlanConfig) -> np.ndarray:
    """EOQ (or `no_cost_cover_days` of demand without a unit cost), rounded to packs and MOQ."""
    unit_cost = column_array(pairs, "unit_cost")
    holding = column_array(pairs, "holding_cost_rate") * unit_cost
    known = np.isfinite(holding) & (holding > 0)
    q = np.where(
        known,
        eoq(
            mean_daily * DAYS_PER_YEAR,
            column_array(pairs, "order_cost"),
            np.where(known, holding, 1.0),
        ),
        mean_daily * cfg.no_cost_cover_days,
    )
    q = np.minimum(q, mean_daily * DAYS_PER_YEAR)  # never more than a year of demand
    return round_order_quantity(
        q, column_array(pairs, "case_pack", 1.0), column_array(pairs, "min_order_qty", 1.0)
    )


def service_targets(
    pairs: pl.DataFrame, history: np.ndarray, order_qty: np.ndarray, cfg: PlanConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(target per pair, label per pair: "fixed", class such as "AX", or "cost")."""
    n = pairs.height
    if cfg.targets == "fixed":
        return np.full(n, cfg.service_level), np.full(n, "fixed")
    mean_daily = history.mean(axis=1)
    if cfg.targets == "class":
        price = column_array(pairs, "unit_price", 1.0)
        weeks = history[:, history.shape[1] % 7 :].reshape(n, -1, 7).sum(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(weeks.mean(axis=1) > 0, weeks.std(axis=1) / weeks.mean(axis=1), np.inf)
        labels = abc_xyz_classes(mean_daily * np.nan_to_num(price, nan=1.0), cv, cfg.class_rules)
        return np.array([cfg.class_rules.target(x) for x in np.unique(labels)])[
            np.searchsorted(np.unique(labels), labels)
        ], labels
    margin = column_array(pairs, "unit_price") - column_array(pairs, "unit_cost")
    holding = column_array(pairs, "holding_cost_rate") * column_array(pairs, "unit_cost")
    known = np.isfinite(margin) & np.isfinite(holding) & (margin > 0)
    csl = cost_based_cycle_service(
        mean_daily * DAYS_PER_YEAR, order_qty, np.nan_to_num(holding), np.nan_to_num(margin)
    )
    return np.where(known, csl, cfg.service_level), np.where(known, "cost", "fixed")


def recent_level_history(history: np.ndarray, level_days: int) -> np.ndarray:
    """The window rescaled to the recent level: x mean(last `level_days`) / mean(window).

    The ratio is clipped to [0.5, 2] and left at 1 where the window has no demand. Shape kept.
    """
    window_mean = history.mean(axis=1)
    recent = history[:, -level_days:].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(window_mean > 0, recent / window_mean, 1.0)
    return history * np.clip(ratio, 0.5, 2.0)[:, None]


def shelfwise_policy(
    inputs: PlanInputs,
    cfg: PlanConfig,
    target: np.ndarray,
    order_qty: np.ndarray,
    rng: np.random.Generator,
    position: np.ndarray | None = None,
    pooled: np.ndarray | None = None,
    executor: Executor | None = None,
) -> tuple[Policy, np.ndarray]:
    """Empirical compound-distribution policy, and P(lead-time demand > position) per pair.

    Samples are drawn and reduced chunk by chunk (memory chunk x n_samples, not n x n_samples).
    With `cfg.scope == "portfolio"` (cycle service only) the pairs whose `pooled` flag is set
    share their target as a group (`allocate_service`); the others get their own quantile.
    The sampling runs by chunks of pairs on `executor` (this process when None), each chunk
    seeded from `rng` (`forecasting.inventory.sampling`): the same plan on any engine.
    """
    pairs, demand = inputs.pairs, inputs.demand
    if inputs.shape is not None:  # the level's longer history of the demand shape
        demand = DemandInputs(inputs.shape, demand.forecast_q, demand.has_forecast)
    if cfg.level_days:
        demand = DemandInputs(
            recent_level_history(demand.history, cfg.level_days),
            demand.forecast_q,
            demand.has_forecast,
        )
    lt_mean, lt_sd = (
        column_array(pairs, "lead_time_mean_days"),
        column_array(pairs, "lead_time_sd_days"),
    )
    periodic = cfg.policy == "RS"
    mean_daily = demand.history.mean(axis=1)
    scale = inputs.history_scale()
    level_sd = (
        None
        if inputs.level is None or cfg.level_sd == 0
        else (inputs.level.rel_sd * cfg.level_sd if inputs.level.rel_sd is not None else None)
    )
    if inputs.weekly is not None and cfg.level_sd:  # the weekly level's own standard error
        level_sd = inputs.weekly.level_sd * cfg.level_sd
        # the level is the window's mean, unbiased, so true / estimated has mean 1 + sd^2
        unbias = 1.0 + level_sd**2
        scale = unbias if scale is None else scale * unbias
    if scale is not None:
        mean_daily = mean_daily * np.where(demand.forecast_mask(), 1.0, scale)
    if inputs.errors is not None:  # the recent bias of the level
        mean_daily = mean_daily * np.where(demand.forecast_mask(), 1.0, inputs.errors.mean)
    n = pairs.height
    cycle_qty = mean_daily * cfg.review_days if periodic else order_qty
    portfolio = cfg.scope == "portfolio" and cfg.measure == "cycle"
    shared = np.full(n, portfolio) if pooled is None else pooled & portfolio
    cycles_per_day = expected_cycles_per_day(pairs, mean_daily, order_qty, cfg)
    # (R, S): a cycle spans `periods` reviews where the smallest order outlasts one; the
    # samples give the service of one review period, and a cycle fails if any of its periods
    # does, so per cycle 1 - periods x (1 - per-period service) (union bound)
    periods = (
        np.maximum(1.0 / np.maximum(cycles_per_day * cfg.review_days, 1e-12), 1.0)
        if periodic
        else np.ones(n)
    )
    period_target = 1.0 - (1.0 - target) / periods
    stats = run_chunks(
        SampleChunk(
            0,
            demand,
            lt_mean,
            lt_sd,
            cycle_qty,
            target if cfg.measure == "fill" else period_target,
            shared,
            periods,
            position,
            scale,
            level_sd,
            cfg.n_samples,
            extra_days=cfg.review_days if periodic else 0,
            undershoot=cfg.undershoot and not periodic,
            method=cfg.method,
            fill=cfg.measure == "fill",
            portfolio=portfolio,
            sizes=pooled_sizes(inputs, demand.history, cfg),
            level_error=inputs.errors,
        ),
        rng,
        executor,
    )
    level, mean_ltd, risk = stats["level"], stats["mean_ltd"], stats["risk"]
    if portfolio:
        for group_target in np.unique(target[shared]):
            rows = np.flatnonzero(shared & (target == group_target))
            level[rows] = allocate_service(
                stats["grid_s"][rows],
                stats["grid_service"][rows],
                cycles_per_day[rows],
                float(group_target),
                max(0.5, float(group_target) - cfg.item_floor_gap),
            )
    up_to = level if periodic else level + order_qty
    return Policy(level, order_qty, up_to, level - mean_ltd, target, mean_daily), risk


def pooled_sizes(inputs: PlanInputs, history: np.ndarray, cfg: PlanConfig) -> SizePool | None:
    """The category size pool of `history` when `cfg.pooled_sizes` asks for it, else None.

    "auto" pools only where the as-of level is used (short histories without a seasonal ratio).
    """
    if cfg.pooled_sizes == "off" or (cfg.pooled_sizes == "auto" and inputs.level is None):
        return None
    groups = inputs.pairs["category"].cast(pl.String).fill_null("").to_numpy()
    return size_pool(history, groups, cfg.size_prior_days)


def expected_cycles_per_day(
    pairs: pl.DataFrame, mean_daily: np.ndarray, order_qty: np.ndarray, cfg: PlanConfig
) -> np.ndarray:
    """Replenishment cycles per day per pair, the weight of its service in a pooled target.

    (s, Q): demand / Q. (R, S): one order per review, unless the smallest order (a case pack
    or the minimum order) lasts longer: then every ceil(min order / (demand x R)) reviews.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if cfg.policy == "sQ":
            cycles = np.where(order_qty > 0, mean_daily / order_qty, 0.0)
        else:
            smallest = np.maximum(
                column_array(pairs, "case_pack", 1.0), column_array(pairs, "min_order_qty", 1.0)
            )
            reviews = np.maximum(np.ceil(smallest / (mean_daily * cfg.review_days) - 1e-9), 1.0)
            cycles = 1.0 / (cfg.review_days * reviews)
    return np.where(mean_daily > 0, cycles, 0.0)


def normal_policy(
    inputs: PlanInputs, target: np.ndarray, order_qty: np.ndarray, review_days: int = 0
) -> Policy:
    """Textbook (s, Q): s = d L + z sqrt(L sd_d^2 + d^2 sd_L^2), from the same history window.

    With `review_days` = R > 0, the (R, S) version: S = the same over L + R days (order up to S
    every R days; `reorder_point` and `order_up_to` both hold S).
    """
    pairs, hist = inputs.pairs, inputs.demand.history
    mean_daily, sd_daily = hist.mean(axis=1), hist.std(axis=1, ddof=1)
    s, safety = normal_reorder_point(
        mean_daily,
        sd_daily,
        column_array(pairs, "lead_time_mean_days") + review_days,
        column_array(pairs, "lead_time_sd_days"),
        target,
    )
    s = np.ceil(s - 1e-9)
    return Policy(s, order_qty, s if review_days else s + order_qty, safety, target, mean_daily)


def rule_of_thumb_policy(inputs: PlanInputs, cfg: PlanConfig, order_qty: np.ndarray) -> Policy:
    """Reorder when the position falls under `rule_of_thumb_days` of average sales; same Q.

    Periodic review (`cfg.policy == "RS"`): order up to `rule_of_thumb_days` + R days of sales.
    """
    mean_daily = inputs.demand.history.mean(axis=1)
    periodic = cfg.policy == "RS"
    cover = cfg.rule_of_thumb_days + (cfg.review_days if periodic else 0)
    s = np.ceil(mean_daily * cover - 1e-9)
    lead = column_array(inputs.pairs, "lead_time_mean_days") + (cfg.review_days if periodic else 0)
    return Policy(
        s,
        order_qty,
        s if periodic else s + order_qty,
        s - mean_daily * lead,
        np.full(len(s), np.nan),
        mean_daily,
    )
