"""Batch lists for merchandisers: a file (csv, xlsx, parquet) and the `recommendations` table.

The lists themselves come from `recsys.batch` (the one ranking path of `recsys.lists`).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import polars as pl

from recsys.errors import RecsysError
from warehouse.db import reading, table_exists, writing
from warehouse.files import write_frame_atomic
from warehouse.load import sniff_separator

#: Header names of the id column of an uploaded customer list (compared lower-case, `_` for spaces).
ID_COLUMNS = ("customer_id", "customer_code", "customer")

FORMATS = (".csv", ".xlsx", ".parquet")
TABLE = "recommendations"


def has_recommendations(db: str | os.PathLike[str]) -> bool:
    """Whether the warehouse has a `recommendations` table (an empty one counts as written)."""
    if not Path(db).exists():
        return False
    with reading(db) as con:
        return table_exists(con, TABLE)


def read_customer_file(path: str | os.PathLike[str]) -> list[str]:
    """Customer ids from a file (see `customer_ids_from_bytes`)."""
    file = Path(path)
    if not file.is_file():
        raise RecsysError(f"{file}: customers file not found")
    return list(customer_ids_from_bytes(file.read_bytes(), str(file)))


def customer_ids_from_bytes(data: bytes, source: str) -> tuple[str, ...]:
    """The customer ids of a list file, in order, each once.

    A CSV (separator `,` `;` tab or `|`, read from its first line; a spreadsheet's byte-order
    mark dropped) whose header names the id column (`customer_id`, `Customer ID`,
    `customer_code` or `customer`, any case), or a file of one id per line (the first field of
    each line). Blank lines are skipped. Raises RecsysError naming `source` (and the line) when
    the text is not UTF-8 or holds no id.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RecsysError(f"{source}: line {line} is not UTF-8 text") from None
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=sniff_separator(data)) if any(r)]
    if not rows:
        raise RecsysError(f"{source}: no customer ids")
    names = [c.strip().lower().replace(" ", "_") for c in rows[0]]
    column = next((names.index(n) for n in ID_COLUMNS if n in names), None)
    body = rows[1:] if column is not None else rows
    ids = [r[column or 0].strip() for r in body if len(r) > (column or 0)]
    unique = tuple(dict.fromkeys(i for i in ids if i))
    if not unique:
        raise RecsysError(f"{source}: no customer ids")
    return unique


def write_file(frame: pl.DataFrame, out: str | os.PathLike[str], *, raw_csv: bool = False) -> Path:
    """Write .csv, .xlsx or .parquet atomically (temp file + rename); CSV neutralised unless raw."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise RecsysError(
            f"--out {path}: unsupported format {suffix or '(none)'}; "
            f"use one of {', '.join(FORMATS)}"
        )
    if suffix == ".xlsx" and frame.height > 1_048_575:
        raise RecsysError(
            f"--out {path}: {frame.height:,} rows exceed an Excel sheet; use .csv or .parquet"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_frame_atomic(frame, path, sheet="recommendations", raw_csv=raw_csv)
    return path


def write_table(db: str | os.PathLike[str] | None, frame: pl.DataFrame) -> int:
    """Replace the `recommendations` table in one atomic write; returns the row count."""
    with writing(db) as con:
        con.register("recommendations_frame", frame.to_arrow())
        try:
            con.execute(_table_sql()).fetchall()
        finally:
            con.unregister("recommendations_frame")
    return frame.height


def _table_sql() -> str:
    from warehouse.db import sql_text

    return sql_text("recsys/write_recommendations")
