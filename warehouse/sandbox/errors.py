"""Safe messages for database errors: the class of the error, never text that can hold data.

DuckDB error texts can carry data: `error(x)` raises `x`, a failed cast prints the value, a PIVOT
without an IN list runs a query while planning, a binder error lists candidate columns. So the
message shown is built from the error's class only, plus names that the user's own query text
already contains. The full text goes to the `shelfwise.sandbox` logger (the server side) with a
short reference that the shown message carries.
"""

from __future__ import annotations

import builtins
import logging
import re
import secrets

from warehouse.sandbox.policy import SANDBOX_CONFIG

LOG = logging.getLogger("shelfwise.sandbox")

_KINDS: dict[str, str] = {
    "ConversionException": "a value could not be converted to the type asked for",
    "InvalidInputException": "invalid input to a function or operator",
    "OutOfRangeException": "a value is out of range for its type",
    "TypeMismatchException": "the types of an expression do not match",
    "NotImplementedException": "the query uses something DuckDB does not support here",
    "SyntaxException": "a syntax error",
    "DependencyException": "a dependency error",
    "ConstraintException": "a constraint error",
    "SequenceException": "a sequence error",
    "IOException": "an input/output error",
    "HTTPException": "a network error",
}
_NAME_KINDS = frozenset({"CatalogException", "BinderException"})
#: Python's own exceptions (TypeError, KeyError, ...): a fault of the workbench, not the query's.
_INTERNAL_KINDS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Words that appear in DuckDB's messages and in most queries: never treated as names.
_COMMON_WORDS = frozenset(
    {
        "select",
        "from",
        "where",
        "with",
        "as",
        "on",
        "and",
        "or",
        "not",
        "in",
        "is",
        "null",
        "by",
        "group",
        "order",
        "limit",
        "join",
        "table",
        "name",
        "column",
        "function",
        "does",
        "exist",
        "the",
        "a",
        "an",
        "to",
        "of",
        "for",
        "did",
        "you",
        "mean",
        "type",
        "types",
        "values",
        "value",
        "using",
        "having",
        "case",
        "when",
        "then",
        "else",
        "end",
        "cast",
        "distinct",
        "all",
        "any",
        "referenced",
        "found",
        "candidate",
        "bindings",
        "error",
        "catalog",
        "binder",
        "must",
        "appear",
        "clause",
        "be",
        "used",
        "aggregate",
        "into",
        "line",
        "no",
        "could",
        "find",
        "explain",
        "pivot",
        "unpivot",
        "describe",
        "summarize",
        "show",
        "true",
        "false",
        "list",
    }
)


def time_limit_message(timeout_s: float) -> str:
    """The message of a query stopped at its time limit."""
    return f"query stopped after the {timeout_s:g} s time limit"


def memory_limit_message() -> str:
    """The message of a query stopped at the memory limit."""
    return f"query stopped: it needs more than the {SANDBOX_CONFIG['memory_limit']} memory limit"


def _names_from_query(message: str, query: str) -> list[str]:
    written = {w.lower() for w in _WORD.findall(query)}
    names: list[str] = []
    for word in _WORD.findall(message):
        low = word.lower()
        if low in written and low not in _COMMON_WORDS and low not in names:
            names.append(low)
    return names[:5]


def safe_message(kind: str, full_text: str, query: str, timeout_s: float) -> str:
    """One line for the user from an error class name and its full text (which is only logged).

    Args:
        kind: the exception class name (e.g. "ConversionException").
        full_text: the database's message; logged, never shown.
        query: the user's query text; names it contains may be repeated in the message.
        timeout_s: the time limit the query ran under.
    """
    if kind == "InterruptException":
        return time_limit_message(timeout_s)
    if kind in {"OutOfMemoryException", "MemoryError"}:
        return memory_limit_message()
    if kind == "PermissionException":
        return "not allowed in the SQL workbench (no file, network, settings or write access)"
    ref = secrets.token_hex(4)
    LOG.warning(
        "sandbox query failed [ref %s] %s: %s | query: %.2000s", ref, kind, full_text, query
    )
    if kind in _INTERNAL_KINDS:
        return (
            "query failed: the SQL workbench could not check or run it (an internal error, not "
            f"a fault of the query; please report ref {ref}, details in the server log)"
        )
    if kind == "ParserException":
        return f"the query does not parse (details in the server log, ref {ref})"
    if kind in _NAME_KINDS:
        names = _names_from_query(full_text, query)
        shown = f" ({', '.join(names)})" if names else ""
        return (
            f"query failed: unknown or misused table, column or function{shown}; "
            f"details in the server log, ref {ref}"
        )
    what = _KINDS.get(kind, "the database refused it")
    return (
        f"query failed: {what} (the database's message is not shown because it can contain "
        f"data; details in the server log, ref {ref})"
    )
