"""Data generations of the warehouse and the stamps that say what each output was built from.

A *generation* is the newest load id whose rows are present in an input (sales, stock, supply,
promotions). Load ids are time-ordered, so a later load has a larger id. Every pipeline output
(model version, forecast run, plan, recommendations table...) records the generations it read in
`output_stamps`; an output is stale when the warehouse's generation of one of its inputs differs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import execute, reading, run_named, sql_text, table_exists, writing

#: The inputs whose generation is tracked, in the order reasons are given.
DATA_INPUTS: tuple[str, ...] = ("sales", "stock", "supply", "promotions", "calendar")


@dataclass(frozen=True)
class DataState:
    """The warehouse's generations now.

    Attributes:
        generations: input name -> newest load id present (None when the input is empty).
        data: newest load id of any load (None when none was logged, e.g. the demo).
        loaded_at: when the newest logged load finished (UTC, naive).
        last_sale: the last sale date in the warehouse.
    """

    generations: dict[str, str | None]
    data: str | None
    loaded_at: dt.datetime | None
    last_sale: dt.date | None

    @property
    def generation(self) -> str | None:
        """One id for the whole warehouse: the newest of the input generations."""
        present = [g for g in self.generations.values() if g]
        return max(present) if present else None


@dataclass(frozen=True)
class Stamp:
    """What one output was built from.

    Attributes:
        output: the output's name (a pipeline step name).
        ref: its own id when it has one (model version, forecast run id), else None.
        inputs: input name -> generation read before the build started.
        built_at: when the stamp was written (UTC, naive).
    """

    output: str
    ref: str | None
    inputs: dict[str, str | None]
    built_at: dt.datetime


def data_state(con: duckdb.DuckDBPyConnection) -> DataState:
    """The generations of the warehouse open on `con`."""
    row = run_named(con, "freshness/generations").row(0, named=True)
    return DataState(
        generations={name: row[name] for name in DATA_INPUTS},
        data=row["data"],
        loaded_at=row["loaded_at"],
        last_sale=row["last_sale"],
    )


def read_data_state(db: str | os.PathLike[str]) -> DataState:
    """`data_state` of the warehouse file `db`."""
    with reading(db) as con:
        return data_state(con)


def latest_stamps(con: duckdb.DuckDBPyConnection) -> dict[str, Stamp]:
    """The newest stamp of every output (empty when nothing was stamped yet)."""
    if not table_exists(con, "output_stamps"):
        return {}
    frame = run_named(con, "freshness/latest_stamps")
    return {
        row["output"]: Stamp(row["output"], row["ref"], json.loads(row["inputs"]), row["built_at"])
        for row in frame.iter_rows(named=True)
    }


def read_stamps(db: str | os.PathLike[str]) -> dict[str, Stamp]:
    """`latest_stamps` of the warehouse file `db` (empty when the file does not exist)."""
    if not Path(db).exists():
        return {}
    with reading(db) as con:
        return latest_stamps(con)


def record_stamp(
    con: duckdb.DuckDBPyConnection, output: str, inputs: dict[str, Any], ref: str | None = None
) -> None:
    """Append a stamp inside the caller's write transaction."""
    execute(con, sql_text("freshness/create_stamps"))
    execute(
        con,
        sql_text("freshness/insert_stamp"),
        {
            "output": output,
            "ref": ref,
            "inputs": json.dumps(inputs, sort_keys=True, default=str),
            "built_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        },
    )


def write_stamps(
    db: str | os.PathLike[str], stamps: list[tuple[str, dict[str, Any], str | None]]
) -> None:
    """Record several (output, inputs, ref) stamps in one atomic write of `db`."""
    if not stamps:
        return
    with writing(db) as con:
        for output, inputs, ref in stamps:
            record_stamp(con, output, inputs, ref)
