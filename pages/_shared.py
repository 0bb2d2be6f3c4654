"""Shared helpers of the pages: the signed-in user, filters, cached service calls, exports.

`app.py` puts the live warehouse, the user and the global filters into `st.session_state` on
every run; pages read them here. Query results are cached per warehouse generation, so a refresh
that swaps in a new file is picked up on the next run without a restart.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import polars as pl
import streamlit as st

from services import dashboard as app_queries
from services.auth import PAGES, User, page_allowed
from services.dashboard import EXPORT_FORMATS, Filters, LiveWarehouse
from warehouse.db import WarehouseError

WAREHOUSE_KEY = "shelfwise_warehouse"
USER_KEY = "shelfwise_user"
FILTERS_KEY = "shelfwise_filters"
PRIVACY_KEY = "shelfwise_pseudonym_key"
CACHE_TTL_S = 600


def warehouse() -> LiveWarehouse:
    """The live warehouse app.py opened for this run."""
    live = st.session_state.get(WAREHOUSE_KEY)
    if live is None:
        st.error("The app was opened without its entry point; run `streamlit run app.py`.")
        st.stop()
    return live


def db_path() -> Path:
    """Path of the warehouse in use."""
    return warehouse().path


def user() -> User | None:
    """The signed-in user (a local admin when sign-in is off)."""
    return st.session_state.get(USER_KEY)


def filters() -> Filters:
    """The global filters chosen in the sidebar."""
    return st.session_state[FILTERS_KEY]


def privacy_key() -> bytes:
    """The key of keyed-hash pseudonyms in exports: from secrets (set by app.py), else
    `warehouse.privacy.load_key()` ($SHELFWISE_PSEUDONYM_KEY or the key file outside the repo)."""
    key = st.session_state.get(PRIVACY_KEY)
    if key:
        return key
    from warehouse.privacy import load_key

    return load_key()


def require(page: str) -> User:
    """Stop the page with a refusal unless the user's role may open `page` (a page key)."""
    current = user()
    if current is None or not page_allowed(current.role, page):
        role = current.role if current else "signed out"
        st.error(f"Access refused: this page needs the {PAGES.get(page, 'admin')} role "
                 f"(you are {role}).")
        st.stop()
    return current


@st.cache_data(ttl=CACHE_TTL_S, max_entries=512, show_spinner=False)
def _cached_query(
    _live: LiveWarehouse, path: str, gen: tuple[int, int], name: str, args: tuple[Any, ...]
) -> Any:
    cursor = _live.cursor()
    try:
        return getattr(app_queries, name)(cursor, *args)
    finally:
        cursor.close()


def query(name: str, *args: Any) -> Any:
    """`warehouse.app_queries.<name>(cursor, *args)`, cached per warehouse file generation."""
    live = warehouse()
    return _cached_query(live, str(live.path), live.generation(), name, args)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=256, show_spinner=False)
def _cached_call(
    module: str, name: str, path: str, gen: tuple[int, int], version: Any,
    args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...],
) -> Any:
    return getattr(importlib.import_module(module), name)(Path(path), *args, **dict(kwargs))


def call(
    module: str, name: str, *args: Any, cache: bool = True, version: Any = None, **kwargs: Any
) -> Any:
    """`<module>.<name>(db_path, *args, **kwargs)` of another package.

    Cached per warehouse generation and `version` (e.g. the model version, for results that
    depend on artifacts outside the warehouse file); `cache=False` always calls.
    """
    live = warehouse()
    if not cache:
        return getattr(importlib.import_module(module), name)(live.path, *args, **kwargs)
    return _cached_call(module, name, str(live.path), live.generation(), version, args,
                        tuple(sorted(kwargs.items())))


def optional_module(module: str, command: str, what: str) -> ModuleType:
    """Import a package module the page needs, or stop with an empty state naming `command`."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if exc.name is not None and not (exc.name == module or exc.name == top
                                         or module.startswith(exc.name + ".")):
            raise
        empty_state(f"No {what} yet: `{module}` is not built. Once it is, run `{command}`.")


def empty_state(message: str) -> NoReturn:
    """Show a clear empty state and stop the page."""
    st.info(message, icon=":material/hourglass_empty:")
    st.stop()


def guarded(fn: Callable[[], Any], *errors: type[BaseException]) -> Any:
    """Run `fn`; on one of `errors` (a package's No*Error) show its message as the empty state."""
    try:
        return fn()
    except errors as exc:
        empty_state(str(exc))
    except WarehouseError as exc:
        st.error(str(exc))
        st.stop()


def export_buttons(frame: pl.DataFrame, basename: str, key: str, label: str = "Export") -> None:
    """A format picker and one download button producing `basename.<ext>` from `frame`."""
    if frame.is_empty():
        st.caption("Nothing to export.")
        return
    cols = st.columns([1, 1, 3], vertical_alignment="bottom")
    fmt = cols[0].selectbox("Format", list(EXPORT_FORMATS), key=f"{key}_fmt")
    ext, mime = EXPORT_FORMATS[fmt]
    cols[1].download_button(
        f"{label} ({fmt})", data=app_queries.export_bytes(frame, fmt),
        file_name=f"{basename}.{ext}", mime=mime, key=f"{key}_download",
        icon=":material/download:", on_click="ignore",
    )
    cols[2].caption(f"{frame.height:,} rows x {frame.width} columns")


def fmt_value(value: float | None, unit: str) -> str:
    """Human format of a KPI value in its unit."""
    if value is None:
        return "n/a"
    if unit == "GBP":
        return f"£{value:,.0f}" if abs(value) >= 100 else f"£{value:,.2f}"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:,.1f} d"
    return f"{value:,.0f}"
