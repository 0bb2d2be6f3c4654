"""Check a frame against its polars schema at a package boundary (one helper for every package).

Each frame the app or the HTTP API reads is returned through `validate`, so a query that drops,
renames or retypes a column fails at its source with the column named, not in a page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Literal, ParamSpec

import polars as pl

from warehouse.db import WarehouseError

Schema = Mapping[str, pl.DataType]
P = ParamSpec("P")


class ContractError(WarehouseError):
    """A frame does not match the schema of its boundary."""


def validate(
    frame: pl.DataFrame,
    schema: Schema,
    what: str,
    *,
    extra: Literal["forbid", "allow", "drop"] = "forbid",
    error: type[Exception] = ContractError,
) -> pl.DataFrame:
    """`frame` with `schema`'s columns in order, each cast to its type (strict).

    Args:
        frame: the frame to check.
        schema: column name -> polars type, in the order the frame must have.
        what: the boundary, named in errors (e.g. "forecasting.api.load_forecast").
        extra: columns beyond the schema: "forbid" raises, "allow" keeps them after the
            schema's, "drop" leaves them out.
        error: the exception raised (ContractError, or a package's input error).

    Raises:
        `error` naming the first missing or unexpected column, or one that will not cast.
    """
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise error(f"{what}: missing column {missing[0]!r}")
    others = [c for c in frame.columns if c not in schema]
    if others and extra == "forbid":
        raise error(f"{what}: unexpected column {others[0]!r} (expected {', '.join(schema)})")
    try:
        checked = [pl.col(c).cast(t) for c, t in schema.items()]
        return frame.select(checked + ([pl.col(c) for c in others] if extra == "allow" else []))
    except pl.exceptions.PolarsError as exc:
        raise error(f"{what}: {str(exc).splitlines()[0]}") from exc


def returns(
    schema: Schema, *, extra: Literal["forbid", "allow", "drop"] = "forbid"
) -> Callable[[Callable[P, pl.DataFrame]], Callable[P, pl.DataFrame]]:
    """Decorator: validate the frame a function returns against `schema` (see `validate`)."""

    def decorate(fn: Callable[P, pl.DataFrame]) -> Callable[P, pl.DataFrame]:
        what = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def checked(*args: P.args, **kwargs: P.kwargs) -> pl.DataFrame:
            return validate(fn(*args, **kwargs), schema, what, extra=extra)

        return checked

    return decorate
