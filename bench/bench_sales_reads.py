"""The app's sales reads (`warehouse/sql/app/*.sql`) timed now and at an earlier commit.

Each query runs `--repeats` times on one read-only connection, the two versions interleaved (so
load drifts hit both), over the last 90 days of the warehouse's sales (the app's default period)
with no store or category filter; the first run of each is dropped (cold caches). Prints one row
per query: median and max ms of each version and the ratio now / before. No threshold is checked.

Usage:
    python bench/bench_sales_reads.py --db WAREHOUSE [--before REV] [--repeats 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's packages, not an editable install of another one

#: Query name -> extra parameters beyond the period's (`services.dashboard.Filters.params`).
QUERIES: dict[str, dict[str, object]] = {
    "sales_kpis": {},
    "trend": {"grain": "week"},
    "movers": {"n": 10},
    "breakdown": {"by": "product", "drill_category": "", "limit": 25},
    "heatmap": {},
}


def sql_at(rev: str, name: str) -> str | None:
    """The text of `warehouse/sql/app/<name>.sql` at commit `rev` (None where it did not exist)."""
    done = subprocess.run(
        ["git", "show", f"{rev}:warehouse/sql/app/{name}.sql"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else None


def main() -> None:
    """Time every query now and at `--before`; print the table."""
    from services.dashboard import Filters
    from warehouse.db import query, reading, sql_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--before", default="HEAD~1", help="commit whose SQL is the baseline")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with reading(args.db) as con:
        last = query(con, "SELECT max(sale_date) AS d FROM fct_sales_daily")["d"][0]
        filters = Filters(last - dt.timedelta(days=89), last)
        print(
            f"{args.db}: {filters.start} .. {filters.end}, {args.repeats} runs each (first "
            f"dropped), before = {args.before}, load average {os.getloadavg()[0]:.1f}"
        )
        print(f"{'query':<12}{'before ms':>11}{'max':>8}{'now ms':>9}{'max':>8}{'now/before':>12}")
        for name, extra in QUERIES.items():
            texts = {"before": sql_at(args.before, name), "now": sql_text(f"app/{name}")}
            params = {**filters.params(), **extra}
            times: dict[str, list[float]] = {"before": [], "now": []}
            for _ in range(args.repeats + 1):
                for version, text in texts.items():
                    if text is None:
                        continue
                    t0 = time.perf_counter()
                    query(con, text, params)
                    times[version].append((time.perf_counter() - t0) * 1000)
            cells = []
            for version in ("before", "now"):
                runs = times[version][1:]
                cells.append(
                    f"{statistics.median(runs):>9.1f}{max(runs):>8.1f}" if runs else f"{'-':>17}"
                )
            ratio = (
                statistics.median(times["now"][1:]) / statistics.median(times["before"][1:])
                if times["before"]
                else float("nan")
            )
            print(f"{name:<12}{cells[0]:>11}{cells[1]:>8}{ratio:>12.2f}")


if __name__ == "__main__":
    main()
