"""The sandbox's checks, all before any part of the query runs: statement kind, syntax tree, plan.

Order for one query: parse (`extract_statements`) -> syntax tree (`json_serialize_sql`: table
functions, denied functions, literal sizes of list/string builders, `SHOW name` only of a table or
view (of a setting it reads the setting), customer-level tables) -> plan (`EXPLAIN (FORMAT json)`:
scans and table functions behind views). A PIVOT without an IN list (MULTI) has no syntax tree and
DuckDB runs part of it while planning, so before its plan is asked for, its text is checked token
by token (DuckDB's own tokenizer, `tokens`): denied names, table functions outside the allowed
list, no SHOW, literal sizes, and for roles below analyst every table or view name it mentions,
in strings too (`FROM 'fct_sales'` names a table), views expanded through their definitions.
(Checking after the plan is too late: the part DuckDB ran while planning shows in which error
comes back, one bit per query.) The statement under an EXPLAIN is found with the same tokens.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import duckdb

from warehouse.db import WAREHOUSE_CATALOG
from warehouse.sandbox.policy import (
    ALLOWED_TABLE_FUNCTIONS,
    CUSTOMER_DATA_ROLE,
    CUSTOMER_LEVEL_TABLES,
    DENIED_FUNCTIONS,
    MAX_CONSTANT_SIZE,
    READ_KEYWORDS,
    READ_STATEMENT_TYPES,
    SIZED_FUNCTIONS,
    SandboxRefusal,
    role_rank,
)
from warehouse.sandbox.text import first_word
from warehouse.sandbox.tokens import (
    called_names,
    explain_inner,
    keywords,
    numbers,
    table_strings,
)

_PIVOT_WORDS = frozenset({"pivot", "unpivot", "pivot_wider", "pivot_longer"})
#: Names the plan shows under "Function" that are operators, not table functions.
_PLAN_OPERATOR_FUNCTIONS = frozenset({"column_data_scan", "seq_scan", "chunk_scan"})
#: Python recursion limit while decoding a syntax tree or plan (a few levels per SQL level).
_JSON_RECURSION_LIMIT = 20_000
#: Characters of a file path or name that no warehouse table name has.
_PATH_CHARS = frozenset("/\\.:~")
#: Keywords after which a string is a table reference (a replacement scan of a file path).
_TABLE_KEYWORDS = frozenset({"from", "join", "pivot", "unpivot", "describe", "summarize", "show"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def check_statement(con: duckdb.DuckDBPyConnection, text: str) -> str:
    """The statement type of `text`; refuses anything but exactly one read statement."""
    try:
        statements = con.extract_statements(text)
    except (duckdb.Error, ValueError) as exc:
        raise SandboxRefusal(f"the query does not parse: {_first_line(exc)}") from exc
    if len(statements) != 1:
        raise SandboxRefusal(
            f"one statement at a time: this text holds {len(statements)} statements"
        )
    kind = statements[0].type.name
    word = first_word(text)
    if kind not in READ_STATEMENT_TYPES or word not in READ_KEYWORDS:
        shown = word.upper() or kind
        raise SandboxRefusal(
            f"only read queries are allowed (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN, SUMMARIZE, "
            f"PIVOT), not {shown}"
        )
    if kind == "MULTI" and word not in _PIVOT_WORDS:
        raise SandboxRefusal(
            "a PIVOT without an IN list must be the whole query (or give it an IN list)"
        )
    return kind


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict in a JSON tree, parents before children (a loop: trees can be deep)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item  # the caller may mark children before they are visited
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _load_json(raw: str) -> Any:
    """`json.loads` with room for DuckDB's deepest trees (its expression depth limit is 1000)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _JSON_RECURSION_LIMIT))
    try:
        return json.loads(raw)
    except RecursionError:
        raise SandboxRefusal("the query is nested too deeply to be checked; simplify it") from None
    finally:
        sys.setrecursionlimit(limit)


def _unquote(name: str) -> str:
    return name.strip().strip('"').lower()


