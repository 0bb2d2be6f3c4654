"""Shared helpers of the pages: the signed-in user, filters, empty states, exports.

`app.py` puts the live warehouse, the user and the global filters into `st.session_state` on
every run; pages read them here. Data comes from `pages._services` and `pages._reads`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import NoReturn, TypeVar

import polars as pl
import streamlit as st

from services.auth import PAGES, User, page_allowed
from services.dashboard import EXPORT_FORMATS, DataAge, Filters, export_bytes
from warehouse.db import WarehouseError
from warehouse.privacy import load_key
from warehouse.readers import LiveWarehouse

WAREHOUSE_KEY = "shelfwise_warehouse"
USER_KEY = "shelfwise_user"
FILTERS_KEY = "shelfwise_filters"
PRIVACY_KEY = "shelfwise_pseudonym_key"
T = TypeVar("T")
_EXPORTS: dict[tuple[object, ...], bytes] = {}
_EXPORT_LOCK = threading.Lock()


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
    return load_key()


def require(page: str) -> User:
    """Stop the page with a refusal unless the user's role may open `page` (a page key)."""
    current = user()
    if current is None or not page_allowed(current.role, page):
        role = current.role if current else "signed out"
        st.error(
            f"Access refused: this page needs the {PAGES.get(page, 'admin')} role (you are {role})."
        )
        st.stop()
    return current


def empty_state(message: str) -> NoReturn:
    """Show a clear empty state and stop the page."""
    st.info(message, icon=":material/hourglass_empty:")
    st.stop()


def guarded(fn: Callable[[], T], *errors: type[BaseException]) -> T:
    """Run `fn`; on one of `errors` (a package's No*Error) show its message as the empty state."""
    try:
        return fn()
    except errors as exc:
        empty_state(str(exc))
    except WarehouseError as exc:
        st.error(str(exc))
        st.stop()


def _file_bytes(
    frame: pl.DataFrame,
    fmt: str,
    basename: str,
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None,
) -> bytes:
    """The export file, built on click and kept per (name, format, content) for re-downloads."""
    key = (
        basename,
        fmt,
        frame.height,
        int(frame.hash_rows().sum()) if frame.height else 0,
        prepare is not None,
    )
    with _EXPORT_LOCK:
        if key in _EXPORTS:
            return _EXPORTS[key]
    data = export_bytes(prepare(frame) if prepare else frame, fmt)
    with _EXPORT_LOCK:
        _EXPORTS[key] = data
        while len(_EXPORTS) > 16:
            _EXPORTS.pop(next(iter(_EXPORTS)))
    return data


def export_buttons(
    frame: pl.DataFrame,
    basename: str,
    key: str,
    label: str = "Export",
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> None:
    """A format picker and one download button producing `basename.<ext>` from `frame`.

    The file is built only when the button is clicked (a callable `data=`), so choosing a format
    or any other interaction costs nothing; `prepare` (e.g. pseudonymisation) runs then too.
    """
    if frame.is_empty():
        st.caption("Nothing to export.")
        return
    cols = st.columns([1, 1, 3], vertical_alignment="bottom")
    fmt = cols[0].selectbox("Format", list(EXPORT_FORMATS), key=f"{key}_fmt")
    ext, mime = EXPORT_FORMATS[fmt]
    cols[1].download_button(
        f"{label} ({fmt})",
        data=lambda: _file_bytes(frame, fmt, basename, prepare),
        file_name=f"{basename}.{ext}",
        mime=mime,
        key=f"{key}_download",
        icon=":material/download:",
        on_click="ignore",
    )
    cols[2].caption(f"{frame.height:,} rows x {frame.width} columns")


def fmt_value(value: float | None, unit: str) -> str:
    """Human format of a KPI value in its unit."""
    if value is None:
        return "n/a"
    if unit == "GBP":
        sign = "-" if value < 0 else ""
        return f"{sign}£{abs(value):,.0f}" if abs(value) >= 100 else f"{sign}£{abs(value):,.2f}"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:,.1f} d"
    return f"{value:,.0f}"


def freshness_banner(age: DataAge, today: date | None = None) -> None:
    """A warning banner when the data or the plan are more than a week old."""
    notes = age.stale(today or date.today())
    if notes:
        st.warning(
            "Data may be out of date: " + "; ".join(notes) + ". Load new files and "
            "refresh under Data & models.",
            icon=":material/update:",
        )
