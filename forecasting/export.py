"""`python -m forecasting export --out FILE`: the latest forecasts as .csv, .xlsx or .parquet."""

from __future__ import annotations

import os
from pathlib import Path

from forecasting.api import require_forecasts
from warehouse.db import reading, run_named


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
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")
    try:
        if suffix == ".csv":
            frame.write_csv(tmp)
        elif suffix == ".parquet":
            frame.write_parquet(tmp)
        else:
            frame.write_excel(tmp, worksheet="forecasts")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return frame.height