def _literal_size(node: dict[str, Any]) -> float | None:
    literal = node.get("literal")
    if isinstance(literal, dict) and isinstance(literal.get("text"), str):
        try:
            return abs(float(literal["text"].replace("_", "")))
        except ValueError:
            return None
    value = node.get("value")
    if isinstance(value, dict) and isinstance(value.get("value"), int | float):
        return abs(float(value["value"]))
    return None


def _refuse_size(name: str, size: float) -> None:
    if size > MAX_CONSTANT_SIZE:
        raise SandboxRefusal(
            f"{name}() with a size of {size:,.0f} is refused: the SQL workbench allows at most "
            f"{MAX_CONSTANT_SIZE:,} (such values are built before the memory limit applies)"
        )


def syntax_reads(
    con: duckdb.DuckDBPyConnection, select_text: str
) -> tuple[set[str], set[str], set[str], set[str]]:
    """(table functions, all function names, table names, SHOW targets) in a SELECT's syntax tree.

    SHOW targets are the names of `SHOW name` (a table or view, or else a DuckDB setting).
    Also refuses a literal size above `MAX_CONSTANT_SIZE` inside a `SIZED_FUNCTIONS` call.
    """
    raw = con.execute("SELECT json_serialize_sql($q)", {"q": select_text}).fetchall()[0][0]
    tree = _load_json(raw)
    if tree.get("error"):
        raise SandboxRefusal("the query cannot be checked (its syntax tree is not available)")
    table_functions: set[str] = set()
    functions: set[str] = set()
    tables: set[str] = set()
    shown: set[str] = set()
    for node in _walk(tree):
        if node.get("type") == "TABLE_FUNCTION" and isinstance(node.get("function"), dict):
            table_functions.add(_unquote(node["function"].get("function_name", "")))
            node["function"]["_table_function"] = True
        if node.get("class") == "FUNCTION" and "function_name" in node:
            name = _unquote(node["function_name"])
            functions.add(name)
            if name in SIZED_FUNCTIONS and not node.get("_table_function"):
                for inner in _walk(node.get("arguments", node.get("children", []))):
                    size = _literal_size(inner) if inner.get("class") == "CONSTANT" else None
                    if size is not None:
                        _refuse_size(name, size)
        # "type" also names a constant's type (a dict: `USING SAMPLE 3`), so compare, not hash
        if node.get("type") in ("BASE_TABLE", "SHOW_REF") and node.get("table_name"):
            refuse_path(node["table_name"])
            tables.add(_unquote(node["table_name"]))
            if node.get("show_type") == "SHOW":
                shown.add(_unquote(node["table_name"]))
    return table_functions, functions, tables, shown


def plan_reads(con: duckdb.DuckDBPyConnection, text: str) -> tuple[set[str], set[str]]:
    """(scanned tables, table functions) in the physical plan of `text`."""
    rows = con.execute(f"EXPLAIN (FORMAT json) {text}").fetchall()
    tables: set[str] = set()
    functions: set[str] = set()
    for _, plan in rows:
        for node in _walk(_load_json(plan)):
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


def refuse_functions(table_functions: Iterable[str], functions: Iterable[str]) -> None:
    """Refuse a table function outside the allowed list or any denied function."""
    for name in sorted(table_functions):
        if name not in ALLOWED_TABLE_FUNCTIONS:
            raise SandboxRefusal(
                f"table function {name}() is not allowed in the SQL workbench "
                "(no file, network or settings access; query the warehouse tables)"
            )
    for name in sorted(functions):
        if name in DENIED_FUNCTIONS:
            raise SandboxRefusal(f"function {name}() is not allowed in the SQL workbench")


def refuse_path(name: str) -> None:
    """Refuse a table name that is a file path (`FROM '/x/y.duckdb'` is a replacement scan).

    DuckDB's external access setting stops other files, but the warehouse file itself opened
    while planning, and the error then told whether a guessed path was the warehouse's.
    """
    if any(ch in name for ch in _PATH_CHARS):
        raise SandboxRefusal(
            "a file path in FROM is not allowed: the SQL workbench reads only warehouse tables"
        )


