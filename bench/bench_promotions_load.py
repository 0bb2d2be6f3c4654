"""What a loaded promotions file is worth to the forecasts: the demo with its promotions removed,
then the same promotions loaded back from a CSV through `ingest promotions`, backtested side by
side with LightGBM, seasonal naive and the moving average (the engine's fallback).

The demo's promotions are synthetic (the generator builds their uplift in), so this checks that a
file's promotions reach the model end to end and what they are worth there, not a real shop's
uplift. Steps, all through the product's command lines:

    PYTHONPATH=$PWD .venv/bin/python bench/bench_promotions_load.py --work /tmp/promo --scale 0.1

1. `python -m warehouse demo --scale S` (with promotions, as generated);
2. a copy with `raw_promotion` emptied and the marts rebuilt (a shop that never loaded them);
3. a copy of 2 that loads the demo's promotions, written to a CSV, by `ingest promotions`;
4. `python -m forecasting backtest` on 2 and 3 (same windows and models),
   the backtest's pooled metrics per model, side by side.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from warehouse.build import build_marts
from warehouse.db import query, reading, writing

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> None:
    """`python -m <args>` from the repo root; stops the bench on a failure."""
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")


def backtest(db: Path, until: str, windows: int, horizon: int) -> tuple[dict, float]:
    """The backtest report (JSON) and its wall seconds."""
    out = db.with_suffix(".json")
    start = time.perf_counter()
    cli(
        "forecasting", "--db", str(db), "--quiet", "backtest", "--until", until,
        "--windows", str(windows), "--horizon", str(horizon), "--prophet-series", "0",
        "--models", "lightgbm,seasonal_naive,moving_average", "--json", str(out), "--no-save",
    )  # fmt: skip
    return json.loads(out.read_text()), time.perf_counter() - start


def main() -> None:
    """Build the three warehouses, backtest two, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--scale", default="0.1")
    parser.add_argument("--until", default="2026-09-30")
    parser.add_argument("--windows", type=int, default=2)
    parser.add_argument("--horizon", type=int, default=28)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    demo = args.work / "demo.duckdb"
    if not demo.exists():
        cli("warehouse", "--db", str(demo), "--quiet", "demo", "--scale", args.scale)
    without, loaded = args.work / "without.duckdb", args.work / "loaded.duckdb"
    with reading(demo) as con:
        promos = query(
            con,
            "SELECT promotion_id, store_id, product_id, start_date, end_date, discount_pct "
            "FROM fct_promotion ORDER BY promotion_id",
        )
    csv = args.work / "promotions.csv"
    promos.write_csv(csv)
    shutil.copyfile(demo, without)
    with writing(without) as con:
        con.execute("DELETE FROM raw_promotion")
        build_marts(con)
    shutil.copyfile(without, loaded)
    cli("warehouse", "--db", str(loaded), "--quiet", "ingest", "promotions", str(csv))
    print(f"{promos.height:,} promotions written to {csv} and loaded back")
    rows = []
    for name, db in (("none loaded", without), ("file loaded", loaded)):
        report, wall = backtest(db, args.until, args.windows, args.horizon)
        rows.append((name, report, wall))
    table = pl.DataFrame(
        [
            {"warehouse": name, "wall_s": round(wall, 1), **metrics}
            for name, report, wall in rows
            for metrics in report["results"]
        ]
    ).filter(pl.col("segment") == "all")
    shown = table.select(
        "frequency", "model", "warehouse", "n_series", "wape", "mase", "bias", "coverage_80"
    ).sort("frequency", "model", "warehouse")
    base = table.filter(pl.col("warehouse") == rows[0][0]).select(
        "frequency", "model", pl.col("wape").alias("_base")
    )
    shown = shown.join(base, on=["frequency", "model"]).with_columns(
        (pl.col("wape") / pl.col("_base")).round(3).alias("wape_ratio")
    )
    with pl.Config(tbl_rows=50, tbl_cols=20, tbl_width_chars=160, float_precision=4):
        print(shown.drop("_base"))
    print("wall s:", {name: round(wall, 1) for name, _, wall in rows})


if __name__ == "__main__":
    main()
