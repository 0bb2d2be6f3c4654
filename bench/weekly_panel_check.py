"""A Walmart-sized weekly store x department panel derived from the store-item file, end to end.

The Kaggle store-item daily panel (500 series) is summed to 7-day weeks, its last 143 weeks kept,
and each series split into six "departments" whose every week gets its own multiplicative noise
(uniform 0.3-1.7 times lognormal sd 0.15) and a value scale (sales values, not units); 0.2% of the
weeks become small returns (negative) and 1% are dropped (no sale that week). That is 3,000
noisy series written as `Store,Dept,Date,Weekly_Sales,IsHoliday`. Then the product's own commands
run on it:
`warehouse ingest sales-panel`, `warehouse holidays --country US`, `forecasting run --until
<the 117th week (--history)> --horizon 26` (wall time and peak memory measured), and the 26
weeks after the cutoff are scored: WAPE of the chosen forecaster beside seasonal naive (the
same week a year earlier), bias, and 80% / 95% interval coverage.

Usage:
    python bench/weekly_panel_check.py --work /tmp/wm [--seed 7] [--history 117]
"""

from __future__ import annotations

import argparse
import io
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
WEEKS, HISTORY, HORIZON, DEPARTMENTS = 143, 117, 26, 6

SCORE_SQL = """
with f as (select * exclude (date), date as ds from forecasts),
a as (
    select store_id, product_id, sale_date as ds, sum(units) as y
    from fct_sales_daily group by all
),
j as (
    select f.*, coalesce(a.y, 0) as y, coalesce(l.y, 0) as yhat_snaive
    from f
    left join a on a.store_id = f.store_id and a.product_id = f.product_id and a.ds = f.ds
    left join a as l on l.store_id = f.store_id and l.product_id = f.product_id
        and l.ds = f.ds - interval 364 day
)
select
    sum(abs(y - yhat)) / sum(abs(y)) as wape_chosen,
    sum(abs(y - yhat_snaive)) / sum(abs(y)) as wape_seasonal_naive,
    sum(yhat - y) / sum(y) as bias,
    avg(case when y between yhat_lo_80 and yhat_hi_80 then 1 else 0 end) as coverage_80,
    avg(case when y between yhat_lo_95 and yhat_hi_95 then 1 else 0 end) as coverage_95,
    count(*) as points
from j
"""


def derive(source: Path, out: Path, seed: int) -> pl.DataFrame:
    """Write the derived weekly panel to `out` (CSV) and return it."""
    with zipfile.ZipFile(source) as z:
        daily = pl.read_csv(io.BytesIO(z.read("train.csv")), try_parse_dates=True)
    origin = daily["date"].min()
    weekly = (
        daily.with_columns(((pl.col("date") - pl.lit(origin)).dt.total_days() // 7).alias("w"))
        .group_by("store", "item", "w")
        .agg(pl.col("sales").sum(), pl.col("date").max().alias("Date"), pl.len().alias("days"))
        .filter(pl.col("days") == 7)
    )
    weekly = weekly.filter(pl.col("w") > weekly["w"].max() - WEEKS)
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(DEPARTMENTS):
        noise = rng.uniform(0.3, 1.7, weekly.height) * rng.lognormal(0, 0.15, weekly.height)
        parts.append(
            weekly.select(
                pl.col("store").alias("Store"),
                (pl.col("item") * 10 + k).alias("Dept"),
                "Date",
                (pl.col("sales") * pl.Series(noise) * 7.9).round(2).alias("Weekly_Sales"),
            )
        )
    panel = pl.concat(parts)
    returns = pl.Series(rng.random(panel.height) < 0.002)
    kept = pl.Series(rng.random(panel.height) >= 0.01)
    panel = (
        panel.with_columns(
            pl.when(returns)
            .then(-0.05 * pl.col("Weekly_Sales"))
            .otherwise(pl.col("Weekly_Sales"))
            .alias("Weekly_Sales"),
            pl.lit(False).alias("IsHoliday"),
        )
        .filter(kept)
        .sort("Store", "Dept", "Date")
    )
    panel.write_csv(out)
    return panel


def cli(*args: str) -> None:
    """`python -m <args>` from the repository root; stops the bench on a failure."""
    subprocess.run([sys.executable, "-m", *args], cwd=ROOT, check=True)


def main() -> None:
    """Derive, ingest, forecast, score; print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/shelfwise-weekly-panel"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--history", type=int, default=HISTORY, help="weeks of history before the cutoff"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    csv, db = args.work / "train.csv", args.work / "panel.duckdb"
    source = SHARED / "store-item-demand" / "demand-forecasting-kernels-only.zip"
    panel = derive(source, csv, args.seed)
    dates = sorted(panel["Date"].unique())
    until = dates[args.history - 1]
    db.unlink(missing_ok=True)
    cli("warehouse", "--db", str(db), "--quiet", "ingest", "sales-panel", str(csv),
        "--date-col", "Date", "--store-col", "Store", "--item-col", "Dept",
        "--qty-col", "Weekly_Sales")  # fmt: skip
    cli("warehouse", "--db", str(db), "--quiet", "holidays", "--country", "US")
    t0 = time.perf_counter()
    cli("forecasting", "--db", str(db), "--quiet", "run", "--until", str(until),
        "--horizon", str(HORIZON))  # fmt: skip
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    con = duckdb.connect(str(db), read_only=True)
    cursor = con.execute(SCORE_SQL)
    names = [d[0] for d in cursor.description]
    score = dict(zip(names, cursor.fetchone(), strict=True))
    series = panel.select(pl.struct("Store", "Dept").n_unique()).item()
    print(f"weekly panel: {series:,} series, {panel.height:,} rows, {dates[0]} .. {dates[-1]}")
    print(f"forecasting run --until {until} --horizon {HORIZON}: {wall:.1f} s wall, "
          f"peak RSS {peak_mb:,.0f} MB (largest child)")  # fmt: skip
    for name, value in score.items():
        print(
            f"  {name:<22}{value:>10,.4f}"
            if isinstance(value, float)
            else f"  {name:<22}{value:>10,}"
        )
    ratio = score["wape_chosen"] / score["wape_seasonal_naive"]
    print(f"  {'chosen / seasonal naive':<22}{ratio:>10.3f}")


if __name__ == "__main__":
    main()
