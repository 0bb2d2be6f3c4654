"""The reorder plan: policies per store x product as of a date, and the `reorder_plan` table.

Vectorised over pairs (numpy), never a Python loop per pair. Inputs come from the warehouse
(`warehouse/sql/inventory/*.sql`): supply parameters, stock snapshot, recent daily demand and,
when a forecast run made as of the plan date exists, its daily quantiles.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import duckdb
import numpy as np
import polars as pl

from forecasting.demand_dist import QUANTILE_COLUMNS, DemandInputs, iter_lead_time_demand_samples
from forecasting.inventory import (
    DAYS_PER_YEAR,
    SERVICE_GRID,
    ClassRules,
    abc_xyz_classes,
    allocate_service,
    check_service_level,
    cost_based_cycle_service,
    eoq,
    fill_rate_reorder_point,
    normal_reorder_point,
    quantile_reorder_point,
    reorder_point_grid,
    round_order_quantity,
)
from forecasting.seasonal import YEAR_LAG_DAYS, seasonal_ratio
from warehouse.db import WarehouseError, reading, run_named, scalar, table_exists, writing

PAIR_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "store_id": pl.String, "product_id": pl.String, "lead_time_mean_days": pl.Float64,
    "lead_time_sd_days": pl.Float64, "order_cost": pl.Float64, "holding_cost_rate": pl.Float64,
    "min_order_qty": pl.Float64, "case_pack": pl.Float64, "param_source": pl.String,
}


@dataclass(frozen=True)
class PlanConfig:
    """How the plan is computed.

    Attributes:
        service_level: cycle service target (or fill rate when `measure="fill"`) for "fixed".
        targets: "fixed" (one level), "class" (ABC/XYZ rules) or "cost" (critical fractile).
        measure: "cycle" (P(no stockout per cycle)) or "fill" (share of demand served).
        policy: "sQ" (continuous review, reorder point s, quantity Q) or "RS" (review every
            `review_days`, order up to S).
        window_days: days of recent demand the history source uses.
        n_samples: Monte Carlo samples per pair.
        no_cost_cover_days: order quantity in days of demand when the unit cost is unknown.
        rule_of_thumb_days: the retailer's rule: reorder under this many days of average sales.
        method: history sampler, "block" bootstrap or "nb" (negative binomial on its moments).
        level_days: rescale the window to the mean of its last N days (0 = off).
        undershoot: add the reorder undershoot to the (s, Q) lead-time demand.
        seasonal: scale the history window by last year's ratio of the coming weeks to the
            window (`forecasting.seasonal`), per category; forecasts need no such scaling.
        scope: "portfolio" (default): the cycle service target holds for each group of items
            sharing a target, pooled over their replenishment cycles, met with the least stock
            (`allocate_service`); "item": every item on its own hits the target.
        item_floor_gap: under "portfolio", no item is planned more than this below its target.
    """

    service_level: float = 0.95
    targets: Literal["fixed", "class", "cost"] = "fixed"
    measure: Literal["cycle", "fill"] = "cycle"
    policy: Literal["sQ", "RS"] = "sQ"
    review_days: int = 7
    window_days: int = 56
    n_samples: int = 1000
    seed: int = 0
    use_forecast: bool = True
    no_cost_cover_days: float = 7.0
    rule_of_thumb_days: float = 14.0
    method: Literal["block", "nb"] = "block"
    level_days: int = 0
    undershoot: bool = True
    seasonal: bool = True
    scope: Literal["portfolio", "item"] = "portfolio"
    item_floor_gap: float = 0.10
    class_rules: ClassRules = field(default_factory=ClassRules)

    def __post_init__(self) -> None:
        check_service_level(self.service_level, "--service-level")
        if self.targets not in ("fixed", "class", "cost"):
            raise ValueError(f"targets must be fixed, class or cost, got {self.targets!r}")
        if self.measure not in ("cycle", "fill"):
            raise ValueError(f"measure must be cycle or fill, got {self.measure!r}")
        if self.policy not in ("sQ", "RS"):
            raise ValueError(f"policy must be sQ or RS, got {self.policy!r}")
        if not 1 <= self.review_days <= 91:
            raise ValueError(f"review_days must be 1..91, got {self.review_days}")
        if not 7 <= self.window_days <= 730:
            raise ValueError(f"window_days must be 7..730, got {self.window_days}")
        if not 100 <= self.n_samples <= 100_000:
            raise ValueError(f"n_samples must be 100..100000, got {self.n_samples}")
        if self.method not in ("block", "nb"):
            raise ValueError(f"method must be block or nb, got {self.method!r}")
        if self.scope not in ("portfolio", "item"):
            raise ValueError(f"scope must be portfolio or item, got {self.scope!r}")
        if not 0.0 <= self.item_floor_gap <= 0.5:
            raise ValueError(f"--item-floor-gap must be between 0 and 0.5, got "
                             f"{self.item_floor_gap}")
        if self.no_cost_cover_days <= 0 or self.rule_of_thumb_days <= 0:
            raise ValueError("cover days must be positive")


@dataclass(frozen=True)
class PlanInputs:
    """Everything the policy maths needs, row order = `pairs`.

    Attributes:
        pairs: one row per store x product (pairs.sql columns).
        demand: recent daily demand (and forecast quantiles) as arrays.
        until: the plan date; history ends on it, forecasts start the day after.
        forecast_run: the forecast run used, or None (history only).
        season: per-pair factor on the history window (`forecasting.seasonal`), or None.
    """

    pairs: pl.DataFrame
    demand: DemandInputs
    until: date
    forecast_run: str | None = None
    season: np.ndarray | None = None


@dataclass(frozen=True)
class Policy:
    """Policy parameters per pair (arrays `[n_pairs]`, units)."""

    reorder_point: np.ndarray
    order_qty: np.ndarray
    order_up_to: np.ndarray
    safety_stock: np.ndarray
    target: np.ndarray
    mean_daily: np.ndarray


def sales_range(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """(first, last) sale date; raises when the warehouse has no sales or weekly sales."""
    if table_exists(con, "source_frequency"):
        weekly = run_named(con, "inventory/weekly_sources")
        if not weekly.is_empty():
            raise WarehouseError(
                f"source {weekly['source'][0]} has weekly sales; the inventory optimizer needs "
                "daily sales (reorder points are in days of demand)")
    row = run_named(con, "inventory/sales_range").row(0)
    if row[1] is None:
        raise WarehouseError("the warehouse has no sales; load data before planning")
    return row[0], row[1]


def daily_matrix(con: duckdb.DuckDBPyConnection, pairs: pl.DataFrame, start: date,
                 n_days: int) -> np.ndarray:
    """Units per pair and day for days start+1 .. start+n_days: `[n_pairs, n_days]`."""
    frame = run_named(con, "inventory/daily_units",
                      {"start": start, "end": start + timedelta(days=n_days)})
    keyed = pairs.select("store_id", "product_id").with_row_index("row")
    rows = frame.join(keyed, on=["store_id", "product_id"], how="inner").with_columns(
        (pl.col("sale_date") - pl.lit(start)).dt.total_days().cast(pl.Int64).alias("day"))
    out = np.zeros((pairs.height, n_days), dtype=np.float64)
    out[rows["row"].to_numpy(), rows["day"].to_numpy() - 1] = rows["units"].to_numpy()
    return out


def load_forecast(con: duckdb.DuckDBPyConnection, pairs: pl.DataFrame, until: date,
                  max_days: int) -> tuple[str | None, np.ndarray | None, np.ndarray | None]:
    """(run id, quantiles `[n, H, 7]`, has-forecast mask) of the run made as of `until`."""
    if not (table_exists(con, "forecasts") and table_exists(con, "forecast_runs")):
        return None, None, None
    run = run_named(con, "inventory/forecast_run", {"until": until})
    if run.is_empty():
        return None, None, None
    run_id, horizon = run.row(0)
    horizon = int(min(int(horizon), max_days))
    frame = run_named(con, "inventory/forecast_quantiles",
                      {"run_id": run_id, "until": until, "horizon": horizon})
    keyed = pairs.select("store_id", "product_id").with_row_index("row")
    rows = frame.join(keyed, on=["store_id", "product_id"], how="inner").with_columns(
        (pl.col("date") - pl.lit(until)).dt.total_days().cast(pl.Int64).alias("day"))
    q = np.full((pairs.height, horizon, len(QUANTILE_COLUMNS)), np.nan)
    q[rows["row"].to_numpy(), rows["day"].to_numpy() - 1] = rows.select(
        QUANTILE_COLUMNS).to_numpy()
    has = ~np.isnan(q).any(axis=(1, 2))
    return str(run_id), np.nan_to_num(q), has


def load_inputs(db: str | os.PathLike[str], until: date | None, cfg: PlanConfig) -> PlanInputs:
    """Read pairs, stock, demand window and forecast quantiles as of `until` (or last sale)."""
    with reading(db) as con:
        first, last = sales_range(con)
        until = until or last
        if until < first:
            raise ValueError(f"--until {until} is before the first sale ({first})")
        pairs = run_named(con, "inventory/pairs", {"until": until})
        if pairs.is_empty():
            raise WarehouseError("no store x product pairs in dim_supply; load sales first")
        history = daily_matrix(con, pairs, until - timedelta(days=cfg.window_days),
                               cfg.window_days)
        run_id, q, has = (load_forecast(con, pairs, until, 120) if cfg.use_forecast
                          else (None, None, None))
        year_ago = (load_year_ago(con, pairs, first, until - timedelta(days=cfg.window_days),
                                  cfg.window_days + max_season_horizon(pairs, cfg))
                    if cfg.seasonal else None)
    check_supply(pairs)
    season = None if year_ago is None else season_factors(pairs, year_ago, cfg)
    return PlanInputs(pairs, DemandInputs(history, q, has), until, run_id, season)


def season_horizons(pairs: pl.DataFrame, cfg: PlanConfig) -> np.ndarray:
    """Days ahead a plan covers per pair: mean lead time (rounded up) + a review period."""
    lead = np.nan_to_num(_arr(pairs, "lead_time_mean_days", 0.0))
    return np.ceil(np.maximum(lead, 0.0)).astype(np.int64) + cfg.review_days


def max_season_horizon(pairs: pl.DataFrame, cfg: PlanConfig) -> int:
    return int(season_horizons(pairs, cfg).max(initial=cfg.review_days))


def load_year_ago(con: duckdb.DuckDBPyConnection, pairs: pl.DataFrame, first_sale: date,
                  window_start: date, n_days: int) -> np.ndarray | None:
    """Daily units `[n_pairs, n_days]` from 52 weeks before `window_start` (exclusive).

    None when the warehouse's sales (from `first_sale`, see `sales_range`) start later; rows
    of pairs that had not sold yet are NaN.
    """
    start = window_start - timedelta(days=YEAR_LAG_DAYS)
    if start + timedelta(days=1) < first_sale:
        return None
    matrix = daily_matrix(con, pairs, start, n_days)
    first_sale = pairs["first_sale_date"]
    late = (first_sale.is_null() | (first_sale > start + timedelta(days=1))).to_numpy()
    matrix[late] = np.nan
    return matrix


def season_factors(pairs: pl.DataFrame, year_ago: np.ndarray, cfg: PlanConfig) -> np.ndarray:
    """Seasonal ratio per pair by category from the year-ago matrix (`seasonal_ratio`)."""
    groups = pairs["category"].cast(pl.String).fill_null("").to_numpy()
    return seasonal_ratio(year_ago, groups, cfg.window_days, season_horizons(pairs, cfg))


def check_supply(pairs: pl.DataFrame) -> None:
    """Reject negative or missing supply parameters, naming the pair and the column."""
    for column in ("lead_time_mean_days", "lead_time_sd_days", "order_cost",
                   "holding_cost_rate", "min_order_qty", "case_pack"):
        bad = pairs.filter(pl.col(column).is_null() | (pl.col(column) < 0)
                           | pl.col(column).is_nan())
        if not bad.is_empty():
            row = bad.row(0, named=True)
            raise ValueError(
                f"dim_supply: store {row['store_id']} product {row['product_id']}: {column} "
                f"must be a non-negative number, got {row[column]} ({bad.height} pair(s) affected)")


def _arr(pairs: pl.DataFrame, column: str, default: float = np.nan) -> np.ndarray:
    return pairs[column].cast(pl.Float64).fill_null(default).to_numpy().astype(np.float64)


def order_quantities(pairs: pl.DataFrame, mean_daily: np.ndarray, cfg: PlanConfig) -> np.ndarray:
    """EOQ (or `no_cost_cover_days` of demand without a unit cost), rounded to packs and MOQ."""
    unit_cost = _arr(pairs, "unit_cost")
    holding = _arr(pairs, "holding_cost_rate") * unit_cost
    known = np.isfinite(holding) & (holding > 0)
    q = np.where(known, eoq(mean_daily * DAYS_PER_YEAR, _arr(pairs, "order_cost"),
                            np.where(known, holding, 1.0)), mean_daily * cfg.no_cost_cover_days)
    q = np.minimum(q, mean_daily * DAYS_PER_YEAR)  # never more than a year of demand
    return round_order_quantity(q, _arr(pairs, "case_pack", 1.0), _arr(pairs, "min_order_qty", 1.0))


def service_targets(pairs: pl.DataFrame, history: np.ndarray, order_qty: np.ndarray,
                    cfg: PlanConfig) -> tuple[np.ndarray, np.ndarray]:
    """(target per pair, label per pair: "fixed", class such as "AX", or "cost")."""
    n = pairs.height
    if cfg.targets == "fixed":
        return np.full(n, cfg.service_level), np.full(n, "fixed")
    mean_daily = history.mean(axis=1)
    if cfg.targets == "class":
        price = _arr(pairs, "unit_price", 1.0)
        weeks = history[:, history.shape[1] % 7:].reshape(n, -1, 7).sum(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(weeks.mean(axis=1) > 0, weeks.std(axis=1) / weeks.mean(axis=1), np.inf)
        labels = abc_xyz_classes(mean_daily * np.nan_to_num(price, nan=1.0), cv, cfg.class_rules)
        return np.array([cfg.class_rules.target(x) for x in np.unique(labels)])[
            np.searchsorted(np.unique(labels), labels)], labels
    margin = _arr(pairs, "unit_price") - _arr(pairs, "unit_cost")
    holding = _arr(pairs, "holding_cost_rate") * _arr(pairs, "unit_cost")
    known = np.isfinite(margin) & np.isfinite(holding) & (margin > 0)
    csl = cost_based_cycle_service(mean_daily * DAYS_PER_YEAR, order_qty,
                                   np.nan_to_num(holding), np.nan_to_num(margin))
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


def shelfwise_policy(inputs: PlanInputs, cfg: PlanConfig, target: np.ndarray,
                     order_qty: np.ndarray, rng: np.random.Generator,
                     position: np.ndarray | None = None,
                     pooled: np.ndarray | None = None) -> tuple[Policy, np.ndarray]:
    """Empirical compound-distribution policy, and P(lead-time demand > position) per pair.

    Samples are drawn and reduced chunk by chunk (memory chunk x n_samples, not n x n_samples).
    With `cfg.scope == "portfolio"` (cycle service only) the pairs whose `pooled` flag is set
    share their target as a group (`allocate_service`); the others get their own quantile.
    """
    pairs, demand = inputs.pairs, inputs.demand
    if cfg.level_days:
        demand = DemandInputs(recent_level_history(demand.history, cfg.level_days),
                              demand.forecast_q, demand.has_forecast)
    lt_mean, lt_sd = _arr(pairs, "lead_time_mean_days"), _arr(pairs, "lead_time_sd_days")
    periodic = cfg.policy == "RS"
    mean_daily = demand.history.mean(axis=1)
    if inputs.season is not None:
        mean_daily = mean_daily * np.where(demand.forecast_mask(), 1.0, inputs.season)
    n = pairs.height
    level, mean_ltd, risk = np.empty(n), np.empty(n), np.full(n, np.nan)
    cycle_qty = mean_daily * cfg.review_days if periodic else order_qty
    portfolio = cfg.scope == "portfolio" and cfg.measure == "cycle"
    shared = np.full(n, portfolio) if pooled is None else pooled & portfolio
    cycles_per_day = expected_cycles_per_day(pairs, mean_daily, order_qty, cfg)
    # (R, S): a cycle spans `periods` reviews where the smallest order outlasts one; the
    # samples give the service of one review period, and a cycle fails if any of its periods
    # does, so per cycle 1 - periods x (1 - per-period service) (union bound)
    periods = (np.maximum(1.0 / np.maximum(cycles_per_day * cfg.review_days, 1e-12), 1.0)
               if periodic else np.ones(n))
    period_target = 1.0 - (1.0 - target) / periods
    if portfolio:
        grid_s = np.empty((n, len(SERVICE_GRID)))
        grid_service = np.empty((n, len(SERVICE_GRID)))
    for sl, samples in iter_lead_time_demand_samples(
            rng, demand, lt_mean, lt_sd, cfg.n_samples,
            extra_days=cfg.review_days if periodic else 0,
            undershoot=cfg.undershoot and not periodic,
            method=cfg.method, scale=inputs.season):
        if cfg.measure == "fill":
            level[sl] = fill_rate_reorder_point(samples, cycle_qty[sl], target[sl])
        else:
            own = ~shared[sl]
            if own.any():
                level[sl][own] = quantile_reorder_point(samples[own], period_target[sl][own])
            if portfolio:
                grid_s[sl], per_period = reorder_point_grid(samples)
                grid_service[sl] = np.clip(1.0 - periods[sl, None] * (1.0 - per_period), 0, 1)
        mean_ltd[sl] = samples.mean(axis=1)
        if position is not None:
            risk[sl] = (samples > position[sl, None]).mean(axis=1)
    if portfolio:
        for group_target in np.unique(target[shared]):
            rows = np.flatnonzero(shared & (target == group_target))
            level[rows] = allocate_service(
                grid_s[rows], grid_service[rows], cycles_per_day[rows], float(group_target),
                max(0.5, float(group_target) - cfg.item_floor_gap))
    up_to = level if periodic else level + order_qty
    return Policy(level, order_qty, up_to, level - mean_ltd, target, mean_daily), risk


def expected_cycles_per_day(pairs: pl.DataFrame, mean_daily: np.ndarray,
                            order_qty: np.ndarray, cfg: PlanConfig) -> np.ndarray:
    """Replenishment cycles per day per pair, the weight of its service in a pooled target.

    (s, Q): demand / Q. (R, S): one order per review, unless the smallest order (a case pack
    or the minimum order) lasts longer: then every ceil(min order / (demand x R)) reviews.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if cfg.policy == "sQ":
            cycles = np.where(order_qty > 0, mean_daily / order_qty, 0.0)
        else:
            smallest = np.maximum(_arr(pairs, "case_pack", 1.0), _arr(pairs, "min_order_qty", 1.0))
            reviews = np.maximum(np.ceil(smallest / (mean_daily * cfg.review_days) - 1e-9), 1.0)
            cycles = 1.0 / (cfg.review_days * reviews)
    return np.where(mean_daily > 0, cycles, 0.0)


