"""`python -m forecasting export --out FILE`: the latest forecasts as .csv, .xlsx or .parquet."""

from __future__ import annotations

import os
from pathlib import Path

from forecasting.api import require_forecasts
from warehouse.db import reading, run_named
from warehouse.files import write_frame_atomic


def export_forecasts(db: str | os.PathLike[str], out: str | os.PathLike[str]) -> int:
    """Write the latest forecasts to .csv, .xlsx or .parquet (atomic); returns the row count."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".parquet"):
        raise ValueError(f"--out {path}: expected a .csv, .xlsx or .parquet file name")
    with reading(db) as con:
        require_forecasts(con)
        frame = run_named(con, "forecasting/export")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_frame_atomic(frame, path, sheet="forecasts")
    return frame.height
