"""`python -m forecasting export --out FILE`: the latest forecasts as .csv, .xlsx or .parquet."""

from __future__ import annotations

import os
from pathlib import Path

from forecasting.api import require_forecasts
from warehouse.db import reading, run_named
from warehouse.files import check_output_path, write_frame_atomic


def export_forecasts(
    db: str | os.PathLike[str], out: str | os.PathLike[str], *, raw_csv: bool = False
) -> int:
    """Write the latest forecasts to .csv, .xlsx or .parquet (atomic); returns the row count.

    CSV text cells starting with a formula character get a leading `'` unless `raw_csv`.
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".parquet"):
        raise ValueError(f"--out {path}: expected a .csv, .xlsx or .parquet file name")
    check_output_path(path, flag="--out")
    with reading(db) as con:
        require_forecasts(con)
        frame = run_named(con, "forecasting/export")
    write_frame_atomic(frame, path, sheet="forecasts", raw_csv=raw_csv)
    return frame.height
