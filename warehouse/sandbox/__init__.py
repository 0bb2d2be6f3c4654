"""The SQL sandbox behind the SQL workbench page and `python -m warehouse sql`.

A query runs only if every layer agrees; each refusal is one clear line (`SandboxRefusal`):

1. Arguments (`policy`): `timeout_s` in (0, 300] and finite, `max_rows` >= 0, a known role.
2. Text (`text`): valid UTF-8, no NUL, at most `MAX_QUERY_CHARS`, comments stripped.
3. Parser (`checks`): exactly one statement whose type is a read kind and whose first keyword is
   SELECT / WITH / FROM / VALUES / TABLE / DESCRIBE / SHOW / SUMMARIZE / PIVOT / UNPIVOT /
   EXPLAIN (the statement under EXPLAIN, found with DuckDB's own tokenizer, is checked the same
   way; EXPLAIN options may hold only plain words).
4. Syntax tree (`checks`): table functions only from `ALLOWED_TABLE_FUNCTIONS`, no function in
   `DENIED_FUNCTIONS`, no literal size above `MAX_CONSTANT_SIZE` in list/string builders, `SHOW x`
   only of a table or view (not of a setting), and for roles below analyst no customer-level
   table. A PIVOT without an IN list is checked by DuckDB's tokens (names in strings included)
   before it is planned.
5. Plan (`checks`, `EXPLAIN (FORMAT json)`): every scanned table and table function.
6. Process (`run`, `child`): the query runs in a child process with a hard address-space cap,
   no file writes, killed at the time limit; DuckDB's own `memory_limit`, `threads`, external
   access off and a locked configuration inside it.
7. Errors (`errors`): the user sees the class of a database error, never its text (logged).
8. Results (`values`): a column holding a date or time Python cannot hold (`'infinity'::DATE`,
   year 20000) comes back as DuckDB's text of it, so printing it or sending it as JSON works.
"""

from warehouse.sandbox.checks import check_query, customer_level_tables, identifiers
from warehouse.sandbox.child import fetch_capped, open_sandbox, unique_names
from warehouse.sandbox.errors import safe_message
from warehouse.sandbox.policy import (
    ALLOWED_TABLE_FUNCTIONS,
    CUSTOMER_COLUMNS,
    CUSTOMER_DATA_ROLE,
    CUSTOMER_LEVEL_TABLES,
    DENIED_FUNCTIONS,
    MAX_CONSTANT_SIZE,
    MAX_QUERY_CHARS,
    MAX_TIMEOUT_S,
    MEMORY_LIMIT_BYTES,
    READ_KEYWORDS,
    READ_STATEMENT_TYPES,
    ROLE_ORDER,
    SANDBOX_CONFIG,
    SIZED_FUNCTIONS,
    QueryResult,
    SandboxRefusal,
    validate_timeout,
)
from warehouse.sandbox.run import run_batch, run_sandboxed, warm_up
from warehouse.sandbox.text import clean_text, strip_comments
from warehouse.sandbox.tokens import called_names, tokenize

__all__ = [
    "ALLOWED_TABLE_FUNCTIONS",
    "CUSTOMER_COLUMNS",
    "CUSTOMER_DATA_ROLE",
    "CUSTOMER_LEVEL_TABLES",
    "DENIED_FUNCTIONS",
    "MAX_CONSTANT_SIZE",
    "MAX_QUERY_CHARS",
    "MAX_TIMEOUT_S",
    "MEMORY_LIMIT_BYTES",
    "READ_KEYWORDS",
    "READ_STATEMENT_TYPES",
    "ROLE_ORDER",
    "SANDBOX_CONFIG",
    "SIZED_FUNCTIONS",
    "QueryResult",
    "SandboxRefusal",
    "called_names",
    "check_query",
    "clean_text",
    "customer_level_tables",
    "fetch_capped",
    "identifiers",
    "open_sandbox",
    "run_batch",
    "run_sandboxed",
    "safe_message",
    "strip_comments",
    "tokenize",
    "unique_names",
    "validate_timeout",
    "warm_up",
]
