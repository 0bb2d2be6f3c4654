"""Replay actual demand after a date with three policies and measure the service they achieve.

Policies, by default all continuous review (s, Q) with the same order quantity Q (EOQ rounded
to packs and minimum order), so only the reorder point differs:
- `shelfwise`: s from the compound (random lead time x empirical demand + undershoot) samples;
- `normal_approx`: the textbook s = d L + z sqrt(L sd_d^2 + d^2 sd_L^2);
- `rule_of_thumb`: reorder when the position falls under two weeks of average sales.
With `policy="RS"` each orders up to its level S every `review_days` days instead (shelfwise: the
quantile of demand over L + R; normal: the formula over L + R; rule: two weeks + R of sales).

Every `replan_days` the policies are re-estimated from the demand window ending that day (only
the past). Day t: arrivals due are received, demand is served from stock (lost sales, or
backorders), then the position (on hand + on order) is reviewed and orders are placed; an order's
lead time is drawn from the supplier's normal(mean, sd) rounded to whole days, the same draw for
all policies (common random numbers). A cycle runs from one arrival to the next; the cycle
service level is the share of complete cycles without a day of unmet demand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl
from tqdm import tqdm

from forecasting.inventory.breakdown import (
    POLICIES,
    by_class,
    by_month,
    demand_classes,
    per_product_summary,
    service_cell,
    summarise,
)
from forecasting.inventory.demand_dist import DemandInputs
from forecasting.inventory.inputs import (
    PlanInputs,
    check_supply,
    column_array,
    daily_matrix,
    first_sale_index,
    history_shape,
    level_error_pool,
    level_estimate,
    load_forecast,
    load_year_ago,
    lookback_days,
    max_season_horizon,
    period_days,
    sales_range,
    season_factors,
    store_pairs,
)
from forecasting.inventory.level import LEVEL_WEEKS, MIN_WEEKS
from forecasting.inventory.maths import round_order_quantity
from forecasting.inventory.policies import (
    Policy,
    normal_policy,
    order_quantities,
    rule_of_thumb_policy,
    shelfwise_policy,
)
from forecasting.inventory.sim_config import SimConfig, SimData
from forecasting.inventory.weekly_shape import whole_weeks_end
from warehouse.db import WarehouseError, reading
from warehouse.executors import Executor

METRICS: tuple[str, ...] = (
    "cycle_service_level",
    "fill_rate",
    "avg_on_hand_units",
    "stockout_days",
    "orders",
)


@dataclass(frozen=True)
class SimResult:
    """Overall metrics per policy, per-product rows and notes on assumptions."""

    target: float
    overall: dict[str, dict[str, float]]
    per_product: pl.DataFrame
    notes: list[str]
    per_pair: dict[str, np.ndarray] | None = None  # totals `[n_policies, n_pairs]`
    breakdown: dict[str, dict[str, object]] | None = None  # per policy: cycles, by class/month

    def as_json(self) -> dict[str, object]:
        """The overall metrics per policy, with its cycles, by demand class and by month."""
        policies = {
            name: {**metrics, **(self.breakdown or {}).get(name, {})}
            for name, metrics in self.overall.items()
        }
        return {"target": self.target, "policies": policies}


def load_sim_data(db: str | os.PathLike[str], cfg: SimConfig) -> SimData:
    """Read pairs with sales on or before `until` and their demand around it."""
    with reading(db) as con:
        first, last = sales_range(con)
        end = cfg.until + timedelta(days=cfg.days)
        if cfg.until < first + timedelta(days=7):
            raise ValueError(
                f"--until {cfg.until} leaves less than a week of history (sales start {first})"
            )
        if end > last:
            raise ValueError(
                f"--until {cfg.until} + --days {cfg.days} = {end} is after the last "
                f"sale ({last}); use an earlier --until or fewer --days"
            )
        pairs = store_pairs(con, cfg.until)
        pairs = pairs.filter(pl.col("first_sale_date") <= cfg.until)
        if pairs.is_empty():
            raise WarehouseError(f"no store x product sold on or before {cfg.until}")
        period = period_days(con)
        # a weekly panel's re-plan made mid-week knows only the weeks ended by then (as `plan`):
        # six more days let it end on its last whole week with the plan's full lookback
        lead_in = 6 if period == 7 else 0
        back = lookback_days(cfg.plan) + lead_in
        demand = daily_matrix(con, pairs, cfg.until - timedelta(days=back), back + cfg.days)
        forecast = load_forecast(con, pairs, cfg.until, 120)
        year_ago = load_year_ago(
            con,
            pairs,
            first,
            cfg.until - timedelta(days=cfg.plan.window_days),
            cfg.plan.window_days + cfg.days + max_season_horizon(pairs, cfg.plan),
        )
    check_supply(pairs)
    has_stock = bool(pairs["on_hand_units"].is_not_null().any())
    return SimData(pairs, demand, forecast, has_stock, year_ago, back, None, period, lead_in)


def _policies(
    data: SimData,
    cfg: SimConfig,
    day: int,
    rng: np.random.Generator,
    executor: Executor | None = None,
) -> list[Policy]:
    """The three policies as of simulation day `day` (history ends the day before it; on a
    weekly panel, on the last week ended by then)."""
    plan_cfg, held = cfg.plan, data.back(cfg)
    history = data.demand[:, day : held + day]
    end = whole_weeks_end(history) if data.period_days == 7 else held
    back = min(held - data.lead_in_days, end)
    history = history[:, end - back : end]
    window = history[:, back - plan_cfg.window_days :]
    run_id, q, has = data.forecast if day == 0 else (None, None, None)
    season = None
    if plan_cfg.seasonal and data.year_ago is not None:
        season = season_factors(data.pairs, data.year_ago[:, day:], plan_cfg)
    as_of = cfg.until + timedelta(days=day)
    first_day = first_sale_index(data.pairs, as_of - timedelta(days=held - end + back), back)
    level = level_estimate(data.pairs, history, first_day, plan_cfg, season is not None)
    shape, weekly = history_shape(history, first_day, plan_cfg, level, data.period_days)
    errors = level_error_pool(data.pairs, history, first_day, plan_cfg, level)
    demand = DemandInputs(window, q, has)
    inputs = PlanInputs(
        data.pairs, demand, as_of, run_id, season, level, shape, errors, weekly=weekly
    )
    order_qty = order_quantities(data.pairs, window.mean(axis=1), plan_cfg)
    target = np.full(data.pairs.height, cfg.service_level)
    shelfwise, _ = shelfwise_policy(inputs, plan_cfg, target, order_qty, rng, executor=executor)
    normal_target = np.full(data.pairs.height, cfg.normal_level or cfg.service_level)
    review = plan_cfg.review_days if plan_cfg.policy == "RS" else 0
    return [
        shelfwise,
        normal_policy(inputs, normal_target, order_qty, review),
        rule_of_thumb_policy(inputs, plan_cfg, order_qty),
    ]


def simulate(
    data: SimData, cfg: SimConfig, progress: bool = True, executor: Executor | None = None
) -> SimResult:
    """Replay `cfg.days` days of actual demand for every policy (vectorised over pairs); each
    replan's Monte Carlo sampling runs by chunks of pairs on `executor` (here when None)."""
    rng = np.random.default_rng(cfg.plan.seed)
    pairs, n, n_pol, horizon = data.pairs, data.pairs.height, len(POLICIES), cfg.days
    back = data.back(cfg)
    actual = data.demand[:, back:] if data.actual is None else data.actual
    lt_mean, lt_sd = (
        column_array(pairs, "lead_time_mean_days"),
        column_array(pairs, "lead_time_sd_days"),
    )
    lead = np.maximum(
        np.rint(lt_mean[:, None] + lt_sd[:, None] * rng.standard_normal((n, horizon))), 0
    ).astype(np.int64)
    arrivals = np.zeros((n_pol, n, horizon + int(lead.max()) + 2))
    pol = _policies(data, cfg, 0, rng, executor)
    s, q, up_to = _levels(pol)
    periodic = cfg.plan.policy == "RS"
    pack, moq = column_array(pairs, "case_pack", 1.0), column_array(pairs, "min_order_qty", 1.0)
    has_snapshot = pairs["on_hand_units"].is_not_null().to_numpy()
    on_hand = np.where(
        has_snapshot, np.maximum(column_array(pairs, "on_hand_units", 0.0), 0.0), up_to
    )
    first_arrival = np.minimum(np.ceil(lt_mean / 2).astype(np.int64), horizon - 1)
    arrivals[:, np.arange(n), first_arrival] += column_array(pairs, "on_order_units", 0.0)
    on_order = np.broadcast_to(column_array(pairs, "on_order_units", 0.0), (n_pol, n)).copy()
    totals = {
        k: np.zeros((n_pol, n))
        for k in ("demand", "met", "stockout_days", "on_hand", "orders", "cycles", "bad_cycles")
    }
    daily = {k: np.zeros((n_pol, horizon)) for k in ("cycles", "bad_cycles", "demand", "met")}
    in_cycle = np.zeros((n_pol, n), dtype=bool)
    cycle_short = np.zeros((n_pol, n), dtype=bool)
    days = tqdm(range(horizon), desc="simulate", unit="day", leave=False, disable=not progress)
    for d in days:
        if d > 0 and d % cfg.replan_days == 0:
            s, q, up_to = _levels(_policies(data, cfg, d, rng, executor))
        arrived = arrivals[:, :, d]
        received = arrived > 0
        closed = received & in_cycle
        totals["cycles"] += closed
        totals["bad_cycles"] += closed & cycle_short
        daily["cycles"][:, d] = closed.sum(axis=1)
        daily["bad_cycles"][:, d] = (closed & cycle_short).sum(axis=1)
        in_cycle |= received
        cycle_short &= ~received
        on_hand += arrived
        on_order -= arrived
        want = actual[:, d][None, :]
        met = np.minimum(want, np.maximum(on_hand, 0.0))
        short = want - met > 1e-9
        on_hand -= want if cfg.demand_mode == "backorders" else met
        cycle_short |= short
        totals["demand"] += want
        totals["met"] += met
        daily["demand"][:, d] = want.sum()
        daily["met"][:, d] = met.sum(axis=1)
        totals["stockout_days"] += short
        totals["on_hand"] += np.maximum(on_hand, 0.0)
        position = on_hand + on_order
        if periodic:  # review day: order up to S in whole packs, at least the minimum
            review = d % cfg.plan.review_days == 0
            raw = np.maximum(up_to - position, 0.0) if review else np.zeros_like(s)
            qty = round_order_quantity(raw, pack, moq)
            need = qty > 0
        else:  # the smallest multiple of Q that lifts the position above s
            need = (position <= s) & (q > 0)
            n_orders = np.where(need, np.floor((s - position) / np.where(q > 0, q, 1.0)) + 1, 0)
            qty = n_orders * q
        if need.any():
            p_idx, i_idx = np.nonzero(need)
            np.add.at(arrivals, (p_idx, i_idx, d + lead[i_idx, d] + 1), qty[p_idx, i_idx])
            on_order += qty
            totals["orders"] += need
    notes = _notes(data, cfg)
    overall = summarise(totals, horizon)
    known = back - data.lead_in_days  # the demand class reads the first plan's lookback
    first_day = first_sale_index(pairs, cfg.until - timedelta(days=known), known)
    classes = demand_classes(data.demand[:, data.lead_in_days : back], first_day)
    class_cells, month_cells = (
        by_class(totals, classes, POLICIES),
        by_month(daily, cfg.until, POLICIES),
    )
    breakdown: dict[str, dict[str, object]] = {
        name: {
            **{
                k: v
                for k, v in service_cell(
                    *(float(totals[k][i].sum()) for k in ("cycles", "bad_cycles", "demand", "met"))
                ).items()
                if k in ("cycles", "cycle_service_se")
            },
            "by_class": class_cells[name],
            "by_month": month_cells[name],
        }
        for i, name in enumerate(POLICIES)
    }
    return SimResult(
        cfg.service_level,
        overall,
        per_product_summary(pairs, totals, horizon, cfg.service_level, POLICIES),
        notes,
        totals,
        breakdown,
    )


