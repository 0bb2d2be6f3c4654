"""The SQL sandbox behind the SQL workbench page and `python -m warehouse sql`.

A query runs only if every layer agrees; each refusal is one clear line (`SandboxRefusal`):

1. Text: valid UTF-8, no NUL, at most `MAX_QUERY_CHARS`, comments stripped.
2. Parser: exactly one statement (`con.extract_statements`) whose type is a read kind and whose
   first keyword is SELECT / WITH / FROM / VALUES / TABLE / DESCRIBE / SHOW / SUMMARIZE / PIVOT /
   UNPIVOT / EXPLAIN (the statement under EXPLAIN is checked the same way).
3. What it reads, from the syntax tree (`json_serialize_sql`): table functions only from
   `ALLOWED_TABLE_FUNCTIONS` (no file readers, `glob`, `query`, `duckdb_secrets`...), no function
   in `DENIED_FUNCTIONS`, and for roles below analyst no customer-level table.
4. What it reads, from the plan (`EXPLAIN (FORMAT json)`): every scanned table and table function,
   so a view cannot hide a customer-level table or a file reader.
5. The connection: a private in-memory DuckDB instance with the warehouse ATTACHed READ_ONLY,
   `enable_external_access = false`, no extension autoload, bounded memory and threads, no spill
   files, configuration locked; a timer thread interrupts the query at `timeout_s`; at most
   `max_rows` rows are fetched, with a visible `truncated` flag.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from warehouse.db import WAREHOUSE_CATALOG, WarehouseError
from warehouse.readers import open_snapshot

#: Roles from least to most trusted (same order as `warehouse.auth.ROLES`).
ROLE_ORDER: tuple[str, ...] = ("viewer", "merchandiser", "analyst", "admin")
#: Least role that may read customer-level tables in the sandbox.
CUSTOMER_DATA_ROLE = "analyst"

#: Tables and views with one row per customer or per customer purchase. Any other table with a
#: `customer_id` / `customer_code` column is treated the same (found at query time).
CUSTOMER_LEVEL_TABLES: frozenset[str] = frozenset({
    "fct_sales", "dim_customer", "recommendations", "raw_sales_line", "raw_customer",
    "stg_sales_lines", "stg_customers", "quarantine",
})
CUSTOMER_COLUMNS: frozenset[str] = frozenset({"customer_id", "customer_code"})

#: Table functions a query may call: generators, unnesting and catalogue views. Everything else
#: (read_csv, read_parquet, read_json, read_text, read_blob, glob, parquet_scan, query,
#: duckdb_secrets, duckdb_settings, checkpoint, ...) is refused.
ALLOWED_TABLE_FUNCTIONS: frozenset[str] = frozenset({
    "range", "generate_series", "unnest", "repeat", "repeat_row", "json_each", "json_tree",
    "duckdb_columns", "duckdb_constraints", "duckdb_functions", "duckdb_indexes",
    "duckdb_keywords", "duckdb_schemas", "duckdb_tables", "duckdb_types", "duckdb_views",
    "duckdb_dependencies", "duckdb_sequences", "pragma_table_info", "pragma_show",
    "summary", "pg_timezone_names", "icu_calendar_names",
})
#: Functions refused wherever they appear (file access, secrets, settings, executing SQL text).
DENIED_FUNCTIONS: frozenset[str] = frozenset({
    "getenv", "current_setting", "duckdb_secrets", "which_secret", "duckdb_settings",
    "json_execute_serialized_sql", "query", "query_table", "read_csv", "read_csv_auto",
    "read_parquet", "parquet_scan", "read_json", "read_json_auto", "read_ndjson",
    "read_ndjson_auto", "read_json_objects", "read_json_objects_auto", "read_ndjson_objects",
    "read_text", "read_blob", "glob", "sniff_csv", "read_duckdb", "parquet_metadata",
    "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata", "parquet_full_metadata",
    "parquet_bloom_probe", "parquet_page_index", "read_xlsx", "read_single_csv_file",
    "read_single_json_file", "read_single_parquet_file", "write_log", "sleep_ms", "pg_sleep",
    "duckdb_databases", "duckdb_extensions", "duckdb_logs", "enable_logging", "checkpoint",
    "force_checkpoint", "enable_profiling", "disable_profiling", "truncate_duckdb_logs",
    "sqlite_scan", "postgres_scan", "mysql_scan", "delta_scan", "iceberg_scan",
})

#: Statement types (`duckdb.StatementType`) a query may have. MULTI is how DuckDB parses PIVOT.
READ_STATEMENT_TYPES: frozenset[str] = frozenset({"SELECT", "EXPLAIN", "MULTI"})
READ_KEYWORDS: frozenset[str] = frozenset({
    "select", "with", "from", "values", "table", "describe", "desc", "show", "summarize",
    "pivot", "unpivot", "pivot_wider", "pivot_longer", "explain",
})
MAX_QUERY_CHARS = 100_000

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
_LOCK_SETTINGS = (
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
        elapsed_s: wall-clock seconds from opening the connection to the last fetched row.
    """

    frame: pl.DataFrame
    truncated: bool
    elapsed_s: float = 0.0


