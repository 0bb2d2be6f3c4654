"""What a plan reads from the warehouse as of a date: pairs, demand window, forecast, last year.

Vectorised over pairs (numpy). Queries live in `warehouse/sql/inventory/*.sql`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl

from forecasting.inventory.config import PlanConfig
from forecasting.inventory.demand_dist import QUANTILE_COLUMNS, DemandInputs
from forecasting.inventory.level import LEVEL_WEEKS, Level, estimate_level
from forecasting.inventory.level_error import ErrorPool, level_errors
from forecasting.inventory.seasonal import YEAR_LAG_DAYS, seasonal_ratio
from forecasting.inventory.weekly_shape import WeeklyShape, weekly_shape, whole_weeks_end
from warehouse.db import WarehouseError, reading, run_named, table_exists


@dataclass(frozen=True)
class PlanInputs:
    """Everything the policy maths needs, row order = `pairs`.

    Attributes:
        pairs: one row per store x product (pairs.sql columns).
        demand: recent daily demand (and forecast quantiles) as arrays.
        until: the plan date; history ends on it, forecasts start the day after.
        forecast_run: the forecast run used, or None (history only).
        season: per-pair factor on the history window (`forecasting.inventory.seasonal`), or None.
        level: the as-of level estimate whose factor rescales `shape` (or the window), or None.
        shape: the longer history the bootstrap reads (`history_shape`), or None (the window).
        errors: the level's recent misses (`level_error.level_errors`), or None.
        period_days: days one sales row covers (7: a weekly panel spread over its days).
        weekly: a weekly panel's shape (`weekly_shape.WeeklyShape`: its rows and the level's
            standard error), or None.
    """

    pairs: pl.DataFrame
    demand: DemandInputs
    until: date
    forecast_run: str | None = None
    season: np.ndarray | None = None
    level: Level | None = None
    shape: np.ndarray | None = None
    errors: ErrorPool | None = None
    period_days: int = 1
    weekly: WeeklyShape | None = None

    def history_scale(self) -> np.ndarray | None:
        """Factor on the history source per pair: seasonal ratio x level factor (or None)."""
        factors = [
            f
            for f in (self.season, None if self.level is None else self.level.factor)
            if f is not None
        ]
        if not factors:
            return None
        return factors[0] if len(factors) == 1 else factors[0] * factors[1]


def lookback_days(cfg: PlanConfig) -> int:
    """Days of history read before a plan date: the window, or the level's half-year."""
    return max(
        cfg.window_days,
        7 * LEVEL_WEEKS if cfg.level != "off" else 0,
        cfg.shape_days if cfg.level != "off" else 0,
        cfg.weekly_shape_days + 6,
    )


def history_shape(
    history: np.ndarray,
    first_day: np.ndarray,
    cfg: PlanConfig,
    level: Level | None,
    period_days: int,
) -> tuple[np.ndarray | None, WeeklyShape | None]:
    """The history the bootstrap reads in place of the window (`[n_pairs, days]`, or None),
    and a weekly panel's `WeeklyShape` (or None).

    Where the as-of level is used: its last `shape_days`. Else on a weekly panel: the weeks
    relative to their neighbours' level (`weekly_shape.weekly_shape`, `weekly_shape_days`).
    """
    if level is not None:
        return history[:, history.shape[1] - cfg.shape_days :], None
    if period_days == 7 and cfg.weekly_shape_days:
        weekly = weekly_shape(history, first_day, cfg.window_days, cfg.weekly_shape_days)
        return weekly.history, weekly
    return None, None


def first_sale_index(pairs: pl.DataFrame, start: date, n_days: int) -> np.ndarray:
    """Index of each pair's first sale in a matrix of days start+1.., in [0, n_days]."""
    offset = pairs.select(
        ((pl.col("first_sale_date") - pl.lit(start)).dt.total_days() - 1).fill_null(n_days)
    ).to_series()
    return np.clip(offset.to_numpy().astype(np.int64), 0, n_days)


def level_estimate(
    pairs: pl.DataFrame,
    history: np.ndarray,
    first_day: np.ndarray,
    cfg: PlanConfig,
    seasonal: bool,
) -> Level | None:
    """The as-of level of `history` (days up to the plan date) when `cfg.level` asks for it.

    "auto" estimates it only where there is no seasonal ratio (`seasonal` False).
    """
    if cfg.level == "off" or (cfg.level == "auto" and seasonal):
        return None
    groups = pairs["category"].cast(pl.String).fill_null("").to_numpy()
    return estimate_level(history, first_day, groups, cfg.shape_days, season_horizons(pairs, cfg))