def _levels(policies: list[Policy]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reorder point, order quantity, order-up-to), each `[n_policies, n_pairs]`."""
    return tuple(
        np.stack([getattr(p, name) for p in policies])  # type: ignore[return-value]
        for name in ("reorder_point", "order_qty", "order_up_to")
    )


def _notes(data: SimData, cfg: SimConfig) -> list[str]:
    n_missing = int(data.pairs["on_hand_units"].is_null().sum())
    plan = cfg.plan
    review = (
        "continuous review (s, Q)"
        if plan.policy == "sQ"
        else f"periodic review (R, S), orders every {plan.review_days} days"
    )
    notes = [
        f"{data.pairs.height:,} store x product pairs with sales on or before {cfg.until}; "
        f"{cfg.days} days replayed with {cfg.demand_mode.replace('_', ' ')}, {review}; "
        f"policies re-estimated every {cfg.replan_days} days from the past "
        f"{plan.window_days} days"
    ]
    if n_missing:
        notes.append(
            f"{n_missing:,} pairs have no stock snapshot on or before {cfg.until}: "
            "each policy starts them at its own order-up-to level (s + Q)"
        )
    if plan.scope == "portfolio":
        notes.append(
            f"shelfwise meets the {cfg.service_level:.1%} target pooled over all "
            f"replenishment cycles with the least stock, no item below "
            f"{max(0.5, cfg.service_level - plan.item_floor_gap):.1%}"
        )
    if plan.seasonal and data.year_ago is not None:
        season = season_factors(data.pairs, data.year_ago, plan)
        notes.append(
            f"shelfwise scales the history by last year's category ratio of the "
            f"weeks ahead to the window (at the start: median x{np.median(season):.2f},"
            f" range {season.min():.2f}..{season.max():.2f})"
        )
    elif plan.seasonal:
        notes.append("no seasonal ratio: the sales do not reach a year before the window")
    if plan.level == "trend" or (
        plan.level == "auto" and not (plan.seasonal and data.year_ago is not None)
    ):
        notes.append(
            "shelfwise rescales the history window at every re-plan to an as-of level: a damped "
            f"trend of the last {LEVEL_WEEKS} weeks (winsorised), shrunk towards the category's; "
            f"pairs with under {MIN_WEEKS} weeks of sales keep the window as is"
        )
    elif data.period_days == 7 and plan.weekly_shape_days:
        notes.append(
            f"weekly panel: shelfwise bootstraps each pair's last {plan.weekly_shape_days // 7} "
            "weeks, each relative to its neighbours' level, at the window's level and with that "
            "level's standard error (pairs without those weeks: the window as is)"
        )
    if data.forecast[0]:
        notes.append(
            f"first plan uses forecast run {data.forecast[0]}; re-plans use the history source "
            "(no forecast run as of their dates)"
        )
    else:
        notes.append(
            f"demand distribution from the history bootstrap (no forecast run as of {cfg.until})"
        )
    return notes
