"""Warehouse timings: demo build and real-data ingest, beside a bare DuckDB load of the same file.

The baseline is the floor a load cannot beat: DuckDB reading the file straight into a table with
no checks, quarantine, idempotency, mart rebuild or atomic swap. The ratio says what those cost.

Usage: .venv/bin/python bench/bench_warehouse.py [--scales 0.25 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from warehouse.db import reading, scalar
from warehouse.demo import DemoConfig, build_demo
from warehouse.ingest import ingest_online_retail, ingest_sales_panel
from warehouse.ingest.sales_panel import PanelColumns

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ONLINE_RETAIL = SHARED / "online-retail-ii-2009-2010" / "online_retail_II.parquet"
STORE_ITEM = SHARED / "store-item-demand" / "demand-forecasting-kernels-only.zip"


def _time(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _bare_load(sql: str) -> Callable[[], object]:
    def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            con = duckdb.connect(str(Path(tmp) / "bare.duckdb"))
            con.execute(sql).fetchall()
            con.close()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.25, 1.0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench_wh_"))

    for scale in args.scales:
        db = tmp / f"demo_{scale:g}.duckdb"
        times = _time(
            lambda db=db, scale=scale: build_demo(db, DemoConfig(scale=scale)), args.repeats
        )
        with reading(db) as con:
            n = int(scalar(con, "SELECT count(*) FROM fct_sales"))
        rows.append(
            {
                "task": f"demo build scale {scale:g}",
                "rows": n,
                "median_s": statistics.median(times),
                "rows_per_s": n / statistics.median(times),
                "baseline_s": None,
                "ratio_vs_baseline": None,
            }
        )

    if ONLINE_RETAIL.exists():

        def shelfwise_or() -> None:
            db = tmp / "or.duckdb"
            db.unlink(missing_ok=True)
            ingest_online_retail(db, ONLINE_RETAIL)

        times = _time(shelfwise_or, args.repeats)
        base = _time(
            _bare_load(f"CREATE TABLE t AS SELECT * FROM read_parquet('{ONLINE_RETAIL}')"),
            args.repeats,
        )
        again = _time(lambda: ingest_online_retail(tmp / "or.duckdb", ONLINE_RETAIL), args.repeats)
        n = 525_461
        for task, t in (
            ("ingest online-retail (new file)", times),
            ("ingest online-retail again (adds 0)", again),
        ):
            rows.append(
                {
                    "task": task,
                    "rows": n,
                    "median_s": statistics.median(t),
                    "rows_per_s": n / statistics.median(t),
                    "baseline_s": statistics.median(base),
                    "ratio_vs_baseline": statistics.median(t) / statistics.median(base),
                }
            )

    if STORE_ITEM.exists():
        csv = tmp / "train.csv"
        with zipfile.ZipFile(STORE_ITEM) as z:
            csv.write_bytes(z.read("train.csv"))
        n = pl.read_csv(io.BytesIO(csv.read_bytes())).height

        def shelfwise_panel() -> None:
            db = tmp / "si.duckdb"
            db.unlink(missing_ok=True)
            ingest_sales_panel(db, csv, PanelColumns("date", "store", "item", "sales"))

        times = _time(shelfwise_panel, args.repeats)
        base = _time(_bare_load(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')"), args.repeats)
        rows.append(
            {
                "task": "ingest sales-panel store-item",
                "rows": n,
                "median_s": statistics.median(times),
                "rows_per_s": n / statistics.median(times),
                "baseline_s": statistics.median(base),
                "ratio_vs_baseline": statistics.median(times) / statistics.median(base),
            }
        )

    table = pl.DataFrame(rows)
    with pl.Config(
        tbl_rows=50, tbl_width_chars=200, float_precision=2, tbl_hide_dataframe_shape=True
    ):
        print(
            f"repeats={args.repeats}; "
            "baseline = bare DuckDB CREATE TABLE AS read_* of the same file"
        )
        print(table)


if __name__ == "__main__":
    main()
