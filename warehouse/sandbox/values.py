"""Result values every consumer can show: dates and times outside Python's range become text.

DuckDB dates and timestamps reach far beyond Python's years 1..9999 (`'infinity'::DATE`,
`'290309-12-22 (BC)'::TIMESTAMP`, year 20000). Arrow and polars store them, but turning them into
Python values (printing a frame, `rows()`, JSON for the HTTP API) raises, or panics inside
polars (a `BaseException` no `except Exception` catches). A column holding such a value, at any
depth of lists, maps and structs, is therefore sent as DuckDB's own text of it (`infinity`).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

#: Days from 1970-01-01 to 0001-01-02 and to 9999-12-30: one day inside Python's date range at
#: each end, so that a time zone shift cannot step outside it.
SAFE_DAYS = (-719_161, 2_932_895)
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _leaves(array: pa.Array) -> Iterator[pa.Array]:
    """The non-nested arrays inside `array` (list, map, struct, union and dictionary contents)."""
    kind = array.type
    if pa.types.is_map(kind):
        yield from _leaves(array.keys)
        yield from _leaves(array.items)
    elif (
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    ):
        yield from _leaves(array.flatten())
    elif pa.types.is_struct(kind) or pa.types.is_union(kind):
        for i in range(kind.num_fields):
            yield from _leaves(array.field(i))
    elif pa.types.is_dictionary(kind):
        yield from _leaves(array.dictionary)
    else:
        yield array


def out_of_python_range(array: pa.Array) -> bool:
    """True when `array` holds a date or timestamp outside `SAFE_DAYS`, at any nesting depth."""
    for leaf in _leaves(array):
        kind = leaf.type
        if pa.types.is_date32(kind):
            scale, ints = 1, pa.int32()
        elif pa.types.is_date64(kind):
            scale, ints = 86_400_000, pa.int64()
        elif pa.types.is_timestamp(kind):
            scale, ints = 86_400 * _PER_SECOND[kind.unit], pa.int64()
        else:
            continue
        bounds = pc.min_max(leaf.cast(ints))
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is not None and (low < SAFE_DAYS[0] * scale or high > SAFE_DAYS[1] * scale):
            return True
    return False


def times_as_text(con: duckdb.DuckDBPyConnection, table: pa.Table) -> pa.Table:
    """`table` with each column that holds an out-of-range date or time cast to DuckDB's text."""
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if not any(out_of_python_range(chunk) for chunk in column.chunks):
            continue
        text = (
            con.from_arrow(pa.table({"v": column}))
            .select("CAST(v AS VARCHAR) AS v")
            .to_arrow_table()
            .column(0)
        )
        table = table.set_column(i, pa.field(name, pa.string()), text)
    return table