# ---------------------------------------------------------------------------------------------
# Text


def clean_text(sql: str | bytes) -> str:
    """The query as one line-safe string without comments or trailing semicolons.

    Raises:
        SandboxRefusal: not UTF-8, a NUL character, too long, or empty.
    """
    if isinstance(sql, bytes | bytearray):
        try:
            sql = bytes(sql).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SandboxRefusal(f"the query is not valid UTF-8 (byte {exc.start})") from exc
    if not isinstance(sql, str):
        raise SandboxRefusal(f"the query must be text, not {type(sql).__name__}")
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SandboxRefusal(f"the query is not valid UTF-8 (character {exc.start})") from exc
    if "\x00" in sql:
        raise SandboxRefusal("the query contains a NUL character")
    if len(sql) > MAX_QUERY_CHARS:
        raise SandboxRefusal(
            f"the query is {len(sql):,} characters long; the limit is {MAX_QUERY_CHARS:,}"
        )
    text = strip_comments(sql).strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise SandboxRefusal("empty query: write one SELECT (or WITH, DESCRIBE, SHOW, ...)")
    return text


def _segments(sql: str) -> Iterator[tuple[str, str]]:
    """Split SQL into (kind, text) with kind in code, string, quoted, comment."""
    i, n, start = 0, len(sql), 0
    while i < n:
        ch, nxt = sql[i], sql[i + 1] if i + 1 < n else ""
        kind, end = None, i
        if ch == "-" and nxt == "-":
            kind, end = "comment", _find(sql, "\n", i + 2)
        elif ch == "/" and nxt == "*":
            kind, end = "comment", _block_comment_end(sql, i)
        elif ch == "'":
            escaped = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _ident(sql[i - 2]))
            kind, end = "string", _quote_end(sql, i, "'", backslash=escaped)
        elif ch == '"':
            kind, end = "quoted", _quote_end(sql, i, '"', backslash=False)
        elif ch == "$":
            match = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
            if match and (i == 0 or not _ident(sql[i - 1])):
                tag = match.group(0)
                close = sql.find(tag, i + len(tag))
                kind, end = "string", (n if close < 0 else close + len(tag))
        if kind is None:
            i += 1
            continue
        if start < i:
            yield "code", sql[start:i]
        yield kind, sql[i:end]
        i = start = end
    if start < n:
        yield "code", sql[start:]


