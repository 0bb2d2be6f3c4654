"""What the SQL sandbox allows: roles, functions, statement kinds, limits and its result types."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from warehouse.db import WarehouseError
from warehouse.roles import ROLES as ROLE_ORDER

#: Least role that may read customer-level tables in the sandbox.
CUSTOMER_DATA_ROLE = "analyst"

#: Tables and views with one row per customer or per customer purchase. Any other table with a
#: `customer_id` / `customer_code` column is treated the same (found at query time).
CUSTOMER_LEVEL_TABLES: frozenset[str] = frozenset(
    {
        "fct_sales",
        "dim_customer",
        "recommendations",
        "raw_sales_line",
        "raw_customer",
        "stg_sales_lines",
        "stg_customers",
        "quarantine",
    }
)
CUSTOMER_COLUMNS: frozenset[str] = frozenset({"customer_id", "customer_code"})

#: Table functions a query may call: generators, unnesting and catalogue views. Everything else
#: (read_csv, read_parquet, read_json, read_text, read_blob, glob, parquet_scan, query,
#: duckdb_secrets, duckdb_settings, checkpoint, ...) is refused.
ALLOWED_TABLE_FUNCTIONS: frozenset[str] = frozenset(
    {
        "range",
        "generate_series",
        "unnest",
        "repeat",
        "repeat_row",
        "json_each",
        "json_tree",
        "duckdb_columns",
        "duckdb_constraints",
        "duckdb_functions",
        "duckdb_indexes",
        "duckdb_keywords",
        "duckdb_schemas",
        "duckdb_tables",
        "duckdb_types",
        "duckdb_views",
        "duckdb_dependencies",
        "duckdb_sequences",
        "pragma_table_info",
        "pragma_show",
        "summary",
        "pg_timezone_names",
        "icu_calendar_names",
    }
)
#: Functions refused wherever they appear (file access, secrets, settings, executing SQL text,
#: raising an error with a chosen text).
DENIED_FUNCTIONS: frozenset[str] = frozenset(
    {
        "getenv",
        "current_setting",
        "duckdb_secrets",
        "which_secret",
        "duckdb_settings",
        "json_execute_serialized_sql",
        "query",
        "query_table",
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "read_json",
        "read_json_auto",
        "read_ndjson",
        "read_ndjson_auto",
        "read_json_objects",
        "read_json_objects_auto",
        "read_ndjson_objects",
        "read_text",
        "read_blob",
        "glob",
        "sniff_csv",
        "read_duckdb",
        "parquet_metadata",
        "parquet_schema",
        "parquet_file_metadata",
        "parquet_kv_metadata",
        "parquet_full_metadata",
        "parquet_bloom_probe",
        "parquet_page_index",
        "read_xlsx",
        "read_single_csv_file",
        "read_single_json_file",
        "read_single_parquet_file",
        "write_log",
        "sleep_ms",
        "pg_sleep",
        "duckdb_databases",
        "duckdb_extensions",
        "duckdb_logs",
        "enable_logging",
        "checkpoint",
        "force_checkpoint",
        "enable_profiling",
        "disable_profiling",
        "truncate_duckdb_logs",
        "sqlite_scan",
        "postgres_scan",
        "mysql_scan",
        "delta_scan",
        "iceberg_scan",
        "error",
        "duckdb_temporary_files",
        "duckdb_memory",
        "duckdb_optimizers",
        "current_schemas",
    }
)

#: Scalar functions whose size argument makes DuckDB build a value while the query is planned
#: (constant folding, before the memory limit and the time limit apply): a literal size above
#: `MAX_CONSTANT_SIZE` in their arguments is refused. The child process's memory cap stops the
#: sizes that are not literals.
SIZED_FUNCTIONS: frozenset[str] = frozenset(
    {
        "repeat",
        "range",
        "generate_series",
        "list_resize",
        "array_resize",
        "lpad",
        "rpad",
        "bitstring",
        "repeat_row",
        "list_repeat",
        "array_repeat",
        "space",
        "printf",
        "format",
        "list_zip",
        "array_zip",
    }
)
MAX_CONSTANT_SIZE = 10_000_000

#: Statement types (`duckdb.StatementType`) a query may have. MULTI is how DuckDB parses PIVOT.
READ_STATEMENT_TYPES: frozenset[str] = frozenset({"SELECT", "EXPLAIN", "MULTI"})
READ_KEYWORDS: frozenset[str] = frozenset(
    {
        "select",
        "with",
        "from",
        "values",
        "table",
        "describe",
        "desc",
        "show",
        "summarize",
        "pivot",
        "unpivot",
        "pivot_wider",
        "pivot_longer",
        "explain",
    }
)
MAX_QUERY_CHARS = 100_000
#: Largest `timeout_s` a caller may ask for; the CLI and the app use the same bound.
MAX_TIMEOUT_S = 300.0
#: Largest Arrow result the child sends back (the row cap applies first).
MAX_RESULT_BYTES = 64 << 20

#: Settings of the private DuckDB instance a sandboxed query runs in.
SANDBOX_CONFIG: dict[str, Any] = {
    "threads": 2,
    "memory_limit": "1GB",
    "temp_directory": "",  # no spill files: a query that needs more memory fails instead
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_persistent_secrets": False,
}
#: The sandbox memory limit: DuckDB's `memory_limit`, and (with `ADDRESS_SPACE_SLACK`) the hard
#: cap on the address space the query's child process may add to what it had at start.
MEMORY_LIMIT_BYTES = 1 << 30
ADDRESS_SPACE_SLACK = 192 << 20
LOCK_SETTINGS = (
    "SET enable_progress_bar = false",
    "SET enable_external_access = false",
    "SET lock_configuration = true",
)


class SandboxRefusal(WarehouseError):
    """A query the sandbox refused or stopped; the message says why in one line."""


@dataclass(frozen=True)
class QueryResult:
    """Rows of a sandboxed query.

    Attributes:
        frame: at most `max_rows` rows, columns as the query named them.
        truncated: True when the query had more rows than `max_rows`.
        elapsed_s: wall-clock seconds from the start of the call to the last fetched row.
    """

    frame: pl.DataFrame
    truncated: bool
    elapsed_s: float = 0.0


def role_rank(role: str) -> int:
    """Position of `role` in `ROLE_ORDER`; an unknown role is refused."""
    if role not in ROLE_ORDER:
        raise SandboxRefusal(f"unknown role {role!r}; expected one of {', '.join(ROLE_ORDER)}")
    return ROLE_ORDER.index(role)


def validate_timeout(value: object) -> float:
    """`value` as seconds in (0, `MAX_TIMEOUT_S`]; anything else is a one-line refusal.

    Accepts numbers and numeric strings (the CLI passes its text). 0, negatives, inf, nan,
    booleans and values above the cap are refused.
    """
    shown = repr(value) if not isinstance(value, str) else value.strip() or "''"
    if isinstance(value, bool):
        raise SandboxRefusal(f"timeout must be seconds in (0, {MAX_TIMEOUT_S:g}], got {shown}")
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SandboxRefusal(
            f"timeout must be seconds in (0, {MAX_TIMEOUT_S:g}], got {shown}"
        ) from None
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_TIMEOUT_S:
        raise SandboxRefusal(f"timeout must be seconds in (0, {MAX_TIMEOUT_S:g}], got {shown}")
    return seconds
