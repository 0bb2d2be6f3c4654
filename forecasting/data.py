"""Read sales history from the warehouse into a dense series x period panel.

The boundary is Nixtla's long format (`unique_id, ds, y`, `forecasting.schemas.HISTORY_SCHEMA`);
inside the package the history is a dense float32 matrix `y[n_series, n_periods]` (zeros where
nothing sold), which makes lag and rolling features simple vectorised sums.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import polars as pl

from forecasting.errors import ForecastInputError
from forecasting.schemas import HISTORY_SCHEMA, validate
from warehouse.db import reading, run_named

#: Season length and "one year" in periods, per frequency.
SEASON: dict[str, int] = {"D": 7, "W": 52}
YEAR: dict[str, int] = {"D": 364, "W": 52}
STEP_DAYS: dict[str, int] = {"D": 1, "W": 7}


@dataclass(frozen=True)
class Panel:
    """Dense history of many series on one regular calendar.

    Attributes:
        store_id, product_id, category: (n,) string arrays; `unique_id` is "store_id|product_id".
        dates: (T,) datetime64[D], regular steps of one day ('D') or one week ('W').
        y: (n, T) float32 units per period, zeros where nothing sold (the warehouse history is
            clipped at zero; a frame given to `build_panel` may hold negative and fractional
            values, see `floor`).
        start: (n,) int index of each series' first sale.
        freq: 'D' or 'W'.
        promo: (n, T + H_max) float32 planned discount pct (0-100), known ahead; zeros if none.
        holiday: (T + H_max,) bool, a holiday in the period (a weekly date labels the week that
            ends on it, e.g. Friday-ending retail weeks: the day and the 6 before it).
    """

    store_id: np.ndarray
    product_id: np.ndarray
    category: np.ndarray
    dates: np.ndarray
    y: np.ndarray
    start: np.ndarray
    freq: str
    promo: np.ndarray
    holiday: np.ndarray
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n(self) -> int:
        """Number of series."""
        return int(self.y.shape[0])

    @property
    def season(self) -> int:
        """Season length in periods (7 days or 52 weeks)."""
        return SEASON[self.freq]

    @property
    def floor(self) -> float:
        """Lowest value a forecast may take: 0 for demand, -inf when the history has negative
        values (net sales with returns, sales values), which then stay forecastable."""
        if "floor" not in self._cache:
            self._cache["floor"] = 0.0 if self.y.size == 0 or self.y.min() >= 0 else -np.inf
        return float(self._cache["floor"])

    @property
    def unique_id(self) -> np.ndarray:
        """(n,) "store_id|product_id" keys."""
        return np.char.add(np.char.add(self.store_id.astype(str), "|"), self.product_id.astype(str))

    def future_dates(self, end: int, h: int) -> np.ndarray:
        """(h,) dates of the h periods after index `end`."""
        step = np.timedelta64(STEP_DAYS[self.freq], "D")
        return self.dates[0] + step * np.arange(end + 1, end + 1 + h)

    def subset(self, rows: np.ndarray) -> Panel:
        """The panel restricted to series `rows` (indices or boolean mask)."""
        return Panel(
            self.store_id[rows],
            self.product_id[rows],
            self.category[rows],
            self.dates,
            self.y[rows],
            self.start[rows],
            self.freq,
            self.promo[rows],
            self.holiday,
        )

    def index_of(self, day: dt.date) -> int:
        """Index of the last period on or before `day` (-1 when before the first)."""
        return int(np.searchsorted(self.dates, np.datetime64(day, "D"), side="right")) - 1

    def to_long(self, end: int | None = None) -> pl.DataFrame:
        """Long format `unique_id, ds, y` (dense, zeros included) through index `end`."""
        end = self.y.shape[1] - 1 if end is None else end
        t = end + 1
        return pl.DataFrame(
            {
                "unique_id": np.repeat(self.unique_id, t),
                "ds": np.tile(self.dates[:t], self.n),
                "y": self.y[:, :t].reshape(-1).astype(np.float64),
            }
        )


def warehouse_frequency(db: str | os.PathLike[str]) -> str:
    """'D' or 'W' (a warehouse with a weekly panel is weekly)."""
    with reading(db) as con:
        return str(run_named(con, "forecasting/frequency")["frequency"][0])


def last_sale_day(db: str | os.PathLike[str]) -> dt.date | None:
    """The last date in `fct_sales_daily` (None when empty)."""
    with reading(db) as con:
        return run_named(con, "forecasting/bounds")["last_day"][0]


def load_panel(
    db: str | os.PathLike[str],
    until: dt.date | None,
    *,
    lookback_days: int = 1100,
    horizon: int = 90,
    active_days: int | None = 90,
) -> Panel:
    """History through `until` inclusive (default: the last sale) as a dense panel.

    Args:
        db: warehouse path.
        until: last day of history; the forecast starts the next period.
        lookback_days: days of history read before `until`.
        horizon: periods of planned promotions/holidays to read after `until`.
        active_days: keep series that sold in this many days up to `until` (None: all).
    """
    with reading(db) as con:
        freq = str(run_named(con, "forecasting/frequency")["frequency"][0])
        bounds = run_named(con, "forecasting/bounds")
        first, last = bounds["first_day"][0], bounds["last_day"][0]
        if first is None:
            raise ForecastInputError(f"{db}: the warehouse has no sales (fct_sales_daily is empty)")
        until = until or last
        if until < first:
            raise ForecastInputError(f"--until {until}: before the first sale ({first})")
        start_day = max(first, until - dt.timedelta(days=lookback_days))
        step = STEP_DAYS[freq]
        end_day = until + dt.timedelta(days=step * (horizon + 1))
        hist = validate(
            run_named(con, "forecasting/history", {"start": start_day, "until": until}),
            HISTORY_SCHEMA,
            "fct_sales_daily",
        )
        promos = run_named(con, "forecasting/promotions", {"start": start_day, "end": end_day})
        hols = run_named(con, "forecasting/holidays", {"start": start_day, "end": end_day})
        products = run_named(con, "forecasting/products")
    if hist.height == 0:
        raise ForecastInputError(f"--until {until}: no sales between {start_day} and {until}")
    return build_panel(hist, freq, until, horizon, promos, hols, products, active_days)


def build_panel(
    hist: pl.DataFrame,
    freq: str,
    until: dt.date,
    horizon: int,
    promos: pl.DataFrame | None = None,
    holidays: pl.DataFrame | None = None,
    products: pl.DataFrame | None = None,
    active_days: int | None = None,
) -> Panel:
    """Dense panel from long history (`HISTORY_SCHEMA`); see `load_panel` for the arguments."""
    if freq not in SEASON:
        raise ForecastInputError(f"frequency {freq!r}: expected 'D' or 'W'")
    step = STEP_DAYS[freq]
    hist = validate(hist, HISTORY_SCHEMA, "history").filter(pl.col("ds") <= until)
    d0 = cast(dt.date, hist["ds"].min())  # a Date column's min is a date (hist is not empty)
    until_idx = (until - d0).days // step  # weekly panels keep the source's own week dates
    n_t = until_idx + 1
    keys = hist.group_by("store_id", "product_id").agg(pl.len()).sort("store_id", "product_id")
    if active_days is not None:
        recent = (
            hist.filter(
                (pl.col("ds") > until - dt.timedelta(days=active_days)) & (pl.col("y") != 0)
            )
            .select("store_id", "product_id")
            .unique()
        )
        keys = keys.join(recent, on=["store_id", "product_id"], how="semi")
    if keys.height == 0:
        raise ForecastInputError(f"no series sold in the {active_days} days up to {until}")
    keys = keys.with_row_index("_row")
    cells = hist.join(keys, on=["store_id", "product_id"]).with_columns(
        ((pl.col("ds") - pl.lit(d0)).dt.total_days() // step).alias("_t")
    )
    y = np.zeros((keys.height, n_t), dtype=np.float32)
    # summed, not assigned: two dates of one series in one week (an odd day in a weekly file, a
    # week ending moved from Saturday to Friday) would otherwise keep only the last one's units
    np.add.at(y, (cells["_row"].to_numpy(), cells["_t"].to_numpy()), cells["y"].to_numpy())
    sold = y != 0
    start = np.where(sold.any(axis=1), sold.argmax(axis=1), n_t - 1)
    dates = np.datetime64(d0, "D") + np.timedelta64(step, "D") * np.arange(n_t)
    n_ext = n_t + horizon + 1
    promo = np.zeros((keys.height, n_ext), dtype=np.float32)
    if promos is not None and promos.height:
        p = (
            promos.join(keys, on=["store_id", "product_id"])
            .with_columns(
                (((pl.col("ds") - pl.lit(d0)).dt.total_days() + step - 1) // step).alias("_t")
            )
            .filter((pl.col("_t") >= 0) & (pl.col("_t") < n_ext))
        )
        np.maximum.at(
            promo,
            (p["_row"].to_numpy(), p["_t"].to_numpy()),
            p["discount_pct"].fill_null(0).to_numpy().astype(np.float32),
        )
    holiday = np.zeros(n_ext, dtype=bool)
    if holidays is not None and holidays.height:
        # a weekly date labels the week ending on it: a day belongs to the next label on or after it
        t = (((holidays["ds"] - d0).dt.total_days() + step - 1) // step).to_numpy()
        holiday[t[(t >= 0) & (t < n_ext)]] = True
    if products is not None and products.height:
        cats = keys.join(products, on="product_id", how="left")["category"].fill_null("Unknown")
    else:
        cats = pl.Series(["Unknown"] * keys.height)
    return Panel(
        keys["store_id"].to_numpy().astype(str),
        keys["product_id"].to_numpy().astype(str),
        cats.to_numpy().astype(str),
        dates,
        y,
        start.astype(np.int64),
        freq,
        promo,
        holiday,
    )