def level_error_pool(
    pairs: pl.DataFrame,
    history: np.ndarray,
    first_day: np.ndarray,
    cfg: PlanConfig,
    level: Level | None,
) -> ErrorPool | None:
    """The recent errors of the as-of level (`level_error.level_errors`) where it is used."""
    if level is None or not cfg.level_errors:
        return None
    groups = pairs["category"].cast(pl.String).fill_null("").to_numpy()
    horizons = season_horizons(pairs, cfg)
    lag = int(horizons.max(initial=cfg.review_days))
    return level_errors(history, first_day, groups, cfg.shape_days, horizons, lag)


def period_days(con: duckdb.DuckDBPyConnection) -> int:
    """Days one sales row covers: 7 for a weekly panel (a row is the week ending on its date;
    the inventory queries spread it evenly over the week's days), else 1."""
    if not table_exists(con, "source_frequency"):
        return 1
    return 7 if run_named(con, "forecasting/frequency")["frequency"][0] == "W" else 1


def sales_range(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """(first, last) day of sales (a weekly panel's first week from its first day); raises
    when the warehouse has no sales."""
    row = run_named(con, "inventory/sales_range", {"period_days": period_days(con)}).row(0)
    if row[1] is None:
        raise WarehouseError("the warehouse has no sales; load data before planning")
    return row[0], row[1]


def store_pairs(con: duckdb.DuckDBPyConnection, until: date) -> pl.DataFrame:
    """The store x product pairs to plan as of `until` (`inventory/pairs.sql`)."""
    return run_named(con, "inventory/pairs", {"until": until, "period_days": period_days(con)})


def daily_matrix(
    con: duckdb.DuckDBPyConnection, pairs: pl.DataFrame, start: date, n_days: int
) -> np.ndarray:
    """Units per pair and day for days start+1 .. start+n_days: `[n_pairs, n_days]`.

    A weekly panel's weeks are spread evenly over their seven days; a week ending after
    start+n_days is not read (it had not ended by then)."""
    frame = run_named(
        con,
        "inventory/daily_units",
        {
            "start": start,
            "end": start + timedelta(days=n_days),
            "period_days": period_days(con),
        },
    )
    keyed = pairs.select("store_id", "product_id").with_row_index("row")
    rows = frame.join(keyed, on=["store_id", "product_id"], how="inner").with_columns(
        (pl.col("sale_date") - pl.lit(start)).dt.total_days().cast(pl.Int64).alias("day")
    )
    out = np.zeros((pairs.height, n_days), dtype=np.float64)
    out[rows["row"].to_numpy(), rows["day"].to_numpy() - 1] = rows["units"].to_numpy()
    return out


def load_forecast(
    con: duckdb.DuckDBPyConnection, pairs: pl.DataFrame, until: date, max_days: int
) -> tuple[str | None, np.ndarray | None, np.ndarray | None]:
    """(run id, quantiles `[n, H, 7]`, has-forecast mask) of the run made as of `until`.

    None for a weekly panel: its forecasts are week totals, not the daily quantiles the
    lead-time sampling draws from (the history bootstrap, at an as-of level, serves instead)."""
    if not (table_exists(con, "forecasts") and table_exists(con, "forecast_runs")):
        return None, None, None
    if period_days(con) != 1:
        return None, None, None
    run = run_named(con, "inventory/forecast_run", {"until": until})
    if run.is_empty():
        return None, None, None
    run_id, horizon = run.row(0)
    horizon = int(min(int(horizon), max_days))
    frame = run_named(
        con, "inventory/forecast_quantiles", {"run_id": run_id, "until": until, "horizon": horizon}
    )
    keyed = pairs.select("store_id", "product_id").with_row_index("row")
    rows = frame.join(keyed, on=["store_id", "product_id"], how="inner").with_columns(
        (pl.col("date") - pl.lit(until)).dt.total_days().cast(pl.Int64).alias("day")
    )
    q = np.full((pairs.height, horizon, len(QUANTILE_COLUMNS)), np.nan)
    q[rows["row"].to_numpy(), rows["day"].to_numpy() - 1] = rows.select(QUANTILE_COLUMNS).to_numpy()
    has = ~np.isnan(q).any(axis=(1, 2))
    return str(run_id), np.nan_to_num(q), has


def load_inputs(db: str | os.PathLike[str], until: date | None, cfg: PlanConfig) -> PlanInputs:
    """Read pairs, stock, demand window and forecast quantiles as of `until` (or last sale)."""
    with reading(db) as con:
        first, last = sales_range(con)
        until = until or last
        if until < first:
            raise ValueError(f"--until {until} is before the first sale ({first})")
        pairs = store_pairs(con, until)
        if pairs.is_empty():
            raise WarehouseError("no store x product pairs in dim_supply; load sales first")
        period = period_days(con)
        back = lookback_days(cfg)
        # a weekly panel's week not ended by the plan date has no data yet (not zero sales):
        # read up to six days more and end on the last week that ended
        extra = 6 if period == 7 else 0
        start = until - timedelta(days=back + extra)
        long_history = daily_matrix(con, pairs, start, back + extra)
        if extra:
            end = whole_weeks_end(long_history)
            long_history = long_history[:, end - back : end]
            start += timedelta(days=end - back)
        history = long_history[:, back - cfg.window_days :]
        run_id, q, has = (
            load_forecast(con, pairs, until, 120) if cfg.use_forecast else (None, None, None)
        )
        year_ago = (
            load_year_ago(
                con,
                pairs,
                first,
                until - timedelta(days=cfg.window_days),
                cfg.window_days + max_season_horizon(pairs, cfg),
            )
            if cfg.seasonal
            else None
        )
    check_supply(pairs)
    season = None if year_ago is None else season_factors(pairs, year_ago, cfg)
    first_day = first_sale_index(pairs, start, back)
    level = level_estimate(pairs, long_history, first_day, cfg, season is not None)
    shape, weekly = history_shape(long_history, first_day, cfg, level, period)
    errors = level_error_pool(pairs, long_history, first_day, cfg, level)
    demand = DemandInputs(history, q, has)
    return PlanInputs(pairs, demand, until, run_id, season, level, shape, errors, period, weekly)


def season_horizons(pairs: pl.DataFrame, cfg: PlanConfig) -> np.ndarray:
    """Days ahead a plan covers per pair: mean lead time (rounded up) + a review period."""
    lead = np.nan_to_num(column_array(pairs, "lead_time_mean_days", 0.0))
    return np.ceil(np.maximum(lead, 0.0)).astype(np.int64) + cfg.review_days


def max_season_horizon(pairs: pl.DataFrame, cfg: PlanConfig) -> int:
    return int(season_horizons(pairs, cfg).max(initial=cfg.review_days))


def load_year_ago(
    con: duckdb.DuckDBPyConnection,
    pairs: pl.DataFrame,
    first_sale: date,
    window_start: date,
    n_days: int,
) -> np.ndarray | None:
    """Daily units `[n_pairs, n_days]` from 52 weeks before `window_start` (exclusive).

    None when the warehouse's sales (from `first_sale`, see `sales_range`) start later; rows
    of pairs that had not sold yet are NaN.
    """
    start = window_start - timedelta(days=YEAR_LAG_DAYS)
    if start + timedelta(days=1) < first_sale:
        return None
    matrix = daily_matrix(con, pairs, start, n_days)
    first = pairs["first_sale_date"]
    late = (first.is_null() | (first > start + timedelta(days=1))).to_numpy()
    matrix[late] = np.nan
    return matrix


def season_factors(pairs: pl.DataFrame, year_ago: np.ndarray, cfg: PlanConfig) -> np.ndarray:
    """Seasonal ratio per pair by category from the year-ago matrix (`seasonal_ratio`)."""
    groups = pairs["category"].cast(pl.String).fill_null("").to_numpy()
    return seasonal_ratio(year_ago, groups, cfg.window_days, season_horizons(pairs, cfg))


def check_supply(pairs: pl.DataFrame) -> None:
    """Reject negative or missing supply parameters, naming the pair and the column."""
    for column in (
        "lead_time_mean_days",
        "lead_time_sd_days",
        "order_cost",
        "holding_cost_rate",
        "min_order_qty",
        "case_pack",
    ):
        bad = pairs.filter(
            pl.col(column).is_null() | (pl.col(column) < 0) | pl.col(column).is_nan()
        )
        if not bad.is_empty():
            row = bad.row(0, named=True)
            raise ValueError(
                f"dim_supply: store {row['store_id']} product {row['product_id']}: {column} "
                f"must be a non-negative number, got {row[column]} ({bad.height} pair(s) affected)"
            )


def column_array(pairs: pl.DataFrame, column: str, default: float = np.nan) -> np.ndarray:
    """A pair column as float64 `[n_pairs]`, nulls as `default`."""
    return pairs[column].cast(pl.Float64).fill_null(default).to_numpy().astype(np.float64)
