"""The cache under the pages' service accessors (`pages._services`, `pages._reads`).

Results are cached per warehouse file and generation (`LiveWarehouse.generation()`), so a
refresh that swaps in a new file is read on the next run; model results also per model version.
The function itself is called (never looked up by name); its name only keys the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import duckdb
import streamlit as st

from pages._shared import warehouse
from warehouse.readers import LiveWarehouse

CACHE_TTL_S = 600
P = ParamSpec("P")
T = TypeVar("T")


def _name(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


@st.cache_data(ttl=CACHE_TTL_S, max_entries=1024, show_spinner=False)
def _cached(
    _fn: Callable[..., Any],
    _live: LiveWarehouse | None,
    name: str,
    path: str,
    gen: tuple[int, int],
    version: object,
    args: tuple[Any, ...],
    kwargs: tuple[tuple[str, Any], ...],
) -> Any:
    """`_fn(cursor or path, *args, **kwargs)`; `name`, `path`, `gen`, `version` key the cache."""
    if _live is None:
        return _fn(Path(path), *args, **dict(kwargs))
    cursor = _live.cursor()
    try:
        return _fn(cursor, *args, **dict(kwargs))
    finally:
        cursor.close()


def on_cursor(
    fn: Callable[Concatenate[duckdb.DuckDBPyConnection, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """`fn(cursor, ...)` on the live warehouse, cached per file generation."""
    live = warehouse()
    return cast(
        T,
        _cached(
            fn,
            live,
            _name(fn),
            str(live.path),
            live.generation(),
            None,
            args,
            tuple(sorted(kwargs.items())),
        ),
    )


def on_path(fn: Callable[Concatenate[Path, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(warehouse path, ...)`, cached per file generation."""
    live = warehouse()
    return cast(
        T,
        _cached(
            fn,
            None,
            _name(fn),
            str(live.path),
            live.generation(),
            None,
            args,
            tuple(sorted(kwargs.items())),
        ),
    )


def on_model(
    version: str, fn: Callable[Concatenate[Path, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """`fn(warehouse path, ...)`, cached per file generation and model `version`."""
    live = warehouse()
    return cast(
        T,
        _cached(
            fn,
            None,
            _name(fn),
            str(live.path),
            live.generation(),
            version,
            args,
            tuple(sorted(kwargs.items())),
        ),
    )
