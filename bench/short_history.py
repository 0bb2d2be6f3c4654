"""Derived benchmark cases: a real sales file with its history cut to start on a later date.

A retailer new to the tool often has under a year of sales; the inventory replays and forecasts
must hold there too (issue #13). This writes a copy of the file keeping only the rows dated on
or after `--since`, for the real ingest to load:

    python bench/short_history.py ONLINE_RETAIL.parquet --date-col InvoiceDate \
        --since 2010-04-01 --out /tmp/or_short.parquet
    python bench/short_history.py demand-forecasting-kernels-only.zip --member train.csv \
        --date-col date --since 2016-06-01 --out /tmp/si_short.csv

Input: a .parquet, a .csv, or a .zip holding a CSV (`--member`); output: .parquet or .csv by
its suffix. Dates may be strings (ISO, compared as text on their first 10 characters) or
date / datetime columns. Prints the rows kept and the date range.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import zipfile
from pathlib import Path

import polars as pl


def read_sales(path: Path, member: str | None) -> pl.DataFrame:
    """The file as a frame: parquet, CSV, or the CSV `member` of a zip."""
    if path.suffix == ".zip":
        if member is None:
            raise SystemExit(f"{path}: a zip needs --member (the CSV inside it)")
        with zipfile.ZipFile(path) as archive:
            return pl.read_csv(io.BytesIO(archive.read(member)), infer_schema_length=10_000)
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, infer_schema_length=10_000)


def cut(frame: pl.DataFrame, date_col: str, since: dt.date) -> pl.DataFrame:
    """Rows whose `date_col` falls on or after `since` (its first 10 characters for text)."""
    if date_col not in frame.columns:
        raise SystemExit(f"--date-col {date_col!r}: not a column (have {frame.columns})")
    column = pl.col(date_col)
    day = (
        column.str.slice(0, 10).str.to_date("%Y-%m-%d")
        if frame.schema[date_col] == pl.String
        else column.cast(pl.Date)
    )
    return frame.filter(day >= since)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--member", help="the CSV inside a zip")
    parser.add_argument("--date-col", required=True)
    parser.add_argument("--since", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    kept = cut(read_sales(args.path, args.member), args.date_col, args.since)
    tmp = args.out.with_name(args.out.name + ".tmp")
    if args.out.suffix == ".parquet":
        kept.write_parquet(tmp)
    else:
        kept.write_csv(tmp)
    tmp.replace(args.out)  # no half-written file under the final name
    dates = kept[args.date_col]
    print(f"{args.out}: {kept.height:,} rows, {dates.min()} .. {dates.max()}")


if __name__ == "__main__":
    main()
