"""The three real benchmark warehouses of `bench/bench_forecast_real.py`, built by the real ingest.

- `or_daily`: Online Retail II through `python -m warehouse ingest online-retail` (cancellations,
  duplicates, zero prices and non-product codes quarantined as the warehouse does); one series
  per product (the shop is one store), daily.
- `si_weekly`: the Kaggle store-item zip summed to Friday-ending weeks (a week ending on Friday
  holds Saturday..Friday), cut to the 117 weeks before the cutoff plus the 26 weeks scored, and
  ingested with `ingest sales-panel` (detected as weekly).
- `or_weekly`: the daily Online Retail II warehouse's `fct_sales_daily` (net units) summed per
  product to Friday-ending weeks from the week ending 2009-12-11 (the first full week) through
  the 8 scored weeks after 2010-10-01, ingested with `ingest sales-panel`.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from warehouse.ingest.sales_panel import PanelColumns, ingest_args  # noqa: E402


@dataclass(frozen=True)
class Dataset:
    """One benchmark case: warehouse, cutoff (last day of history) and horizon (periods)."""

    name: str
    db: Path
    until: dt.date
    horizon: int


def _warehouse(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "warehouse", *args], capture_output=True, text=True, cwd=REPO
    )
    if done.returncode != 0:
        raise SystemExit(f"warehouse {' '.join(args)} failed: {done.stderr[-1500:]}")


def _friday_weeks(daily: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Sum `y` per key to weeks ending on Friday (`week` = that Friday)."""
    ahead = (4 - pl.col("date").dt.weekday() + 1) % 7  # polars: Monday = 1 .. Sunday = 7
    return (
        daily.with_columns((pl.col("date") + pl.duration(days=ahead)).alias("week"))
        .group_by([*keys, "week"])
        .agg(pl.col("y").sum())
        .sort([*keys, "week"])
    )


def _ingest_panel(frame: pl.DataFrame, db: Path, work: Path) -> None:
    csv = work / f"{db.stem}.csv"
    frame.write_csv(csv)
    _warehouse(*ingest_args(db, csv, PanelColumns("week", "store", "item", "y")))


def build(work: Path, online_retail: Path, store_item: Path) -> list[Dataset]:
    """Build (or reuse) the three warehouses under `work`; the cases in table order."""
    work.mkdir(parents=True, exist_ok=True)
    or_db = work / "or_daily.duckdb"
    if not or_db.exists():
        _warehouse("--db", str(or_db), "ingest", "online-retail", str(online_retail))
    si_until, si_h = dt.date(2017, 6, 30), 26
    si_db = work / "si_weekly.duckdb"
    if not si_db.exists():
        with zipfile.ZipFile(store_item) as zf, zf.open("train.csv") as fh:
            raw = pl.read_csv(fh.read(), try_parse_dates=True)
        daily = raw.select(
            pl.col("date"),
            pl.col("store").cast(pl.String),
            pl.col("item").cast(pl.String),
            pl.col("sales").cast(pl.Float64).alias("y"),
        )
        weekly = _friday_weeks(daily, ["store", "item"])
        first = si_until - dt.timedelta(weeks=116)
        last = si_until + dt.timedelta(weeks=si_h)
        _ingest_panel(weekly.filter(pl.col("week").is_between(first, last)), si_db, work)
    orw_until, orw_h = dt.date(2010, 10, 1), 8
    orw_db = work / "or_weekly.duckdb"
    if not orw_db.exists():
        with duckdb.connect(str(or_db), read_only=True) as con:
            daily = con.sql(
                "select product_id as item, sale_date as date, units as y from fct_sales_daily"
            ).pl()
        weekly = _friday_weeks(
            daily.with_columns(pl.lit("ONLINE").alias("store")), ["store", "item"]
        )
        first = orw_until - dt.timedelta(weeks=42)
        last = orw_until + dt.timedelta(weeks=orw_h)
        _ingest_panel(weekly.filter(pl.col("week").is_between(first, last)), orw_db, work)
    return [
        Dataset("Online Retail II daily", or_db, dt.date(2010, 10, 31), 28),
        Dataset("store-item weekly (117 wk)", si_db, si_until, si_h),
        Dataset("Online Retail II weekly (43 wk)", orw_db, orw_until, orw_h),
    ]