def _ident(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _find(sql: str, needle: str, start: int) -> int:
    pos = sql.find(needle, start)
    return len(sql) if pos < 0 else pos


def _block_comment_end(sql: str, i: int) -> int:
    depth, j = 0, i
    while j < len(sql):
        if sql.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif sql.startswith("*/", j):
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j
        else:
            j += 1
    return len(sql)


def _quote_end(sql: str, i: int, quote: str, *, backslash: bool) -> int:
    j = i + 1
    while j < len(sql):
        if backslash and sql[j] == "\\":
            j += 2
        elif sql[j] == quote:
            if sql.startswith(quote * 2, j):
                j += 2
            else:
                return j + 1
        else:
            j += 1
    return len(sql)


def strip_comments(sql: str) -> str:
    """`sql` with every `--` and `/* */` comment replaced by a space (strings kept)."""
    return "".join(" " if kind == "comment" else text for kind, text in _segments(sql))


def _first_word(text: str) -> str:
    match = re.match(r"[\s(]*([A-Za-z_]+)", text)
    return match.group(1).lower() if match else ""


_EXPLAIN_PREFIX = re.compile(
    r"\s*explain\s+(?:analy[sz]e\s+)?(?:\((?:[^()']|'[^']*')*\)\s*)?", re.IGNORECASE
)


# ---------------------------------------------------------------------------------------------
# Checks


def _role_rank(role: str) -> int:
    if role not in ROLE_ORDER:
        raise SandboxRefusal(f"unknown role {role!r}; expected one of {', '.join(ROLE_ORDER)}")
    return ROLE_ORDER.index(role)


def _check_statement(con: duckdb.DuckDBPyConnection, text: str) -> tuple[str, str]:
    """(statement type, text to run); refuses anything but one read statement."""
    try:
        statements = con.extract_statements(text)
    except (duckdb.Error, ValueError) as exc:
        raise SandboxRefusal(f"the query does not parse: {_first_line(exc)}") from exc
    if len(statements) != 1:
        raise SandboxRefusal(
            f"one statement at a time: this text holds {len(statements)} statements"
        )
    kind = statements[0].type.name
    word = _first_word(text)
    if kind not in READ_STATEMENT_TYPES or word not in READ_KEYWORDS:
        shown = word.upper() or kind
        raise SandboxRefusal(
            f"only read queries are allowed (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN, SUMMARIZE, "
            f"PIVOT), not {shown}"
        )
    if kind == "MULTI" and word not in {"pivot", "unpivot", "pivot_wider", "pivot_longer"}:
        raise SandboxRefusal(f"only read queries are allowed, not {word.upper()}")
    return kind, text


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _unquote(name: str) -> str:
    return name.strip().strip('"').lower()


def _syntax_reads(con: duckdb.DuckDBPyConnection, select_text: str) -> tuple[set[str], set[str],
                                                                             set[str]]:
    """(table functions, all function names, table names) named in a SELECT's syntax tree."""
    raw = con.execute("SELECT json_serialize_sql($q)", {"q": select_text}).fetchall()[0][0]
    tree = json.loads(raw)
    if tree.get("error"):
        raise SandboxRefusal(f"the query cannot be checked: {tree.get('error_message')}")
    table_functions: set[str] = set()
    functions: set[str] = set()
    tables: set[str] = set()
    for node in _walk(tree):
        if node.get("type") == "TABLE_FUNCTION" and isinstance(node.get("function"), dict):
            table_functions.add(_unquote(node["function"].get("function_name", "")))
        if node.get("class") == "FUNCTION" and "function_name" in node:
            functions.add(_unquote(node["function_name"]))
        if node.get("type") in {"BASE_TABLE", "SHOW_REF"} and node.get("table_name"):
            tables.add(_unquote(node["table_name"]))
    return table_functions, functions, tables


def _plan_reads(con: duckdb.DuckDBPyConnection, text: str) -> tuple[set[str], set[str]]:
    """(scanned tables, table functions) in the physical plan of `text`."""
    rows = con.execute(f"EXPLAIN (FORMAT json) {text}").fetchall()
    tables: set[str] = set()
    functions: set[str] = set()
    for _, plan in rows:
        for node in _walk(json.loads(plan)):
            info = node.get("extra_info")
            if not isinstance(info, dict):
                continue
            if isinstance(info.get("Table"), str):
                tables.add(info["Table"].split(".")[-1].strip('"').lower())
            if isinstance(info.get("Function"), str):
                functions.add(info["Function"].lower())
    return tables, functions


def customer_level_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """`CUSTOMER_LEVEL_TABLES` plus every table or view with a customer id column."""
    rows = con.execute(
        "SELECT DISTINCT lower(table_name) FROM duckdb_columns() "
        "WHERE database_name = $db AND lower(column_name) IN ('customer_id', 'customer_code')",
        {"db": WAREHOUSE_CATALOG},
    ).fetchall()
    return set(CUSTOMER_LEVEL_TABLES) | {r[0] for r in rows}


def _refuse_functions(table_functions: Iterable[str], functions: Iterable[str]) -> None:
    for name in sorted(table_functions):
        if name not in ALLOWED_TABLE_FUNCTIONS:
            raise SandboxRefusal(
                f"table function {name}() is not allowed in the SQL workbench "
                "(no file, network or settings access; query the warehouse tables)"
            )
    for name in sorted(functions):
        if name in DENIED_FUNCTIONS:
            raise SandboxRefusal(f"function {name}() is not allowed in the SQL workbench")


def _refuse_tables(tables: Iterable[str], restricted: set[str], role: str) -> None:
    hidden = sorted(set(tables) & restricted)
    if hidden:
        raise SandboxRefusal(
            f"role {role!r} may not read customer-level data ({', '.join(hidden)}); "
            f"ask for the {CUSTOMER_DATA_ROLE} role"
        )


def check_query(con: duckdb.DuckDBPyConnection, text: str, role: str) -> str:
    """Refuse `text` unless it is one read statement reading only what `role` may; the SQL to run.

    The EXPLAIN'ed statement of an EXPLAIN is checked the same way. A PIVOT without an IN list
    (parsed as MULTI) has no syntax tree: its called names are checked against
    `DENIED_FUNCTIONS`, and its plan like any other query.
    """
    kind, text = _check_statement(con, text)
    if kind == "EXPLAIN":
        prefix = _EXPLAIN_PREFIX.match(text)
        inner = text[prefix.end():] if prefix else ""
        if not inner.strip() or _first_word(inner) == "explain":
            raise SandboxRefusal("EXPLAIN must be followed by one read query")
        check_query(con, inner, role)
        return text
    restricted = (
        customer_level_tables(con)
        if _role_rank(role) < _role_rank(CUSTOMER_DATA_ROLE) else set()
    )
    if kind == "MULTI":  # PIVOT without an IN list: no syntax tree, so check the words
        _refuse_functions((), _called_names(text))
    else:
        table_functions, functions, syntax_tables = _syntax_reads(con, text)
        _refuse_functions(table_functions, functions)
        _refuse_tables(syntax_tables, restricted, role)
    plan_tables, plan_functions = _plan_reads(con, text)
    _refuse_functions({f for f in plan_functions if f not in _PLAN_OPERATOR_FUNCTIONS}, ())
    _refuse_tables(plan_tables, restricted, role)
    return text


def _called_names(text: str) -> set[str]:
    """Lower-cased names written as `name(` outside strings and comments (quoted names too)."""
    names: set[str] = set()
    code = "".join(
        part if kind == "code" else (f" {_unquote(part)} " if kind == "quoted" else " ''")
        for kind, part in _segments(text)
    )
    for match in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", code):
        names.add(match.group(1).lower())
    return names


#: Names the plan shows under "Function" that are operators, not table functions.
_PLAN_OPERATOR_FUNCTIONS = frozenset({"column_data_scan", "seq_scan", "chunk_scan"})


# ---------------------------------------------------------------------------------------------
# Running


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_sandbox(db: str | os.PathLike[str] | None) -> duckdb.DuckDBPyConnection:
    """The locked-down connection a sandboxed query runs on (the last line of defence).

    A private in-memory DuckDB instance with the warehouse attached READ_ONLY as its default
    database, external access off, no extension autoload, `SANDBOX_CONFIG` limits, and the
    configuration locked. Caller closes it.
    """
    try:
        con, _ = open_snapshot(db, config=SANDBOX_CONFIG)
    except WarehouseError as exc:
        raise SandboxRefusal(str(exc)) from exc
    try:
        for statement in _LOCK_SETTINGS:
            con.execute(statement).fetchall()
    except BaseException:
        con.close()
        raise
    return con


def _fetch_capped(
    con: duckdb.DuckDBPyConnection, text: str, max_rows: int
) -> tuple[pl.DataFrame, bool]:
    relation = con.sql(text)
    if relation is None:
        return pl.DataFrame(), False
    reader = relation.to_arrow_reader(min(max(max_rows + 1, 1), 65_536))
    batches: list[pa.RecordBatch] = []
    rows = 0
    for batch in reader:
        batches.append(batch)
        rows += batch.num_rows
        if rows > max_rows:
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    table = table.rename_columns(unique_names(table.column_names))
    truncated = table.num_rows > max_rows
    frame = pl.from_arrow(table.slice(0, max_rows))
    assert isinstance(frame, pl.DataFrame)
    return frame, truncated


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique for a frame: a repeated `x` becomes `x_2`, `x_3`, ..."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def run_sandboxed(
    db: str | os.PathLike[str] | None, sql: str | bytes, *, max_rows: int = 1000,
    timeout_s: float = 30.0, role: str = "analyst",
) -> QueryResult:
    """Run one read-only query of an analyst on a locked-down snapshot of the warehouse.

    Args:
        db: warehouse path (see `warehouse.db.resolve_db_path`).
        sql: the query text (bytes must be UTF-8).
        max_rows: most rows returned (>= 0); `truncated` says whether more existed.
        timeout_s: wall-clock seconds (> 0) after which checks and query are interrupted.
        role: one of `ROLE_ORDER`; roles below analyst may not read customer-level tables.

    Returns:
        QueryResult(frame, truncated, elapsed_s).

    Raises:
        SandboxRefusal: the query was refused or stopped; the message says why.
    """
    if max_rows < 0:
        raise SandboxRefusal(f"max_rows must be >= 0, got {max_rows}")
    if not timeout_s > 0:
        raise SandboxRefusal(f"timeout_s must be > 0, got {timeout_s}")
    _role_rank(role)
    text = clean_text(sql)
    start = time.perf_counter()
    con = open_sandbox(db)
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.daemon = True
    try:
        timer.start()
        to_run = check_query(con, text, role)
        frame, truncated = _fetch_capped(con, to_run, max_rows)
    except SandboxRefusal:
        raise
    except duckdb.InterruptException as exc:
        raise SandboxRefusal(f"query stopped after the {timeout_s:g} s time limit") from exc
    except duckdb.OutOfMemoryException as exc:
        raise SandboxRefusal(
            f"query stopped: it needs more than the {SANDBOX_CONFIG['memory_limit']} memory limit"
        ) from exc
    except duckdb.PermissionException as exc:
        raise SandboxRefusal(f"not allowed in the SQL workbench: {_first_line(exc)}") from exc
    except duckdb.Error as exc:
        if time.perf_counter() - start >= timeout_s:
            raise SandboxRefusal(f"query stopped after the {timeout_s:g} s time limit") from exc
        raise SandboxRefusal(f"query failed: {_first_line(exc)}") from exc
    except (ValueError, TypeError, OverflowError, RecursionError, pa.ArrowException) as exc:
        raise SandboxRefusal(f"query failed: {_first_line(exc)}") from exc
    finally:
        timer.cancel()
        con.close()
    return QueryResult(frame, truncated, time.perf_counter() - start)
