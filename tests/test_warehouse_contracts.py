"""warehouse.contracts and warehouse.db.row_count: schema checks and safe row counts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from forecasting.errors import ForecastInputError
from forecasting.schemas import validate as forecasting_validate
from warehouse.contracts import ContractError, returns, validate
from warehouse.db import WarehouseError, has_rows, row_count

SCHEMA = {"a": pl.Int64(), "b": pl.String()}


def test_validate_orders_and_casts_columns() -> None:
    frame = pl.DataFrame({"b": ["x"], "a": [1]}, schema={"b": pl.String, "a": pl.Int32})
    out = validate(frame, SCHEMA, "t")
    assert out.columns == ["a", "b"] and out.schema["a"] == pl.Int64


def test_validate_names_the_missing_extra_or_bad_column() -> None:
    with pytest.raises(ContractError, match="t: missing column 'b'"):
        validate(pl.DataFrame({"a": [1]}), SCHEMA, "t")
    with pytest.raises(ContractError, match="t: unexpected column 'c'"):
        validate(pl.DataFrame({"a": [1], "b": ["x"], "c": [0]}), SCHEMA, "t")
    with pytest.raises(ContractError, match="^t: "):
        validate(pl.DataFrame({"a": ["not a number"], "b": ["x"]}), SCHEMA, "t")


def test_validate_extra_allow_keeps_and_drop_drops() -> None:
    frame = pl.DataFrame({"c": [0], "b": ["x"], "a": [1]})
    assert validate(frame, SCHEMA, "t", extra="allow").columns == ["a", "b", "c"]
    assert validate(frame, SCHEMA, "t", extra="drop").columns == ["a", "b"]


def test_forecasting_input_validation_is_the_same_helper() -> None:
    with pytest.raises(ForecastInputError, match="history: missing column 'b'"):
        forecasting_validate(pl.DataFrame({"a": [1]}), SCHEMA, "history")


def test_returns_decorator_checks_every_call() -> None:
    @returns(SCHEMA)
    def good() -> pl.DataFrame:
        return pl.DataFrame({"a": [1], "b": ["x"]})

    @returns(SCHEMA)
    def bad() -> pl.DataFrame:
        return pl.DataFrame({"a": [1]})

    assert good().height == 1
    with pytest.raises(ContractError, match="bad: missing column 'b'"):
        bad()


def test_row_count_quotes_names_and_counts_absent_tables_as_zero(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE t AS SELECT * FROM range(3)")
    assert row_count(con, "t") == 3
    assert row_count(con, "missing") == 0
    with pytest.raises(WarehouseError, match="letters, digits"):
        row_count(con, "t; DROP TABLE t")
    assert row_count(con, "t") == 3
    con.close()
    assert has_rows(tmp_path / "none.duckdb", "t") is False
