"""A bounded random generator of SQL statements over DuckDB's grammar and function list.

Used by `tests/test_sandbox_fuzz.py`: statements mix every function of `duckdb_functions()`
with literals (tiny, huge, negative, strings, lists, NULL), warehouse columns and tables
(customer-level ones included), clauses (WHERE, GROUP BY, ORDER BY, LIMIT, CTEs, subqueries,
PIVOT, UNPIVOT, EXPLAIN, DESCRIBE, SUMMARIZE) and hostile fragments (writes, ATTACH, COPY, SET,
stacked statements, comments). Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import duckdb

TABLES = (
    "dim_customer",
    "dim_product",
    "dim_store",
    "fct_sales",
    "fct_sales_daily",
    "raw_customer",
    "raw_sales_line",
    "quarantine",
    "load_log",
    "fct_inventory",
    "dim_date",
    "recommendations",
)
COLUMNS = (
    "region",
    "customer_id",
    "segment",
    "product_id",
    "store_id",
    "units",
    "quantity",
    "unit_price",
    "sale_date",
    "orders",
    "category",
    "description",
    "*",
)
LITERALS = (
    "0",
    "1",
    "-1",
    "2",
    "10",
    "1000",
    "100000000",
    "2000000000",
    "9223372036854775807",
    "1e308",
    "'a'",
    "'%s'",
    "'2024-01-01'",
    "''",
    "NULL",
    "[1, 2, 3]",
    "[]",
    "{'a': 1}",
    "'x' || 'y'",
    "0.5",
    "-0.0",
    "'{\"a\": 1}'",
    "DATE '2024-01-01'",
    "INTERVAL 1 DAY",
    "'CANARY%'",
    "'[('",
    "TRUE",
)
HOSTILE = (
    "INSERT INTO dim_store SELECT * FROM dim_store",
    "DROP TABLE dim_customer",
    "COPY dim_customer TO '/tmp/fuzz_leak.csv'",
    "ATTACH '/tmp/fuzz.duckdb' AS f",
    "SET enable_external_access = true",
    "CREATE TABLE t AS SELECT 1",
    "DELETE FROM fct_sales",
    "UPDATE dim_customer SET region = 'x'",
    "EXPORT DATABASE '/tmp/fuzz_dump'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA version",
    "CALL duckdb_secrets()",
    "CHECKPOINT",
    "DETACH warehouse",
    "USE memory",
)


@dataclass
class Grammar:
    """Function names by kind, read from `duckdb_functions()`."""

    scalar: list[str]
    aggregate: list[str]
    table: list[str]

    @classmethod
    def load(cls) -> Grammar:
        """Every function of a plain in-memory DuckDB, by kind (sorted: deterministic)."""
        con = duckdb.connect()
        rows = con.execute(
            "SELECT DISTINCT function_name, function_type FROM duckdb_functions() "
            "WHERE function_name NOT LIKE '%\\_\\_%' ESCAPE '\\'"
        ).fetchall()
        con.close()
        by: dict[str, set[str]] = {"scalar": set(), "aggregate": set(), "table": set()}
        for name, kind in rows:
            key = {"macro": "scalar", "table_macro": "table"}.get(kind, kind)
            collation = name.startswith(("icu_collate_", "collate_"))
            if key in by and name.isidentifier() and not collation:
                by[key].add(name)
        return cls(sorted(by["scalar"]), sorted(by["aggregate"]), sorted(by["table"]))


class Generator:
    """Random statements; `statement()` returns one SQL text."""

    def __init__(self, grammar: Grammar, seed: int) -> None:
        self.g = grammar
        self.r = random.Random(seed)

    def _pick(self, items: tuple[str, ...] | list[str]) -> str:
        return items[self.r.randrange(len(items))]

    def expr(self, depth: int = 0) -> str:
        roll = self.r.random()
        if depth > 2 or roll < 0.3:
            return self._pick(LITERALS) if self.r.random() < 0.6 else self._pick(COLUMNS[:-1])
        if roll < 0.8:
            args = ", ".join(self.expr(depth + 1) for _ in range(self.r.randrange(4)))
            return f"{self._pick(self.g.scalar)}({args})"
        if roll < 0.9:
            return f"{self._pick(self.g.aggregate)}({self.expr(depth + 1)})"
        op = self._pick(("+", "*", "||", "=", "<", "AND", "::INTEGER", "::VARCHAR", "::DATE"))
        if op.startswith("::"):
            return f"({self.expr(depth + 1)}){op}"
        return f"({self.expr(depth + 1)} {op} {self.expr(depth + 1)})"

    def source(self) -> str:
        roll = self.r.random()
        if roll < 0.6:
            return self._pick(TABLES)
        if roll < 0.85:
            args = ", ".join(self._pick(LITERALS) for _ in range(self.r.randrange(3)))
            return f"{self._pick(self.g.table)}({args})"
        return f"(SELECT {self.expr()} AS c FROM {self._pick(TABLES)})"

    def select(self) -> str:
        cols = ", ".join(self.expr() for _ in range(1 + self.r.randrange(3)))
        sql = f"SELECT {cols} FROM {self.source()}"
        if self.r.random() < 0.3:
            sql += f" WHERE {self.expr()}"
        if self.r.random() < 0.2:
            sql += " GROUP BY ALL"
        if self.r.random() < 0.2:
            sql += " ORDER BY 1"
        if self.r.random() < 0.3:
            sql += f" LIMIT {self._pick(('0', '1', '10', '1000000000'))}"
        return sql

    def statement(self) -> str:
        """One random statement (mostly reads, some hostile)."""
        roll = self.r.random()
        if roll < 0.55:
            return self.select()
        if roll < 0.62:
            return f"WITH c AS ({self.select()}) SELECT * FROM c"
        if roll < 0.68:
            return (
                f"PIVOT (SELECT {self._pick(COLUMNS[:-1])} AS k, 1 AS v FROM "
                f"{self._pick(TABLES)}) ON k USING sum(v)"
            )
        if roll < 0.72:
            return f"UNPIVOT {self._pick(TABLES)} ON COLUMNS(*) INTO NAME n VALUE v"
        if roll < 0.78:
            return (
                f"{self._pick(('EXPLAIN', 'EXPLAIN ANALYZE', 'DESCRIBE', 'SUMMARIZE'))} "
                f"{self.select()}"
            )
        if roll < 0.84:
            return f"SELECT {self.expr()}"
        if roll < 0.92:
            return self._pick(HOSTILE)
        glue = self._pick(("; ", " /* ; */ ; ", "\n-- x\n; ", " UNION ALL "))
        return f"{self.select()}{glue}{self._pick(HOSTILE)}"