def normal_policy(inputs: PlanInputs, target: np.ndarray, order_qty: np.ndarray,
                  review_days: int = 0) -> Policy:
    """Textbook (s, Q): s = d L + z sqrt(L sd_d^2 + d^2 sd_L^2), from the same history window.

    With `review_days` = R > 0, the (R, S) version: S = the same over L + R days (order up to S
    every R days; `reorder_point` and `order_up_to` both hold S).
    """
    pairs, hist = inputs.pairs, inputs.demand.history
    mean_daily, sd_daily = hist.mean(axis=1), hist.std(axis=1, ddof=1)
    s, safety = normal_reorder_point(
        mean_daily, sd_daily, _arr(pairs, "lead_time_mean_days") + review_days,
        _arr(pairs, "lead_time_sd_days"), target)
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
    lead = _arr(inputs.pairs, "lead_time_mean_days") + (cfg.review_days if periodic else 0)
    return Policy(s, order_qty, s if periodic else s + order_qty, s - mean_daily * lead,
                  np.full(len(s), np.nan), mean_daily)


def _fmt(values: np.ndarray) -> pl.Series:
    return pl.Series(values).round(1).cast(pl.String).str.replace(r"\.0$", "")


def build_plan(inputs: PlanInputs, cfg: PlanConfig) -> pl.DataFrame:
    """The `reorder_plan` frame: one row per pair with the policy, the suggestion and why."""
    pairs, hist = inputs.pairs, inputs.demand.history
    rng = np.random.default_rng(cfg.seed)
    mean_daily = hist.mean(axis=1)
    order_qty = order_quantities(pairs, mean_daily, cfg)
    target, label = service_targets(pairs, hist, order_qty, cfg)
    first_sale = pairs["first_sale_date"]
    no_history = (first_sale.is_null() | (first_sale > inputs.until)).to_numpy()
    no_demand = (mean_daily <= 0) & ~no_history
    no_stock = pairs["on_hand_units"].is_null().to_numpy()
    on_hand = _arr(pairs, "on_hand_units", 0.0)
    on_order = _arr(pairs, "on_order_units", 0.0)
    position = on_hand + on_order
    policy, risk_all = shelfwise_policy(inputs, cfg, target, order_qty, rng, position,
                                        pooled=label != "cost")
    inactive = no_history | no_demand
    s = np.where(inactive, 0.0, policy.reorder_point)
    q = np.where(inactive, 0.0, order_qty)
    up_to = np.where(inactive, 0.0, policy.order_up_to)
    if cfg.policy == "RS":
        raw = np.maximum(up_to - position, 0.0)
        suggested = round_order_quantity(raw, _arr(pairs, "case_pack", 1.0),
                                         _arr(pairs, "min_order_qty", 1.0))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            n_orders = np.where(q > 0, np.floor((s - position) / np.where(q > 0, q, 1)) + 1, 0)
        suggested = np.where(position <= s, np.maximum(n_orders, 0) * q, 0.0)
    suggested = np.where(inactive | no_stock, 0.0, suggested)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(mean_daily > 0, np.maximum(on_hand, 0) / mean_daily, np.nan)
    risk = np.where(inactive | no_stock, np.nan, risk_all)
    fc_mask = inputs.demand.forecast_mask()
    history_text = np.full(pairs.height, f"{cfg.window_days}-day history bootstrap")
    if inputs.season is not None:
        factor = np.char.mod("%.2f", inputs.season)
        history_text = np.char.add(np.char.add(history_text, " x "),
                                   np.char.add(factor, " (category's season a year ago)"))
    source = np.where(fc_mask, f"forecast quantiles (run {inputs.forecast_run})", history_text)
    measure = "fill rate" if cfg.measure == "fill" else "cycle service"
    basis = label.astype(str)
    if cfg.scope == "portfolio" and cfg.measure == "cycle":
        basis = np.where(basis != "cost", np.char.add(basis, ", pooled over items"), basis)
    pct = _fmt(target * 100)
    policy_text = ("reorder point " if cfg.policy == "sQ" else "order-up-to ") + _fmt(
        s if cfg.policy == "sQ" else up_to)
    frame = pairs.select("store_id", "product_id", "description", "category").with_columns(
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
    ).with_columns(
        (pl.col("suggested_order_qty") * pl.col("unit_cost")).round(2).alias("order_value"),
    )
    reason = pl.concat_str([
        pl.when(pl.Series(no_history)).then(pl.lit(
            f"no sales on or before {inputs.until}: no demand estimate, nothing suggested; "
            "set this item manually"))
        .when(pl.Series(no_demand)).then(pl.lit(
            f"no sales in the last {cfg.window_days} days: no order"))
        .when(pl.Series(no_stock)).then(pl.lit(
            f"no stock snapshot on or before {inputs.until}: load stock with `python -m "
            "warehouse ingest inventory`; nothing suggested"))
        .when(pl.Series(suggested > 0)).then(pl.concat_str([
            pl.lit("position "), _fmt(position), pl.lit(" at or below "), policy_text]))
        .otherwise(pl.concat_str([pl.lit("position "), _fmt(position), pl.lit(" above "),
                                  policy_text])),
        pl.concat_str([pl.lit("; "), pl.lit(measure), pl.lit(" target "), pct, pl.lit("% ("),
                       pl.Series(basis), pl.lit("); demand from "), pl.Series(source)]),
        pl.when(pl.Series(on_hand < 0)).then(pl.concat_str([
            pl.lit("; negative on-hand "), _fmt(on_hand),
            pl.lit(" counted as is (check the count)")]))
        .otherwise(pl.lit("")),
        pl.when(pairs["param_source"] == "default").then(pl.lit(
            "; supply parameters missing: documented defaults used (lead time 7 +- 2 days, "
            "order cost 20, case pack 1)")).otherwise(pl.lit("")),
        pl.when(pairs["unit_cost"].is_null()).then(pl.lit(
            f"; no unit cost: order quantity = {cfg.no_cost_cover_days:g} days of demand"))
        .when(pairs["is_cost_estimated"].fill_null(False)).then(pl.lit(
            "; unit cost estimated (0.6 x price)")).otherwise(pl.lit("")),
    ]).alias("reason")
    return frame.with_columns(reason)


def write_plan(db: str | os.PathLike[str], frame: pl.DataFrame) -> None:
    """Replace the `reorder_plan` table atomically."""
    with writing(db) as con:
        con.register("plan_frame", frame.to_arrow())
        con.execute(_sql("inventory/write_plan")).fetchall()
        con.unregister("plan_frame")


def _sql(name: str) -> str:
    from warehouse.db import sql_text

    return sql_text(name)


def run_plan(db: str | os.PathLike[str], until: date | None = None,
             cfg: PlanConfig | None = None) -> pl.DataFrame:
    """Compute the plan as of `until` (default: the last sale date) and write `reorder_plan`."""
    cfg = cfg or PlanConfig()
    frame = build_plan(load_inputs(db, until, cfg), cfg)
    write_plan(db, frame)
    return frame


def plan_exists(db: str | os.PathLike[str]) -> bool:
    """Whether the warehouse holds a non-empty reorder plan."""
    try:
        with reading(db) as con:
            return table_exists(con, "reorder_plan") and bool(
                scalar(con, "select count(*) > 0 from reorder_plan"))
    except WarehouseError:
        return False