def refuse_settings(con: duckdb.DuckDBPyConnection, shown: Iterable[str]) -> None:
    """Refuse `SHOW name` unless `name` is a table or view (`SHOW setting` reads a setting)."""
    names = set(shown)
    if not names:
        return
    relations = {
        r[0]
        for r in con.execute(
            "SELECT lower(table_name) FROM duckdb_tables() "
            "UNION ALL SELECT lower(view_name) FROM duckdb_views()"
        ).fetchall()
    }
    for name in sorted(names - relations):
        raise SandboxRefusal(
            f"SHOW {name}: only tables and views can be shown in the SQL workbench "
            "(settings are not readable)"
        )


def refuse_tables(tables: Iterable[str], restricted: set[str], role: str) -> None:
    """Refuse when `tables` names a table `role` may not read."""
    hidden = sorted(set(tables) & restricted)
    if hidden:
        raise SandboxRefusal(
            f"role {role!r} may not read customer-level data ({', '.join(hidden)}); "
            f"ask for the {CUSTOMER_DATA_ROLE} role"
        )


def check_query(con: duckdb.DuckDBPyConnection, text: str, role: str) -> str:
    """Refuse `text` unless it is one read statement reading only what `role` may; the SQL to run.

    The EXPLAIN'ed statement of an EXPLAIN is checked the same way. A PIVOT without an IN list
    (parsed as MULTI) is checked from its words before its plan is built (see the module doc).
    """
    kind = check_statement(con, text)
    if kind == "EXPLAIN":
        inner = explain_inner(text, READ_KEYWORDS) or ""
        if not inner.strip() or first_word(inner) == "explain":
            raise SandboxRefusal(
                "EXPLAIN must be followed by one read query (options only as plain words, "
                "e.g. EXPLAIN (FORMAT json) SELECT ...)"
            )
        check_query(con, inner, role)
        return text
    restricted = (
        customer_level_tables(con) if role_rank(role) < role_rank(CUSTOMER_DATA_ROLE) else set()
    )
    if kind == "MULTI":  # PIVOT without an IN list: no syntax tree, so check the words
        _check_pivot_words(con, text, restricted, role)
    else:
        table_functions, functions, syntax_tables, shown = syntax_reads(con, text)
        refuse_functions(table_functions, functions)
        refuse_settings(con, shown)
        refuse_tables(syntax_tables, restricted, role)
    plan_tables, plan_functions = plan_reads(con, text)
    refuse_functions({f for f in plan_functions if f not in _PLAN_OPERATOR_FUNCTIONS}, ())
    refuse_tables(plan_tables, restricted, role)
    return text


def identifiers(text: str) -> set[str]:
    """Every lower-cased word of `text`, in strings and quoted names too (a superset of its names:
    DuckDB reads `FROM 'fct_sales'` as the table fct_sales)."""
    return {m.group(0).lower() for m in _WORD.finditer(text)}


def _table_only_functions(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Lower-cased names that are only table functions or table macros (no scalar of that name)."""
    rows = con.execute(
        "SELECT lower(function_name) FROM duckdb_functions() GROUP BY 1 "
        "HAVING bool_and(function_type IN ('table', 'table_macro'))"
    ).fetchall()
    return {r[0] for r in rows}


def _check_pivot_words(
    con: duckdb.DuckDBPyConnection, text: str, restricted: set[str], role: str
) -> None:
    if "show" in keywords(text):
        raise SandboxRefusal(
            "SHOW inside a PIVOT without an IN list is not allowed (give the PIVOT an IN list)"
        )
    for name in table_strings(text, _TABLE_KEYWORDS):
        refuse_path(name)
    names = called_names(text)
    refuse_functions(names & _table_only_functions(con), names)
    if names & SIZED_FUNCTIONS:
        for size in numbers(text):
            _refuse_size(sorted(names & SIZED_FUNCTIONS)[0], size)
    if not restricted:
        return
    views = {
        name.lower(): sql
        for name, sql in con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE database_name = $db",
            {"db": WAREHOUSE_CATALOG},
        ).fetchall()
    }
    seen: set[str] = set()
    pending = identifiers(text)
    while pending:  # expand views through their definitions (bounded by the number of views)
        refuse_tables(pending, restricted, role)
        seen |= pending
        pending = {
            word for name in pending & set(views) for word in identifiers(views[name] or "")
        } - seen
