"""What the warehouse holds, for the SQL workbench and the Data & models page (no streamlit).

The schema (tables, views, columns), the load log and quarantine, the versioned model artifacts
next to the warehouse and the pipeline's own tables. SQL lives in `warehouse/sql/app/*.sql`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from services.schemas import (
    LOAD_LOG_SCHEMA,
    MODEL_VERSIONS_SCHEMA,
    QUARANTINE_SUMMARY_SCHEMA,
    SCHEMA_COLUMNS_SCHEMA,
    SCHEMA_TABLES_SCHEMA,
)
from warehouse.contracts import returns, validate
from warehouse.db import resolve_db_path, run_named, table_exists
from warehouse.paths import artifacts_dir

#: Packages whose versioned artifacts the Data & models page lists.
MODEL_PACKAGES: tuple[str, ...] = ("recsys", "forecasting", "inventory")


@returns(SCHEMA_TABLES_SCHEMA)
def schema_tables(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Columns table_name, kind ('table'/'view'), rows (tables), columns."""
    return run_named(con, "app/schema_tables")


@returns(SCHEMA_COLUMNS_SCHEMA)
def schema_columns(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Columns table_name, column_name, data_type, position."""
    return run_named(con, "app/schema_columns")


@dataclass(frozen=True)
class DataQuality:
    """Loads and quarantine of a warehouse."""

    loads: pl.DataFrame  # the load_log, newest first
    quarantine: pl.DataFrame  # source, reason, rows, example_record, file

    @property
    def quarantined_rows(self) -> int:
        """Total quarantined rows."""
        return int(self.quarantine["rows"].sum()) if self.quarantine.height else 0


def data_quality(con: duckdb.DuckDBPyConnection) -> DataQuality:
    """The load log and the quarantine grouped by source and reason."""
    loads = validate(
        run_named(con, "app/load_log"), LOAD_LOG_SCHEMA, "services.catalog.data_quality loads"
    )
    quarantine = validate(
        run_named(con, "app/quarantine_summary"),
        QUARANTINE_SUMMARY_SCHEMA,
        "services.catalog.data_quality quarantine",
    )
    return DataQuality(loads, quarantine)


@returns(MODEL_VERSIONS_SCHEMA)
def model_versions(db: str | os.PathLike[str] | None) -> pl.DataFrame:
    """Versioned artifacts next to the warehouse, newest first.

    Columns: package, version, created_at, files, details (JSON metadata files flattened to
    `key=value` pairs, when the package wrote any).
    """
    rows: list[dict[str, Any]] = []
    for package in MODEL_PACKAGES:
        root = artifacts_dir(resolve_db_path(db), package)
        if not root.is_dir():
            continue
        for version_dir in sorted(root.glob("v[0-9]*"), reverse=True):
            if not version_dir.is_dir():
                continue
            files = sorted(p.name for p in version_dir.iterdir())
            rows.append(
                {
                    "package": package,
                    "version": version_dir.name,
                    "created_at": datetime.fromtimestamp(version_dir.stat().st_mtime),
                    "files": ", ".join(files),
                    "details": _json_details(version_dir),
                }
            )
    return pl.DataFrame(rows, schema=MODEL_VERSIONS_SCHEMA)


def _json_details(folder: Path, limit: int = 400) -> str:
    parts: list[str] = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            parts += [f"{k}={v}" for k, v in data.items() if isinstance(v, str | int | float)]
    text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def optional_table(
    con: duckdb.DuckDBPyConnection, table: str, limit: int = 1000
) -> pl.DataFrame | None:
    """Up to `limit` rows of a pipeline table (e.g. forecast_runs), or None when absent."""
    if not table_exists(con, table):
        return None
    return run_named(con, "app/table_head", {"table": table, "limit": int(limit)})
