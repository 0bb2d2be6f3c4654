"""Export files of the app's tables: CSV, Excel or Parquet bytes (no streamlit)."""

from __future__ import annotations

import io

import polars as pl

from warehouse.db import WarehouseError
from warehouse.files import csv_bytes

EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "CSV": ("csv", "text/csv"),
    "Excel": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "Parquet": ("parquet", "application/vnd.apache.parquet"),
}


def export_bytes(frame: pl.DataFrame, fmt: str, *, raw_csv: bool = False) -> bytes:
    """`frame` as a file in format `fmt` ('CSV', 'Excel' or 'Parquet').

    CSV text cells starting with a formula character get a leading `'` unless `raw_csv`
    (`warehouse.files.csv_bytes`).
    """
    if fmt not in EXPORT_FORMATS:
        raise WarehouseError(f"export format {fmt!r}: choose {', '.join(EXPORT_FORMATS)}")
    buffer = io.BytesIO()
    if fmt == "CSV":
        return csv_bytes(frame, raw=raw_csv)
    elif fmt == "Excel":
        frame.write_excel(buffer, autofit=True)
    else:
        frame.write_parquet(buffer)
    return buffer.getvalue()
