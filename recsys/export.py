"""Batch lists for merchandisers: a file (csv, xlsx, parquet) and the `recommendations` table.

The lists themselves come from `recsys.batch` (the one ranking path of `recsys.lists`).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from recsys.errors import RecsysError
from warehouse.db import reading, table_exists, writing
from warehouse.files import write_frame_atomic

FORMATS = (".csv", ".xlsx", ".parquet")
TABLE = "recommendations"


def has_recommendations(db: str | os.PathLike[str]) -> bool:
    """Whether the warehouse has a `recommendations` table (an empty one counts as written)."""
    if not Path(db).exists():
        return False
    with reading(db) as con:
        return table_exists(con, TABLE)


def read_customer_file(path: str | os.PathLike[str]) -> list[str]:
    """Customer ids from a file: one per line, or a CSV with a `customer_id` column."""
    file = Path(path)
    if not file.exists():
        raise RecsysError(f"{file}: customers file not found")
    lines = [line.strip() for line in file.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise RecsysError(f"{file}: no customer ids")
    header = [c.strip().strip('"') for c in lines[0].split(",")]
    if "customer_id" in header:
        frame = pl.read_csv(file, infer_schema=False)
        return [c for c in frame["customer_id"].to_list() if c]
    return [line.strip('"') for line in lines]


def write_file(frame: pl.DataFrame, out: str | os.PathLike[str], *, raw_csv: bool = False) -> Path:
    """Write .csv, .xlsx or .parquet atomically (temp file + rename); CSV neutralised unless raw."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise RecsysError(
            f"--out {path}: unsupported format {suffix or '(none)'}; "
            f"use one of {', '.join(FORMATS)}"
        )
    if suffix == ".xlsx" and frame.height > 1_048_575:
        raise RecsysError(
            f"--out {path}: {frame.height:,} rows exceed an Excel sheet; use .csv or .parquet"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_frame_atomic(frame, path, sheet="recommendations", raw_csv=raw_csv)
    return path


def write_table(db: str | os.PathLike[str] | None, frame: pl.DataFrame) -> int:
    """Replace the `recommendations` table in one atomic write; returns the row count."""
    with writing(db) as con:
        con.register("recommendations_frame", frame.to_arrow())
        try:
            con.execute(_table_sql()).fetchall()
        finally:
            con.unregister("recommendations_frame")
    return frame.height


def _table_sql() -> str:
    from warehouse.db import sql_text

    return sql_text("recsys/write_recommendations")
